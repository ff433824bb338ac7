"""Settings › Models: every transcription and notes model, whether it is installed and which
setting uses it, with Install and Remove. An install runs off the GUI thread (app/workers.py) and shows its
progress; when it ends the page, and the model choices listening to `changed`, show the new
state."""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.errors import MeetingBuddyError
from app.model_manager import SHIPPED, InstallResult, ModelRow, install_model, list_models, remove_model
from app.settings import Settings
from app.workers import in_background

_COLUMNS = ("Model", "Languages", "Size", "State", "Used for")
_TIERS = {"live": "live", "refine": "after the meeting", "notes": "meeting notes"}


def _state_text(row: ModelRow) -> str:
    if not row.installed:
        return "Not installed"
    if row.source == "package" and row.name != SHIPPED:
        return "Installed (its packages; set up on first use)"
    if row.source == "cache":
        return "Installed (Hugging Face cache)"
    return "Installed" if row.name != SHIPPED else "Installed (ships with Meeting Buddy)"


class ModelsPage(QWidget):
    changed = Signal()  # a model was installed or removed
    _progress = Signal(str, int, int)  # from the install's thread
    _finished = Signal(object)  # an InstallResult, or the exception that ended it

    def __init__(self, settings: Callable[[], Settings], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self.table = QTableWidget(0, len(_COLUMNS))
        self.table.setHorizontalHeaderLabels(_COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.install_button = QPushButton("Install")
        self.remove_button = QPushButton("Remove")
        self.bar = QProgressBar()
        self.bar.hide()
        self.status = QLabel()
        self.status.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.install_button)
        buttons.addWidget(self.remove_button)
        buttons.addWidget(self.bar, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        note = QLabel("Installing uses the model's packages, installs them with pip, or downloads the model "
                      "from Hugging Face when the network allows. Every file's SHA-256 is recorded at install "
                      "and checked before the model is used.")
        note.setWordWrap(True)
        note.setStyleSheet("color: #8a8d93;")
        layout.addWidget(note)
        self._rows: list[ModelRow] = []
        self._job: Future[InstallResult] | None = None

        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.install_button.clicked.connect(self.install_selected)
        self.remove_button.clicked.connect(self.remove_selected)
        self._progress.connect(self._show_progress)
        self._finished.connect(self._install_finished)
        self.refresh()

    @property
    def busy(self) -> bool:
        return self._job is not None

    def refresh(self) -> None:
        """Lists the models again, keeping the selection."""
        selected = self.selected()
        self._rows = list_models(self._settings())
        self.table.setRowCount(len(self._rows))
        for i, row in enumerate(self._rows):
            size = f"{row.size_bytes / 1e6:,.0f} MB" if row.size_bytes else ""
            used = ", ".join(_TIERS[tier] for tier in row.used_by)
            for column, text in enumerate((row.name, row.languages, size, _state_text(row), used)):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, row.name)
                self.table.setItem(i, column, item)
        if selected is not None:
            self.select(selected)
        self._update_buttons()

    def selected(self) -> str | None:
        items = self.table.selectedItems()
        return items[0].data(Qt.ItemDataRole.UserRole) if items else None

    def select(self, name: str) -> None:
        for i, row in enumerate(self._rows):
            if row.name == name:
                self.table.selectRow(i)

    def _selected_row(self) -> ModelRow | None:
        return next((row for row in self._rows if row.name == self.selected()), None)

    def _update_buttons(self) -> None:
        row = self._selected_row()
        self.install_button.setEnabled(row is not None and not self.busy and row.source != "installed"
                                       and row.name != SHIPPED)
        self.remove_button.setEnabled(row is not None and not self.busy and row.removable)

    # -- install ---------------------------------------------------------------------------

    def install_selected(self) -> None:
        name = self.selected()
        if name is None or self.busy:
            return
        self.status.setText(f"Installing {name}…")
        self.bar.setRange(0, 0)  # busy until the first bytes are counted
        self.bar.show()
        self._job = in_background(install_model, name, progress=self._progress.emit)
        self._update_buttons()
        self._job.add_done_callback(lambda job: self._finished.emit(job.exception() or job.result()))

    def _show_progress(self, stage: str, done: int, total: int) -> None:
        if total:
            self.bar.setRange(0, 1000)
            self.bar.setValue(round(1000 * done / total))
            self.status.setText(f"{stage}… {done / 1e6:,.0f} of {total / 1e6:,.0f} MB")
        else:
            self.bar.setRange(0, 0)
            self.status.setText(f"{stage}…")

    def _install_finished(self, outcome: object) -> None:
        self._job = None
        self.bar.hide()
        if isinstance(outcome, InstallResult):
            self.status.setText(f"{outcome.name} is installed ({outcome.origin})." if not outcome.already
                                else f"{outcome.name} was already installed and its files are intact.")
        elif isinstance(outcome, MeetingBuddyError):
            self.status.setText(f"⚠ {outcome.message}")
        else:
            self.status.setText(f"⚠ The install failed: {type(outcome).__name__}: {outcome}")
        self.refresh()
        self.changed.emit()

    # -- remove ----------------------------------------------------------------------------

    def remove_selected(self) -> None:
        name = self.selected()
        if name is None or self.busy:
            return
        try:
            self.status.setText(remove_model(name, self._settings()))
        except MeetingBuddyError as exc:  # in use, shipped, already gone: said, nothing removed
            self.status.setText(f"⚠ {exc.message}")
            return
        self.refresh()
        self.changed.emit()
