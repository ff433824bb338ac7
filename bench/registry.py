"""The benchmarks `bench.run` knows, in the order it runs them."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Benchmark:
    name: str
    module: str  # has measure(mode: Mode) -> BenchResult
    summary: str
    needs_display: bool = False  # Xvfb (screen capture, widgets, the bot's browser)
    full_only: bool = False  # too long for --quick
    timeout_s: tuple[float, float] = (1800.0, 240.0)  # full, quick/smoke


BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark("pipeline", "bench.live_pipeline",
              "lag, compute and WER of live transcription (speech file -> pipeline, tiny.en)"),
    Benchmark("peers", "bench.peers",
              "side by side with WhisperLive and WhisperLiveKit: same audio, model, cores (one at a time)",
              timeout_s=(2400.0, 480.0)),
    Benchmark("refine", "bench.refine",
              "the after-meeting pass per installed model: speed and WER against plain transcription",
              timeout_s=(1200.0, 300.0)),
    Benchmark("diarization", "bench.diarization",
              "voices told apart: four espeak-ng voices in one channel, grouped by speaker embedding"),
    Benchmark("notes", "bench.notes",
              "meeting notes of a 1-hour transcript by the shipped small model on this machine's cores "
              "(quick: 10 minutes)", timeout_s=(1800.0, 400.0)),
    Benchmark("session", "bench.bot_sessions",
              "lag of a real bot session against the meeting simulator",
              needs_display=True, full_only=True, timeout_s=(900.0, 300.0)),
    Benchmark("concurrent", "bench.concurrency",
              "how many simultaneous bot sessions keep transcript lag bounded",
              needs_display=True, full_only=True, timeout_s=(1800.0, 400.0)),
    Benchmark("capture", "bench.capture", "CPU of audio + 720p/5 fps screen recording",
              needs_display=True),
    Benchmark("memory", "bench.memory", "RSS growth of a long recording with transcription",
              needs_display=True, timeout_s=(1800.0, 180.0)),
    Benchmark("api", "bench.api_start", "POST /sessions latency under 20 concurrent clients"),
    Benchmark("export", "bench.export_time", "all six export formats of a 3-hour transcript"),
    Benchmark("search", "bench.search",
              "full-text search latency over 1,000 meetings / 500,000 transcript lines (quick: 200 meetings)",
              timeout_s=(900.0, 240.0)),
    Benchmark("gui", "bench.gui_stall", "longest GUI event-loop stall: live session, export, a hostile meeting page",
              needs_display=True),
    Benchmark("app_start", "bench.app_start", "process start to the main window shown",
              needs_display=True),
)

BY_NAME = {b.name: b for b in BENCHMARKS}
