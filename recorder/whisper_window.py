"""Whisper passes that cost what the utterance is long, not thirty seconds.

faster-whisper pads every window to 30 s of features before the encoder, so a pass over a
three-second utterance costs as much as one over thirty, and a live transcriber makes
several passes per utterance. CTranslate2's Whisper encoder accepts shorter inputs; this
view of a shared model encodes the utterance plus a few seconds of the padding silence,
which keeps the model's sense of where speech ends (`bench/` measures the accuracy; on the
benchmark speech it is unchanged at about a third of the compute).
"""
from __future__ import annotations

import copy
import math
import types
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

SAMPLE_RATE = 16000
FRAMES_PER_SECOND = 100  # mel frames; the encoder halves them
FULL_WINDOW_FRAMES = 3000  # whisper's 30 s
SILENCE_MARGIN = 3.0  # seconds of padding kept after the audio, at least
# Windows come in a few sizes only: the native allocator then reuses its buffers instead of
# fragmenting over ever-new sizes (memory stays flat), and the extra silence makes whisper
# end an utterance more reliably.
WINDOW_STEP_FRAMES = 500


def encoder_frames(audio_seconds: float) -> int:
    """Mel frames the encoder sees for this much audio: the audio and the margin, rounded up
    to a whole step, at most the full window."""
    frames = (audio_seconds + SILENCE_MARGIN) * FRAMES_PER_SECOND
    return min(FULL_WINDOW_FRAMES, math.ceil(frames / WINDOW_STEP_FRAMES) * WINDOW_STEP_FRAMES)


def utterance_view(model: Any) -> Any:
    """The windowed view of a loaded WhisperModel; any other model object as it is."""
    from faster_whisper import WhisperModel

    return UtteranceWhisper(model) if isinstance(model, WhisperModel) else model


def _looping(segment: Any, options: dict[str, Any]) -> bool:
    threshold = options.get("compression_ratio_threshold") or 2.4
    return segment.compression_ratio > threshold


class UtteranceWhisper:
    """A shared WhisperModel, seen by one transcriber thread with its own encoder window."""

    def __init__(self, model: WhisperModel) -> None:
        # A shallow copy shares the loaded CTranslate2 model and tokenizer; only the encode
        # step (and the window it trims to) belongs to this view.
        self._view = copy.copy(model)
        self._frames = FULL_WINDOW_FRAMES
        self.redone = 0  # decodes redone on the full window
        self._view.encode = types.MethodType(self._encode_window, self._view)
        self._full_encode = type(model).encode

    def transcribe(self, audio: np.ndarray, **options: Any) -> tuple[list[Any], Any]:
        """WhisperModel.transcribe, decoded at once while the window matches this audio.

        Without the long silence it was trained on, whisper sometimes repeats the utterance
        instead of ending it; such a decode (whisper's own compression-ratio test) is done
        again on the full 30 s window with the caller's temperature fallback.
        """
        self._frames = encoder_frames(len(audio) / SAMPLE_RATE)
        if self._frames < FULL_WINDOW_FRAMES:
            temperatures = options.get("temperature", 0.0)
            first = temperatures[0] if isinstance(temperatures, (list, tuple)) else temperatures
            segments, info = self._view.transcribe(audio, **{**options, "temperature": first})
            segments = list(segments)
            if not any(_looping(s, options) for s in segments):
                return segments, info
            self.redone += 1
            self._frames = FULL_WINDOW_FRAMES
        segments, info = self._view.transcribe(audio, **options)
        return list(segments), info

    def _encode_window(self, model: WhisperModel, features: np.ndarray):
        return self._full_encode(model, features[..., : self._frames])
