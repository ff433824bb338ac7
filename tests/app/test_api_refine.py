"""(ours) The after-meeting pass over real HTTP: start it (202), follow it on the SSE streams,
cancel it, read and restore the kept transcripts. The server is the real one over a real
store; sessions are recorded by the scripted runner of tests/fakes.py (the bot's stand-in),
which writes real Ogg/Opus segment files of espeak-ng speech; the pass runs faster-whisper
with the shipped tiny.en model."""
from __future__ import annotations

import httpx
import pytest

from app.refine import RefineOptions
from tests.api_helpers import LiveServer
from tests.app.test_api_server import assert_envelope, read_events_lazily
from tests.app.test_refine import LINES, recorded_steps
from tests.fakes import JOINING, scripted, status
from tests.recorder.test_transcriber import conversation, recall

MEET = "https://meet.google.com/abc-defg-hij"


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    return conversation(LINES, tmp_path_factory.mktemp("speech"))


@pytest.fixture
def server(tmp_path, speech):
    with LiveServer(tmp_path / "server", runner_factory=scripted(*recorded_steps(speech), end_by_itself=True),
                    keepalive_s=0.3) as srv:
        srv.manager.refiner.options = RefineOptions(model="tiny.en")
        yield srv


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server.api, headers=server.headers, timeout=60) as client:
        yield client


def finished_session(server: LiveServer, http: httpx.Client) -> str:
    sid = http.post("/sessions", json={"meeting_link": MEET}).json()["session_id"]
    server.wait_status(sid, "completed")
    return sid


def test_refine_answers_202_and_its_progress_and_end_come_on_the_streams(server, http, speech):
    sid = finished_session(server, http)
    live = http.get(f"/sessions/{sid}/transcripts").json()
    response = http.post(f"/sessions/{sid}/refine")
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["session_id"] == sid and job["state"] in ("queued", "running") and job["model"] == "tiny.en"
    assert job["transcript_revision"] == "live" and job["automatic"] is False
    assert http.post(f"/sessions/{sid}/refine").json()["created_at"] == job["created_at"]  # the same pass

    with http.stream("GET", f"/sessions/{sid}/stream", headers={"Last-Event-ID": "0"}) as stream:
        events = list(read_events_lazily(stream))
    refine = [e["data"] for e in events if e["event"] == "refine"]
    assert refine[0]["state"] == "queued" and refine[-1]["state"] == "completed"
    assert refine[-1]["progress"] == 1.0 and refine[-1]["transcript_revision"] == "refined:tiny.en"
    assert any(r["state"] == "running" and 0 < r["progress"] < 1 for r in refine)
    assert events[-1]["event"] == "close" and events[-1]["data"] == {"reason": "session_ended"}
    assert [e["data"]["status"] for e in events if e["event"] == "status" and "event" not in e["data"]][-1] \
        == "completed"  # the published events come first, as before

    session = http.get(f"/sessions/{sid}").json()
    assert session["metadata"]["transcript_revision"] == "refined:tiny.en"
    refined = http.get(f"/sessions/{sid}/transcripts").json()
    assert recall(speech.script, " ".join(t["text"] for t in refined)) >= 0.8
    assert {t["transcript_id"] for t in refined}.isdisjoint(t["transcript_id"] for t in live)
    text = http.get(f"/sessions/{sid}/transcripts/export", params={"format": "txt"}).text.lower()
    assert "budget" in text and "marking numbers" not in text
    assert http.get(f"/sessions/{sid}/refine").json()["state"] == "completed"

    with http.stream("GET", f"/sessions/{sid}/logs/stream", headers={"Last-Event-ID": "0"}) as stream:
        logs = list(read_events_lazily(stream))
    assert any(e["event"] == "refine" for e in logs)
    assert any("improved with tiny.en" in e["data"]["message"] for e in logs if e["event"] == "log")


def test_a_stream_opened_during_the_pass_stays_open_until_it_ends(server, http):
    sid = finished_session(server, http)
    http.post(f"/sessions/{sid}/refine")
    with http.stream("GET", f"/sessions/{sid}/transcripts/stream") as stream:
        events = list(read_events_lazily(stream))
    if len(events) > 1:  # opened while the pass ran (on a very fast machine it may be over)
        assert [e["event"] for e in events] == ["transcript_revision", "close"]
        assert events[0]["data"]["transcript_revision"] == "refined:tiny.en"
        assert events[0]["data"]["segment_count"] == len(http.get(f"/sessions/{sid}/transcripts").json())
    assert events[-1]["event"] == "close"


def test_revisions_are_listed_and_the_live_one_restored(server, http):
    sid = finished_session(server, http)
    live = http.get(f"/sessions/{sid}/transcripts").json()
    assert http.get(f"/sessions/{sid}/transcripts/revisions").json() == {
        "session_id": sid, "transcript_revision": "live", "revisions": []}
    http.post(f"/sessions/{sid}/refine", json={"model": "tiny.en"})
    server.call(server.manager.refiner.wait(sid))
    kept = http.get(f"/sessions/{sid}/transcripts/revisions").json()
    assert kept["transcript_revision"] == "refined:tiny.en"
    assert [(r["label"], r["current"]) for r in kept["revisions"]] == [("live", False), ("refined:tiny.en", True)]
    assert kept["revisions"][0]["segment_count"] == len(live)

    restored = http.post(f"/sessions/{sid}/transcripts/restore")
    assert restored.status_code == 200 and restored.json()["metadata"]["transcript_revision"] == "live"
    assert http.get(f"/sessions/{sid}/transcripts").json() == live
    again = http.post(f"/sessions/{sid}/transcripts/restore", json={"revision": "refined:tiny.en"})
    assert again.json()["metadata"]["transcript_revision"] == "refined:tiny.en"
    with http.stream("GET", f"/sessions/{sid}/transcripts/stream", headers={"Last-Event-ID": "0"}) as stream:
        revisions = [e["data"]["transcript_revision"] for e in read_events_lazily(stream) if e["event"] == "transcript_revision"]
    assert revisions == ["refined:tiny.en", "live", "refined:tiny.en"]
    assert_envelope(http.post(f"/sessions/{sid}/transcripts/restore", json={"revision": "refined:base"}),
                    422, "VALIDATION_ERROR", "revision")


def test_delete_cancels_the_pass_and_changes_nothing(server, http):
    sid = finished_session(server, http)
    before = http.get(f"/sessions/{sid}/transcripts").json()
    assert http.post(f"/sessions/{sid}/refine").status_code == 202
    cancelled = http.delete(f"/sessions/{sid}/refine")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert cancelled.json()["transcript_revision"] == "live"
    assert http.get(f"/sessions/{sid}/transcripts").json() == before
    assert http.get(f"/sessions/{sid}/transcripts/revisions").json()["revisions"] == []
    assert http.delete(f"/sessions/{sid}/refine").json()["state"] == "cancelled"  # idempotent


def test_refusals_name_the_reason(server, http, tmp_path):
    assert_envelope(http.post("/sessions/mbsess_nope/refine"), 404, "SESSION_NOT_FOUND")
    assert http.get("/sessions/mbsess_nope/transcripts/revisions").status_code == 404
    sid = finished_session(server, http)
    assert_envelope(http.post(f"/sessions/{sid}/refine", json={"model": "huge-v9"}), 422, "VALIDATION_ERROR", "model")
    assert_envelope(http.post(f"/sessions/{sid}/refine", json={"model": "base", "beam": 3}), 422,
                    "VALIDATION_ERROR", "beam")
    assert http.get(f"/sessions/{sid}/refine").json()["state"] == "none"
    before = http.get(f"/sessions/{sid}/transcripts").json()
    assert http.post(f"/sessions/{sid}/refine", json={"model": "medium"}).status_code == 202  # known, not installed
    server.call(server.manager.refiner.wait(sid))
    failed = http.get(f"/sessions/{sid}/refine").json()
    assert failed["state"] == "failed" and "not installed" in failed["message"]
    assert http.get(f"/sessions/{sid}/transcripts").json() == before


def test_a_running_session_cannot_be_refined_yet(tmp_path):
    with LiveServer(tmp_path / "server", runner_factory=scripted(status(JOINING))) as srv, \
            httpx.Client(base_url=srv.api, headers=srv.headers, timeout=30) as http:
        sid = http.post("/sessions", json={"meeting_link": MEET}).json()["session_id"]
        srv.wait_status(sid, "joining")
        error = assert_envelope(http.post(f"/sessions/{sid}/refine"), 409, "REFINE_UNAVAILABLE")
        assert "still running" in error["message"]
