"""Jobs run in the background for a session: queued on the event loop's thread, run one at a
time in a worker thread, each reported as events of its kind (state and progress). The
after-meeting pass (app/refine.py) and meeting notes (app/notes/service.py) are such jobs: a
`JobQueue` subclass says what is checked before a job starts, what it waits for before its
turn, what it runs and what its events hold. A job can be cancelled; one that ended stays
readable until the session's next one starts.
"""
from __future__ import annotations

import asyncio
import logging
import threading
from abc import ABC, abstractmethod
from enum import Enum
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from app.errors import MeetingBuddyError
from app.events import SessionEvent, Subscription
from app.workers import off_loop
from recorder.errors import MediaError
from recorder.priority import run_lowered

if TYPE_CHECKING:
    from app.models import Session
    from app.sessions import SessionManager

log = logging.getLogger(__name__)

PROGRESS_STEP = 0.01  # a progress event at most every 1% of the work
QUIET_POLL_S = 2.0  # how often a waiting job looks whether sessions are still running


class Stage(str, Enum):
    """Where a job goes after it was queued."""

    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Job(Protocol):
    """What the queue reads and writes of a job; each kind keeps its own facts besides."""

    session_id: str
    progress: float
    cancel_requested: threading.Event
    automatic: bool  # started of its own accord when a session ended, not asked for

    @property
    def active(self) -> bool:
        """Queued or running."""

    def move_to(self, stage: Stage, message: str | None = None) -> None:
        """Take the stage (a failure comes with its message)."""


J = TypeVar("J", bound=Job)


class JobQueue(ABC, Generic[J]):
    """The jobs of one kind started by this process, one per session at a time."""

    kind: str  # the events' kind ("refine") and the tasks' names
    follows: frozenset[str]  # the event kinds `follow_sessions` hears
    cancelled_error: type[Exception]  # what the work raises when it was cancelled
    failures: tuple[type[MeetingBuddyError] | type[MediaError], ...] = (MeetingBuddyError,)
    doing: str  # the work in words, for the log ("refining")

    def __init__(self, manager: SessionManager) -> None:
        self.manager = manager
        self._jobs: dict[str, J] = {}
        self._tasks: dict[str, asyncio.Task] = {}
        self._turn: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._subscription: Subscription | None = None

    # -- what each kind says ---------------------------------------------------------------

    @abstractmethod
    def _check(self, session_id: str) -> None:
        """Raise why the session cannot have a job started now."""

    @abstractmethod
    async def _before_turn(self, job: J) -> None:
        """Wait for what the job must not run alongside."""

    @abstractmethod
    def _work(self, job: J) -> object:
        """The job itself; runs in a worker thread and raises `cancelled_error` when cancelled."""

    @abstractmethod
    def _report(self, job: J, session: Session) -> dict[str, Any]:
        """What the job's events hold."""

    @abstractmethod
    def _heard(self, loop: asyncio.AbstractEventLoop, event: SessionEvent) -> None:
        """An event of a `follows` kind (any thread): hand what it starts to `loop`."""

    # -- the queue -------------------------------------------------------------------------

    def job(self, session_id: str) -> J | None:
        """The session's newest job started by this process, if any."""
        return self._jobs.get(session_id)

    def _start(self, job: J) -> J:
        """Queue `job` and return at once (on the event loop's thread). A session whose job
        is queued or running gets that one back."""
        current = self._jobs.get(job.session_id)
        if current is not None and current.active:
            return current
        self._check(job.session_id)
        self._jobs[job.session_id] = job
        self._publish(job)
        self._tasks[job.session_id] = asyncio.get_running_loop().create_task(
            self._run(job), name=f"{self.kind}-{job.session_id}")
        return job

    def cancel(self, session_id: str) -> bool:
        """Ask the session's job to stop; it ends cancelled, having changed nothing unless it
        had already written its result. False when none is queued or running."""
        job = self._jobs.get(session_id)
        if job is None or not job.active:
            return False
        job.cancel_requested.set()
        return True

    async def wait(self, session_id: str) -> J | None:
        """The session's newest job, once it has ended."""
        task = self._tasks.get(session_id)
        if task is not None:
            await asyncio.shield(task)
        return self._jobs.get(session_id)

    async def stop(self, session_id: str) -> J | None:
        """Cancel the session's job and wait until it has ended."""
        self.cancel(session_id)
        return await self.wait(session_id)

    async def close(self) -> None:
        """Cancel every job and wait for them: nothing is half written when the app quits."""
        if self._subscription is not None:
            self._subscription.close()
            self._subscription = None
        for session_id in list(self._tasks):
            await self.stop(session_id)

    def follow_sessions(self, loop: asyncio.AbstractEventLoop) -> None:
        """Hear the sessions' events (`follows`) to start jobs of their own accord. Only the
        process that runs the sessions calls this."""
        self._loop = loop
        if self._subscription is None:
            self._subscription = self.manager.bus.subscribe(self._on_event, kinds=set(self.follows))

    def _on_event(self, event: SessionEvent) -> None:  # any thread
        if self._loop is not None:
            self._heard(self._loop, event)

    # -- running ---------------------------------------------------------------------------

    async def _run(self, job: J) -> None:
        try:
            await self._before_turn(job)
            if self._turn is None:
                self._turn = asyncio.Lock()
            async with self._turn:
                if job.cancel_requested.is_set():
                    raise self.cancelled_error()
                job.move_to(Stage.RUNNING)
                self._publish(job)
                # Below the window, with the engine threads it starts (llama's, whisper's).
                await off_loop(run_lowered, lambda: self._work(job))
            job.progress = 1.0
            job.move_to(Stage.COMPLETED)
        except self.cancelled_error:
            job.move_to(Stage.CANCELLED)
        except self.failures as exc:
            job.move_to(Stage.FAILED, exc.message)
        except Exception as exc:  # a bug must end the job visibly, not leave it "running"
            log.exception("%s %s failed", self.doing, job.session_id)
            job.move_to(Stage.FAILED, f"Unexpected error: {type(exc).__name__}")
        finally:
            self._tasks.pop(job.session_id, None)
        self._publish(job)

    def _progress(self, job: J, share: float) -> None:  # the worker thread
        if share >= job.progress + PROGRESS_STEP or (share >= 1.0 > job.progress):
            job.progress = share
            self._publish(job)
        self._make_way(job)

    def _overtaken(self, job: J, *, busy: bool = False) -> bool:
        """Whether an automatic job waits now: while a session records (or while `busy`),
        the live transcript and the window need the cores more. A job someone asked for, or
        one cancelled, goes on."""
        return (job.automatic and not job.cancel_requested.is_set()
                and (busy or self.manager.store.has_live_sessions()))

    def _make_way(self, job: J) -> None:  # the worker thread
        """A job that a new meeting overtook waits at its next progress point."""
        while self._overtaken(job):
            job.cancel_requested.wait(QUIET_POLL_S)

    def _publish(self, job: J) -> None:
        session = self.manager.store.get_session(job.session_id)
        if session is not None:
            self.manager.bus.publish(self.kind, job.session_id,
                                     {"session_id": job.session_id, **self._report(job, session)})
