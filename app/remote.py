"""Client of a Meeting Buddy API: the published service, or another computer's
`meeting-buddy serve`.

`AsyncMeetingBuddyClient` covers every endpoint with typed results; the blocking
`MeetingBuddyClient` wraps it for the command line. Answers are read as published (bare
arrays, `meet` as well as `google_meet`, timestamps with or without milliseconds), and our
documented extensions are welcome where a server adds them. An extension the remote lacks
(listing, export, import, purge) is reported as such, never taken for done.

An error envelope becomes one `RemoteApiError` carrying the server's code, status, message
and details; a server that cannot be reached becomes `RemoteUnavailable`. Requests are
retried with exponential backoff and jitter on 429, 5xx and connection failures, waiting as
long as `Retry-After` (or the X-RateLimit-* headers) ask. SSE streams reconnect by
themselves and resume with `Last-Event-ID`, so nothing is lost or doubled. The bearer
token never travels in plain text: http:// is refused except to this computer.
"""
from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import random
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Literal, TypeVar
from urllib.parse import quote, urlsplit

import httpx
import pydantic
from httpx_sse import SSEError, aconnect_sse
from pydantic import BaseModel, RootModel, field_validator

from app.api.schemas import (
    ActiveSessionOut,
    DurationDistributionOut,
    PublishedTranscript,
    SessionOut,
    StatusBreakdownOut,
    TrendsOut,
    utc_timestamp,
)
from app.errors import MeetingBuddyError, ValidationError
from app.models import Platform, Session, TranscriptSegment
from app.store import SessionPage

log = logging.getLogger(__name__)

API_PREFIX = "/v1/meeting-buddy"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# A POST /sessions that reached the server must not be repeated (it would start a second
# bot); these answers say the server did not act on it.
_NOT_PROCESSED_STATUSES = frozenset({429, 503})

Channel = Literal["status", "transcripts", "logs"]
_STREAM_PATHS: dict[str, str] = {
    "status": "/sessions/{id}/stream",
    "transcripts": "/sessions/{id}/transcripts/stream",
    "logs": "/sessions/{id}/logs/stream",
}


# Answers that say "no such endpoint here": the remote lacks the extension asked for.
_MISSING_STATUSES = frozenset({404, 405, 501})

# What a 401 means, in words: the published codes, and what to do about each.
_AUTH_WORDS = {
    "AUTHENTICATION_REQUIRED": "The remote API needs a token and got none",
    "INVALID_API_KEY": "The remote API does not know this token: check that it was copied whole",
    "TOKEN_EXPIRED": "The remote API token has expired: get a new token from the remote "
                     "service and set it again",
    "API_KEY_EXPIRED": "The remote API key has expired: create a new key on the remote "
                       "service and set it again",
}


class InsecureApiUrl(ValidationError):
    """A plain http:// URL to another computer: the bearer token would travel readable."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="api_url")


class RemoteApiError(MeetingBuddyError):
    """The remote API answered with an error (its envelope, or a non-contract error page)."""

    def __init__(self, code: str, status: int, message: str,
                 details: dict[str, Any] | None = None, trace_id: str | None = None) -> None:
        super().__init__(message, details=details)
        self.code = code
        self.status = status    # the remote's HTTP status
        self.caller_error = 400 <= status < 500
        self.trace_id = trace_id


class RemoteFeatureMissing(RemoteApiError):
    """The remote API lacks one of this Meeting Buddy's extensions (listing sessions, export,
    import): it answered that the endpoint does not exist there."""

    def __init__(self, feature: str, base_url: str, answer: RemoteApiError) -> None:
        super().__init__(answer.code, answer.status,
                         f"The remote API at {base_url} does not offer {feature}: it is an "
                         f"extension of Meeting Buddy's own API ({answer.status} {answer.code})",
                         answer.details, answer.trace_id)
        self.feature = feature


class RemoteUnavailable(MeetingBuddyError):
    """The remote API could not be reached (refused, timed out, dropped) after the retries."""

    code = "REMOTE_UNAVAILABLE"


@dataclass(frozen=True)
class ExportedTranscript:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class StreamEvent:
    event: str            # status (joins and leaves included), transcript, log or close
    data: dict[str, Any]
    id: str | None        # the server's event id, where it sends one (ours do)


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or an address) is this computer."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def api_base(base_url: str) -> str:
    """`https://host` or the full `.../v1/meeting-buddy` URL, as the API's base URL;
    http:// only to this computer, since every request carries the token."""
    base = base_url.strip().rstrip("/")
    scheme = base.partition("://")[0].lower()
    try:
        host = urlsplit(base).hostname or ""
    except ValueError:
        host = ""
    if scheme not in ("http", "https") or not host:
        raise ValidationError(f"The API URL must be https://host[:port][/path], not {base_url!r}",
                              field="api_url")
    if scheme == "http" and not is_loopback(host):
        raise InsecureApiUrl(
            f"Refusing to send the API token unencrypted to {host}: use https:// (http:// is "
            "accepted only for this computer: localhost, 127.0.0.1 or ::1)")
    return base if base.endswith(API_PREFIX) else base + API_PREFIX


def _seconds(value: str | None) -> float | None:
    try:
        return None if value is None else max(0.0, float(value))
    except ValueError:
        return None


def _http_date_wait(value: str | None) -> float | None:
    try:
        when = parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _retry_after(response: httpx.Response) -> float | None:
    """How long the server asks us to wait: Retry-After (seconds or an HTTP date), else
    X-RateLimit-Retry-After, else until X-RateLimit-Reset when nothing remains."""
    headers = response.headers
    retry_after = headers.get("Retry-After")
    wait = _seconds(retry_after)
    if wait is None:
        wait = _http_date_wait(retry_after)
    if wait is None:
        wait = _seconds(headers.get("X-RateLimit-Retry-After"))
    reset = _seconds(headers.get("X-RateLimit-Reset"))
    if wait is None and reset is not None and headers.get("X-RateLimit-Remaining") == "0":
        # Published as Unix seconds; a small number can only be seconds from now.
        wait = max(0.0, reset - time.time()) if reset > 1e9 else reset
    return wait


class _ErrorBody(BaseModel):
    code: str
    message: str
    status: int | None = None
    details: dict[str, Any] | None = None
    trace_id: str | None = None


class _ErrorEnvelope(BaseModel):
    error: _ErrorBody


def _error_from(response: httpx.Response) -> RemoteApiError:
    try:
        error = _ErrorEnvelope.model_validate_json(response.content).error
    except pydantic.ValidationError:
        return RemoteApiError("UNEXPECTED_RESPONSE", response.status_code,
                              f"HTTP {response.status_code} from {response.request.url} "
                              "without a Meeting Buddy error envelope")
    message = error.message
    if response.status_code == 401:
        words = _AUTH_WORDS.get(error.code.upper(), "The remote API did not accept the token")
        message = f"{words} (the server says: {error.message})"
    return RemoteApiError(error.code, error.status or response.status_code, message,
                          error.details, error.trace_id)


# -- the published shapes, as read ------------------------------------------------------------

def _platform(value: Any) -> Any:
    # The published active-sessions page writes `meet` where the Session has `google_meet`.
    return Platform.GOOGLE_MEET.value if value == "meet" else value


def _timestamp(value: str | None) -> str | None:
    return None if value is None else utc_timestamp(value)


class RemoteSession(SessionOut):
    """A Session as a remote serves it, normalized to the form this Meeting Buddy stores."""

    read_platform = field_validator("platform", mode="before")(_platform)
    read_times = field_validator("created_at", "updated_at", "join_timestamp",
                                 "leave_timestamp")(_timestamp)


class RemoteTranscript(PublishedTranscript):
    session_id: str | None = None  # ours; the published segment leaves it out

    read_times = field_validator("created_at")(_timestamp)


class RemoteActiveSession(ActiveSessionOut):
    read_platform = field_validator("platform", mode="before")(_platform)
    read_times = field_validator("join_timestamp")(_timestamp)


class RemoteSessionPage(BaseModel):
    data: list[RemoteSession]
    total_count: int
    has_more: bool


class RemoteTranscripts(RootModel[list[RemoteTranscript]]):
    pass


class RemoteActiveSessions(RootModel[list[RemoteActiveSession]]):
    pass


Shape = TypeVar("Shape", bound=BaseModel)


def _read_failure(what: str) -> RemoteApiError:
    return RemoteApiError("UNEXPECTED_RESPONSE", 502, f"The remote API's answer is not {what}")


def _read(shape: type[Shape], data: Any, what: str) -> Shape:
    """`data` as `shape`, or UNEXPECTED_RESPONSE naming the first thing that does not fit."""
    try:
        return shape.model_validate(data)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the answer"
        raise _read_failure(f"{what} ({where}: {first['msg']})") from None


def _session(data: Any) -> Session:
    return Session.from_dict(_read(RemoteSession, data, "a Session").model_dump(),
                             copy_values=False)


def _filename(response: httpx.Response, fallback: str) -> str:
    disposition = response.headers.get("Content-Disposition", "")
    for part in disposition.split(";"):
        key, _, value = part.strip().partition("=")
        if key.lower() == "filename" and value:
            name = value.strip('"').replace("/", "_").replace("\\", "_")
            return name.lstrip(".") or fallback
    return fallback


class AsyncMeetingBuddyClient:
    def __init__(self, base_url: str, token: str, *, timeout: float = 15.0, retries: int = 3,
                 backoff_s: float = 0.5, max_backoff_s: float = 30.0,
                 max_retry_after_s: float = 120.0, stream_read_timeout_s: float = 60.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.base_url = api_base(base_url)
        self.retries = max(0, retries)
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.max_retry_after_s = max_retry_after_s
        self.timeout = timeout
        # Longer than the server's 15 s keepalive, so only a dead stream times out.
        self.stream_read_timeout_s = stream_read_timeout_s
        self._http = httpx.AsyncClient(
            timeout=timeout, transport=transport,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})

    async def __aenter__(self) -> AsyncMeetingBuddyClient:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- the retrying request -------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.max_backoff_s, self.backoff_s * 2 ** attempt)
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # jitter spreads out retries

    def _url(self, path: str) -> str:
        return self.base_url + path

    async def _request(self, method: str, path: str, *, idempotent: bool = True,
                       extension: str | None = None, **kwargs: Any) -> httpx.Response:
        """The answer to one request, retried as the module says. `extension` names what
        the request asks of one of our extensions, so that a remote without it says so."""
        attempt = 0
        while True:
            last = attempt >= self.retries
            try:
                response = await self._http.request(method, self._url(path), **kwargs)
            except httpx.TransportError as exc:
                # Only a connection that never opened is safe to retry for a non-idempotent call.
                unsent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
                if last or not (idempotent or unsent):
                    raise RemoteUnavailable(
                        f"Cannot reach {self.base_url}: {type(exc).__name__}"
                        + ("" if idempotent or unsent else " (the request may have been acted on)")
                    ) from exc
                delay = self._backoff(attempt)
                log.info("%s %s failed (%s); retry in %.1f s", method, path,
                         type(exc).__name__, delay)
                await asyncio.sleep(delay)
                attempt += 1
                continue
            status = response.status_code
            retryable = status in (RETRY_STATUSES if idempotent else _NOT_PROCESSED_STATUSES)
            if retryable and not last:
                wait = _retry_after(response)
                if wait is not None and wait > self.max_retry_after_s:
                    raise _error_from(response)  # the server asks for longer than we may wait
                delay = wait if wait is not None else self._backoff(attempt)
                log.info("%s %s answered %d; retry in %.1f s", method, path, status, delay)
                await asyncio.sleep(delay)
                attempt += 1
                continue
            if response.is_error:
                error = _error_from(response)
                if extension and status in _MISSING_STATUSES and error.code != "SESSION_NOT_FOUND":
                    raise RemoteFeatureMissing(extension, self.base_url, error)
                raise error
            return response

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self._request(method, path, **kwargs)
        try:
            return response.json()
        except ValueError as exc:
            raise RemoteApiError("UNEXPECTED_RESPONSE", response.status_code,
                                 f"{method} {path} did not answer JSON") from exc

    @staticmethod
    def _id(session_id: str) -> str:
        return quote(session_id, safe="")

    # -- sessions -------------------------------------------------------------------------

    async def start_session(self, meeting_link: str, *, bot_name: str | None = None,
                            transcription_enabled: bool | None = None,
                            transcription_language: str | None = None) -> Session:
        body = {"meeting_link": meeting_link, "bot_name": bot_name,
                "transcription_enabled": transcription_enabled,
                "transcription_language": transcription_language}
        return _session(await self._json(
            "POST", "/sessions", idempotent=False,
            json={k: v for k, v in body.items() if v is not None}))

    async def list_sessions(self, *, status: str | None = None, platform: str | None = None,
                            limit: int = 20, offset: int = 0) -> SessionPage:
        """(ours) A page of sessions, newest first."""
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if status:
            params["status"] = status
        if platform:
            params["platform"] = platform
        page = _read(RemoteSessionPage, await self._json(
            "GET", "/sessions", params=params, extension="listing sessions (GET /sessions)"),
            "a page of sessions")
        return SessionPage([Session.from_dict(s.model_dump(), copy_values=False) for s in page.data],
                           page.total_count, page.has_more)

    async def iter_sessions(self, *, page_size: int = 100) -> AsyncIterator[Session]:
        """(ours) Every session, newest first, page by page."""
        offset = 0
        while True:
            page = await self.list_sessions(limit=page_size, offset=offset)
            for session in page.data:
                yield session
            if not page.has_more or not page.data:
                return
            offset += len(page.data)

    async def get_session(self, session_id: str) -> Session:
        return _session(await self._json("GET", f"/sessions/{self._id(session_id)}"))

    async def stop_session(self, session_id: str) -> Session:
        return _session(await self._json("POST", f"/sessions/{self._id(session_id)}/stop"))

    async def delete_session(self, session_id: str) -> Session | None:
        """(ours) Remove the session, its transcripts and files: None once removed.

        The published service's DELETE only stops a session and keeps it: then the stopped
        Session is returned, and nothing was removed.
        """
        response = await self._request("DELETE", f"/sessions/{self._id(session_id)}",
                                       params={"purge": "true"})
        if response.status_code == 204:
            return None
        log.warning("%s only stopped session %s on DELETE; it keeps the session",
                    self.base_url, session_id)
        try:
            return _session(response.json())
        except ValueError:
            raise _read_failure("a Session") from None

    async def transcripts(self, session_id: str) -> list[TranscriptSegment]:
        """Final segments by start time. Published as a bare array; a Meeting Buddy before
        this contract wrapped it in `data`."""
        body = await self._json("GET", f"/sessions/{self._id(session_id)}/transcripts")
        if isinstance(body, dict) and "data" in body:
            body = body["data"]
        segments = _read(RemoteTranscripts, body, "a list of transcript segments").root
        return [TranscriptSegment(**{**t.model_dump(), "session_id": t.session_id or session_id})
                for t in segments]

    async def export_transcript(self, session_id: str, fmt: str) -> ExportedTranscript:
        """(ours) The transcript as a file."""
        response = await self._request(
            "GET", f"/sessions/{self._id(session_id)}/transcripts/export", params={"format": fmt},
            extension="transcript export (GET /sessions/{id}/transcripts/export)")
        return ExportedTranscript(
            _filename(response, f"{session_id}.{fmt}"),
            response.headers.get("Content-Type", "application/octet-stream"), response.content)

    async def import_session(self, session: Session, transcripts: list[TranscriptSegment], *,
                             origin: str | None = None) -> Session:
        """(ours) PUT a whole session and its transcripts (sync); the newer updated_at wins
        there."""
        body: dict[str, Any] = {"session": session.to_dict(),
                                "transcripts": [t.to_dict() for t in transcripts]}
        if origin:
            body["origin"] = origin
        return _session(await self._json(
            "PUT", f"/sessions/{self._id(session.session_id)}", json=body,
            extension="importing sessions (PUT /sessions/{id})"))

    # -- analytics ------------------------------------------------------------------------

    async def analytics_summary(self) -> dict[str, Any]:
        """(ours) Totals over every session."""
        return await self._json("GET", "/analytics/summary")

    @staticmethod
    def _range(start_date: str | None, end_date: str | None) -> dict[str, str]:
        return {k: v for k, v in (("start_date", start_date), ("end_date", end_date)) if v}

    async def analytics_trends(self, *, start_date: str | None = None,
                               end_date: str | None = None,
                               granularity: str = "day") -> dict[str, Any]:
        params = {"granularity": granularity, **self._range(start_date, end_date)}
        body = await self._json("GET", "/analytics/trends", params=params)
        return _read(TrendsOut, body, "session trends").model_dump()

    async def analytics_duration_distribution(self, *, start_date: str | None = None,
                                              end_date: str | None = None) -> dict[str, Any]:
        body = await self._json("GET", "/analytics/duration-distribution",
                                params=self._range(start_date, end_date))
        return _read(DurationDistributionOut, body, "a duration distribution").model_dump()

    async def analytics_status_breakdown(self, *, start_date: str | None = None,
                                         end_date: str | None = None) -> dict[str, Any]:
        body = await self._json("GET", "/analytics/status-breakdown",
                                params=self._range(start_date, end_date))
        return _read(StatusBreakdownOut, body, "a status breakdown").model_dump()

    async def analytics_active(self) -> list[dict[str, Any]]:
        body = await self._json("GET", "/analytics/active")
        return _read(RemoteActiveSessions, body, "a list of active sessions").model_dump()

    # -- streams --------------------------------------------------------------------------

    async def stream(self, session_id: str, channel: Channel = "status", *,
                     last_event_id: str | None = None,
                     reconnect: bool = True) -> AsyncGenerator[StreamEvent, None]:
        """Events of one session until the server's `close` (which is yielded last).

        A dropped connection is reopened with `Last-Event-ID` (up to `retries` times in a
        row), so the caller sees every event once. Pass `last_event_id="0"` to replay what
        the server still holds from the session's start. Close it with
        `contextlib.aclosing` when leaving before the end.
        """
        if channel not in _STREAM_PATHS:
            raise ValueError(f"channel must be one of {sorted(_STREAM_PATHS)}")
        path = _STREAM_PATHS[channel].format(id=self._id(session_id))
        timeout = httpx.Timeout(self.timeout, read=self.stream_read_timeout_s)
        failures = 0
        while True:
            headers = {} if last_event_id is None else {"Last-Event-ID": str(last_event_id)}
            try:
                async with aconnect_sse(self._http, "GET", self._url(path), headers=headers,
                                        timeout=timeout) as source:
                    response = source.response
                    if response.is_error:
                        await response.aread()
                        if response.status_code not in RETRY_STATUSES:
                            raise _error_from(response)
                        raise _RetryableStatus(_retry_after(response), _error_from(response))
                    async for sse in source.aiter_sse():
                        failures = 0
                        if sse.id:
                            last_event_id = sse.id
                        try:
                            data = json.loads(sse.data) if sse.data else {}
                        except ValueError:
                            raise _read_failure(f"JSON in its {sse.event!r} event") from None
                        yield StreamEvent(sse.event, data, sse.id or None)
                        if sse.event == "close":
                            return
                reason: str = "the stream ended without a close event"
                wait: float | None = None
            except _RetryableStatus as exc:
                reason, wait = exc.error.message, exc.retry_after
                too_long = wait is not None and wait > self.max_retry_after_s
                if not reconnect or failures >= self.retries or too_long:
                    raise exc.error from None
            except (httpx.TransportError, SSEError) as exc:
                reason, wait = type(exc).__name__, None
            if not reconnect or failures >= self.retries:
                raise RemoteUnavailable(f"The {channel} stream of {session_id} was lost: {reason}")
            delay = wait if wait is not None else self._backoff(failures)
            failures += 1
            log.info("%s stream of %s lost (%s); reconnecting in %.1f s from event %s",
                     channel, session_id, reason, delay, last_event_id)
            await asyncio.sleep(delay)


class _RetryableStatus(Exception):
    def __init__(self, retry_after: float | None, error: RemoteApiError) -> None:
        self.retry_after = retry_after
        self.error = error


class MeetingBuddyClient:
    """Blocking wrapper of `AsyncMeetingBuddyClient` (for scripts and the command line).

    Runs the async client on a private event loop; call it from a thread with no running
    loop.
    """

    def __init__(self, base_url: str, token: str, **options: Any) -> None:
        self._client = AsyncMeetingBuddyClient(base_url, token, **options)  # refuses a bad URL
        self._loop = asyncio.new_event_loop()

    @property
    def base_url(self) -> str:
        return self._client.base_url

    def _run(self, coro: Any) -> Any:
        return self._loop.run_until_complete(coro)

    def close(self) -> None:
        if not self._loop.is_closed():
            self._run(self._client.aclose())
            self._loop.close()

    def __enter__(self) -> MeetingBuddyClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def start_session(self, meeting_link: str, **options: Any) -> Session:
        return self._run(self._client.start_session(meeting_link, **options))

    def list_sessions(self, **filters: Any) -> SessionPage:
        return self._run(self._client.list_sessions(**filters))

    def get_session(self, session_id: str) -> Session:
        return self._run(self._client.get_session(session_id))

    def stop_session(self, session_id: str) -> Session:
        return self._run(self._client.stop_session(session_id))

    def delete_session(self, session_id: str) -> Session | None:
        return self._run(self._client.delete_session(session_id))

    def transcripts(self, session_id: str) -> list[TranscriptSegment]:
        return self._run(self._client.transcripts(session_id))

    def export_transcript(self, session_id: str, fmt: str) -> ExportedTranscript:
        return self._run(self._client.export_transcript(session_id, fmt))

    def import_session(self, session: Session, transcripts: list[TranscriptSegment],
                       **options: Any) -> Session:
        return self._run(self._client.import_session(session, transcripts, **options))

    def analytics_summary(self) -> dict[str, Any]:
        return self._run(self._client.analytics_summary())

    def analytics_trends(self, **options: Any) -> dict[str, Any]:
        return self._run(self._client.analytics_trends(**options))

    def analytics_duration_distribution(self, **options: Any) -> dict[str, Any]:
        return self._run(self._client.analytics_duration_distribution(**options))

    def analytics_status_breakdown(self, **options: Any) -> dict[str, Any]:
        return self._run(self._client.analytics_status_breakdown(**options))

    def analytics_active(self) -> list[dict[str, Any]]:
        return self._run(self._client.analytics_active())

    def stream(self, session_id: str, channel: Channel = "status",
               **options: Any) -> Iterator[StreamEvent]:
        events = self._client.stream(session_id, channel, **options)
        try:
            while True:
                try:
                    yield self._run(events.__anext__())
                except StopAsyncIteration:
                    return
        finally:
            self._run(events.aclose())
