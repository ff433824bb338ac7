"""Client of a Meeting Buddy API (a remote one, or another computer's `meeting-buddy serve`).

`AsyncMeetingBuddyClient` covers every endpoint of the contract with typed results; the
blocking `MeetingBuddyClient` wraps it for the command line. An error envelope becomes one
`RemoteApiError` carrying the server's code, status, message and details; a server that
cannot be reached becomes `RemoteUnavailable`. Requests are retried with exponential backoff
and jitter on 429, 5xx and connection failures, waiting as long as a `Retry-After` asks. SSE
streams reconnect by themselves and resume with `Last-Event-ID`, so nothing is lost or
doubled.
"""
from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import quote

import httpx
from httpx_sse import SSEError, aconnect_sse

from app.errors import MeetingBuddyError, ValidationError
from app.models import Session, TranscriptSegment
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


class RemoteApiError(MeetingBuddyError):
    """The remote API answered with an error (its envelope, or a non-contract error page)."""

    def __init__(self, code: str, status: int, message: str,
                 details: dict[str, Any] | None = None, trace_id: str | None = None) -> None:
        super().__init__(message, details=details)
        self.code = code
        self.status = status    # the remote's HTTP status
        self.caller_error = 400 <= status < 500
        self.trace_id = trace_id


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
    event: str            # status, participant, transcript, log or close
    data: dict[str, Any]
    id: str | None        # the server's event id (a bus sequence number)


def api_base(base_url: str) -> str:
    """`http://host:port` or the full `.../v1/meeting-buddy` URL, as the API's base URL."""
    base = base_url.strip().rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise ValidationError(f"The API URL must start with http:// or https://, not {base_url!r}",
                              field="api_url")
    return base if base.endswith(API_PREFIX) else base + API_PREFIX


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _error_from(response: httpx.Response) -> RemoteApiError:
    try:
        error = response.json()["error"]
        return RemoteApiError(str(error["code"]), int(error.get("status", response.status_code)),
                              str(error["message"]), dict(error.get("details") or {}),
                              error.get("trace_id"))
    except (ValueError, KeyError, TypeError, AttributeError):
        return RemoteApiError("UNEXPECTED_RESPONSE", response.status_code,
                              f"HTTP {response.status_code} from {response.request.url} "
                              "without a Meeting Buddy error envelope")


_SEGMENT_FIELDS = frozenset(f.name for f in fields(TranscriptSegment))


def _segment(data: dict[str, Any], session_id: str) -> TranscriptSegment:
    """A transcript segment as served (the contract's fields; others are ignored)."""
    known = {k: v for k, v in data.items() if k in _SEGMENT_FIELDS}
    known.setdefault("session_id", session_id)
    return TranscriptSegment(**known)


def _unexpected(what: str) -> RemoteApiError:
    return RemoteApiError("UNEXPECTED_RESPONSE", 502, f"The remote API's answer is not {what}")


def _session(data: Any) -> Session:
    try:
        return Session.from_dict(data)
    except (TypeError, AttributeError) as exc:
        raise _unexpected("a Session") from exc


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
                       **kwargs: Any) -> httpx.Response:
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
                raise _error_from(response)
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
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if status:
            params["status"] = status
        if platform:
            params["platform"] = platform
        page = await self._json("GET", "/sessions", params=params)
        try:
            return SessionPage([_session(s) for s in page["data"]], int(page["total_count"]),
                               bool(page["has_more"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise _unexpected("a page of sessions") from exc

    async def iter_sessions(self, *, page_size: int = 100) -> AsyncIterator[Session]:
        """Every session, newest first, page by page."""
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

    async def delete_session(self, session_id: str) -> None:
        """Stop if running, then remove the session, its transcripts and files (purge)."""
        await self._request("DELETE", f"/sessions/{self._id(session_id)}",
                            params={"purge": "true"})

    async def transcripts(self, session_id: str) -> list[TranscriptSegment]:
        body = await self._json("GET", f"/sessions/{self._id(session_id)}/transcripts")
        try:
            return [_segment(t, session_id) for t in body["data"]]
        except (KeyError, TypeError, AttributeError) as exc:
            raise _unexpected("a list of transcript segments") from exc

    async def export_transcript(self, session_id: str, fmt: str) -> ExportedTranscript:
        response = await self._request(
            "GET", f"/sessions/{self._id(session_id)}/transcripts/export", params={"format": fmt})
        return ExportedTranscript(
            _filename(response, f"{session_id}.{fmt}"),
            response.headers.get("Content-Type", "application/octet-stream"), response.content)

    async def import_session(self, session: Session, transcripts: list[TranscriptSegment], *,
                             origin: str | None = None) -> Session:
        """PUT a whole session and its transcripts (sync); the newer updated_at wins there."""
        body: dict[str, Any] = {"session": session.to_dict(),
                                "transcripts": [t.to_dict() for t in transcripts]}
        if origin:
            body["origin"] = origin
        return _session(await self._json(
            "PUT", f"/sessions/{self._id(session.session_id)}", json=body))

    # -- analytics ------------------------------------------------------------------------

    async def analytics_summary(self) -> dict[str, Any]:
        return await self._json("GET", "/analytics/summary")

    async def analytics_trends(self, *, start_date: str | None = None,
                               end_date: str | None = None,
                               granularity: str = "day") -> dict[str, Any]:
        params = {"granularity": granularity}
        params.update({k: v for k, v in (("start_date", start_date), ("end_date", end_date)) if v})
        return await self._json("GET", "/analytics/trends", params=params)

    async def analytics_duration_distribution(self) -> dict[str, Any]:
        return await self._json("GET", "/analytics/duration-distribution")

    async def analytics_status_breakdown(self) -> dict[str, Any]:
        return await self._json("GET", "/analytics/status-breakdown")

    async def analytics_active(self) -> list[dict[str, Any]]:
        return await self._json("GET", "/analytics/active")

    # -- streams --------------------------------------------------------------------------

    async def stream(self, session_id: str, channel: Channel = "status", *,
                     last_event_id: str | None = None,
                     reconnect: bool = True) -> AsyncIterator[StreamEvent]:
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
                            raise _unexpected(f"JSON in its {sse.event!r} event") from None
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
        self._loop = asyncio.new_event_loop()
        self._client = AsyncMeetingBuddyClient(base_url, token, **options)

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

    def delete_session(self, session_id: str) -> None:
        self._run(self._client.delete_session(session_id))

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

    def analytics_duration_distribution(self) -> dict[str, Any]:
        return self._run(self._client.analytics_duration_distribution())

    def analytics_status_breakdown(self) -> dict[str, Any]:
        return self._run(self._client.analytics_status_breakdown())

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
