"""Search across every meeting in the window, driven as a user would: type in the main window's
search field, read the ranked results with their marked snippets, open one, and find the session
page showing that transcript line, selected and in view. The store is a real one, written before
the window opens, as a previous run of the app would have left it."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont

from app.models import Session, Status, TranscriptSegment
from app.search import SearchHit
from app.store import Store
from tests.ui.test_gui import loop, make_app, qasync_loop, shut_down  # noqa: F401  (fixtures)
from ui.search_panel import MATCH_BACKGROUND, SearchPanel, result_document

TARGET = "The zeppelin budget was approved on Friday."


def meeting(store: Store, day: str, lines: list[str], link: str = "https://meet.google.com/abc-defg-hij") -> Session:
    session = Session.create(meeting_link=link, platform="google_meet")
    session.created_at = session.updated_at = f"{day}T09:00:00.000Z"
    session.status = Status.COMPLETED
    store.save_session(session)
    for number, text in enumerate(lines):
        store.add_transcript(TranscriptSegment.create(session.session_id, text, number * 4.0, number * 4.0 + 3.0,
                                                      speaker="Alice" if number % 2 else "Bob"))
    return session


@pytest.fixture
def stored(isolated_dirs):
    """A long meeting whose line 240 of 300 is the one looked for, and a shorter one that also
    mentions the zeppelin."""
    store = Store(isolated_dirs)
    long = meeting(store, "2025-05-02", [TARGET if n == 240 else f"Routine update number {n} from the team."
                                         for n in range(300)])
    other = meeting(store, "2025-04-01", ["Nothing about airships here.", "Is the zeppelin a metaphor?"],
                    link="https://meet.google.com/xyz-abcd-efg")
    store.close()
    return {"long": long, "other": other}


def test_a_search_in_the_window_opens_the_session_at_the_line(make_app, qtbot, stored):
    app = make_app()
    window = app.window
    panel = window.search_panel
    assert window.browse.isVisible() and not panel.results.isVisible()

    qtbot.keyClicks(panel.field, "zeppelin")
    qtbot.waitUntil(lambda: not panel.searching and panel.result_count == 2)
    assert panel.results.isVisible() and not window.browse.isVisible()  # the results take the list's place
    assert panel.status.text() == "2 lines, best match first"
    first = panel.model.hits[0]
    assert first.text == "Is the zeppelin a metaphor?"  # the shorter line ranks first
    assert panel.model.index(0, 0).data().splitlines()[0].startswith("Google Meet · xyz-abcd-efg · ")

    qtbot.keyClicks(panel.field, " budget")
    qtbot.waitUntil(lambda: not panel.searching and panel.result_count == 1)
    hit = panel.model.hits[0]
    assert hit.session_id == stored["long"].session_id and hit.text == TARGET
    assert [hit.snippet[a:b] for a, b in hit.highlights] == ["zeppelin", "budget"]

    # Open it with a click on the result.
    results = panel.results
    qtbot.mouseClick(results.viewport(), Qt.MouseButton.LeftButton,
                     pos=results.visualRect(panel.model.index(0, 0)).center())
    page = window.page
    transcript = page.transcript
    qtbot.waitUntil(lambda: page.session_id == stored["long"].session_id and not transcript.loading)
    assert window.stack.currentWidget() is page and page.tabs.currentWidget() is transcript
    qtbot.waitUntil(lambda: transcript.selected_line.endswith(TARGET))
    assert transcript.text.textCursor().selectedText().endswith(TARGET)
    assert transcript.final_count == 300

    def line_in_view() -> bool:
        rect = transcript.text.cursorRect()
        return transcript.text.viewport().rect().contains(rect.center())

    qtbot.waitUntil(line_in_view)
    assert not transcript.following  # live lines would not scroll it away

    # Escape gives the list back; the session stays open.
    qtbot.keyClick(panel.field, Qt.Key.Key_Escape)
    assert panel.field.text() == "" and window.browse.isVisible() and not panel.results.isVisible()
    assert page.session_id == stored["long"].session_id


def test_enter_opens_the_chosen_result_and_a_deleted_session_leaves_the_results(make_app, qtbot, stored):
    app = make_app()
    window = app.window
    panel = window.search_panel
    qtbot.keyClicks(panel.field, "zeppelin")
    qtbot.waitUntil(lambda: not panel.searching and panel.result_count == 2)
    qtbot.keyClick(panel.field, Qt.Key.Key_Down)
    assert panel.results.currentIndex().row() == 1
    qtbot.keyClick(panel.field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.page.session_id == stored["long"].session_id and not window.page.transcript.loading)
    qtbot.waitUntil(lambda: window.page.transcript.selected_line.endswith(TARGET))

    app.delete_session(stored["other"].session_id)
    qtbot.waitUntil(lambda: not panel.searching and panel.result_count == 1)
    assert panel.model.hits[0].session_id == stored["long"].session_id


def test_a_query_with_nothing_to_look_for_says_so(qtbot, store):
    panel = SearchPanel(store)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.keyClicks(panel.field, "?!")
    qtbot.waitUntil(lambda: not panel.searching)
    assert panel.result_count == 0 and "no word to look for" in panel.status.text()
    panel.field.setText("nothing here")
    qtbot.waitUntil(lambda: not panel.searching)
    assert panel.status.text() == "No line matches."


def test_snippets_are_laid_out_as_plain_text_with_the_match_marked():
    snippet = "<b>not bold</b> & the zeppelin"
    hit = SearchHit("mbsess_x", "mbtrans_x", snippet, snippet, ((22, 30),), "Eve", 1.0, 2.0, "en", 1.0,
                    "2025-01-01T00:00:00.000Z", "zoom")
    doc = result_document("Zoom · 123", hit, QFont(), QColor("black"))
    assert doc.toPlainText() == "Zoom · 123\n<b>not bold</b> & the zeppelin"  # markup stays text
    body = doc.lastBlock()
    marked = []
    it = body.begin()
    while not it.atEnd():
        fragment = it.fragment()
        if fragment.charFormat().background().color() == MATCH_BACKGROUND:
            marked.append(fragment.text())
        it += 1
    assert marked == ["zeppelin"]
