"""How far the live transcript is behind, and what it skipped.

"Behind" is what the window shows and the log notes: in normal running a line's final comes
a second or two after it was said, so only a delay past BEHIND_FROM counts, and it stays
shown until the delay is back under CAUGHT_UP (no flicker at the edge). The value is
reported when it starts, every REPORT_EVERY seconds while it lasts (when it changed by a
second or more), and once more (0) when it ends.

What the live tier could not transcribe — audio dropped from a full queue, utterances shed
when too far behind, everything after whisper failed or when the session ended before
transcription caught up — is kept as session-time ranges, so the after-meeting pass knows
where the live transcript has holes.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

from recorder.drops import LogFn

BEHIND_FROM = 4.0  # seconds: the p95 a line's final may take
CAUGHT_UP = 1.5
REPORT_EVERY = 2.0
SKIP_REPORT_EVERY = 5.0  # seconds between reports of a growing skipped range
MERGE_GAP = 1.0  # seconds: ranges closer than this are one range

BehindFn = Callable[[float], None]
SkippedFn = Callable[[list[tuple[float, float]]], None]


class BehindReporter:
    """Turns a stream of "seconds behind" readings into log lines and reports."""

    def __init__(self, log: LogFn, report: BehindFn | None) -> None:
        self._log = log
        self._report = report or (lambda seconds: None)
        self._lock = threading.Lock()
        self.behind = False
        self.worst = 0.0  # the largest delay seen, for the summary
        self._reported = 0.0
        self._reported_at = -float("inf")

    def update(self, seconds: float) -> None:
        now = time.monotonic()
        with self._lock:
            self.worst = max(self.worst, seconds)
            if not self.behind and seconds >= BEHIND_FROM:
                self.behind = True
                message = (f"The live transcript is {seconds:.0f} s behind the audio; partial results "
                           "pause until it catches up")
            elif self.behind and seconds < CAUGHT_UP:
                self.behind = False
                message = "The live transcript caught up with the audio"
                seconds = 0.0
            elif self.behind and abs(seconds - self._reported) >= 1.0 and now - self._reported_at >= REPORT_EVERY:
                message = None
            else:
                return
            self._reported, self._reported_at = seconds, now
        if message is not None:
            self._log("warning" if seconds else "info", message)
        self._report(round(seconds, 1))

    def close(self) -> None:
        """Transcription ended: nothing is behind any more."""
        with self._lock:
            was_behind, self.behind = self.behind, False
        if was_behind:
            self._report(0.0)


class SkipLog:
    """Session-time ranges the live transcript skipped, merged, reported as a whole list."""

    def __init__(self, report: SkippedFn | None) -> None:
        self._report = report
        self._lock = threading.Lock()
        self._ranges: list[list[float]] = []
        self._dirty = False
        self._reported_at = -float("inf")

    def add(self, start: float, end: float) -> None:
        if end <= start:
            return
        with self._lock:
            last = self._ranges[-1] if self._ranges else None
            if last is not None and start <= last[1] + MERGE_GAP and end >= last[0] - MERGE_GAP:
                last[0], last[1] = min(last[0], start), max(last[1], end)
                grew = False
            else:
                self._ranges.append([start, end])
                self._ranges.sort()
                grew = True
            self._dirty = True
        # a new hole is reported at once; a growing one (a run of drops) now and then
        self.flush(force=grew)

    def flush(self, force: bool = True) -> None:
        now = time.monotonic()
        with self._lock:
            if not self._dirty or (not force and now - self._reported_at < SKIP_REPORT_EVERY):
                return
            self._dirty = False
            self._reported_at = now
            ranges = self._rounded()
        if self._report is not None:
            self._report(ranges)

    @property
    def ranges(self) -> list[tuple[float, float]]:
        with self._lock:
            return self._rounded()

    def _rounded(self) -> list[tuple[float, float]]:
        return [(round(a, 2), round(b, 2)) for a, b in self._ranges]

    @property
    def seconds(self) -> float:
        with self._lock:
            return sum(b - a for a, b in self._ranges)
