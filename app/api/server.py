"""Running the API with uvicorn inside the current asyncio loop (the loop the session
manager runs on: qasync's in the GUI, asyncio.run's for `meeting-buddy serve`)."""
from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

import uvicorn

from app.api.app import BASE_PATH, create_app
from app.api.routes_streams import end_open_streams
from app.errors import ValidationError
from app.remote import is_loopback
from app.sessions import SessionManager

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


class ApiServer:
    """The API on one address. `start()` binds and returns once it accepts connections."""

    def __init__(self, manager: SessionManager, *, token: str, host: str = DEFAULT_HOST,
                 port: int = DEFAULT_PORT, allow_remote: bool = False, **app_options: Any) -> None:
        if not is_loopback(host):
            if not allow_remote:
                raise ValidationError(
                    f"Refusing to serve on {host}: only this computer (127.0.0.1) may connect "
                    "unless remote access is allowed (--allow-remote)", field="host")
            log.warning("The Meeting Buddy API is reachable from other computers on %s:%d; "
                        "anyone with the token controls the bot", host, port)
        if not 0 <= port <= 65535:
            raise ValidationError("port must be between 0 and 65535", field="port")
        self.host, self.requested_port = host, port
        self.app = create_app(manager, token, **app_options)
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off",
                                # open SSE streams must not hold a shutdown for long
                                timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)
        self._socket: socket.socket | None = None
        self._bound_port: int | None = None
        self._task: asyncio.Task | None = None

    def _bind(self) -> socket.socket:
        try:
            family, kind, proto, _, address = socket.getaddrinfo(
                self.host, self.requested_port, type=socket.SOCK_STREAM)[0]
            sock = socket.socket(family, kind, proto)
        except OSError as exc:
            raise ValidationError(f"Cannot use the address {self.host}: {exc}", field="host") from exc
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
            sock.listen(128)
        except OSError as exc:
            sock.close()
            raise ValidationError(f"Cannot listen on {self.host}:{self.requested_port} "
                                  f"({exc.strerror}); choose another port", field="port") from exc
        sock.setblocking(False)
        return sock

    @property
    def port(self) -> int:
        return self.requested_port if self._bound_port is None else self._bound_port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def api_url(self) -> str:
        return self.url + BASE_PATH

    async def start(self) -> None:
        self._socket = self._bind()
        self._bound_port = self._socket.getsockname()[1]
        self._task = asyncio.get_running_loop().create_task(
            self._server.serve(sockets=[self._socket]), name="meeting-buddy-api")
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises what stopped it
                raise RuntimeError("the API server stopped while starting")
            await asyncio.sleep(0.02)

    async def wait(self) -> None:
        if self._task is not None:
            await self._task

    async def stop(self) -> None:
        end_open_streams(self.app)  # else uvicorn waits for them before it can stop
        self._server.should_exit = True
        try:
            await self.wait()
        finally:
            if self._socket is not None:
                self._socket.close()


async def run_server(manager: SessionManager, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
                     *, token: str, allow_remote: bool = False, **app_options: Any) -> None:
    """Serve until cancelled or interrupted."""
    server = ApiServer(manager, token=token, host=host, port=port, allow_remote=allow_remote,
                       **app_options)
    await server.start()
    try:
        await server.wait()
    finally:
        await server.stop()
