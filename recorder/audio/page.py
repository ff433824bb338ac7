"""Audio the bot taps from the meeting page (16 kHz mono PCM pushed from the page's script)."""
from __future__ import annotations

import threading

import numpy as np

from recorder.audio.base import SAMPLE_RATE, AudioChunk, AudioSource, ChunkStamper, to_float32_mono
from recorder.clock import SessionClock
from recorder.drops import LogFn


class PageAudioSource(AudioSource):
    """The bot calls `push()` for every chunk its in-page tap delivers.

    `push` only converts and enqueues, so it is safe on the Qt thread that receives the
    page's messages.
    """

    def __init__(self, *, queue_size: int = 100, on_log: LogFn | None = None) -> None:
        super().__init__(queue_size=queue_size, on_log=on_log)
        self._clock: SessionClock | None = None
        # Page messages cross the Qt event loop, which can be busy for a while: a lost
        # stretch is only believed when it lasts.
        self._stamper = ChunkStamper(SAMPLE_RATE, tolerance=0.3, window=2.0)
        self._lock = threading.Lock()

    def describe(self) -> str:
        return "the meeting page"

    def start(self, clock: SessionClock) -> None:
        self._clock = clock

    def stop(self) -> None:
        self._finish()

    def push(
        self,
        samples: np.ndarray | bytes,
        page_time: float | None = None,
        *,
        sample_format: str = "f32",
    ) -> None:
        """Queue one chunk of 16 kHz mono PCM (float32 array or bytes, or int16).

        `page_time` is the `time.monotonic()` reading of the chunk's first sample when the
        bot knows it (the page reports its capture time); otherwise the chunk is taken to
        have just ended. Either way it is stamped contiguously with the previous chunk
        unless they disagree for long (see ChunkStamper). Chunks pushed after `stop()` are
        ignored: the session is ending.
        """
        if self._clock is None:
            raise RuntimeError("PageAudioSource.push() called before start()")
        mono = to_float32_mono(samples, sample_format)
        if self._queue.closed or not len(mono):
            return
        if page_time is None:
            estimate = self._clock.now() - len(mono) / SAMPLE_RATE
        else:
            estimate = self._clock.at(page_time)
        with self._lock:  # the stamper's running count must see chunks in order
            self._offer(AudioChunk(mono.copy(), self._stamper.stamp(estimate, len(mono))))
