"""Speaker embeddings of stretches of a recording: each (start, end) on the session clock cut
from the recording's audio files, a block at a time, and embedded by the voice encoder."""
from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from recorder.offline_transcription import AudioPart, TranscriptionCancelled, recording_blocks
from recorder.streaming_vad import SAMPLE_RATE
from recorder.voices.encoder import EMBEDDING_SIZE, MIN_SECONDS, VoiceEncoder

SPANS_PER_STEP = 32  # spans embedded between two looks at the cancel request


@dataclass(frozen=True)
class SpanVoices:
    embeddings: np.ndarray  # (spans, 256), unit length
    reliable: list[bool]  # whether each span held enough audio to say much about its voice


def span_audio(parts: list[AudioPart], spans: Sequence[tuple[float, float]],
               stop: threading.Event | None = None) -> list[np.ndarray]:
    """The samples of each (start, end) span, in session seconds, as the recording holds them."""
    pieces: list[list[np.ndarray]] = [[] for _ in spans]
    for block_start, samples in recording_blocks(parts, stop or threading.Event()):
        block_end = block_start + len(samples) / SAMPLE_RATE
        for index, (start, end) in enumerate(spans):
            if end > block_start and start < block_end:
                low = max(0, round((start - block_start) * SAMPLE_RATE))
                high = min(len(samples), round((end - block_start) * SAMPLE_RATE))
                if high > low:
                    pieces[index].append(samples[low:high].copy())  # the block itself is let go
    return [np.concatenate(p) if p else np.zeros(0, np.float32) for p in pieces]


def span_voices(parts: list[AudioPart], spans: Sequence[tuple[float, float]], encoder: VoiceEncoder,
                stop: threading.Event | None = None) -> SpanVoices:
    """An embedding per span of the recording. Raises TranscriptionCancelled when `stop` is
    set (a long meeting takes minutes)."""
    stop = stop or threading.Event()
    audio = span_audio(parts, spans, stop)
    steps = [np.zeros((0, EMBEDDING_SIZE), np.float32)]
    for first in range(0, len(audio), SPANS_PER_STEP):
        if stop.is_set():
            raise TranscriptionCancelled()
        steps.append(encoder.embed(audio[first:first + SPANS_PER_STEP]))
    return SpanVoices(np.concatenate(steps), [len(a) >= MIN_SECONDS * SAMPLE_RATE for a in audio])
