"""The SessionManager: the one owner of every session's state.

It creates sessions, runs the work behind each one (a `SessionRunner`: the bot and recorder
pipeline) as an asyncio task, and applies every change the runner reports through its
`SessionControl` — status, participants, transcripts, logs, recording facts — to the store,
then publishes it on the event bus. Nothing else writes a session row.
"""
from __future__ import annotations

import asyncio
import logging
import math
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol, overload

from app.errors import (
    IllegalTransition,
    MeetingBuddyError,
    RefineUnavailable,
    SessionNotFound,
    SessionReadOnly,
    StorageError,
    ValidationError,
)
from app.events import EventBus
from app.links import MeetingLink, parse_meeting_link
from app.models import (
    DEFAULT_BOT_NAME,
    LOCAL_PLATFORM,
    LOCAL_RECORDING_LINK,
    SESSION_PLATFORMS,
    LogEntry,
    ParticipantEvent,
    Session,
    Status,
    TranscriptSegment,
)
from app.notes.models import MeetingNotes
from app.notes.service import Notetaker
from app.paths import recording_dir, validate_id
from app.refine import Refiner, revision_name, transcript_revision
from app.store import LIVE_REVISION, Store
from app.text import clean_untrusted
from app.timeutil import iso, iso_now, parse_iso, utc_now
from app.titles import TITLE_KEY, clean_title

log = logging.getLogger(__name__)

LOG_LEVELS = ("info", "warning", "error")
MAX_BOT_NAME = 100
MAX_NAME = 200              # a participant's or speaker's name as stored and shown
MAX_TRANSCRIPT_TEXT = 10_000
MAX_LOG_MESSAGE = 2_000


@dataclass(frozen=True)
class StartRequest:
    meeting_link: str
    bot_name: str = DEFAULT_BOT_NAME
    transcription_enabled: bool = True
    transcription_language: str = "en"
    debug_mode: bool = False
    metadata: dict[str, Any] | None = None

    @overload
    def validated(self, *, link_required: Literal[True] = ...) -> tuple[StartRequest, MeetingLink]: ...
    @overload
    def validated(self, *, link_required: bool) -> tuple[StartRequest, MeetingLink | None]: ...
    def validated(self, *, link_required: bool = True) -> tuple[StartRequest, MeetingLink | None]:
        link = parse_meeting_link(self.meeting_link) if link_required else None
        name = (self.bot_name or "").strip()
        if not name or len(name) > MAX_BOT_NAME or any(ord(c) < 32 for c in name):
            raise ValidationError(
                f"bot_name must be 1 to {MAX_BOT_NAME} printable characters", field="bot_name")
        lang = (self.transcription_language or "").strip().lower()
        if not (2 <= len(lang) <= 8 and lang.replace("-", "").isalpha()):
            raise ValidationError("transcription_language must be a language code such as 'en'",
                                  field="transcription_language")
        normalized = link.normalized_link if link else self.meeting_link
        return (StartRequest(normalized, name, bool(self.transcription_enabled), lang,
                             bool(self.debug_mode), _titled(self.metadata)), link)


def _titled(metadata: dict[str, Any] | None) -> dict[str, Any]:
    """A copy of `metadata` whose title, if it has one, is cleaned (dropped when blank)."""
    values = dict(metadata or {})
    if TITLE_KEY in values:
        title = clean_title(values.pop(TITLE_KEY))
        if title:
            values[TITLE_KEY] = title
    return values


class SessionRunner(Protocol):
    """The work behind a session (the bot and recorder pipeline).

    `run` drives the session through `control` and returns once it has completed or failed.
    It must watch `control.stop_requested` and leave gracefully when it is set.
    """

    async def run(self, control: SessionControl) -> None: ...


RunnerFactory = Callable[[Session, "MeetingLink | None"], SessionRunner]


class SessionControl:
    """What a runner may change about its own session. Safe to call from any thread."""

    def __init__(self, manager: SessionManager, session_id: str,
                 link: MeetingLink | None) -> None:
        self._manager = manager
        self.session_id = session_id
        self.link = link
        self._stop = threading.Event()
        self._stop_async: asyncio.Event | None = None

    @property
    def session(self) -> Session:
        return self._manager.get(self.session_id)

    @property
    def output_dir(self):
        return self._manager.output_dir(self.session)

    # stop request, visible to threads and to coroutines
    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def _request_stop(self) -> None:
        self._stop.set()
        if self._stop_async is not None:
            self._stop_async.set()

    async def wait_stop(self) -> None:
        if self._stop_async is None:
            self._stop_async = asyncio.Event()
            if self._stop.is_set():
                self._stop_async.set()
        await self._stop_async.wait()

    def set_status(self, status: Status) -> None:
        self._manager._transition(self.session_id, status)

    def fail(self, error_code: str, message: str) -> None:
        self._manager._transition(self.session_id, Status.FAILED, error_code=error_code,
                                  error_message=message)

    def complete(self, end_reason: str) -> None:
        self._manager._complete(self.session_id, end_reason)

    def participant(self, name: str, event: str, *, is_bot: bool = False) -> None:
        self._manager._participant(self.session_id, name, event, is_bot)

    def transcript(self, *, text: str, start_time: float, end_time: float, is_partial: bool,
                   speaker: str | None = None, confidence: float | None = None,
                   language_code: str | None = None) -> None:
        self._manager._transcript(self.session_id, text, start_time, end_time, is_partial,
                                  speaker, confidence, language_code)

    def log(self, level: str, message: str, **details: Any) -> None:
        self._manager.log(self.session_id, level, message, **details)

    def logs(self) -> list[LogEntry]:
        """The session's log so far."""
        return self._manager.store.logs(self.session_id)

    def recording(self, **stats: Any) -> None:
        self._manager._recording(self.session_id, stats)

    def metadata(self, **values: Any) -> None:
        self._manager._metadata(self.session_id, values)

    def speaker(self, time: float, name: str | None) -> None:
        """Who is speaking from session time `time` on (None: nobody), kept for the
        after-meeting pass."""
        self._manager._speaker(self.session_id, time, name)

    def page_title(self, title: str) -> None:
        """The meeting's title as its page shows it: the session's title unless it already has
        one (a title the user gave it wins)."""
        self._manager._page_title(self.session_id, title)


class SessionManager:
    def __init__(self, store: Store, *, runner_factory: RunnerFactory | None = None,
                 bus: EventBus | None = None, organization_id: str = "local",
                 user_id: str = "local-user", stop_timeout: float = 60.0) -> None:
        self.store = store
        self.bus = bus or EventBus()
        self.runner_factory = runner_factory
        self.organization_id = validate_id(organization_id, field="organization_id")
        self.user_id = user_id
        self.stop_timeout = stop_timeout
        self._lock = threading.RLock()
        self._controls: dict[str, SessionControl] = {}
        self._tasks: dict[str, asyncio.Task] = {}
        self.refiner = Refiner(self)  # the after-meeting pass over finished sessions
        self.notetaker = Notetaker(self)  # meeting notes of finished sessions

    # -- reading ---------------------------------------------------------------------------

    def get(self, session_id: str) -> Session:
        validate_id(session_id)
        session = self.store.get_session(session_id)
        if session is None:
            raise SessionNotFound(session_id)
        return session

    def output_dir(self, session: Session):
        return recording_dir(self.store.root, session.organization_id, session.session_id)

    def is_running(self, session_id: str) -> bool:
        task = self._tasks.get(session_id)
        return task is not None and not task.done()

    # -- lifecycle -------------------------------------------------------------------------

    def recover_interrupted(self) -> list[str]:
        """Sessions left mid-flight by a crash become failed/INTERRUPTED; their data stays.

        Only the process that owns the data folder may call this (app.composition does):
        another one would declare the running app's sessions dead."""
        recovered = []
        for session in self.store.non_terminal_sessions():
            previous = session.transition(
                Status.FAILED, error_code="INTERRUPTED",
                error_message="Meeting Buddy stopped while this session was running")
            session.leave_timestamp = session.leave_timestamp or session.updated_at
            self.store.save_session(session)
            self.store.add_log(LogEntry(session.session_id, "error",
                                        f"Session interrupted while {previous.value}; recovered "
                                        "as failed at start-up"))
            recovered.append(session.session_id)
        return recovered

    def create(self, request: StartRequest) -> tuple[Session, MeetingLink]:
        request, link = request.validated()
        session = Session.create(
            meeting_link=request.meeting_link, platform=link.platform,
            bot_name=request.bot_name, transcription_enabled=request.transcription_enabled,
            transcription_language=request.transcription_language,
            debug_mode=request.debug_mode, organization_id=self.organization_id,
            user_id=self.user_id, metadata=request.metadata)
        self.store.save_session(session)
        self._publish_status(session, None)
        self.log(session.session_id, "info", f"Session created for {link.platform} meeting "
                 f"{link.meeting_id}")
        return session, link

    def start(self, request: StartRequest) -> Session:
        """Create a session and start its work; returns at once with status initializing.

        Must be called from a running asyncio loop (the work is a task on it).
        """
        session, link = self.create(request)
        return self._launch(session, link, self.runner_factory)

    def start_local(self, runner_factory: RunnerFactory, *, transcription_enabled: bool = True,
                    transcription_language: str = "en",
                    metadata: dict[str, Any] | None = None) -> Session:
        """"Record this computer": a session with no bot and no meeting link, whose runner
        records local devices. Same lifecycle, events and files as a bot session."""
        checked, _ = StartRequest(LOCAL_RECORDING_LINK, "This computer", transcription_enabled,
                                  transcription_language).validated(link_required=False)
        session = Session.create(
            meeting_link=LOCAL_RECORDING_LINK, platform=LOCAL_PLATFORM,
            bot_name="This computer", transcription_enabled=transcription_enabled,
            transcription_language=checked.transcription_language,
            organization_id=self.organization_id, user_id=self.user_id,
            metadata={"source": "this_computer", **_titled(metadata)})
        self.store.save_session(session)
        self._publish_status(session, None)
        self.log(session.session_id, "info", "Recording this computer")
        return self._launch(session, None, runner_factory)

    def _launch(self, session: Session, link: MeetingLink | None,
                factory: RunnerFactory | None) -> Session:
        control = SessionControl(self, session.session_id, link)
        with self._lock:
            self._controls[session.session_id] = control
            self._tasks[session.session_id] = asyncio.get_running_loop().create_task(
                self._run(control, session, link, factory), name=f"session-{session.session_id}")
        return session

    async def _run(self, control: SessionControl, session: Session, link: MeetingLink | None,
                   factory: RunnerFactory | None) -> None:
        sid = session.session_id
        try:
            if factory is None:
                raise _NoRunner()
            runner = factory(session, link)
            await runner.run(control)
            if not self.get(sid).is_terminal:
                self.log(sid, "warning", "The session's work ended without a final status")
                self._complete(sid, "STOP_REQUESTED" if control.stop_requested else "MEETING_ENDED")
        except _NoRunner:
            self._fail_if_running(sid, "SESSION_START_FAILED",
                                  "No meeting bot is available in this installation")
        except asyncio.CancelledError:
            self._fail_if_running(sid, "INTERRUPTED", "The session was cancelled")
            raise
        except MeetingBuddyError as exc:
            code = exc.code if exc.code != "INTERNAL_ERROR" else "SESSION_START_FAILED"
            self._fail_if_running(sid, code, exc.message)
        except Exception as exc:
            log.exception("session %s crashed", sid)
            current = self.store.get_session(sid)
            code = "SESSION_START_FAILED" if current and current.status is Status.INITIALIZING else "INTERNAL_ERROR"
            self._fail_if_running(sid, code, f"Unexpected error: {type(exc).__name__}")
        finally:
            with self._lock:
                self._controls.pop(sid, None)
                self._tasks.pop(sid, None)

    def _fail_if_running(self, sid: str, code: str, message: str) -> None:
        session = self.store.get_session(sid)
        if session is not None and not session.is_terminal:
            self._transition(sid, Status.FAILED, error_code=code, error_message=message)

    async def stop(self, session_id: str) -> Session:
        """Stop a session: the bot leaves, pending work is finished, status completed.
        Idempotent: a finished session is returned as it is."""
        session = self.get(session_id)
        if session.is_terminal:
            return session
        if self.store.session_origin(session_id)[0]:
            raise SessionReadOnly(f"Session {session_id} is a copy from another Meeting Buddy; "
                                  "stop it there")
        control = self._controls.get(session_id)
        task = self._tasks.get(session_id)
        if control is None or task is None:
            # No work is running for it (e.g. created but never started): close it here.
            self._complete(session_id, "STOP_REQUESTED")
            return self.get(session_id)
        self.log(session_id, "info", "Stop requested")
        control._request_stop()
        try:
            await asyncio.wait_for(asyncio.shield(task), self.stop_timeout)
        except asyncio.TimeoutError:
            self.log(session_id, "error",
                     f"The session did not stop within {self.stop_timeout:.0f} s; ending it")
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        return self.get(session_id)

    async def stop_all(self) -> None:
        ids = list(self._tasks)
        await asyncio.gather(*(self.stop(i) for i in ids), return_exceptions=True)

    async def delete(self, session_id: str) -> None:
        """Stop if running, then delete the session, its transcripts and its files."""
        session = self.get(session_id)
        if self.store.session_origin(session_id)[0] is False and not session.is_terminal:
            await self.stop(session_id)
        await self.refiner.stop(session_id)  # it reads the files about to go
        await self.notetaker.stop(session_id)
        folder = self.output_dir(session)
        if folder.exists():
            try:
                shutil.rmtree(folder)
            except OSError as exc:
                raise StorageError(f"Could not delete the recording folder: {exc.strerror}") from exc
        self.store.delete_session(session_id)
        self.bus.publish("deleted", session_id, {"session_id": session_id})
        self.bus.forget(session_id)

    def rename(self, session_id: str, title: str | None) -> Session:
        """Give the session a title (metadata.title), cleaned like any text from outside;
        None or a blank title removes it, and the session is called after its link again.
        A copy of another Meeting Buddy's session is renamed there (SessionReadOnly)."""
        title = clean_title(title)
        with self._lock:
            session = self.get(session_id)
            if self.store.session_origin(session_id)[0]:
                raise SessionReadOnly(f"Session {session_id} is a copy from another Meeting Buddy; "
                                      "rename it there")
            if session.metadata.get(TITLE_KEY, "") == title:
                return session  # nothing changes: updated_at stays, sync has nothing new to send

            def change(s: Session) -> None:
                if title:
                    s.metadata[TITLE_KEY] = title
                else:
                    s.metadata.pop(TITLE_KEY, None)
                s.touch()

            session, _ = self._mutate(session_id, change)
            self._publish_session(session)
        self.log(session_id, "info", f"Renamed to \u201c{title}\u201d" if title else
                 "The title was removed; the session is called after its meeting link")
        return session

    def import_session(self, session: Session, transcripts: list[TranscriptSegment],
                       origin: str) -> ImportResult:
        """Store another Meeting Buddy's session and its final transcripts as a read-only copy.

        Idempotent; a copy is replaced only by a newer `updated_at`. A session this computer
        recorded is never replaced (SessionReadOnly).
        """
        sid = _check_copy(session, transcripts)
        with self._lock:
            existing = self.store.get_session(sid)
            if existing is not None:
                if not self.store.session_origin(sid)[0]:
                    raise SessionReadOnly(f"Session {sid} was recorded here; an import cannot "
                                          "replace it")
                if parse_iso(session.updated_at) <= parse_iso(existing.updated_at):
                    return ImportResult(existing, "unchanged")
            self.store.import_session(session, transcripts, origin=origin)
            if existing is None or existing.status != session.status:
                self._publish_status(session, existing.status if existing else None)
            else:
                self._publish_session(session)
        return ImportResult(session, "updated" if existing else "created")

    # -- changes reported by the runner ----------------------------------------------------

    def _mutate(self, session_id: str, change: Callable[[Session], Any]) -> tuple[Session, Any]:
        with self._lock:
            session = self.get(session_id)
            result = change(session)
            self.store.save_session(session)
            return session, result

    def _transition(self, session_id: str, status: Status, **kw: Any) -> None:
        def change(s: Session) -> Status:
            previous = s.transition(status, **kw)
            now = utc_now()
            if status is Status.ACTIVE and s.join_timestamp is None:
                s.join_timestamp = iso(now)
            if status in (Status.LEAVING, Status.COMPLETED, Status.FAILED):
                s.leave_timestamp = s.leave_timestamp or iso(now)
            if status.is_terminal and s.join_timestamp and s.leave_timestamp:
                joined = parse_iso(s.join_timestamp)
                left = parse_iso(s.leave_timestamp)
                s.total_duration_seconds = round(max(0.0, (left - joined).total_seconds()), 3)
            return previous

        with self._lock:
            if status.is_terminal:
                # Everyone still listed leaves with the session, so the history stays whole.
                for name, info in list(self.get(session_id).current_participants.items()):
                    self._participant(session_id, name, "left", bool(info.get("is_bot")))
            session, previous = self._mutate(session_id, change)
            self._publish_status(session, previous)
        if status is Status.FAILED:
            self.log(session_id, "error", f"Session failed: {kw.get('error_code')}: "
                     f"{kw.get('error_message')}")

    def _complete(self, session_id: str, end_reason: str) -> None:
        with self._lock:
            session = self.get(session_id)
            if session.status is not Status.LEAVING:
                self._transition(session_id, Status.LEAVING)
            self._transition(session_id, Status.COMPLETED, end_reason=end_reason)

    def _participant(self, session_id: str, name: str, event: str, is_bot: bool) -> None:
        name = clean_untrusted(name, MAX_NAME)
        if not name:
            return  # nothing printable left of it
        if event not in ("joined", "left"):
            raise ValueError(f"participant event must be joined or left, not {event!r}")
        timestamp = iso_now()

        def change(s: Session) -> bool:
            if s.is_terminal:
                return False  # a late report from a page that is closing
            present = name in s.current_participants
            if event == "joined" and present or event == "left" and not present:
                return False  # repeated report from the page: nothing changed
            if event == "joined":
                s.current_participants[name] = {"joined_at": timestamp, "is_bot": is_bot}
            else:
                s.current_participants.pop(name, None)
            s.participant_history.append({"participant_name": name, "event": event,
                                          "timestamp": timestamp, "is_bot": is_bot})
            s.touch()
            return True

        with self._lock:
            session, changed = self._mutate(session_id, change)
            if not changed:
                return
            self.store.add_participant_event(
                ParticipantEvent(session_id, name, event, timestamp, is_bot))
            self.bus.publish("participant", session_id, {
                "session_id": session_id, "status": session.status,
                "previous_status": session.status, "participant_name": name, "event": event,
                "is_bot": is_bot, "timestamp": timestamp,
                "error_message": session.error_message, "error_code": session.error_code})
            self._publish_session(session)

    def _transcript(self, session_id: str, text: str, start: float, end: float,
                    is_partial: bool, speaker: str | None, confidence: float | None,
                    language_code: str | None) -> None:
        session = self.get(session_id)
        if not is_partial and session.is_terminal and transcript_revision(session) != LIVE_REVISION:
            return  # a late live line must not slip into a transcript that replaced the live one
        text = clean_untrusted(text, MAX_TRANSCRIPT_TEXT)
        speaker = (clean_untrusted(speaker, MAX_NAME) or None) if speaker is not None else None
        language = language_code or session.transcription_language
        transcript_id = None
        if not is_partial:
            seg = TranscriptSegment.create(session_id, text, start, end, speaker=speaker,
                                           confidence=confidence, language_code=language)
            self.store.add_transcript(seg)
            transcript_id = seg.transcript_id
        self.bus.publish("transcript", session_id, {
            "session_id": session_id, "transcript_id": transcript_id, "text": text,
            "speaker": speaker, "start_time": start, "end_time": end,
            "confidence": None if is_partial else confidence, "language_code": language,
            "is_partial": is_partial, "timestamp": iso_now()})

    def log(self, session_id: str, level: str, message: str, **details: Any) -> None:
        if level not in LOG_LEVELS:
            raise ValueError(f"log level must be one of {LOG_LEVELS}")
        entry = LogEntry(session_id, level, clean_untrusted(message, MAX_LOG_MESSAGE), details=details)
        try:
            self.store.add_log(entry)
        except StorageError:
            log.warning("could not store a log line of %s: %s", session_id, message)
        getattr(log, "warning" if level == "warning" else level)("[%s] %s", session_id, message)
        self.bus.publish("log", session_id, entry.to_dict())

    _RECORDING_FIELDS = ("segment_count", "audio_file_count", "video_file_count",
                         "total_size_bytes", "total_duration_seconds")

    def _recording(self, session_id: str, stats: dict[str, Any]) -> None:
        unknown = set(stats) - set(self._RECORDING_FIELDS)
        if unknown:
            raise ValueError(f"unknown recording fields: {sorted(unknown)}")

        def change(s: Session) -> None:
            for key, value in stats.items():
                setattr(s, key, value)
            s.touch()

        with self._lock:
            session, _ = self._mutate(session_id, change)
            self._publish_session(session)

    def _metadata(self, session_id: str, values: dict[str, Any]) -> None:
        def change(s: Session) -> None:
            s.metadata.update(values)
            s.touch()

        with self._lock:
            session, _ = self._mutate(session_id, change)
            self._publish_session(session)

    def _page_title(self, session_id: str, page_title: str) -> None:
        title = clean_title(page_title)
        if not title:
            return  # nothing printable left of it

        def change(s: Session) -> str | None:
            kept = s.metadata.get(TITLE_KEY)
            if kept:
                return str(kept)
            s.metadata[TITLE_KEY] = title
            s.touch()
            return None

        with self._lock:  # the same lock as rename(): a rename is never overwritten
            session, kept = self._mutate(session_id, change)
            if kept is None:
                self._publish_session(session)
        if kept is not None:
            self.log(session_id, "info", f"The session keeps its title \u201c{kept}\u201d; the meeting page "
                     f"calls it \u201c{title}\u201d")

    def _speaker(self, session_id: str, time: float, name: str | None) -> None:
        name = (clean_untrusted(name, MAX_NAME) or None) if name is not None else None
        self.store.add_speaker_change(session_id, float(time), name)

    # -- transcript revisions (the after-meeting pass, app/refine.py) ----------------------

    def replace_transcript(self, session_id: str, segments: list[TranscriptSegment],
                           label: str) -> Session:
        """The finished session's transcript becomes `segments`, atomically, as revision
        `label` (metadata.transcript_revision); the transcript it replaces is kept to be
        restored."""
        if label == LIVE_REVISION:
            raise ValueError("the live revision is written while the session runs")
        cleaned = [replace(seg, text=clean_untrusted(seg.text, MAX_TRANSCRIPT_TEXT),
                           speaker=(clean_untrusted(seg.speaker, MAX_NAME) or None)
                           if seg.speaker is not None else None)
                   for seg in segments]
        with self._lock:
            session = self._revisable(session_id)
            outgoing = transcript_revision(session)
            session.metadata["transcript_revision"] = label
            session.touch()
            self.store.replace_transcript(session, cleaned, label=label, outgoing=outgoing)
            self._publish_revision(session, len(cleaned))
        return session

    def restore_transcript(self, session_id: str, label: str = LIVE_REVISION) -> Session:
        """A kept revision becomes the session's transcript again (ValidationError when the
        session keeps no such revision)."""
        job = self.refiner.job(session_id)
        if job is not None and job.active:
            raise RefineUnavailable(f"The transcript of session {session_id} is being improved; cancel "
                                    "that first")
        with self._lock:
            session = self._revisable(session_id)
            if transcript_revision(session) == label:
                return session
            session.metadata["transcript_revision"] = label
            session.touch()
            count = self.store.restore_transcript(session, label)
            self._publish_revision(session, count)
        self.log(session_id, "info", f"The {revision_name(label)} transcript is shown again")
        return session

    def rename_speaker(self, session_id: str, old: str, new: str) -> int:
        """Every line of speaker `old` in the finished session's transcript (its kept
        revisions included) now names `new`, cleaned like any name; returns how many lines
        changed. ValidationError when the transcript has no such speaker or the new name is
        empty or too long."""
        old_name, new_name = clean_untrusted(old, MAX_NAME), clean_untrusted(new, MAX_NAME)
        if not new_name:
            raise ValidationError("The new speaker name is empty", field="to")
        if len(" ".join(str(new).split())) > MAX_NAME:
            raise ValidationError(f"A speaker name is at most {MAX_NAME} characters", field="to")
        job = self.refiner.job(session_id)
        if job is not None and job.active:  # the pass would bring the old name back
            raise RefineUnavailable(f"The transcript of session {session_id} is being improved; rename "
                                    "its speakers once that has finished")
        with self._lock:
            session = self._revisable(session_id)
            if old_name not in {seg.speaker for seg in self.store.transcripts(session_id)}:
                raise ValidationError(f"Session {session_id} has no speaker \u201c{old_name}\u201d", field="from")
            if old_name == new_name:
                return 0
            changed = self.store.rename_speaker(session_id, old_name, new_name)
            session.touch()
            self.store.save_session(session)
            self._publish_revision(session, len(self.store.transcripts(session_id)))
        self.log(session_id, "info", f"Speaker \u201c{old_name}\u201d renamed to \u201c{new_name}\u201d "
                                     f"({changed} lines)", speaker_from=old_name, speaker_to=new_name)
        return changed

    def _revisable(self, session_id: str) -> Session:
        session = self.get(session_id)
        if self.store.session_origin(session_id)[0]:
            raise SessionReadOnly(f"Session {session_id} is a copy from another Meeting Buddy; "
                                  "change its transcript there")
        if not session.is_terminal:
            raise RefineUnavailable(f"Session {session_id} is still running: its transcript "
                                    "can be replaced once it has ended")
        return session

    def _publish_revision(self, session: Session, segment_count: int) -> None:
        self.bus.publish("transcript_revision", session.session_id, {
            "session_id": session.session_id, "transcript_revision": transcript_revision(session),
            "segment_count": segment_count, "timestamp": session.updated_at})
        self._publish_session(session)

    # -- meeting notes (app/notes/) ---------------------------------------------------------

    def notes(self, session_id: str) -> MeetingNotes | None:
        """The session's meeting notes, None until some are made."""
        self.get(session_id)
        return self.store.notes(session_id)

    def save_notes(self, notes: MeetingNotes) -> MeetingNotes:
        """Store the session's new notes; they replace any before."""
        with self._lock:
            self.get(notes.session_id)
            self.store.save_notes(notes)
        return notes

    def set_action_done(self, session_id: str, item_id: str, done: bool) -> MeetingNotes:
        """Tick (or untick) an action item of the session's notes."""
        with self._lock:
            notes = self.notes(session_id)
            item = next((i for i in notes.action_items if i.item_id == item_id), None) if notes else None
            if notes is None or item is None:
                raise ValidationError(f"Session {session_id} has no action item {item_id!r}", field="item_id")
            if item.done != done:
                item.done = done
                self.store.save_notes(notes)
        return notes

    # -- publishing ------------------------------------------------------------------------

    def _publish_status(self, session: Session, previous: Status | None) -> None:
        self.bus.publish("status", session.session_id, {
            "session_id": session.session_id, "status": session.status,
            "previous_status": previous.value if previous else None,
            "timestamp": session.updated_at, "error_message": session.error_message,
            "error_code": session.error_code})
        self._publish_session(session)

    def _publish_session(self, session: Session) -> None:
        self.bus.publish("session", session.session_id, session.to_dict())


class _NoRunner(Exception):
    pass


ImportOutcome = Literal["created", "updated", "unchanged"]


@dataclass(frozen=True)
class ImportResult:
    session: Session
    outcome: ImportOutcome


def _check_copy(session: Session, transcripts: list[TranscriptSegment]) -> str:
    """What the store and the exports rely on, checked before anything is written."""
    sid = validate_id(session.session_id)
    validate_id(session.organization_id, field="organization_id")
    if not isinstance(session.status, Status):
        raise ValidationError(f"Unknown status {session.status!r}", field="status")
    if session.platform not in SESSION_PLATFORMS:
        raise ValidationError(f"Unknown platform {session.platform!r}", field="platform")
    for name in ("created_at", "updated_at"):
        try:
            parse_iso(getattr(session, name))
        except (TypeError, ValueError):
            raise ValidationError(f"{name} is not an ISO 8601 timestamp", field=name) from None
    for number, segment in enumerate(transcripts):
        if segment.session_id != sid:
            raise ValidationError(f"Transcript {segment.transcript_id!r} belongs to another session",
                                  field=f"transcripts.{number}.session_id")
        validate_id(segment.transcript_id, field=f"transcripts.{number}.transcript_id")
        if not all(isinstance(t, (int, float)) and math.isfinite(t)
                   for t in (segment.start_time, segment.end_time)):
            raise ValidationError("Transcript times must be finite numbers of seconds",
                                  field=f"transcripts.{number}.start_time")
    return sid


__all__ = ["SessionManager", "SessionControl", "SessionRunner", "StartRequest", "IllegalTransition"]
