"""The audio source interface: 16 kHz mono float32 chunks stamped on the session clock.

Every source fills a bounded queue from its capture side (a device callback, the bot's
page tap, a decoder thread) without ever blocking there; when the queue is full the chunk
is dropped, counted in `dropped_chunks` and reported through `on_log`. The consumer calls
`read()` until `finished` is true.
"""
from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from recorder.clock import SessionClock
from recorder.drops import DropCounter, LogFn
from recorder.errors import AudioCaptureError

SAMPLE_RATE = 16000


@dataclass
class AudioChunk:
    samples: np.ndarray  # float32 mono, SAMPLE_RATE
    start_time: float  # session-clock seconds of the first sample
    channel: str | None = None  # "you" / "others" in a device mix; None otherwise

    @property
    def duration(self) -> float:
        return len(self.samples) / SAMPLE_RATE

    @property
    def end_time(self) -> float:
        return self.start_time + self.duration


class _BoundedQueue:
    """A bounded FIFO whose producer never blocks and which the producer can close.

    `get` returns None at its timeout or once the queue is closed and empty, so a blocked
    reader wakes when the source ends even though the queue may be full at that moment.
    """

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError("queue size must be at least 1")
        self._items: deque[Any] = deque()
        self._maxsize = maxsize
        self._closed = False
        self._cond = threading.Condition()

    def put_nowait(self, item: Any) -> bool:
        with self._cond:
            if self._closed or len(self._items) >= self._maxsize:
                return False
            self._items.append(item)
            self._cond.notify()
            return True

    def get(self, timeout: float | None) -> Any | None:
        with self._cond:
            self._cond.wait_for(lambda: self._items or self._closed, timeout)
            return self._items.popleft() if self._items else None

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def drained(self) -> bool:
        with self._cond:
            return self._closed and not self._items


class ChunkStamper:
    """Gives consecutive blocks of one stream start times on the session clock.

    Each block comes with an estimate of its start from its arrival time. The running
    sample count is more precise, so it wins while the two agree. They part in two ways:
    samples lost upstream (a sound server that skipped under load, an overflow) make
    every later estimate late by the same amount, and the count then jumps ahead to it (a
    gap) once the estimates have stayed more than `tolerance` late for `window` seconds;
    a late delivery (a busy thread) makes single estimates late and is ignored. An
    estimate earlier than the count by more than `tolerance` means the count started
    late, and it is corrected at once (an overlap, which consumers trim).
    """

    def __init__(self, rate: float, *, tolerance: float = 0.2, window: float = 0.5) -> None:
        self.rate = rate
        self.tolerance = tolerance
        self.window = window
        self._next: float | None = None
        self._lags: deque[tuple[float, int]] = deque()  # (estimate - count, frames) of recent blocks
        self._lag_frames = 0

    def stamp(self, estimated_start: float, frames: int, discontinuity: bool = False) -> float:
        start = self._next
        if start is None or discontinuity or estimated_start < start - self.tolerance:
            start = estimated_start
            self._lags.clear()
            self._lag_frames = 0
        else:
            self._lags.append((estimated_start - start, frames))
            self._lag_frames += frames
            while self._lag_frames - self._lags[0][1] >= self.window * self.rate:
                self._lag_frames -= self._lags.popleft()[1]
            lag = min(lag for lag, _ in self._lags)
            if self._lag_frames >= self.window * self.rate and lag > self.tolerance:
                start += lag
                self._lags.clear()
                self._lag_frames = 0
        self._next = start + frames / self.rate
        return start


class AudioSource(ABC):
    """A stream of AudioChunks; see the module docstring for the queue rules."""

    def __init__(self, *, queue_size: int = 100, on_log: LogFn | None = None) -> None:
        self.on_log = on_log
        self.error: AudioCaptureError | None = None
        self._queue = _BoundedQueue(queue_size)
        self._drops = DropCounter(f"audio chunks from {self.describe()}", self._log)

    @abstractmethod
    def start(self, clock: SessionClock) -> None:
        """Begin capturing; raises AudioCaptureError when capture cannot start."""

    @abstractmethod
    def stop(self) -> None:
        """Stop capturing. Chunks already queued can still be read; then `finished` is true."""

    def describe(self) -> str:
        return type(self).__name__

    def read(self, timeout: float | None = None) -> AudioChunk | None:
        """The next chunk; None at the timeout or once finished (check `finished`).

        Raises AudioCaptureError once the queue is drained if capture ended in an error.
        """
        item = self._queue.get(timeout)
        if item is not None:
            return self._to_chunk(item)
        if self.error is not None and self._queue.drained:
            raise self.error
        return None

    @property
    def finished(self) -> bool:
        return self._queue.drained

    @property
    def dropped_chunks(self) -> int:
        return self._drops.count

    def _offer(self, item: Any) -> bool:
        """Queue a captured item without blocking; a full queue drops it, counted and logged."""
        if self._queue.put_nowait(item):
            return True
        if not self._queue.closed:
            self._drops.drop()
        return False

    def _to_chunk(self, item: Any) -> AudioChunk:
        """Turns a queued item into a chunk on the reader's thread (sources may queue raw data)."""
        return item

    def _finish(self, error: AudioCaptureError | None = None) -> None:
        """The capture side has ended: readers drain what is queued, then see `finished`."""
        if error is not None and self.error is None:
            self.error = error
            self._log("error", error.message)
        self._queue.close()
        self._drops.flush()

    def _log(self, level: str, message: str) -> None:
        if self.on_log is not None:
            self.on_log(level, message)


def to_float32_mono(samples: np.ndarray | bytes, sample_format: str = "f32") -> np.ndarray:
    """PCM as a float32 array: float arrays pass through, int16 is scaled to [-1, 1).

    Bytes are read as `sample_format` ("f32" or "s16", little-endian). Raises ValueError
    for anything that is not one-dimensional PCM.
    """
    if isinstance(samples, (bytes, bytearray, memoryview)):
        formats = {"f32": "<f4", "s16": "<i2"}
        if sample_format not in formats:
            raise ValueError(f"unknown sample format {sample_format!r}; use 'f32' or 's16'")
        dtype = np.dtype(formats[sample_format])
        if len(samples) % dtype.itemsize:
            raise ValueError(f"{len(samples)} bytes is not a whole number of {sample_format} samples")
        samples = np.frombuffer(samples, dtype=dtype)
    array = np.asarray(samples)
    if array.ndim != 1:
        raise ValueError(f"expected mono PCM (one dimension), got shape {array.shape}")
    if array.dtype == np.int16:
        return array.astype(np.float32) / 32768.0
    if array.dtype.kind != "f":
        raise ValueError(f"expected float32 or int16 PCM, got {array.dtype}")
    return array.astype(np.float32, copy=False)
