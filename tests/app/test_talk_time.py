"""Talk time per speaker and who spoke when (app.talk_time), checked against hand-counted
meetings and, for any transcript, against a count second by second."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.models import TranscriptSegment
from app.talk_time import Span, talk_time


def seg(start: float, end: float, speaker: str | None = None, text: str = "words") -> TranscriptSegment:
    return TranscriptSegment.create("mbsess_t", text, start, end, speaker=speaker)


def seconds_of(counted) -> dict[str | None, float]:
    return {s.speaker: s.seconds for s in counted.speakers}


def test_an_empty_transcript_has_no_talk_time():
    counted = talk_time([])
    assert counted.speakers == () and counted.timeline == ()
    assert counted.total_seconds == counted.speech_seconds == counted.overlap_seconds == 0.0
    assert counted.to_dict() == {"total_talk_time_seconds": 0.0, "speech_seconds": 0.0, "overlap_seconds": 0.0,
                                 "speakers": [], "timeline": []}


def test_blank_lines_and_unreadable_times_count_for_nothing():
    counted = talk_time([seg(0, 5, "Alice", text="  \n "), seg(1, math.nan, "Bob"), seg(math.inf, 9, "Bob"),
                         seg(2, 3, "Carol", text="")])
    assert counted.speakers == () and counted.total_seconds == 0.0


def test_two_people_taking_turns():
    counted = talk_time([seg(0, 10, "Alice"), seg(10, 15, "Bob"), seg(20, 30, "Alice")])
    assert seconds_of(counted) == {"Alice": 20.0, "Bob": 5.0}
    assert [s.speaker for s in counted.speakers] == ["Alice", "Bob"]  # the most talk first
    assert [s.share for s in counted.speakers] == [0.8, 0.2]
    assert [s.percentage for s in counted.speakers] == [80.0, 20.0]
    assert [s.segment_count for s in counted.speakers] == [2, 1]
    assert counted.total_seconds == counted.speech_seconds == 25.0 and counted.overlap_seconds == 0.0
    assert counted.timeline == (Span("Alice", 0, 10), Span("Bob", 10, 15), Span("Alice", 20, 30))


def test_people_talking_over_each_other_count_each_but_speech_counts_once():
    counted = talk_time([seg(0, 10, "Alice"), seg(6, 12, "Bob"), seg(8, 9, "Carol")])
    assert seconds_of(counted) == {"Alice": 10.0, "Bob": 6.0, "Carol": 1.0}
    assert counted.total_seconds == 17.0
    assert counted.speech_seconds == 12.0  # 0 to 12, someone is speaking
    assert counted.overlap_seconds == 4.0  # 6 to 10: two or three at once
    assert math.isclose(sum(s.share for s in counted.speakers), 1.0)
    assert sum(s.percentage for s in counted.speakers) == pytest.approx(100.0, abs=0.15)


def test_a_speakers_own_overlapping_lines_count_once_and_merge_on_the_timeline():
    # A live line and the line that continued it overlap; touching lines join too.
    counted = talk_time([seg(0, 4, "Alice"), seg(3, 6, "Alice"), seg(6, 7, "Alice"), seg(9, 10, "Alice")])
    assert seconds_of(counted) == {"Alice": 8.0}
    assert counted.overlap_seconds == 0.0
    assert counted.timeline == (Span("Alice", 0, 7), Span("Alice", 9, 10))
    assert counted.speakers[0].segment_count == 4


def test_lines_without_a_speaker_count_as_one_unknown_speaker():
    counted = talk_time([seg(0, 3), seg(5, 6, "  "), seg(6, 8, "Bob"), seg(10, 11, None)])
    assert seconds_of(counted) == {None: 5.0, "Bob": 2.0}
    unknown = counted.speakers[0]
    assert unknown.speaker is None and unknown.segment_count == 3
    assert counted.to_dict()["speakers"][0] == {"speaker": None, "talk_time_seconds": 5.0, "percentage": 71.4,
                                                "segment_count": 3}


def test_an_unknown_speaker_comes_after_a_named_one_with_as_much_talk():
    counted = talk_time([seg(0, 2), seg(2, 4, "zed"), seg(4, 6, "Amy")])
    assert [s.speaker for s in counted.speakers] == ["Amy", "zed", None]


def test_speaker_names_are_read_as_the_exports_show_them():
    counted = talk_time([seg(0, 1, "Ann\x1b"), seg(1, 2, " Ann "), seg(2, 3, "Ann\n")])
    assert seconds_of(counted) == {"Ann": 3.0}


def test_odd_times_zero_length_inverted_and_before_the_start():
    counted = talk_time([seg(4, 4, "Alice"), seg(9, 7, "Bob"), seg(-2, 1, "Carol")])
    assert seconds_of(counted) == {"Carol": 1.0, "Alice": 0.0, "Bob": 0.0}  # the lines still count
    assert [s.segment_count for s in counted.speakers] == [1, 1, 1]
    assert [s.share for s in counted.speakers] == [1.0, 0.0, 0.0]
    assert counted.timeline == (Span("Carol", 0.0, 1.0),)


def test_the_numbers_are_rounded_as_the_api_gives_them():
    counted = talk_time([seg(0.1234, 1.3333, "A"), seg(1.5, 3.0, "B")])
    data = counted.to_dict()
    assert data["speakers"][0] == {"speaker": "B", "talk_time_seconds": 1.5, "percentage": 55.4, "segment_count": 1}
    assert data["speakers"][1]["talk_time_seconds"] == 1.21
    assert data["timeline"][0] == {"speaker": "A", "start_time": 0.123, "end_time": 1.333}


SPEAKERS = st.sampled_from(["Alice", "Bob", "Carol", None])


@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40), SPEAKERS), max_size=25))
@settings(max_examples=200, deadline=None)
def test_any_transcript_counts_as_second_by_second(lines):
    """With whole-second times, each second either belongs to a speaker or not: count them."""
    segments = [seg(start, end, speaker) for start, end, speaker in lines]
    counted = talk_time(segments)
    heard: dict[str | None, set[int]] = {}
    for start, end, speaker in lines:
        heard.setdefault(speaker, set()).update(range(start, end))
    assert seconds_of(counted) == {speaker: float(len(secs)) for speaker, secs in heard.items()}
    per_second = [sum(second in secs for secs in heard.values()) for second in range(40)]
    assert counted.speech_seconds == sum(1 for n in per_second if n >= 1)
    assert counted.overlap_seconds == sum(1 for n in per_second if n >= 2)
    assert counted.total_seconds == sum(per_second)
    # the timeline holds exactly each speaker's seconds, in order, never two spans of one
    # speaker touching
    starts = [span.start for span in counted.timeline]
    assert starts == sorted(starts)
    for speaker, secs in heard.items():
        spans = [span for span in counted.timeline if span.speaker == speaker]
        assert {s for span in spans for s in range(int(span.start), int(span.end))} == secs
        assert all(a.end < b.start for a, b in zip(spans, spans[1:]))
    if counted.total_seconds:
        assert math.isclose(sum(s.share for s in counted.speakers), 1.0)
