"""The Notes tab of a session, driven as a user would: the notes a previous run stored, ticks
that stay ticked after the session is opened again and after a restart, an action item that
opens the transcript at its line, a job's progress and Cancel, and the Notes settings with
the key going to the keyring. The store, the session manager, the event bus and the widgets
are the real ones."""
from __future__ import annotations

import http.server
import json
import threading
import time

import pytest
from PySide6.QtCore import Qt

from app.models import Session, Status, TranscriptSegment
from app.notes.models import ActionItem, MeetingNotes
from app.settings import load_settings
from app.store import Store
from tests.memory_keyring import MemoryKeyring
from tests.ui.test_gui import Script, loop, make_app, qasync_loop, shut_down, start_from_form  # noqa: F401
from ui.settings_dialog import SettingsDialog

LINES = [f"Routine update number {n} from the team." for n in range(120)]
CHART_LINE = 90
LINES[CHART_LINE] = "Carol will redo the <b>release</b> chart by Friday."
MARKUP = "Redo the <b>release</b> chart & send it"  # from a model: shown as it is, never as markup
OLLAMA = "http://notes.example.internal:11434"


def meeting(store: Store, link: str = "https://meet.google.com/abc-defg-hij",
            status: Status = Status.COMPLETED) -> tuple[Session, list[TranscriptSegment]]:
    session = Session.create(meeting_link=link, platform="google_meet")
    session.created_at = session.updated_at = "2025-05-02T09:00:00.000Z"
    session.status = status
    store.save_session(session)
    segments = [TranscriptSegment.create(session.session_id, text, n * 4.0, n * 4.0 + 3.0,
                                         speaker="Carol" if n == CHART_LINE else "Bob")
                for n, text in enumerate(LINES)]
    for segment in segments:
        store.add_transcript(segment)
    return session, segments


def notes_of(session: Session, segments: list[TranscriptSegment]) -> MeetingNotes:
    return MeetingNotes(
        session_id=session.session_id,
        summary="The team reviewed the release and agreed to ship on <i>Thursday</i>.",
        decisions=["Ship on Thursday", "Keep the old installer one more release"],
        action_items=[ActionItem("item-chart", MARKUP, "Carol", "Friday", segments[CHART_LINE].transcript_id),
                      ActionItem("item-notes", "Send the notes", None, None, segments[3].transcript_id)],
        open_questions=["Who owns the installer?"],
        backend="ollama", model="llama3.2", created_at="2025-05-02T10:15:00.000Z")


@pytest.fixture
def stored(isolated_dirs):
    """A finished meeting with notes written by an Ollama server, and a second meeting without
    notes, as a previous run of the app left them."""
    from app.settings import Settings, save_settings

    save_settings(Settings(notes_backend="ollama", ollama_url=OLLAMA, ollama_model="llama3.2"))
    store = Store(isolated_dirs)
    session, segments = meeting(store)
    store.save_notes(notes_of(session, segments))
    other, _ = meeting(store, "https://meet.google.com/xyz-abcd-efg")
    store.close()
    return {"session": session, "segments": segments, "other": other}


def open_notes(qtbot, app, session_id: str):
    window = app.window
    window.select_session(session_id)
    page = window.page
    qtbot.waitUntil(lambda: page.session_id == session_id and not page.transcript.loading)
    page.tabs.setCurrentWidget(page.notes)
    return page.notes


def test_stored_notes_show_as_plain_text_with_who_wrote_them(make_app, qtbot, stored):
    app = make_app()
    view = open_notes(qtbot, app, stored["session"].session_id)
    assert view.empty.isHidden() and view.byline.isVisible()
    assert view.byline.text().startswith("Written by Ollama · llama3.2 · 2025-05-02 ")
    assert view.sent.isVisible() and OLLAMA in view.sent.text()  # the transcript left this computer
    assert view.summary.text() == "The team reviewed the release and agreed to ship on <i>Thursday</i>."
    assert view.summary.textFormat() == Qt.TextFormat.PlainText
    assert view.decisions.text() == "•  Ship on Thursday\n•  Keep the old installer one more release"
    assert view.questions.text() == "•  Who owns the installer?"
    chart, send = view.rows
    assert chart.task.text() == MARKUP and chart.task.textFormat() == Qt.TextFormat.PlainText
    assert chart.facts.text() == "Owner: Carol · Due: Friday"
    assert send.facts.isHidden()  # no owner, no due date: no empty line
    assert view.write_button.isEnabled()

    other = open_notes(qtbot, app, stored["other"].session_id)
    assert other.empty.isVisible() and other.empty.text().startswith("No notes yet.")
    assert other.byline.isHidden() and other.rows == []


def test_a_tick_is_stored_and_still_there_after_reopening_and_a_restart(make_app, qtbot, stored):
    sid = stored["session"].session_id
    app = make_app()
    view = open_notes(qtbot, app, sid)
    chart = view.rows[0]
    assert not chart.check.isChecked()
    qtbot.mouseClick(chart.check, Qt.MouseButton.LeftButton)
    assert chart.check.isChecked() and chart.task.font().strikeOut()
    qtbot.waitUntil(lambda: app.manager.notes(sid).action_items[0].done)
    assert not app.manager.notes(sid).action_items[1].done

    open_notes(qtbot, app, stored["other"].session_id)
    view = open_notes(qtbot, app, sid)
    assert [row.check.isChecked() for row in view.rows] == [True, False]
    shut_down(qtbot, app)

    restarted = make_app()
    view = open_notes(qtbot, restarted, sid)
    assert [row.check.isChecked() for row in view.rows] == [True, False]
    qtbot.mouseClick(view.rows[0].check, Qt.MouseButton.LeftButton)  # and unticked again
    qtbot.waitUntil(lambda: not restarted.manager.notes(sid).action_items[0].done)


def test_clicking_an_action_item_shows_its_line_in_the_transcript(make_app, qtbot, stored):
    app = make_app()
    view = open_notes(qtbot, app, stored["session"].session_id)
    page = app.window.page
    qtbot.mouseClick(view.rows[0].task, Qt.MouseButton.LeftButton)
    assert page.tabs.currentWidget() is page.transcript
    qtbot.waitUntil(lambda: page.transcript.selected_line.endswith(LINES[CHART_LINE]))
    transcript = page.transcript.text
    qtbot.waitUntil(lambda: transcript.viewport().rect().contains(transcript.cursorRect().center()))
    assert not view.rows[0].check.isChecked()  # a click on the task opens it; it does not tick it


def test_the_progress_bar_and_cancel_follow_the_notes_events(make_app, qtbot, stored):
    sid = stored["other"].session_id
    app = make_app()
    view = open_notes(qtbot, app, sid)
    assert view.bar.isHidden() and view.cancel_button.isHidden()
    bus = app.manager.bus

    def event(state: str, progress: float, error: str | None = None) -> None:
        bus.publish("notes", sid, {"session_id": sid, "state": state, "progress": progress, "error": error,
                                   "backend": "ollama"})

    event("queued", 0.0)
    qtbot.waitUntil(lambda: view.bar.isVisible() and view.cancel_button.isVisible())
    assert view.status.text() == "Waiting to write the notes…" and not view.write_button.isEnabled()
    event("running", 0.4)
    qtbot.waitUntil(lambda: view.bar.value() == 40)
    assert view.status.text() == "Writing the notes with Ollama…"
    event("running", 0.75)
    qtbot.waitUntil(lambda: view.bar.value() == 75)
    event("failed", 0.75, "The Ollama server did not answer")
    qtbot.waitUntil(lambda: view.bar.isHidden())
    assert view.status.text() == "Writing the notes failed: The Ollama server did not answer"
    assert view.cancel_button.isHidden() and view.write_button.isEnabled()
    assert view.empty.isVisible()  # nothing was written


class ChatEndpoint(http.server.ThreadingHTTPServer):
    """Stands in for an OpenAI-compatible chat endpoint (no language model server runs here):
    it streams, as such an endpoint does, notes naming the line where the chart was promised
    (else the first line).
    While `held` it streams only blanks, as a model that is still thinking."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ChatHandler)
        self.held = threading.Event()
        self.requests: list[dict] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _ChatHandler(http.server.BaseHTTPRequestHandler):
    server: ChatEndpoint

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(body)
        prompt = body["messages"][-1]["content"]
        numbered = [row for row in prompt.splitlines() if row.startswith("[")]
        said = next((row for row in numbered if "chart" in row), numbered[0])
        line = int(said[1:said.index("]")])
        answer = json.dumps({"summary": "The release chart needs redoing.", "decisions": ["Redo the chart"],
                             "action_items": [{"owner": "Carol", "task": "Redo the release chart", "due": "Friday",
                                               "line": line}],
                             "open_questions": []})
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        try:
            while self.server.held.is_set():
                self._send(" ")
                time.sleep(0.05)
            for start in range(0, len(answer), 40):
                self._send(answer[start:start + 40])
            self.wfile.write(b"data: [DONE]\n\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the job was cancelled and hung up

    def _send(self, content: str) -> None:
        chunk = {"choices": [{"delta": {"content": content}}]}
        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.flush()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def endpoint():
    server = ChatEndpoint()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.held.clear()
    server.shutdown()
    server.server_close()


def test_writing_notes_shows_progress_can_be_cancelled_and_shows_the_result(make_app, qtbot, stored, endpoint):
    from app.settings import Settings, save_settings

    save_settings(Settings(notes_auto=False, notes_backend="local", openai_url=endpoint.url,
                           openai_model="notes-model"))
    app = make_app()
    sid = stored["other"].session_id
    view = open_notes(qtbot, app, sid)
    write_remote = next(a for a in view.menu.actions() if a.data() == "openai")
    assert write_remote.text() == "Write with an OpenAI-compatible service"

    endpoint.held.set()
    write_remote.trigger()
    qtbot.waitUntil(lambda: view.running and view.bar.isVisible() and view.cancel_button.isVisible())
    qtbot.waitUntil(lambda: view.status.text() == "Writing the notes with an OpenAI-compatible service…")
    assert not view.write_button.isEnabled()
    qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.status.text() == "Cancelled; the notes are unchanged.", timeout=10000)
    assert view.bar.isHidden() and view.write_button.isEnabled() and view.notes is None
    assert app.manager.notes(sid) is None

    endpoint.held.clear()
    write_remote.trigger()
    qtbot.waitUntil(lambda: view.notes is not None, timeout=20000)
    assert view.bar.isHidden() and view.cancel_button.isHidden()
    assert view.byline.text().startswith("Written by an OpenAI-compatible service · notes-model · ")
    assert view.sent.text() == f"The transcript was sent to {endpoint.url} to write them."
    assert view.summary.text() == "The release chart needs redoing."
    (row,) = view.rows
    assert (row.task.text(), row.facts.text()) == ("Redo the release chart", "Owner: Carol · Due: Friday")
    assert endpoint.requests[-1]["model"] == "notes-model"
    qtbot.mouseClick(row.task, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: app.window.page.transcript.selected_line.endswith(LINES[CHART_LINE]))


class RecordedHere(Script):
    """The scripted session as the session runners record it here: they keep where its audio
    begins, which is what makes a session's notes (like its after-meeting pass) automatic."""

    def steps(self) -> list:
        from app.refine import AUDIO_START_KEY

        return [lambda control: control.metadata(**{AUDIO_START_KEY: 0.0}), *super().steps()]


def test_notes_are_written_by_themselves_once_a_meeting_ends(make_app, qtbot, endpoint):
    from app.settings import Settings, save_settings

    save_settings(Settings(notes_auto=True, notes_backend="openai", openai_url=endpoint.url,
                           openai_model="notes-model", refine_after_session=False))
    app = make_app(RecordedHere(end_by_itself=True))
    sid = start_from_form(qtbot, app)
    page = app.window.page
    page.tabs.setCurrentWidget(page.notes)
    qtbot.waitUntil(lambda: page.notes.notes is not None, timeout=20000)
    assert app.manager.notetaker.job(sid).automatic
    (row,) = page.notes.rows
    assert row.item.transcript_id == app.store.transcripts(sid)[0].transcript_id
    assert page.notes.byline.text().startswith("Written by an OpenAI-compatible service · notes-model · ")


def test_notes_can_be_asked_for_once_the_meeting_has_ended(make_app, qtbot):
    app = make_app(Script())
    sid = start_from_form(qtbot, app)
    page = app.window.page
    page.tabs.setCurrentWidget(page.notes)
    view = page.notes
    qtbot.waitUntil(lambda: page.badge.text() == "Recording")
    assert not view.write_button.isEnabled()
    assert view.empty.text() == "Notes can be written once the meeting has ended."
    qtbot.mouseClick(page.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.badge.text() == "Completed", timeout=15000)
    assert view.write_button.isEnabled() and view.empty.text().startswith("No notes yet.")
    assert app.store.get_session(sid).is_terminal


def test_the_notes_settings_are_saved_and_the_key_goes_to_the_keyring(make_app, qtbot, monkeypatch):
    import keyring

    backend = MemoryKeyring()
    monkeypatch.setattr(keyring, "get_keyring", lambda: backend)
    app = make_app()
    dialog = SettingsDialog(app, app.window)
    qtbot.addWidget(dialog)
    assert dialog.notes_auto.isChecked() and dialog.notes_backend.currentData() == "local"
    assert dialog.openai_key.text() == "" and dialog.openai_key.placeholderText() == "Not set"
    assert not dialog.openai_url.isEnabled()  # only the chosen back-end's fields
    dialog.notes_model.setCurrentText("small")
    dialog.notes_backend.setCurrentIndex(dialog.notes_backend.findData("openai"))
    assert dialog.openai_url.isEnabled() and not dialog.ollama_url.isEnabled()
    dialog.notes_auto.setChecked(False)
    dialog.openai_url.setText("https://llm.example.com/v1")
    dialog.openai_model.setText("gpt-4o-mini")
    dialog.openai_key.setText("sk-test-secret")
    qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Save), Qt.MouseButton.LeftButton)
    assert dialog.result() == dialog.DialogCode.Accepted

    saved = load_settings()
    assert (saved.notes_auto, saved.notes_backend, saved.notes_model, saved.openai_url, saved.openai_model) == (
        False, "openai", "small", "https://llm.example.com/v1", "gpt-4o-mini")
    assert app.manager.notetaker.options.backend == "openai" and not app.manager.notetaker.options.auto
    assert backend.values[("meeting-buddy", "openai_key")] == "sk-test-secret"
    assert "sk-test-secret" not in json.dumps(saved.to_dict())

    again = SettingsDialog(app, app.window)
    qtbot.addWidget(again)
    assert again.openai_key.text() == ""  # never shown again, only replaced
    assert again.openai_key.placeholderText().startswith("Stored in the keyring")
    qtbot.mouseClick(again.buttons.button(again.buttons.StandardButton.Save), Qt.MouseButton.LeftButton)
    assert backend.values[("meeting-buddy", "openai_key")] == "sk-test-secret"  # an empty field keeps it


@pytest.mark.parametrize(("backend", "field", "value", "message"), [
    ("ollama", "ollama_url", "localhost:11434", "The Ollama URL must be a web address such as http://"),
    ("openai", "openai_url", "ftp://llm.example.com", "The service URL must be a web address such as https://"),
    ("openai", "openai_url", "https://llm.example.com:port/v1", "The service URL must be a web address"),
    ("openai", "openai_url", "", "The service URL is needed to write notes with it"),
])
def test_a_bad_notes_address_is_refused_in_words_and_nothing_is_saved(make_app, qtbot, backend, field, value,
                                                                       message):
    app = make_app()
    dialog = SettingsDialog(app, app.window)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.notes_backend.setCurrentIndex(dialog.notes_backend.findData(backend))
    dialog.openai_model.setText("gpt-4o-mini")
    getattr(dialog, field).setText(value)
    qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Save), Qt.MouseButton.LeftButton)
    assert dialog.error_label.isVisible() and dialog.error_label.text().startswith(f"⚠ {message}")
    assert dialog.tabs.tabText(dialog.tabs.currentIndex()) == "Notes"
    assert dialog.result() != dialog.DialogCode.Accepted
    assert load_settings().notes_backend == "local"
