"""An audio file played as if it were live: for demos, imports and tests."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import av
import numpy as np

from recorder.audio.base import SAMPLE_RATE, AudioCaptureError, AudioChunk, AudioSource
from recorder.audio.resample import MonoResampler
from recorder.clock import SessionClock
from recorder.drops import LogFn


class FileAudioSource(AudioSource):
    """Decodes any file PyAV reads and delivers it at `speed` times real time.

    Chunk start times are the session time at `start()` plus the position in the file,
    so they are contiguous whatever the speed; at speed 1 they match the session clock.
    The source is finished after the last chunk.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        speed: float = 1.0,
        chunk_seconds: float = 0.1,
        queue_size: int = 100,
        on_log: LogFn | None = None,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.path = Path(path)
        super().__init__(queue_size=queue_size, on_log=on_log)
        self.speed = speed
        self.chunk_samples = max(1, int(chunk_seconds * SAMPLE_RATE))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def describe(self) -> str:
        return f"audio file {self.path.name!r}"

    def start(self, clock: SessionClock) -> None:
        try:
            container = av.open(str(self.path))
            stream = container.streams.audio[0]
        except (OSError, av.FFmpegError) as exc:
            raise AudioCaptureError(
                f"Cannot read {self.describe()}: {_reason(exc)}", details={"file": self.path.name}
            ) from exc
        except IndexError:
            container.close()
            raise AudioCaptureError(f"The {self.describe()} has no audio", details={"file": self.path.name}) from None
        self._thread = threading.Thread(
            target=self._play, args=(container, stream, clock), name="audio-file", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._finish()

    def _play(self, container: av.container.InputContainer, stream: av.AudioStream, clock: SessionClock) -> None:
        origin_session, origin_wall = clock.now(), time.monotonic()
        resampler = MonoResampler()
        pending = np.zeros(0, dtype=np.float32)
        position = 0  # samples delivered so far
        error: AudioCaptureError | None = None
        try:
            for frame in container.decode(stream):
                pending = np.concatenate([pending, resampler.push_frame(frame)])
                while len(pending) >= self.chunk_samples and not self._stop.is_set():
                    position = self._deliver(pending[: self.chunk_samples], position, origin_session, origin_wall)
                    pending = pending[self.chunk_samples :]
                if self._stop.is_set():
                    return
            pending = np.concatenate([pending, resampler.flush()])
            if len(pending):
                self._deliver(pending, position, origin_session, origin_wall)
        except av.FFmpegError as exc:
            error = AudioCaptureError(
                f"Decoding {self.describe()} failed: {_reason(exc)}", details={"file": self.path.name}
            )
        finally:
            container.close()
            self._finish(error)

    def _deliver(self, samples: np.ndarray, position: int, origin_session: float, origin_wall: float) -> int:
        """Waits until the chunk has 'played' (its end, at `speed`), then queues it."""
        end = position + len(samples)
        delay = origin_wall + end / SAMPLE_RATE / self.speed - time.monotonic()
        if delay > 0 and self._stop.wait(delay):
            return end
        self._offer(AudioChunk(samples.copy(), origin_session + position / SAMPLE_RATE))
        return end


def _reason(exc: Exception) -> str:
    """The error without the file's path (messages reach users and API clients)."""
    return getattr(exc, "strerror", None) or type(exc).__name__
