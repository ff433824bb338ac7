"""Counting and reporting what a bounded queue had to drop: never silently, never flooding."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

LogFn = Callable[[str, str], None]
"""A log sink: (level, message) with level "info", "warning" or "error"."""


class DropCounter:
    """Counts dropped items and reports them through a log sink, at most once per interval.

    The first drop is reported at once; later ones are summed and reported when the
    interval has passed, and `flush()` reports whatever is still unreported (call it at
    stop). Safe to call from capture callbacks: it never blocks on I/O of its own.
    """

    def __init__(self, what: str, log: LogFn, *, interval: float = 5.0) -> None:
        self.what = what
        self.log = log
        self.interval = interval
        self.count = 0
        self._unreported = 0
        self._last_report = float("-inf")
        self._lock = threading.Lock()

    def drop(self, reason: str = "queue full", count: int = 1) -> None:
        with self._lock:
            self.count += count
            self._unreported += count
            now = time.monotonic()
            if now - self._last_report < self.interval:
                return
            message = self._take_message(reason)
            self._last_report = now
        self._emit(message)

    def reported_elsewhere(self) -> None:
        """The caller has just reported one in its own words: the next summary waits an interval."""
        with self._lock:
            self._last_report = time.monotonic()

    def flush(self, reason: str = "queue full") -> None:
        with self._lock:
            if not self._unreported:
                return
            message = self._take_message(reason)
        self._emit(message)

    def _take_message(self, reason: str) -> str:
        message = f"Dropped {self._unreported} {self.what} ({reason}); {self.count} dropped in total"
        self._unreported = 0
        return message

    def _emit(self, message: str) -> None:
        self.log("warning", message)
