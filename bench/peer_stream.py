"""What every tool in the side-by-side benchmark is given and what it gives back: the speech
file played in real time exactly as the pipeline bench plays it (`LoggedFileSource`, 0.1 s
chunks, each noted when it was taken), and the results each tool produced with the moment
they arrived, on the same session clock. The JSON form carries a run from the process that
ran the tool to the one that scores it."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from bench.recording import FedChunk, LoggedFileSource, PipelineRun
from recorder.clock import SessionClock
from recorder.transcriber import TranscriptResult


class RealTimeFile:
    """The speech file as live audio: `next_chunk()` waits for the next 0.1 s of 16 kHz
    float32 samples, as a microphone would deliver them, and returns None once it has ended."""

    def __init__(self, audio: Path) -> None:
        self.clock = SessionClock()
        self.source = LoggedFileSource(audio)

    def __enter__(self) -> RealTimeFile:
        self.source.start(self.clock)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.source.stop()

    def next_chunk(self) -> np.ndarray | None:
        while not self.source.finished:
            chunk = self.source.read(timeout=0.5)
            if chunk is not None:
                return chunk.samples
        return None

    @property
    def origin(self) -> float:
        """Session time of the first sample: a tool's stream time 0."""
        return self.source.fed[0].start if self.source.fed else 0.0


@dataclass
class Played:
    """One tool's run over the file: the chunks fed, its results (each with the
    time.monotonic() it arrived), and the transcript it ended with."""

    clock: SessionClock
    fed: list[FedChunk]
    results: list[tuple[TranscriptResult, float]]
    final_text: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"clock_started_at": self.clock.started_at,
                "fed": [[c.start, c.end, c.at] for c in self.fed],
                "results": [[r.text, r.start_time, r.end_time, r.is_partial, arrived]
                            for r, arrived in self.results],
                "final_text": self.final_text, "details": self.details}


def result(text: str, start: float, end: float, partial: bool) -> TranscriptResult:
    """A tool's line of text as a transcript result on the session clock."""
    return TranscriptResult(text.strip(), start, end, partial, None, "en", None)


def as_pipeline_run(played: dict[str, Any], cpu_seconds: float, wall_seconds: float) -> PipelineRun:
    """The JSON form of a Played as the PipelineRun the pipeline bench scores."""
    return PipelineRun(SessionClock(played["clock_started_at"]),
                       [FedChunk(*row) for row in played["fed"]],
                       [(result(text, start, end, partial), arrived)
                        for text, start, end, partial, arrived in played["results"]],
                       cpu_seconds, wall_seconds, 0.0)
