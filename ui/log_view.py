"""A session's log: time, level and message, filtered by level, copied as text."""
from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.models import LogEntry
from ui.formatting import local_time

LEVEL_COLORS = {"warning": "#b26a00", "error": "#d0312d"}
FILTERS = (("All levels", ("info", "warning", "error")),
           ("Warnings and errors", ("warning", "error")),
           ("Errors", ("error",)))
_ENTRY_ROLE = Qt.ItemDataRole.UserRole


def entry_line(entry: dict[str, Any]) -> str:
    line = f"{entry.get('timestamp', '')} {entry.get('level', '').upper():7} {entry.get('message', '')}"
    if entry.get("details"):
        line += f" {json.dumps(entry['details'], ensure_ascii=False, sort_keys=True)}"
    return line


class LogView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.level_filter = QComboBox()
        for label, levels in FILTERS:
            self.level_filter.addItem(label, levels)
        self.copy_button = QPushButton("Copy log")
        self.copy_button.setToolTip("Copy the shown entries as text")
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Time", "Level", "Message"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QTreeWidget.SelectionMode.ExtendedSelection)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)

        bar = QHBoxLayout()
        bar.addWidget(self.level_filter)
        bar.addStretch(1)
        bar.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.tree, 1)

        self._keys: set[tuple[str, str, str]] = set()
        self.level_filter.currentIndexChanged.connect(lambda _: self._apply_filter())
        self.copy_button.clicked.connect(self.copy)

    def set_entries(self, entries: list[LogEntry]) -> None:
        self.tree.clear()
        self._keys.clear()
        for entry in entries:
            self._add(entry.to_dict())
        self.tree.scrollToBottom()

    def add_event(self, data: dict[str, Any]) -> None:
        bar = self.tree.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 4
        self._add(data)
        if at_end:
            self.tree.scrollToBottom()

    def _add(self, entry: dict[str, Any]) -> None:
        key = (entry.get("timestamp", ""), entry.get("level", ""), entry.get("message", ""))
        if key in self._keys:
            return  # loaded from the store and then delivered as an event
        self._keys.add(key)
        message = entry.get("message", "")
        if entry.get("details"):
            message += "  " + json.dumps(entry["details"], ensure_ascii=False, sort_keys=True)
        item = QTreeWidgetItem(self.tree, [local_time(entry.get("timestamp"), with_date=False),
                                           entry.get("level", ""), message])
        item.setData(0, _ENTRY_ROLE, entry)
        color = LEVEL_COLORS.get(entry.get("level", ""))
        if color:
            for column in range(3):
                item.setForeground(column, QBrush(QColor(color)))
        item.setHidden(entry.get("level") not in self.level_filter.currentData())

    def _apply_filter(self) -> None:
        levels = self.level_filter.currentData()
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item is not None:
                item.setHidden(item.data(0, _ENTRY_ROLE).get("level") not in levels)

    def visible_lines(self) -> list[str]:
        items = (self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount()))
        return [entry_line(item.data(0, _ENTRY_ROLE)) for item in items if item is not None and not item.isHidden()]

    def copy(self) -> None:
        """The selected entries, or every shown one when none is selected."""
        selected = [entry_line(item.data(0, _ENTRY_ROLE)) for item in self.tree.selectedItems()
                    if not item.isHidden()]
        QGuiApplication.clipboard().setText("\n".join(selected or self.visible_lines()) + "\n")
