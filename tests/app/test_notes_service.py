"""Notes jobs for the window and the API (Notetaker): queued and run one at a time, reported as
`notes` events, cancellable, made by themselves once a session's transcript is final; ticks
of action items kept; exports that carry the notes. The model is the Ollama stand-in of
notes_standins.py (a rule over real HTTP, since no Ollama server runs here); the store, the
session manager and the session runs are the real ones."""
from __future__ import annotations

import asyncio
import io
import json

import pytest

from app.errors import NotesUnavailable, ValidationError
from app.export import export_transcript
from app.notes.backends import NotesOptions
from app.notes.service import generate_notes
from app.sessions import SessionManager
from app.settings import Settings
from tests.app.notes_meeting import BUDGET_MEETING, stored_meeting
from tests.app.notes_standins import StandIn
from tests.fakes import say, scripted


def notes_events(manager: SessionManager) -> list[dict]:
    seen: list[dict] = []
    manager.bus.subscribe(lambda event: seen.append(event.data), kinds={"notes"})
    return seen


def ollama(url: str, *, auto: bool = True) -> NotesOptions:
    return NotesOptions(auto=auto, backend="ollama", ollama_url=url, ollama_model="llama3.2")


def test_a_job_reports_queued_running_done_and_the_notes_are_stored(store):
    manager = SessionManager(store)
    sid = stored_meeting(store, BUDGET_MEETING)
    events = notes_events(manager)

    async def run() -> None:
        with StandIn() as server:
            manager.notetaker.options = ollama(server.url)
            job = manager.notetaker.start(sid)
            assert manager.notetaker.start(sid) is job  # the same job, not a second one
            await manager.notetaker.wait(sid)
    asyncio.run(run())

    states = [e["state"] for e in events]
    assert states[0] == "queued" and states[1] == "running" and states[-1] == "done"
    assert {"state", "progress", "error", "backend"} <= set(events[-1])
    assert events[-1]["progress"] == 1.0 and events[-1]["backend"] == "ollama" and events[-1]["error"] is None
    notes = manager.notes(sid)
    assert notes is not None and len(notes.action_items) == 2
    assert manager.notetaker.job(sid).state == "done"


def test_a_cancelled_job_ends_cancelled_and_changes_nothing(store):
    manager = SessionManager(store)
    sid = stored_meeting(store, BUDGET_MEETING)
    events = notes_events(manager)

    async def run() -> None:
        with StandIn(delay_s=0.2) as slow:
            manager.notetaker.options = ollama(slow.url)
            manager.notetaker.start(sid)
            while not events or events[-1]["state"] != "running":
                await asyncio.sleep(0.02)
            assert manager.notetaker.cancel(sid) is True
            await manager.notetaker.wait(sid)
    asyncio.run(run())

    assert events[-1]["state"] == "cancelled" and manager.notes(sid) is None
    assert manager.notetaker.cancel(sid) is False  # nothing left to cancel


def test_a_failed_job_says_why(store):
    manager = SessionManager(store)
    sid = stored_meeting(store, BUDGET_MEETING)
    events = notes_events(manager)

    async def run() -> None:
        manager.notetaker.options = NotesOptions(backend="ollama", ollama_url="http://127.0.0.1:9",
                                                 ollama_model="llama3.2")
        manager.notetaker.start(sid)
        await manager.notetaker.wait(sid)
    asyncio.run(run())

    assert events[-1]["state"] == "failed" and "did not answer" in events[-1]["error"]


def test_a_running_or_empty_session_gets_no_notes(store):
    manager = SessionManager(store)
    empty = stored_meeting(store, [])
    with pytest.raises(NotesUnavailable, match="no transcript"):
        generate_notes(manager, empty, options=NotesOptions())

    async def run() -> None:
        manager.runner_factory = scripted(say("hello", 0, 1))
        session = manager.start_local(manager.runner_factory)
        with pytest.raises(NotesUnavailable, match="still running"):
            manager.notetaker.start(session.session_id)
        await manager.stop(session.session_id)
    asyncio.run(run())


def test_notes_are_made_by_themselves_once_a_session_has_ended(store):
    manager = SessionManager(store)
    events = notes_events(manager)
    def recorded_here(control) -> None:
        control.metadata(audio_start_s=0.0)  # as the session runners keep it

    lines = [recorded_here] + [say(text, n * 5.0, n * 5.0 + 4, speaker=who)
                               for n, (who, text) in enumerate(BUDGET_MEETING)]

    async def run() -> str:
        with StandIn() as server:
            manager.notetaker.options = ollama(server.url)
            manager.refiner.follow_sessions(asyncio.get_running_loop())
            manager.notetaker.follow_sessions(asyncio.get_running_loop())
            session = manager.start_local(scripted(*lines, end_by_itself=True))
            sid = session.session_id
            while not (events and events[-1]["state"] in ("done", "failed")):
                await asyncio.sleep(0.05)
            await manager.notetaker.close()
            return sid
    sid = asyncio.run(run())

    assert events[0]["automatic"] is True and events[-1]["state"] == "done", events[-1]
    assert len(manager.notes(sid).action_items) == 2


@pytest.mark.parametrize("auto, recorded_here", [(False, True), (True, False)])
def test_no_notes_by_themselves_when_the_setting_is_off_or_the_session_was_not_recorded_here(
        store, auto, recorded_here):
    manager = SessionManager(store)
    sid = stored_meeting(store, BUDGET_MEETING)
    if recorded_here:
        session = store.get_session(sid)
        session.metadata["audio_start_s"] = 0.0
        store.save_session(session)

    async def run() -> None:
        with StandIn() as server:
            manager.notetaker.options = ollama(server.url, auto=auto)
            manager.notetaker.follow_sessions(asyncio.get_running_loop())
            manager.bus.publish("status", sid, {"session_id": sid, "status": "completed"})
            await asyncio.sleep(0.3)
    asyncio.run(run())
    assert manager.notetaker.job(sid) is None and manager.notes(sid) is None


def test_ticking_an_action_item_is_stored(store):
    manager = SessionManager(store)
    sid = stored_meeting(store, BUDGET_MEETING)
    with StandIn() as server:
        notes = generate_notes(manager, sid, options=ollama(server.url))
    first = notes.action_items[0].item_id
    ticked = manager.set_action_done(sid, first, True)
    assert ticked.action_items[0].done is True
    assert manager.notes(sid).action_items[0].done is True and manager.notes(sid).action_items[1].done is False
    assert manager.set_action_done(sid, first, False).action_items[0].done is False
    with pytest.raises(ValidationError, match="no action item 'item-99'"):
        manager.set_action_done(sid, "item-99", True)


def test_exports_carry_the_notes(store):
    manager = SessionManager(store)
    sid = stored_meeting(store, BUDGET_MEETING)
    with StandIn() as server:
        notes = generate_notes(manager, sid, options=ollama(server.url))
    manager.set_action_done(sid, notes.action_items[0].item_id, True)
    session, segments, stored = manager.get(sid), store.transcripts(sid), manager.notes(sid)

    md = export_transcript(session, segments, "md", stored).decode()
    assert "## Meeting notes" in md and "### Action items" in md and "### Decisions" in md
    assert "- [x] Alice will send the final budget to finance by Friday. — Alice, due Friday (said at 00:00:24)" in md
    assert "- [ ] I will book the booth for the trade show next week. — Carol (said at 00:00:30)" in md
    assert "### Open questions\n\n- Who approves spending above the budget?" in md
    assert md.index("## Meeting notes") < md.index("## Transcript")

    document = json.loads(export_transcript(session, segments, "json", stored))
    assert document["notes"] == stored.to_dict()
    assert "notes" not in json.loads(export_transcript(session, segments, "json"))

    from docx import Document
    text = "\n".join(p.text for p in Document(io.BytesIO(export_transcript(session, segments, "docx", stored)))
                     .paragraphs)
    assert "Meeting notes" in text and "Open questions" in text
    assert "\u2611 Alice will send the final budget to finance by Friday. — Alice, due Friday (said at 00:00:24)" in text
    assert "We agreed to keep the trade show and cut the print advertising instead." in text


def test_deleting_a_session_deletes_its_notes(store):
    manager = SessionManager(store)
    sid = stored_meeting(store, BUDGET_MEETING)
    with StandIn() as server:
        generate_notes(manager, sid, options=ollama(server.url))
    asyncio.run(manager.delete(sid))
    assert store.notes(sid) is None


@pytest.mark.parametrize("change, field", [({"notes_backend": "cloud"}, "notes_backend"),
                                           ({"notes_model": " "}, "notes_model"),
                                           ({"ollama_url": "localhost:11434"}, "ollama_url"),
                                           ({"openai_url": "ftp://example.com"}, "openai_url")])
def test_notes_settings_are_checked(change, field):
    with pytest.raises(ValidationError) as refused:
        Settings(**change).validate()
    assert refused.value.details["field"] == field
    options = NotesOptions.from_settings(Settings(notes_backend="openai", openai_url="https://api.example.com/v1",
                                                  openai_model="m", notes_auto=False).validate())
    assert (options.backend, options.openai_url, options.auto) == ("openai", "https://api.example.com/v1", False)
