"""One exception type per failure of the Meeting Buddy contract (API.md error codes).

Each carries the API error code, HTTP status and details, so the REST server, the command
line and the GUI report the same failure the same way.
"""
from __future__ import annotations

import secrets
from typing import Any

from app.timeutil import iso_now


class MeetingBuddyError(Exception):
    """Base of every error the product reports to a user or API client."""

    code = "INTERNAL_ERROR"
    status = 500

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = dict(details or {})

    @property
    def type(self) -> str:
        return "client_error" if self.status < 500 else "server_error"

    def envelope(self, trace_id: str | None = None) -> dict[str, Any]:
        """The documented error envelope."""
        return {
            "success": False,
            "error": {
                "code": self.code,
                "message": self.message,
                "type": self.type,
                "status": self.status,
                "details": self.details,
                "trace_id": trace_id or secrets.token_hex(8),
                "timestamp": iso_now(),
            },
        }

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class AuthenticationRequired(MeetingBuddyError):
    code, status = "AUTHENTICATION_REQUIRED", 401


class InvalidApiKey(MeetingBuddyError):
    code, status = "INVALID_API_KEY", 401


class InvalidMeetingLink(MeetingBuddyError):
    code, status = "INVALID_MEETING_LINK", 422

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details={"field": "meeting_link", **(details or {})})


class UnsupportedPlatform(MeetingBuddyError):
    code, status = "UNSUPPORTED_PLATFORM", 422

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details={"field": "meeting_link", **(details or {})})


class ValidationError(MeetingBuddyError):
    code, status = "VALIDATION_ERROR", 422

    def __init__(self, message: str, *, field: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details={"field": field, **(details or {})})


class SessionNotFound(MeetingBuddyError):
    code, status = "SESSION_NOT_FOUND", 404

    def __init__(self, session_id: str) -> None:
        super().__init__(f"Session {session_id!r} not found", details={"session_id": session_id})


class SessionStartFailed(MeetingBuddyError):
    code, status = "SESSION_START_FAILED", 500


class SessionReadOnly(MeetingBuddyError):
    """A change to a session this Meeting Buddy does not own (or an import over one it does)."""

    code, status = "SESSION_READ_ONLY", 409


class InternalError(MeetingBuddyError):
    code, status = "INTERNAL_ERROR", 500


class IllegalTransition(RuntimeError):
    """A status change the state machine forbids: a bug in the caller, never applied."""


class StorageError(MeetingBuddyError):
    """The data folder cannot hold what must be written (disk full, unwritable, outside the root)."""

    code, status = "STORAGE_ERROR", 500
