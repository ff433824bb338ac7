"""Renaming a speaker from the transcript: the line's context menu, the name dialog, the
manager on a real store, and the transcript shown again with every line of theirs renamed."""
from __future__ import annotations

from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QInputDialog

from app.sessions import SessionManager
from tests.app.test_speakers_rename import finished
from ui.session_page import SessionPage


def rename_actions(page: SessionPage, line: int) -> list:
    view = page.transcript
    block = view.text.document().findBlockByNumber(view._line_blocks[line])
    menu = view.context_menu(view.text.cursorRect(QTextCursor(block)).center())
    return [action for action in menu.actions() if action.text().startswith("Rename speaker")]


def open_page(qtbot, store, tmp_path, session_id: str) -> SessionPage:
    page = SessionPage(store, lambda s: tmp_path)
    qtbot.addWidget(page)
    page.resize(900, 600)
    page.show()
    assert page.show_session(session_id)
    qtbot.wait_until(lambda: not page.transcript.loading)
    return page


def test_rename_speaker_from_a_line_renames_all_their_lines(qtbot, store, tmp_path):
    sid = finished(store).session_id
    manager = SessionManager(store)
    page = open_page(qtbot, store, tmp_path, sid)
    manager.bus.subscribe(page.apply_event, kinds={"transcript_revision"})
    page.speakerRenameRequested.connect(manager.rename_speaker)

    actions = rename_actions(page, 2)  # "The budget looks fine." by Speaker 1
    assert [action.text() for action in actions] == ["Rename speaker \u201cSpeaker 1\u201d\u2026"]
    actions[0].trigger()
    dialog = page.findChild(QInputDialog)
    qtbot.wait_until(lambda: dialog.isVisible())
    assert dialog.textValue() == "Speaker 1"
    dialog.setTextValue("Dana")
    dialog.accept()

    qtbot.wait_until(lambda: "Speaker 1" not in page.transcript.plain_text())
    assert page.transcript.plain_text().count("Dana") == 2 and "Speaker 2" in page.transcript.plain_text()
    assert [t.speaker for t in store.transcripts(sid)] == ["Dana", "you", "Dana", "Speaker 2"]


def test_a_running_sessions_speakers_are_not_offered_for_renaming(qtbot, store, tmp_path):
    sid = finished(store, terminal=False).session_id
    page = open_page(qtbot, store, tmp_path, sid)
    assert rename_actions(page, 0) == []
