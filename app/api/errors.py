"""Every error the REST server answers, as the documented error envelope.

Besides the contract's codes, the server uses a few of its own (listed in docs/API.md):
NOT_FOUND and METHOD_NOT_ALLOWED for paths and methods it does not serve, and
PAYLOAD_TOO_LARGE for a request body over the limit.
"""
from __future__ import annotations

import json
import logging
import re
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api.schemas import ErrorEnvelope
from app.errors import InternalError, MeetingBuddyError, ValidationError
from app.timeutil import iso_now

log = logging.getLogger(__name__)


class RouteNotFound(MeetingBuddyError):
    code, caller_error = "NOT_FOUND", True


class MethodNotAllowed(MeetingBuddyError):
    code, caller_error = "METHOD_NOT_ALLOWED", True


class PayloadTooLarge(MeetingBuddyError):
    code, caller_error = "PAYLOAD_TOO_LARGE", True


# The HTTP status of each code; a code not listed answers 400 when the caller is at fault,
# else 500.
HTTP_STATUS: dict[str, int] = {
    "AUTHENTICATION_REQUIRED": 401,
    "INVALID_API_KEY": 401,
    "NOT_FOUND": 404,
    "SESSION_NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "SESSION_READ_ONLY": 409,
    "REFINE_UNAVAILABLE": 409,
    "NOTES_UNAVAILABLE": 409,
    "PAYLOAD_TOO_LARGE": 413,
    "INVALID_MEETING_LINK": 422,
    "UNSUPPORTED_PLATFORM": 422,
    "VALIDATION_ERROR": 422,
    "NOTES_BACKEND_FAILED": 502,
    "SESSION_START_FAILED": 500,
    "STORAGE_ERROR": 500,
    "INTERNAL_ERROR": 500,
}


def http_status(exc: MeetingBuddyError) -> int:
    return HTTP_STATUS.get(exc.code, 400 if exc.caller_error else 500)


def new_trace_id() -> str:
    return str(uuid.uuid4())


def envelope(exc: MeetingBuddyError, trace_id: str | None = None) -> dict[str, Any]:
    """The documented error envelope. `system_message` is the technical form of the
    message (code and details) for logs and support; `message` is for people."""
    status = http_status(exc)
    details = exc.details
    technical = f"{exc.code}: {exc.message}"
    if details.get("field"):
        technical += f" (field {details['field']})"
    return {
        "success": False,
        "error": {
            "code": exc.code,
            "message": exc.message,
            "system_message": technical,
            "type": "client_error" if status < 500 else "server_error",
            "status": status,
            "details": details,
            "trace_id": trace_id or new_trace_id(),
            "timestamp": iso_now(),
        },
    }


class AsciiJSONResponse(JSONResponse):
    """JSON with non-ASCII characters escaped: text that is not valid Unicode (a lone
    surrogate from a web page's participant name) still makes a valid answer."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False,
                          separators=(",", ":")).encode("ascii")


def error_response(exc: MeetingBuddyError, *, headers: dict[str, str] | None = None,
                   trace_id: str | None = None) -> JSONResponse:
    return AsciiJSONResponse(envelope(exc, trace_id), status_code=http_status(exc), headers=headers)


# -- request validation -> VALIDATION_ERROR naming the field ----------------------------

_LOCATIONS = {"body", "query", "path", "header", "cookie"}


def _field_of(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if len(parts) > 1 and parts[0] in _LOCATIONS:
        parts = parts[1:]
    return ".".join(parts) or "body"


def _message_of(error: dict[str, Any], field: str) -> str:
    if error.get("type") == "extra_forbidden":
        return f"Unknown field {field!r}"
    if error.get("type") == "missing":
        return f"{field} is required"
    if error.get("type") in ("json_invalid", "model_attributes_type") or field == "body":
        return "The request body must be a JSON object"
    return f"{field}: {error.get('msg', 'invalid value')}"


def validation_error(exc: RequestValidationError) -> ValidationError:
    """The first problem names the field; every problem is listed (values never echoed)."""
    problems = []
    for error in exc.errors():
        # a JSON syntax error's location is a character offset, not a field
        field = "body" if error.get("type") == "json_invalid" else _field_of(tuple(error.get("loc", ())))
        problems.append({"field": field, "message": _message_of(error, field)})
    first = problems[0] if problems else {"field": "body", "message": "Invalid request"}
    return ValidationError(first["message"], field=first["field"], details={"errors": problems})


# -- handlers ----------------------------------------------------------------------------

_STATUS_ERRORS: dict[int, type[MeetingBuddyError]] = {
    404: RouteNotFound,
    405: MethodNotAllowed,
    413: PayloadTooLarge,
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(MeetingBuddyError)
    async def on_meeting_buddy_error(request: Request, exc: MeetingBuddyError) -> JSONResponse:
        trace_id = new_trace_id()
        if http_status(exc) >= 500:
            log.warning("%s on %s %s (trace %s): %s", exc.code, request.method,
                        request.url.path, trace_id, exc.message)
        return error_response(exc, trace_id=trace_id)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(validation_error(exc))

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = _STATUS_ERRORS.get(exc.status_code)
        if kind is not None:
            error: MeetingBuddyError = kind(_http_message(exc))
        elif exc.status_code < 500:
            # FastAPI's 400 for a body it cannot decode: the same answer as malformed JSON
            error = ValidationError("The request body must be a JSON object", field="body")
        else:
            error = InternalError("Internal server error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return error_response(error, headers=headers)

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The trace id ties the client's envelope to the server log; nothing else leaves.
        trace_id = new_trace_id()
        log.error("Unexpected error on %s %s (trace %s)", request.method, request.url.path,
                  trace_id, exc_info=exc)
        return error_response(InternalError("Internal server error"), trace_id=trace_id)


def _allowed_methods(request: Request) -> list[str]:
    """The methods the published document lists for this path (the route that answers 405
    knows only its own)."""
    table = getattr(request.app.state, "allowed_methods", None)
    if table is None:
        table = [(re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$"),
                  sorted(m.upper() for m in operations))
                 for path, operations in request.app.openapi()["paths"].items()]
        request.app.state.allowed_methods = table
    path = request.scope["path"]
    return sorted({m for pattern, methods in table if pattern.match(path) for m in methods})


def _http_message(exc: StarletteHTTPException) -> str:
    if exc.status_code == 404:
        return "No such endpoint"
    if exc.status_code == 405:
        return "Method not allowed on this endpoint"
    return str(exc.detail)


_DESCRIPTIONS = {
    401: "AUTHENTICATION_REQUIRED (no token) or INVALID_API_KEY (wrong token)",
    404: "SESSION_NOT_FOUND",
    409: "SESSION_READ_ONLY: the session is a copy from another Meeting Buddy, or owned here",
    413: "PAYLOAD_TOO_LARGE",
    422: "VALIDATION_ERROR (details.field names the field), INVALID_MEETING_LINK or "
         "UNSUPPORTED_PLATFORM",
    500: "INTERNAL_ERROR or SESSION_START_FAILED",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error envelopes an operation can answer (401 and 500 always)."""
    return {status: {"model": ErrorEnvelope, "description": _DESCRIPTIONS[status]}
            for status in sorted({401, 500, *statuses})}
