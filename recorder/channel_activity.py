"""Which channel of a device mix is speaking when: "you" (the microphone) or "others" (the
system sound).

The segment file holds the mix as one mono track, as the meeting sounded, so a later pass
over that file cannot tell the channels apart. This keeps the one fact it needs while the
channels are still separate: per half second, the channel that is loudest above a floor,
reported only when it changes (a pause reports nothing; the next speech decides).
"""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from recorder.audio.base import AudioChunk

BIN_SECONDS = 0.5
FLOOR_RMS = 0.005  # about -46 dBFS: quieter than speech on any channel, louder than a quiet room
HOLD_SECONDS = 1.0  # channels arrive with their own delays: a bin is judged this much later


class ChannelActivity:
    """Feed it labelled chunks (any thread, one at a time); `on_change(session_time, channel)`
    hears each change of the loudest channel."""

    def __init__(self, on_change: Callable[[float, str], None], *, bin_seconds: float = BIN_SECONDS,
                 floor: float = FLOOR_RMS, hold: float = HOLD_SECONDS) -> None:
        self._on_change = on_change
        self._bin = bin_seconds
        self._floor = floor
        self._hold = hold
        self._energy: dict[int, dict[str, list[float]]] = {}  # bin -> channel -> [sum of squares, samples]
        self._newest = -math.inf
        self._current: str | None = None

    def add(self, chunk: AudioChunk) -> None:
        if chunk.channel is None or not len(chunk.samples):
            return
        samples = np.asarray(chunk.samples, dtype=np.float32)
        slot = int((chunk.start_time + chunk.duration / 2) // self._bin)
        totals = self._energy.setdefault(slot, {}).setdefault(chunk.channel, [0.0, 0.0])
        totals[0] += float(np.dot(samples, samples))
        totals[1] += len(samples)
        self._newest = max(self._newest, chunk.end_time)
        self._judge(until=self._newest - self._hold)

    def flush(self) -> None:
        """Judges every bin still open (the recording has ended)."""
        self._judge(until=math.inf)

    def _judge(self, until: float) -> None:
        for slot in sorted(s for s in self._energy if (s + 1) * self._bin <= until):
            levels = {channel: math.sqrt(total / count) for channel, (total, count) in self._energy.pop(slot).items()}
            loudest = max(levels, key=levels.__getitem__)
            if levels[loudest] >= self._floor and loudest != self._current:
                self._current = loudest
                self._on_change(slot * self._bin, loudest)
