"""The window's part of the live tier: the transcript says when it is running behind, and the
settings hold the names and terms given to whisper."""
from __future__ import annotations

from types import SimpleNamespace

from app.events import SessionEvent
from app.models import Session, Status
from app.runners.common import LIVE_BEHIND_KEY
from app.settings import Settings
from ui.session_page import SessionPage
from ui.settings_dialog import SettingsDialog
from ui.transcript_view import TranscriptView


def test_the_transcript_says_how_far_behind_it_is(qtbot):
    view = TranscriptView()
    qtbot.addWidget(view)
    view.show()
    assert not view.behind_label.isVisible()
    view.set_behind(12.4)
    assert view.behind_label.isVisible() and "12 s behind" in view.behind_label.text()
    view.set_behind(0.0)
    assert not view.behind_label.isVisible()
    view.set_behind(None)
    assert not view.behind_label.isVisible()


def test_the_session_page_follows_the_live_delay_until_the_session_ends(qtbot, store, tmp_path):
    session = Session.create(meeting_link="https://meet.google.com/abc-defg-hij", platform="google_meet")
    session.transition(Status.JOINING)
    store.save_session(session)
    page = SessionPage(store, lambda s: tmp_path)
    qtbot.addWidget(page)
    page.show()
    assert page.show_session(session.session_id)
    assert not page.transcript.behind_label.isVisible()

    def update(**metadata) -> None:
        session.metadata.update(metadata)
        page.apply_event(SessionEvent("session", session.session_id, session.to_dict()))

    update(**{LIVE_BEHIND_KEY: 7.0})
    assert page.transcript.behind_label.isVisible() and "7 s" in page.transcript.behind_label.text()
    update(**{LIVE_BEHIND_KEY: 0.0})
    assert not page.transcript.behind_label.isVisible()
    update(**{LIVE_BEHIND_KEY: 9.0})
    session.transition(Status.FAILED, error_code="INTERRUPTED", error_message="stopped")
    update()
    assert not page.transcript.behind_label.isVisible()  # a finished session is behind nothing


def test_the_vocabulary_is_edited_one_term_a_line(qtbot):
    app = SimpleNamespace(settings=Settings(vocabulary=["Zorblax Quintara"]), prefs=SimpleNamespace(theme="system"))
    dialog = SettingsDialog(app)  # only settings and prefs are read here
    qtbot.addWidget(dialog)
    assert dialog.vocabulary.toPlainText() == "Zorblax Quintara"
    dialog.vocabulary.setPlainText("Zorblax Quintara, Velmora\n\n  OKR \nvelmora")
    assert dialog.settings().validate().vocabulary == ["Zorblax Quintara", "Velmora", "OKR"]
