"""The three SSE streams of a session: status (+ participants), transcripts, logs.

Each event is written as `id:` (the bus sequence number), `event:` and one `data:` line of
JSON. A `: keepalive` comment goes out when nothing happened for the keepalive interval.
When the session reaches completed or failed, a `close` event `{"reason": "session_ended"}`
ends the stream. `Last-Event-ID` replays, from the bus history, every event after that id
(`0`: all the history kept); a stream opened on a finished session without it sends
`close` at once.
"""
from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Header, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from app.api.errors import error_responses
from app.api.routes_sessions import Manager, load_session
from app.api.schemas import LogEventData, ParticipantEventData, StatusEventData, TranscriptEventData, sse_schema
from app.events import AsyncSubscription, SessionEvent
from app.models import Status
from app.sessions import SessionManager

router = APIRouter(tags=["streams"])

CLOSE_DATA = json.dumps({"reason": "session_ended"})
# A copy from another Meeting Buddy has no live events here: its own server streams them.
CLOSE_REMOTE_COPY = json.dumps({"reason": "remote_copy"})
_TERMINAL = frozenset(s.value for s in Status if s.is_terminal)
# Put into a stream's queue when the server shuts down: the stream ends without `close`
# (the session goes on), and the client resumes elsewhere or later with Last-Event-ID.
_SERVER_STOPPING = SessionEvent("server_stopping", "", {})


def end_open_streams(app: FastAPI) -> None:
    """End every open stream of `app` now (call on its loop)."""
    for subscription in list(app.state.streams):
        subscription.queue.put_nowait(_SERVER_STOPPING)


def _frame(event_id: int, event: str, data: str) -> str:
    return f"id: {event_id}\nevent: {event}\ndata: {data}\n\n"


def _is_end(event: SessionEvent) -> bool:
    return event.kind == "status" and event.data.get("status") in _TERMINAL


def _finished(manager: SessionManager, session_id: str) -> bool:
    """Finished as the bus has told it so far (the store may be a moment ahead of the bus);
    the store decides when the bus holds no status of this session."""
    statuses = manager.bus.history(session_id, kinds={"status"})
    if statuses:
        return statuses[-1].data.get("status") in _TERMINAL
    return manager.get(session_id).is_terminal


async def _events(app: FastAPI, session_id: str, kinds: frozenset[str],
                  last_event_id: int | None) -> AsyncIterator[str]:
    manager: SessionManager = app.state.manager
    # Subscribing replays the history after last_event_id in the same step, so nothing falls
    # between the replay and the live events.
    subscription = AsyncSubscription(manager.bus, asyncio.get_running_loop(),
                                     session_id=session_id, kinds=set(kinds | {"status"}),
                                     after_seq=last_event_id)
    app.state.streams.add(subscription)
    try:
        history = manager.bus.history(session_id)
        position = history[-1].seq if history else (last_event_id or 0)
        finished = _finished(manager, session_id)
        if finished or manager.store.session_origin(session_id)[0]:
            # Replay what the client missed (resume), never wait for more.
            while last_event_id is not None and not subscription.queue.empty():
                event = subscription.queue.get_nowait()
                if event.kind in kinds:
                    yield _frame(event.seq, event.kind, json.dumps(event.data))
                if _is_end(event):
                    break
            yield _frame(position, "close", CLOSE_DATA if finished else CLOSE_REMOTE_COPY)
            return
        while True:
            event = await subscription.get(timeout=app.state.keepalive_s)
            if event is None:
                yield ": keepalive\n\n"
                continue
            if event is _SERVER_STOPPING:
                return
            if event.kind in kinds:
                yield _frame(event.seq, event.kind, json.dumps(event.data))
            if _is_end(event):
                yield _frame(event.seq, "close", CLOSE_DATA)
                return
    finally:
        app.state.streams.discard(subscription)
        subscription.close()


def _sse_responses(events: dict[str, type[BaseModel]]) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": "An SSE stream; each event as described",
                  "content": {"text/event-stream": {"schema": sse_schema(events)}}},
            **error_responses(404, 422)}

# A string on the wire (SSE ids are strings); ours are bus sequence numbers.
LastEventId = Annotated[str, Header(alias="Last-Event-ID", pattern=r"^[0-9]{1,18}$",
                                              description="resume after this event id")]


def _stream(request: Request, manager: SessionManager, session_id: str, kinds: frozenset[str],
            last_event_id: str | None) -> StreamingResponse:
    load_session(manager, session_id)  # 404 before the stream starts
    after = None if last_event_id is None else int(last_event_id)
    return StreamingResponse(
        _events(request.app, session_id, kinds, after),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.get("/sessions/{session_id}/stream", response_class=StreamingResponse,
            summary="Status and participant events",
            responses=_sse_responses({"status": StatusEventData,
                                      "participant": ParticipantEventData}))
async def status_stream(session_id: str, request: Request, manager: Manager,
                        last_event_id: LastEventId = None) -> StreamingResponse:
    return _stream(request, manager, session_id, frozenset({"status", "participant"}),
                   last_event_id)


@router.get("/sessions/{session_id}/transcripts/stream", response_class=StreamingResponse,
            summary="Partial and final transcript events",
            responses=_sse_responses({"transcript": TranscriptEventData}))
async def transcript_stream(session_id: str, request: Request, manager: Manager,
                            last_event_id: LastEventId = None) -> StreamingResponse:
    return _stream(request, manager, session_id, frozenset({"transcript"}), last_event_id)


@router.get("/sessions/{session_id}/logs/stream", response_class=StreamingResponse,
            summary="Session log events", responses=_sse_responses({"log": LogEventData}))
async def log_stream(session_id: str, request: Request, manager: Manager,
                     last_event_id: LastEventId = None) -> StreamingResponse:
    return _stream(request, manager, session_id, frozenset({"log"}), last_event_id)
