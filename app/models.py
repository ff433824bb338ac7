"""The Session object of the Meeting Buddy contract, its status machine, and the records
that hang off a session (transcript segments, participant events, log entries).

The status machine lives here and only here: `Session.transition()` is the one way a status
changes, and an illegal change raises `IllegalTransition`.
"""
from __future__ import annotations

import copy
import secrets
from dataclasses import asdict, dataclass, field, fields
from enum import Enum
from typing import Any

from app.errors import IllegalTransition, ValidationError
from app.timeutil import iso_now

DEFAULT_BOT_NAME = "Meeting Buddy"
DEFAULT_ORGANIZATION_ID = "local"
DEFAULT_USER_ID = "local-user"
# Ours: "record this computer" sessions (microphone + system audio, no bot, no meeting).
LOCAL_PLATFORM = "local"
LOCAL_RECORDING_LINK = "local://this-computer"


_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def _random_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def new_session_id() -> str:
    return _random_id("mbsess_")


def new_transcript_id() -> str:
    return _random_id("mbtrans_")


class Status(str, Enum):
    INITIALIZING = "initializing"
    JOINING = "joining"
    ACTIVE = "active"
    RECORDING = "recording"
    LEAVING = "leaving"
    COMPLETED = "completed"
    FAILED = "failed"

    @property
    def is_terminal(self) -> bool:
        return self in (Status.COMPLETED, Status.FAILED)

    def __str__(self) -> str:  # so f-strings and JSON show the plain value
        return self.value


class Platform(str, Enum):
    TEAMS = "teams"
    ZOOM = "zoom"
    GOOGLE_MEET = "google_meet"
    WEBEX = "webex"

    def __str__(self) -> str:
        return self.value


SESSION_PLATFORMS = (*(p.value for p in Platform), LOCAL_PLATFORM)

# How people name them (exports, the window).
PLATFORM_NAMES = {
    Platform.TEAMS.value: "Microsoft Teams",
    Platform.ZOOM.value: "Zoom",
    Platform.GOOGLE_MEET.value: "Google Meet",
    Platform.WEBEX.value: "Webex",
    LOCAL_PLATFORM: "This computer",
}


# Forward moves of the happy path. A stop may come at any non-terminal point, so LEAVING is
# reachable from every earlier status; FAILED from every non-terminal one.
_FORWARD: dict[Status, frozenset[Status]] = {
    Status.INITIALIZING: frozenset({Status.JOINING, Status.LEAVING}),
    Status.JOINING: frozenset({Status.ACTIVE, Status.LEAVING}),
    Status.ACTIVE: frozenset({Status.RECORDING, Status.LEAVING}),
    Status.RECORDING: frozenset({Status.LEAVING}),
    Status.LEAVING: frozenset({Status.COMPLETED}),
    Status.COMPLETED: frozenset(),
    Status.FAILED: frozenset(),
}


def allowed_transitions(status: Status) -> frozenset[Status]:
    if status.is_terminal:
        return frozenset()
    return _FORWARD[status] | {Status.FAILED}


# Detail vocabulary (docs/PLATFORMS.md, "Outcomes"): error_code of a failed session, metadata.end_reason of a
# completed one.
ERROR_CODES = (
    "SESSION_START_FAILED", "WAITING_ROOM_TIMEOUT", "JOIN_DENIED", "BOT_REMOVED",
    "MEETING_NOT_FOUND", "SIGN_IN_REQUIRED", "BOT_BLOCKED", "PAGE_LOAD_FAILED",
    "BROWSER_CRASHED", "AUDIO_CAPTURE_FAILED", "STORAGE_ERROR", "INTERRUPTED",
    "NETWORK_LOST", "INTERNAL_ERROR",
)
END_REASONS = (
    "MEETING_ENDED", "LEFT_ALONE", "SILENCE_TIMEOUT", "MAX_DURATION", "STOP_REQUESTED",
    "NO_ONE_JOINED", "BOT_REMOVED",
)


def _session_platform(platform: str) -> str:
    if platform not in SESSION_PLATFORMS:
        raise ValueError(f"unknown platform {platform!r}; expected one of {SESSION_PLATFORMS}")
    return platform


@dataclass
class Session:
    """Every field of the documented Session object; all are always present."""

    session_id: str
    organization_id: str
    user_id: str
    meeting_link: str
    platform: str
    bot_name: str = DEFAULT_BOT_NAME
    status: Status = Status.INITIALIZING
    transcription_enabled: bool = True
    transcription_language: str = "en"
    debug_mode: bool = False
    created_at: str = field(default_factory=iso_now)
    updated_at: str = field(default_factory=iso_now)
    join_timestamp: str | None = None
    leave_timestamp: str | None = None
    total_duration_seconds: float | None = None
    segment_count: int | None = None
    audio_file_count: int | None = None
    video_file_count: int | None = None
    total_size_bytes: int | None = None
    output_directory: str = ""
    error_message: str | None = None
    error_code: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    current_participants: dict[str, Any] = field(default_factory=dict)
    participant_history: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def create(
        cls,
        *,
        meeting_link: str,
        platform: str,
        bot_name: str = DEFAULT_BOT_NAME,
        transcription_enabled: bool = True,
        transcription_language: str = "en",
        debug_mode: bool = False,
        organization_id: str = DEFAULT_ORGANIZATION_ID,
        user_id: str = DEFAULT_USER_ID,
        metadata: dict[str, Any] | None = None,
    ) -> Session:
        session_id = new_session_id()
        now = iso_now()
        return cls(
            session_id=session_id,
            organization_id=organization_id,
            user_id=user_id,
            meeting_link=meeting_link,
            platform=_session_platform(platform),
            bot_name=bot_name,
            transcription_enabled=transcription_enabled,
            transcription_language=transcription_language,
            debug_mode=debug_mode,
            created_at=now,
            updated_at=now,
            output_directory=f"recordings/{organization_id}/{session_id}",
            metadata=dict(metadata or {}),
        )

    def __post_init__(self) -> None:
        if not isinstance(self.status, Status):
            self.status = Status(self.status)

    @property
    def is_terminal(self) -> bool:
        return self.status.is_terminal

    def transition(
        self,
        new: Status,
        *,
        error_code: str | None = None,
        error_message: str | None = None,
        end_reason: str | None = None,
    ) -> Status:
        """Move to `new`, enforcing the status machine; returns the previous status."""
        old = self.status
        if new not in allowed_transitions(old):
            raise IllegalTransition(f"{self.session_id}: {old.value} -> {new.value} is not allowed")
        if new is Status.FAILED:
            if not error_code:
                raise IllegalTransition("a failed session needs an error_code")
            self.error_code = error_code
            self.error_message = error_message or error_code
        elif error_code is not None:
            raise IllegalTransition("only a failed session carries an error_code")
        if end_reason is not None:
            if new is not Status.COMPLETED:
                raise IllegalTransition("only a completed session carries an end_reason")
            self.metadata["end_reason"] = end_reason
        self.status = new
        self.touch()
        return old

    def touch(self) -> None:
        self.updated_at = iso_now()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)  # a deep copy: the dict shares nothing with the Session
        data["status"] = self.status.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, copy_values: bool = True) -> Session:
        """The Session in `data`; unknown keys are ignored. `copy_values=False` adopts the
        lists and dicts of a freshly decoded document instead of copying them."""
        values = {k: copy.deepcopy(v) if copy_values else v for k, v in data.items() if k in SESSION_FIELD_NAMES}
        if "status" in values:
            try:
                values["status"] = Status(values["status"])
            except ValueError:
                raise ValidationError(f"Unknown status {values['status']!r}", field="status") from None
        return cls(**values)


SESSION_FIELDS = tuple(f.name for f in fields(Session))
SESSION_FIELD_NAMES = frozenset(SESSION_FIELDS)


@dataclass
class TranscriptSegment:
    """A final transcript segment (documented fields)."""

    transcript_id: str
    session_id: str
    text: str
    start_time: float
    end_time: float
    speaker: str | None = None
    confidence: float | None = None
    language_code: str = "en"
    created_at: str = field(default_factory=iso_now)

    @classmethod
    def create(cls, session_id: str, text: str, start_time: float, end_time: float, *,
               speaker: str | None = None, confidence: float | None = None,
               language_code: str = "en") -> TranscriptSegment:
        return cls(new_transcript_id(), session_id, text, float(start_time), float(end_time),
                   speaker, confidence, language_code)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ParticipantEvent:
    session_id: str
    participant_name: str
    event: str  # "joined" | "left"
    timestamp: str = field(default_factory=iso_now)
    is_bot: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class LogEntry:
    session_id: str
    level: str  # info | warning | error
    message: str
    timestamp: str = field(default_factory=iso_now)
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
