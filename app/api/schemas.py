"""Request and response bodies of the REST API, as pydantic models.

They drive FastAPI's validation and the published OpenAPI document. Request bodies are
strict (no type coercion) and refuse unknown fields, so a typo is an error, not a silent
default.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from app.models import DEFAULT_BOT_NAME, SESSION_PLATFORMS
from app.sessions import MAX_BOT_NAME

# Spelled out so that type checkers see them; a test holds them equal to Status and FORMATS.
StatusName = Literal["initializing", "joining", "active", "recording", "leaving", "completed",
                     "failed"]
PlatformName = Literal[SESSION_PLATFORMS]  # type: ignore[valid-type]
FormatName = Literal["txt", "srt", "vtt", "json", "md", "docx"]

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$"  # app.paths.validate_id's rule, for the schema


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return _LONE_SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    @field_validator("*")
    @classmethod
    def _unicode_text(cls, value: Any) -> Any:
        # JSON can escape half of a surrogate pair; such text cannot be stored or exported.
        if _has_lone_surrogate(value):
            raise ValueError("text must be valid Unicode (it holds a lone surrogate)")
        return value


# -- timestamps ----------------------------------------------------------------------------

_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})")


def utc_timestamp(value: str) -> str:
    """An RFC 3339 timestamp (milliseconds or not), normalized to the contract's UTC form
    with milliseconds and a Z."""
    match = _RFC3339.fullmatch(value)
    if match is None:
        raise ValueError("must be an ISO 8601 timestamp with a time zone, e.g. 2025-12-11T10:00:00Z")
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction, zone = match.group(7) or ".0", match.group(8).upper()
    try:
        offset = timedelta(0) if zone == "Z" else (
            (1 if zone[0] == "+" else -1) * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
        moment = datetime(year, month, day, hour, minute, min(second, 59),  # a leap second
                          int(float(fraction) * 1_000_000), tzinfo=timezone(offset))
        # isoformat keeps four digits for a year before 1000, which strftime does not
        return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")[:-6] + "Z"
    except (ValueError, OverflowError):
        raise ValueError("is not a real date and time") from None


Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"}),
                      AfterValidator(utc_timestamp)]
Identifier = Annotated[str, Field(pattern=ID_PATTERN)]
Seconds = Annotated[float, Field(allow_inf_nan=False)]


# -- errors ----------------------------------------------------------------------------------

class ErrorBody(BaseModel):
    code: str
    message: str
    system_message: str
    type: Literal["client_error", "server_error"]
    status: int
    details: dict[str, Any]
    trace_id: str = Field(json_schema_extra={"format": "uuid"})
    timestamp: str = Field(json_schema_extra={"format": "date-time"})


class ErrorEnvelope(BaseModel):
    success: Literal[False]
    error: ErrorBody


# -- sessions --------------------------------------------------------------------------------

class StartSessionBody(_Strict):
    meeting_link: str = Field(description="HTTPS link of a Teams, Zoom, Google Meet or Webex meeting",
                              max_length=4096)
    bot_name: str = Field(DEFAULT_BOT_NAME, min_length=1, max_length=MAX_BOT_NAME)
    transcription_enabled: bool = True
    transcription_language: str = Field("en", min_length=2, max_length=8,
                                        description="language code such as en or de")
    debug_mode: bool = Field(False, description="(ours) keep extra diagnostics for this session")
    metadata: dict[str, Any] = Field(default_factory=dict,
                                     description="(ours) free-form data kept with the session")


class SessionOut(BaseModel):
    session_id: str
    organization_id: str
    user_id: str
    meeting_link: str
    platform: PlatformName
    bot_name: str
    status: StatusName
    transcription_enabled: bool
    transcription_language: str
    debug_mode: bool
    created_at: str = Field(json_schema_extra={"format": "date-time"})
    updated_at: str = Field(json_schema_extra={"format": "date-time"})
    join_timestamp: str | None = Field(json_schema_extra={"format": "date-time"})
    leave_timestamp: str | None = Field(json_schema_extra={"format": "date-time"})
    total_duration_seconds: float | None
    segment_count: int | None
    audio_file_count: int | None
    video_file_count: int | None
    total_size_bytes: int | None
    output_directory: str
    error_message: str | None
    error_code: str | None
    metadata: dict[str, Any]
    current_participants: dict[str, Any]
    participant_history: list[dict[str, Any]]


class RenameBody(_Strict):
    title: str | None = Field(description="(ours) the session's new title, kept as metadata.title: control "
                                          "and bidi characters are removed, whitespace collapsed, and it is "
                                          "cut at 200 characters; null or blank removes it (the session is "
                                          "called after its meeting link again)")


class SpeakerRenameBody(_Strict):
    from_: str = Field(alias="from", min_length=1, max_length=1000,
                       description="(ours) the speaker as the transcript names them, e.g. \"Speaker 1\"")
    to: str = Field(min_length=1, max_length=200,
                    description="(ours) their new name, cleaned like any name (control and bidi characters "
                                "removed, whitespace collapsed)")


class SpeakerRenameOut(BaseModel):
    session_id: str
    from_: str = Field(alias="from")
    to: str
    lines: int = Field(description="how many lines of the transcript now name them")


class SessionPageOut(BaseModel):
    data: list[SessionOut]
    total_count: int
    has_more: bool


class DiagnosticsBundleOut(BaseModel):
    bundle: str = Field(description="the bundle's folder under the session's diagnostics/")
    reason: str = Field(description="why it was taken: a failed join, or a screen the pack does not know")
    taken_at: str = Field(description="when, UTC ISO 8601")
    url: str = Field(description="the page's address, passcodes and tokens removed")
    title: str
    landmarks: dict[str, str | None] = Field(description="every landmark of the platform's pack: the "
                                                         "matcher that hit, or null")
    unmatched: list[str] = Field(description="the landmarks no matcher hit")
    participant_count: int = Field(description="how many people the page listed (names are not kept)")


class DiagnosticsOut(BaseModel):
    session_id: str
    bundles: list[DiagnosticsBundleOut] = Field(description="oldest first; empty when none were saved")


class PublishedTranscript(BaseModel):
    """A final transcript segment, as published."""

    transcript_id: str
    text: str
    confidence: float | None
    start_time: float
    end_time: float
    speaker: str | None
    language_code: str
    created_at: str = Field(json_schema_extra={"format": "date-time"})


class TranscriptOut(PublishedTranscript):
    session_id: str = Field(description="(ours) the session the segment belongs to")


# -- one session's analytics (ours) ---------------------------------------------------------

class SpeakerTalkOut(BaseModel):
    speaker: str | None = Field(description="null: the lines without a speaker, counted as one speaker")
    talk_time_seconds: float = Field(description="the time their lines cover, each moment counted once")
    percentage: float = Field(description="share of total_talk_time_seconds, 0 to 100")
    segment_count: int = Field(description="their final transcript lines")


class TimelineSpanOut(BaseModel):
    speaker: str | None
    start_time: float = Field(description="seconds from the session's start")
    end_time: float


class SessionAnalyticsOut(BaseModel):
    session_id: str
    total_talk_time_seconds: float = Field(description="the sum of every speaker's talk time")
    speech_seconds: float = Field(description="the time at least one person was speaking")
    overlap_seconds: float = Field(description="the time two or more people were speaking at once")
    speakers: list[SpeakerTalkOut] = Field(description="the most talk first; empty when nothing was transcribed")
    timeline: list[TimelineSpanOut] = Field(description="who spoke when: each speaker's stretches of speech "
                                                        "(their overlapping or touching lines merged), by "
                                                        "start time")


# -- the after-meeting pass (ours) -----------------------------------------------------------

RefineStateName = Literal["none", "queued", "running", "completed", "failed", "cancelled"]


class RefineBody(_Strict):
    model: str | None = Field(None, min_length=1, max_length=1024,
                              description="a model name (tiny.en, base, small, ...), a folder holding a "
                                          "CTranslate2 Whisper model, or auto; default: the setting")


class RefineOut(BaseModel):
    session_id: str
    state: RefineStateName = Field(description="none: no pass of this session since the server started")
    progress: float = Field(description="share of the recording transcribed, 0 to 1")
    model: str | None = Field(description="the model asked for (auto) until the pass has chosen one")
    automatic: bool = Field(description="started because the session ended (the setting), not on request")
    message: str | None = Field(description="why it failed")
    created_at: str | None = Field(json_schema_extra={"format": "date-time"})
    timestamp: str = Field(json_schema_extra={"format": "date-time"})
    transcript_revision: str = Field(description="the transcript the session shows now: live or refined:<model>")


class RevisionOut(BaseModel):
    label: str = Field(description="live, or refined:<model>")
    created_at: str = Field(json_schema_extra={"format": "date-time"}, description="when it was kept")
    segment_count: int
    current: bool = Field(description="the transcript the session shows now")


class RevisionsOut(BaseModel):
    session_id: str
    transcript_revision: str
    revisions: list[RevisionOut] = Field(description="the live one first; empty until a pass has replaced it")


class RestoreBody(_Strict):
    revision: str = Field("live", min_length=1, max_length=1100, description="the label of a kept revision")


# -- meeting notes (ours) -------------------------------------------------------------------

NotesBackendName = Literal["local", "ollama", "openai"]
NotesStateName = Literal["none", "queued", "running", "done", "failed", "cancelled"]


class NotesBody(_Strict):
    backend: NotesBackendName | None = Field(None, description="local (this computer), ollama (your Ollama "
                                                               "server) or openai (the OpenAI-compatible endpoint "
                                                               "set in Settings); default: the setting")


class ActionItemOut(BaseModel):
    item_id: str
    task: str
    owner: str | None = Field(description="who will do it, null when the meeting did not say")
    due: str | None = Field(description="the deadline as said in the meeting, null when none was said")
    transcript_id: str = Field(description="the transcript line the item came from")
    done: bool


class MeetingNotesOut(BaseModel):
    session_id: str
    summary: str
    decisions: list[str]
    action_items: list[ActionItemOut]
    open_questions: list[str]
    backend: NotesBackendName
    model: str
    created_at: str = Field(json_schema_extra={"format": "date-time"})


class NotesJobOut(BaseModel):
    session_id: str
    state: NotesStateName = Field(description="none: no notes job of this session since the server started")
    progress: float = Field(description="share of the work done, 0 to 1")
    error: str | None = Field(description="why it failed")
    backend: NotesBackendName | None
    automatic: bool = Field(description="started because the transcript became final (the setting), not on request")
    created_at: str | None = Field(json_schema_extra={"format": "date-time"})
    timestamp: str = Field(json_schema_extra={"format": "date-time"})


class NotesOut(NotesJobOut):
    notes: MeetingNotesOut | None = Field(description="the stored notes; null until some are made")


# -- import (PUT /sessions/{id}) ------------------------------------------------------------

Count = Annotated[int, Field(ge=0)]


class SessionIn(_Strict):
    """A whole Session as another Meeting Buddy serves it; every field present."""

    session_id: Identifier
    organization_id: Identifier
    user_id: str = Field(max_length=256)
    meeting_link: str = Field(max_length=4096)
    platform: PlatformName
    bot_name: str = Field(max_length=MAX_BOT_NAME)
    status: StatusName
    transcription_enabled: bool
    transcription_language: str = Field(max_length=16)
    debug_mode: bool
    created_at: Timestamp
    updated_at: Timestamp
    join_timestamp: Timestamp | None
    leave_timestamp: Timestamp | None
    total_duration_seconds: Annotated[Seconds, Field(ge=0)] | None
    segment_count: Count | None
    audio_file_count: Count | None
    video_file_count: Count | None
    total_size_bytes: Count | None
    output_directory: str = Field(max_length=1024)
    error_message: str | None = Field(max_length=4096)
    error_code: str | None = Field(max_length=64)
    metadata: dict[str, Any]
    current_participants: dict[str, Any]
    participant_history: list[dict[str, Any]]


class TranscriptIn(_Strict):
    transcript_id: Identifier
    session_id: Identifier | None = Field(None, description="must be the path's id when given")
    text: str
    confidence: Annotated[Seconds, Field(ge=0, le=1)] | None
    start_time: Seconds
    end_time: Seconds
    speaker: str | None = Field(max_length=256)
    language_code: str = Field(max_length=16)
    created_at: Timestamp


class ImportBody(_Strict):
    session: SessionIn
    transcripts: list[TranscriptIn] = Field(default_factory=list)
    origin: str | None = Field(None, min_length=1, max_length=512,
                                  description="where the session comes from (an instance name or URL)")


# -- search (ours) ---------------------------------------------------------------------------

class SearchHitOut(BaseModel):
    """A transcript line that matches, best first."""

    session_id: str
    transcript_id: str
    text: str = Field(description="the whole line")
    snippet: str = Field(description="the part of the line around the match, plain text (\u2026 where cut)")
    highlights: list[tuple[int, int]] = Field(
        description="the matched words in `snippet`: [start, end) offsets in characters (Unicode code points)")
    speaker: str | None
    start_time: float = Field(description="seconds from the start of the session")
    end_time: float
    language_code: str
    score: float = Field(description="relevance (bm25, sign turned: higher is better); compare within one answer")
    session_created_at: str = Field(json_schema_extra={"format": "date-time"},
                                    description="when the session started")
    platform: PlatformName


class SearchResultsOut(BaseModel):
    query: str = Field(description="q as sent")
    data: list[SearchHitOut] = Field(description="best match first; empty when nothing matches")
    has_more: bool = Field(description="more lines match after this page (raise offset by limit)")
    limit: int
    offset: int


# -- analytics -------------------------------------------------------------------------------

class SummaryOut(BaseModel):
    session_count: int
    completed_count: int
    failed_count: int
    active_count: int
    total_duration_hours: float
    avg_duration_minutes: float
    by_platform: dict[str, int]


class TrendPointOut(BaseModel):
    period: str = Field(description="2025-12-15 (day), 2025-W50 (ISO week), 2025-12 (month)")
    session_count: int
    completed_count: int
    failed_count: int
    total_duration_hours: float
    avg_duration_minutes: float


class TrendsOut(BaseModel):
    granularity: Literal["day", "week", "month"]
    data: list[TrendPointOut]


class BucketOut(BaseModel):
    label: str
    min_seconds: float = Field(description="inclusive")
    max_seconds: float = Field(description="exclusive; for the last bucket, inclusive: the "
                                           "longest duration counted, at least its min_seconds")
    count: int
    percentage: float


class DurationDistributionOut(BaseModel):
    total: int
    buckets: list[BucketOut]


class BreakdownItemOut(BaseModel):
    label: str
    count: int
    percentage: float


class StatusBreakdownOut(BaseModel):
    dimension: Literal["status"]
    total: int
    items: list[BreakdownItemOut]


ActiveStatusName = Literal["initializing", "joining", "active", "recording"]


class ActiveSessionOut(BaseModel):
    session_id: str
    meeting_link: str
    platform: PlatformName
    status: ActiveStatusName
    bot_name: str
    join_timestamp: str | None = Field(json_schema_extra={"format": "date-time"})
    current_participants: list[str] = Field(description="names of the people in the meeting now")
    duration_so_far_seconds: float | None = Field(description="null until the bot has joined")


# -- SSE events (the `data:` JSON of each event) ---------------------------------------------

class StatusEventData(BaseModel):
    session_id: str
    status: StatusName
    previous_status: StatusName | None
    timestamp: str = Field(json_schema_extra={"format": "date-time"})
    error_message: str | None
    error_code: str | None


class ParticipantEventData(StatusEventData):
    """A join or leave, sent as a `status` event; status and previous_status are the
    session's current status."""

    participant_name: str
    event: Literal["joined", "left"]
    is_bot: bool = Field(description="(ours) the participant is a bot, e.g. this one")


class TranscriptEventData(BaseModel):
    session_id: str
    transcript_id: str | None = Field(description="null while partial")
    text: str
    speaker: str | None
    start_time: float
    end_time: float
    confidence: float | None = Field(description="null while partial")
    language_code: str
    is_partial: bool
    timestamp: str = Field(json_schema_extra={"format": "date-time"})


class LogEventData(BaseModel):
    session_id: str
    level: Literal["info", "warning", "error"]
    message: str
    timestamp: str = Field(json_schema_extra={"format": "date-time"})
    details: dict[str, Any] | None = Field(description="null when the entry has none")


class RefineEventData(RefineOut):
    """(ours) A state or progress report of the after-meeting pass."""

    state: Literal["queued", "running", "completed", "failed", "cancelled"]


class NotesEventData(NotesJobOut):
    """(ours) A state or progress report of a meeting notes job; read the notes once it is done."""

    state: Literal["queued", "running", "done", "failed", "cancelled"]
    backend: NotesBackendName


class TranscriptRevisionEventData(BaseModel):
    """(ours) The stored transcript was replaced or restored: read it again."""

    session_id: str
    transcript_revision: str
    segment_count: int
    timestamp: str = Field(json_schema_extra={"format": "date-time"})


class CloseEventData(BaseModel):
    reason: Literal["session_ended"] = Field(description="the session completed or failed")


def sse_schema(events: dict[str, tuple[type[BaseModel], ...]]) -> dict[str, Any]:
    """One SSE event as OpenAPI describes it: `event`, `id` and `data` (JSON of one of the
    event's models)."""
    def data_schema(models: tuple[type[BaseModel], ...]) -> dict[str, Any]:
        schemas = [model.model_json_schema() for model in models]
        return schemas[0] if len(schemas) == 1 else {"anyOf": schemas}

    described: dict[str, tuple[type[BaseModel], ...]] = {**events, "close": (CloseEventData,)}
    return {"oneOf": [{
        "type": "object",
        "required": ["event", "id", "data"],
        "properties": {
            "event": {"const": name},
            "id": {"type": "string", "pattern": "^[0-9]+$",
                   "description": "(ours) send it back as Last-Event-ID to resume after this event"},
            "data": {"type": "string", "contentMediaType": "application/json",
                     "contentSchema": data_schema(models)},
        },
    } for name, models in described.items()]}
