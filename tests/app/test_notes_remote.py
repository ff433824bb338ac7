"""Meeting notes from a user's Ollama server and from an OpenAI-compatible endpoint, and the
map-reduce over long meetings. The services are the HTTP stand-ins of notes_standins.py (a
rule in place of a model, since neither service can run here); the clients, the store and
the session manager are the real ones."""
from __future__ import annotations

import json
import logging
import threading

import pytest

from app.errors import NotesBackendFailed, NotesUnavailable
from app.notes.backends import NotesOptions, OpenAIBackend
from app.notes.engine import MAP_INSTRUCTIONS, Line, NotesCancelled, chunk_budget, make_notes, map_schema
from app.secrets import set_openai_key
from app.sessions import SessionManager
from tests.app.notes_meeting import BUDGET_MEETING, long_meeting, stored_meeting
from tests.app.notes_standins import StandIn, rule_answer

KEY = "sk-test-4f8a2c9e7d1b"


@pytest.fixture
def manager(store):
    return SessionManager(store)


def ollama_options(url: str, model: str = "llama3.2") -> NotesOptions:
    return NotesOptions(backend="ollama", ollama_url=url, ollama_model=model)


def openai_options(url: str) -> NotesOptions:
    return NotesOptions(backend="openai", openai_url=f"{url}/v1", openai_model="gpt-4o-mini")


def line_of(store, sid: str, transcript_id: str) -> str:
    return next(seg.text for seg in store.transcripts(sid) if seg.transcript_id == transcript_id)


def test_ollama_notes_link_each_action_item_to_its_line(manager, store):
    from app.notes.service import generate_notes

    sid = stored_meeting(store, BUDGET_MEETING)
    with StandIn() as ollama:
        notes = generate_notes(manager, sid, options=ollama_options(ollama.url))
    assert notes.backend == "ollama" and notes.model == "llama3.2"
    assert {(i.owner, i.due, line_of(store, sid, i.transcript_id)) for i in notes.action_items} == {
        ("Alice", "Friday", "Alice will send the final budget to finance by Friday."),
        ("Carol", None, "I will book the booth for the trade show next week.")}
    assert notes.decisions == ["We agreed to keep the trade show and cut the print advertising instead."]
    assert notes.open_questions == ["Who approves spending above the budget?"]
    assert manager.notes(sid) == notes  # stored
    request = ollama.requests[0]
    assert request.body["format"]["properties"]["action_items"]["items"]["properties"]["line"]["enum"] == \
        list(range(1, len(BUDGET_MEETING) + 1))  # the schema lets the model name only real lines
    assert request.body["stream"] is True


def test_an_ollama_model_that_is_not_pulled_is_a_clear_error(manager, store):
    from app.notes.service import generate_notes

    sid = stored_meeting(store, BUDGET_MEETING)
    with StandIn() as ollama, pytest.raises(NotesBackendFailed, match="refused model mistral.*not found"):
        generate_notes(manager, sid, options=ollama_options(ollama.url, "mistral"))
    assert manager.notes(sid) is None
    with pytest.raises(NotesUnavailable, match="Choose the Ollama model"):
        generate_notes(manager, sid, options=ollama_options("http://127.0.0.1:9", ""))


def test_an_unreachable_ollama_server_is_a_clear_error(manager, store):
    from app.notes.service import generate_notes

    sid = stored_meeting(store, BUDGET_MEETING)
    with StandIn() as ollama:
        gone = ollama.url
    with pytest.raises(NotesBackendFailed, match="did not answer.*is it running"):
        generate_notes(manager, sid, options=ollama_options(gone))


def test_openai_notes_send_the_key_from_the_keyring_and_never_log_it(manager, store, caplog):
    from app.notes.service import generate_notes

    caplog.set_level(logging.DEBUG)
    sid = stored_meeting(store, BUDGET_MEETING)
    set_openai_key(KEY)
    with StandIn(key=KEY) as endpoint:
        notes = generate_notes(manager, sid, options=openai_options(endpoint.url))
    assert notes.backend == "openai" and notes.model == "gpt-4o-mini"
    assert len(notes.action_items) == 2
    request = endpoint.requests[0]
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.body["response_format"]["type"] == "json_schema"
    assert request.body["response_format"]["json_schema"]["strict"] is True
    logs = " ".join(entry.message for entry in store.logs(sid))
    assert "the transcript is sent there" in logs  # the user sees where it went
    assert KEY not in caplog.text and KEY not in logs


def test_a_wrong_openai_key_is_refused_without_showing_it(manager, store, caplog):
    from app.notes.service import generate_notes

    caplog.set_level(logging.DEBUG)
    sid = stored_meeting(store, BUDGET_MEETING)
    set_openai_key("sk-wrong-key-123456")
    with StandIn(key=KEY) as endpoint, pytest.raises(NotesBackendFailed, match="HTTP 401: Incorrect API key") as err:
        generate_notes(manager, sid, options=openai_options(endpoint.url))
    assert "sk-wrong-key-123456" not in str(err.value) and "sk-wrong-key-123456" not in caplog.text
    assert manager.notes(sid) is None


def test_an_openai_endpoint_needs_an_address_and_a_model(manager, store):
    from app.notes.service import generate_notes

    sid = stored_meeting(store, BUDGET_MEETING)
    with pytest.raises(NotesUnavailable, match="address and model"):
        generate_notes(manager, sid, options=NotesOptions(backend="openai"))


def test_the_key_is_never_sent_over_plain_http_to_another_computer():
    with pytest.raises(NotesUnavailable, match="https://") as err:
        OpenAIBackend("http://models.example.com/v1", "gpt-4o-mini", "sk-secret-77")
    assert "sk-secret-77" not in str(err.value)
    OpenAIBackend("http://127.0.0.1:8000/v1", "local-model", "sk-secret-77")  # this computer: fine
    OpenAIBackend("http://models.example.com/v1", "open-model", None)  # no key to give away


def test_a_long_meeting_is_mapped_in_chunks_and_reduced_once_keeping_every_item(manager, store):
    lines = long_meeting(chunks=4)
    sid = stored_meeting(store, lines)
    segments = store.transcripts(sid)
    shares: list[float] = []
    with StandIn() as endpoint:
        backend = OpenAIBackend(f"{endpoint.url}/v1", "small-context", None)
        backend.context_tokens = 2200  # a small context: the meeting needs several chunks
        notes = make_notes(sid, segments, backend, progress=shares.append)
    maps = [r for r in endpoint.requests if "action_items" in r.body["response_format"]["json_schema"]["schema"]
            ["properties"]]
    reduces = [r for r in endpoint.requests if r not in maps]
    transcript_chars = sum(len(text) for _, text in lines)
    assert transcript_chars > chunk_budget(2200) and len(maps) >= 4 and len(reduces) == 1
    assert shares[-1] == 1.0 and shares == sorted(shares) and len(shares) == len(maps) + 1
    # Every chunk's commitment is kept, linked to its own line.
    said = {seg.transcript_id: seg.text for seg in segments}
    assert sorted(said[i.transcript_id] for i in notes.action_items) == sorted(
        f"I will write up topic {part} for the team by Friday." for part in range(4))
    assert all(i.owner == "Dana" and i.due == "Friday" for i in notes.action_items)
    assert notes.summary.startswith(f"A meeting in {len(maps)} parts")
    assert len({i.item_id for i in notes.action_items}) == 4


def test_a_very_long_meeting_is_reduced_in_halves_when_its_parts_do_not_fit_one_call(manager, store):
    sid = stored_meeting(store, long_meeting(chunks=12, lines_per_chunk=12))
    segments = store.transcripts(sid)
    with StandIn() as endpoint:
        backend = OpenAIBackend(f"{endpoint.url}/v1", "tiny-context", None)
        backend.context_tokens = 1300
        notes = make_notes(sid, segments, backend)
    schemas = [r.body["response_format"]["json_schema"]["schema"]["properties"] for r in endpoint.requests]
    maps = [s for s in schemas if "action_items" in s]
    assert len(maps) >= 12 and len(schemas) - len(maps) == 3  # two halves, then the whole
    assert len(notes.action_items) == 12  # every commitment, each linked to its own line
    said = {seg.transcript_id: seg.text for seg in segments}
    assert sorted(said[i.transcript_id] for i in notes.action_items) == sorted(
        f"I will write up topic {part} for the team by Friday." for part in range(12))


def test_an_answer_cut_short_by_the_token_budget_still_gives_notes(manager, store):
    from app.notes.service import generate_notes

    sid = stored_meeting(store, BUDGET_MEETING)
    lines = [Line(n, seg) for n, seg in enumerate(store.transcripts(sid), 1)]
    prompt = MAP_INSTRUCTIONS.format(lines="\n".join(line.render() for line in lines))
    complete = json.dumps(rule_answer(prompt, map_schema([line.number for line in lines])))
    cut = complete.index("I will book the booth") + 5  # in the middle of the second item's task
    with StandIn(cut_after=cut) as ollama:
        notes = generate_notes(manager, sid, options=ollama_options(ollama.url))
    said = {seg.transcript_id: seg.text for seg in store.transcripts(sid)}
    # The item cut before its line number cannot be linked, so it is left out; the rest stands.
    assert [said[i.transcript_id] for i in notes.action_items] == [
        "Alice will send the final budget to finance by Friday."]
    assert notes.summary and notes.decisions  # given before the cut
    assert notes.open_questions == []  # never came


def test_cancelling_stops_a_remote_answer_midway_and_keeps_the_notes(manager, store):
    from app.notes.service import generate_notes

    sid = stored_meeting(store, BUDGET_MEETING)
    with StandIn() as ollama:
        before = generate_notes(manager, sid, options=ollama_options(ollama.url))
    cancelled = threading.Event()
    with StandIn(delay_s=0.2) as slow:
        threading.Timer(0.5, cancelled.set).start()
        with pytest.raises(NotesCancelled):
            generate_notes(manager, sid, options=ollama_options(slow.url), cancelled=cancelled)
    assert manager.notes(sid) == before
    assert "cancelled" in store.logs(sid)[-1].message
