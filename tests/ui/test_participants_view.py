"""The participants tab follows a meeting's many events by changing only what changed."""
from __future__ import annotations

from app.models import Session, Status
from ui.participants_view import ParticipantsView

JOINED = "2026-11-30T09:00:00+00:00"


def meeting(present: list[str], history: list[tuple[str, str]], status: Status = Status.RECORDING) -> Session:
    session = Session.create(meeting_link="https://meet.google.com/abc-defg-hij", platform="google_meet")
    session.status = status
    session.current_participants = {name: {"joined_at": JOINED, "is_bot": name == "Scribe"} for name in present}
    session.participant_history = [{"participant_name": who, "event": what, "timestamp": JOINED,
                                    "is_bot": who == "Scribe"} for who, what in history]
    return session


def test_new_history_entries_are_added_below_those_shown_and_the_list_is_redrawn_only_when_it_changed(qtbot):
    view = ParticipantsView()
    qtbot.addWidget(view)
    view.show_session(meeting(["Alice", "Scribe"], [("Scribe", "joined"), ("Alice", "joined")]))
    first_row, first_entry = view.current.item(0), view.history.topLevelItem(0)
    assert view.current_names() == ["Alice", "Scribe"]

    view.show_session(meeting(["Alice", "Scribe"], [("Scribe", "joined"), ("Alice", "joined"), ("Bob", "joined"),
                                                     ("Bob", "left")]))
    assert view.current.item(0) is first_row  # nobody came or went: the list was left as it was
    assert view.history.topLevelItem(0) is first_entry  # the entries shown stay, the new ones follow
    assert view.history_rows() == [("Scribe (bot)", "joined"), ("Alice", "joined"), ("Bob", "joined"),
                                   ("Bob", "left")]

    view.show_session(meeting(["Scribe"], [("Scribe", "joined"), ("Alice", "joined"), ("Bob", "joined"),
                                           ("Bob", "left"), ("Alice", "left")]))
    assert view.current_names() == ["Scribe"]
    assert view.history_rows()[-1] == ("Alice", "left")


def test_another_history_is_drawn_anew(qtbot):
    view = ParticipantsView()
    qtbot.addWidget(view)
    view.show_session(meeting(["Alice"], [("Alice", "joined"), ("Alice", "left")]))
    view.show_session(meeting([], [("Carol", "joined")], Status.COMPLETED))
    assert view.history_rows() == [("Carol", "joined")]
    assert view.current_names() == [] and view.current.isHidden()
