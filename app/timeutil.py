"""Timestamps as the contract writes them: ISO 8601, UTC, with a trailing Z."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import overload


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    dt = dt.astimezone(timezone.utc)
    # Four-digit years always (strftime leaves years before 1000 unpadded on some platforms).
    return f"{dt.year:04d}-" + dt.strftime("%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def iso_now() -> str:
    return iso(utc_now())  # type: ignore[return-value]


@overload
def parse_iso(text: str) -> datetime: ...
@overload
def parse_iso(text: str | None) -> datetime | None: ...
def parse_iso(text: str | None) -> datetime | None:
    if text is None:
        return None
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)
