"""CPU of recording without transcription: a speech file played into the pipeline (Opus
audio segments) plus screen capture of the whole display, scaled to 720p at 5 fps and encoded
to H.264 segments, while another process keeps the screen moving.

Sampled as process CPU per one-second window after a short warm-up, in % of one core."""
from __future__ import annotations

import itertools
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.figures import BenchResult, Figure, Mode, at_most
from bench.recording import run_pipeline
from bench.speech_script import build_speech_file
from recorder.segments import probe_segments

WARM_UP_S = 2.0


def start_painter() -> subprocess.Popen:
    painter = subprocess.Popen([sys.executable, "-m", "bench.screen_painter"], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    if painter.stdout.readline().strip() != "painting":
        painter.kill()
        raise RuntimeError("the screen painter did not start (is DISPLAY set?)")
    return painter


def measure(mode: Mode) -> BenchResult:
    seconds = mode.pick(full=30.0, quick=10.0, smoke=3.0)
    readings: list[tuple[float, float]] = []  # (monotonic, process CPU seconds)
    painter = start_painter()
    try:
        with tempfile.TemporaryDirectory(prefix="mb-bench-capture-") as tmp:
            speech = build_speech_file(Path(tmp) / "speech.wav", seconds + WARM_UP_S + 3)
            time.sleep(1.0)  # the painter's window is up and drawing
            run = run_pipeline(speech.path, Path(tmp) / "recording", transcribe=False, screen=True,
                               stop_after=seconds + WARM_UP_S,
                               tick=lambda: readings.append((time.monotonic(), time.process_time())))
            files = probe_segments(Path(tmp) / "recording")
    finally:
        painter.terminate()
        painter.wait(10)
    start = readings[0][0] + WARM_UP_S - 1.0
    kept = [r for r in readings if r[0] >= start]
    percent = [100.0 * (c1 - c0) / (t1 - t0) for (t0, c0), (t1, c1) in itertools.pairwise(kept)]
    video = [f for f in files if f.kind == "video"]
    details = {
        "video_seconds": round(sum(f.duration_seconds for f in video), 2),
        "audio_seconds": round(sum(f.duration_seconds for f in files if f.kind == "audio"), 2),
        "recording_wall_seconds": round(run.wall_seconds, 2),
        "warnings": [m for level, m in run.logs if level != "info"],
    }
    return BenchResult([Figure(
        "capture_cpu_pct", "% of a core", percent, at_most(median=15.0),
        f"audio file + Opus, screen 720p@5fps + H.264, no transcription; per 1 s window over "
        f"{len(percent)} s")], details)
