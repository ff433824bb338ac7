"""Analytics over the stored sessions: summary, trends, duration distribution, status
breakdown and the live sessions. Pure functions of a list of sessions (and the clock), so
every number can be checked against the sessions it came from."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from app.errors import ValidationError
from app.models import Session, Status
from app.timeutil import parse_iso

Granularity = Literal["day", "week", "month"]
DEFAULT_TREND_DAYS = 30
MAX_PERIODS = 1000


def _durations(sessions: Iterable[Session]) -> list[float]:
    return [s.total_duration_seconds for s in sessions if s.total_duration_seconds is not None]


def _hours(seconds: Iterable[float]) -> float:
    return round(sum(seconds) / 3600, 3)


def _avg_minutes(seconds: list[float]) -> float:
    return round(sum(seconds) / len(seconds) / 60, 2) if seconds else 0.0


def _percentage(count: int, total: int) -> float:
    return round(100 * count / total, 1) if total else 0.0


def summary(sessions: list[Session]) -> dict[str, Any]:
    statuses = Counter(s.status for s in sessions)
    durations = _durations(sessions)
    return {
        "session_count": len(sessions),
        "completed_count": statuses[Status.COMPLETED.value],
        "failed_count": statuses[Status.FAILED.value],
        "active_count": sum(1 for s in sessions if not s.is_terminal),
        "total_duration_hours": _hours(durations),
        "avg_duration_minutes": _avg_minutes(durations),
        "by_platform": dict(sorted(Counter(s.platform for s in sessions).items())),
    }


# -- trends --------------------------------------------------------------------------------

def period_start(day: date, granularity: Granularity) -> date:
    if granularity == "week":
        return day - timedelta(days=day.weekday())  # weeks start on Monday (ISO 8601)
    if granularity == "month":
        return day.replace(day=1)
    return day


def _next_period(start: date, granularity: Granularity) -> date:
    if granularity == "week":
        return start + timedelta(days=7)
    if granularity == "month":
        return date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return start + timedelta(days=1)


def _period_count(first: date, last: date, granularity: Granularity) -> int:
    if granularity == "month":
        return (last.year - first.year) * 12 + last.month - first.month + 1
    return (last - first).days // (7 if granularity == "week" else 1) + 1


def _days_before(day: date, days: int) -> date:
    try:
        return day - timedelta(days=days)
    except OverflowError:  # the calendar starts at 0001-01-01
        return date.min


@dataclass(frozen=True)
class TrendRange:
    start_date: date
    end_date: date
    granularity: Granularity

    @classmethod
    def resolve(cls, start_date: date | None, end_date: date | None,
                granularity: Granularity, today: date) -> TrendRange:
        """Fill the defaults (the last 30 days) and refuse a reversed or oversized range."""
        end = end_date or today
        start = start_date or _days_before(end, DEFAULT_TREND_DAYS - 1)
        if start > end:
            raise ValidationError("start_date must not be after end_date", field="start_date")
        count = _period_count(period_start(start, granularity), period_start(end, granularity),
                              granularity)
        if count > MAX_PERIODS:
            raise ValidationError(
                f"The range holds {count} periods of one {granularity}; at most {MAX_PERIODS} "
                "are served: narrow it or choose a coarser granularity", field="start_date")
        return cls(start, end, granularity)

    def periods(self) -> list[date]:
        first = period_start(self.start_date, self.granularity)
        count = _period_count(first, period_start(self.end_date, self.granularity),
                              self.granularity)
        out = [first]
        while len(out) < count:  # never steps past the last period (date.max is near)
            out.append(_next_period(out[-1], self.granularity))
        return out


def _created_day(session: Session) -> date | None:
    try:
        created = parse_iso(session.created_at)
    except (TypeError, ValueError):
        return None
    return created.date() if created else None


def trends(sessions: list[Session], span: TrendRange) -> dict[str, Any]:
    buckets: dict[date, list[Session]] = {p: [] for p in span.periods()}
    for session in sessions:
        day = _created_day(session)
        if day is not None and span.start_date <= day <= span.end_date:
            buckets[period_start(day, span.granularity)].append(session)
    data = []
    for period, members in buckets.items():
        durations = _durations(members)
        statuses = Counter(s.status for s in members)
        data.append({
            "period": period.isoformat(),
            "session_count": len(members),
            "completed_count": statuses[Status.COMPLETED.value],
            "failed_count": statuses[Status.FAILED.value],
            "total_duration_hours": _hours(durations),
            "avg_duration_minutes": _avg_minutes(durations),
        })
    return {"granularity": span.granularity, "data": data}


# -- distribution and breakdown ------------------------------------------------------------

DURATION_BUCKETS: tuple[tuple[str, float, float | None], ...] = (
    ("under 5 min", 0, 300),
    ("5-15 min", 300, 900),
    ("15-30 min", 900, 1800),
    ("30-60 min", 1800, 3600),
    ("1-2 h", 3600, 7200),
    ("over 2 h", 7200, None),
)


def duration_distribution(sessions: list[Session]) -> dict[str, Any]:
    """Sessions with a known duration, by length; min inclusive, max exclusive."""
    durations = _durations(sessions)
    buckets = []
    for label, low, high in DURATION_BUCKETS:
        count = sum(1 for d in durations if d >= low and (high is None or d < high))
        buckets.append({"label": label, "min_seconds": float(low),
                        "max_seconds": None if high is None else float(high), "count": count,
                        "percentage": _percentage(count, len(durations))})
    return {"total": len(durations), "buckets": buckets}


def status_breakdown(sessions: list[Session]) -> dict[str, Any]:
    counts = Counter(s.status for s in sessions)
    return {"dimension": "status", "total": len(sessions),
            "items": [{"label": status.value, "count": counts[status.value],
                       "percentage": _percentage(counts[status.value], len(sessions))}
                      for status in Status]}


def active(sessions: list[Session], now: datetime) -> list[dict[str, Any]]:
    out = []
    for s in sessions:
        if s.is_terminal:
            continue
        joined = parse_iso(s.join_timestamp)
        out.append({
            "session_id": s.session_id, "meeting_link": s.meeting_link, "platform": s.platform,
            "status": s.status, "bot_name": s.bot_name, "join_timestamp": s.join_timestamp,
            "current_participants": s.current_participants,
            "duration_so_far_seconds": (None if joined is None else
                                        round(max(0.0, (now - joined).total_seconds()), 3)),
        })
    return out
