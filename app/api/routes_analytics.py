"""Analytics endpoints, computed from every session in the store (copies from other
Meeting Buddy instances included)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from app.api import analytics
from app.api.errors import error_responses
from app.api.routes_sessions import Manager
from app.api.schemas import (
    ActiveSessionOut,
    DurationDistributionOut,
    StatusBreakdownOut,
    SummaryOut,
    TrendsOut,
)
from app.errors import ValidationError
from app.models import Session
from app.sessions import SessionManager
from app.timeutil import utc_now
from app.workers import off_loop

router = APIRouter(prefix="/analytics", tags=["analytics"])


async def _over_sessions(manager: SessionManager, compute: Callable[[list[Session]], Any]) -> Any:
    # Reading and summing every session is kept off the event loop.
    return await off_loop(lambda: compute(manager.store.all_sessions()))


@router.get("/summary", response_model=SummaryOut, summary="Totals",
            responses=error_responses())
async def summary(manager: Manager) -> dict[str, Any]:
    return await _over_sessions(manager, analytics.summary)


# Exactly YYYY-MM-DD: a lenient parser would read `0` as 1970-01-01.
DateParam = Annotated[str, Query(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
                                 json_schema_extra={"format": "date"})]


def _day(value: str | None, field: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{field} is not a real date: {value}", field=field) from None


@router.get("/trends", response_model=TrendsOut, summary="Sessions per day, week or month",
            responses=error_responses(422))
async def trends(manager: Manager, start_date: DateParam = None, end_date: DateParam = None,
                 granularity: analytics.Granularity = "day") -> dict[str, Any]:
    """Sessions by creation date (UTC); the default range is the last 30 days. Weeks start
    on Monday; each period is named by its first day."""
    span = analytics.TrendRange.resolve(_day(start_date, "start_date"), _day(end_date, "end_date"),
                                        granularity, utc_now().date())
    return await _over_sessions(manager, lambda sessions: analytics.trends(sessions, span))


@router.get("/duration-distribution", response_model=DurationDistributionOut,
            summary="Sessions by length", responses=error_responses())
async def duration_distribution(manager: Manager) -> dict[str, Any]:
    return await _over_sessions(manager, analytics.duration_distribution)


@router.get("/status-breakdown", response_model=StatusBreakdownOut,
            summary="Sessions by status", responses=error_responses())
async def status_breakdown(manager: Manager) -> dict[str, Any]:
    return await _over_sessions(manager, analytics.status_breakdown)


@router.get("/active", response_model=list[ActiveSessionOut], summary="Sessions in progress",
            responses=error_responses())
async def active(manager: Manager) -> list[dict[str, Any]]:
    now = utc_now()
    return await _over_sessions(manager, lambda sessions: analytics.active(sessions, now))
