"""The three SSE streams of a session: status (joins and leaves included), transcripts, logs.

Each event is written as `id:` (the bus sequence number), `event:` and one `data:` line of
JSON. A participant joining or leaving goes out as a `status` event carrying
`participant_name` and `event`, as published. A `: keepalive` comment goes out when nothing
happened for the keepalive interval. When the session reaches completed or failed, a
`close` event `{"reason": "session_ended"}` ends the stream. `Last-Event-ID` replays, from
the bus history, every event after that id (`0`: all the history kept); a stream opened on
a finished session without it sends `close` at once — unless the after-meeting pass
(app/refine.py) is queued or running on it: then the stream (ours) carries that pass's
`refine` events (status and log streams) and its `transcript_revision` event (transcript
stream) and closes when the pass ends; the same for a meeting notes job (app/notes/, ours):
its `notes` events go out on the status and log streams.
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
from app.api.schemas import (
    LogEventData,
    NotesEventData,
    ParticipantEventData,
    RefineEventData,
    StatusEventData,
    TranscriptEventData,
    TranscriptRevisionEventData,
    sse_schema,
)
from app.errors import SessionReadOnly
from app.events import AsyncSubscription, SessionEvent
from app.models import Status
from app.sessions import SessionManager

router = APIRouter(tags=["streams"])

CLOSE_DATA = json.dumps({"reason": "session_ended"})
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


def _event_frame(event: SessionEvent) -> str:
    """A bus event as the published streams name and shape it."""
    name, data = event.kind, event.data
    if name == "participant":
        name = "status"
    elif name == "log":
        data = {**data, "details": data.get("details") or None}
    return _frame(event.seq, name, json.dumps(data))


def _is_end(event: SessionEvent, jobs: dict[str, str]) -> bool:
    """The session ended, or (on a finished session) the last of the jobs the stream follows
    (kind -> created_at: the after-meeting pass, the notes) ended."""
    if jobs:
        if (event.kind in jobs and event.data.get("created_at") == jobs[event.kind]
                and event.data.get("state") not in _JOB_GOING):
            del jobs[event.kind]
            return not jobs
        return False
    return event.kind == "status" and event.data.get("status") in _TERMINAL


_JOB_GOING = frozenset({"queued", "running"})


def _active_jobs(manager: SessionManager, session_id: str) -> dict[str, str]:
    """The session's after-meeting pass and notes job that are queued or running, by kind."""
    jobs = {"refine": manager.refiner.job(session_id), "notes": manager.notetaker.job(session_id)}
    return {kind: job.created_at for kind, job in jobs.items() if job is not None and job.active}


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
                                     session_id=session_id, kinds=set(kinds | {"status", "refine", "notes"}),
                                     after_seq=last_event_id)
    app.state.streams.add(subscription)
    try:
        history = manager.bus.history(session_id)
        position = history[-1].seq if history else (last_event_id or 0)
        # Looked at after subscribing: a job that ends from now on has its end in the queue.
        jobs = _active_jobs(manager, session_id)
        if _finished(manager, session_id) and not jobs:
            # Replay what the client missed (resume; after the end, passes over the
            # recording), never wait for more.
            while last_event_id is not None and not subscription.queue.empty():
                missed = subscription.queue.get_nowait()
                if missed.kind in kinds:
                    yield _event_frame(missed)
            yield _frame(position, "close", CLOSE_DATA)
            return
        while True:
            event = await subscription.get(timeout=app.state.keepalive_s)
            if event is None:
                yield ": keepalive\n\n"
                continue
            if event is _SERVER_STOPPING:
                return
            if event.kind in kinds:
                yield _event_frame(event)
            if _is_end(event, jobs):
                yield _frame(event.seq, "close", CLOSE_DATA)
                return
    finally:
        app.state.streams.discard(subscription)
        subscription.close()


def _sse_responses(events: dict[str, tuple[type[BaseModel], ...]]) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": "An SSE stream; each event as described",
                  "content": {"text/event-stream": {"schema": sse_schema(events)}}},
            **error_responses(404, 409, 422)}

# A string on the wire (SSE ids are strings); ours are bus sequence numbers.
LastEventId = Annotated[str | None, Header(alias="Last-Event-ID", pattern=r"^[0-9]{1,18}$",
                                           description="(ours) resume after this event id")]


def _stream(request: Request, manager: SessionManager, session_id: str, kinds: frozenset[str],
            last_event_id: str | None) -> StreamingResponse:
    load_session(manager, session_id)  # 404 before the stream starts
    if manager.store.session_origin(session_id)[0] and not _finished(manager, session_id):
        # A running copy from another Meeting Buddy gets no live events here.
        raise SessionReadOnly(f"Session {session_id} is a copy from another Meeting Buddy; its "
                              "live events are streamed by the Meeting Buddy that records it")
    after = None if last_event_id is None else int(last_event_id)
    return StreamingResponse(
        _events(request.app, session_id, kinds, after),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.get("/sessions/{session_id}/stream", response_class=StreamingResponse,
            summary="Status events: status changes, joins and leaves; (ours) the after-meeting pass and notes",
            responses=_sse_responses({"status": (StatusEventData, ParticipantEventData),
                                      "refine": (RefineEventData,), "notes": (NotesEventData,)}))
async def status_stream(session_id: str, request: Request, manager: Manager,
                        last_event_id: LastEventId = None) -> StreamingResponse:
    return _stream(request, manager, session_id, frozenset({"status", "participant", "refine", "notes"}),
                   last_event_id)


@router.get("/sessions/{session_id}/transcripts/stream", response_class=StreamingResponse,
            summary="Partial and final transcript events; (ours) the stored transcript replaced",
            responses=_sse_responses({"transcript": (TranscriptEventData,),
                                      "transcript_revision": (TranscriptRevisionEventData,)}))
async def transcript_stream(session_id: str, request: Request, manager: Manager,
                            last_event_id: LastEventId = None) -> StreamingResponse:
    return _stream(request, manager, session_id, frozenset({"transcript", "transcript_revision"}),
                   last_event_id)


@router.get("/sessions/{session_id}/logs/stream", response_class=StreamingResponse,
            summary="Session log events; (ours) the after-meeting pass and notes",
            responses=_sse_responses({"log": (LogEventData,), "refine": (RefineEventData,),
                                      "notes": (NotesEventData,)}))
async def log_stream(session_id: str, request: Request, manager: Manager,
                     last_event_id: LastEventId = None) -> StreamingResponse:
    return _stream(request, manager, session_id, frozenset({"log", "refine", "notes"}), last_event_id)
