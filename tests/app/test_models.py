"""The Session object and its status machine (API.md)."""
from __future__ import annotations

import itertools
import re

import pytest

from app.errors import IllegalTransition
from app.models import Session, Status, TranscriptSegment, allowed_transitions, new_session_id, new_transcript_id

API_FIELDS = {
    "session_id", "organization_id", "user_id", "meeting_link", "platform", "bot_name", "status",
    "transcription_enabled", "transcription_language", "debug_mode", "created_at", "updated_at",
    "join_timestamp", "leave_timestamp", "total_duration_seconds", "segment_count",
    "audio_file_count", "video_file_count", "total_size_bytes", "output_directory",
    "error_message", "error_code", "metadata", "current_participants", "participant_history",
}
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")

LEGAL = {
    (Status.INITIALIZING, Status.JOINING), (Status.JOINING, Status.ACTIVE),
    (Status.ACTIVE, Status.RECORDING), (Status.RECORDING, Status.LEAVING),
    (Status.LEAVING, Status.COMPLETED),
    # a stop may come before recording starts
    (Status.INITIALIZING, Status.LEAVING), (Status.JOINING, Status.LEAVING),
    (Status.ACTIVE, Status.LEAVING),
} | {(s, Status.FAILED) for s in Status if not s.is_terminal}


def new_session() -> Session:
    return Session.create(meeting_link="https://meet.google.com/abc-defg-hij", platform="google_meet")


def test_new_session_has_every_documented_field_with_nulls():
    data = new_session().to_dict()
    assert set(data) == API_FIELDS
    assert data["status"] == "initializing"
    assert data["bot_name"] == "Meeting Buddy"
    assert data["transcription_enabled"] is True and data["transcription_language"] == "en"
    for name in ("join_timestamp", "leave_timestamp", "total_duration_seconds", "segment_count",
                 "audio_file_count", "video_file_count", "total_size_bytes", "error_message",
                 "error_code"):
        assert data[name] is None, name
    assert data["metadata"] == {} and data["current_participants"] == {}
    assert data["participant_history"] == []
    assert ISO_Z.match(data["created_at"]) and ISO_Z.match(data["updated_at"])
    assert data["output_directory"] == f"recordings/local/{data['session_id']}"


def test_ids_are_prefixed_random_and_unique():
    ids = {new_session_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(re.fullmatch(r"mbsess_[a-z0-9]{24}", i) for i in ids)
    assert re.fullmatch(r"mbtrans_[a-z0-9]{24}", new_transcript_id())


def test_unknown_platform_is_refused():
    with pytest.raises(ValueError):
        Session.create(meeting_link="https://x.example", platform="skype")


@pytest.mark.parametrize("old,new", list(itertools.product(Status, Status)))
def test_every_transition_is_legal_or_raises(old, new):
    session = new_session()
    session.status = old
    kwargs = {"error_code": "JOIN_DENIED", "error_message": "denied"} if new is Status.FAILED else {}
    if (old, new) in LEGAL:
        assert session.transition(new, **kwargs) is old
        assert session.status == new.value
        assert new in allowed_transitions(old)
    else:
        before = session.to_dict()
        with pytest.raises(IllegalTransition):
            session.transition(new, **kwargs)
        assert session.to_dict() == before, "an illegal transition must change nothing"


def test_terminal_statuses_never_change():
    for terminal in (Status.COMPLETED, Status.FAILED):
        assert allowed_transitions(terminal) == frozenset()


def test_failed_needs_error_code_and_keeps_it():
    session = new_session()
    with pytest.raises(IllegalTransition):
        session.transition(Status.FAILED)
    session.transition(Status.FAILED, error_code="PAGE_LOAD_FAILED", error_message="no page")
    assert (session.error_code, session.error_message) == ("PAGE_LOAD_FAILED", "no page")


def test_end_reason_only_on_completion():
    session = new_session()
    with pytest.raises(IllegalTransition):
        session.transition(Status.JOINING, end_reason="MEETING_ENDED")
    session.transition(Status.LEAVING)
    session.transition(Status.COMPLETED, end_reason="STOP_REQUESTED")
    assert session.metadata["end_reason"] == "STOP_REQUESTED"
    with pytest.raises(IllegalTransition):
        new_session().transition(Status.JOINING, error_code="X")


def test_round_trip_through_dict():
    session = new_session()
    session.metadata["note"] = {"a": [1, 2]}
    clone = Session.from_dict(session.to_dict())
    assert clone == session
    clone.metadata["note"]["a"].append(3)
    assert session.metadata["note"]["a"] == [1, 2], "copies must not share mutable state"


def test_transcript_segment_fields():
    seg = TranscriptSegment.create("mbsess_x", "hello", 1, 2.5, speaker="Alice", confidence=0.9)
    assert seg.to_dict().keys() >= {"transcript_id", "text", "confidence", "start_time", "end_time",
                                    "speaker", "language_code", "created_at"}
    assert isinstance(seg.start_time, float)
