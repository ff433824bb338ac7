"""The after-meeting pass ("refine"): a finished session's recorded audio transcribed again,
offline, by the model chosen for it; the transcript is replaced atomically and the one it
replaces (the live one) is kept as a revision to restore.

`refine_session` runs one pass in the calling thread (the command line does so). `Refiner`
runs them for the window and the API: one at a time, off the event loop, each reported as
`refine` events (state and progress); the SessionManager writes the result. A pass can be
cancelled, which changes nothing, and when the settings ask, every session recorded here is
refined once it has ended — after the sessions still running, so that live transcription
keeps the cores it needs.
"""
from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.background_jobs import QUIET_POLL_S, JobQueue, Stage
from app.errors import MeetingBuddyError, RefineUnavailable, SessionReadOnly
from app.events import SessionEvent
from app.models import Session, TranscriptSegment
from app.store import LIVE_REVISION
from app.timeutil import iso_now
from app.voices import told_apart
from recorder.errors import MediaError

if TYPE_CHECKING:
    from app.sessions import SessionManager
    from app.settings import Settings
    from recorder.offline_transcription import AudioPart
    from recorder.speakers import SpeakerTimeline

log = logging.getLogger(__name__)

AUTO_MODEL = "auto"
# Facts the session runners keep in the session's metadata for this pass: where on the
# session clock the recording's audio begins, and how long each segment file covers.
AUDIO_START_KEY = "audio_start_s"
SEGMENT_SECONDS_KEY = "segment_seconds"


def transcript_revision(session: Session) -> str:
    """Which transcript the session shows: "live" (also when the key is absent) or the
    label of the revision that replaced it, e.g. "refined:base"."""
    return str(session.metadata.get("transcript_revision") or LIVE_REVISION)


def revision_name(label: str) -> str:
    """A revision label in words: "live", "improved (base)"."""
    kind, _, model = label.partition(":")
    return "improved" + (f" ({model})" if model else "") if kind == "refined" else kind


class RefineCancelled(Exception):
    """The pass was cancelled; the transcript is unchanged."""


class RefineState(str, Enum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class RefineOptions:
    model: str = AUTO_MODEL  # "auto": recorder.refine_models' rule
    device: str = "cpu"
    compute_type: str = "int8"
    after_session: bool = True  # refine every session recorded here once it has ended
    vocabulary: tuple[str, ...] = ()  # the settings' names and terms; a session adds its own

    @classmethod
    def from_settings(cls, settings: Settings) -> RefineOptions:
        return cls(settings.refine_model, settings.device, settings.compute_type,
                   settings.refine_after_session, tuple(settings.vocabulary))


@dataclass
class RefineJob:
    session_id: str
    model: str  # as asked ("auto") until the pass has chosen one
    automatic: bool = False
    state: RefineState = RefineState.QUEUED
    progress: float = 0.0
    message: str | None = None
    created_at: str = field(default_factory=iso_now)
    cancel_requested: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def active(self) -> bool:
        return self.state in (RefineState.QUEUED, RefineState.RUNNING)

    def move_to(self, stage: Stage, message: str | None = None) -> None:
        self.state = RefineState(stage.value)
        if message is not None:
            self.message = message

    def to_dict(self, session: Session | None = None) -> dict[str, Any]:
        data = {"session_id": self.session_id, "state": self.state.value, "progress": round(self.progress, 3),
                "model": self.model, "automatic": self.automatic, "message": self.message,
                "created_at": self.created_at, "timestamp": iso_now()}
        if session is not None:
            data["transcript_revision"] = transcript_revision(session)
        return data


# -- one pass ----------------------------------------------------------------------------------

def check_refinable(manager: SessionManager, session: Session) -> list[AudioPart]:
    """The recording's audio files, or why the session's transcript cannot be improved."""
    from recorder.offline_transcription import NoRecordedAudio, recorded_audio

    sid = session.session_id
    if manager.store.session_origin(sid)[0]:
        raise SessionReadOnly(f"Session {sid} is a copy from another Meeting Buddy; its audio is there")
    if not session.is_terminal:
        raise RefineUnavailable(f"Session {sid} is still running: its transcript can be improved "
                                "once it has ended")
    start, segment_seconds = recording_facts(session)
    try:
        return recorded_audio(manager.output_dir(session), start=start, segment_seconds=segment_seconds)
    except NoRecordedAudio:
        raise RefineUnavailable(f"Session {sid} has no recorded audio to transcribe") from None


def recording_facts(session: Session) -> tuple[float | None, float | None]:
    """(where the recorded audio begins on the session clock, how long each segment file
    covers) as the runners kept them; None for what a session does not hold."""
    return _number(session.metadata.get(AUDIO_START_KEY)), _number(session.metadata.get(SEGMENT_SECONDS_KEY))


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def refine_session(manager: SessionManager, session_id: str, *, options: RefineOptions,
                   model: str | None = None, progress: Callable[[float], None] | None = None,
                   cancelled: threading.Event | None = None,
                   chosen: Callable[[str], None] | None = None) -> Session:
    """Transcribe the finished session's recording again and make that its transcript.

    Blocking (minutes for a long meeting): run it off the event loop. `chosen` hears the
    model once it is picked. Raises RefineCancelled when `cancelled` is set before the
    transcript is replaced; then nothing has changed.
    """
    from recorder.offline_transcription import TranscriptionCancelled, transcribe_recording
    from recorder.refine_models import choose_refine_model
    from recorder.whisper_models import resolve_model

    session = manager.get(session_id)
    parts = check_refinable(manager, session)
    language = session.transcription_language
    name = model or options.model
    try:
        resolved = resolve_model(choose_refine_model(language) if name == AUTO_MODEL else name, language)
        label = revision_label(resolved.name, resolved.source)
        used = label.partition(":")[2]
        if chosen is not None:
            chosen(used)
        if resolved.note:
            manager.log(session_id, "info", resolved.note)
        manager.log(session_id, "info", f"Improving the transcript with {used}; the live transcript is kept")
        timeline = _speakers(manager, session)
        results = transcribe_recording(parts, resolved, language=language, speakers=timeline,
                                       device=options.device, compute_type=options.compute_type,
                                       progress=progress, cancelled=cancelled,
                                       vocabulary=_vocabulary(manager, session, options))
        results = told_apart(manager, session, parts, results, timeline, cancelled)
        if cancelled is not None and cancelled.is_set():
            raise TranscriptionCancelled()
    except TranscriptionCancelled:
        manager.log(session_id, "info", "Improving the transcript was cancelled; it is unchanged")
        raise RefineCancelled() from None
    except (MediaError, MeetingBuddyError) as exc:
        manager.log(session_id, "error", f"Improving the transcript failed: {exc.message}")
        raise
    segments = [TranscriptSegment.create(session_id, r.text, r.start_time, r.end_time, speaker=r.speaker,
                                         confidence=r.confidence, language_code=language) for r in results]
    refined = manager.replace_transcript(session_id, segments, label)
    manager.log(session_id, "info", f"The transcript was improved with {used}: {len(segments)} lines (the live "
                                    "transcript can be restored)", transcript_revision=label)
    return refined


def _vocabulary(manager: SessionManager, session: Session, options: RefineOptions) -> tuple[str, ...]:
    """The names and terms the live tier used: the settings' and the session's own."""
    from app.runners.common import VOCABULARY_KEY
    from recorder.vocabulary import VocabularyError, clean_vocabulary, merge_vocabularies

    try:
        return merge_vocabularies(options.vocabulary, clean_vocabulary(session.metadata.get(VOCABULARY_KEY)))
    except VocabularyError as exc:
        manager.log(session.session_id, "warning", f"The session's vocabulary is not used: {exc}")
        return options.vocabulary


def revision_label(model_name: str, source: str = "package") -> str:
    """"refined:<model>"; a model folder is named by its last part."""
    return f"refined:{Path(model_name).name if source == 'folder' else model_name}"


def _speakers(manager: SessionManager, session: Session) -> SpeakerTimeline | None:
    """Who spoke when: the changes the session kept (the bot's active speaker, the louder
    channel of a device mix), else the speakers of its live transcript lines (recordings
    made before changes were kept)."""
    from recorder.speakers import SpeakerTimeline

    timeline = SpeakerTimeline()
    changes = manager.store.speaker_changes(session.session_id)
    if changes:
        for time, name in changes:
            timeline.set_speaker(time, name)
        return timeline
    live = (manager.store.transcripts(session.session_id) if transcript_revision(session) == LIVE_REVISION
            else manager.store.revision_transcripts(session.session_id, LIVE_REVISION))
    named = [seg for seg in live if seg.speaker]
    for seg in named:
        timeline.set_speaker(seg.start_time, seg.speaker)
        timeline.set_speaker(seg.end_time, None)
    return timeline if named else None


# -- passes for the window and the API ---------------------------------------------------------

class Refiner(JobQueue[RefineJob]):
    """Runs after-meeting passes on the event loop's behalf, one at a time, in a worker thread."""

    kind = "refine"
    follows = frozenset({"status"})
    cancelled_error = RefineCancelled
    failures = (MeetingBuddyError, MediaError)
    doing = "refining"

    def __init__(self, manager: SessionManager) -> None:
        super().__init__(manager)
        self.options = RefineOptions()

    def start(self, session_id: str, model: str | None = None, *, automatic: bool = False) -> RefineJob:
        """Queue a pass and return at once (on the event loop's thread). A session whose
        pass is queued or running gets that one back."""
        return self._start(RefineJob(session_id, model or self.options.model, automatic=automatic))

    def _check(self, session_id: str) -> None:
        check_refinable(self.manager, self.manager.get(session_id))

    # -- after each session (follow_sessions: while `options.after_session` says so) ------------

    def _heard(self, loop: asyncio.AbstractEventLoop, event: SessionEvent) -> None:  # any thread
        if event.data.get("status") in ("completed", "failed"):
            loop.call_soon_threadsafe(self._after_session, event.session_id)

    def _after_session(self, session_id: str) -> None:
        session = self.manager.store.get_session(session_id)
        # Only recordings that kept their timeline (made by the session runners); sessions
        # without transcription stay without one.
        if (not self.options.after_session or session is None or not session.transcription_enabled
                or AUDIO_START_KEY not in session.metadata or transcript_revision(session) != LIVE_REVISION):
            return
        try:
            self.start(session_id, automatic=True)
        except MeetingBuddyError as exc:
            log.info("not improving the transcript of %s: %s", session_id, exc.message)

    async def _before_turn(self, job: RefineJob) -> None:
        """An automatic pass waits while this session's work winds down and other sessions record."""
        while self._overtaken(job, busy=self.manager.is_running(job.session_id)):
            await asyncio.sleep(QUIET_POLL_S)

    # -- running ---------------------------------------------------------------------------

    def _work(self, job: RefineJob) -> Session:
        return refine_session(self.manager, job.session_id, options=self.options, model=job.model,
                              progress=lambda share: self._progress(job, share),
                              cancelled=job.cancel_requested, chosen=lambda name: self._chosen(job, name))

    def _chosen(self, job: RefineJob, model: str) -> None:  # the worker thread
        job.model = model
        self._publish(job)

    def _report(self, job: RefineJob, session: Session) -> dict[str, Any]:
        return job.to_dict(session)
