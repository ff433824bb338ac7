"""A session's meeting notes on its page: the summary, the decisions, the action items as a
checklist (a tick is stored; a click on an item shows the line it came from), the open
questions, and who wrote them. "Write notes" asks for them, with the back-end its menu
names; while a job is queued or running the tab shows its progress and Cancel. The job runs
in app/notes, off the GUI thread; this follows its `notes` events.

Everything shown comes from a language model and from the meeting, so it is only ever laid
out as plain text."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.notes.models import ActionItem, MeetingNotes
from ui.formatting import local_time
from ui.headings import heading

BACKEND_NAMES = {"local": "the local model", "ollama": "Ollama", "openai": "an OpenAI-compatible service"}
REMOTE_BACKENDS = ("ollama", "openai")
_GOING = ("queued", "running")
_MUTED = "color: #8a8d93;"
_TIP = ("Turn the transcript into a summary, the decisions, action items and open questions. "
        "The menu chooses who writes them; a plain click uses the back-end chosen in Settings > Notes. "
        "New notes replace the ones shown, ticks included.")
_EMPTY = ("No notes yet. “Write notes” turns the transcript into a summary, the decisions, the action items "
          "and the open questions.")


def backend_name(backend: str) -> str:
    return BACKEND_NAMES.get(backend, backend)


def _plain(text: str = "", *, muted: bool = False) -> QLabel:
    """A label that shows `text` exactly as it is: no markup, no links, wrapped."""
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setText(text)
    if muted:
        label.setStyleSheet(_MUTED)
    return label


def _bullets(lines: list[str]) -> str:
    return "\n".join(f"•  {line}" for line in lines)


class _LineLink(QLabel):
    """An action item's text: a click (or Enter once focused) asks for its transcript line."""
    activated = Signal()

    def __init__(self, text: str) -> None:
        super().__init__()
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(True)
        self.setText(text)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setToolTip("Show where this was said in the transcript")

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(event.position().toPoint()):
            self.activated.emit()
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):  # Space plays the recording
            self.activated.emit()
            return
        super().keyPressEvent(event)


class ActionRow(QWidget):
    """One action item: its tick, its task (a link to its line), and who does it by when."""
    toggled = Signal(str, bool)   # item id, done
    opened = Signal(str)          # transcript id

    def __init__(self, item: ActionItem, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.item = item
        self.check = QCheckBox()
        self.check.setChecked(item.done)
        self.check.setAccessibleName(f"Done: {item.task}")
        self.check.setToolTip("Tick when it is done; the tick is kept with the notes")
        self.task = _LineLink(item.task)
        facts = [f"Owner: {item.owner}" if item.owner else "", f"Due: {item.due}" if item.due else ""]
        self.facts = _plain(" · ".join(f for f in facts if f), muted=True)
        self.facts.setVisible(bool(self.facts.text()))
        text = QVBoxLayout()
        text.setSpacing(0)
        text.addWidget(self.task)
        text.addWidget(self.facts)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 2)
        layout.addWidget(self.check, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(text, 1)
        self._strike(item.done)
        self.check.toggled.connect(self._toggled)
        self.task.activated.connect(lambda: self.opened.emit(item.transcript_id))

    def set_done(self, done: bool) -> None:
        """Show `done` without asking for it to be stored (it already is, or was refused)."""
        self.check.blockSignals(True)
        self.check.setChecked(done)
        self.check.blockSignals(False)
        self._strike(done)

    def _toggled(self, done: bool) -> None:
        self._strike(done)
        self.toggled.emit(self.item.item_id, done)

    def _strike(self, done: bool) -> None:
        font = self.task.font()
        font.setStrikeOut(done)
        self.task.setFont(font)
        self.task.setStyleSheet(_MUTED if done else "")


class NotesView(QWidget):
    writeRequested = Signal(str, str)        # session id, back-end ("" for the one in the settings)
    cancelRequested = Signal(str)            # session id
    doneChanged = Signal(str, str, bool)     # session id, item id, done
    lineRequested = Signal(str, str)         # session id, transcript id

    def __init__(self, parent: QWidget | None = None, *,
                 endpoint_of: Callable[[str], str | None] = lambda backend: None) -> None:
        super().__init__(parent)
        self._endpoint_of = endpoint_of  # where a remote back-end is reached, for the notice
        self.session_id: str | None = None
        self.notes: MeetingNotes | None = None
        self._state: str | None = None
        self._writable = False
        self._reason = ""

        self.write_button = QToolButton()
        self.write_button.setText("Write notes")
        self.write_button.setToolTip(_TIP)
        self.write_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.menu = QMenu(self.write_button)
        for backend in BACKEND_NAMES:
            action = self.menu.addAction(f"Write with {backend_name(backend)}")
            action.setData(backend)
            action.triggered.connect(lambda _=False, b=backend: self._write(b))
        self.write_button.setMenu(self.menu)
        self.status = _plain(muted=True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 100)
        self.bar.setMaximumWidth(260)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop writing; the notes stay as they are")
        top = QHBoxLayout()
        top.addWidget(self.write_button)
        top.addWidget(self.status, 1)
        top.addWidget(self.bar)
        top.addWidget(self.cancel_button)

        self.empty = _plain()
        self.byline = _plain(muted=True)
        self.sent = _plain()
        self.sent.setStyleSheet("color: #b45309;")
        self.summary = _plain()
        self.decisions = _plain()
        self.questions = _plain()
        self.no_actions = _plain("No action items.")
        self.actions_box = QVBoxLayout()
        self.actions_box.setContentsMargins(0, 0, 0, 0)
        self.actions_box.setSpacing(0)
        self.actions_box.addWidget(self.no_actions)
        self.rows: list[ActionRow] = []
        self._sections: dict[str, tuple[QLabel, QWidget]] = {}
        body = QWidget()
        content = QVBoxLayout(body)
        content.setContentsMargins(4, 8, 12, 8)
        content.addWidget(self.empty)
        content.addWidget(self.byline)
        content.addWidget(self.sent)
        actions = QWidget()
        actions.setLayout(self.actions_box)
        for key, title, widget in (("summary", "Summary", self.summary), ("decisions", "Decisions", self.decisions),
                                   ("actions", "Action items", actions),
                                   ("questions", "Open questions", self.questions)):
            label = heading(title)
            content.addSpacing(6)
            content.addWidget(label)
            content.addWidget(widget)
            self._sections[key] = (label, widget)
        content.addStretch(1)
        self.area = QScrollArea()
        self.area.setWidgetResizable(True)
        self.area.setFrameShape(QFrame.Shape.NoFrame)
        self.area.setWidget(body)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.area, 1)

        self.write_button.clicked.connect(lambda: self._write(""))
        self.cancel_button.clicked.connect(
            lambda: self.session_id is not None and self.cancelRequested.emit(self.session_id))
        self._show_job(None, {})
        self.show_notes(None)

    @property
    def running(self) -> bool:
        """A notes job of the session shown is queued or running."""
        return self._state in _GOING

    # -- what the page shows -----------------------------------------------------------------

    def show_session(self, session_id: str, notes: MeetingNotes | None, job: dict[str, Any] | None) -> None:
        """Another session: its stored notes and, while one is queued or running, its job's
        last event."""
        self.session_id = session_id
        self._show_job(None, {})
        self.show_notes(notes)
        if job is not None:
            self.apply_event(job)

    def set_writable(self, writable: bool, reason: str = "") -> None:
        """Notes can be asked for once the session's transcript is final; `reason` says why not."""
        self._writable, self._reason = writable, reason
        self.write_button.setToolTip(_TIP if writable else reason)
        self.write_button.setEnabled(writable and not self.running)
        self._show_empty()

    def show_notes(self, notes: MeetingNotes | None) -> None:
        self.notes = notes
        self.empty.setVisible(notes is None)
        self.byline.setVisible(notes is not None)
        for label, widget in self._sections.values():
            label.setVisible(notes is not None)
            widget.setVisible(notes is not None)
        for row in self.rows:
            row.hide()
            self.actions_box.removeWidget(row)
            row.deleteLater()
        self.rows = []
        if notes is None:
            self.sent.hide()
            return
        self.byline.setText(f"Written by {backend_name(notes.backend)} · {notes.model} · "
                            f"{local_time(notes.created_at)}")
        endpoint = self._endpoint_of(notes.backend) if notes.backend in REMOTE_BACKENDS else None
        self.sent.setVisible(notes.backend in REMOTE_BACKENDS)
        self.sent.setText(f"The transcript was sent to {endpoint or backend_name(notes.backend)} to write them.")
        self.summary.setText(notes.summary or "No summary.")
        self.decisions.setText(_bullets(notes.decisions) or "None recorded.")
        self.questions.setText(_bullets(notes.open_questions) or "None left open.")
        for item in notes.action_items:
            row = ActionRow(item)
            row.toggled.connect(self._ticked)
            row.opened.connect(self._open_line)
            self.actions_box.addWidget(row)
            self.rows.append(row)
        self.no_actions.setVisible(not self.rows)

    def set_done(self, item_id: str, done: bool) -> None:
        """Show an item's tick as stored (after a refused change: as it was)."""
        for row in self.rows:
            if row.item.item_id == item_id:
                row.item.done = done
                row.set_done(done)

    def _show_empty(self) -> None:
        self.empty.setText(_EMPTY if self._writable else self._reason)

    # -- a job --------------------------------------------------------------------------------

    def apply_event(self, data: dict[str, Any]) -> None:
        """A `notes` event of the session shown."""
        self._show_job(data.get("state"), data)

    def _show_job(self, state: str | None, data: dict[str, Any]) -> None:
        self._state = state
        going = state in _GOING
        self.write_button.setEnabled(not going and self._writable)
        self.bar.setVisible(going)
        self.cancel_button.setVisible(going)
        who = backend_name(str(data.get("backend") or "")) if data.get("backend") else "the chosen back-end"
        texts = {"queued": "Waiting to write the notes…",
                 "running": f"Writing the notes with {who}…",
                 "failed": f"Writing the notes failed: {data.get('error') or 'unknown error'}",
                 "cancelled": "Cancelled; the notes are unchanged."}
        self.status.setText(texts.get(state or "", ""))
        self.bar.setValue(round(100 * float(data.get("progress") or 0.0)))

    def show_error(self, message: str) -> None:
        """A job that could not even start."""
        self._show_job("failed", {"error": message})

    def tell(self, text: str) -> None:
        """One line beside the button, e.g. why an item's line cannot be shown."""
        self.status.setText(text)

    def _write(self, backend: str) -> None:
        if self.session_id is not None:
            self.writeRequested.emit(self.session_id, backend)

    def _open_line(self, transcript_id: str) -> None:
        if self.session_id is not None:
            self.lineRequested.emit(self.session_id, transcript_id)

    def _ticked(self, item_id: str, done: bool) -> None:
        if self.session_id is not None:
            self.doneChanged.emit(self.session_id, item_id, done)
