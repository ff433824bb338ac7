"""(ours) Meeting notes over real HTTP: POST answers 202 at once, the job's progress and end
come as `notes` events on the session's SSE streams, GET gives the stored notes. The server,
store and manager are the real ones; the model is the Ollama stand-in of notes_standins.py (a
rule over real HTTP, since no Ollama server runs here)."""
from __future__ import annotations

import httpx
import pytest

from app.notes.backends import NotesOptions
from tests.app.notes_meeting import BUDGET_MEETING, stored_meeting
from tests.app.notes_standins import StandIn
from tests.app.test_api_server import assert_envelope, read_events_lazily


@pytest.fixture
def ollama():
    with StandIn(delay_s=0.01) as standin:
        yield standin


@pytest.fixture
def notes_server(server, ollama):
    server.manager.notetaker.options = NotesOptions(backend="ollama", ollama_url=ollama.url, ollama_model="llama3.2")
    return server


def test_notes_answer_202_then_come_as_events_and_are_read_back(notes_server, http):
    sid = stored_meeting(notes_server.store, BUDGET_MEETING)
    before = http.get(f"/sessions/{sid}/notes").json()
    assert before["state"] == "none" and before["notes"] is None

    response = http.post(f"/sessions/{sid}/notes", json={"backend": "ollama"})
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["state"] in ("queued", "running") and job["backend"] == "ollama" and job["automatic"] is False

    with http.stream("GET", f"/sessions/{sid}/stream", headers={"Last-Event-ID": "0"}) as stream:
        events = list(read_events_lazily(stream))
    notes_events = [e["data"] for e in events if e["event"] == "notes"]
    assert [e["state"] for e in notes_events][0] == "queued" and notes_events[-1]["state"] == "done"
    assert notes_events[-1]["progress"] == 1.0 and notes_events[-1]["created_at"] == job["created_at"]
    assert events[-1]["event"] == "close"

    done = http.get(f"/sessions/{sid}/notes").json()
    assert done["state"] == "done" and done["error"] is None
    notes = done["notes"]
    lines = {t["transcript_id"]: t["text"] for t in http.get(f"/sessions/{sid}/transcripts").json()}
    assert notes["backend"] == "ollama" and notes["open_questions"] == ["Who approves spending above the budget?"]
    assert [lines[item["transcript_id"]] for item in notes["action_items"]] == [
        "Alice will send the final budget to finance by Friday.", "I will book the booth for the trade show next week."]

    with http.stream("GET", f"/sessions/{sid}/logs/stream", headers={"Last-Event-ID": "0"}) as stream:
        logs = list(read_events_lazily(stream))
    assert any(e["event"] == "notes" for e in logs)
    assert any("Meeting notes made" in e["data"]["message"] for e in logs if e["event"] == "log")

    markdown = http.get(f"/sessions/{sid}/transcripts/export", params={"format": "md"}).text
    assert "## Meeting notes" in markdown and "finance by Friday" in markdown


def test_a_notes_job_can_be_cancelled_over_http(server, http):
    sid = stored_meeting(server.store, BUDGET_MEETING)
    with StandIn(delay_s=0.3) as slow:
        server.manager.notetaker.options = NotesOptions(backend="ollama", ollama_url=slow.url, ollama_model="llama3.2")
        assert http.post(f"/sessions/{sid}/notes").status_code == 202
        cancelled = http.delete(f"/sessions/{sid}/notes").json()
    assert cancelled["state"] == "cancelled" and cancelled["notes"] is None


def test_bad_notes_requests_get_the_error_envelope(server, http):
    assert_envelope(http.post("/sessions/mbsess_nope/notes"), 404, "SESSION_NOT_FOUND")
    sid = stored_meeting(server.store, BUDGET_MEETING)
    assert_envelope(http.post(f"/sessions/{sid}/notes", json={"backend": "cloud"}), 422, "VALIDATION_ERROR")
    empty = stored_meeting(server.store, [])
    refused = assert_envelope(http.post(f"/sessions/{empty}/notes"), 409, "NOTES_UNAVAILABLE")
    assert "no transcript" in refused["message"]


def test_a_failing_back_end_ends_the_job_failed_with_the_reason(server, http):
    sid = stored_meeting(server.store, BUDGET_MEETING)
    server.manager.notetaker.options = NotesOptions(backend="ollama", ollama_url="http://127.0.0.1:9",
                                                    ollama_model="llama3.2")
    assert http.post(f"/sessions/{sid}/notes").status_code == 202
    server.call(server.manager.notetaker.wait(sid))
    failed = http.get(f"/sessions/{sid}/notes").json()
    assert failed["state"] == "failed" and "did not answer" in failed["error"] and failed["notes"] is None


def test_unauthenticated_notes_are_refused(server):
    assert httpx.get(f"{server.api}/sessions/x/notes").status_code == 401
