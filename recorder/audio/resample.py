"""Streaming conversion of any PCM to 16 kHz mono float32 (libswresample through PyAV)."""
from __future__ import annotations

import av
import numpy as np

from recorder.audio.base import SAMPLE_RATE


class MonoResampler:
    """Keeps the filter state between blocks, so block edges add no clicks or gaps.

    libswresample's default filter is a windowed sinc: no audible aliasing when a 44.1 or
    48 kHz device is brought down to 16 kHz. Channels are averaged (a tone on both
    channels keeps its level; swresample's own down-mix would raise it by 3 dB).
    """

    def __init__(self) -> None:
        self._resampler = self._new()

    @staticmethod
    def _new() -> av.AudioResampler:
        return av.AudioResampler(format="fltp", rate=SAMPLE_RATE)  # keeps the input's channels

    def push_frame(self, frame: av.AudioFrame) -> np.ndarray:
        return self._collect(self._resampler.resample(frame))

    def push_array(self, samples: np.ndarray, rate: int) -> np.ndarray:
        """`samples` is (frames,) or (frames, channels) float32 at `rate`."""
        mono = samples.mean(axis=1) if samples.ndim == 2 else samples
        mono = np.ascontiguousarray(mono, dtype=np.float32)
        if rate == SAMPLE_RATE:
            return mono
        frame = av.AudioFrame.from_ndarray(mono.reshape(1, -1), format="fltp", layout="mono")
        frame.sample_rate = rate
        return self.push_frame(frame)

    def flush(self) -> np.ndarray:
        """What the filter still holds, at the end of a stream; the resampler starts afresh."""
        tail = self._collect(self._resampler.resample(None))
        self._resampler = self._new()
        return tail

    @staticmethod
    def _collect(frames: list[av.AudioFrame]) -> np.ndarray:
        if not frames:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate([f.to_ndarray().mean(axis=0) for f in frames]).astype(np.float32, copy=False)
