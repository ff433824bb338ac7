"""In-process publish/subscribe for session events.

The SessionManager publishes; the GUI, the REST/SSE API and the sync client subscribe.
Publishing may happen on any thread (the transcriber runs in a worker thread), so a plain
callback subscriber must be quick and thread-safe; `AsyncSubscription` hands events to an
asyncio loop and the Qt side wraps a callback in a queued signal. Every event gets a
bus-wide sequence number, and a bounded history per session lets a stream resume after a
dropped connection (SSE `Last-Event-ID`).
"""
from __future__ import annotations

import asyncio
import itertools
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

EVENT_KINDS = ("status", "participant", "transcript", "log", "session")


@dataclass(frozen=True)
class SessionEvent:
    kind: str  # one of EVENT_KINDS; "session" carries the whole updated Session (ours)
    session_id: str
    data: dict[str, Any]
    seq: int = 0


@dataclass
class Subscription:
    bus: EventBus
    callback: Callable[[SessionEvent], None]
    session_id: str | None = None
    kinds: frozenset[str] | None = None
    closed: bool = field(default=False)

    def wants(self, event: SessionEvent) -> bool:
        return ((self.session_id is None or event.session_id == self.session_id)
                and (self.kinds is None or event.kind in self.kinds))

    def close(self) -> None:
        self.bus._remove(self)


class EventBus:
    def __init__(self, history_per_session: int = 10_000) -> None:
        self._lock = threading.RLock()
        self._subs: list[Subscription] = []
        self._seq = itertools.count(1)
        self._history: dict[str, deque[SessionEvent]] = {}
        self._history_len = history_per_session

    def subscribe(self, callback: Callable[[SessionEvent], None], *, session_id: str | None = None,
                  kinds: set[str] | frozenset[str] | None = None) -> Subscription:
        sub = Subscription(self, callback, session_id, frozenset(kinds) if kinds else None)
        with self._lock:
            self._subs.append(sub)
        return sub

    def _remove(self, sub: Subscription) -> None:
        with self._lock:
            sub.closed = True
            if sub in self._subs:
                self._subs.remove(sub)

    def publish(self, kind: str, session_id: str, data: dict[str, Any]) -> SessionEvent:
        # The lock covers numbering, history and delivery so subscribers see events in order.
        with self._lock:
            event = SessionEvent(kind, session_id, data, next(self._seq))
            self._history.setdefault(session_id, deque(maxlen=self._history_len)).append(event)
            subs = [s for s in self._subs if s.wants(event)]
            for sub in subs:
                try:
                    sub.callback(event)
                except Exception:  # a broken subscriber must not break the session
                    log.exception("event subscriber failed on %s", kind)
        return event

    def history(self, session_id: str, *, after_seq: int = 0,
                kinds: set[str] | frozenset[str] | None = None) -> list[SessionEvent]:
        with self._lock:
            events = list(self._history.get(session_id, ()))
        return [e for e in events if e.seq > after_seq and (kinds is None or e.kind in kinds)]

    def forget(self, session_id: str) -> None:
        with self._lock:
            self._history.pop(session_id, None)


class AsyncSubscription:
    """Delivers a subscription's events into an asyncio queue on `loop`, from any thread.

    Replays history after `after_seq` first (atomically with subscribing, so nothing is lost
    or doubled in between).
    """

    def __init__(self, bus: EventBus, loop: asyncio.AbstractEventLoop, *,
                 session_id: str | None = None, kinds: set[str] | None = None,
                 after_seq: int | None = None) -> None:
        self.queue: asyncio.Queue[SessionEvent] = asyncio.Queue()
        self._loop = loop
        with bus._lock:
            if session_id is not None and after_seq is not None:
                for event in bus.history(session_id, after_seq=after_seq, kinds=kinds):
                    self.queue.put_nowait(event)
            self._sub = bus.subscribe(self._deliver, session_id=session_id, kinds=kinds)

    def _deliver(self, event: SessionEvent) -> None:
        try:
            self._loop.call_soon_threadsafe(self.queue.put_nowait, event)
        except RuntimeError:  # loop closed: the consumer is gone
            self._sub.close()

    async def get(self, timeout: float | None = None) -> SessionEvent | None:
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except asyncio.TimeoutError:
            return None

    def close(self) -> None:
        self._sub.close()
