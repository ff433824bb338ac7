"""Writes a recording through SegmentWriter in a process of its own, for the tests that
kill it or fill its disk.

  crash_writer.py live DIR --rotate S      real time until killed; prints "READY <started_at>"
  crash_writer.py fill DIR --rotate S --copy-to OUT
                                           faster than real time until the disk refuses; prints
                                           one JSON line, then copies DIR's files to OUT (DIR may
                                           be a filesystem that disappears with this process)
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recorder.audio.base import SAMPLE_RATE, AudioChunk
from recorder.clock import SessionClock
from recorder.errors import StorageError
from recorder.screen import VideoFrame
from recorder.segments import SegmentWriter

CHUNK_SECONDS = 0.1
FPS = 5


def tone(start: float) -> np.ndarray:
    t = start + np.arange(int(CHUNK_SECONDS * SAMPLE_RATE)) / SAMPLE_RATE
    return (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def frame(index: int, size: tuple[int, int], rng: np.random.Generator, noise: int) -> np.ndarray:
    """A moving bar, plus a noise patch of `noise` pixels square that no codec can shrink."""
    width, height = size
    image = np.full((height, width, 3), 40, dtype=np.uint8)
    x = (index * 16) % (width - 32)
    image[:, x : x + 32] = (220, 180, 30)
    if noise:
        image[:noise, :noise] = rng.integers(0, 256, (noise, noise, 3), dtype=np.uint8)
    return image


def live(directory: Path, rotate: float) -> None:
    clock = SessionClock()
    writer = SegmentWriter(directory, rotate_seconds=rotate, fps=FPS)
    rng = np.random.default_rng(1)
    print(f"READY {clock.started_at!r}", flush=True)
    for i in range(int(60 / CHUNK_SECONDS)):
        start = i * CHUNK_SECONDS
        time.sleep(max(0.0, start + CHUNK_SECONDS - clock.now()))  # a chunk exists once it has been heard
        writer.write_audio(AudioChunk(tone(start), start))
        if i % round(1 / (FPS * CHUNK_SECONDS)) == 0:
            writer.write_video(VideoFrame(frame(i, (640, 360), rng, 0), start))
    writer.close()


def fill(directory: Path, rotate: float, copy_to: Path) -> None:
    writer = SegmentWriter(directory, rotate_seconds=rotate, fps=FPS)
    rng = np.random.default_rng(2)
    result: dict = {"error": None}
    try:
        for i in range(int(600 / CHUNK_SECONDS)):
            start = i * CHUNK_SECONDS
            writer.write_audio(AudioChunk(tone(start), start))
            if i % 2 == 0:
                writer.write_video(VideoFrame(frame(i, (320, 240), rng, 96), start))
                time.sleep(0.02)  # lets the encoder thread keep up: no frames dropped
        writer.close()
    except StorageError as exc:
        result = {"error": type(exc).__name__, "message": exc.message, "details": exc.details, "failed_at": start}
        writer.close()  # finalizes what the disk still takes; the failure was reported above
    result["stats"] = dataclasses.asdict(writer.stats())
    print(json.dumps(result), flush=True)
    copy_to.mkdir(parents=True, exist_ok=True)
    for path in directory.iterdir():
        shutil.copy2(path, copy_to / path.name)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["live", "fill"])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--rotate", type=float, required=True)
    parser.add_argument("--copy-to", type=Path)
    args = parser.parse_args()
    if args.mode == "live":
        live(args.directory, args.rotate)
    else:
        fill(args.directory, args.rotate, args.copy_to)


if __name__ == "__main__":
    main()
