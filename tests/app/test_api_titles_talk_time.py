"""(ours) Renaming a session (PATCH /sessions/{id}) and one session's talk time
(GET /sessions/{id}/analytics), over the real server."""
from __future__ import annotations

from app.talk_time import talk_time
from tests.api_helpers import TEAMS_LINK, start_session
from tests.app.test_api_server import assert_envelope, copy_of


def test_a_session_is_renamed_with_a_cleaned_title(server, http):
    sid = start_session(server, TEAMS_LINK)
    response = http.patch(f"/sessions/{sid}", json={"title": " Design\u202e  review\x00\n"})
    assert response.status_code == 200, response.text
    assert response.json()["metadata"]["title"] == "Design review"
    assert http.get(f"/sessions/{sid}").json()["metadata"]["title"] == "Design review"
    assert server.store.get_session(sid).metadata["title"] == "Design review"
    long = http.patch(f"/sessions/{sid}", json={"title": "z" * 10_000}).json()["metadata"]["title"]
    assert len(long) == 200 and long.endswith("\u2026")
    for cleared in (None, "", "  \u200b "):
        http.patch(f"/sessions/{sid}", json={"title": "Again"})
        assert "title" not in http.patch(f"/sessions/{sid}", json={"title": cleared}).json()["metadata"]


def test_a_running_session_can_be_renamed_and_keeps_its_title_when_it_ends(server, http):
    sid = start_session(server, TEAMS_LINK, stop=False)
    renamed = http.patch(f"/sessions/{sid}", json={"title": "Live one"}).json()
    assert renamed["status"] == "recording" and renamed["metadata"]["title"] == "Live one"
    assert http.post(f"/sessions/{sid}/stop", timeout=15).json()["metadata"]["title"] == "Live one"


def test_rename_refuses_what_the_contract_refuses(server, http):
    sid = start_session(server, TEAMS_LINK)
    assert_envelope(http.patch(f"/sessions/{sid}", json={"title": 5}), 422, "VALIDATION_ERROR", "title")
    assert_envelope(http.patch(f"/sessions/{sid}", json={"title": "x", "metadata": {}}), 422, "VALIDATION_ERROR",
                    "metadata")
    assert_envelope(http.patch(f"/sessions/{sid}", json={}), 422, "VALIDATION_ERROR", "title")
    assert_envelope(http.patch("/sessions/mbsess_nope", json={"title": "x"}), 404, "SESSION_NOT_FOUND")
    assert_envelope(http.patch("/sessions/-not-an-id", json={"title": "x"}), 404, "SESSION_NOT_FOUND")
    copy = copy_of("mbsess_copy1", status="completed", created_at="2025-03-03T10:00:00.000Z", duration=60)
    assert http.put("/sessions/mbsess_copy1", json={"session": copy, "origin": "buddy-b"}).status_code == 201
    assert_envelope(http.patch("/sessions/mbsess_copy1", json={"title": "x"}), 409, "SESSION_READ_ONLY")


def test_session_analytics_are_the_talk_time_of_its_transcript(server, http):
    sid = start_session(server, TEAMS_LINK)  # Alice says "hello everyone" (0.5-1.4), Bob "hi Alice" (2.0-2.6)
    response = http.get(f"/sessions/{sid}/analytics")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == {"session_id": sid, **talk_time(server.store.transcripts(sid)).to_dict()}
    assert body["total_talk_time_seconds"] == body["speech_seconds"] == 1.5 and body["overlap_seconds"] == 0.0
    assert body["speakers"] == [
        {"speaker": "Alice", "talk_time_seconds": 0.9, "percentage": 60.0, "segment_count": 1},
        {"speaker": "Bob", "talk_time_seconds": 0.6, "percentage": 40.0, "segment_count": 1}]
    assert body["timeline"] == [{"speaker": "Alice", "start_time": 0.5, "end_time": 1.4},
                                {"speaker": "Bob", "start_time": 2.0, "end_time": 2.6}]


def test_analytics_of_a_session_without_transcript_and_of_none(server, http):
    copy = copy_of("mbsess_copy2", status="completed", created_at="2025-03-03T10:00:00.000Z", duration=60)
    http.put("/sessions/mbsess_copy2", json={"session": copy, "origin": "buddy-b"})
    assert http.get("/sessions/mbsess_copy2/analytics").json() == {
        "session_id": "mbsess_copy2", "total_talk_time_seconds": 0.0, "speech_seconds": 0.0,
        "overlap_seconds": 0.0, "speakers": [], "timeline": []}
    assert_envelope(http.get("/sessions/mbsess_nope/analytics"), 404, "SESSION_NOT_FOUND")
