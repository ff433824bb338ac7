"""WhisperLiveKit (`whisperlivekit`) in the side-by-side benchmark, through the Python API its
own server runs on: one TranscriptionEngine (the model, loaded once) and an AudioProcessor per
stream, fed raw 16-bit PCM (`pcm_input`, the server's option for it) with its voice activity
controller on, as its server is by default; its responses (committed lines and the buffer
still being decided) are read as they come.

Two streaming policies: LocalAgreement on faster-whisper, given the model store's folder, and
SimulStreaming, given that folder for its encoder (its decoder runs on PyTorch weights)."""
from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from bench.peer_stream import Played, RealTimeFile, result
from recorder.transcriber import TranscriptResult

DRAIN_TIMEOUT = 120.0  # seconds after the audio for it to finish what it holds
SETTINGS = ("backend", "backend_policy", "model_size", "lan", "vac", "vac_chunk_size", "min_chunk_size")
POLICY_SETTINGS = {"localagreement": ("model_dir", "buffer_trimming", "buffer_trimming_sec"),
                   "simulstreaming": ("encoder_model_path", "frame_threshold", "beams", "audio_max_len")}


class _Lines:
    """Its responses as results. Each holds every committed line so far (lines grow as words
    are committed): a final is each growth of the committed text, from where the committed
    text ended before to where it ends now. The undecided buffer is a partial."""

    def __init__(self, stream: RealTimeFile) -> None:
        self.stream = stream
        self.results: list[tuple[TranscriptResult, float]] = []
        self.committed = ""
        self.committed_end: float | None = None
        self.buffer = ""

    def take(self, lines: list[Any], buffer: Any, arrived: float) -> None:
        origin = self.stream.origin  # its times count from the first sample it was sent
        spoken = [line for line in lines if not line.is_silence() and (line.text or "").strip()]
        committed = " ".join(line.text.strip() for line in spoken)
        if committed != self.committed and spoken:
            added = committed[len(self.committed):] if committed.startswith(self.committed) else committed
            start = self.committed_end if self.committed_end is not None else float(spoken[0].start)
            end = max(float(line.end) for line in spoken)
            self.results.append((result(added, origin + start, origin + end, False), arrived))
            self.committed, self.committed_end = committed, end
        text = (buffer.text or "").strip()
        if text and text != self.buffer and buffer.start is not None and buffer.end is not None:
            self.results.append((result(text, origin + float(buffer.start), origin + float(buffer.end), True),
                                 arrived))
        self.buffer = text


class WhisperLiveKit:
    def __init__(self, model_dir: Path, threads: int, policy: str) -> None:
        from whisperlivekit import TranscriptionEngine

        options: dict[str, Any] = {"model_size": "tiny.en", "lan": "en", "backend": "faster-whisper",
                                   "backend_policy": policy, "pcm_input": True, "diarization": False,
                                   # no warm-up pass: none of the tools compared gets one
                                   "warmup_file": ""}
        options["model_dir" if policy == "localagreement" else "encoder_model_path"] = str(model_dir)
        self.engine = TranscriptionEngine(**options)
        config = asdict(self.engine.config)
        self.settings: dict[str, Any] = {key: config.get(key) for key in SETTINGS + POLICY_SETTINGS[policy]}
        self.settings["cpu_threads"] = f"{threads} (OMP_NUM_THREADS; it passes CTranslate2's default)"
        if policy == "localagreement":
            self.settings["decoding"] = "beam 5, word timestamps, previous text as context (its FasterWhisperASR)"

    def play(self, audio: Path, workdir: Path) -> Played:
        return asyncio.run(self._play(audio))

    async def _play(self, audio: Path) -> Played:
        from whisperlivekit import AudioProcessor

        processor = AudioProcessor(transcription_engine=self.engine)
        responses = await processor.create_tasks()
        with RealTimeFile(audio) as stream:
            lines = _Lines(stream)
            reader = asyncio.create_task(self._read(responses, processor, lines))
            while (samples := await asyncio.to_thread(stream.next_chunk)) is not None:
                pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()
                await processor.process_audio(pcm)
            await processor.process_audio(b"")  # the end of the stream: it commits what it holds
            unfinished = None
            try:
                await asyncio.wait_for(reader, DRAIN_TIMEOUT)
            except asyncio.TimeoutError:  # behind by more than that: score what came, say so
                unfinished = f"still transcribing {DRAIN_TIMEOUT:.0f} s after the audio ended; scored what came"
        await processor.cleanup()
        # its own profile: transcription calls, their latency, the audio it was given
        return Played(stream.clock, list(stream.source.fed), lines.results, lines.committed,
                      {"metrics": processor.metrics.to_dict(), "unfinished": unfinished})

    @staticmethod
    async def _read(responses: AsyncIterator[Any], processor: Any, lines: _Lines) -> None:
        async for front in responses:
            arrived = time.monotonic()
            state = await processor.get_current_state()  # the buffer's times, which the response leaves out
            lines.take(front.lines, state.buffer_transcription, arrived)

    def close(self) -> None:
        pass
