"""Runs the real recording pipeline (recorder.pipeline) on a speech file played in real time,
noting when each audio chunk reached it and when each transcript result came out."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from recorder.audio.base import AudioChunk
from recorder.audio.file import FileAudioSource
from recorder.clock import SessionClock
from recorder.pipeline import PipelineCallbacks, PipelineConfig, RecordingPipeline
from recorder.transcriber import TranscriptResult

MODEL = "tiny.en"


@dataclass(frozen=True)
class FedChunk:
    start: float  # session seconds of its first sample
    end: float
    at: float  # time.monotonic() when the pipeline took it


class LoggedFileSource(FileAudioSource):
    """A FileAudioSource that notes when the pipeline reads each chunk: the moment that
    audio was fed to the recorder."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.fed: list[FedChunk] = []

    def read(self, timeout: float | None = None) -> AudioChunk | None:
        chunk = super().read(timeout)
        if chunk is not None:
            self.fed.append(FedChunk(chunk.start_time, chunk.end_time, time.monotonic()))
        return chunk


@dataclass
class PipelineRun:
    clock: SessionClock
    fed: list[FedChunk]
    results: list[tuple[TranscriptResult, float]]  # each with time.monotonic() of arrival
    cpu_seconds: float  # process CPU time from start to the end of finish()
    wall_seconds: float
    finish_seconds: float  # how long finish() took: transcription still pending at the end
    logs: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None
    transcription: dict[str, float] | None = None  # whisper passes and their time


class PipelineRunError(RuntimeError):
    """The pipeline ended with a failure (storage, capture)."""


def run_pipeline(audio: Path, folder: Path, *, transcribe: bool, screen: bool,
                 stop_after: float | None = None, tick: Callable[[], None] | None = None,
                 tick_seconds: float = 1.0) -> PipelineRun:
    """Plays `audio` through the pipeline until it ends (or `stop_after` seconds), calling
    `tick` every `tick_seconds` meanwhile, then finishes the pipeline."""
    clock = SessionClock()
    source = LoggedFileSource(audio)
    results: list[tuple[TranscriptResult, float]] = []
    logs: list[tuple[str, str]] = []
    lock = threading.Lock()

    def on_result(result: TranscriptResult) -> None:
        arrived = time.monotonic()
        with lock:
            results.append((result, arrived))

    def on_log(level: str, message: str) -> None:
        with lock:
            logs.append((level, message))

    pipeline = RecordingPipeline(
        folder, source,
        PipelineConfig(model=MODEL, transcription_enabled=transcribe, screen_capture=screen),
        PipelineCallbacks(log=on_log, transcript=on_result, recording=lambda stats: None),
        clock=clock)
    cpu0, wall0 = time.process_time(), time.monotonic()
    pipeline.start()
    next_tick = wall0 + tick_seconds
    while not source.finished and (stop_after is None or time.monotonic() - wall0 < stop_after):
        if pipeline.failure:
            break
        time.sleep(max(0.0, min(0.05, next_tick - time.monotonic())))
        if time.monotonic() >= next_tick:
            next_tick += tick_seconds
            if tick is not None:
                tick()
    finish0 = time.monotonic()
    outcome = pipeline.finish()
    end = time.monotonic()
    if outcome.failure is not None:
        raise PipelineRunError(f"{type(outcome.failure).__name__}: {outcome.failure.message}")
    return PipelineRun(clock, list(source.fed), results, time.process_time() - cpu0, end - wall0,
                       end - finish0, logs, transcription=pipeline.transcription_stats)
