"""Memory of a long recording: the whole pipeline (speech file in real time, Opus audio,
tiny.en transcription, 720p/5 fps screen capture and H.264 video of a moving screen), with
the process's resident memory read every second. After a warm-up, the slope of a straight
line fitted to those readings, in MB per hour, says whether memory stays flat."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from bench.capture import start_painter
from bench.figures import BenchResult, Figure, Mode, at_most
from bench.recording import MODEL, run_pipeline
from bench.speech_script import build_speech_file
from recorder.transcriber import load_live_model
from recorder.whisper_models import resolve_model

_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE / 1e6


def rss_slope_mb_per_hour(readings: list[tuple[float, float]]) -> tuple[float, float]:
    """(slope in MB/hour, r²) of a least-squares line through (seconds, MB) readings."""
    t = np.array([r[0] for r in readings])
    mb = np.array([r[1] for r in readings])
    slope, intercept = np.polyfit(t, mb, 1)
    residual = mb - (slope * t + intercept)
    spread = ((mb - mb.mean()) ** 2).sum()
    r2 = 1.0 - (residual ** 2).sum() / spread if spread else 1.0
    return float(slope * 3600.0), float(r2)


def measure(mode: Mode) -> BenchResult:
    seconds = mode.pick(full=660.0, quick=38.0, smoke=8.0)
    warm_up = mode.pick(full=60.0, quick=12.0, smoke=2.0)
    load_live_model(resolve_model(MODEL))
    readings: list[tuple[float, float]] = []
    elapsed = [0.0]

    def read() -> None:
        elapsed[0] += 1.0
        readings.append((elapsed[0], rss_mb()))

    painter = start_painter()
    try:
        with tempfile.TemporaryDirectory(prefix="mb-bench-memory-") as tmp:
            speech = build_speech_file(Path(tmp) / "speech.wav", seconds)
            run = run_pipeline(speech.path, Path(tmp) / "recording", transcribe=True, screen=True,
                               tick=read)
    finally:
        painter.terminate()
        painter.wait(10)
    kept = [r for r in readings if r[0] > warm_up]
    slope, r2 = rss_slope_mb_per_hour(kept)
    minutes = (kept[-1][0] - kept[0][0]) / 60.0
    details = {
        "recorded_seconds": round(speech.duration, 1),
        "fitted_minutes": round(minutes, 2),
        "r_squared": round(r2, 3),
        "rss_mb_first_last": [round(kept[0][1], 1), round(kept[-1][1], 1)],
        "rss_mb_every_10_s": [round(mb, 1) for t, mb in readings[::10]],
        "finals": sum(not r.is_partial for r, _ in run.results),
        "warnings": [m for level, m in run.logs if level != "info"],
    }
    # Half a minute of readings cannot tell a leak from the allocator's ups and downs: only
    # the full run is held to the target.
    return BenchResult([Figure(
        "session_rss_growth_mb_per_hour", "MB/h", [slope], at_most(median=20.0) if mode.full else (),
        f"whole pipeline with transcription and screen; slope of RSS over {minutes:.1f} min after "
        f"{warm_up:.0f} s warm-up, 1 run" + ("" if mode.full else "; indicative only, judged in the full run"))],
        details)
