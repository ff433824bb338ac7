"""Analytics over the stored sessions: summary, trends, duration distribution, status
breakdown and the live sessions. Pure functions of a list of sessions (and the clock), so
every number can be checked against the sessions it came from."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Literal

from app.errors import ValidationError
from app.models import Session, Status
from app.timeutil import parse_iso

Granularity = Literal["day", "week", "month"]
DEFAULT_DAYS = 30
MAX_PERIODS = 1000
# The published list of what counts as active: a leaving bot is on its way out.
ACTIVE_STATUSES = frozenset({Status.INITIALIZING, Status.JOINING, Status.ACTIVE, Status.RECORDING})
_EARLIEST = datetime.min.replace(tzinfo=timezone.utc)


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
        "completed_count": statuses[Status.COMPLETED],
        "failed_count": statuses[Status.FAILED],
        "active_count": sum(1 for s in sessions if s.status in ACTIVE_STATUSES),
        "total_duration_hours": _hours(durations),
        "avg_duration_minutes": _avg_minutes(durations),
        "by_platform": dict(sorted(Counter(s.platform for s in sessions).items())),
    }


# -- the date range ------------------------------------------------------------------------

def _created(session: Session) -> datetime | None:
    try:
        return parse_iso(session.created_at)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Span:
    """The sessions created from `start` to `end` (UTC, both included)."""

    start: datetime
    end: datetime

    @classmethod
    def resolve(cls, start: datetime | None, end: datetime | None, now: datetime) -> Span:
        """Fill the defaults (the 30 days up to now) and refuse a reversed range."""
        end = end or now
        if start is None:
            try:
                start = end - timedelta(days=DEFAULT_DAYS)
            except OverflowError:  # the calendar starts at 0001-01-01
                start = _EARLIEST
        if start > end:
            raise ValidationError("start_date must not be after end_date", field="start_date")
        return cls(start, end)

    def dated(self, sessions: Iterable[Session]) -> list[tuple[datetime, Session]]:
        """The sessions created in the span, each with its creation time."""
        return [(created, s) for s in sessions
                if (created := _created(s)) is not None and self.start <= created <= self.end]

    def select(self, sessions: Iterable[Session]) -> list[Session]:
        return [s for _, s in self.dated(sessions)]


# -- trends --------------------------------------------------------------------------------

def period_start(day: date, granularity: Granularity) -> date:
    if granularity == "week":
        return day - timedelta(days=day.weekday())  # weeks start on Monday (ISO 8601)
    if granularity == "month":
        return day.replace(day=1)
    return day


def period_label(start: date, granularity: Granularity) -> str:
    if granularity == "week":
        year, week, _ = start.isocalendar()
        return f"{year:04d}-W{week:02d}"
    if granularity == "month":
        return f"{start.year:04d}-{start.month:02d}"
    return start.isoformat()


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


@dataclass(frozen=True)
class TrendPlan:
    span: Span
    granularity: Granularity
    periods: tuple[date, ...]  # the first day of each period, in order

    @classmethod
    def of(cls, span: Span, granularity: Granularity) -> TrendPlan:
        """Every period the span touches; refuses more than MAX_PERIODS."""
        first = period_start(span.start.date(), granularity)
        count = _period_count(first, period_start(span.end.date(), granularity), granularity)
        if count > MAX_PERIODS:
            raise ValidationError(
                f"The range holds {count} periods of one {granularity}; at most {MAX_PERIODS} "
                "are served: narrow it or choose a coarser granularity", field="start_date")
        periods = [first]
        while len(periods) < count:  # never steps past the last period (date.max is near)
            periods.append(_next_period(periods[-1], granularity))
        return cls(span, granularity, tuple(periods))


def trends(sessions: list[Session], plan: TrendPlan) -> dict[str, Any]:
    buckets: dict[date, list[Session]] = {p: [] for p in plan.periods}
    for created, session in plan.span.dated(sessions):
        buckets[period_start(created.date(), plan.granularity)].append(session)
    data = []
    for period, members in buckets.items():
        durations = _durations(members)
        statuses = Counter(s.status for s in members)
        data.append({
            "period": period_label(period, plan.granularity),
            "session_count": len(members),
            "completed_count": statuses[Status.COMPLETED],
            "failed_count": statuses[Status.FAILED],
            "total_duration_hours": _hours(durations),
            "avg_duration_minutes": _avg_minutes(durations),
        })
    return {"granularity": plan.granularity, "data": data}


# -- distribution and breakdown ------------------------------------------------------------

# (label, min_seconds, max_seconds); the last bucket has no fixed end.
DURATION_BUCKETS: tuple[tuple[str, float, float | None], ...] = (
    ("0-5 min", 0, 300),
    ("5-15 min", 300, 900),
    ("15-30 min", 900, 1800),
    ("30-60 min", 1800, 3600),
    ("60-120 min", 3600, 7200),
    ("120+ min", 7200, None),
)


def duration_distribution(sessions: list[Session], span: Span) -> dict[str, Any]:
    """Sessions of the span with a known duration, by length: min inclusive, max exclusive;
    the last bucket ends at the longest duration counted (inclusive)."""
    durations = _durations(span.select(sessions))
    buckets = []
    for label, low, high in DURATION_BUCKETS:
        count = sum(1 for d in durations if d >= low and (high is None or d < high))
        buckets.append({"label": label, "min_seconds": float(low),
                        "max_seconds": float(max([low, *durations]) if high is None else high),
                        "count": count, "percentage": _percentage(count, len(durations))})
    return {"total": len(durations), "buckets": buckets}


def status_breakdown(sessions: list[Session], span: Span) -> dict[str, Any]:
    chosen = span.select(sessions)
    counts = Counter(s.status for s in chosen)
    return {"dimension": "status", "total": len(chosen),
            "items": [{"label": status.value, "count": counts[status],
                       "percentage": _percentage(counts[status], len(chosen))}
                      for status in Status]}


def active(sessions: list[Session], now: datetime) -> list[dict[str, Any]]:
    out = []
    for s in sessions:
        if s.status not in ACTIVE_STATUSES:
            continue
        joined = parse_iso(s.join_timestamp)
        out.append({
            "session_id": s.session_id, "meeting_link": s.meeting_link, "platform": s.platform,
            "status": s.status, "bot_name": s.bot_name, "join_timestamp": s.join_timestamp,
            "current_participants": list(s.current_participants),  # keyed by name
            "duration_so_far_seconds": (None if joined is None else
                                        round(max(0.0, (now - joined).total_seconds()), 3)),
        })
    return out
