"""Every code a user can meet has words: what happened and, for failures, what to do."""
from __future__ import annotations

import inspect

import pytest

import app.api.errors
import app.errors
import app.remote
import app.sync
from app.error_texts import explain, known_codes, session_outcome
from app.errors import MeetingBuddyError
from app.models import END_REASONS, ERROR_CODES, Session, Status


def api_codes() -> set[str]:
    """The code of every error type the core, the API server and the clients raise."""
    codes = set()
    for module in (app.errors, app.api.errors, app.remote, app.sync):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, MeetingBuddyError) and "code" in cls.__dict__:
                codes.add(cls.code)
    return codes


def test_the_api_codes_are_found():
    assert {"INVALID_MEETING_LINK", "SESSION_NOT_FOUND", "REMOTE_UNAVAILABLE",
            "SESSION_READ_ONLY", "PAYLOAD_TOO_LARGE"} <= api_codes()


@pytest.mark.parametrize("code", sorted(set(ERROR_CODES) | set(END_REASONS) | api_codes()))
def test_every_code_has_its_own_words(code):
    text = explain(code)
    assert code in known_codes()
    assert text.title and text.explanation.endswith(".")
    assert code not in text.title  # words, not the code again
    assert explain(code.lower()) == text


@pytest.mark.parametrize("code", ERROR_CODES)
def test_every_failure_says_what_to_do(code):
    assert explain(code).remedy


def test_no_two_codes_read_the_same():
    titles = [explain(code).title for code in known_codes()]
    assert len(titles) == len(set(titles))


def test_an_unknown_code_is_still_explained_and_named():
    text = explain("SOMETHING_NEW")
    assert "SOMETHING_NEW" in text.title and text.explanation and text.remedy
    assert explain(None).title == "An unknown problem"


def test_a_finished_session_is_explained_by_its_code_or_end_reason():
    session = Session.create(meeting_link="https://meet.google.com/abc-defg-hij", platform="google_meet")
    assert session_outcome(session) is None
    session.transition(Status.JOINING)
    failed = Session.from_dict(session.to_dict())
    failed.transition(Status.FAILED, error_code="WAITING_ROOM_TIMEOUT", error_message="lobby")
    assert session_outcome(failed) == explain("WAITING_ROOM_TIMEOUT")
    session.transition(Status.LEAVING)
    session.transition(Status.COMPLETED, end_reason="LEFT_ALONE")
    assert session_outcome(session).title == "Everyone else left"
