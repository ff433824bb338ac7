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
import threading
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


# Two passes computing their log-mel features at once (numpy's threaded OpenBLAS, in the bot's
# process with two sessions) were seen to hang both for good. The features take milliseconds
# of a pass's time, so passes take turns for them.
_FEATURES_LOCK = threading.Lock()


class _FeaturesInTurn:
    """faster-whisper's feature extractor, one call at a time across the process."""

    def __init__(self, extractor: Any) -> None:
        self._extractor = extractor

    def __call__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        with _FEATURES_LOCK:
            return self._extractor(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._extractor, name)


def _looping(segment: Any, options: dict[str, Any]) -> bool:
    threshold = options.get("compression_ratio_threshold") or 2.4
    return segment.compression_ratio > threshold


class UtteranceWhisper:
    """A shared WhisperModel, seen by one transcriber with its own encoder window. Its passes
    may run on several threads at once: each thread's window is its own."""

    def __init__(self, model: WhisperModel) -> None:
        # A shallow copy shares the loaded CTranslate2 model and tokenizer; only the encode
        # step (and the window it trims to) belongs to this view.
        self._view = copy.copy(model)
        self._window = threading.local()
        self.redone = 0  # decodes redone on the full window
        self._view.encode = types.MethodType(self._encode_window, self._view)
        self._view.feature_extractor = _FeaturesInTurn(model.feature_extractor)
        self._full_encode = type(model).encode

    @property
    def _frames(self) -> int:
        return getattr(self._window, "frames", FULL_WINDOW_FRAMES)

    @_frames.setter
    def _frames(self, frames: int) -> None:
        self._window.frames = frames

    def transcribe(self, audio: np.ndarray, **options: Any) -> tuple[list[Any], Any]:
        """WhisperModel.transcribe, decoded at once while the window matches this audio.

        Without the long silence it was trained on, whisper sometimes repeats the utterance
        instead of ending it. When the caller offers a temperature fallback and the decode
        loops from its first segment on (whisper's own compression-ratio test), it is done
        again on the full 30 s window with that fallback. A loop after good segments (often a
        run of "." in the padding) is returned as it is: the caller drops looping segments.
        """
        self._frames = encoder_frames(len(audio) / SAMPLE_RATE)
        temperatures = options.get("temperature", 0.0)
        fallback = isinstance(temperatures, (list, tuple)) and len(temperatures) > 1
        if self._frames < FULL_WINDOW_FRAMES:
            first = temperatures[0] if isinstance(temperatures, (list, tuple)) else temperatures
            segments, info = self._view.transcribe(audio, **{**options, "temperature": first})
            segments = list(segments)
            if not fallback or not segments or not _looping(segments[0], options):
                return segments, info
            self.redone += 1
            self._frames = FULL_WINDOW_FRAMES
        segments, info = self._view.transcribe(audio, **options)
        return list(segments), info

    def _encode_window(self, model: WhisperModel, features: np.ndarray):
        return self._full_encode(model, features[..., : self._frames])
