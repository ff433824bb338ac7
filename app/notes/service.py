"""Making a session's meeting notes: once, in the calling thread (`generate_notes`, the
command line), or as jobs for the window and the API (`Notetaker`): one at a time, off the
event loop, each reported as `notes` events (state, progress, error, back-end). The
SessionManager stores the result. A job can be cancelled, which leaves the stored notes as
they were. When the settings ask (notes_auto), every session recorded here gets notes once
its transcript is final: after the after-meeting pass (app/refine.py) when one runs.
"""
from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.background_jobs import QUIET_POLL_S, JobQueue, Stage
from app.errors import MeetingBuddyError, NotesUnavailable, SessionReadOnly
from app.events import SessionEvent
from app.notes.backends import NotesOptions, open_backend
from app.notes.engine import NotesCancelled, make_notes
from app.notes.models import MeetingNotes
from app.refine import AUDIO_START_KEY
from app.timeutil import iso_now

if TYPE_CHECKING:
    from app.models import Session
    from app.sessions import SessionManager

log = logging.getLogger(__name__)

_REFINE_ENDED = frozenset({"completed", "failed", "cancelled"})


def check_notable(manager: SessionManager, session_id: str) -> None:
    """Why the session cannot have notes made now, if it cannot."""
    session = manager.get(session_id)
    if manager.store.session_origin(session_id)[0]:
        raise SessionReadOnly(f"Session {session_id} is a copy from another Meeting Buddy; make its notes there")
    if not session.is_terminal:
        raise NotesUnavailable(f"Session {session_id} is still running: its notes can be made once it has ended")
    if not any(seg.text.strip() for seg in manager.store.iter_transcripts(session_id)):
        raise NotesUnavailable(f"Session {session_id} has no transcript to make notes from")


def generate_notes(manager: SessionManager, session_id: str, *, options: NotesOptions, backend: str | None = None,
                   progress: Callable[[float], None] | None = None,
                   cancelled: threading.Event | None = None) -> MeetingNotes:
    """Make the finished session's notes with `backend` (default: the setting) and store
    them. Blocking: run it off the event loop. Raises NotesCancelled when `cancelled` is set
    before the notes are stored; then nothing has changed."""
    check_notable(manager, session_id)
    segments = manager.store.transcripts(session_id)
    try:
        engine = open_backend(options, backend)
        where = f" at {options.openai_url} (the transcript is sent there)" if engine.name == "openai" else ""
        manager.log(session_id, "info", f"Making meeting notes with {engine.name} model {engine.model}{where}")
        notes = make_notes(session_id, segments, engine, progress=progress, cancelled=cancelled)
        if cancelled is not None and cancelled.is_set():
            raise NotesCancelled()
    except NotesCancelled:
        manager.log(session_id, "info", "Making meeting notes was cancelled; the notes are unchanged")
        raise
    except MeetingBuddyError as exc:
        manager.log(session_id, "error", f"Making meeting notes failed: {exc.message}")
        raise
    manager.save_notes(notes)
    manager.log(session_id, "info", f"Meeting notes made: {len(notes.decisions)} decisions, {len(notes.action_items)} "
                                    f"action items, {len(notes.open_questions)} open questions")
    return notes


@dataclass
class NotesJob:
    session_id: str
    backend: str
    automatic: bool = False
    state: str = "queued"  # queued | running | done | failed | cancelled
    progress: float = 0.0
    error: str | None = None
    created_at: str = field(default_factory=iso_now)
    cancel_requested: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running")

    def move_to(self, stage: Stage, message: str | None = None) -> None:
        self.state = "done" if stage is Stage.COMPLETED else stage.value
        if message is not None:
            self.error = message

    def to_dict(self) -> dict[str, Any]:
        return {"session_id": self.session_id, "state": self.state, "progress": round(self.progress, 3),
                "error": self.error, "backend": self.backend, "automatic": self.automatic,
                "created_at": self.created_at, "timestamp": iso_now()}


class Notetaker(JobQueue[NotesJob]):
    """Makes meeting notes on the event loop's behalf, one job at a time, in a worker thread."""

    kind = "notes"
    follows = frozenset({"status", "refine"})
    cancelled_error = NotesCancelled
    doing = "making the notes of"

    def __init__(self, manager: SessionManager) -> None:
        super().__init__(manager)
        self.options = NotesOptions()

    def start(self, session_id: str, backend: str | None = None, *, automatic: bool = False) -> NotesJob:
        """Queue a job and return at once (on the event loop's thread). A session whose job is
        queued or running gets that one back."""
        return self._start(NotesJob(session_id, backend or self.options.backend, automatic=automatic))

    def _check(self, session_id: str) -> None:
        check_notable(self.manager, session_id)

    # -- once the transcript is final (follow_sessions: while `options.auto` says so) -------

    def _heard(self, loop: asyncio.AbstractEventLoop, event: SessionEvent) -> None:  # any thread
        if event.kind == "status" and event.data.get("status") in ("completed", "failed"):
            # Looked at after the refiner has heard the same event and queued its pass.
            loop.call_soon_threadsafe(loop.call_soon, self._after_transcript, event.session_id, True)
        elif event.kind == "refine" and event.data.get("state") in _REFINE_ENDED:
            loop.call_soon_threadsafe(self._after_transcript, event.session_id, False)

    def _after_transcript(self, session_id: str, session_ended: bool) -> None:
        refine = self.manager.refiner.job(session_id)
        if session_ended and refine is not None and refine.active:
            return  # the pass's end starts the notes
        session = self.manager.store.get_session(session_id)
        # Only sessions the runners recorded here (they keep where the audio begins), as for
        # the after-meeting pass; one that already has notes keeps them.
        if (not self.options.auto or session is None or not session.transcription_enabled
                or AUDIO_START_KEY not in session.metadata or self.manager.store.notes(session_id) is not None):
            return
        try:
            self.start(session_id, automatic=True)
        except MeetingBuddyError as exc:
            log.info("not making notes of %s: %s", session_id, exc.message)

    async def _before_turn(self, job: NotesJob) -> None:
        """Wait while the session's transcript may still change, and (automatic jobs) while
        sessions record: the model would take the cores live transcription needs."""
        while not job.cancel_requested.is_set():
            refine = self.manager.refiner.job(job.session_id)
            if refine is not None and refine.active:
                await self.manager.refiner.wait(job.session_id)
            elif self._overtaken(job):
                await asyncio.sleep(QUIET_POLL_S)
            else:
                return

    # -- running ---------------------------------------------------------------------------

    def _work(self, job: NotesJob) -> MeetingNotes:
        return generate_notes(self.manager, job.session_id, options=self.options, backend=job.backend,
                              progress=lambda share: self._progress(job, share), cancelled=job.cancel_requested)

    def _report(self, job: NotesJob, session: Session) -> dict[str, Any]:
        return job.to_dict()
