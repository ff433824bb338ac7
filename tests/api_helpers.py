"""Real API servers for the API, client and sync tests.

`LiveServer` runs a SessionManager and the uvicorn server on a loopback port, on their own
asyncio loop in a thread, over a real SQLite store. Sessions are driven by `ScriptRunner`,
which stands in for the bot pipeline (that pipeline is tested end to end against the meeting
simulator elsewhere): it reports statuses, participants, partial and final transcripts and
logs through the same SessionControl the bot uses, pausing at gates the test opens.
`TinyServer` serves any small ASGI app on a loopback port.
"""
from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from app.api.server import ApiServer
from app.models import Status
from app.remote import AsyncMeetingBuddyClient
from app.sessions import SessionManager
from app.store import Store
from app.sync import SyncReport, SyncService

TOKEN = "test-token-0123456789"
TEAMS_LINK = ("https://teams.microsoft.com/l/meetup-join/19%3ameeting_NjA1YTk0ZGQtYjY0"
              "%40thread.v2/0?context=%7b%22Tid%22%3a%22t%22%7d")
MEET_LINK = "https://meet.google.com/abc-defg-hij"
ZOOM_LINK = "https://zoom.us/j/123456789"


class Gates:
    """Named points a ScriptRunner waits at until the test opens them (from any thread)."""

    def __init__(self, *, open_all: bool = False) -> None:
        self._events: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self.open_all = open_all

    def _event(self, name: str) -> threading.Event:
        with self._lock:
            return self._events.setdefault(name, threading.Event())

    def open(self, name: str) -> None:
        self._event(name).set()

    async def wait(self, name: str, control) -> None:
        event = self._event(name)
        while not (self.open_all or event.is_set() or control.stop_requested):
            await asyncio.sleep(0.01)


class ScriptRunner:
    """Joins, records, speaks in two rounds (each behind a gate), then waits for a stop or
    ends by itself. Writes one small file into the session's folder, like a segment."""

    def __init__(self, session, link, gates: Gates, *, end_by_itself: bool = False,
                 duration_s: float = 0.0) -> None:
        self.gates = gates
        self.end_by_itself = end_by_itself
        self.duration_s = duration_s

    async def run(self, control) -> None:
        control.set_status(Status.JOINING)
        control.set_status(Status.ACTIVE)
        control.participant("Alice", "joined")
        control.output_dir.mkdir(parents=True, exist_ok=True)
        (control.output_dir / "audio_0001.ogg").write_bytes(b"OggS" + bytes(60))
        control.set_status(Status.RECORDING)  # after the file exists, as the real pipeline
        control.log("info", "recording started", segment=1)
        await self.gates.wait("speech", control)
        control.transcript(text="hello every", start_time=0.5, end_time=1.0, is_partial=True)
        control.transcript(text="hello everyone", start_time=0.5, end_time=1.4,
                           is_partial=False, speaker="Alice", confidence=0.91)
        control.participant("Bob", "joined")
        await self.gates.wait("more", control)
        control.transcript(text="hi Alice", start_time=2.0, end_time=2.6, is_partial=False,
                           speaker="Bob", confidence=0.8)
        control.log("warning", "Bob's audio is quiet")
        control.participant("Bob", "left")
        control.recording(segment_count=1, audio_file_count=1, video_file_count=0,
                          total_size_bytes=64)
        if self.duration_s:
            await asyncio.sleep(self.duration_s)
        if not self.end_by_itself:
            await control.wait_stop()
        control.set_status(Status.LEAVING)
        control.complete("STOP_REQUESTED" if control.stop_requested else "MEETING_ENDED")


class LiveServer:
    """A store, a session manager and the API server on 127.0.0.1:<free port>."""

    def __init__(self, root: Path, *, token: str = TOKEN, gates: Gates | None = None,
                 end_by_itself: bool = False, port: int = 0,
                 runner_factory: Callable[..., Any] | None = None, **app_options: Any) -> None:
        """`runner_factory` replaces ScriptRunner (e.g. with the real bot pipeline)."""
        self.root = Path(root)
        self.runner_factory = runner_factory or self._script_runner
        self.token = token
        self.gates = gates or Gates()
        self.end_by_itself = end_by_itself
        self.requested_port = port
        self.app_options = app_options
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.store: Store | None = None
        self.manager: SessionManager | None = None
        self.server: ApiServer | None = None

    def _script_runner(self, session, link) -> ScriptRunner:
        return ScriptRunner(session, link, self.gates, end_by_itself=self.end_by_itself)

    def call(self, coro_or_fn: Any, timeout: float = 30) -> Any:
        """Run a coroutine (or a plain function) on the server's loop and return its result."""
        if asyncio.iscoroutine(coro_or_fn):
            return asyncio.run_coroutine_threadsafe(coro_or_fn, self.loop).result(timeout)
        done: Future = Future()

        def run() -> None:
            try:
                done.set_result(coro_or_fn())
            except BaseException as exc:  # handed to the caller
                done.set_exception(exc)
        self.loop.call_soon_threadsafe(run)
        return done.result(timeout)

    def start(self) -> LiveServer:
        self._thread.start()

        async def boot() -> None:
            self.store = Store(self.root)
            self.manager = SessionManager(self.store, runner_factory=self.runner_factory,
                                          stop_timeout=10)
            await self.restart_server()
        self.call(boot())
        return self

    async def restart_server(self, port: int | None = None) -> None:
        """(Re)start the HTTP side on the same manager; port None: the requested/previous one."""
        chosen = port if port is not None else (self.server.port if self.server else self.requested_port)
        self.server = ApiServer(self.manager, token=self.token, port=chosen, **self.app_options)
        await self.server.start()

    def stop_http(self) -> None:
        self.call(self.server.stop())

    def close(self) -> None:
        async def shutdown() -> None:
            await self.manager.stop_all()
            await self.server.stop()
        try:
            self.call(shutdown())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
            self.store.close()

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def api(self) -> str:
        return self.server.api_url

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def wait_status(self, session_id: str, *statuses: str, timeout: float = 10) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            session = self.store.get_session(session_id)
            if session is not None and session.status in statuses:
                return session
            time.sleep(0.02)
        raise AssertionError(f"{session_id} stayed {self.store.get_session(session_id).status}")




def start_session(srv: LiveServer, link: str, *, stop: bool = True) -> str:
    """A session started over `srv`'s API, recording, and stopped unless `stop` is False."""
    response = httpx.post(srv.api + "/sessions", json={"meeting_link": link}, headers=srv.headers)
    sid = response.json()["session_id"]
    srv.wait_status(sid, "recording")
    if stop:
        assert httpx.post(f"{srv.api}/sessions/{sid}/stop", headers=srv.headers,
                          timeout=15).json()["status"] == "completed"
    return sid


def run_sync(local: LiveServer, remote_url: str, *, origin: str = "buddy-a",
             token: str = TOKEN) -> SyncReport:
    """One sync run by `local`, on its own loop (where its session manager lives)."""
    async def run() -> SyncReport:
        async with AsyncMeetingBuddyClient(remote_url, token, backoff_s=0.01,
                                           max_backoff_s=0.05) as client:
            return await SyncService(local.manager, client, origin=origin).sync()
    return local.call(run())


class TinyServer:
    """uvicorn serving an ASGI app on a loopback port, in a thread."""

    def __init__(self, app) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       daemon=True)

    def __enter__(self) -> TinyServer:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()
