"""One queue of whisper passes for every live transcriber in the process.

All sessions share one loaded model with a worker per core, so their passes compete for the
same few cores. Left to the operating system, a session that talks a lot starves the others
and a pass that decides final text waits behind quick passes that only refresh a partial.
The scheduler runs passes on a fixed set of threads, as many as the model has workers, and
picks the next pass by what it is for:

- required passes (the final pass of an utterance, the pass that cuts a full buffer) go
  before optional ones (partials), in submission order within their lane (a session's
  audio stream), one at a time per lane;
- sessions are served round-robin within each kind, so no session waits behind another's
  backlog;
- partials never take the last free worker while there is more than one: a final that
  arrives finds a worker free instead of waiting for a partial to end;
- a lane holds at most one waiting partial: a newer request replaces it (the older one
  would only show text the newer one shows too), and a lane's partials wait while one of its
  required passes is queued or running.

The scheduler also measures what a partial pass costs, which live transcribers use to space
their partials out on a loaded machine.
"""
from __future__ import annotations

import enum
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from recorder.drops import LogFn

COST_WEIGHT = 0.2  # of the newest pass in the running mean of a partial pass's cost
CONTENDER_WINDOW = 3.0  # seconds a lane that asked for a partial counts as wanting them


class PassKind(enum.Enum):
    REQUIRED = "required"  # decides final text: must run, in order within its lane
    PARTIAL = "partial"  # refreshes the partial text: may be replaced or never run


@dataclass(eq=False)
class PassJob:
    """One whisper pass waiting for a worker. `run` gets the job (it may read `submitted`);
    `dropped` is called instead when the job will never run."""

    client: SchedulerClient
    lane: Hashable
    kind: PassKind
    run: Callable[[PassJob], None]
    dropped: Callable[[PassJob], None] | None = None
    submitted: float = field(default_factory=time.monotonic)


class _Lane:
    def __init__(self) -> None:
        self.required: deque[PassJob] = deque()
        self.partial: PassJob | None = None
        self.required_running: PassJob | None = None
        self.partial_running = False
        self.partial_asked = -float("inf")  # monotonic time of the last partial request

    def take(self, kind: PassKind) -> PassJob | None:
        if kind is PassKind.REQUIRED:
            if self.required and self.required_running is None:
                self.required_running = self.required.popleft()
                return self.required_running
            return None
        if (self.partial is not None and not self.partial_running and not self.required
                and self.required_running is None):
            job, self.partial = self.partial, None
            self.partial_running = True
            return job
        return None

    @property
    def idle(self) -> bool:
        return not (self.required or self.partial or self.required_running or self.partial_running)

    def oldest_required(self) -> float | None:
        """When the oldest required pass still queued or running was submitted."""
        if self.required_running is not None:
            return self.required_running.submitted
        return self.required[0].submitted if self.required else None


class SchedulerClient:
    """One session's access to the scheduler; its lanes are the session's audio streams."""

    def __init__(self, scheduler: PassScheduler, name: str) -> None:
        self.name = name
        self._scheduler = scheduler
        self._lanes: dict[Hashable, _Lane] = {}
        self._next_lane = 0
        self._closed = False

    def submit(self, lane: Hashable, kind: PassKind, run: Callable[[PassJob], None],
               dropped: Callable[[PassJob], None] | None = None) -> bool:
        """Queues a pass; False when the client is closed (then nothing runs)."""
        return self._scheduler._submit(PassJob(self, lane, kind, run, dropped))

    def oldest_required_wait(self) -> float:
        """Seconds since the oldest required pass still queued or running was submitted."""
        return self._scheduler._oldest_required_wait(self)

    def wait_idle(self, timeout: float | None) -> bool:
        """Waits until none of this client's passes is queued or running."""
        return self._scheduler._wait_idle(self, timeout)

    @property
    def busy(self) -> bool:
        with self._scheduler._cond:
            return not all(lane.idle for lane in self._lanes.values())

    def close(self) -> list[PassJob]:
        """Takes back every queued pass (their `dropped` is called) and refuses new ones;
        passes already running finish. Returns the required passes that will not run."""
        return self._scheduler._close(self)

    # -- used by the scheduler under its lock ---------------------------------------------

    def _lane(self, key: Hashable) -> _Lane:
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = _Lane()
        return lane

    def _take(self, kind: PassKind) -> PassJob | None:
        lanes = list(self._lanes.values())
        for i in range(len(lanes)):
            index = (self._next_lane + i) % len(lanes)
            job = lanes[index].take(kind)
            if job is not None:
                self._next_lane = index + 1
                return job
        return None


class PassScheduler:
    """Runs live whisper passes on `slots` threads (started on first use)."""

    def __init__(self, slots: int, *, log: LogFn | None = None) -> None:
        if slots < 1:
            raise ValueError("a scheduler needs at least one slot")
        self.slots = slots
        # Partials leave one worker free for finals whenever there is more than one.
        self.partial_slots = max(1, slots - 1)
        self._log: LogFn = log or (lambda level, message: None)
        self._cond = threading.Condition()
        self._clients: list[SchedulerClient] = []
        self._next_client = 0
        self._threads: list[threading.Thread] = []
        self._partials_running = 0
        self._partial_cost: float | None = None
        self._stopping = False

    def client(self, name: str) -> SchedulerClient:
        client = SchedulerClient(self, name)
        with self._cond:
            self._clients.append(client)
        return client

    def partial_cost(self) -> float:
        """Recent wall seconds of one partial pass (0 before the first)."""
        with self._cond:
            return self._partial_cost or 0.0

    def contenders(self) -> int:
        """Lanes of all sessions that asked for partials lately."""
        now = time.monotonic()
        with self._cond:
            return sum(1 for client in self._clients for lane in client._lanes.values()
                       if now - lane.partial_asked < CONTENDER_WINDOW)

    def stop(self) -> None:
        """Ends the worker threads once their passes return (a scheduler of a test)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join()

    # -- queueing -------------------------------------------------------------------------

    def _submit(self, job: PassJob) -> bool:
        replaced = None
        with self._cond:
            if job.client._closed or self._stopping:
                return False
            lane = job.client._lane(job.lane)
            if job.kind is PassKind.REQUIRED:
                lane.required.append(job)
            else:
                replaced, lane.partial = lane.partial, job
                lane.partial_asked = job.submitted
            self._start_threads()
            self._cond.notify()
        if replaced is not None and replaced.dropped is not None:
            replaced.dropped(replaced)
        return True

    def _start_threads(self) -> None:
        while len(self._threads) < self.slots:
            thread = threading.Thread(target=self._work, name=f"whisper-pass-{len(self._threads)}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _pick(self) -> PassJob | None:
        count = len(self._clients)
        for kind in (PassKind.REQUIRED, PassKind.PARTIAL):
            if kind is PassKind.PARTIAL and self._partials_running >= self.partial_slots:
                break
            for i in range(count):
                index = (self._next_client + i) % count
                job = self._clients[index]._take(kind)
                if job is not None:
                    self._next_client = (index + 1) % count
                    return job
        return None

    def _work(self) -> None:
        while True:
            with self._cond:
                job = None
                while not self._stopping and (job := self._pick()) is None:
                    self._cond.wait()
                if job is None:
                    return
                if job.kind is PassKind.PARTIAL:
                    self._partials_running += 1
            began = time.monotonic()
            try:
                job.run(job)
            except Exception as e:  # the job handles its own failures; this keeps the worker alive
                self._log("error", f"A transcription pass failed: {type(e).__name__}: {e}")
            self._finished(job, time.monotonic() - began)

    def _finished(self, job: PassJob, seconds: float) -> None:
        with self._cond:
            lane = job.client._lane(job.lane)
            if job.kind is PassKind.REQUIRED:
                lane.required_running = None
            else:
                lane.partial_running = False
                self._partials_running -= 1
                previous = self._partial_cost
                self._partial_cost = seconds if previous is None else (
                    previous + COST_WEIGHT * (seconds - previous))
            if job.client._closed and all(lane.idle for lane in job.client._lanes.values()):
                self._forget(job.client)
            self._cond.notify_all()

    def _oldest_required_wait(self, client: SchedulerClient) -> float:
        with self._cond:
            oldest = min((t for lane in client._lanes.values() if (t := lane.oldest_required()) is not None),
                         default=None)
        return 0.0 if oldest is None else time.monotonic() - oldest

    def _wait_idle(self, client: SchedulerClient, timeout: float | None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not all(lane.idle for lane in client._lanes.values()):
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def _close(self, client: SchedulerClient) -> list[PassJob]:
        with self._cond:
            client._closed = True
            taken: list[PassJob] = []
            for lane in client._lanes.values():
                taken += lane.required
                lane.required.clear()
                if lane.partial is not None:
                    taken.append(lane.partial)
                    lane.partial = None
            if all(lane.idle for lane in client._lanes.values()):
                self._forget(client)
            self._cond.notify_all()
        for job in taken:
            if job.dropped is not None:
                job.dropped(job)
        return [job for job in taken if job.kind is PassKind.REQUIRED]

    def _forget(self, client: SchedulerClient) -> None:
        if client in self._clients:
            index = self._clients.index(client)
            self._clients.remove(client)
            if index < self._next_client:
                self._next_client -= 1
            self._next_client %= max(1, len(self._clients))


LIVE_WORKERS = max(1, min(4, os.cpu_count() or 1))
"""Whisper calls that run at once: one single-threaded pass per core (at most four)."""

_shared: PassScheduler | None = None
_shared_lock = threading.Lock()


def shared_scheduler() -> PassScheduler:
    """The scheduler every live transcriber of this process uses unless given another."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = PassScheduler(LIVE_WORKERS)
        return _shared
