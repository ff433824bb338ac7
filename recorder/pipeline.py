"""The recording pipeline of one session: audio source -> segment files + live transcriber,
screen capture -> video segments. Data flows one way; results go out through callbacks (the
session runners in `app/` turn them into changes of the session).

Threads: one reader drains the audio source (the capture side only enqueues), the screen
capture and the video encoder have their own, and the transcriber runs its VAD in a thread
and its whisper passes on the process's shared pass scheduler. A storage or capture failure
ends recording (reported once, as a MediaError); a transcriber failure leaves the recording
running ("degraded") and is logged.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recorder.audio.base import AudioSource
from recorder.clock import SessionClock
from recorder.drops import LogFn
from recorder.errors import AudioCaptureError, MediaError, StorageError
from recorder.speakers import SpeakerTimeline

if TYPE_CHECKING:
    from recorder.screen import ScreenCapture
    from recorder.segments import SegmentWriter
    from recorder.transcriber import StreamingTranscriber


@dataclass
class PipelineConfig:
    segment_seconds: float = 300.0
    transcription_enabled: bool = True
    language: str = "en"
    model: str = "tiny.en"
    device: str = "cpu"
    compute_type: str = "int8"
    screen_capture: bool = True
    screen_fps: float = 5.0
    screen_max_size: tuple[int, int] = (1280, 720)
    stats_interval: float = 1.0
    vocabulary: tuple[str, ...] = ()  # names and terms whisper should spell right


@dataclass
class PipelineCallbacks:
    """How the pipeline reports; each may be called from a worker thread."""

    log: LogFn
    transcript: Callable[[Any], None]          # a recorder.transcriber.TranscriptResult
    recording: Callable[[dict[str, Any]], None]  # RecordingStats as Session fields
    first_audio: Callable[[], object] = lambda: None
    speech: Callable[[], None] = lambda: None   # someone is talking (for the silence timer)
    failed: Callable[[MediaError], object] = lambda error: None  # recording cannot go on
    # seconds the live transcript is behind while that is more than usual (0: caught up)
    behind: Callable[[float], None] = lambda seconds: None
    # every session-time range (start, end) the live transcript left out, so far
    skipped: Callable[[list[tuple[float, float]]], None] = lambda ranges: None


@dataclass
class PipelineResult:
    failure: MediaError | None = None
    stats: dict[str, Any] = field(default_factory=dict)


def load_ahead(config: PipelineConfig) -> bool:
    """Loads what start() would load, the live model and the speech detector, for a session
    that will record soon (a bot on its way into a meeting): recording then starts at once,
    and the loading, which holds the interpreter lock in long stretches (the tokenizer parse
    alone ~60 ms), falls before the meeting instead of into its first seconds. True when a
    model was loaded now. Best effort: whatever fails here, start() meets again and reports."""
    if not config.transcription_enabled:
        return False
    from faster_whisper.vad import get_vad_model

    from recorder.transcriber import live_model_loaded, load_live_model
    from recorder.whisper_models import resolve_model

    try:
        resolved = resolve_model(config.model, config.language)
        if live_model_loaded(resolved, config.device, config.compute_type):
            return False
        load_live_model(resolved, config.device, config.compute_type)
        get_vad_model()
    except Exception:  # start() meets it again and reports it in the session's log
        return False
    return True


class RecordingPipeline:
    def __init__(self, directory: Path, source: AudioSource, config: PipelineConfig,
                 callbacks: PipelineCallbacks, *, clock: SessionClock | None = None,
                 speakers: SpeakerTimeline | None = None,
                 screen_region: Callable[[], tuple[int, int, int, int] | None] | None = None,
                 screen_monitor: int | None = None) -> None:
        self.directory = Path(directory)
        self.source = source
        self.config = config
        self.cb = callbacks
        self.clock = clock or SessionClock()
        self.speakers = speakers or SpeakerTimeline()
        self._screen_region = screen_region
        self._screen_monitor = screen_monitor
        self._writer: SegmentWriter | None = None
        self._transcriber: StreamingTranscriber | None = None
        self._screen: ScreenCapture | None = None
        self._reader: threading.Thread | None = None
        self._stopping = threading.Event()
        self._failure: MediaError | None = None
        self._lock = threading.Lock()
        self._got_audio = False

    # -- start ---------------------------------------------------------------------------

    def start(self) -> None:
        """Open the segment writer, load the model, start capture. Raises StorageError,
        AudioCaptureError or ModelNotAvailable when the session cannot record at all."""
        from recorder.segments import SegmentWriter

        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"Cannot create the recording folder: {exc.strerror}") from exc
        want_video = self.config.screen_capture and self._screen_available()
        self._writer = SegmentWriter(self.directory, rotate_seconds=self.config.segment_seconds,
                                     video=want_video, fps=self.config.screen_fps,
                                     on_log=self.cb.log)
        if self.config.transcription_enabled:
            self._start_transcriber()
        self.source.on_log = self.cb.log
        self.source.start(self.clock)
        self._reader = threading.Thread(target=self._read_audio, name="audio-reader", daemon=True)
        self._reader.start()
        if want_video:
            self._start_screen()

    def _start_transcriber(self) -> None:
        from recorder.transcriber import StreamingTranscriber
        from recorder.whisper_models import ModelNotAvailable, resolve_model

        try:
            resolved = resolve_model(self.config.model, self.config.language)
        except ModelNotAvailable as exc:
            # Recording matters more than the transcript: keep recording, say why.
            self.cb.log("error", f"Transcription is off for this session: {exc}")
            return
        if resolved.note:
            self.cb.log("info", resolved.note)
        self._transcriber = StreamingTranscriber(
            resolved, language=self.config.language, speakers=self.speakers,
            on_result=self._on_result, on_log=self.cb.log, on_behind=self.cb.behind,
            on_skipped=self.cb.skipped, vocabulary=self.config.vocabulary, device=self.config.device,
            compute_type=self.config.compute_type)
        self._transcriber.start()

    def _screen_available(self) -> bool:
        import os

        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            self.cb.log("warning", "No display to capture: recording audio only")
            return False
        return True

    def _start_screen(self) -> None:
        from recorder.screen import ScreenCapture

        region = self._screen_region() if self._screen_region else None
        try:
            self._screen = ScreenCapture(
                region=region, monitor=self._screen_monitor or 1, fps=self.config.screen_fps,
                max_size=self.config.screen_max_size, clock=self.clock,
                on_frame=self._on_frame, on_log=self.cb.log)
            self._screen.start()
        except Exception as exc:  # the screen is a bonus; the audio must go on
            self._screen = None
            self.cb.log("warning", f"Screen capture is off: {exc}")

    # -- data flow -------------------------------------------------------------------------

    def _read_audio(self) -> None:
        last_stats = 0.0
        writer = self._writer
        assert writer is not None
        while True:
            try:
                chunk = self.source.read(timeout=0.2)
            except AudioCaptureError as exc:
                self._fail(exc)
                return
            if chunk is None:
                if self.source.finished:
                    return
                continue
            if not self._got_audio:
                self._got_audio = True
                self.cb.first_audio()
            try:
                writer.write_audio(chunk)
            except StorageError as exc:
                self._fail(exc)
                return
            if self._transcriber is not None:
                self._transcriber.feed(chunk)
            now = time.monotonic()
            if now - last_stats >= self.config.stats_interval:
                last_stats = now
                self.cb.recording(self._stats())

    def _on_frame(self, frame) -> None:
        if self._stopping.is_set() or self._failure:
            return
        assert self._writer is not None
        try:
            self._writer.write_video(frame)
        except StorageError as exc:
            self._fail(exc)

    def _on_result(self, result) -> None:
        if result.text.strip():
            self.cb.speech()
        self.cb.transcript(result)

    def _fail(self, error: MediaError) -> None:
        with self._lock:
            if self._failure is not None:
                return
            self._failure = error
        self.cb.log("error", error.message)
        self.cb.failed(error)

    def _stats(self) -> dict[str, Any]:
        assert self._writer is not None
        stats = self._writer.stats()
        return {
            "segment_count": stats.segment_count,
            "audio_file_count": stats.audio_file_count,
            "video_file_count": stats.video_file_count,
            "total_size_bytes": stats.total_size_bytes,
            "total_duration_seconds": round(stats.total_duration_seconds, 3),
        }

    @property
    def transcription_stats(self) -> dict[str, float] | None:
        """Whisper passes so far and the time they took (None without transcription)."""
        return self._transcriber.stats.to_dict() if self._transcriber is not None else None

    @property
    def failure(self) -> MediaError | None:
        return self._failure

    # -- stop ------------------------------------------------------------------------------

    def finish(self, transcribe_timeout: float | None = 120.0) -> PipelineResult:
        """Stop capture, write what is queued, finish pending transcription, close files.
        Blocking: run it off the event loop."""
        self._stopping.set()
        if self._screen is not None:
            self._screen.stop()
        self.source.stop()
        if self._reader is not None:
            self._reader.join()
        if self._transcriber is not None:
            self._transcriber.finish(timeout=transcribe_timeout)
        stats: dict[str, Any] = {}
        if self._writer is not None:
            try:
                self._writer.close()
            except StorageError as exc:
                self._fail(exc)
            stats = self._stats()
            self.cb.recording(stats)
        return PipelineResult(self._failure, stats)
