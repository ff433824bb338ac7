"""What runs beside the window when the settings ask for it: this computer's REST API (on the
window's asyncio loop, so it drives the same sessions) and sync with a remote Meeting Buddy
API after each finished session."""
from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from app.errors import MeetingBuddyError
from app.sessions import SessionManager
from app.settings import Settings

if TYPE_CHECKING:
    from app.api.server import ApiServer

log = logging.getLogger(__name__)

SYNC_INTERVAL_MS = 15 * 60 * 1000


class BackgroundServices(QObject):
    notice = Signal(str)  # one line for the status bar

    def __init__(self, manager: SessionManager, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.manager = manager
        self._api: ApiServer | None = None  # while it runs
        self._api_key: tuple[bool, int, str | None] | None = None
        self._settings: Settings | None = None
        self._syncing = False
        self._lock = asyncio.Lock()
        self._sync_timer = QTimer(self, interval=SYNC_INTERVAL_MS)
        self._sync_timer.timeout.connect(self.sync_soon)

    @property
    def api_url(self) -> str | None:
        return self._api.api_url if self._api is not None else None

    async def apply(self, settings: Settings) -> None:
        """Start, restart or stop the services to match `settings`."""
        async with self._lock:
            self._settings = settings
            # A new port or a regenerated token needs a restart.
            token = _api_token() if settings.api_enabled else None
            key = (settings.api_enabled, settings.api_port, token)
            if key != self._api_key:
                await self._stop_api()
                if token is not None:
                    await self._start_api(settings.api_port, token)
                self._api_key = key
        if settings.sync_enabled and settings.remote_url:
            self._sync_timer.start()
            self.sync_soon()
        else:
            self._sync_timer.stop()

    async def _start_api(self, port: int, token: str) -> None:
        from app.api.server import ApiServer

        try:
            server = ApiServer(self.manager, token=token, port=port)
            await server.start()
        except MeetingBuddyError as exc:
            self.notice.emit(f"The local API did not start: {exc.message}")
            return
        self._api = server
        self.notice.emit(f"Local API listening on {server.api_url}")

    async def _stop_api(self) -> None:
        if self._api is not None:
            server, self._api = self._api, None
            await server.stop()

    def sync_soon(self) -> None:
        settings = self._settings
        if settings is None or not (settings.sync_enabled and settings.remote_url) or self._syncing:
            return
        self._syncing = True
        asyncio.ensure_future(self._sync(settings.remote_url)).add_done_callback(self._sync_done)

    def _sync_done(self, task: asyncio.Task) -> None:
        self._syncing = False
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            log.error("sync failed", exc_info=exc)
            self.notice.emit(f"Sync failed: unexpected {type(exc).__name__}")

    async def _sync(self, url: str) -> None:
        from app.remote import AsyncMeetingBuddyClient
        from app.secrets import REMOTE_TOKEN, get_secret
        from app.sync import SyncService

        token = get_secret(REMOTE_TOKEN)
        if not token:
            self.notice.emit("Sync is on but no remote API token is set (Settings > API)")
            return
        try:
            async with AsyncMeetingBuddyClient(url, token) as client:
                report = await SyncService(self.manager, client).sync()
        except MeetingBuddyError as exc:
            self.notice.emit(f"Sync with {url} failed: {exc.message}")
            return
        if report.offline:
            self.notice.emit(f"{url} cannot be reached; {len(report.queued)} session(s) wait for "
                             "the next sync")
        elif report.pushed or report.pulled or report.rejected:
            self.notice.emit(f"Synced with {url}: {len(report.pushed)} sent, "
                             f"{len(report.pulled)} received, {len(report.rejected)} refused")
        if "push" in report.unsupported:
            self.notice.emit(f"{url} does not accept sessions from Meeting Buddy "
                             f"({report.unsupported['push']}); {len(report.queued)} session(s) stay queued")

    async def stop(self) -> None:
        self._sync_timer.stop()
        async with self._lock:
            await self._stop_api()
            self._api_key = None


def _api_token() -> str:
    from app.secrets import api_token

    return api_token(create=True)  # type: ignore[return-value]
