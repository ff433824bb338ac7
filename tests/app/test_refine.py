"""The after-meeting pass ("refine") on a real store, with real faster-whisper models and real
Ogg/Opus segment files of espeak-ng speech.

Sessions are recorded by the scripted runner of tests/fakes.py (a stand-in for the bot,
whose pipeline has its own end-to-end tests): it writes the speech through the real segment
writer, keeps what the session runners keep for this pass (where the audio begins on the
session clock, the segment length, who spoke when) and reports live lines that are
deliberately wrong, so that a refined transcript is told apart from the live one.
"""
from __future__ import annotations

import asyncio
import os
import sys
import threading

import numpy as np
import pytest

from app.errors import RefineUnavailable, SessionReadOnly, ValidationError
from app.events import SessionEvent
from app.export import export_transcript
from app.models import Session, Status
from app.refine import RefineCancelled, RefineOptions, RefineState, refine_session, transcript_revision
from app.sessions import SessionManager, StartRequest
from app.store import Store
from recorder.priority import BULK_NICENESS
from tests.app.test_refine_helpers import write_wav
from tests.fakes import ACTIVE, JOINING, RECORDING, recorded_speech, say, scripted, status
from tests.recorder.test_transcriber import conversation, recall

MEET = "https://meet.google.com/abc-defg-hij"
START = 2.0  # session seconds where the recorded audio begins
LINES = [
    ("Alice", "en-us", "Good morning everyone. Today we will review the quarterly budget and the hiring plan."),
    ("Carol", "en+f3", "Thanks Alice. The marketing numbers look strong this year, but travel costs went up."),
    ("Alice", "en-us", "Let us schedule a follow up meeting next Tuesday afternoon."),
    ("Carol", "en+f3", "I will send the agenda to the whole team before Friday."),
]
LIVE_LINES = [say("good morning every one", 2.5, 4.0, speaker="Alice"),
              say("the marking numbers look strong", 9.0, 11.0, speaker="Carol")]
OPTIONS = RefineOptions(model="tiny.en")


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    return conversation(LINES, tmp_path_factory.mktemp("speech"))


def speaker_changes(speech) -> list[tuple[float, str | None]]:
    return [(START + begin, name) for name, begin, _end in speech.spans]


def recorded_steps(speech, *, live: bool = True, segment_seconds: float = 300.0) -> list:
    return [status(JOINING), status(ACTIVE), status(RECORDING),
            recorded_speech(speech.audio, start=START, segment_seconds=segment_seconds,
                            speakers=speaker_changes(speech)),
            *(LIVE_LINES if live else [])]


def record(store: Store, steps: list) -> tuple[SessionManager, Session]:
    """A session played to its end by the scripted runner."""
    manager = SessionManager(store, runner_factory=scripted(*steps, end_by_itself=True))

    async def run() -> Session:
        session = manager.start(StartRequest(MEET))
        while manager.is_running(session.session_id):
            await asyncio.sleep(0.02)
        return manager.get(session.session_id)

    return manager, asyncio.run(run())


@pytest.fixture
def recorded(store, speech) -> tuple[SessionManager, Session]:
    return record(store, recorded_steps(speech))


def text_of(store: Store, session_id: str) -> str:
    return " ".join(t.text for t in store.transcripts(session_id))


def test_refine_replaces_the_live_transcript_and_keeps_it(recorded, speech, store):
    manager, session = recorded
    live = store.transcripts(session.session_id)
    events: list[SessionEvent] = []
    manager.bus.subscribe(events.append, session_id=session.session_id)

    refined = refine_session(manager, session.session_id, options=OPTIONS)

    assert transcript_revision(refined) == "refined:tiny.en" == refined.metadata["transcript_revision"]
    lines = store.transcripts(session.session_id)
    assert recall(speech.script, text_of(store, session.session_id)) >= 0.8
    assert {t.transcript_id for t in lines}.isdisjoint(t.transcript_id for t in live)
    # On the session clock, inside the recording, in order, each line in one spoken turn.
    assert all(START <= t.start_time <= t.end_time <= START + speech.duration + 0.5 for t in lines)
    assert [t.start_time for t in lines] == sorted(t.start_time for t in lines)
    turns = [(START + begin, START + end, name) for name, begin, end in speech.spans]
    spoken_by = [next((name for begin, end, name in turns if begin - 1 <= (t.start_time + t.end_time) / 2 <= end + 1),
                      None) for t in lines]
    assert sum(t.speaker == who for t, who in zip(lines, spoken_by)) >= len(lines) - 1
    assert all(t.confidence is not None and 0 < t.confidence <= 1 for t in lines)
    # The live transcript is kept as it was, ids included.
    kept = store.revision_transcripts(session.session_id, "live")
    assert [(t.transcript_id, t.text) for t in kept] == [(t.transcript_id, t.text) for t in live]
    assert [r.label for r in store.transcript_revisions(session.session_id)] == ["live", "refined:tiny.en"]
    revision = [e.data for e in events if e.kind == "transcript_revision"]
    assert revision == [{"session_id": session.session_id, "transcript_revision": "refined:tiny.en",
                         "segment_count": len(lines), "timestamp": refined.updated_at}]
    assert any(e.kind == "session" and e.data["metadata"]["transcript_revision"] == "refined:tiny.en"
               for e in events)
    assert any("improved with tiny.en" in e.data["message"] for e in events if e.kind == "log")


def test_the_refined_transcript_is_as_good_as_transcribing_the_recording_offline(recorded, speech, store, tmp_path):
    """The pass loses nothing against plain faster-whisper over the same recorded audio."""
    from recorder.offline_transcription import _decode
    from recorder.transcriber import transcribe_file
    from tests.recorder.test_transcriber import words

    manager, session = recorded
    refine_session(manager, session.session_id, options=OPTIONS)
    audio = np.concatenate([_decode(f) for f in sorted(manager.output_dir(session).glob("audio_*.ogg"))])
    wav = tmp_path / "recording.wav"
    write_wav(wav, audio)
    offline = " ".join(r.text for r in transcribe_file(wav, model="tiny.en"))
    spoken = len(words(speech.script))
    assert recall(speech.script, text_of(store, session.session_id)) >= recall(speech.script, offline) - 2 / spoken


def test_restore_brings_the_live_one_back_and_the_refined_one_again(recorded, store):
    manager, session = recorded
    live = [(t.transcript_id, t.text) for t in store.transcripts(session.session_id)]
    refine_session(manager, session.session_id, options=OPTIONS)
    refined = [(t.transcript_id, t.text) for t in store.transcripts(session.session_id)]

    restored = manager.restore_transcript(session.session_id)
    assert transcript_revision(restored) == "live"
    assert [(t.transcript_id, t.text) for t in store.transcripts(session.session_id)] == live
    again = manager.restore_transcript(session.session_id, "refined:tiny.en")
    assert transcript_revision(again) == "refined:tiny.en"
    assert [(t.transcript_id, t.text) for t in store.transcripts(session.session_id)] == refined
    with pytest.raises(ValidationError):
        manager.restore_transcript(session.session_id, "refined:large-v3")
    # A second pass replaces the improved revision; the live one stays.
    refine_session(manager, session.session_id, options=OPTIONS)
    assert [r.label for r in store.transcript_revisions(session.session_id)] == ["live", "refined:tiny.en"]
    assert [t.text for t in store.revision_transcripts(session.session_id, "live")] == [text for _, text in live]


def test_exports_and_search_use_the_refined_transcript(recorded, store):
    manager, session = recorded
    assert b"marking numbers" in export_transcript(session, store.transcripts(session.session_id), "txt")
    refined = refine_session(manager, session.session_id, options=OPTIONS)
    for fmt in ("txt", "srt", "md"):
        text = export_transcript(refined, store.transcripts(session.session_id), fmt).decode().lower()
        assert "marking numbers" not in text and "budget" in text
    assert store.list_sessions(search="marketing").total_count == 1
    assert store.list_sessions(search="marking numbers").total_count == 0


def test_cancel_leaves_the_transcript_unchanged(recorded, store):
    manager, session = recorded
    before = [(t.transcript_id, t.text) for t in store.transcripts(session.session_id)]
    cancelled = threading.Event()
    shares: list[float] = []

    def progress(share: float) -> None:
        shares.append(share)
        cancelled.set()  # at the first window whisper finishes

    with pytest.raises(RefineCancelled):
        refine_session(manager, session.session_id, options=OPTIONS, progress=progress, cancelled=cancelled)
    assert shares and shares[0] < 1.0
    assert [(t.transcript_id, t.text) for t in store.transcripts(session.session_id)] == before
    assert store.transcript_revisions(session.session_id) == []
    assert transcript_revision(manager.get(session.session_id)) == "live"
    assert "cancelled" in store.logs(session.session_id)[-1].message


def test_a_session_interrupted_by_a_crash_is_refined_from_what_was_written(store, speech):
    """The app died while recording: the last segment file was never closed, and the session
    is failed/INTERRUPTED at the next start."""
    from recorder.audio.base import AudioChunk
    from recorder.segments import SegmentWriter

    crashed = SessionManager(store)
    session, _link = crashed.create(StartRequest(MEET))
    crashed._metadata(session.session_id, {"audio_start_s": START, "segment_seconds": 12.0})
    writer = SegmentWriter(crashed.output_dir(session), rotate_seconds=12.0, video=False)
    for offset in range(0, len(speech.audio), 1600):
        writer.write_audio(AudioChunk(speech.audio[offset:offset + 1600], START + offset / 16000))
    # The writer is never closed: the open file ends where its last page was flushed.

    restarted = SessionManager(store)
    assert restarted.recover_interrupted() == [session.session_id]
    assert restarted.get(session.session_id).error_code == "INTERRUPTED"
    assert len(list(restarted.output_dir(session).glob("audio_*.ogg"))) >= 3

    refined = refine_session(restarted, session.session_id, options=OPTIONS)
    assert refined.status is Status.FAILED and transcript_revision(refined) == "refined:tiny.en"
    assert recall(speech.script, text_of(store, session.session_id)) >= 0.75
    assert all(t.start_time >= START for t in store.transcripts(session.session_id))
    del writer


def test_a_running_session_a_copy_and_a_session_without_audio_are_refused(store, speech):
    manager, session = record(store, [status(JOINING), status(ACTIVE), say("hello there", 1.0, 2.0)])
    with pytest.raises(RefineUnavailable, match="no recorded audio"):
        refine_session(manager, session.session_id, options=OPTIONS)

    running = SessionManager(store, runner_factory=scripted(status(JOINING)))

    async def start_and_refine() -> None:
        started = running.start(StartRequest(MEET))
        await asyncio.sleep(0.1)
        with pytest.raises(RefineUnavailable, match="still running"):
            running.refiner.start(started.session_id)
        await running.stop(started.session_id)

    asyncio.run(start_and_refine())

    copy = Session.from_dict({**session.to_dict(), "session_id": "mbsess_copyofanother000000000"})
    manager.import_session(copy, [], "elsewhere")
    with pytest.raises(SessionReadOnly):
        refine_session(manager, copy.session_id, options=OPTIONS)


def test_the_refiner_runs_off_the_loop_reports_progress_and_cancels(recorded, store):
    manager, session = recorded
    sid = session.session_id
    before = [t.text for t in store.transcripts(sid)]
    states: list[tuple[str, float]] = []
    niceness_at_work: set[int] = set()

    def heard(event) -> None:
        states.append((event.data["state"], event.data["progress"]))
        if event.data["state"] == "running" and 0 < event.data["progress"] < 1:  # published by the work
            niceness_at_work.add(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    manager.bus.subscribe(heard, session_id=sid, kinds={"refine"})
    manager.refiner.options = OPTIONS

    async def cancel_then_refine() -> tuple[RefineState, RefineState]:
        job = manager.refiner.start(sid)
        assert manager.refiner.start(sid) is job  # one pass per session at a time
        manager.refiner.cancel(sid)
        cancelled = (await manager.refiner.wait(sid)).state
        assert [t.text for t in store.transcripts(sid)] == before
        ticks = 0

        async def tick() -> None:  # the loop stays free while whisper works
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        ticker = asyncio.ensure_future(tick())
        job = manager.refiner.start(sid)
        done = (await manager.refiner.wait(sid)).state
        ticker.cancel()
        assert ticks > 20
        return cancelled, done

    assert asyncio.run(cancel_then_refine()) == (RefineState.CANCELLED, RefineState.COMPLETED)
    assert states[:2] == [("queued", 0.0), ("cancelled", 0.0)]
    second = states[2:]
    assert second[0] == ("queued", 0.0) and second[-1] == ("completed", 1.0)
    assert any(state == "running" and 0 < share < 1 for state, share in second)
    assert [share for _, share in second] == sorted(share for _, share in second)
    assert transcript_revision(manager.get(sid)) == "refined:tiny.en"
    window = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    below = max(window, BULK_NICENESS) if sys.platform.startswith("linux") else window
    assert niceness_at_work == {below}  # the pass runs below the window


def test_each_session_is_refined_after_it_ends_when_the_setting_says_so(store, speech):
    manager = SessionManager(store, runner_factory=scripted(*recorded_steps(speech), end_by_itself=True))
    manager.refiner.options = OPTIONS

    async def run(after_session: bool) -> str:
        manager.refiner.options = RefineOptions(model="tiny.en", after_session=after_session)
        session = manager.start(StartRequest(MEET))
        while manager.is_running(session.session_id):
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)
        await manager.refiner.wait(session.session_id)
        return session.session_id

    async def both() -> tuple[str, str]:
        manager.refiner.follow_sessions(asyncio.get_running_loop())
        try:
            return await run(True), await run(False)
        finally:
            await manager.refiner.close()

    refined, left = asyncio.run(both())
    job = manager.refiner.job(refined)
    assert job is not None and job.automatic and job.state is RefineState.COMPLETED
    assert transcript_revision(manager.get(refined)) == "refined:tiny.en"
    assert manager.refiner.job(left) is None and transcript_revision(manager.get(left)) == "live"


def test_an_automatic_pass_waits_while_a_new_meeting_records_and_one_asked_for_goes_on(recorded, store):
    """A meeting that starts while the last one is refined by itself gets the cores: the
    pass halts at its next progress point until the meeting has ended."""
    manager, session = recorded
    sid = session.session_id
    manager.refiner.options = OPTIONS
    meeting = Session.create(meeting_link=MEET, platform="google_meet")
    meeting.status = Status.RECORDING
    progress: list[float] = []

    def on_refine(event: SessionEvent) -> None:   # the worker thread, inside the pass
        if event.data["state"] == "running" and 0 < event.data["progress"] < 1:
            progress.append(event.data["progress"])
            if len(progress) == 1:
                store.save_session(meeting)   # a meeting starts recording now

    manager.bus.subscribe(on_refine, session_id=sid, kinds={"refine"})

    async def run(automatic: bool) -> tuple[RefineState, int, RefineState]:
        progress.clear()
        job = manager.refiner.start(sid, automatic=automatic)
        while not progress:
            await asyncio.sleep(0.02)
        await asyncio.sleep(1.5)
        during = job.state, len(progress)
        meeting.status = Status.COMPLETED   # the meeting ends
        store.save_session(meeting)
        return *during, (await manager.refiner.wait(sid)).state

    automatic = asyncio.run(run(True))
    assert automatic == (RefineState.RUNNING, 1, RefineState.COMPLETED)
    meeting.status = Status.RECORDING
    asked, advanced, done = asyncio.run(run(False))
    assert asked is RefineState.COMPLETED and advanced > 1 and done is RefineState.COMPLETED


def test_speakers_of_a_recording_without_kept_changes_come_from_its_live_lines(store, speech):
    """Recordings made before speaker changes were kept: the live lines name the speakers."""
    steps = [status(JOINING), status(ACTIVE), recorded_speech(speech.audio, start=START),
             *[say(text, START + begin, START + end, speaker=name)
               for (name, _voice, text), (_n, begin, end) in zip(LINES, speech.spans)]]
    manager, session = record(store, steps)
    refine_session(manager, session.session_id, options=OPTIONS)
    lines = store.transcripts(session.session_id)
    assert {t.speaker for t in lines} == {"Alice", "Carol"}
    assert lines[0].speaker == "Alice" and lines[-1].speaker == "Carol"


def test_deleting_a_session_removes_its_revisions_and_speaker_changes(recorded, store):
    manager, session = recorded
    refine_session(manager, session.session_id, options=OPTIONS)
    assert store.speaker_changes(session.session_id)
    asyncio.run(manager.delete(session.session_id))
    assert store.transcript_revisions(session.session_id) == []
    assert store.revision_transcripts(session.session_id, "live") == []
    assert store.speaker_changes(session.session_id) == []


def test_a_device_mix_keeps_you_and_others_apart_for_the_pass(store, speech, tmp_path, monkeypatch):
    """"Record this computer" through the real runner, pipeline and segment writer: the
    microphone ("you") says Alice's lines, the system sound ("others") Carol's. The file
    holds one mono mix; the channel that spoke when is kept beside it."""
    from tests.app.test_refine_helpers import record_device_mix

    manager, sid = record_device_mix(store, speech, tmp_path, monkeypatch)
    session = manager.get(sid)
    assert session.status is Status.COMPLETED and session.audio_file_count == 1
    assert 0 <= session.metadata["audio_start_s"] < 1 and session.metadata["segment_seconds"] == 300.0
    assert [name for _, name in store.speaker_changes(sid)] == ["you", "others", "you", "others"]

    refine_session(manager, sid, options=OPTIONS)
    lines = store.transcripts(sid)
    origin = session.metadata["audio_start_s"]
    # The system sound holds one voice: its lines are named by voice (tests/app/test_diarization.py).
    turns = [(origin + begin, origin + end, "you" if name == "Alice" else "Speaker 1")
             for name, begin, end in speech.spans]
    said_by = [next((who for begin, end, who in turns if begin - 1 <= (t.start_time + t.end_time) / 2 <= end + 1), None)
               for t in lines]
    assert sum(t.speaker == who for t, who in zip(lines, said_by)) >= len(lines) - 1
    assert {t.speaker for t in lines} == {"you", "Speaker 1"}
