"""The httpx client against real servers: the Meeting Buddy API on a loopback port, and tiny
real ASGI apps under uvicorn that answer scripted statuses (429, 503, slow answers) to pin
down retries, Retry-After and timeouts."""
from __future__ import annotations

import asyncio
import json
import socket
import time
from contextlib import aclosing
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from app import cli
from app.errors import MeetingBuddyError
from app.models import Session, TranscriptSegment
from app.remote import (
    AsyncMeetingBuddyClient,
    ExportedTranscript,
    InsecureApiUrl,
    MeetingBuddyClient,
    RemoteApiError,
    RemoteUnavailable,
)
from app.store import SessionPage
from tests.api_helpers import MEET_LINK, TEAMS_LINK, TOKEN, TinyServer

# -- every endpoint, typed -------------------------------------------------------------------

def test_every_endpoint_through_the_blocking_client(server, tmp_path):
    with MeetingBuddyClient(server.url, TOKEN) as client:
        started = client.start_session(TEAMS_LINK, bot_name="Scribe")
        assert isinstance(started, Session) and started.status == "initializing"
        assert started.bot_name == "Scribe" and started.platform == "teams"
        sid = started.session_id
        server.wait_status(sid, "recording")
        server.gates.open_all = True

        page = client.list_sessions(platform="teams", limit=5)
        assert isinstance(page, SessionPage) and page.total_count == 1 and not page.has_more
        assert page.data[0].session_id == sid and isinstance(page.data[0], Session)
        assert client.get_session(sid).status == "recording"
        active = client.analytics_active()
        assert [a["session_id"] for a in active] == [sid]

        stopped = client.stop_session(sid)
        assert stopped.status == "completed" and stopped.metadata["end_reason"] == "STOP_REQUESTED"
        assert client.stop_session(sid) == stopped  # idempotent

        segments = client.transcripts(sid)
        assert all(isinstance(s, TranscriptSegment) for s in segments)
        assert [(s.text, s.speaker, s.session_id) for s in segments] == [
            ("hello everyone", "Alice", sid), ("hi Alice", "Bob", sid)]
        exported = client.export_transcript(sid, "vtt")
        assert isinstance(exported, ExportedTranscript)
        assert exported.filename.endswith(f"{sid}.vtt") and exported.content_type.startswith("text/vtt")
        assert exported.data.startswith(b"WEBVTT") and b"hi Alice" in exported.data

        assert client.analytics_summary()["completed_count"] == 1
        assert client.analytics_status_breakdown()["total"] == 1
        assert client.analytics_duration_distribution()["total"] == 1
        trend = client.analytics_trends(granularity="month")
        assert sum(p["session_count"] for p in trend["data"]) == 1

        # a copy of this session, as another Meeting Buddy would push it
        copy = Session.from_dict({**stopped.to_dict(), "session_id": "mbsess_copy1"})
        moved = [TranscriptSegment(**{**s.to_dict(), "session_id": "mbsess_copy1",
                                      "transcript_id": s.transcript_id + "c"}) for s in segments]
        assert client.import_session(copy, moved, origin="elsewhere") == copy
        assert [s.text for s in client.transcripts("mbsess_copy1")] == ["hello everyone", "hi Alice"]

        assert client.delete_session(sid) is None  # removed, not only stopped
        with pytest.raises(RemoteApiError) as err:
            client.get_session(sid)
        assert (err.value.code, err.value.status) == ("SESSION_NOT_FOUND", 404)


def test_error_envelopes_become_remote_api_errors(server):
    with MeetingBuddyClient(server.url + "/v1/meeting-buddy/", TOKEN) as client:  # full URL works too
        with pytest.raises(RemoteApiError) as err:
            client.start_session(TEAMS_LINK.replace("https", "http"))
        error = err.value
        assert isinstance(error, MeetingBuddyError)  # the command line reports it like its own
        assert (error.code, error.status, error.details["field"]) == ("INVALID_MEETING_LINK", 422, "meeting_link")
        assert error.caller_error and error.trace_id
        with pytest.raises(RemoteApiError) as err:
            client.list_sessions(limit=500)
        assert err.value.code == "VALIDATION_ERROR" and err.value.details["field"] == "limit"
    with MeetingBuddyClient(server.url, "wrong") as client:
        with pytest.raises(RemoteApiError) as err:
            client.list_sessions()
        assert (err.value.code, err.value.status) == ("INVALID_API_KEY", 401)


def test_a_stream_survives_a_server_restart_without_gaps_or_repeats(server):
    """The server goes away mid-meeting and comes back on the same port; the client
    reconnects with Last-Event-ID by itself."""
    async def scenario():
        async with AsyncMeetingBuddyClient(server.url, TOKEN, retries=20, backoff_s=0.1,
                                           max_backoff_s=0.3) as client:
            sid = (await client.start_session(MEET_LINK)).session_id
            await asyncio.to_thread(server.wait_status, sid, "recording")
            events = []
            server.gates.open("speech")
            async with aclosing(client.stream(sid, "transcripts", last_event_id="0")) as stream:
                async for event in stream:
                    events.append(event)
                    if len(events) == 2:
                        break_point = event.id
                        await asyncio.to_thread(server.stop_http)   # connection gone, port closed
                        server.gates.open("more")                   # the meeting goes on meanwhile
                        await asyncio.sleep(0.3)
                        await asyncio.to_thread(server.call, server.restart_server())
                        await client.stop_session(sid)
            return events, break_point

    events, break_point = asyncio.run(scenario())
    said = [(e.event, e.data.get("text"), e.data.get("is_partial")) for e in events]
    assert said == [("transcript", "hello every", True), ("transcript", "hello everyone", False),
                    ("transcript", "hi Alice", False), ("close", None, None)]
    ids = [int(e.id) for e in events]
    assert ids == sorted(ids) and int(break_point) < ids[2]
    assert events[-1].data == {"reason": "session_ended"}


def test_stream_of_an_unknown_session_raises_at_once(server):
    async def scenario():
        async with AsyncMeetingBuddyClient(server.url, TOKEN) as client:
            async with aclosing(client.stream("mbsess_nothing", "logs")) as stream:
                async for _ in stream:
                    pass
    with pytest.raises(RemoteApiError) as err:
        asyncio.run(scenario())
    assert err.value.code == "SESSION_NOT_FOUND"


# -- retries, Retry-After and timeouts against tiny real servers -----------------------------

SESSION_JSON = json.dumps(Session.create(meeting_link=MEET_LINK, platform="google_meet").to_dict()).encode()
ENVELOPE_503 = json.dumps({"success": False, "error": {
    "code": "INTERNAL_ERROR", "message": "busy", "type": "server_error", "status": 503,
    "details": {}, "trace_id": "t", "timestamp": "2025-01-01T00:00:00Z"}}).encode()


class ScriptedApp:
    """An ASGI app answering a script of (status, headers, body, delay) in turn (the last one
    repeats), noting when each request arrived."""

    def __init__(self, *script: tuple[int, dict, bytes, float]) -> None:
        self.script = list(script)
        self.arrivals: list[tuple[float, str]] = []

    async def __call__(self, scope, receive, send) -> None:
        self.arrivals.append((time.monotonic(), scope["method"]))
        status, headers, body, delay = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        await asyncio.sleep(delay)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                *((k.encode(), v.encode()) for k, v in headers.items())]})
        await send({"type": "http.response.body", "body": body})

    def gaps(self) -> list[float]:
        times = [t for t, _ in self.arrivals]
        return [b - a for a, b in zip(times, times[1:])]


def fast_client(url: str, **options) -> MeetingBuddyClient:
    return MeetingBuddyClient(url, TOKEN, **{"backoff_s": 0.05, "max_backoff_s": 0.2, **options})


def test_429_waits_as_long_as_retry_after_says():
    app = ScriptedApp((429, {"Retry-After": "1"}, b"{}", 0), (200, {}, SESSION_JSON, 0))
    with TinyServer(app) as tiny, fast_client(tiny.url) as client:
        assert client.get_session("mbsess_x").platform == "google_meet"
    assert len(app.arrivals) == 2
    assert 1.0 <= app.gaps()[0] < 2.0  # Retry-After, not the 0.05 s backoff


def test_a_429_without_retry_after_waits_for_the_rate_limit_reset():
    reset = str(int(time.time()) + 2)  # Unix seconds, as published
    app = ScriptedApp((429, {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0",
                             "X-RateLimit-Reset": reset}, b"{}", 0), (200, {}, SESSION_JSON, 0))
    with TinyServer(app) as tiny, fast_client(tiny.url) as client:
        client.get_session("mbsess_x")
    assert 0.9 <= app.gaps()[0] < 2.6  # the reset has whole seconds


def test_retry_after_as_an_http_date():
    when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=2), usegmt=True)
    app = ScriptedApp((503, {"Retry-After": when}, ENVELOPE_503, 0), (200, {}, SESSION_JSON, 0))
    with TinyServer(app) as tiny, fast_client(tiny.url) as client:
        client.get_session("mbsess_x")
    assert 0.9 <= app.gaps()[0] < 2.6  # the date has whole seconds


def test_5xx_retries_with_growing_backoff_then_gives_the_last_error():
    app = ScriptedApp((503, {}, ENVELOPE_503, 0))
    with TinyServer(app) as tiny, fast_client(tiny.url, retries=3, backoff_s=0.1,
                                              max_backoff_s=10) as client:
        with pytest.raises(RemoteApiError) as err:
            client.list_sessions()
    assert len(app.arrivals) == 4  # the first try and three retries
    assert (err.value.status, err.value.message) == (503, "busy")
    gaps = app.gaps()
    for attempt, gap in enumerate(gaps):  # 0.1 * 2**attempt, halved at most by the jitter
        assert 0.1 * 2 ** attempt / 2 <= gap < 0.1 * 2 ** attempt + 0.5


def test_a_retry_after_longer_than_allowed_fails_at_once():
    app = ScriptedApp((429, {"Retry-After": "3600"}, b"{}", 0), (200, {}, SESSION_JSON, 0))
    with TinyServer(app) as tiny, fast_client(tiny.url) as client:
        with pytest.raises(RemoteApiError) as err:
            client.get_session("mbsess_x")
    assert err.value.status == 429 and err.value.code == "UNEXPECTED_RESPONSE"
    assert len(app.arrivals) == 1


def test_starting_a_session_is_never_repeated_after_the_server_acted_on_it():
    app = ScriptedApp((500, {}, b"<html>oops</html>", 0), (201, {}, SESSION_JSON, 0))
    with TinyServer(app) as tiny, fast_client(tiny.url) as client:
        with pytest.raises(RemoteApiError) as err:
            client.start_session(MEET_LINK)
    assert len(app.arrivals) == 1 and err.value.status == 500  # a 500 may have started a bot
    app = ScriptedApp((503, {}, ENVELOPE_503, 0), (201, {}, SESSION_JSON, 0))
    with TinyServer(app) as tiny, fast_client(tiny.url) as client:
        assert client.start_session(MEET_LINK).platform == "google_meet"
    assert len(app.arrivals) == 2  # 503: the server did not act, so it is retried


def test_timeouts_and_unreachable_servers_are_remote_unavailable():
    app = ScriptedApp((200, {}, SESSION_JSON, 1.0))
    with TinyServer(app) as tiny, fast_client(tiny.url, timeout=0.2, retries=1) as client:
        with pytest.raises(RemoteUnavailable) as err:
            client.get_session("mbsess_x")
    assert len(app.arrivals) == 2 and "ReadTimeout" in err.value.message
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{closed.getsockname()[1]}"
    closed.close()  # nothing listens there
    with fast_client(url, retries=2) as client:
        started = time.monotonic()
        with pytest.raises(RemoteUnavailable) as err:
            client.list_sessions()
    assert err.value.code == "REMOTE_UNAVAILABLE" and "ConnectError" in err.value.message
    assert time.monotonic() - started >= 0.05 * 0.5 + 0.1 * 0.5  # it did back off between tries


# -- the token never travels in plain text --------------------------------------------------

def test_plain_http_is_refused_except_to_this_computer(capsys):
    for url in ("http://mb.example.org", "http://192.168.1.5:8765",
                "http://[2001:db8::1]:8765/v1/meeting-buddy"):
        with pytest.raises(InsecureApiUrl) as err:
            MeetingBuddyClient(url, TOKEN)
        error = err.value
        assert isinstance(error, MeetingBuddyError) and error.caller_error
        assert error.details["field"] == "api_url" and "https://" in error.message
    for url in ("http://localhost:8765", "http://127.0.0.1:1", "http://127.8.9.10",
                "http://[::1]:8765", "https://mb.example.org"):
        MeetingBuddyClient(url, TOKEN).close()
    for command in (["remote", "sessions", "list"], ["sync"]):
        assert cli.main([*command, "--api-url", "http://mb.example.org", "--token", TOKEN]) == 2
        assert "unencrypted" in capsys.readouterr().err


# -- the remote commands ---------------------------------------------------------------------

def test_remote_session_commands(server, capsys, tmp_path, monkeypatch):
    cli_with_api = cli.main
    server.gates.open_all = True
    with MeetingBuddyClient(server.url, TOKEN) as client:
        sid = client.start_session(TEAMS_LINK).session_id
        server.wait_status(sid, "recording")
    target = ["--api-url", server.url, "--token", TOKEN]

    assert cli_with_api(["remote", "sessions", "list", "--status", "recording", *target]) == 0
    page = json.loads(capsys.readouterr().out)
    assert [s["session_id"] for s in page["data"]] == [sid] and page["total_count"] == 1

    monkeypatch.setenv("MEETING_BUDDY_REMOTE_URL", server.url)  # the environment works too
    monkeypatch.setenv("MEETING_BUDDY_REMOTE_TOKEN", TOKEN)
    assert cli_with_api(["remote", "sessions", "show", sid]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "recording"
    assert cli_with_api(["remote", "sessions", "stop", sid]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "completed"
    assert cli_with_api(["remote", "sessions", "transcripts", sid]) == 0
    assert [t["text"] for t in json.loads(capsys.readouterr().out)] == ["hello everyone", "hi Alice"]
    assert cli_with_api(["remote", "sessions", "export", sid, "--format", "md", "-o", str(tmp_path)]) == 0
    written = capsys.readouterr().out.strip()
    assert written.startswith(str(tmp_path)) and written.endswith(f"{sid}.md")
    assert "hi Alice" in open(written, encoding="utf-8").read()

    assert cli_with_api(["remote", "sessions", "show", "mbsess_missing"]) == 2
    assert "SESSION_NOT_FOUND" in capsys.readouterr().err
    assert cli_with_api(["remote", "sessions", "list", "--api-url", server.url, "--token", "bad"]) == 2
    assert "INVALID_API_KEY" in capsys.readouterr().err
    monkeypatch.delenv("MEETING_BUDDY_REMOTE_URL")
    assert cli_with_api(["remote", "sessions", "list"]) == 2
    assert "--api-url" in capsys.readouterr().err
