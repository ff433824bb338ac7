"""Sync with a remote Meeting Buddy API: push this computer's finished sessions, pull the
remote's sessions as read-only copies.

Rules: a session belongs to the Meeting Buddy that recorded it. Copies of another's sessions
are stored marked remote (with their origin) and are read-only here: they cannot be stopped,
and an import never replaces a session this computer owns. Between two copies the newer
`updated_at` wins; equal means unchanged, so syncing twice changes nothing. Pushes wait in
a queue file in the data root while the remote cannot be reached.

Pushing (PUT) and listing are extensions of our own API. A remote without them (the
published service) is told apart from a failing one: the report names what it lacks, pushes
stay queued, and the pull falls back to what the published API tells: the remote's active
sessions, and the copies taken from it earlier that have not finished yet.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from app.errors import StorageError, ValidationError
from app.models import Session
from app.remote import AsyncMeetingBuddyClient, RemoteApiError, RemoteFeatureMissing, RemoteUnavailable
from app.sessions import SessionManager
from app.timeutil import parse_iso

log = logging.getLogger(__name__)

STATE_FILE = "sync-state.json"


# -- the persistent push queue ---------------------------------------------------------------

@dataclass
class RemoteState:
    """What one remote has received from this computer, and what still waits for it."""

    queue: list[str] = field(default_factory=list)
    pushed: dict[str, str] = field(default_factory=dict)        # session id -> updated_at sent
    rejected: dict[str, dict[str, str]] = field(default_factory=dict)  # id -> updated_at, error

    def settled(self, session: Session) -> bool:
        sid = session.session_id
        return (self.pushed.get(sid) == session.updated_at
                or self.rejected.get(sid, {}).get("updated_at") == session.updated_at)


class SyncState:
    """A JSON file in the data root, one entry per remote API URL; written atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def load(self, remote: str) -> RemoteState:
        with self._lock:
            entry = self._read().get(remote, {})
        return RemoteState(list(entry.get("queue", [])), dict(entry.get("pushed", {})),
                           dict(entry.get("rejected", {})))

    def save(self, remote: str, state: RemoteState) -> None:
        with self._lock:
            everything = self._read()
            everything[remote] = asdict(state)
            tmp = self.path.with_name(self.path.name + ".tmp")
            try:
                tmp.write_text(json.dumps(everything, indent=2, sort_keys=True), "utf-8")
                os.replace(tmp, self.path)
            except OSError as exc:
                raise StorageError(f"Cannot write the sync queue {self.path}: {exc.strerror}") from exc

    def _read(self) -> dict[str, Any]:
        if not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise StorageError(f"The sync queue {self.path} cannot be read; fix or remove it") from exc
        return data if isinstance(data, dict) else {}


# -- the service -----------------------------------------------------------------------------

@dataclass
class SyncReport:
    remote: str
    pushed: list[str] = field(default_factory=list)
    pulled: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)   # session id -> "CODE: message"
    queued: list[str] = field(default_factory=list)          # still waiting for the remote
    offline: bool = False
    unsupported: dict[str, str] = field(default_factory=dict)  # "push"/"list" -> what it lacks

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _newer(remote: str, local: str) -> bool:
    remote_at, local_at = parse_iso(remote), parse_iso(local)
    return remote_at is not None and (local_at is None or remote_at > local_at)


def default_origin() -> str:
    return f"meeting-buddy@{socket.gethostname()}"


class SyncService:
    def __init__(self, manager: SessionManager, client: AsyncMeetingBuddyClient, *,
                 origin: str | None = None, state: SyncState | None = None,
                 page_size: int = 100) -> None:
        self.manager = manager
        self.client = client
        self.origin = origin or default_origin()
        self.state = state or SyncState(manager.store.root / STATE_FILE)
        self.page_size = page_size

    @property
    def remote(self) -> str:
        return self.client.base_url

    def _local_finished_sessions(self) -> list[Session]:
        return [s for s in self.manager.store.all_sessions()
                if s.is_terminal and not self.manager.store.session_origin(s.session_id)[0]]

    def enqueue_changed(self) -> list[str]:
        """Queue every finished local session the remote has not received as it is now."""
        state = self.state.load(self.remote)
        for session in self._local_finished_sessions():
            if not state.settled(session) and session.session_id not in state.queue:
                state.queue.append(session.session_id)
        self.state.save(self.remote, state)
        return list(state.queue)

    async def push(self, report: SyncReport) -> None:
        state = self.state.load(self.remote)
        store = self.manager.store
        for sid in list(state.queue):
            session = store.get_session(sid)
            if session is None or store.session_origin(sid)[0]:
                state.queue.remove(sid)  # deleted here since, or not ours to push
                self.state.save(self.remote, state)
                continue
            try:
                await self.client.import_session(session, store.transcripts(sid), origin=self.origin)
            except RemoteUnavailable:
                report.offline = True
                break
            except RemoteFeatureMissing as exc:
                report.unsupported["push"] = exc.message  # the queue waits for a remote that can
                break
            except RemoteApiError as exc:
                if exc.status in (401, 403):
                    raise  # every other push would fail the same way
                if exc.status >= 500 or exc.status == 429:
                    continue  # the remote's trouble: stays queued for the next sync
                state.rejected[sid] = {"updated_at": session.updated_at,
                                       "error": f"{exc.code}: {exc.message}"}
                report.rejected[sid] = state.rejected[sid]["error"]
                log.warning("The remote refused session %s: %s", sid, exc)
            else:
                state.pushed[sid] = session.updated_at
                state.rejected.pop(sid, None)
                report.pushed.append(sid)
            state.queue.remove(sid)
            self.state.save(self.remote, state)
        report.queued = list(state.queue)

    async def pull(self, report: SyncReport) -> None:
        try:
            try:
                async for remote in self.client.iter_sessions(page_size=self.page_size):
                    await self._pull_one(report, remote.session_id, remote)
            except RemoteFeatureMissing as exc:
                report.unsupported["list"] = exc.message
                for sid in await self._known_remote_ids():
                    await self._pull_one(report, sid)
        except RemoteUnavailable:
            report.offline = True

    async def _known_remote_ids(self) -> list[str]:
        """Without a list: the remote's active sessions, then the unfinished copies of its
        sessions held here (a finished session never changes again)."""
        ids = [active["session_id"] for active in await self.client.analytics_active()]
        store = self.manager.store
        ids += [s.session_id for s in store.all_sessions()
                if not s.is_terminal and s.session_id not in ids
                and store.session_origin(s.session_id) == (True, self.remote)]
        return ids

    async def _pull_one(self, report: SyncReport, sid: str, remote: Session | None = None) -> None:
        """Copy one remote session here with its transcripts, unless it is ours or the copy
        here is as new."""
        store = self.manager.store
        try:
            remote = remote or await self.client.get_session(sid)
            local = store.get_session(sid)
            if local is not None and (not store.session_origin(sid)[0]
                                      or not _newer(remote.updated_at, local.updated_at)):
                return
            transcripts = await self.client.transcripts(sid)
            self.manager.import_session(remote, transcripts, self.remote)
        except (ValidationError, RemoteApiError) as exc:
            if isinstance(exc, RemoteApiError) and exc.status in (401, 403):
                raise
            report.rejected[sid] = f"{exc.code}: {exc.message}"
            log.warning("Could not copy remote session %s: %s", sid, exc)
            return
        report.pulled.append(sid)

    async def sync(self) -> SyncReport:
        """Push what changed here, then pull what changed there."""
        report = SyncReport(self.remote)
        self.enqueue_changed()
        await self.push(report)
        if not report.offline:
            await self.pull(report)
        return report
