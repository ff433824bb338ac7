"""The published Meeting Buddy API (docs.aitronos.com, api-reference/meeting-buddy), for the
contract tests: its shapes, and a stand-in service that answers as its pages show.

The shapes are the pages' field tables, written down in published_shapes.txt as the pages
print them (not taken from this project's code); a check refuses any field they do not list,
except the ones a test names as this project's documented extensions (ours).
"""
from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, StrictBool, StrictFloat, StrictInt, StrictStr, create_model
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

# -- the published shapes --------------------------------------------------------------------

_TYPES: dict[str, Any] = {"string": StrictStr, "integer": StrictInt,
                          "number": StrictInt | StrictFloat, "boolean": StrictBool,
                          "object": dict[str, Any], "array": list[Any], "strings": list[StrictStr],
                          "false": Literal[False]}


class _Published(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _type(spec: str) -> Any:
    name, nullable = spec.removesuffix(" or null"), spec.endswith(" or null")
    kind = _TYPES[name] if name in _TYPES else Literal[tuple(name.split("|"))]
    return kind | None if nullable else kind


def _load(path: Path) -> dict[str, type[BaseModel]]:
    shapes: dict[str, type[BaseModel]] = {}
    lines = [line for line in path.read_text("utf-8").splitlines() if not line.startswith("#")]
    for block in "\n".join(lines).strip().split("\n\n"):
        title, *rows = block.splitlines()
        name, _, base = title.partition(" extends ")
        fields = dict(row.split(maxsplit=1) for row in rows)
        shapes[name] = create_model(name, __base__=shapes.get(base, _Published),
                                    **{field: (_type(spec), ...) for field, spec in fields.items()})
    return shapes


SHAPES = _load(Path(__file__).with_name("published_shapes.txt"))


def check(shape: str, data: Any, *, ours: frozenset[str] = frozenset()) -> Any:
    """`data` as the published object `shape`, once the fields in `ours` are set aside (each
    of them one this project documents as an extension)."""
    assert isinstance(data, dict), data
    return SHAPES[shape].model_validate({k: v for k, v in data.items() if k not in ours})


def check_error(body: Any) -> Any:
    """The published error envelope, its trace_id a UUID."""
    error = check("ErrorBody", check("ErrorEnvelope", body).error)
    assert str(uuid.UUID(error.trace_id)) == error.trace_id
    return error


# -- the stand-in service --------------------------------------------------------------------

TOKEN = "published-token"
EXPIRED_TOKEN = "published-token-expired"
DONE = "mbsess_pubdone0000000000000001"
LIVE = "mbsess_publive0000000000000001"
TERMINAL = ("completed", "failed")


def _now() -> str:
    # As the pages write timestamps: whole seconds, no milliseconds.
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _session(session_id: str, status: str, created: str, **fields: Any) -> dict[str, Any]:
    return {"session_id": session_id, "organization_id": "org_pub", "user_id": "usr_pub",
            "meeting_link": "https://meet.google.com/pub-lish-ed", "platform": "google_meet",
            "bot_name": "Meeting Buddy", "status": status, "transcription_enabled": True,
            "transcription_language": "en", "debug_mode": False, "created_at": created,
            "updated_at": created, "join_timestamp": None, "leave_timestamp": None,
            "total_duration_seconds": None, "segment_count": None, "audio_file_count": None,
            "video_file_count": None, "total_size_bytes": None,
            "output_directory": f"recordings/org_pub/{session_id}", "error_message": None,
            "error_code": None, "metadata": {}, "current_participants": {},
            "participant_history": [], **fields}


def _segment(number: int, text: str, start: float, speaker: str) -> dict[str, Any]:
    return {"transcript_id": f"mbtrans_pub{number:04d}", "text": text, "confidence": 0.9,
            "start_time": start, "end_time": start + 1.5, "speaker": speaker,
            "language_code": "en", "created_at": "2025-12-11T09:05:00Z"}


class PublishedService:
    """Stands in for the real Meeting Buddy service, which cannot be reached from the test
    machine: it answers as the published reference pages show and offers nothing they do
    not (no session list, export, import or purge; its DELETE only stops a session).

    Where the pages are silent it answers as any such service would: one session by id
    (GET /sessions/{id}, which has no page of its own) is the Session object the start and
    stop pages describe; an unknown path is a 404 and a wrong method a 405, both in the
    published error envelope.
    """

    def __init__(self) -> None:
        self.sessions = {
            DONE: _session(DONE, "completed", "2025-12-10T09:00:00Z",
                           updated_at="2025-12-10T10:00:00Z", join_timestamp="2025-12-10T09:01:00Z",
                           leave_timestamp="2025-12-10T10:00:00Z", total_duration_seconds=3540),
            LIVE: _session(LIVE, "recording", "2025-12-11T09:00:00Z",
                           updated_at="2025-12-11T09:06:00Z", join_timestamp="2025-12-11T09:01:00Z",
                           current_participants={"Alice": {"joined_at": "2025-12-11T09:02:00Z"}}),
        }
        self.transcripts = {DONE: [_segment(1, "Welcome, everyone.", 0.5, "Alice"),
                                   _segment(2, "Thanks for having me.", 2.5, "Bob")],
                            LIVE: [_segment(3, "Let us begin.", 1.0, "Alice")]}
        self.events: dict[str, list[tuple[str, dict[str, Any]]]] = {
            DONE: [("status", self._status(DONE, "recording", "active")),
                   ("status", self._status(DONE, "recording", "recording", "Bob", "joined")),
                   ("status", self._status(DONE, "leaving", "recording")),
                   ("status", self._status(DONE, "completed", "leaving"))],
            LIVE: [("status", self._status(LIVE, "recording", "active"))],
        }
        self.throttled = 0  # answer this many next requests with 429
        self.requests: list[tuple[str, str]] = []
        self.app = Starlette(routes=[
            Route("/v1/meeting-buddy/sessions", self.start, methods=["POST"]),
            Route("/v1/meeting-buddy/sessions/{sid}", self.show, methods=["GET"]),
            Route("/v1/meeting-buddy/sessions/{sid}", self.stop, methods=["DELETE"]),
            Route("/v1/meeting-buddy/sessions/{sid}/stop", self.stop, methods=["POST"]),
            Route("/v1/meeting-buddy/sessions/{sid}/transcripts", self.segments, methods=["GET"]),
            Route("/v1/meeting-buddy/sessions/{sid}/stream", self.stream, methods=["GET"]),
            Route("/v1/meeting-buddy/analytics/trends", self.trends, methods=["GET"]),
            Route("/v1/meeting-buddy/analytics/duration-distribution", self.distribution,
                  methods=["GET"]),
            Route("/v1/meeting-buddy/analytics/active", self.active, methods=["GET"]),
        ], exception_handlers={HTTPException: self._http_error, _Answer: self._answer})

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            self.requests.append((scope["method"], scope["path"]))
            refusal = self._gate(Request(scope))
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)

    # -- answers as the pages show them ------------------------------------------------------

    @staticmethod
    def error(status: int, code: str, message: str, details: dict | None = None,
              headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse({"success": False, "error": {
            "code": code, "message": message, "system_message": f"{code}: {message}",
            "type": "client_error" if status < 500 else "server_error", "status": status,
            "details": details, "trace_id": str(uuid.uuid4()), "timestamp": _now()}},
            status_code=status, headers=headers)

    def _gate(self, request: Request) -> Response | None:
        authorization = request.headers.get("authorization", "")
        if not authorization:
            return self.error(401, "AUTHENTICATION_REQUIRED", "Authentication required")
        if authorization == f"Bearer {EXPIRED_TOKEN}":
            return self.error(401, "TOKEN_EXPIRED", "Token has expired")
        if authorization != f"Bearer {TOKEN}":
            return self.error(401, "INVALID_API_KEY", "Invalid API key")
        if self.throttled:
            self.throttled -= 1
            return self.error(429, "RATE_LIMIT_EXCEEDED", "Too many requests", headers={
                "Retry-After": "1", "X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(int(time.time()) + 1)})
        return None

    async def _http_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 405:
            return self.error(405, "METHOD_NOT_ALLOWED", "Method not allowed")
        return self.error(404, "NOT_FOUND", "Not found")

    async def _answer(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, _Answer)
        return exc.response

    def _found(self, request: Request) -> dict[str, Any]:
        sid = request.path_params["sid"]
        if sid not in self.sessions:
            raise _Answer(self.error(404, "SESSION_NOT_FOUND", f"Session {sid} not found",
                                     {"session_id": sid}))
        return self.sessions[sid]

    def _status(self, sid: str, status: str, previous: str | None, name: str | None = None,
                event: str | None = None) -> dict[str, Any]:
        data = {"session_id": sid, "status": status, "previous_status": previous,
                "timestamp": _now(), "error_message": None, "error_code": None}
        return data if name is None else {**data, "participant_name": name, "event": event}

    async def start(self, request: Request) -> Response:
        body = await request.json()
        link = body.get("meeting_link", "")
        if not link.startswith("https://"):
            return self.error(422, "INVALID_MEETING_LINK", "Meeting link must be a valid HTTPS URL",
                              {"field": "meeting_link"})
        sid = f"mbsess_pub{uuid.uuid4().hex[:20]}"
        self.sessions[sid] = _session(sid, "initializing", _now(), meeting_link=link,
                                      bot_name=body.get("bot_name", "Meeting Buddy"))
        self.transcripts[sid], self.events[sid] = [], []
        return JSONResponse(self.sessions[sid], status_code=201)

    async def show(self, request: Request) -> Response:
        return JSONResponse(self._found(request))

    async def stop(self, request: Request) -> Response:
        """Stops (DELETE and POST /stop alike); idempotent; the session stays."""
        session = self._found(request)
        if session["status"] not in TERMINAL:
            self.stop_now(session["session_id"])
        return JSONResponse(session)

    def stop_now(self, sid: str) -> None:
        """The bot leaves and the session completes, as a stop or the meeting's end would."""
        session, now = self.sessions[sid], _now()
        history = self.events[sid]
        for name in list(session["current_participants"]):
            history.append(("status", self._status(sid, session["status"], session["status"],
                                                   name, "left")))
        history.append(("status", self._status(sid, "leaving", session["status"])))
        history.append(("status", self._status(sid, "completed", "leaving")))
        session.update(status="completed", updated_at=now, leave_timestamp=now,
                       current_participants={}, total_duration_seconds=600)

    async def segments(self, request: Request) -> Response:
        self._found(request)
        return JSONResponse(self.transcripts[request.path_params["sid"]])  # a bare array

    async def stream(self, request: Request) -> Response:
        sid = self._found(request)["session_id"]

        async def frames():
            sent = 0
            while True:
                history = self.events[sid]
                for name, data in history[sent:]:
                    yield f"event: {name}\ndata: {json.dumps(data)}\n\n"
                sent = len(history)
                if self.sessions[sid]["status"] in TERMINAL:
                    yield 'event: close\ndata: {"reason": "session_ended"}\n\n'
                    return
                await asyncio.sleep(0.05)
        return StreamingResponse(frames(), media_type="text/event-stream")

    async def trends(self, request: Request) -> Response:
        granularity = request.query_params.get("granularity", "day")
        period = {"day": "2025-12-10", "week": "2025-W50", "month": "2025-12"}[granularity]
        return JSONResponse({"granularity": granularity, "data": [
            {"period": period, "session_count": 2, "completed_count": 1, "failed_count": 0,
             "total_duration_hours": 0.983, "avg_duration_minutes": 59.0}]})

    async def distribution(self, request: Request) -> Response:
        buckets = [("0-5 min", 0, 300, 0), ("5-15 min", 300, 900, 0), ("15-30 min", 900, 1800, 0),
                   ("30-60 min", 1800, 3600, 1)]
        return JSONResponse({"total": 1, "buckets": [
            {"label": label, "min_seconds": low, "max_seconds": high, "count": count,
             "percentage": 100.0 * count} for label, low, high, count in buckets]})

    async def active(self, request: Request) -> Response:
        return JSONResponse([
            {"session_id": s["session_id"], "meeting_link": s["meeting_link"],
             "platform": "meet" if s["platform"] == "google_meet" else s["platform"],
             "status": s["status"], "bot_name": s["bot_name"],
             "join_timestamp": s["join_timestamp"],
             "current_participants": list(s["current_participants"]),
             "duration_so_far_seconds": 300.0}
            for s in self.sessions.values()
            if s["status"] in ("initializing", "joining", "active", "recording")])


class _Answer(Exception):
    """Ends a handler with a ready answer (an error envelope)."""

    def __init__(self, response: Response) -> None:
        self.response = response
