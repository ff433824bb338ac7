"""How session facts read on screen: names, statuses, times, durations, sizes."""
from __future__ import annotations

from datetime import datetime, timezone

from app.models import PLATFORM_NAMES, Session, Status
from app.timeutil import parse_iso

MISSING = "—"


STATUS_LABELS = {
    Status.INITIALIZING.value: "Starting",
    Status.JOINING.value: "Joining",
    Status.ACTIVE.value: "In meeting",
    Status.RECORDING.value: "Recording",
    Status.LEAVING.value: "Leaving",
    Status.COMPLETED.value: "Completed",
    Status.FAILED.value: "Failed",
}

# Badge colours: readable white text on both the light and the dark theme.
STATUS_COLORS = {
    Status.INITIALIZING.value: "#8a6d00",
    Status.JOINING.value: "#b26a00",
    Status.ACTIVE.value: "#1f6fd1",
    Status.RECORDING.value: "#d0312d",
    Status.LEAVING.value: "#7a5c99",
    Status.COMPLETED.value: "#2e7d32",
    Status.FAILED.value: "#8e2424",
}


def platform_name(platform: str) -> str:
    return PLATFORM_NAMES.get(platform, platform or MISSING)


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def local_time(iso_text: str | None, *, with_date: bool = True) -> str:
    parsed = parse_iso(iso_text) if iso_text else None
    if parsed is None:
        return MISSING
    local = parsed.astimezone()
    return local.strftime("%Y-%m-%d %H:%M") if with_date else local.strftime("%H:%M:%S")


def clock(seconds: float | None) -> str:
    """1:02:03 or 02:03."""
    if seconds is None:
        return MISSING
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def session_duration(session: Session, now: datetime | None = None) -> float | None:
    """Seconds in the meeting: final for a finished session, running for a live one."""
    if session.total_duration_seconds is not None:
        return session.total_duration_seconds
    joined = parse_iso(session.join_timestamp) if session.join_timestamp else None
    if joined is None:
        return None
    end = parse_iso(session.leave_timestamp) if session.leave_timestamp else None
    return ((end or now or datetime.now(timezone.utc)) - joined).total_seconds()


def file_size(size: int | None) -> str:
    if size is None:
        return MISSING
    if size < 1024:
        return f"{size} bytes"
    value = size / 1024
    for unit in ("KB", "MB", "GB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"
