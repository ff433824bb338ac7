"""Speech probabilities for a live audio stream from the Silero VAD shipped in faster-whisper.

faster-whisper runs Silero over a whole file at once; a live stream arrives in small chunks,
so this keeps the model's recurrent state and the 64-sample context between calls. The
probabilities then match a whole-file run window for window.
"""
from __future__ import annotations

import numpy as np
from faster_whisper.vad import get_vad_model

SAMPLE_RATE = 16000
WINDOW_SAMPLES = 512  # 32 ms: the window the Silero model is trained on at 16 kHz
_CONTEXT_SAMPLES = 64
_STATE_SHAPE = (1, 1, 128)


class StreamingVad:
    """Feeds audio in any chunk size; yields one speech probability per completed window."""

    _pending: np.ndarray
    _context: np.ndarray
    _h: np.ndarray
    _c: np.ndarray

    def __init__(self) -> None:
        self._model = get_vad_model()  # shared, cached by faster-whisper; ONNX runs are thread-safe
        self.reset()

    def process(self, samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Returns (windows, probabilities): the completed windows, shape (n, 512), and their
        speech probabilities, shape (n,). Samples short of a whole window wait for the next call."""
        audio = np.concatenate([self._pending, samples.astype(np.float32, copy=False)])
        count = len(audio) // WINDOW_SAMPLES
        self._pending = audio[count * WINDOW_SAMPLES:]
        if count == 0:
            return np.empty((0, WINDOW_SAMPLES), dtype=np.float32), np.empty(0, dtype=np.float32)
        windows = audio[: count * WINDOW_SAMPLES].reshape(count, WINDOW_SAMPLES)
        contexts = np.concatenate([self._context[None, :], windows[:-1, -_CONTEXT_SAMPLES:]], axis=0)
        batch = np.concatenate([contexts, windows], axis=1)
        output, self._h, self._c = self._model.session.run(
            None, {"input": batch, "h": self._h, "c": self._c}
        )
        self._context = windows[-1, -_CONTEXT_SAMPLES:].copy()
        return windows, np.asarray(output, dtype=np.float32).reshape(-1)

    @property
    def pending_samples(self) -> int:
        """Samples fed but not yet part of a returned window."""
        return len(self._pending)

    def reset(self) -> None:
        """Forgets the stream, as after a gap in the audio."""
        self._pending = np.empty(0, dtype=np.float32)
        self._context = np.zeros(_CONTEXT_SAMPLES, dtype=np.float32)
        self._h = np.zeros(_STATE_SHAPE, dtype=np.float32)
        self._c = np.zeros(_STATE_SHAPE, dtype=np.float32)
