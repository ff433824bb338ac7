"""An audio source watched on its way to the recorder: each chunk the pipeline reads is
shown to an observer first (a session runner keeps facts about the recording from it: where
its audio begins, which channel of a mix is speaking)."""
from __future__ import annotations

from collections.abc import Callable

from recorder.audio.base import AudioChunk, AudioSource
from recorder.clock import SessionClock
from recorder.drops import LogFn
from recorder.errors import AudioCaptureError


class TappedAudioSource(AudioSource):
    """Reads `inner` unchanged and calls `on_chunk` with every chunk it hands out, on the
    reader's thread. A failing observer is logged and never stops the recording."""

    def __init__(self, inner: AudioSource, on_chunk: Callable[[AudioChunk], None]) -> None:
        self.inner = inner
        self._on_chunk = on_chunk
        self._observer_failed = False
        super().__init__(queue_size=1, on_log=inner.on_log)

    # The log, the error and the counts are the inner source's own.
    @property
    def on_log(self) -> LogFn | None:
        return self.inner.on_log

    @on_log.setter
    def on_log(self, value: LogFn | None) -> None:
        self.inner.on_log = value

    @property
    def error(self) -> AudioCaptureError | None:
        return self.inner.error

    @error.setter
    def error(self, value: AudioCaptureError | None) -> None:
        if value is not None:
            self.inner.error = value

    def describe(self) -> str:
        return self.inner.describe()

    def start(self, clock: SessionClock) -> None:
        self.inner.start(clock)

    def stop(self) -> None:
        self.inner.stop()

    def read(self, timeout: float | None = None) -> AudioChunk | None:
        chunk = self.inner.read(timeout)
        if chunk is not None:
            try:
                self._on_chunk(chunk)
            except Exception as exc:  # facts about the recording are worth less than the recording
                if not self._observer_failed:
                    self._observer_failed = True
                    self._log("warning", f"Facts about the recording could not be kept: {type(exc).__name__}: {exc}")
        return chunk

    @property
    def finished(self) -> bool:
        return self.inner.finished

    @property
    def dropped_chunks(self) -> int:
        return self.inner.dropped_chunks
