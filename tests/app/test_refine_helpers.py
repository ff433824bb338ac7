"""Audio for the after-meeting pass's tests: WAV files of given samples, and a conversation
split into the two channels of a device mix, each silent while the other speaks."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.refine import write_wav

RATE = 16000


def channel_wavs(speech, folder: Path) -> tuple[Path, Path]:
    """("you": Alice's turns, "others": everyone else's) as two WAV files of equal length."""
    you, others = np.zeros_like(speech.audio), np.zeros_like(speech.audio)
    for name, begin, end in speech.spans:
        span = slice(int(begin * RATE), int(end * RATE))
        (you if name == "Alice" else others)[span] = speech.audio[span]
    return write_wav(folder / "you.wav", you), write_wav(folder / "others.wav", others)


__all__ = ["channel_wavs", "write_wav"]
