"""One exception type per failure the product reports (the contract's error codes).

Each carries its code, a message for people and details, so the REST server, the command
line and the GUI report the same failure the same way. How a code travels over HTTP (its
status, the error envelope) is the API's business: app/api/errors.py.
"""
from __future__ import annotations

from typing import Any


class MeetingBuddyError(Exception):
    """Base of every error the product reports to a user or API client."""

    code = "INTERNAL_ERROR"
    # The caller's request is at fault (bad input, unknown id): the API answers 4xx and the
    # command line exits with its usage status. Otherwise the product failed.
    caller_error = False

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = dict(details or {})

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class AuthenticationRequired(MeetingBuddyError):
    code = "AUTHENTICATION_REQUIRED"
    caller_error = True


class InvalidApiKey(MeetingBuddyError):
    code = "INVALID_API_KEY"
    caller_error = True


class InvalidMeetingLink(MeetingBuddyError):
    code = "INVALID_MEETING_LINK"
    caller_error = True

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details={"field": "meeting_link", **(details or {})})


class UnsupportedPlatform(MeetingBuddyError):
    code = "UNSUPPORTED_PLATFORM"
    caller_error = True

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details={"field": "meeting_link", **(details or {})})


class ValidationError(MeetingBuddyError):
    code = "VALIDATION_ERROR"
    caller_error = True

    def __init__(self, message: str, *, field: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details={"field": field, **(details or {})})


class SessionNotFound(MeetingBuddyError):
    code = "SESSION_NOT_FOUND"
    caller_error = True

    def __init__(self, session_id: str) -> None:
        super().__init__(f"Session {session_id!r} not found", details={"session_id": session_id})


class SessionReadOnly(MeetingBuddyError):
    """A change to a session this Meeting Buddy does not own (or an import over one it does)."""

    code = "SESSION_READ_ONLY"
    caller_error = True


class RefineUnavailable(MeetingBuddyError):
    """(ours) The transcript cannot be improved now: the session is still running, or it
    holds no recorded audio."""

    code = "REFINE_UNAVAILABLE"
    caller_error = True


class NotesUnavailable(MeetingBuddyError):
    """(ours) Meeting notes cannot be made now: the session is still running, its transcript
    is empty, or the chosen notes back-end is not set up."""

    code = "NOTES_UNAVAILABLE"
    caller_error = True


class NotesBackendFailed(MeetingBuddyError):
    """(ours) The language model that makes the notes failed: its file is missing or
    damaged, its server did not answer, or it answered something unusable."""

    code = "NOTES_BACKEND_FAILED"


class InternalError(MeetingBuddyError):
    code = "INTERNAL_ERROR"


class IllegalTransition(RuntimeError):
    """A status change the state machine forbids: a bug in the caller, never applied."""


class StorageError(MeetingBuddyError):
    """The data folder cannot hold what must be written (disk full, unwritable, outside the root)."""

    code = "STORAGE_ERROR"


class ModelNotFound(MeetingBuddyError):
    """(ours) A transcription model name the product does not offer."""

    code = "MODEL_NOT_FOUND"
    caller_error = True


class ModelNotInstalled(MeetingBuddyError):
    """(ours) A model to remove that is not installed in the model cache."""

    code = "MODEL_NOT_INSTALLED"
    caller_error = True


class ModelInUse(MeetingBuddyError):
    """(ours) A model to remove that the settings name for live or after-meeting transcription,
    or for meeting notes."""

    code = "MODEL_IN_USE"
    caller_error = True


class ModelNotRemovable(MeetingBuddyError):
    """(ours) The model that ships with the product (tiny.en, a package it depends on)."""

    code = "MODEL_NOT_REMOVABLE"
    caller_error = True


class ModelInstallFailed(MeetingBuddyError):
    """(ours) No source could install the model (no package, pip and the download failed) or
    what came is damaged; the message lists what was tried."""

    code = "MODEL_INSTALL_FAILED"
