"""(ours) Full-text search across the transcripts of every session (app/search.py)."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from app.api.errors import error_responses
from app.api.routes_sessions import MAX_OFFSET, Manager
from app.api.schemas import SearchResultsOut
from app.search import DEFAULT_LIMIT, MAX_LIMIT, MAX_QUERY_CHARS, MOMENT_PATTERN, check_range, parse_moment
from app.sessions import MAX_NAME
from app.workers import off_loop

router = APIRouter(tags=["search"])

Moment = Annotated[str | None, Query(
    pattern=MOMENT_PATTERN,
    description="UTC ISO 8601 date-time (2025-12-01T09:00:00Z) or date (2025-12-01: the whole day)")]


@router.get("/search", response_model=SearchResultsOut,
            summary="(ours) Search the transcripts of every session, best match first",
            responses=error_responses(422))
async def search(
    manager: Manager,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS,
                            description="the words to look for: every word must occur in the line; "
                                        "\"quoted words\" as a phrase; word* for every word it begins; "
                                        "other punctuation is only text")],
    speaker: Annotated[str | None, Query(min_length=1, max_length=MAX_NAME,
                                         description="only lines this speaker said (case does not matter)")] = None,
    since: Moment = None,
    until: Moment = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    raw: Annotated[bool, Query(description="read q as SQLite FTS5 query syntax (AND, OR, NOT, NEAR, "
                                           "prefix*); a query it cannot read is a VALIDATION_ERROR")] = False,
) -> dict[str, Any]:
    """Transcript lines of every session (copies from other Meeting Buddy instances included)
    that match `q`, ranked by bm25, each with a plain-text snippet and the matched spans. Only
    a session's current transcript is searched (the refined one once the after-meeting pass has
    replaced the live one). `since`/`until` keep sessions by `created_at`, both ends included."""
    start = parse_moment(since, "since", end_of_day=False)
    end = parse_moment(until, "until", end_of_day=True)
    check_range(start, end)
    page = await off_loop(manager.store.search, q, speaker=speaker, since=start, until=end,
                          limit=limit, offset=offset, raw=raw)
    return page.to_dict()
