"""Voices told apart by the after-meeting pass, with the real voice encoder and real
faster-whisper on espeak-ng speech: a device mix whose system sound holds two people, and a
bot session whose speaking indicator is wrong or missing on some lines."""
from __future__ import annotations

import pytest

from app.models import Status
from app.refine import refine_session
from tests.app.test_refine import OPTIONS, START, record
from tests.fakes import ACTIVE, JOINING, RECORDING, recorded_speech, status
from tests.recorder.test_transcriber import conversation

DEVICE_LINES = [
    ("Alice", "en-us", "Good morning everyone. Let us start with the budget review."),
    ("Bob", "en+m7", "Thanks Alice. The marketing numbers look strong this year, and sales grew again."),
    ("Carol", "en+f2", "I agree with Bob, but the travel costs went up more than we planned."),
    ("Bob", "en+m7", "Then we should ask finance for a new forecast before the end of the month."),
    ("Carol", "en+f2", "I will send the agenda to the whole team before Friday afternoon."),
    ("Alice", "en-us", "Great, let us meet again next Tuesday."),
]
BOT_LINES = [
    ("Alice", "en-us+m3", "Good morning everyone. Today we will review the quarterly budget."),
    ("Carol", "en+f2", "Thanks Alice. The marketing numbers look strong this year."),
    ("Alice", "en-us+m3", "That is good news. What about the travel costs this quarter?"),
    ("Carol", "en+f2", "Travel costs went up again, so we need a better plan for the spring."),
    ("Alice", "en-us+m3", "Let us schedule a follow up meeting next Tuesday afternoon."),
    ("Carol", "en+f2", "I will send the agenda to the whole team before Friday."),
    ("Carol", "en+f2", "And I will invite the finance people to that meeting too."),
]
WRONG, ABSENT = 3, 6  # lines of Carol's where the indicator shows Alice, and nobody


def speaker_of(lines, spans, origin: float) -> list[str | None]:
    """Who really said each transcript line: the span its middle falls in."""
    return [next((name for name, begin, end in spans if origin + begin - 1 <= (t.start_time + t.end_time) / 2
                  <= origin + end + 1), None) for t in lines]


def test_the_system_sound_of_a_device_mix_is_split_by_voice(store, tmp_path, monkeypatch):
    """"Record this computer" through the real runner: the microphone says Alice's lines,
    the system sound Bob's and Carol's, who become Speaker 1 and Speaker 2."""
    from tests.app.test_refine_helpers import record_device_mix

    speech = conversation(DEVICE_LINES, tmp_path)
    manager, sid = record_device_mix(store, speech, tmp_path, monkeypatch)
    assert manager.get(sid).status is Status.COMPLETED
    refine_session(manager, sid, options=OPTIONS)
    lines = store.transcripts(sid)
    truth = speaker_of(lines, speech.spans, manager.get(sid).metadata["audio_start_s"])
    expected = {"Alice": "you", "Bob": "Speaker 1", "Carol": "Speaker 2"}
    right = sum(line.speaker == expected.get(who or "") for line, who in zip(lines, truth))
    assert right >= len(lines) - 1, [(line.speaker, who, line.text) for line, who in zip(lines, truth)]
    assert {line.speaker for line in lines} == {"you", "Speaker 1", "Speaker 2"}
    assert any("Voices told apart in the system sound: 2" in entry.message for entry in store.logs(sid))


@pytest.fixture(scope="module")
def bot_speech(tmp_path_factory):
    return conversation(BOT_LINES, tmp_path_factory.mktemp("bot"))


def test_a_bot_sessions_indicator_is_cross_checked_by_voice(store, bot_speech):
    """The indicator stays where it is clear, even when the voice says otherwise (logged);
    where it shows nobody, the voice names the speaker."""
    changes: list[tuple[float, str | None]] = []
    for index, (name, begin, end) in enumerate(bot_speech.spans):
        shown = "Alice" if index == WRONG else None if index == ABSENT else name
        changes += [(START + begin, shown), (START + end, None)]
    manager, session = record(store, [status(JOINING), status(ACTIVE), status(RECORDING),
                                      recorded_speech(bot_speech.audio, start=START, speakers=changes)])
    sid = session.session_id
    refine_session(manager, sid, options=OPTIONS)
    lines = store.transcripts(sid)
    truth = speaker_of(lines, bot_speech.spans, START)
    spans = bot_speech.spans

    def said_in(index: int):
        return [line for line in lines if START + spans[index][1] - 1 <= (line.start_time + line.end_time) / 2
                <= START + spans[index][2] + 1]

    assert said_in(ABSENT) and all(line.speaker == "Carol" for line in said_in(ABSENT))
    assert said_in(WRONG) and all(line.speaker == "Alice" for line in said_in(WRONG))
    others = [(line, who) for line, who in zip(lines, truth) if line not in said_in(WRONG)]
    assert sum(line.speaker == who for line, who in others) >= len(others) - 1
    disagreements = [entry for entry in store.logs(sid) if "speaking indicator showed Alice" in entry.message]
    assert len(disagreements) == 1 and "the voice is Carol's" in disagreements[0].message
