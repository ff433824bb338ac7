"""The published Meeting Buddy API as the contract, from both sides.

- The real client, `sync` and the `remote` commands against a stand-in for the real service
  (tests/app/published_api.PublishedService: it answers as the published pages show; the
  real service cannot be reached from here), over real HTTP on a loopback port.
- This project's own server, endpoint by endpoint, against the published shapes; the only
  fields beyond them are the documented extensions (ours).

Sessions on our server are driven by tests/api_helpers.ScriptRunner, which stands in for the
bot pipeline.
"""
from __future__ import annotations

import json
import re
import time
from datetime import timedelta

import httpx
import pytest
from httpx_sse import connect_sse

from app import cli
from app.remote import MeetingBuddyClient, RemoteApiError, RemoteFeatureMissing
from app.timeutil import utc_now
from tests.api_helpers import TEAMS_LINK, Gates, LiveServer, TinyServer, run_sync, start_session
from tests.app import published_api as published
from tests.app.published_api import DONE, EXPIRED_TOKEN, LIVE, TOKEN, PublishedService


@pytest.fixture
def service():
    stand_in = PublishedService()
    with TinyServer(stand_in) as tiny:
        stand_in.url = tiny.url
        yield stand_in


# -- the client, sync and the commands against the published service -------------------------

def test_the_stand_in_answers_in_the_published_shapes(service):
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=service.url + "/v1/meeting-buddy", headers=headers) as raw:
        published.check("Session", raw.get(f"/sessions/{DONE}").json())
        for segment in raw.get(f"/sessions/{DONE}/transcripts").json():
            published.check("Segment", segment)
        for active in raw.get("/analytics/active").json():
            published.check("ActiveSession", active)
        assert published.check_error(raw.get("/sessions/mbsess_none").json()).status == 404
        assert published.check_error(raw.get("/sessions").json()).status == 405


def test_the_client_reads_the_published_answers(service):
    with MeetingBuddyClient(service.url, TOKEN) as client:
        done = client.get_session(DONE)
        assert (done.status, done.platform, done.total_duration_seconds) == ("completed", "google_meet", 3540)
        # timestamps without milliseconds are kept in this Meeting Buddy's own form
        assert (done.created_at, done.leave_timestamp) == ("2025-12-10T09:00:00.000Z",
                                                           "2025-12-10T10:00:00.000Z")
        segments = client.transcripts(DONE)  # a bare array there
        assert [(s.text, s.speaker, s.session_id) for s in segments] == [
            ("Welcome, everyone.", "Alice", DONE), ("Thanks for having me.", "Bob", DONE)]
        assert segments[0].created_at == "2025-12-11T09:05:00.000Z"

        active = client.analytics_active()  # `meet` there
        assert [(a["session_id"], a["platform"], a["current_participants"]) for a in active] == [
            (LIVE, "google_meet", ["Alice"])]
        weekly = client.analytics_trends(granularity="week", start_date="2025-12-01T00:00:00Z")
        assert [p["period"] for p in weekly["data"]] == ["2025-W50"]
        assert client.analytics_duration_distribution()["buckets"][-1]["max_seconds"] == 3600

        events = list(client.stream(DONE, "status"))
        assert [e.event for e in events] == ["status"] * 4 + ["close"]
        joins = [(e.data["participant_name"], e.data["event"]) for e in events if "participant_name" in e.data]
        assert joins == [("Bob", "joined")]  # a join is a status event
        assert events[-1].data == {"reason": "session_ended"} and {e.id for e in events} == {None}

        # its DELETE stops the session and keeps it: reported as a stop
        stopped = client.delete_session(LIVE)
        assert stopped is not None and stopped.status == "completed"
        assert client.get_session(LIVE).status == "completed"

        # our extensions are not there: said so, never taken for done
        for call, feature in ((client.list_sessions, "listing sessions"),
                              (lambda: client.export_transcript(DONE, "txt"), "transcript export"),
                              (lambda: client.import_session(done, segments), "importing sessions")):
            with pytest.raises(RemoteFeatureMissing) as missing:
                call()
            assert feature in missing.value.message and missing.value.status in (404, 405)

        with pytest.raises(RemoteApiError) as err:
            client.get_session("mbsess_unknown")
        assert (err.value.code, err.value.status) == ("SESSION_NOT_FOUND", 404)
        assert err.value.details == {"session_id": "mbsess_unknown"} and err.value.trace_id


def test_rate_limits_and_expired_tokens_as_published(service):
    service.throttled = 1  # one 429 with Retry-After and X-RateLimit-* headers
    with MeetingBuddyClient(service.url, TOKEN, backoff_s=0.01) as client:
        started = time.monotonic()
        assert client.get_session(DONE).status == "completed"
    assert time.monotonic() - started >= 0.9  # as long as asked, not the 0.01 s backoff
    assert service.requests.count(("GET", f"/v1/meeting-buddy/sessions/{DONE}")) == 2

    with MeetingBuddyClient(service.url, EXPIRED_TOKEN) as client:
        with pytest.raises(RemoteApiError) as err:
            client.get_session(DONE)
    assert (err.value.code, err.value.status) == ("TOKEN_EXPIRED", 401)
    assert err.value.message.startswith("The remote API token has expired: get a new token")


@pytest.fixture
def here(tmp_path):
    with LiveServer(tmp_path / "here", gates=Gates(open_all=True)) as srv:
        yield srv


def test_sync_with_the_published_service(here, service):
    mine = start_session(here, TEAMS_LINK)
    api = service.url + "/v1/meeting-buddy"

    first = run_sync(here, service.url, token=TOKEN)
    # it takes no imports: the session stays queued, nothing is claimed as pushed
    assert first.pushed == [] and first.queued == [mine] and first.rejected == {}
    assert "importing sessions" in first.unsupported["push"]
    # it lists no sessions: what it tells (its active session) is copied
    assert "listing sessions" in first.unsupported["list"]
    assert first.pulled == [LIVE] and not first.offline
    copy = here.store.get_session(LIVE)
    assert (copy.status, copy.platform, copy.created_at) == ("recording", "google_meet",
                                                             "2025-12-11T09:00:00.000Z")
    assert [t.text for t in here.store.transcripts(LIVE)] == ["Let us begin."]
    assert here.store.session_origin(LIVE) == (True, api)
    assert here.store.get_session(DONE) is None  # neither active nor known here: out of sight
    served = httpx.get(f"{here.api}/sessions/{LIVE}", headers=here.headers)
    assert served.status_code == 200 and served.json()["platform"] == "google_meet"

    service.stop_now(LIVE)  # the meeting ends there
    second = run_sync(here, service.url, token=TOKEN)
    assert second.pulled == [LIVE] and here.store.get_session(LIVE).status == "completed"
    third = run_sync(here, service.url, token=TOKEN)
    assert (third.pulled, third.pushed, third.queued) == ([], [], [mine])


def test_the_remote_commands_and_sync_against_the_published_service(service, isolated_dirs, capsys):
    target = ["--api-url", service.url, "--token", TOKEN]
    assert cli.main(["remote", "sessions", "show", DONE, *target]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["platform"], shown["created_at"]) == ("google_meet", "2025-12-10T09:00:00.000Z")
    assert cli.main(["remote", "sessions", "transcripts", DONE, *target]) == 0
    said = json.loads(capsys.readouterr().out)
    assert [(t["text"], t["session_id"]) for t in said] == [("Welcome, everyone.", DONE),
                                                           ("Thanks for having me.", DONE)]
    assert cli.main(["remote", "sessions", "stop", LIVE, *target]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "completed"

    assert cli.main(["remote", "sessions", "list", *target]) == 2
    assert "does not offer listing sessions" in capsys.readouterr().err
    assert cli.main(["remote", "sessions", "export", DONE, "-f", "txt", *target]) == 2
    assert "does not offer transcript export" in capsys.readouterr().err
    assert cli.main(["remote", "sessions", "show", DONE, "--api-url", service.url,
                     "--token", EXPIRED_TOKEN]) == 2
    assert "token has expired" in capsys.readouterr().err

    with LiveServer(isolated_dirs, gates=Gates(open_all=True)) as srv:
        mine = start_session(srv, TEAMS_LINK)
    assert cli.main(["sync", *target]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert (report["pushed"], report["queued"], report["offline"]) == ([], [mine], False)
    assert set(report["unsupported"]) == {"push", "list"}
    assert "does not offer importing sessions" in captured.err and "stay queued" in captured.err


# -- our server against the published shapes ------------------------------------------------

def events_of(http: httpx.Client, path: str) -> list[tuple[str, dict]]:
    """Every event of a stream, from the session's first (ours: Last-Event-ID 0) to close."""
    with connect_sse(http, "GET", path, headers={"Last-Event-ID": "0"}) as source:
        events = [(sse.event, json.loads(sse.data)) for sse in source.iter_sse()]
    assert events[-1][0] == "close"
    return events


def test_our_server_answers_in_the_published_shapes(server, http):
    # start-session: the Session, status initializing
    created = http.post("/sessions", json={"meeting_link": TEAMS_LINK})
    assert created.status_code == 201
    sid = published.check("Session", created.json()).session_id
    assert created.json()["status"] == "initializing"
    server.wait_status(sid, "recording")

    # analytics-active: a bare array, participant names
    active = http.get("/analytics/active").json()
    assert isinstance(active, list) and len(active) == 1
    assert published.check("ActiveSession", active[0]).current_participants == ["Alice"]
    assert sid.startswith("mbsess_")

    # stop-session: DELETE and POST /stop alike, idempotent, the Session back
    server.gates.open_all = True
    stopped = http.delete(f"/sessions/{sid}")
    assert stopped.status_code == 200
    assert published.check("Session", stopped.json()).status == "completed"
    assert http.post(f"/sessions/{sid}/stop").json() == stopped.json()

    # get-transcripts: a bare array by start time; each segment also names its session (ours)
    segments = http.get(f"/sessions/{sid}/transcripts").json()
    assert isinstance(segments, list) and len(segments) == 2
    starts = [published.check("Segment", s, ours=frozenset({"session_id"})).start_time
              for s in segments]
    assert starts == sorted(starts)

    # session-status-stream: `status` and `close` only; joins and leaves are status events
    statuses = events_of(http, f"/sessions/{sid}/stream")
    assert {name for name, _ in statuses} == {"status", "close"}
    people = [published.check("ParticipantStatusEvent", data, ours=frozenset({"is_bot"}))
              for name, data in statuses if "participant_name" in data]
    assert [(p.participant_name, p.event) for p in people] == [
        ("Alice", "joined"), ("Bob", "joined"), ("Bob", "left"), ("Alice", "left")]
    for _, data in statuses[:-1]:
        if "participant_name" not in data:
            published.check("StatusEvent", data)
    published.check("CloseEvent", statuses[-1][1])

    # transcript-stream and log-stream, field for field
    transcripts = events_of(http, f"/sessions/{sid}/transcripts/stream")
    assert {name for name, _ in transcripts} == {"transcript", "close"}
    for _, data in transcripts[:-1]:
        published.check("TranscriptEvent", data)
    logs = events_of(http, f"/sessions/{sid}/logs/stream")
    details = [published.check("LogEvent", data).details for _, data in logs[:-1]]
    assert None in details and {"segment": 1} in details  # object or null

    # analytics: the published example, the defaults, the shapes
    weekly = http.get("/analytics/trends", params={"start_date": "2025-12-01T00:00:00Z",
                                                   "granularity": "week"})
    points = [published.check("TrendPoint", p)
              for p in published.check("Trends", weekly.json()).data]
    assert all(re.fullmatch(r"[0-9]{4}-W[0-9]{2}", p.period) for p in points)
    year, week, _ = utc_now().isocalendar()
    assert points[0].period == "2025-W49" and points[-1].period == f"{year}-W{week:02d}"
    assert sum(p.session_count for p in points) == 1
    daily = published.check("Trends", http.get("/analytics/trends").json()).data
    assert daily[0]["period"] == (utc_now() - timedelta(days=30)).date().isoformat()
    distribution = published.check("DurationDistribution",
                                   http.get("/analytics/duration-distribution").json())
    buckets = [published.check("Bucket", b) for b in distribution.buckets]
    assert [b.label for b in buckets][:4] == ["0-5 min", "5-15 min", "15-30 min", "30-60 min"]
    assert distribution.total == 1 and sum(b.count for b in buckets) == 1
    breakdown = published.check("StatusBreakdown", http.get("/analytics/status-breakdown").json())
    items = [published.check("BreakdownItem", i) for i in breakdown.items]
    assert {i.label: i.count for i in items}["completed"] == 1
    assert http.get("/analytics/active").json() == []  # completed: no longer active

    # the error envelope of every Aitronos API
    missing = http.get("/sessions/mbsess_nothing")
    assert published.check_error(missing.json()).code == "SESSION_NOT_FOUND"
    refused = httpx.get(f"{server.api}/analytics/active")
    assert published.check_error(refused.json()).status == 401
