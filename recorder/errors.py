"""The media layer's own errors. They say what broke in words a user can read; the session
runners in `app/` decide what each one means for a session (its error code)."""
from __future__ import annotations

from typing import Any


class MediaError(Exception):
    """Base of the failures the recorder reports (capture, storage, models)."""

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = dict(details or {})


class StorageError(MediaError):
    """A recording file cannot be written (disk full, unwritable folder)."""


class AudioCaptureError(MediaError):
    """Audio could not be captured (device missing or lost, unreadable file)."""


class ScreenCaptureError(MediaError):
    """The screen (or the requested part of it) cannot be captured."""
