"""Decoding the audio tap's chunks (see resources/bot/audio_tap.js for the wire format)."""
from __future__ import annotations

import base64
import binascii
import math
import time
from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 16000
_DTYPES: dict[str, tuple[np.dtype, float]] = {"i16": (np.dtype("<i2"), 1 / 32768.0), "f32": (np.dtype("<f4"), 1.0)}


class ChunkError(ValueError):
    """A chunk from the page is malformed; it is dropped and counted."""


@dataclass(frozen=True)
class PcmChunk:
    samples: np.ndarray            # float32, mono, SAMPLE_RATE
    page_time: float | None        # Unix time of the first sample, by the page's clock


def decode_chunk(detail: str) -> PcmChunk:
    try:
        fmt, rate, stamp, payload = detail.split(":", 3)
    except ValueError:
        raise ChunkError("audio chunk without its header") from None
    if fmt not in _DTYPES:
        raise ChunkError(f"unknown sample format {fmt!r}")
    if rate != str(SAMPLE_RATE):
        raise ChunkError(f"audio chunk at {rate!r} Hz, expected {SAMPLE_RATE}")
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ChunkError("audio chunk payload is not base64") from None
    dtype, scale = _DTYPES[fmt]
    if len(raw) % dtype.itemsize:
        raise ChunkError("audio chunk payload is cut mid-sample")
    samples = np.frombuffer(raw, dtype=dtype).astype(np.float32)
    if scale != 1.0:
        samples *= scale
    try:
        page_time = float(stamp) if stamp else None
    except ValueError:
        raise ChunkError(f"audio chunk time {stamp[:40]!r} is not a number") from None
    if page_time is not None and not math.isfinite(page_time):
        raise ChunkError(f"audio chunk time {stamp[:40]!r} is not a finite number")
    return PcmChunk(samples, page_time)


def monotonic_from_unix(unix_time: float) -> float:
    """A Unix time (the page's clock) as a `time.monotonic()` reading of this process."""
    return unix_time - time.time() + time.monotonic()
