"""Transcript lag: how long after a sentence was heard its text appears.

Both sides are on the monotonic clock. An utterance has where its sound lies on the
recording's time base (`start`, `end`, used to find the results that cover it) and when its
first and last sound reached the pipeline (`heard_from`, `heard_until`, the moments lag is
counted from). A result has the span of audio it covers and when it arrived.
"""
from __future__ import annotations

from dataclasses import dataclass

# Whisper's word times are a little off, so a final "reaches" a sentence's end when it ends at
# most END_MARGIN before it; it must start no later than START_SLACK after it (the pauses
# between sentences are longer than that, so the next sentence's final never matches).
END_MARGIN = 0.6
START_SLACK = 0.5


@dataclass(frozen=True)
class Utterance:
    text: str
    start: float
    end: float
    heard_from: float
    heard_until: float


@dataclass(frozen=True)
class Heard:
    text: str
    start: float
    end: float
    partial: bool
    arrived: float


@dataclass
class LagReport:
    # heard_until -> the final holding the sentence's last word; a sentence no final reached
    # counts too, when the caller says when the results were taken: with the time it had
    # waited by then (at least its lag)
    final_lags: list[float]
    first_text_lags: list[float]  # heard_from -> the first result (partial or final) covering it
    missed: list[str]  # sentences whose end no final reached
    censored: bool = False  # whether final_lags holds the missed sentences too

    def to_dict(self) -> dict:
        spoken = len(self.final_lags) + (0 if self.censored else len(self.missed))
        return {"sentences": spoken, "missed": self.missed}


def measure_lags(utterances: list[Utterance], heard: list[Heard], *, taken_at: float | None = None) -> LagReport:
    """Lags of the sentences; `taken_at` is when the results were taken (monotonic clock):
    a sentence still without a final then counts as waiting until that moment (without it,
    such a sentence is only listed as missed)."""
    by_arrival = sorted(heard, key=lambda h: h.arrived)
    finals = [h for h in by_arrival if not h.partial]
    final_lags: list[float] = []
    first_text_lags: list[float] = []
    missed: list[str] = []
    for u in utterances:
        # A final that arrived before the last sound was fed cannot hold the last word.
        final = next((h for h in finals if h.arrived >= u.heard_until
                      and h.end >= u.end - END_MARGIN and h.start <= u.end + START_SLACK), None)
        if final is None:
            missed.append(u.text)
            if taken_at is not None:
                final_lags.append(max(0.0, taken_at - u.heard_until))
        else:
            final_lags.append(final.arrived - u.heard_until)
        first = next((h for h in by_arrival if h.arrived >= u.heard_from
                      and h.end > u.start and h.start <= u.end + START_SLACK), None)
        if first is not None:
            first_text_lags.append(first.arrived - u.heard_from)
    return LagReport(final_lags, first_text_lags, missed, censored=taken_at is not None)
