"""What both runners share: the pipeline set-up from the settings, the pipeline's reports
turned into session changes, and media errors turned into the product's error codes."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from app.sessions import SessionControl
from app.settings import Settings
from recorder.errors import AudioCaptureError, MediaError, StorageError
from recorder.pipeline import PipelineCallbacks, PipelineConfig
from recorder.whisper_models import ModelLoadError, ModelNotAvailable

_MEDIA_ERROR_CODES: tuple[tuple[type[MediaError], str], ...] = (
    (StorageError, "STORAGE_ERROR"),
    (AudioCaptureError, "AUDIO_CAPTURE_FAILED"),
    (ModelNotAvailable, "SESSION_START_FAILED"),
    (ModelLoadError, "SESSION_START_FAILED"),
)


def media_error_code(error: MediaError) -> str:
    """The session's error_code for a failure the recorder reported."""
    for kind, code in _MEDIA_ERROR_CODES:
        if isinstance(error, kind):
            return code
    return "AUDIO_CAPTURE_FAILED"


def pipeline_config(settings: Settings) -> PipelineConfig:
    return PipelineConfig(
        segment_seconds=settings.segment_seconds, language=settings.language,
        model=settings.model, device=settings.device, compute_type=settings.compute_type,
        screen_capture=settings.screen_capture, screen_fps=settings.screen_fps,
        screen_max_size=(settings.screen_max_width, settings.screen_max_height))


def for_session(config: PipelineConfig, control: SessionControl, **overrides: Any) -> PipelineConfig:
    """The settings' pipeline with the session's own choices (transcription on/off, language)."""
    session = control.session
    return dataclasses.replace(
        config, transcription_enabled=session.transcription_enabled and config.transcription_enabled,
        language=session.transcription_language, **overrides)


def session_callbacks(control: SessionControl, *, first_audio: Callable[[], object],
                      failed: Callable[[MediaError], object],
                      speech: Callable[[], None] = lambda: None) -> PipelineCallbacks:
    """Callbacks that report the pipeline's output to the session's control (the manager)."""
    return PipelineCallbacks(
        log=control.log,
        transcript=lambda r: control.transcript(
            text=r.text, start_time=r.start_time, end_time=r.end_time, is_partial=r.is_partial,
            speaker=r.speaker, confidence=r.confidence, language_code=r.language_code),
        recording=lambda stats: control.recording(**stats),
        first_audio=first_audio, speech=speech, failed=failed)
