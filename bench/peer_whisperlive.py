"""WhisperLive (collabora, `whisper-live`) in the side-by-side benchmark: its TranscriptionServer
with the faster_whisper backend on loopback, and a websocket client that speaks its protocol
as its own Client does (options, then float32 frames, then END_OF_AUDIO), with the options its
Client sends by default. Its Client class itself needs PyAudio and a sound card."""
from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from websockets.exceptions import ConnectionClosed

from bench.peer_stream import Played, RealTimeFile, result
from recorder.audio.base import SAMPLE_RATE
from recorder.transcriber import TranscriptResult

# What whisper_live.client.Client sends unless told otherwise.
CLIENT_OPTIONS = {"language": "en", "task": "transcribe", "use_vad": True, "send_last_n_segments": 10,
                  "no_speech_thresh": 0.45, "clip_audio": False, "same_output_threshold": 10,
                  "enable_translation": False, "word_timestamps": False}
READY_TIMEOUT = 180.0  # seconds for the server to start and load the model
CLOSE_TIMEOUT = 30.0  # seconds after END_OF_AUDIO for the server to close the connection


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Segments:
    """WhisperLive's replies as results: each reply holds the last completed segments again
    and the segment still being transcribed, so a completed one counts once, when it first
    came, and the open one each time it changed."""

    def __init__(self, stream: RealTimeFile) -> None:
        self.stream = stream
        self.results: list[tuple[TranscriptResult, float]] = []
        self.completed: dict[tuple[str, str], dict[str, Any]] = {}
        self.notices: list[dict[str, Any]] = []
        self.last_partial: tuple[str, str, str] | None = None

    def take(self, reply: dict[str, Any], arrived: float) -> None:
        if "segments" not in reply:
            self.notices.append(reply)
            return
        origin = self.stream.origin  # its times count from the first sample it was sent
        for seg in reply["segments"]:
            start, end = origin + float(seg["start"]), origin + float(seg["end"])
            if seg.get("completed"):
                if (seg["start"], seg["text"]) not in self.completed:
                    self.completed[(seg["start"], seg["text"])] = seg
                    self.results.append((result(seg["text"], start, end, False), arrived))
            elif (seg["start"], seg["end"], seg["text"]) != self.last_partial:
                self.last_partial = (seg["start"], seg["end"], seg["text"])
                self.results.append((result(seg["text"], start, end, True), arrived))

    def final_text(self) -> str:
        final = sorted(self.completed.values(), key=lambda seg: float(seg["start"]))
        return " ".join(seg["text"].strip() for seg in final)


class _Passes:
    """Its whisper passes, counted around its transcribe_audio (one per pass over the
    buffer), for the profile: how many, how long, how much audio each was given."""

    def __init__(self) -> None:
        self.passes, self.seconds, self.audio_seconds = 0, 0.0, 0.0

    def count(self, cls: Any) -> None:
        transcribe = cls.transcribe_audio

        def counted(client: Any, sample: np.ndarray) -> Any:
            started = time.monotonic()
            try:
                return transcribe(client, sample)
            finally:
                self.passes += 1
                self.seconds += time.monotonic() - started
                self.audio_seconds += len(sample) / SAMPLE_RATE

        cls.transcribe_audio = counted

    def to_dict(self) -> dict[str, float]:
        return {"passes": self.passes, "whisper_seconds": round(self.seconds, 3),
                "audio_seconds_given": round(self.audio_seconds, 3),
                "seconds_per_pass": round(self.seconds / max(1, self.passes), 3)}


class WhisperLive:
    def __init__(self, model_dir: Path, threads: int) -> None:
        from websockets.sync.client import connect
        from whisper_live.backend.faster_whisper_backend import ServeClientFasterWhisper
        from whisper_live.server import TranscriptionServer

        self.passes = _Passes()
        self.passes.count(ServeClientFasterWhisper)

        port = _free_port()
        server = TranscriptionServer()
        # single_model: the model is loaded once, when the first client connects
        threading.Thread(target=server.run, name="whisperlive-server", daemon=True,
                         kwargs={"host": "127.0.0.1", "port": port, "backend": "faster_whisper",
                                 "faster_whisper_custom_model_path": str(model_dir),
                                 "single_model": True, "max_connection_time": 3600}).start()
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            try:
                self.ws = connect(f"ws://127.0.0.1:{port}", max_size=None)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self.ws.send(json.dumps({"uid": str(uuid.uuid4()), "model": str(model_dir), **CLIENT_OPTIONS}))
        ready = json.loads(self.ws.recv(timeout=READY_TIMEOUT))
        if ready.get("message") != "SERVER_READY":
            raise RuntimeError(f"WhisperLive did not get ready: {ready}")
        self.settings: dict[str, Any] = {
            "server": "whisper_live.server.TranscriptionServer on 127.0.0.1, faster_whisper backend",
            "model": str(model_dir), "compute_type": "int8 (its choice on a CPU)",
            "cpu_threads": f"{threads} (OMP_NUM_THREADS; it passes CTranslate2's default)",
            "client_options": CLIENT_OPTIONS}

    def play(self, audio: Path, workdir: Path) -> Played:
        with RealTimeFile(audio) as stream:
            segments = _Segments(stream)

            def receive() -> None:
                try:
                    for message in self.ws:  # ends when the server closes the connection
                        segments.take(json.loads(message), time.monotonic())
                except ConnectionClosed:
                    pass

            reader = threading.Thread(target=receive, name="whisperlive-client")
            reader.start()
            while (samples := stream.next_chunk()) is not None:
                self.ws.send(samples.astype(np.float32).tobytes())
            self.ws.send(b"END_OF_AUDIO")
            reader.join(CLOSE_TIMEOUT)
        return Played(stream.clock, list(stream.source.fed), list(segments.results), segments.final_text(),
                      {"whisper_passes": self.passes.to_dict(), "server_notices": segments.notices[:20]})

    def close(self) -> None:
        self.ws.close()
