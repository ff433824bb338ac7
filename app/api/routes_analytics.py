"""Analytics endpoints, computed from every session in the store (copies from other
Meeting Buddy instances included); all but the summary and the active sessions count the
sessions created in a date range."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from app.api import analytics
from app.api.errors import error_responses
from app.api.routes_sessions import Manager
from app.api.schemas import (
    ActiveSessionOut,
    DurationDistributionOut,
    StatusBreakdownOut,
    SummaryOut,
    TrendsOut,
    utc_timestamp,
)
from app.errors import ValidationError
from app.models import Session
from app.sessions import SessionManager
from app.timeutil import parse_iso, utc_now
from app.workers import off_loop

router = APIRouter(prefix="/analytics", tags=["analytics"])


async def _over_sessions(manager: SessionManager, compute: Callable[[list[Session]], Any]) -> Any:
    # Reading and summing every session is kept off the event loop.
    return await off_loop(lambda: compute(manager.store.all_sessions()))


@router.get("/summary", response_model=SummaryOut, summary="Totals",
            responses=error_responses())
async def summary(manager: Manager) -> dict[str, Any]:
    return await _over_sessions(manager, analytics.summary)


# A plain date or an RFC 3339 date-time with its zone; nothing looser (a lenient parser
# would read `0` as 1970-01-01).
MomentParam = Annotated[str | None, Query(
    pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
            r"([Zz]|[+-][0-9]{2}:[0-9]{2}))?$",
    description="UTC ISO 8601 date-time (2025-12-01T00:00:00Z) or date (2025-12-01: the "
                "whole day)")]


def _moment(value: str | None, field: str, *, end_of_day: bool) -> datetime | None:
    if value is None:
        return None
    try:
        if len(value) == len("2025-12-01"):
            day = date.fromisoformat(value)
            return datetime.combine(day, time.max if end_of_day else time.min, timezone.utc)
        return parse_iso(utc_timestamp(value))
    except ValueError:
        raise ValidationError(f"{field} is not a real date and time: {value}", field=field) from None


def _span(start_date: MomentParam = None, end_date: MomentParam = None) -> analytics.Span:
    """The range of creation times that counts: by default the 30 days up to now."""
    return analytics.Span.resolve(_moment(start_date, "start_date", end_of_day=False),
                                  _moment(end_date, "end_date", end_of_day=True), utc_now())


Span = Annotated[analytics.Span, Depends(_span)]


@router.get("/trends", response_model=TrendsOut, summary="Sessions per day, week or month",
            responses=error_responses(422))
async def trends(manager: Manager, span: Span,
                 granularity: analytics.Granularity = "day") -> dict[str, Any]:
    """Sessions by creation time (UTC). Periods are labelled 2025-12-15 (day), 2025-W50
    (ISO week, from Monday) and 2025-12 (month); every period of the range is listed."""
    plan = analytics.TrendPlan.of(span, granularity)
    return await _over_sessions(manager, lambda sessions: analytics.trends(sessions, plan))


@router.get("/duration-distribution", response_model=DurationDistributionOut,
            summary="Sessions by length", responses=error_responses(422))
async def duration_distribution(manager: Manager, span: Span) -> dict[str, Any]:
    return await _over_sessions(
        manager, lambda sessions: analytics.duration_distribution(sessions, span))


@router.get("/status-breakdown", response_model=StatusBreakdownOut,
            summary="Sessions by status", responses=error_responses(422))
async def status_breakdown(manager: Manager, span: Span) -> dict[str, Any]:
    return await _over_sessions(manager, lambda sessions: analytics.status_breakdown(sessions, span))


@router.get("/active", response_model=list[ActiveSessionOut],
            summary="Sessions initializing, joining, active or recording",
            responses=error_responses())
async def active(manager: Manager) -> list[dict[str, Any]]:
    now = utc_now()
    return await _over_sessions(manager, lambda sessions: analytics.active(sessions, now))
