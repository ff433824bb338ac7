"""The after-meeting pass on the session page: the "Improve transcript" button (its menu
shows a kept transcript again) and, while a pass is queued or running, its progress and
Cancel. The pass itself runs in app/refine.py, off the GUI thread; this follows its
`refine` events."""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMenu, QProgressBar, QPushButton, QToolButton, QWidget

from app.refine import RefineJob, revision_name
from app.store import LIVE_REVISION, TranscriptRevision

_TIP = ("Transcribe the recording again now that the meeting is over, with whole passages as "
        "context and the model chosen for it. The live transcript is kept: its menu shows it again.")
_GOING = ("queued", "running")


class RefinePanel(QWidget):
    requested = Signal()
    cancelRequested = Signal()
    restoreRequested = Signal(str)  # a revision label

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.button = QToolButton()
        self.button.setText("Improve transcript")
        self.button.setToolTip(_TIP)
        self.button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.menu = QMenu(self.button)
        self.button.setMenu(self.menu)
        self.status = QLabel()
        self.status.setStyleSheet("color: #8a8d93;")
        self.bar = QProgressBar()
        self.bar.setRange(0, 100)
        self.bar.setMaximumWidth(260)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop improving; the transcript stays as it is")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.status)
        layout.addWidget(self.bar, 1)
        layout.addWidget(self.cancel_button)
        layout.addStretch(0)
        self._state: str | None = None
        self.hide()
        self.button.hide()

        self.button.clicked.connect(self.requested)
        self.cancel_button.clicked.connect(self.cancelRequested)

    @property
    def running(self) -> bool:
        """A pass of the session shown is queued or running."""
        return self._state in _GOING

    def reset(self) -> None:
        """Another session is shown: nothing of the previous one's pass stays."""
        self._state = None
        self.hide()
        self.button.setEnabled(True)

    def show_session(self, *, refinable: bool, current: str, kept: list[TranscriptRevision],
                     job: RefineJob | None) -> None:
        """The button for a finished session recorded here; its menu offers every kept
        transcript but the one shown."""
        self.button.setVisible(refinable)
        self.menu.clear()
        self.menu.addAction("Improve transcript").triggered.connect(self.requested)
        others = [r for r in kept if r.label != current]
        if others:
            self.menu.addSeparator()
        for revision in others:
            action = self.menu.addAction(f"Show the {revision_name(revision.label)} transcript"
                                         + (" again" if revision.label == LIVE_REVISION else ""))
            action.triggered.connect(lambda _=False, label=revision.label: self.restoreRequested.emit(label))
        if job is not None and job.active:
            self.apply_event(job.to_dict())

    def apply_event(self, data: dict[str, Any]) -> None:
        """A `refine` event of the session shown."""
        state = self._state = data.get("state")
        going = state in _GOING
        self.button.setEnabled(not going)
        self.bar.setVisible(going)
        self.cancel_button.setVisible(going)
        model = data.get("model") or "auto"
        if state == "queued":
            self.status.setText("Improving the transcript once recording has finished…"
                                if data.get("automatic") else "Waiting to improve the transcript…")
        elif state == "running":
            self.status.setText(f"Improving the transcript with {model}…" if model != "auto"
                                else "Improving the transcript…")
        elif state == "failed":
            self.status.setText(f"Improving the transcript failed: {data.get('message') or 'unknown error'}")
        elif state == "cancelled":
            self.status.setText("Cancelled; the transcript is unchanged.")
        self.bar.setValue(round(100 * float(data.get("progress") or 0.0)))
        self.setVisible(state != "completed")
