"""Who spoke how long, and when: talk time per speaker and a who-spoke-when timeline,
computed from a session's final transcript segments. A pure function of the segments.

- A speaker's talk time is the time covered by their segments, each moment counted once
  (two of their segments that overlap do not count twice).
- Lines without a speaker count as one speaker, `None` ("Unknown speaker" where shown).
- Blank lines, and segments whose times are not finite numbers, are left out; a segment that
  ends before it starts covers nothing; times before 0 count from 0.
- Shares are of the total talk time, the sum over speakers, so they add up to 100%. When
  people talk over each other that total is more than the time anyone was speaking
  (`speech_seconds`); `overlap_seconds` is the time two or more were speaking at once.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from app.models import TranscriptSegment
from app.text import clean_text


@dataclass(frozen=True)
class Span:
    """One stretch of one speaker's speech, in session seconds."""

    speaker: str | None
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class SpeakerTalk:
    speaker: str | None  # None: lines without a speaker
    seconds: float
    share: float  # of the total talk time, 0 to 1
    segment_count: int

    @property
    def percentage(self) -> float:
        return round(100 * self.share, 1)


@dataclass(frozen=True)
class TalkTime:
    speakers: tuple[SpeakerTalk, ...]  # the most talk first
    timeline: tuple[Span, ...]  # every speaker's spans, by start time
    total_seconds: float  # the sum of the speakers' talk time
    speech_seconds: float  # the time at least one person was speaking
    overlap_seconds: float  # the time two or more were speaking at once

    def to_dict(self) -> dict[str, Any]:
        """The numbers as the API and the exports give them: seconds to the millisecond,
        percentages to a tenth."""
        return {
            "total_talk_time_seconds": round(self.total_seconds, 3),
            "speech_seconds": round(self.speech_seconds, 3),
            "overlap_seconds": round(self.overlap_seconds, 3),
            "speakers": [{"speaker": s.speaker, "talk_time_seconds": round(s.seconds, 3),
                          "percentage": s.percentage, "segment_count": s.segment_count}
                         for s in self.speakers],
            "timeline": [{"speaker": span.speaker, "start_time": round(span.start, 3),
                          "end_time": round(span.end, 3)} for span in self.timeline],
        }


def talk_time(segments: Iterable[TranscriptSegment]) -> TalkTime:
    intervals: dict[str | None, list[tuple[float, float]]] = {}
    counts: dict[str | None, int] = {}
    names: dict[str | None, str | None] = {}  # each raw name cleaned once: a meeting has few
    for segment in segments:
        start, end = segment.start_time, segment.end_time
        if not _finite(start, end) or not clean_text(segment.text):
            continue
        raw = segment.speaker
        speaker = names[raw] if raw in names else names.setdefault(raw, clean_text(raw) or None)
        counts[speaker] = counts.get(speaker, 0) + 1
        start = max(0.0, float(start))
        if end > start:
            intervals.setdefault(speaker, []).append((start, float(end)))

    spans = [Span(speaker, start, end) for speaker, own in intervals.items() for start, end in _union(own)]
    seconds = {speaker: 0.0 for speaker in counts}
    for span in spans:
        seconds[span.speaker] += span.seconds
    total = sum(seconds.values())
    speakers = tuple(sorted(
        (SpeakerTalk(speaker, spoken, spoken / total if total else 0.0, counts[speaker])
         for speaker, spoken in seconds.items()),
        key=lambda s: (-s.seconds, s.speaker is None, (s.speaker or "").casefold())))
    speech, overlap = _coverage(spans)
    timeline = tuple(sorted(spans, key=lambda s: (s.start, s.end, s.speaker or "")))
    return TalkTime(speakers, timeline, total, speech, overlap)


def _finite(start: object, end: object) -> bool:
    return (isinstance(start, (int, float)) and isinstance(end, (int, float))
            and math.isfinite(start) and math.isfinite(end))


def _union(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Overlapping or touching intervals merged, in order."""
    merged: list[tuple[float, float]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _coverage(spans: list[Span]) -> tuple[float, float]:
    """(time at least one span covers, time two or more cover) — a sweep over their ends."""
    edges = sorted([(s.start, 1) for s in spans] + [(s.end, -1) for s in spans])
    speech = overlap = 0.0
    active, previous = 0, 0.0
    for time, step in edges:
        if active >= 1:
            speech += time - previous
        if active >= 2:
            overlap += time - previous
        active += step
        previous = time
    return speech, overlap
