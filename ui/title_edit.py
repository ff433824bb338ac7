"""A session's title as a heading that can be edited in place: click, type, Enter (or leave
the field) renames; Escape gives the title back; an emptied title asks for the name taken
from the meeting link again."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLineEdit, QWidget

_TIP = "Click to rename the session; empty it to call it after its meeting link again"


class TitleEdit(QLineEdit):
    renamed = Signal(str)  # the title typed ("" to remove it)

    def __init__(self, *, point_size: float | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        font = self.font()
        font.setBold(True)
        if point_size is not None:
            font.setPointSizeF(point_size)
        self.setFont(font)
        # A heading until it has the focus; a field while it is edited.
        self.setStyleSheet("QLineEdit:!focus { background: transparent; border: none; }")
        self.setToolTip(_TIP)
        self._shown = ""  # the session's title as last shown
        self.editingFinished.connect(self._commit)

    def show_title(self, title: str) -> None:
        """The session's title now; what is being typed is left alone."""
        self._shown = title
        if not (self.hasFocus() and self.isModified()):
            self.revert()

    def revert(self) -> None:
        self.setText(self._shown)
        self.setCursorPosition(0)

    def set_editable(self, editable: bool, reason: str = "") -> None:
        self.setReadOnly(not editable)
        self.setToolTip(_TIP if editable else reason)

    def _commit(self) -> None:
        typed = self.text().strip()
        self.setModified(False)
        if not self.isReadOnly() and typed != self._shown:
            self.renamed.emit(typed)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.setModified(False)
            self.revert()
            self.clearFocus()
            return
        super().keyPressEvent(event)
