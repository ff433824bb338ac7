"""Export time of a three-hour meeting (about 5000 segments) in all six formats, as the API
and the window build them (app.export.export_transcript)."""
from __future__ import annotations

import statistics
import time

from app.export import FORMATS, export_transcript
from bench.figures import BenchResult, Figure, Mode
from bench.long_meeting import long_meeting


def measure(mode: Mode) -> BenchResult:
    runs = mode.pick(full=5, quick=2, smoke=1)
    segments = mode.pick(full=5000, quick=5000, smoke=300)
    session, transcript = long_meeting(segments=segments)
    export_transcript(session, transcript[:10], "docx")  # imports python-docx once, untimed
    totals: list[float] = []
    per_format: dict[str, list[float]] = {fmt: [] for fmt in FORMATS}
    sizes: dict[str, int] = {}
    for _ in range(runs):
        total = 0.0
        for fmt in FORMATS:
            began = time.perf_counter()
            data = export_transcript(session, transcript, fmt)
            took = time.perf_counter() - began
            per_format[fmt].append(took)
            sizes[fmt] = len(data)
            total += took
        totals.append(total)
    return BenchResult([Figure(
        "export_3h_s", "s", totals, (),
        f"txt+srt+vtt+json+md+docx of {segments} segments over 3 h, per run, {runs} run(s)")],
        {"segments": segments,
         "median_seconds_per_format": {f: round(statistics.median(t), 4) for f, t in per_format.items()},
         "bytes_per_format": sizes})
