"""One window per data folder: a second launch hands its request to the running one.

The running Meeting Buddy listens on a local socket named after its data folder. A second
`meeting-buddy` (or `meeting-buddy join URL`) connects, sends one JSON line such as
{"action": "join", "meeting_link": "..."} and gets one JSON line back; then it exits.
Uses QtNetwork only, so the command line can call it before any QApplication exists.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from app.composition import data_folder
from app.settings import load_settings

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 64 * 1024
ACTIONS = ("show", "join")

Handler = Callable[[dict[str, Any]], dict[str, Any]]


def server_name(root: Path) -> str:
    digest = hashlib.sha256(str(Path(root).resolve()).encode()).hexdigest()[:20]
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return f"meeting-buddy-{uid}-{digest}"


def send_to_running_instance(request: dict[str, Any], root: Path | None = None,
                             timeout_ms: int = 3000) -> bool:
    """Hand `request` to the Meeting Buddy running on this data folder.

    True when a running instance accepted it (the caller should then exit 0); False when
    none runs, or it did not answer in time (the caller then does the work itself).
    """
    if request.get("action") not in ACTIONS:
        raise ValueError(f"action must be one of {ACTIONS}")
    socket = QLocalSocket()
    socket.connectToServer(server_name(root or data_folder(load_settings())))
    if not socket.waitForConnected(timeout_ms):
        return False
    try:
        socket.write(json.dumps(request).encode() + b"\n")
        if not socket.waitForBytesWritten(timeout_ms):
            return False
        reply = b""
        while not reply.endswith(b"\n"):
            if not socket.waitForReadyRead(timeout_ms):
                return False
            reply += bytes(socket.readAll().data())
        answer = json.loads(reply)
    except ValueError:
        return False
    finally:
        socket.disconnectFromServer()
    if not answer.get("ok"):
        log.warning("The running Meeting Buddy refused the request: %s", answer.get("error"))
    return bool(answer.get("ok"))


class InstanceServer(QObject):
    """Listens for the requests of later launches and answers each with `handler`'s reply."""

    def __init__(self, root: Path, handler: Handler, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = server_name(root)
        self._handler = handler
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._accept)
        self._buffers: dict[QLocalSocket, bytes] = {}

    def listen(self) -> bool:
        """Start listening. Only the owner of the data folder calls this, so a socket file
        left by a crashed run is removed and taken over."""
        if self._server.listen(self.name):
            return True
        QLocalServer.removeServer(self.name)
        if self._server.listen(self.name):
            return True
        log.warning("Cannot listen for other launches (%s); a second launch opens a second "
                    "window", self._server.errorString())
        return False

    def close(self) -> None:
        self._server.close()

    def _accept(self) -> None:
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            self._buffers[socket] = b""
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(lambda s=socket: self._drop(s))

    def _drop(self, socket: QLocalSocket) -> None:
        self._buffers.pop(socket, None)
        socket.deleteLater()

    def _read(self, socket: QLocalSocket) -> None:
        data = self._buffers.get(socket, b"") + bytes(socket.readAll().data())
        if len(data) > MAX_REQUEST_BYTES:
            self._answer(socket, {"ok": False, "error": "request too large"})
            return
        self._buffers[socket] = data
        if b"\n" not in data:
            return
        line = data.split(b"\n", 1)[0]
        try:
            request = json.loads(line)
            if not isinstance(request, dict) or request.get("action") not in ACTIONS:
                raise ValueError(f"action must be one of {ACTIONS}")
        except ValueError as exc:
            self._answer(socket, {"ok": False, "error": str(exc)})
            return
        self._answer(socket, self._handler(request))

    def _answer(self, socket: QLocalSocket, reply: dict[str, Any]) -> None:
        self._buffers.pop(socket, None)
        socket.write(json.dumps(reply).encode() + b"\n")
        socket.flush()
        socket.disconnectFromServer()
