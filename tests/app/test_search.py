"""Full-text search over every meeting's transcript, at the store, on real SQLite FTS5: ranking,
snippets, filters and pages, the index kept in step with every write (live lines, the refine
pass's replacement and its restore, imports, deletes), queries that punctuation cannot break,
and a database of the previous schema indexed when it is opened."""
from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone

import pytest

from app.errors import ValidationError
from app.models import Session, Status, TranscriptSegment
from app.search import fts_query, parse_moment, unmark
from app.sessions import SessionManager
from app.store import DB_NAME, MIGRATIONS, SEARCH_SCHEMA, Store

FILLER = ["Let us look at the agenda for today.", "Thanks everyone for joining so early.",
          "Can you all hear me well?", "I will share my screen in a moment.",
          "The next item is the hiring plan.", "We should wrap up by eleven.",
          "Please send the notes after the call.", "Any questions before we move on?"]


def session_on(day: str, *, platform: str = "google_meet", status: Status = Status.COMPLETED) -> Session:
    session = Session.create(meeting_link="https://meet.google.com/abc-defg-hij", platform=platform)
    session.created_at = session.updated_at = f"{day}T10:00:00.000Z"
    session.status = status
    return session


def record(store: Store, session: Session, lines: list[tuple[str | None, str]]) -> list[TranscriptSegment]:
    """Saves the session and writes its lines as the live transcript does, one at a time."""
    store.save_session(session)
    segments = []
    for number, (speaker, text) in enumerate(lines):
        segment = TranscriptSegment.create(session.session_id, text, number * 5.0, number * 5.0 + 4.0,
                                           speaker=speaker)
        store.add_transcript(segment)
        segments.append(segment)
    return segments


def texts(page) -> list[str]:
    return [hit.text for hit in page.data]


def index_in_step(store: Store) -> None:
    """FTS5's own check of the index against the transcripts table (raises when they differ),
    and one indexed row per transcript line."""
    conn = sqlite3.connect(store.path)
    try:
        conn.execute("INSERT INTO transcripts_fts (transcripts_fts, rank) VALUES ('integrity-check', 1)")
        lines = conn.execute("SELECT COUNT(*) FROM transcripts").fetchone()[0]
    finally:
        conn.close()
    assert store.search_index_count() == lines


@pytest.fixture
def meetings(store):
    """Three meetings on three days: a planning meeting, a budget review, a retrospective."""
    planning = session_on("2025-03-03")
    budget = session_on("2025-03-10", platform="zoom")
    retro = session_on("2025-04-01", platform="teams")
    record(store, planning, [("Alice", FILLER[0]), ("Bob", "The budget is on the agenda next week."),
                             ("Alice", FILLER[1]), ("Carol", FILLER[2])])
    record(store, budget, [("Bob", "Budget, budget, budget: the quarterly budget review."),
                           ("Alice", "I think the marketing budget for the fair in Köln and the travel costs "
                                     "and the new laptops and the office chairs are all in one spreadsheet that "
                                     "nobody has opened since the last quarterly review in January"),
                           ("Carol", FILLER[3]), ("Bob", FILLER[4]), ("Bob", "Lunch at the Café Crème?")])
    record(store, retro, [("Carol", FILLER[5]), ("alice", "Our budget held this quarter."),
                          ("Bob", FILLER[6]), ("Bob", FILLER[7]), ("Carol", "What went well: the C++ port.")])
    return {"planning": planning, "budget": budget, "retro": retro}


# -- ranking, snippets ---------------------------------------------------------------------------

def test_lines_are_ranked_best_first_across_every_meeting(store, meetings):
    page = store.search("budget")
    assert len(page.data) == 4 and not page.has_more
    # The line that says it most (and is short) first; the long line that says it once last.
    assert page.data[0].text.startswith("Budget, budget, budget")
    assert page.data[-1].text.startswith("I think the marketing budget")
    assert [hit.score for hit in page.data] == sorted((hit.score for hit in page.data), reverse=True)
    assert {hit.session_id for hit in page.data} == {s.session_id for s in meetings.values()}
    first = page.data[0]
    assert first.session_id == meetings["budget"].session_id and first.platform == "zoom"
    assert first.session_created_at == "2025-03-10T10:00:00.000Z" and first.speaker == "Bob"
    assert (first.start_time, first.end_time) == (0.0, 4.0)
    assert store.transcripts(first.session_id)[0].transcript_id == first.transcript_id
    # Every word must occur; a phrase must occur as written.
    assert texts(store.search("budget quarter")) == ["Our budget held this quarter."]
    assert texts(store.search('"budget review"')) == ["Budget, budget, budget: the quarterly budget review."]
    assert store.search('"review budget"').data == []


def test_snippets_are_plain_text_with_the_matched_words_marked(store, meetings):
    hit = store.search("BUDGET review").data[0]
    assert hit.snippet == hit.text  # a short line is shown whole
    assert [hit.snippet[a:b] for a, b in hit.highlights] == ["Budget", "budget", "budget", "budget", "review"]
    assert hit.marked_snippet("[", "]") == "[Budget], [budget], [budget]: the quarterly [budget] [review]."
    long = next(h for h in store.search("spreadsheet").data)
    assert long.snippet != long.text and "\u2026" in (long.snippet[0], long.snippet[-1])
    assert [long.snippet[a:b] for a, b in long.highlights] == ["spreadsheet"]
    assert len(long.snippet.split()) <= 25
    # Accents and case do not matter; the line's own spelling is what is shown.
    cafe = store.search("cafe creme").data[0]
    assert [cafe.snippet[a:b] for a, b in cafe.highlights] == ["Café", "Crème"]
    koeln = store.search("koln").data[0]
    assert "Köln" in [koeln.snippet[a:b] for a, b in koeln.highlights]
    # Prefixes on request.
    assert len(store.search("budg*").data) == 4 and store.search("budg").data == []


def test_unmark_joins_adjacent_marks_and_drops_stray_ones():
    assert unmark("a \ue000b\ue001\ue000c\ue001 d") == ("a bc d", ((2, 4),))
    assert unmark("\ue001x \ue000y") == ("x y", ())
    assert unmark("plain") == ("plain", ())


# -- filters and pages ------------------------------------------------------------------------------

def test_speaker_and_date_filters(store, meetings):
    assert {h.speaker for h in store.search("budget", speaker="ALICE").data} == {"Alice", "alice"}
    assert store.search("budget", speaker="Dave").data == []
    assert store.search("budget", speaker="  ").data == store.search("budget").data  # blank: no filter
    march = store.search("budget", since=parse_moment("2025-03-01", "since", end_of_day=False),
                         until=parse_moment("2025-03-31", "until", end_of_day=True))
    assert {h.session_id for h in march.data} == {meetings["planning"].session_id, meetings["budget"].session_id}
    # A plain date as the end counts its whole day; both ends are included.
    day = parse_moment("2025-03-10", "until", end_of_day=True)
    assert {h.session_id for h in store.search("budget", since=day.replace(hour=0, minute=0, second=0,
                                                                          microsecond=0), until=day).data} \
        == {meetings["budget"].session_id}
    exact = datetime(2025, 4, 1, 10, 0, tzinfo=timezone.utc)
    assert texts(store.search("budget", since=exact)) == ["Our budget held this quarter."]
    assert texts(store.search("budget", until=exact, since=exact)) == ["Our budget held this quarter."]
    assert store.search("budget", since=parse_moment("2025-04-02", "since", end_of_day=False)).data == []
    both = store.search("budget", speaker="bob", until=parse_moment("2025-03-05", "until", end_of_day=True))
    assert texts(both) == ["The budget is on the agenda next week."]
    with pytest.raises(ValidationError) as err:
        store.search("budget", since=exact, until=datetime(2025, 1, 1, tzinfo=timezone.utc))
    assert err.value.details["field"] == "since"


def test_session_dates_written_with_another_offset_are_compared_as_moments(store):
    late = session_on("2025-05-01")
    late.created_at = "2025-05-01T23:30:00-02:00"  # 2025-05-02T01:30Z, as a copy may carry it
    record(store, late, [(None, "offset budget")])
    may_first = parse_moment("2025-05-01", "until", end_of_day=True)
    assert store.search("offset", until=may_first).data == []
    assert len(store.search("offset", since=may_first).data) == 1


def test_pages_follow_the_ranking_without_gaps_or_repeats(store):
    session = session_on("2025-06-01")
    record(store, session, [(None, f"Item {n}: " + "roadmap " * (1 + n % 4) + "and more words " * (n % 5))
                            for n in range(23)] + [(None, line) for line in FILLER * 5])
    whole = store.search("roadmap", limit=100)
    assert len(whole.data) == 23 and not whole.has_more
    pages, offset = [], 0
    while True:
        page = store.search("roadmap", limit=10, offset=offset)
        pages += page.data
        offset += 10
        if not page.has_more:
            break
    assert [h.transcript_id for h in pages] == [h.transcript_id for h in whole.data]
    assert store.search("roadmap", limit=10, offset=20).has_more is False
    assert store.search("roadmap", offset=100).data == []
    for bad, field in (({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"offset": -1}, "offset")):
        with pytest.raises(ValidationError) as err:
            store.search("roadmap", **bad)
        assert err.value.details["field"] == field


# -- the index kept in step ----------------------------------------------------------------------------

def test_live_lines_are_found_as_they_are_written_and_a_rewrite_replaces_the_old_text(store):
    session = session_on("2025-06-02", status=Status.RECORDING)
    first, = record(store, session, [("Alice", "the first draft of the contract")])
    assert texts(store.search("draft")) == ["the first draft of the contract"]
    # The same line written again (an import resends it) is indexed once, with its new text.
    store.add_transcript(TranscriptSegment(first.transcript_id, session.session_id, "the signed contract",
                                           0.0, 4.0, "Alice"))
    assert store.search("draft").data == [] and texts(store.search("contract")) == ["the signed contract"]
    index_in_step(store)


def test_the_refined_transcript_replaces_the_live_one_in_the_index_and_restore_brings_it_back(store):
    manager = SessionManager(store)
    session = session_on("2025-06-03")
    record(store, session, [("Alice", "the live tier heard quarterly bugdet"), ("Bob", "live only words here")])
    refined = [TranscriptSegment.create(session.session_id, "the quarterly budget, refined", 0.0, 4.0,
                                        speaker="Alice"),
               TranscriptSegment.create(session.session_id, "a sentence the live tier missed", 5.0, 9.0,
                                        speaker="Bob")]
    manager.replace_transcript(session.session_id, refined, "refined:base")
    assert texts(store.search("quarterly")) == ["the quarterly budget, refined"]
    assert store.search("bugdet").data == [] and store.search("live only").data == []
    assert [h.transcript_id for h in store.search("missed").data] == [refined[1].transcript_id]
    # The live transcript is kept as a revision, and not searched while it is not the current one.
    assert [r.label for r in store.transcript_revisions(session.session_id)] == ["live", "refined:base"]
    index_in_step(store)

    manager.restore_transcript(session.session_id, "live")
    assert texts(store.search("quarterly")) == ["the live tier heard quarterly bugdet"]
    assert store.search("refined").data == [] and store.search("missed").data == []
    index_in_step(store)

    again = [TranscriptSegment.create(session.session_id, "second pass wording", 0.0, 4.0)]
    manager.replace_transcript(session.session_id, again, "refined:small")
    assert texts(store.search("wording")) == ["second pass wording"] and store.search("bugdet").data == []
    index_in_step(store)


def test_a_newer_copy_replaces_its_lines_in_the_index(store):
    copy = session_on("2025-06-04")
    first = [TranscriptSegment.create(copy.session_id, "copied words old", 0.0, 1.0)]
    store.import_session(copy, first, origin="other")
    newer = [TranscriptSegment(first[0].transcript_id, copy.session_id, "copied words new", 0.0, 1.0),
             TranscriptSegment.create(copy.session_id, "copied words extra", 1.0, 2.0)]
    store.import_session(copy, newer, origin="other")
    assert sorted(texts(store.search("copied"))) == ["copied words extra", "copied words new"]
    assert store.search("old").data == []
    index_in_step(store)


def test_deleting_a_session_removes_its_lines_from_the_index(store, meetings):
    assert len(store.search("budget").data) == 4
    store.delete_session(meetings["budget"].session_id)  # the transcripts go by cascade
    assert {h.session_id for h in store.search("budget").data} == {meetings["planning"].session_id,
                                                                    meetings["retro"].session_id}
    assert store.search("spreadsheet").data == []
    index_in_step(store)


def test_the_window_and_the_api_delete_through_the_manager_too(store, meetings):
    import asyncio

    manager = SessionManager(store)
    asyncio.run(manager.delete(meetings["retro"].session_id))
    assert store.search("quarter").data == [] and len(store.search("budget").data) == 3
    index_in_step(store)


# -- queries punctuation cannot break ---------------------------------------------------------------

@pytest.mark.parametrize("typed", [
    "budget -", "budget AND", "OR budget", "NOT budget", "budget NEAR(", '"budget', 'budget"', '""budget""',
    "(budget)", "budget:", "speaker:budget", "^budget", "budget*)", "+budget", "budget's", "budget; DROP TABLE",
    "budget\x00", "{budget}", "budget ***",
])
def test_punctuation_is_only_text(store, meetings, typed):
    page = store.search(typed)  # never an FTS5 syntax error
    assert all("budget" in hit.text.lower() for hit in page.data)


def test_words_and_punctuation_inside_them_match_as_the_index_splits_them(store, meetings):
    assert texts(store.search("C++")) == ["What went well: the C++ port."]
    assert sorted(texts(store.search("well:"))) == ["Can you all hear me well?", "What went well: the C++ port."]
    assert store.search("OR").data == []  # the word "or", not the operator


@pytest.mark.parametrize("typed", ["", "   ", "-", "()", '""', "*", "?!", "x" * 501])
def test_a_query_with_nothing_to_look_for_is_a_validation_error(store, typed):
    with pytest.raises(ValidationError) as err:
        store.search(typed)
    assert err.value.details["field"] == "q"


def test_raw_queries_use_the_fts5_syntax_and_say_when_it_is_wrong(store, meetings):
    assert sorted(texts(store.search("lunch OR spreadsheet", raw=True))) == [
        "I think the marketing budget for the fair in Köln and the travel costs and the new laptops and the "
        "office chairs are all in one spreadsheet that nobody has opened since the last quarterly review in "
        "January", "Lunch at the Café Crème?"]
    assert texts(store.search("budget NOT quarterly NOT agenda NOT marketing", raw=True)) == [
        "Our budget held this quarter."]
    for broken in ("budget AND", "budget NEAR(", '"budget', "nope:budget", "(budget"):
        with pytest.raises(ValidationError) as err:
            store.search(broken, raw=True)
        assert err.value.details["field"] == "q" and "cannot be read" in err.value.message


def test_the_fts5_query_quotes_every_word():
    assert fts_query('budget "quarterly review" budg* -x OR') == '"budget" "quarterly review" "budg"* "-x" "OR"'
    assert fts_query('say "he said ""hi""') == '"say" "he said" "hi"'


# -- an existing database -------------------------------------------------------------------------------

def test_a_database_of_the_previous_schema_is_indexed_when_opened(isolated_dirs):
    isolated_dirs.mkdir(parents=True)
    conn = sqlite3.connect(isolated_dirs / DB_NAME)
    previous = SEARCH_SCHEMA - 1  # the schema every database had before the index
    conn.executescript(f"BEGIN; {'; '.join(MIGRATIONS[:previous])}; PRAGMA user_version = {previous}; COMMIT;")
    old = session_on("2024-11-05")
    conn.execute("INSERT INTO sessions (session_id, organization_id, platform, status, created_at, updated_at, "
                 "data) VALUES (?, ?, ?, ?, ?, ?, ?)",
                 (old.session_id, old.organization_id, old.platform, old.status.value, old.created_at,
                  old.updated_at, json.dumps(old.to_dict())))
    lines = [TranscriptSegment.create(old.session_id, text, n * 2.0, n * 2.0 + 1.5, speaker="Dana")
             for n, text in enumerate(["An old meeting about the warehouse lease.", "Nothing else.",
                                       "The lease ends in March."])]
    for seg in reversed(lines):  # written out of spoken order
        conn.execute("INSERT INTO transcripts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (seg.transcript_id, seg.session_id, seg.text, seg.start_time, seg.end_time, seg.speaker,
                      seg.confidence, seg.language_code, seg.created_at))
    conn.execute("INSERT INTO transcript_revisions VALUES (?, 'live', '2024-11-05T11:00:00.000Z', 1, '[]')",
                 (old.session_id,))
    conn.commit()
    conn.close()

    store = Store(isolated_dirs)
    assert store.schema_version == len(MIGRATIONS) >= SEARCH_SCHEMA
    assert [h.transcript_id for h in store.search("lease").data] == [lines[2].transcript_id, lines[0].transcript_id]
    assert store.transcripts(old.session_id) == lines  # every line kept as it was, in spoken order
    assert [r.label for r in store.transcript_revisions(old.session_id)] == ["live"]
    store.add_transcript(TranscriptSegment.create(old.session_id, "a new line about the lease", 9.0, 10.0))
    assert len(store.search("lease").data) == 3
    index_in_step(store)
    store.close()
    assert Store(isolated_dirs).search_index_count() == 4  # opened again: not indexed twice


def test_a_search_reads_beside_a_write_in_progress(store, meetings):
    """Searches read through a connection of their own: a write transaction in progress neither
    blocks them nor shows them what it has not committed."""
    session = meetings["planning"]
    with store._transaction():
        store.add_transcript(TranscriptSegment.create(session.session_id, "an uncommitted budget line", 99.0, 100.0))
        assert len(store.search("budget").data) == 4 and store.search("uncommitted").data == []
    assert texts(store.search("uncommitted")) == ["an uncommitted budget line"]


def test_a_closed_store_refuses_to_search(isolated_dirs):
    from app.errors import StorageError

    store = Store(isolated_dirs)
    store.close()
    with pytest.raises(StorageError):
        store.search("anything")
