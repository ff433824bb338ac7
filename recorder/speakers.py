"""Who is speaking when: the active-speaker changes a meeting page shows, on the session clock."""
from __future__ import annotations

import bisect
import threading


class SpeakerTimeline:
    """Active-speaker changes from the bot, safe to write from one thread and read from another.

    Each change holds from its time until the next one; None means nobody is shown speaking.
    Changes may arrive slightly out of order and are kept sorted by time.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._times: list[float] = []
        self._names: list[str | None] = []

    def set_speaker(self, time: float, name: str | None) -> None:
        with self._lock:
            index = bisect.bisect_right(self._times, time)
            if index > 0 and self._names[index - 1] == name:
                return  # no change
            self._times.insert(index, time)
            self._names.insert(index, name)

    def speaker_for(self, start: float, end: float) -> str | None:
        """The named speaker active for the largest part of [start, end]; None if nobody was."""
        shares = self.shares(start, end)
        return max(shares, key=shares.__getitem__) if shares else None

    def shares(self, start: float, end: float) -> dict[str, float]:
        """Seconds of [start, end] each named speaker was shown speaking; for an empty span,
        the speaker shown at `start` (with 0.0)."""
        with self._lock:
            times, names = list(self._times), list(self._names)
        if end <= start:
            index = bisect.bisect_right(times, start) - 1
            name = names[index] if index >= 0 else None
            return {name: 0.0} if name is not None else {}
        overlap: dict[str, float] = {}
        first = max(bisect.bisect_right(times, start) - 1, 0)
        for index in range(first, len(times)):
            if times[index] >= end:
                break
            name = names[index]
            until = times[index + 1] if index + 1 < len(times) else end
            shared = min(until, end) - max(times[index], start)
            if name is not None and shared > 0:
                overlap[name] = overlap.get(name, 0.0) + shared
        return overlap
