"""Several sources recorded together, e.g. {"you": microphone, "others": system loopback}."""
from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping

from recorder.audio.base import AudioCaptureError, AudioSource
from recorder.clock import SessionClock
from recorder.drops import LogFn


class MixAudioSource(AudioSource):
    """Interleaves the chunks of its sources, each labelled with its source's key.

    Chunks are not summed here: every chunk keeps its own `channel`, so the transcriber
    knows "you" from "others", and the segment writer lines them up in time. A source
    that fails ends the whole mix with its AudioCaptureError (the other sources are
    stopped), because a recording missing one side would mislead. The sources' log lines
    come out of the mix's `on_log`, prefixed with their label.
    """

    def __init__(
        self, sources: Mapping[str, AudioSource], *, queue_size: int = 200, on_log: LogFn | None = None
    ) -> None:
        if not sources:
            raise ValueError("a mix needs at least one source")
        self.sources = dict(sources)
        super().__init__(queue_size=queue_size, on_log=on_log)
        self._threads: list[threading.Thread] = []
        self._remaining = len(self.sources)
        self._lock = threading.Lock()

    def describe(self) -> str:
        return "the audio mix"

    @property
    def dropped_chunks(self) -> int:
        return self._drops.count + sum(s.dropped_chunks for s in self.sources.values())

    def start(self, clock: SessionClock) -> None:
        started: list[AudioSource] = []
        try:
            for label, source in self.sources.items():
                source.on_log = self._labelled_log(label)
                source.start(clock)
                started.append(source)
        except AudioCaptureError:
            for source in started:
                source.stop()
            raise
        for label, source in self.sources.items():
            thread = threading.Thread(
                target=self._forward, args=(label, source), name=f"audio-mix-{label}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        for source in self.sources.values():
            source.stop()
        for thread in self._threads:
            thread.join(timeout=5)

    def _labelled_log(self, label: str) -> LogFn:
        return lambda level, message: self._log(level, f"[{label}] {message}")

    def _forward(self, label: str, source: AudioSource) -> None:
        error: AudioCaptureError | None = None
        try:
            while True:
                chunk = source.read(timeout=0.5)
                if chunk is not None:
                    self._offer(dataclasses.replace(chunk, channel=label))
                elif source.finished:
                    break
        except AudioCaptureError as exc:
            error = exc
            for other in self.sources.values():
                if other is not source:
                    other.stop()
        with self._lock:
            self._remaining -= 1
            last = self._remaining == 0
            if error is not None and self.error is None:
                self.error = error
        if last:
            self._finish()
