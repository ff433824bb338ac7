"""What both runners share: the pipeline set-up from the settings, the pipeline's reports
turned into session changes, and media errors turned into the product's error codes."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from app.refine import AUDIO_START_KEY, SEGMENT_SECONDS_KEY
from app.sessions import SessionControl
from app.settings import Settings
from recorder.audio.base import AudioChunk, AudioSource
from recorder.audio.tap import TappedAudioSource
from recorder.channel_activity import ChannelActivity
from recorder.errors import AudioCaptureError, MediaError, StorageError
from recorder.pipeline import PipelineCallbacks, PipelineConfig
from recorder.vocabulary import VocabularyError, clean_vocabulary, merge_vocabularies
from recorder.whisper_models import ModelLoadError, ModelNotAvailable

# Session metadata the live tier writes or reads (docs/ARCHITECTURE.md, "Transcription").
VOCABULARY_KEY = "vocabulary"  # the session's own names and terms, added to the settings' ones
LIVE_BEHIND_KEY = "live_behind_s"  # seconds the live transcript is behind (0: caught up)
LIVE_SKIPPED_KEY = "live_skipped"  # [[start, end], ...] session seconds the live transcript left out

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
        screen_max_size=(settings.screen_max_width, settings.screen_max_height),
        vocabulary=clean_vocabulary(settings.vocabulary))


def for_session(config: PipelineConfig, control: SessionControl, **overrides: Any) -> PipelineConfig:
    """The settings' pipeline with the session's own choices (transcription on/off, language,
    vocabulary)."""
    session = control.session
    try:
        vocabulary = merge_vocabularies(config.vocabulary, clean_vocabulary(session.metadata.get(VOCABULARY_KEY)))
    except VocabularyError as exc:
        control.log("warning", f"The session's vocabulary is not used: {exc}")
        vocabulary = config.vocabulary
    return dataclasses.replace(
        config, transcription_enabled=session.transcription_enabled and config.transcription_enabled,
        language=session.transcription_language, vocabulary=vocabulary, **overrides)


def kept_for_refine(source: AudioSource, control: SessionControl, config: PipelineConfig) -> AudioSource:
    """`source` as the pipeline should read it: while the audio passes, the session keeps
    what the after-meeting pass (app/refine.py) needs and the segment files do not say —
    where on the session clock the recorded audio begins, how long each file covers, and for
    a device mix which channel ("you", "others") was speaking when (the files hold one mono
    track)."""
    channels = ChannelActivity(control.speaker)
    started = False

    def observe(chunk: AudioChunk) -> None:
        nonlocal started
        if not started:
            started = True
            control.metadata(**{AUDIO_START_KEY: chunk.start_time, SEGMENT_SECONDS_KEY: config.segment_seconds})
        channels.add(chunk)

    return TappedAudioSource(source, observe)


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
        first_audio=first_audio, speech=speech, failed=failed,
        behind=lambda seconds: control.metadata(**{LIVE_BEHIND_KEY: seconds}),
        skipped=lambda ranges: control.metadata(**{LIVE_SKIPPED_KEY: [[a, b] for a, b in ranges]}))
