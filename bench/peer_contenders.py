"""The live-transcription tools the side-by-side benchmark compares, in the order it runs
them: Meeting Buddy first, then the peers people would pick instead. Each is driven by a
module of its own (imported only in the process that runs it)."""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

from bench.peer_stream import Played

OURS = "meeting_buddy"


class Driver(Protocol):
    settings: dict[str, Any]

    def play(self, audio: Path, workdir: Path) -> Played: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Contender:
    name: str  # prefix of its figures
    label: str  # its column in the side-by-side table
    distribution: str  # the package that must be installed
    driver: str  # module:class, built with (model_dir, threads, **options)
    how: str  # how it is driven, for the results
    options: tuple[tuple[str, str], ...] = ()

    def version(self) -> str | None:
        try:
            return metadata.version(self.distribution)
        except metadata.PackageNotFoundError:
            return None

    def load(self, model_dir: Path, threads: int) -> Driver:
        """Imports the tool and loads the model (nothing of it is timed)."""
        module, _, cls = self.driver.partition(":")
        driver: Driver = getattr(importlib.import_module(module), cls)(model_dir, threads, **dict(self.options))
        return driver


CONTENDERS: tuple[Contender, ...] = (
    Contender(OURS, "Meeting Buddy", "meeting-buddy", "bench.peer_ours:Ours",
              "RecordingPipeline on FileAudioSource, as the pipeline bench runs it"),
    Contender("whisperlive", "WhisperLive", "whisper-live", "bench.peer_whisperlive:WhisperLive",
              "its TranscriptionServer (faster_whisper backend) on loopback, fed by a websocket client "
              "sending what its Client sends"),
    Contender("wlk_localagreement", "WhisperLiveKit LocalAgreement", "whisperlivekit",
              "bench.peer_whisperlivekit:WhisperLiveKit",
              "its TranscriptionEngine + AudioProcessor (the objects its server runs), faster-whisper "
              "backend, LocalAgreement policy, raw PCM in", (("policy", "localagreement"),)),
    Contender("wlk_simulstreaming", "WhisperLiveKit SimulStreaming", "whisperlivekit",
              "bench.peer_whisperlivekit:WhisperLiveKit",
              "its TranscriptionEngine + AudioProcessor, SimulStreaming policy with the faster-whisper "
              "encoder, raw PCM in", (("policy", "simulstreaming"),)),
)
BY_NAME = {c.name: c for c in CONTENDERS}
