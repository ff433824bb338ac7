"""`meeting-buddy search` as a user runs it: a real process over the data folder of the
settings, ranked lines with their sessions, JSON in the API's shape, filters, and one clear
line (never a traceback) for a query or a date it cannot use."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from app.models import Session, Status, TranscriptSegment
from app.store import Store


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=60)


def meeting(store: Store, day: str, lines: list[tuple[str, str]], platform: str = "zoom") -> Session:
    session = Session.create(meeting_link="https://zoom.us/j/123456789", platform=platform)
    session.created_at = session.updated_at = f"{day}T09:30:00.000Z"
    session.status = Status.COMPLETED
    store.save_session(session)
    for number, (speaker, text) in enumerate(lines):
        store.add_transcript(TranscriptSegment.create(session.session_id, text, 60.0 * number + 2,
                                                      60.0 * number + 5, speaker=speaker))
    return session


@pytest.fixture
def stored(isolated_dirs):
    store = Store(isolated_dirs)
    march = meeting(store, "2025-03-03", [("Alice", "The budget review is on Friday."),
                                          ("Bob", "Lunch first, then the review."),
                                          ("Carol", "Who owns the hiring plan?")])
    april = meeting(store, "2025-04-07", [("Bob", "Our budget held this quarter, budget-wise."),
                                          ("Alice", "Great news for the team.")], platform="teams")
    store.close()
    return {"march": march, "april": april}


def test_search_prints_ranked_lines_with_their_session(stored):
    out = run_cli("search", "budget")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines == [
        f"2025-04-07 09:30 UTC · Microsoft Teams · {stored['april'].session_id} · 00:02 · Bob",
        "    Our budget held this quarter, budget-wise.",
        f"2025-03-03 09:30 UTC · Zoom · {stored['march'].session_id} · 00:02 · Alice",
        "    The budget review is on Friday.",
    ]
    assert "\033[" not in out.stdout  # not a terminal: no bold
    assert out.stderr == ""


def test_search_json_is_the_api_shape_with_filters(stored):
    out = run_cli("search", "review", "--speaker", "bob", "--since", "2025-03-03", "--until", "2025-03-03",
                  "--json")
    assert out.returncode == 0, out.stderr
    body = json.loads(out.stdout)
    assert set(body) == {"query", "data", "has_more", "limit", "offset"}
    assert body["query"] == "review" and body["has_more"] is False and body["limit"] == 20
    hit, = body["data"]
    assert hit["text"] == "Lunch first, then the review." and hit["speaker"] == "Bob"
    assert hit["session_id"] == stored["march"].session_id and hit["start_time"] == 62.0
    assert [hit["snippet"][a:b] for a, b in hit["highlights"]] == ["review"]
    assert hit["session_created_at"] == "2025-03-03T09:30:00.000Z" and hit["platform"] == "zoom"
    outside = json.loads(run_cli("search", "review", "--since", "2025-03-04", "--json").stdout)
    assert outside["data"] == []


def test_several_words_a_phrase_and_pages(stored):
    assert json.loads(run_cli("search", "budget", "review", "--json").stdout)["data"][0]["text"] == \
        "The budget review is on Friday."
    assert json.loads(run_cli("search", '"review is"', "--json").stdout)["data"][0]["text"] == \
        "The budget review is on Friday."
    first = run_cli("search", "budget", "--limit", "1")
    assert first.returncode == 0 and len(first.stdout.splitlines()) == 2
    assert "--offset 1" in first.stderr
    second = json.loads(run_cli("search", "budget", "--limit", "1", "--offset", "1", "--json").stdout)
    assert second["data"][0]["text"] == "The budget review is on Friday." and second["has_more"] is False
    nothing = run_cli("search", "zeppelin")
    assert nothing.returncode == 0 and nothing.stdout == "" and "No line matches" in nothing.stderr


def test_punctuation_in_a_query_is_only_text(stored):
    for typed in ('budget"', "budget -", "-budget", "budget )(", "(budget", "budget:", "^budget*"):
        out = run_cli("search", "--json", "--", typed)  # after --, a leading - is no option
        assert out.returncode == 0, (typed, out.stderr)
        assert len(json.loads(out.stdout)["data"]) == 2, typed


@pytest.mark.parametrize("args,needle", [
    (["search", "budget AND", "--raw"], "cannot be read"),
    (["search", "nope:budget", "--raw"], "cannot be read"),
    (["search", "?!"], "no word to look for"),
    (["search", "budget", "--since", "2025-02-30"], "--since is not a real date"),
    (["search", "budget", "--until", "yesterday"], "--until must be a date"),
    (["search", "budget", "--since", "2025-05-01", "--until", "2025-04-01"], "after its end"),
    (["search", "budget", "--limit", "0"], "--limit must be 1 to 100"),
])
def test_bad_queries_and_dates_are_one_clear_line(stored, args, needle):
    out = run_cli(*args)
    assert out.returncode == 2, out.stderr
    assert out.stdout == "" and needle in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr


def test_raw_queries_use_the_fts5_syntax(stored):
    out = run_cli("search", "hiring OR lunch", "--raw", "--json")
    assert out.returncode == 0, out.stderr
    assert sorted(h["text"] for h in json.loads(out.stdout)["data"]) == ["Lunch first, then the review.",
                                                                          "Who owns the hiring plan?"]


def test_help_lists_search():
    assert "search" in run_cli("--help").stdout
    usage = run_cli("search", "--help").stdout
    for option in ("--speaker", "--since", "--until", "--json"):
        assert option in usage
