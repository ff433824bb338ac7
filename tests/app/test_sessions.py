"""SessionManager: the single writer. These tests drive it with small scripted runners that
stand in for the bot pipeline (tested end to end elsewhere), to pin down the manager's own
bookkeeping: statuses, participants, transcripts, logs, stop, delete, recovery, events."""
from __future__ import annotations

import asyncio

import pytest

from app.errors import InvalidMeetingLink, SessionNotFound, SessionReadOnly, ValidationError
from app.events import AsyncSubscription
from app.models import Status
from app.sessions import SessionManager, StartRequest
from app.titles import MAX_TITLE, session_title
from tests.fakes import RECORDING, happy_path, join, leave, log, recording, say, scripted, status

LINK = "https://meet.google.com/abc-defg-hij"


MEETING = [*happy_path(), join("Alice"),
           join("Alice"),  # repeated page report: ignored
           join("Notetaker", bot=True), status(RECORDING),
           say("hello everyone", 0.5, 1.4, speaker="Alice", confidence=0.91, partial="hello every",
               from_thread=True),
           recording(segment_count=1, audio_file_count=1, video_file_count=1, total_size_bytes=1234,
                     total_duration_seconds=1.5),
           log("info", "recording started", segment=1)]
meeting_runner = scripted(*MEETING)
ending_runner = scripted(*MEETING, leave("Alice"), end_by_itself=True)


def manager_with(store, factory=meeting_runner, **kw):
    return SessionManager(store, runner_factory=factory, **kw)


async def wait_status(manager, sid, *statuses, timeout=5):
    for _ in range(int(timeout / 0.01)):
        if manager.get(sid).status in statuses:
            return manager.get(sid)
        await asyncio.sleep(0.01)
    raise AssertionError(f"status stayed {manager.get(sid).status}")


def test_start_returns_initializing_at_once_then_runs_and_stops(store):
    async def scenario():
        manager = manager_with(store)
        events = AsyncSubscription(manager.bus, asyncio.get_running_loop(), kinds={"status"})
        session = manager.start(StartRequest(LINK, bot_name="Scribe"))
        assert session.status == "initializing"
        assert session.platform == "google_meet" and session.bot_name == "Scribe"
        await wait_status(manager, session.session_id, "recording")
        stopped = await manager.stop(session.session_id)
        assert stopped.status == "completed"
        assert stopped.metadata["end_reason"] == "STOP_REQUESTED"
        assert stopped.join_timestamp and stopped.leave_timestamp
        assert stopped.total_duration_seconds is not None and stopped.total_duration_seconds >= 0
        assert stopped.segment_count == 1 and stopped.total_size_bytes == 1234
        # everyone still present leaves with the session
        assert stopped.current_participants == {}
        history = [(h["participant_name"], h["event"]) for h in stopped.participant_history]
        assert history == [("Alice", "joined"), ("Notetaker", "joined"), ("Alice", "left"),
                           ("Notetaker", "left")]
        assert stopped.participant_history[1]["is_bot"] is True
        seq = []
        while (ev := await events.get(timeout=0.1)) is not None:
            seq.append(ev.data["status"])
        assert seq == ["initializing", "joining", "active", "recording", "leaving", "completed"]
        # idempotent
        again = await manager.stop(session.session_id)
        assert again.to_dict() == stopped.to_dict()
        finals = store.transcripts(session.session_id)
        assert [(t.text, t.speaker, t.confidence) for t in finals] == [("hello everyone", "Alice", 0.91)]
        assert len(store.participant_events(session.session_id)) == 4
        assert any(l.message == "recording started" for l in store.logs(session.session_id))

    asyncio.run(scenario())


def test_transcript_events_mark_partials_and_finals(store):
    async def scenario():
        manager = manager_with(store, ending_runner)
        got = []
        manager.bus.subscribe(lambda e: got.append(e.data), kinds={"transcript"})
        session = manager.start(StartRequest(LINK))
        done = await wait_status(manager, session.session_id, "completed")
        assert done.metadata["end_reason"] == "MEETING_ENDED"
        assert [(e["is_partial"], e["transcript_id"] is None, e["confidence"]) for e in got] == [
            (True, True, None), (False, False, 0.91)]
        assert got[1]["language_code"] == "en" and got[1]["speaker"] == "Alice"

    asyncio.run(scenario())


def test_without_a_bot_the_session_fails_cleanly(store):
    async def scenario():
        manager = SessionManager(store)
        session = manager.start(StartRequest(LINK))
        failed = await wait_status(manager, session.session_id, "failed")
        assert failed.error_code == "SESSION_START_FAILED"
        assert "bot" in failed.error_message

    asyncio.run(scenario())


def test_a_crashing_runner_fails_the_session_with_a_code(store):
    class Crashing:
        def __init__(self, *a):
            pass

        async def run(self, control):
            control.set_status(Status.JOINING)
            raise RuntimeError("boom")

    async def scenario():
        manager = manager_with(store, Crashing)
        session = manager.start(StartRequest(LINK))
        failed = await wait_status(manager, session.session_id, "failed")
        assert failed.error_code == "INTERNAL_ERROR"
        assert failed.error_message == "Unexpected error: RuntimeError"

    asyncio.run(scenario())


def test_a_runner_that_ignores_stop_is_ended_after_the_timeout(store):
    class Deaf:
        def __init__(self, *a):
            pass

        async def run(self, control):
            control.set_status(Status.JOINING)
            await asyncio.sleep(3600)

    async def scenario():
        manager = manager_with(store, Deaf, stop_timeout=0.2)
        session = manager.start(StartRequest(LINK))
        await wait_status(manager, session.session_id, "joining")
        stopped = await manager.stop(session.session_id)
        assert stopped.status == "failed" and stopped.error_code == "INTERRUPTED"
        assert any("did not stop" in l.message for l in store.logs(session.session_id))

    asyncio.run(scenario())


def test_bad_requests_are_refused_and_create_nothing(store):
    manager = manager_with(store)
    with pytest.raises(InvalidMeetingLink) as err:
        manager.create(StartRequest("http://meet.google.com/abc-defg-hij"))
    assert err.value.details["field"] == "meeting_link"
    with pytest.raises(ValidationError) as err:
        manager.create(StartRequest(LINK, bot_name="  "))
    assert err.value.details["field"] == "bot_name"
    with pytest.raises(ValidationError):
        manager.create(StartRequest(LINK, transcription_language="english please"))
    assert store.list_sessions().total_count == 0


def test_unknown_and_malformed_ids(store):
    manager = manager_with(store)
    with pytest.raises(SessionNotFound):
        manager.get("mbsess_doesnotexist")
    with pytest.raises(ValidationError):
        manager.get("../../etc/passwd")


def test_crash_recovery_marks_live_sessions_interrupted_and_keeps_data(isolated_dirs):
    from app.store import Store

    store = Store(isolated_dirs)
    manager = manager_with(store)
    session, _ = manager.create(StartRequest(LINK))
    manager._transition(session.session_id, Status.JOINING)
    manager._transition(session.session_id, Status.ACTIVE)
    manager._transition(session.session_id, Status.RECORDING)
    manager._transcript(session.session_id, "kept words", 0, 1, False, None, 0.8, None)
    done, _ = manager.create(StartRequest(LINK))
    manager._complete(done.session_id, "STOP_REQUESTED")
    store.close()  # the process "dies" here

    from app.composition import build_core
    from app.folder_lock import DataFolderLock
    from app.settings import Settings

    # A second process that does not own the data folder (the app is running) leaves the
    # running session alone: only the owner recovers.
    running_app = DataFolderLock(isolated_dirs)
    assert running_app.acquire()
    with build_core(Settings(), own=True) as reader:
        assert not reader.owner
        assert reader.manager.get(session.session_id).status is Status.RECORDING
    running_app.release()

    with build_core(Settings(), own=True) as restarted:
        assert restarted.owner
        recovered = restarted.manager.get(session.session_id)
        assert recovered.status == "failed" and recovered.error_code == "INTERRUPTED"
        assert [t.text for t in restarted.store.transcripts(session.session_id)] == ["kept words"]
        assert restarted.manager.get(done.session_id).status == "completed"  # finished ones untouched


def test_delete_removes_session_transcripts_and_files(store):
    async def scenario():
        manager = manager_with(store)
        session = manager.start(StartRequest(LINK))
        await wait_status(manager, session.session_id, "recording")
        folder = manager.output_dir(manager.get(session.session_id))
        folder.mkdir(parents=True)
        (folder / "audio_0001.ogg").write_bytes(b"x")
        await manager.delete(session.session_id)
        assert not folder.exists()
        with pytest.raises(SessionNotFound):
            manager.get(session.session_id)
        assert store.transcripts(session.session_id) == []

    asyncio.run(scenario())


def test_async_subscription_resumes_from_a_sequence_number(store):
    async def scenario():
        manager = manager_with(store, ending_runner)
        session = manager.start(StartRequest(LINK))
        await wait_status(manager, session.session_id, "completed")
        everything = manager.bus.history(session.session_id)
        middle = everything[3].seq
        sub = AsyncSubscription(manager.bus, asyncio.get_running_loop(),
                                session_id=session.session_id, after_seq=middle)
        replay = []
        while (ev := await sub.get(timeout=0.05)) is not None:
            replay.append(ev.seq)
        assert replay == [e.seq for e in everything[4:]]

    asyncio.run(scenario())


def test_names_from_a_meeting_page_are_made_safe_before_they_are_stored(store):
    """A page decides what its participants are called: control characters, terminal escapes,
    NUL, bidi overrides and zero-width marks never reach the store, and a name is capped."""
    hostile = ["Eve\u202egnp.exe", "Mallory\x1b[2J\x00", "Zero\u200bWidth", "x" * 1_000_000,
               "<script>alert(1)</script>", "\x07\x1b"]
    steps = [*happy_path(), *(join(name) for name in hostile),
             say("hi", 0.0, 1.0, speaker="Eve\u202egnp.exe")]

    async def scenario():
        manager = manager_with(store, scripted(*steps))
        session = manager.start(StartRequest(LINK))
        return await wait_status(manager, session.session_id, "active")

    session = asyncio.run(scenario())
    names = list(session.current_participants)
    assert "Evegnp.exe" in names and "Mallory[2J" in names and "ZeroWidth" in names
    assert "<script>alert(1)</script>" in names              # kept as text; shown as text
    long_name = next(n for n in names if n.startswith("xxx"))
    assert len(long_name) == 200 and long_name.endswith("\u2026")
    assert len(names) == 5                                    # a name with nothing printable is dropped
    assert all(ch.isprintable() for name in names for ch in name)
    [said] = store.transcripts(session.session_id)
    assert said.speaker == "Evegnp.exe"


# -- titles -----------------------------------------------------------------------------------

def test_rename_keeps_a_cleaned_title_in_metadata_and_publishes_the_session(store):
    manager = manager_with(store)
    session, _ = manager.create(StartRequest(LINK))
    events: list = []
    manager.bus.subscribe(events.append, session_id=session.session_id)

    renamed = manager.rename(session.session_id, "  Weekly\u202e\u200b  sync\x1b[2J\n\tteam  ")
    assert renamed.metadata["title"] == "Weekly sync[2J team"  # control, bidi, zero-width gone
    assert renamed.updated_at >= session.updated_at
    assert store.get_session(session.session_id).metadata["title"] == "Weekly sync[2J team"  # persisted
    published = [e for e in events if e.kind == "session"]
    assert len(published) == 1 and published[0].data["metadata"]["title"] == "Weekly sync[2J team"
    assert any(e.kind == "log" and "Weekly sync[2J team" in e.data["message"] for e in events)
    assert any("Renamed" in entry.message for entry in store.logs(session.session_id))

    capped = manager.rename(session.session_id, "y" * 100_000).metadata["title"]
    assert len(capped) == MAX_TITLE and capped.endswith("\u2026")


def test_renaming_to_the_same_title_changes_nothing(store):
    manager = manager_with(store)
    session, _ = manager.create(StartRequest(LINK))
    first = manager.rename(session.session_id, "Standup")
    events: list = []
    manager.bus.subscribe(events.append)
    again = manager.rename(session.session_id, " Standup ")
    assert again.updated_at == first.updated_at and events == []  # sync has nothing new to send


def test_a_blank_title_gives_the_link_derived_name_back(store):
    manager = manager_with(store)
    session, _ = manager.create(StartRequest(LINK))
    manager.rename(session.session_id, "Planning")
    for blank in ("", "   ", "\u202e\x00", None):
        manager.rename(session.session_id, "Planning")
        cleared = manager.rename(session.session_id, blank)
        assert "title" not in cleared.metadata
        assert session_title(store.get_session(session.session_id)) == "Google Meet · abc-defg-hij"


def test_a_copy_from_another_meeting_buddy_is_renamed_there(store):
    manager = manager_with(store)
    session, _ = manager.create(StartRequest(LINK))
    store.save_session(session, is_remote=True, remote_origin="buddy-b")
    with pytest.raises(SessionReadOnly):
        manager.rename(session.session_id, "Mine now")
    assert "title" not in store.get_session(session.session_id).metadata
    with pytest.raises(SessionNotFound):
        manager.rename("mbsess_doesnotexist", "x")


def test_a_title_given_at_the_start_is_cleaned_too(store):
    manager = manager_with(store)
    session, _ = manager.create(StartRequest(LINK, metadata={"title": " Board\u202e  review ", "team": "x"}))
    assert session.metadata == {"title": "Board review", "team": "x"}
    blank, _ = manager.create(StartRequest(LINK, metadata={"title": "\u200b"}))
    assert "title" not in blank.metadata
