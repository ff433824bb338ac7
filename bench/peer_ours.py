"""Meeting Buddy in the side-by-side benchmark: the recording pipeline exactly as the pipeline
bench runs it (FileAudioSource into RecordingPipeline, Opus segments written, tiny.en)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.live_pipeline import live_text
from bench.peer_stream import Played
from bench.recording import MODEL, run_pipeline
from recorder.transcriber import LIVE_CPU_THREADS, load_live_model
from recorder.whisper_models import resolve_model


class Ours:
    def __init__(self, model_dir: Path, threads: int) -> None:
        resolved = resolve_model(MODEL)
        if resolved.path != model_dir:
            raise RuntimeError(f"{MODEL} resolves to {resolved.path}, not the benchmark's {model_dir}")
        load_live_model(resolved)  # as a warm app has it
        self.settings: dict[str, Any] = {
            "model": str(model_dir), "compute_type": "int8",
            # the pipeline chooses its own: short passes run faster on one thread each
            "cpu_threads_per_pass": LIVE_CPU_THREADS, "vad": "Silero (streaming)",
            "also_does": "writes the Opus recording, as in a real session"}

    def play(self, audio: Path, workdir: Path) -> Played:
        run = run_pipeline(audio, workdir / "recording", transcribe=True, screen=False)
        return Played(run.clock, run.fed, run.results, live_text(run),
                      {"whisper_passes": run.transcription,
                       "warnings": [m for level, m in run.logs if level != "info"]})

    def close(self) -> None:
        pass
