"""(ours) GET /search over real HTTP: the real server over a real store, sessions recorded by
the scripted runner (tests/api_helpers.py) and copies imported as sync sends them; the token
as for every route, the typed answer, filters, pages and the error envelope."""
from __future__ import annotations

import httpx
import pytest

from tests.api_helpers import MEET_LINK, start_session
from tests.app.test_api_server import assert_envelope, copy_of


def segment(tid: str, text: str, start: float, speaker: str | None) -> dict:
    return {"transcript_id": tid, "text": text, "confidence": 0.9, "start_time": start, "end_time": start + 2,
            "speaker": speaker, "language_code": "en", "created_at": "2025-03-03T10:00:01.000Z"}


@pytest.fixture
def copies(http):
    """Two finished meetings another Meeting Buddy sent (known dates)."""
    march = copy_of("mbsess_march", status="completed", created_at="2025-03-03T10:00:00.000Z", duration=60)
    april = copy_of("mbsess_april", status="completed", platform="teams", created_at="2025-04-07T10:00:00.000Z",
                    duration=60)
    for session, lines in ((march, [segment("mbtrans_m1", "The budget review is on Friday.", 1, "Alice"),
                                    segment("mbtrans_m2", "Lunch first, then the review.", 5, "Bob")]),
                           (april, [segment("mbtrans_a1", "Our budget held, budget-wise a good quarter.", 3, "Bob"),
                                    segment("mbtrans_a2", "Hello everyone and welcome.", 9, "Alice")])):
        response = http.put(f"/sessions/{session['session_id']}", json={"session": session, "transcripts": lines})
        assert response.status_code == 201, response.text


def test_search_answers_ranked_lines_with_snippets(server, http, copies):
    response = http.get("/search", params={"q": "budget"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["query"] == "budget" and body["has_more"] is False
    assert (body["limit"], body["offset"]) == (20, 0)
    assert [h["transcript_id"] for h in body["data"]] == ["mbtrans_a1", "mbtrans_m1"]
    hit = body["data"][0]
    assert set(hit) == {"session_id", "transcript_id", "text", "snippet", "highlights", "speaker", "start_time",
                        "end_time", "language_code", "score", "session_created_at", "platform"}
    assert hit["session_id"] == "mbsess_april" and hit["platform"] == "teams" and hit["speaker"] == "Bob"
    assert hit["session_created_at"] == "2025-04-07T10:00:00.000Z" and hit["start_time"] == 3.0
    assert [hit["snippet"][a:b] for a, b in hit["highlights"]] == ["budget", "budget"]
    assert hit["score"] > body["data"][1]["score"]


def test_a_session_recorded_here_is_found_as_its_lines_arrive(server, http):
    sid = start_session(server, MEET_LINK)  # the scripted runner says "hello everyone", "hi Alice"
    hits = http.get("/search", params={"q": "hello"}).json()["data"]
    assert [(h["session_id"], h["text"], h["speaker"]) for h in hits] == [(sid, "hello everyone", "Alice")]
    assert http.delete(f"/sessions/{sid}", params={"purge": "true"}).status_code == 204
    assert http.get("/search", params={"q": "hello"}).json()["data"] == []


def test_filters_and_pages(server, http, copies):
    def ids(**params) -> list[str]:
        response = http.get("/search", params=params)
        assert response.status_code == 200, response.text
        return [h["transcript_id"] for h in response.json()["data"]]

    assert ids(q="budget", speaker="ALICE") == ["mbtrans_m1"]
    assert ids(q="budget", since="2025-04-01") == ["mbtrans_a1"]
    assert ids(q="budget", until="2025-03-03") == ["mbtrans_m1"]  # a plain date: its whole day
    assert ids(q="budget", since="2025-03-03T10:00:00Z", until="2025-03-03T12:00:00+02:00") == ["mbtrans_m1"]
    assert sorted(ids(q="review OR hello", raw="true")) == ["mbtrans_a2", "mbtrans_m1", "mbtrans_m2"]
    first = http.get("/search", params={"q": "budget", "limit": 1}).json()
    second = http.get("/search", params={"q": "budget", "limit": 1, "offset": 1}).json()
    assert first["has_more"] is True and second["has_more"] is False
    assert [first["data"][0]["transcript_id"], second["data"][0]["transcript_id"]] == ["mbtrans_a1", "mbtrans_m1"]
    assert ids(q='budget" -( :') == ["mbtrans_a1", "mbtrans_m1"]  # punctuation is only text
    assert ids(q="budget OR lunch") == []  # "or" is a word here, not the operator


def test_the_search_needs_the_token(server, copies):
    url = server.api + "/search"
    assert_envelope(httpx.get(url, params={"q": "budget"}), 401, "AUTHENTICATION_REQUIRED")
    assert_envelope(httpx.get(url, params={"q": "budget"}, headers={"Authorization": "Bearer nope"}), 401,
                    "INVALID_API_KEY")
    assert httpx.get(url, params={"q": "budget"}, headers={"X-API-Key": server.token}).status_code == 200


@pytest.mark.parametrize("params,field", [
    ({}, "q"),
    ({"q": ""}, "q"),
    ({"q": "?!"}, "q"),
    ({"q": "budget AND", "raw": "true"}, "q"),
    ({"q": "budget", "since": "2025-02-30"}, "since"),
    ({"q": "budget", "since": "yesterday"}, "since"),
    ({"q": "budget", "until": "2025-03-01T10:00:00"}, "until"),  # a date-time needs its zone
    ({"q": "budget", "since": "2025-05-01", "until": "2025-04-01"}, "since"),
    ({"q": "budget", "limit": 0}, "limit"),
    ({"q": "budget", "limit": 101}, "limit"),
    ({"q": "budget", "offset": -1}, "offset"),
    ({"q": "x" * 501}, "q"),
])
def test_what_the_search_cannot_use_is_a_validation_error(server, http, params, field):
    assert_envelope(http.get("/search", params=params), 422, "VALIDATION_ERROR", field)
