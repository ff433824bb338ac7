"""The local REST + SSE server, over a real loopback socket with a real HTTP client.

Sessions are driven by tests/api_helpers.ScriptRunner, which stands in for the bot pipeline
(tested end to end against the meeting simulator elsewhere).
"""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import uuid
from pathlib import Path
from typing import get_args

import httpx
import pytest

from app.api import openapi_document
from app.api.schemas import FormatName, StatusName
from app.api.server import ApiServer, is_loopback
from app.errors import ValidationError
from app.export import FORMATS
from app.models import SESSION_FIELDS, Status
from tests.api_helpers import MEET_LINK, TEAMS_LINK, TOKEN, ZOOM_LINK

REPO = Path(__file__).resolve().parents[2]


def assert_envelope(response: httpx.Response, status: int, code: str, field: str | None = None):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["success"] is False
    error = body["error"]
    assert error["code"] == code and error["status"] == status
    assert error["type"] == ("client_error" if status < 500 else "server_error")
    assert error["message"] and error["timestamp"].endswith("Z")
    assert error["system_message"].startswith(code)  # the technical form, for support
    assert str(uuid.UUID(error["trace_id"])) == error["trace_id"]
    if field is not None:
        assert error["details"]["field"] == field, error
    return error


def start(http, link=TEAMS_LINK, **body) -> dict:
    response = http.post("/sessions", json={"meeting_link": link, **body})
    assert response.status_code == 201, response.text
    return response.json()


# -- starting and validation -----------------------------------------------------------------

def test_post_a_teams_link_answers_201_with_every_session_field(server, http):
    session = start(http, TEAMS_LINK, bot_name="Scribe")
    assert set(session) == set(SESSION_FIELDS)
    assert session["session_id"].startswith("mbsess_")
    assert session["status"] == "initializing"  # answered before the bot starts
    assert session["platform"] == "teams" and session["bot_name"] == "Scribe"
    assert session["transcription_enabled"] is True and session["transcription_language"] == "en"
    assert session["output_directory"] == f"recordings/local/{session['session_id']}"
    for name in ("join_timestamp", "leave_timestamp", "total_duration_seconds", "segment_count",
                 "audio_file_count", "video_file_count", "total_size_bytes", "error_code"):
        assert session[name] is None
    assert session["created_at"].endswith("Z") and session["metadata"] == {}
    assert session["current_participants"] == {} and session["participant_history"] == []
    # and the bot really starts behind it
    assert server.wait_status(session["session_id"], "recording").platform == "teams"


def test_missing_wrong_and_alternative_credentials(server):
    url = server.api + "/sessions"
    assert_envelope(httpx.get(url), 401, "AUTHENTICATION_REQUIRED")
    assert_envelope(httpx.get(url, headers={"Authorization": "Bearer nope"}), 401, "INVALID_API_KEY")
    assert_envelope(httpx.get(url, headers={"Authorization": f"Basic {TOKEN}"}), 401, "INVALID_API_KEY")
    assert_envelope(httpx.get(url, headers={"X-API-Key": "nope"}), 401, "INVALID_API_KEY")
    # an unauthenticated request learns nothing, not even whether a path exists
    assert_envelope(httpx.get(server.api + "/no/such/path"), 401, "AUTHENTICATION_REQUIRED")
    assert_envelope(httpx.post(url, json={"meeting_link": TEAMS_LINK}), 401, "AUTHENTICATION_REQUIRED")
    assert httpx.get(url, headers={"X-API-Key": TOKEN}).status_code == 200
    assert httpx.get(url, headers={"Authorization": f"bearer {TOKEN}"}).status_code == 200
    assert server.store.list_sessions().total_count == 0


def test_invalid_links_are_refused_naming_the_field(server, http):
    error = assert_envelope(http.post("/sessions", json={"meeting_link": TEAMS_LINK.replace("https", "http")}),
                            422, "INVALID_MEETING_LINK", "meeting_link")
    assert "HTTPS" in error["message"]
    assert_envelope(http.post("/sessions", json={"meeting_link": "https://example.com/meet/1"}),
                    422, "UNSUPPORTED_PLATFORM", "meeting_link")
    assert server.store.list_sessions().total_count == 0


@pytest.mark.parametrize("body, field", [
    ({"meeting_link": TEAMS_LINK, "recording": True}, "recording"),    # unknown field
    ({"meeting_link": TEAMS_LINK, "bot_name": 5}, "bot_name"),         # wrong type
    ({"meeting_link": TEAMS_LINK, "transcription_enabled": "yes"}, "transcription_enabled"),
    ({"meeting_link": 42}, "meeting_link"),
    ({"bot_name": "Scribe"}, "meeting_link"),                          # missing
    ({"meeting_link": TEAMS_LINK, "bot_name": ""}, "bot_name"),
    ({"meeting_link": TEAMS_LINK, "bot_name": "  "}, "bot_name"),      # blank after trimming
    ({"meeting_link": TEAMS_LINK, "transcription_language": "english please"},
     "transcription_language"),
    ([TEAMS_LINK], "body"),
])
def test_bad_bodies_are_validation_errors_that_name_the_field(server, http, body, field):
    assert_envelope(http.post("/sessions", json=body), 422, "VALIDATION_ERROR", field)
    assert server.store.list_sessions().total_count == 0


def test_malformed_json_and_an_oversized_body(server, http):
    assert_envelope(http.post("/sessions", content=b"{nope", headers={"Content-Type": "application/json"}),
                    422, "VALIDATION_ERROR", "body")
    huge = {"meeting_link": TEAMS_LINK, "metadata": {"x": "a" * 70_000}}
    error = assert_envelope(http.post("/sessions", json=huge), 413, "PAYLOAD_TOO_LARGE")
    assert error["details"]["max_bytes"] == 64 * 1024

    def chunks():  # no Content-Length: the limit still holds
        yield b'{"meeting_link": "' + TEAMS_LINK.encode() + b'", "metadata": {"x": "'
        for _ in range(80):
            yield b"a" * 1000
        yield b'"}}'
    assert_envelope(http.post("/sessions", content=chunks(), headers={"Content-Type": "application/json"}),
                    413, "PAYLOAD_TOO_LARGE")
    assert server.store.list_sessions().total_count == 0


def test_unknown_and_malformed_session_ids_are_not_found(http):
    for sid in ("mbsess_doesnotexist", "bad.id", "-x", "a" * 200):
        for method, path in (("GET", ""), ("POST", "/stop"), ("DELETE", ""), ("GET", "/transcripts"),
                             ("GET", "/stream"), ("GET", "/transcripts/stream"), ("GET", "/logs/stream")):
            assert_envelope(http.request(method, f"/sessions/{sid}{path}"), 404, "SESSION_NOT_FOUND")
    assert_envelope(http.get("/sessions/nope/transcripts/export", params={"format": "txt"}),
                    404, "SESSION_NOT_FOUND")


def test_unknown_paths_and_methods_answer_the_envelope(http):
    assert_envelope(http.get("/nothing-here"), 404, "NOT_FOUND")
    response = http.patch("/sessions")
    assert_envelope(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "GET, POST"  # every method of the path, not one route's
    assert http.post("/sessions/mbsess_x").headers["allow"] == "DELETE, GET, PATCH, PUT"


def test_an_unexpected_failure_is_an_internal_error_without_internals(server, http):
    session = start(http)
    server.wait_status(session["session_id"], "recording")
    server.call(lambda: server.store._conn.close())  # the database goes away under the server
    response = http.get(f"/sessions/{session['session_id']}")
    error = assert_envelope(response, 500, "INTERNAL_ERROR")
    assert error["message"] == "Internal server error" and error["details"] == {}
    for leak in ("Traceback", "sqlite", ".py", str(server.root)):
        assert leak not in response.text


# -- lifecycle: list, stop, purge ------------------------------------------------------------

def test_stop_is_idempotent_through_both_routes(server, http):
    sid = start(http)["session_id"]
    server.wait_status(sid, "recording")
    server.gates.open("speech")
    server.gates.open("more")
    stopped = http.post(f"/sessions/{sid}/stop")
    assert stopped.status_code == 200
    stopped = stopped.json()
    assert stopped["status"] == "completed" and stopped["metadata"]["end_reason"] == "STOP_REQUESTED"
    assert stopped["leave_timestamp"] and stopped["total_duration_seconds"] is not None
    again = http.post(f"/sessions/{sid}/stop")
    assert again.status_code == 200 and again.json() == stopped
    via_delete = http.delete(f"/sessions/{sid}")
    assert via_delete.status_code == 200 and via_delete.json() == stopped
    # pending transcription was saved
    texts = [t["text"] for t in http.get(f"/sessions/{sid}/transcripts").json()]
    assert texts == ["hello everyone", "hi Alice"]


def test_purge_removes_the_session_its_transcripts_and_files(server, http):
    sid = start(http)["session_id"]
    session = server.wait_status(sid, "recording")
    folder = server.root / session.output_directory
    assert (folder / "audio_0001.ogg").exists()
    response = http.delete(f"/sessions/{sid}", params={"purge": "true"})
    assert response.status_code == 204 and response.content == b""
    assert_envelope(http.get(f"/sessions/{sid}"), 404, "SESSION_NOT_FOUND")
    assert_envelope(http.delete(f"/sessions/{sid}", params={"purge": "true"}), 404, "SESSION_NOT_FOUND")
    assert not folder.exists() and server.store.transcripts(sid) == []
    assert_envelope(http.delete(f"/sessions/{sid}", params={"purge": "maybe"}), 422,
                    "VALIDATION_ERROR", "purge")


def test_list_filters_pages_and_validates(server, http):
    server.gates.open_all = True
    ids = [start(http, link)["session_id"] for link in (TEAMS_LINK, MEET_LINK, ZOOM_LINK, MEET_LINK)]
    for sid in ids:
        server.wait_status(sid, "recording")
    http.post(f"/sessions/{ids[0]}/stop")
    page = http.get("/sessions", params={"limit": 2}).json()
    assert [s["session_id"] for s in page["data"]] == ids[::-1][:2]  # newest first
    assert page["total_count"] == 4 and page["has_more"] is True
    last = http.get("/sessions", params={"limit": 2, "offset": 2}).json()
    assert [s["session_id"] for s in last["data"]] == ids[::-1][2:] and last["has_more"] is False
    meet = http.get("/sessions", params={"platform": "google_meet"}).json()
    assert {s["session_id"] for s in meet["data"]} == {ids[1], ids[3]} and meet["total_count"] == 2
    done = http.get("/sessions", params={"status": "completed"}).json()
    assert [s["session_id"] for s in done["data"]] == [ids[0]]
    assert http.get("/sessions").json()["total_count"] == 4  # default limit 20
    for params, field in (({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"offset": -1}, "offset"),
                          ({"limit": "ten"}, "limit"), ({"status": "paused"}, "status"),
                          ({"platform": "skype"}, "platform")):
        assert_envelope(http.get("/sessions", params=params), 422, "VALIDATION_ERROR", field)
    assert http.get("/sessions", params={"limit": 100}).status_code == 200


def test_transcripts_and_every_export_format(server, http):
    server.gates.open_all = True
    sid = start(http)["session_id"]
    server.wait_status(sid, "recording")
    http.post(f"/sessions/{sid}/stop")
    segments = http.get(f"/sessions/{sid}/transcripts").json()  # a bare array
    assert [(s["text"], s["speaker"], s["start_time"]) for s in segments] == [
        ("hello everyone", "Alice", 0.5), ("hi Alice", "Bob", 2.0)]
    first = segments[0]
    assert first["transcript_id"].startswith("mbtrans_") and first["confidence"] == 0.91
    assert first["end_time"] == 1.4 and first["language_code"] == "en" and first["created_at"].endswith("Z")
    for fmt, spec in FORMATS.items():
        response = http.get(f"/sessions/{sid}/transcripts/export", params={"format": fmt})
        assert response.status_code == 200
        assert response.headers["content-type"] == spec.content_type
        disposition = response.headers["content-disposition"]
        assert disposition.startswith("attachment; filename=\"meeting-buddy_teams_")
        assert disposition.endswith(f'{sid}.{fmt}"')
        if fmt == "docx":
            assert response.content[:2] == b"PK"
        elif fmt == "json":
            assert [t["text"] for t in response.json()["transcripts"]] == ["hello everyone", "hi Alice"]
        else:
            assert "hello everyone" in response.text and "hi Alice" in response.text
    assert_envelope(http.get(f"/sessions/{sid}/transcripts/export", params={"format": "pdf"}),
                    422, "VALIDATION_ERROR", "format")
    assert_envelope(http.get(f"/sessions/{sid}/transcripts/export"), 422, "VALIDATION_ERROR", "format")


# -- SSE -------------------------------------------------------------------------------------

def read_events(response: httpx.Response, until_close: bool = True) -> list[dict]:
    """Parse SSE frames (keepalive comments included, as {"comment": ...})."""
    events, frame = [], {}
    for line in response.iter_lines():
        if line.startswith(":"):
            events.append({"comment": line[1:].strip()})
        elif line == "":
            if frame:
                frame["data"] = json.loads(frame["data"])
                events.append(frame)
                if until_close and frame.get("event") == "close":
                    return events
                frame = {}
        else:
            key, _, value = line.partition(": ")
            frame[key] = value
    return events


def test_the_three_streams_deliver_every_kind_of_event_and_close(server, http):
    sid = start(http)["session_id"]
    server.wait_status(sid, "recording")
    resume = {"Last-Event-ID": "0"}  # from the session's first event
    with http.stream("GET", f"/sessions/{sid}/stream", headers=resume) as status_stream, \
         http.stream("GET", f"/sessions/{sid}/transcripts/stream", headers=resume) as transcript_stream, \
         http.stream("GET", f"/sessions/{sid}/logs/stream", headers=resume) as log_stream:
        for response in (status_stream, transcript_stream, log_stream):
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
        server.gates.open("speech")
        server.gates.open("more")
        assert http.post(f"/sessions/{sid}/stop").json()["status"] == "completed"
        statuses = read_events(status_stream)
        transcripts = read_events(transcript_stream)
        logs = read_events(log_stream)

    for events in (statuses, transcripts, logs):
        frames = [e for e in events if "event" in e]
        assert frames[-1]["event"] == "close" and frames[-1]["data"] == {"reason": "session_ended"}
        ids = [int(e["id"]) for e in frames]
        assert ids == sorted(ids) and len(set(ids[:-1])) == len(ids) - 1  # ordered, no repeats

    assert {e["event"] for e in statuses if "event" in e} == {"status", "close"}
    status_events = [e["data"] for e in statuses
                     if e.get("event") == "status" and "participant_name" not in e["data"]]
    assert [e["status"] for e in status_events] == [s.value for s in (
        Status.INITIALIZING, Status.JOINING, Status.ACTIVE, Status.RECORDING, Status.LEAVING,
        Status.COMPLETED)]
    assert status_events[1]["previous_status"] == "initializing"
    assert set(status_events[0]) >= {"session_id", "status", "previous_status", "timestamp",
                                     "error_message", "error_code"}
    # joins and leaves are status events too, with the session's current status
    people = [e["data"] for e in statuses if "participant_name" in e.get("data", {})]
    assert [(p["participant_name"], p["event"]) for p in people] == [
        ("Alice", "joined"), ("Bob", "joined"), ("Bob", "left"), ("Alice", "left")]
    assert people[0]["status"] == people[0]["previous_status"] == "active"
    assert people[0]["is_bot"] is False

    said = [e["data"] for e in transcripts if e.get("event") == "transcript"]
    assert [(t["text"], t["is_partial"]) for t in said] == [
        ("hello every", True), ("hello everyone", False), ("hi Alice", False)]
    assert said[0]["transcript_id"] is None and said[0]["confidence"] is None
    assert said[1]["transcript_id"].startswith("mbtrans_") and said[1]["confidence"] == 0.91
    assert set(said[1]) == {"session_id", "transcript_id", "text", "speaker", "start_time",
                            "end_time", "confidence", "language_code", "is_partial", "timestamp"}

    entries = {e["data"]["message"]: e["data"] for e in logs if e.get("event") == "log"}
    assert entries["recording started"]["level"] == "info"
    assert entries["recording started"]["details"] == {"segment": 1}
    assert entries["Bob's audio is quiet"]["details"] is None  # none given: null
    assert set(logs[0]["data"]) == {"session_id", "level", "message", "timestamp", "details"}


def test_keepalive_comments_while_nothing_happens(server, http):
    sid = start(http)["session_id"]
    server.wait_status(sid, "recording")
    with http.stream("GET", f"/sessions/{sid}/transcripts/stream") as response:
        lines = []
        for line in response.iter_lines():
            lines.append(line)
            if lines.count(": keepalive") == 2:
                break
    assert lines[:2] == [": keepalive", ""]  # nothing said yet, so only keepalives (0.3 s here)


def test_a_stream_opened_on_a_finished_session_only_closes(server, http):
    server.gates.open_all = True
    sid = start(http)["session_id"]
    server.wait_status(sid, "recording")
    http.post(f"/sessions/{sid}/stop")
    for path in ("stream", "transcripts/stream", "logs/stream"):
        with http.stream("GET", f"/sessions/{sid}/{path}") as response:
            events = read_events(response, until_close=False)  # the server ends the stream
        assert [(e["event"], e["data"]) for e in events] == [("close", {"reason": "session_ended"})]
        assert int(events[0]["id"]) > 0


def test_resume_with_last_event_id_loses_nothing_and_doubles_nothing(server, http):
    sid = start(http)["session_id"]
    server.wait_status(sid, "recording")
    path = f"/sessions/{sid}/transcripts/stream"
    with http.stream("GET", path, headers={"Last-Event-ID": "0"}) as response:
        server.gates.open("speech")
        first = []
        for event in read_events_lazily(response):
            first.append(event)
            if len(first) == 2:
                break  # the connection drops here
    # while disconnected, more speech and the end of the session
    server.gates.open("more")
    http.post(f"/sessions/{sid}/stop")
    with http.stream("GET", path, headers={"Last-Event-ID": first[-1]["id"]}) as response:
        rest = read_events(response)
    texts = [e["data"]["text"] for e in first + rest if e["event"] == "transcript"]
    assert texts == ["hello every", "hello everyone", "hi Alice"]
    assert rest[-1]["event"] == "close"
    # the bad header value is a validation error
    assert_envelope(http.get(path, headers={"Last-Event-ID": "soon"}), 422, "VALIDATION_ERROR",
                    "Last-Event-ID")


def read_events_lazily(response: httpx.Response):
    frame: dict = {}
    for line in response.iter_lines():
        if line == "" and frame:
            frame["data"] = json.loads(frame["data"])
            yield frame
            frame = {}
        elif line and not line.startswith(":"):
            key, _, value = line.partition(": ")
            frame[key] = value


# -- analytics -------------------------------------------------------------------------------

def copy_of(session_id: str, *, status: str, platform: str = "zoom", created_at: str,
            duration: float | None) -> dict:
    """A whole Session as another Meeting Buddy would push it (known dates and durations)."""
    return {"session_id": session_id, "organization_id": "other", "user_id": "u",
            "meeting_link": ZOOM_LINK, "platform": platform, "bot_name": "Meeting Buddy",
            "status": status, "transcription_enabled": True, "transcription_language": "en",
            "debug_mode": False, "created_at": created_at, "updated_at": created_at,
            "join_timestamp": created_at if duration is not None else None,
            "leave_timestamp": None, "total_duration_seconds": duration, "segment_count": None,
            "audio_file_count": None, "video_file_count": None, "total_size_bytes": None,
            "output_directory": f"recordings/other/{session_id}", "error_message": None,
            "error_code": "JOIN_DENIED" if status == "failed" else None, "metadata": {},
            "current_participants": {}, "participant_history": []}


def test_analytics_match_the_sessions_stored(server, http):
    sessions = [
        copy_of("s1", status="completed", platform="zoom", created_at="2025-03-03T10:00:00.000Z", duration=120),
        copy_of("s2", status="completed", platform="teams", created_at="2025-03-04T10:00:00.000Z", duration=1200),
        copy_of("s3", status="failed", platform="zoom", created_at="2025-03-12T23:59:00.000Z", duration=None),
        copy_of("s4", status="completed", platform="webex", created_at="2025-04-01T00:00:00.000Z", duration=8000),
        copy_of("s5", status="leaving", platform="zoom", created_at="2025-03-20T08:00:00.000Z", duration=None),
    ]
    for s in sessions:
        assert http.put(f"/sessions/{s['session_id']}", json={"session": s, "transcripts": []}).status_code == 201
    live = start(http, MEET_LINK)["session_id"]  # one running here
    server.wait_status(live, "recording")
    year = {"start_date": "2025-01-01", "end_date": "2025-12-31"}

    summary = http.get("/analytics/summary").json()  # every session ever stored
    assert summary == {"session_count": 6, "completed_count": 3, "failed_count": 1, "active_count": 1,
                       "total_duration_hours": round(9320 / 3600, 3),
                       "avg_duration_minutes": round(9320 / 3 / 60, 2),
                       "by_platform": {"google_meet": 1, "teams": 1, "webex": 1, "zoom": 3}}

    weekly = http.get("/analytics/trends", params={"start_date": "2025-03-01", "end_date": "2025-04-06",
                                                    "granularity": "week"}).json()
    assert weekly["granularity"] == "week"
    assert [p["period"] for p in weekly["data"]] == ["2025-W09", "2025-W10", "2025-W11", "2025-W12",
                                                     "2025-W13", "2025-W14"]  # ISO weeks, from Monday
    counts = {p["period"]: (p["session_count"], p["completed_count"], p["failed_count"]) for p in weekly["data"]}
    assert counts["2025-W10"] == (2, 2, 0) and counts["2025-W11"] == (1, 0, 1)
    assert counts["2025-W12"] == (1, 0, 0) and counts["2025-W14"] == (1, 1, 0) and counts["2025-W09"] == (0, 0, 0)
    week10 = weekly["data"][1]
    assert week10["total_duration_hours"] == round(1320 / 3600, 3) and week10["avg_duration_minutes"] == 11.0
    # date-times as published: instants with a zone, both ends included
    exact = http.get("/analytics/trends", params={"start_date": "2025-03-03T11:00:00+02:00",
                                                   "end_date": "2025-03-12T23:58:00Z",
                                                   "granularity": "week"}).json()["data"]
    assert [(p["period"], p["session_count"]) for p in exact] == [("2025-W10", 2), ("2025-W11", 0)]
    monthly = http.get("/analytics/trends", params={"start_date": "2025-03-05", "end_date": "2025-04-30",
                                                     "granularity": "month"}).json()["data"]
    # the range starts on the 5th: s1 and s2 (3rd, 4th) are outside it
    assert [(p["period"], p["session_count"]) for p in monthly] == [("2025-03", 2), ("2025-04", 1)]
    first_day = http.get("/analytics/trends", params={"end_date": "0001-01-01"}).json()["data"]
    assert [p["period"] for p in first_day] == ["0001-01-01"]  # the calendar's start bounds the default
    daily = http.get("/analytics/trends").json()["data"]  # default: the 30 days up to now
    assert len(daily) == 31 and sum(p["session_count"] for p in daily) == 1  # the live one
    for path in ("/analytics/trends", "/analytics/duration-distribution", "/analytics/status-breakdown"):
        for params, field in (({"start_date": "2025-05-01", "end_date": "2025-04-01"}, "start_date"),
                              ({"start_date": "03/01/2025"}, "start_date"),
                              ({"end_date": "2025-02-30"}, "end_date"),
                              ({"start_date": "2025-03-01T25:00:00Z"}, "start_date"),
                              ({"start_date": "2025-03-01T10:00:00"}, "start_date")):  # no zone
            assert_envelope(http.get(path, params=params), 422, "VALIDATION_ERROR", field)
    for params, field in (({"granularity": "year"}, "granularity"),
                          ({"start_date": "1900-01-01", "end_date": "2025-01-01"}, "start_date")):
        assert_envelope(http.get("/analytics/trends", params=params), 422, "VALIDATION_ERROR", field)

    distribution = http.get("/analytics/duration-distribution", params=year).json()
    assert distribution["total"] == 3  # sessions with a known duration
    buckets = {b["label"]: b for b in distribution["buckets"]}
    assert {label: (b["count"], b["percentage"]) for label, b in buckets.items()} == {
        "0-5 min": (1, 33.3), "5-15 min": (0, 0.0), "15-30 min": (1, 33.3), "30-60 min": (0, 0.0),
        "60-120 min": (0, 0.0), "120+ min": (1, 33.3)}
    assert (buckets["5-15 min"]["min_seconds"], buckets["5-15 min"]["max_seconds"]) == (300, 900)
    assert (buckets["120+ min"]["min_seconds"], buckets["120+ min"]["max_seconds"]) == (7200, 8000)
    march = http.get("/analytics/duration-distribution",
                     params={"start_date": "2025-03-01", "end_date": "2025-03-31"}).json()
    assert march["total"] == 2
    assert {b["label"]: b["max_seconds"] for b in march["buckets"]}["120+ min"] == 7200  # none longer
    assert http.get("/analytics/duration-distribution").json()["total"] == 0  # last 30 days: the live one

    breakdown = http.get("/analytics/status-breakdown", params=year).json()
    assert breakdown["dimension"] == "status" and breakdown["total"] == 5
    items = {i["label"]: (i["count"], i["percentage"]) for i in breakdown["items"]}
    assert items["completed"] == (3, 60.0) and items["failed"] == (1, 20.0) and items["leaving"] == (1, 20.0)
    assert items["recording"] == (0, 0.0)
    assert list(items) == [s.value for s in Status]
    recent = http.get("/analytics/status-breakdown").json()
    assert recent["total"] == 1 and {i["label"]: i["count"] for i in recent["items"]}["recording"] == 1

    active = http.get("/analytics/active").json()  # the leaving copy is not active
    assert [a["session_id"] for a in active] == [live]
    assert active[0]["status"] == "recording" and active[0]["platform"] == "google_meet"
    assert active[0]["current_participants"] == ["Alice"] and active[0]["duration_so_far_seconds"] >= 0


# -- import (PUT) ----------------------------------------------------------------------------

def test_import_is_idempotent_newer_wins_and_checks_its_input(server, http):
    s = copy_of("mbsess_remote1", status="recording", created_at="2025-03-03T10:00:00.000Z", duration=None)
    segment = {"transcript_id": "mbtrans_r1", "text": "from afar", "confidence": None,
               "start_time": 0.0, "end_time": 1.0, "speaker": None, "language_code": "en",
               "created_at": "2025-03-03T10:00:01+01:00"}
    body = {"session": s, "transcripts": [segment], "origin": "https://mb.example.org"}
    created = http.put("/sessions/mbsess_remote1", json=body)
    assert created.status_code == 201 and created.json() == s
    assert server.store.session_origin("mbsess_remote1") == (True, "https://mb.example.org")
    stored = http.get("/sessions/mbsess_remote1/transcripts").json()
    assert stored[0]["created_at"] == "2025-03-03T09:00:01.000Z"  # normalized to UTC
    again = http.put("/sessions/mbsess_remote1", json=body)
    assert again.status_code == 200 and again.json() == s

    older = {**s, "status": "completed", "updated_at": "2025-03-03T09:00:00.000Z"}
    assert http.put("/sessions/mbsess_remote1", json={**body, "session": older}).json()["status"] == "recording"
    newer = {**s, "status": "completed", "updated_at": "2025-03-03T11:00:00.000Z"}
    replaced = http.put("/sessions/mbsess_remote1", json={**body, "session": newer, "transcripts": []})
    assert replaced.status_code == 200 and replaced.json()["status"] == "completed"
    assert http.get("/sessions/mbsess_remote1/transcripts").json() == []

    # a copy is read-only: no stop while it runs (there is nothing here to stop)
    running = copy_of("mbsess_remote2", status="recording", created_at="2025-03-03T10:00:00.000Z", duration=None)
    http.put("/sessions/mbsess_remote2", json={"session": running})
    assert_envelope(http.post("/sessions/mbsess_remote2/stop"), 409, "SESSION_READ_ONLY")
    assert_envelope(http.delete("/sessions/mbsess_remote2"), 409, "SESSION_READ_ONLY")
    # its live events are on its own server; a finished copy's stream just closes
    assert_envelope(http.get("/sessions/mbsess_remote2/stream"), 409, "SESSION_READ_ONLY")
    with http.stream("GET", "/sessions/mbsess_remote1/stream") as response:
        assert [(e["event"], e["data"]) for e in read_events(response, until_close=False)] == [
            ("close", {"reason": "session_ended"})]
    assert http.get("/sessions/mbsess_remote2/transcripts/export", params={"format": "txt"}).status_code == 200
    assert http.delete("/sessions/mbsess_remote2", params={"purge": "true"}).status_code == 204

    # a session recorded here is never replaced by an import
    own = start(http)
    server.wait_status(own["session_id"], "recording")
    assert_envelope(http.put(f"/sessions/{own['session_id']}", json={"session": {**own, "status": "failed"}}),
                    409, "SESSION_READ_ONLY")

    bad = [
        ({"session": s}, "/sessions/mbsess_other", "session.session_id"),
        ({"session": {**s, "status": "paused"}}, "/sessions/mbsess_remote1", "session.status"),
        ({"session": {**s, "updated_at": "yesterday"}}, "/sessions/mbsess_remote1", "session.updated_at"),
        ({"session": {k: v for k, v in s.items() if k != "metadata"}}, "/sessions/mbsess_remote1",
         "session.metadata"),
        ({"session": {**s, "extra": 1}}, "/sessions/mbsess_remote1", "session.extra"),
        ({"session": {**s, "session_id": "../etc"}}, "/sessions/../etc", None),
        ({"session": s, "transcripts": [{**segment, "start_time": "0"}]}, "/sessions/mbsess_remote1",
         "transcripts.0.start_time"),
        ({"session": s, "transcripts": [{**segment, "session_id": "mbsess_x"}]}, "/sessions/mbsess_remote1",
         "transcripts.0.session_id"),
    ]
    for payload, path, field in bad:
        response = http.put(path, json=payload)
        assert response.status_code in (404, 422), (path, response.text)
        if field:
            assert_envelope(response, 422, "VALIDATION_ERROR", field)
    assert http.get("/sessions/mbsess_remote1").json()["status"] == "completed"  # unchanged


def test_text_that_is_not_valid_unicode_is_refused(server, http):
    # JSON may escape half of a surrogate pair; such text could be neither stored nor served.
    s = copy_of("mbsess_remote3", status="completed", created_at="2025-03-03T10:00:00.000Z", duration=1)
    segment = {"transcript_id": "mbtrans_r3", "text": "half \ud800 a pair", "confidence": None,
               "start_time": 0.0, "end_time": 1.0, "speaker": None, "language_code": "en",
               "created_at": "2025-03-03T10:00:01.000Z"}
    for path, payload, field in (
            ("/sessions/mbsess_remote3", {"session": s, "transcripts": [segment]}, "transcripts.0.text"),
            ("/sessions/mbsess_remote3", {"session": {**s, "current_participants": {"\udc00": {}}}},
             "session.current_participants")):
        response = http.put(path, content=json.dumps(payload), headers={"Content-Type": "application/json"})
        assert_envelope(response, 422, "VALIDATION_ERROR", field)
    response = http.post("/sessions", content=json.dumps({"meeting_link": TEAMS_LINK, "bot_name": "B\ud800"}),
                         headers={"Content-Type": "application/json"})
    assert_envelope(response, 422, "VALIDATION_ERROR", "bot_name")
    assert server.store.list_sessions().total_count == 0


# -- OpenAPI, server start-up, token storage -------------------------------------------------

def test_the_served_openapi_document_is_public_and_matches_the_committed_one(server):
    served = httpx.get(server.api + "/openapi.json")  # no token: the docs only
    assert served.status_code == 200
    assert served.json() == openapi_document()
    committed = json.loads((REPO / "docs" / "openapi.json").read_text("utf-8"))
    assert committed == served.json(), "docs/openapi.json is stale: run scripts/export_openapi.py"
    paths = served.json()["paths"]
    for path in ("/sessions", "/sessions/{session_id}", "/sessions/{session_id}/stop",
                 "/sessions/{session_id}/transcripts", "/sessions/{session_id}/transcripts/export",
                 "/sessions/{session_id}/stream", "/sessions/{session_id}/transcripts/stream",
                 "/sessions/{session_id}/logs/stream", "/sessions/{session_id}/diagnostics", "/analytics/summary", "/analytics/trends",
                 "/analytics/duration-distribution", "/analytics/status-breakdown", "/analytics/active",
                 "/search"):
        assert "/v1/meeting-buddy" + path in paths
    assert set(served.json()["components"]["securitySchemes"]) == {"bearerAuth", "apiKeyAuth"}
    # the value lists spelled out for type checkers are the real ones
    assert set(get_args(StatusName)) == {s.value for s in Status}
    assert set(get_args(FormatName)) == set(FORMATS)


def test_only_loopback_unless_remote_access_is_allowed(server):
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    with pytest.raises(ValidationError) as err:
        ApiServer(server.manager, token=TOKEN, host="0.0.0.0", port=0)
    assert err.value.details["field"] == "host"
    ApiServer(server.manager, token=TOKEN, host="0.0.0.0", port=0, allow_remote=True)  # allowed
    busy = ApiServer(server.manager, token=TOKEN, port=server.server.port)
    with pytest.raises(ValidationError) as err:
        server.call(busy.start())
    assert err.value.details["field"] == "port"


def test_tokens_live_in_a_private_file_without_a_keyring(isolated_dirs, monkeypatch):
    import keyring
    from keyring.backends import fail

    from app import secrets

    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())  # no keyring here
    token = secrets.api_token(create=True)
    assert len(token) >= 40 and secrets.api_token() == token
    path = secrets.secrets_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    secrets.set_secret(secrets.REMOTE_TOKEN, "remote-secret")
    assert secrets.get_secret(secrets.REMOTE_TOKEN) == "remote-secret" and secrets.api_token() == token
    os.chmod(path, 0o644)  # widened by someone else: narrowed again on the next read
    assert secrets.get_secret(secrets.API_TOKEN) == token
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secrets.api_token(create=False) == token


def test_tokens_go_to_the_keyring_when_one_is_usable(isolated_dirs, monkeypatch):
    import keyring

    from app import secrets
    from tests.memory_keyring import MemoryKeyring

    backend = MemoryKeyring()
    monkeypatch.setattr(keyring, "get_keyring", lambda: backend)
    token = secrets.api_token()
    assert backend.values == {("meeting-buddy", "api_token"): token}
    assert not secrets.secrets_file().exists()


# The command line as a user runs it, with the API commands registered in it.
def run_cli(args: list[str], env: dict, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_serve_refuses_a_public_address_without_allow_remote(isolated_dirs):
    result = run_cli(["serve", "--host", "0.0.0.0"], dict(os.environ))
    assert result.returncode == 2
    assert "--allow-remote" in result.stderr and "Traceback" not in result.stderr


def test_serve_generates_its_token_once_and_stops_on_ctrl_c(isolated_dirs, tmp_path):
    import signal

    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    env.pop("MEETING_BUDDY_API_TOKEN", None)

    def serve_once() -> tuple[str, str, int]:
        proc = subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", "0"], cwd=REPO,
                                env=env, stderr=subprocess.PIPE, text=True)
        lines = []
        try:
            for line in proc.stderr:
                lines.append(line)
                if "listening on" in line:
                    break
            url = lines[-1].split("listening on ")[1].split()[0]
            token_lines = [l for l in lines if "Generated the API token" in l]
            token = token_lines[0].rsplit(": ", 1)[1].strip() if token_lines else ""
            stored = json.loads((Path(env["MEETING_BUDDY_CONFIG_DIR"]) / "secrets.json").read_text())
            response = httpx.get(url + "/sessions", headers={"X-API-Key": stored["api_token"]})
            assert response.status_code == 200
            proc.send_signal(signal.SIGINT)
            proc.wait(20)
        finally:
            if proc.poll() is None:
                proc.kill()
        rest = proc.stderr.read()
        assert "Traceback" not in rest, rest
        return token, stored["api_token"], proc.returncode

    first_token, stored, code1 = serve_once()
    assert first_token == stored  # shown once, at the first start
    second_token, stored_again, code2 = serve_once()
    assert second_token == "" and stored_again == stored
    assert code1 == code2 == 0  # Ctrl+C is the way to stop it: a clean stop
