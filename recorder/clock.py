"""The session clock: one monotonic time base for everything a session records."""
from __future__ import annotations

import time


class SessionClock:
    """Seconds since the session started, from the monotonic clock.

    Audio chunks, screen frames, transcript segments and participant events are all
    stamped with `now()` of the same clock, so they line up without wall-clock jumps.
    """

    def __init__(self, started_at: float | None = None) -> None:
        # `started_at` is a `time.monotonic()` reading; a second clock built from another
        # clock's `started_at` (e.g. in a child process on the same machine) agrees with it.
        self.started_at = time.monotonic() if started_at is None else started_at

    def now(self) -> float:
        return time.monotonic() - self.started_at

    def at(self, monotonic_time: float) -> float:
        """Session time of a `time.monotonic()` reading."""
        return monotonic_time - self.started_at
