"""The list of sessions, newest first: status badge, title, start time, duration; filtered
by status and searched by text. The store is read when the filter changes; live changes come
from session events."""
from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.models import Session, Status
from app.store import Store
from app.titles import session_title
from ui.formatting import clock, local_time, session_duration, status_label
from ui.icons import platform_icon
from ui.status_badge import StatusBadgeDelegate

LIST_LIMIT = 200
SESSION_ROLE = Qt.ItemDataRole.UserRole
STATUS_ROLE = StatusBadgeDelegate.STATUS_ROLE


class SessionsModel(QAbstractTableModel):
    COLUMNS = ("Status", "Meeting", "Started", "Duration")
    STATUS, MEETING, STARTED, DURATION = range(4)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._sessions: list[Session] = []

    # -- Qt model ----------------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._sessions)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        session = self._sessions[index.row()]
        column = index.column()
        if role == SESSION_ROLE:
            return session
        if role == STATUS_ROLE:
            return session.status
        if role == Qt.ItemDataRole.DisplayRole:
            if column == self.STATUS:
                return status_label(session.status)
            if column == self.MEETING:
                return session_title(session)
            if column == self.STARTED:
                return local_time(session.join_timestamp or session.created_at)
            if column == self.DURATION:
                return clock(session_duration(session))
        if role == Qt.ItemDataRole.DecorationRole and column == self.MEETING:
            return platform_icon(session.platform)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{session.meeting_link}\nBot: {session.bot_name}\n{session.session_id}"
        if role == Qt.ItemDataRole.TextAlignmentRole and column == self.DURATION:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    # -- changes -----------------------------------------------------------------------------

    def set_sessions(self, sessions: list[Session]) -> None:
        self.beginResetModel()
        self._sessions = list(sessions)
        self.endResetModel()

    def row_of(self, session_id: str) -> int:
        return next((i for i, s in enumerate(self._sessions) if s.session_id == session_id), -1)

    def session_at(self, row: int) -> Session:
        return self._sessions[row]

    def upsert(self, session: Session) -> None:
        row = self.row_of(session.session_id)
        if row >= 0:
            self._sessions[row] = session
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.COLUMNS) - 1))
            return
        # Newest first, as the store lists them.
        row = next((i for i, s in enumerate(self._sessions)
                    if (s.created_at, s.session_id) < (session.created_at, session.session_id)),
                   len(self._sessions))
        self.beginInsertRows(QModelIndex(), row, row)
        self._sessions.insert(row, session)
        self.endInsertRows()

    def remove(self, session_id: str) -> None:
        row = self.row_of(session_id)
        if row >= 0:
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._sessions[row]
            self.endRemoveRows()

    def tick(self) -> None:
        """Running sessions' durations move on."""
        for row, session in enumerate(self._sessions):
            if not session.is_terminal and session.join_timestamp:
                index = self.index(row, self.DURATION)
                self.dataChanged.emit(index, index)


class SessionsList(QWidget):
    sessionSelected = Signal(str)  # a session id, "" when none is selected

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.model = SessionsModel(self)

        self.status_filter = QComboBox()
        self.status_filter.addItem("All statuses", None)
        for status in Status:
            self.status_filter.addItem(status_label(status.value), status.value)
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Search links, people, transcripts…")
        self.search_edit.setClearButtonEnabled(True)
        self.count_label = QLabel()
        self.count_label.setStyleSheet("color: #8a8d93;")

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setItemDelegateForColumn(SessionsModel.STATUS, StatusBadgeDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(34)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(SessionsModel.STATUS, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(SessionsModel.STATUS, 104)
        header.setSectionResizeMode(SessionsModel.MEETING, QHeaderView.ResizeMode.Stretch)
        # Fitted when rows come, not at each change: a column sized to its contents asks the
        # model for every row's cells whenever one changes (hundreds of calls into Python per
        # event of a running session, each waiting for the interpreter lock).
        header.setSectionResizeMode(SessionsModel.STARTED, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(SessionsModel.DURATION, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(SessionsModel.DURATION, self.table.fontMetrics().horizontalAdvance("88:88:88") + 16)
        self.model.modelReset.connect(self._fit_started)
        self.model.rowsInserted.connect(self._fit_started)
        header.setHighlightSections(False)

        filters = QHBoxLayout()
        filters.addWidget(self.search_edit, 1)
        filters.addWidget(self.status_filter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.count_label)

        self._search_timer = QTimer(self, singleShot=True, interval=250)
        self._search_timer.timeout.connect(self.reload)
        self.search_edit.textChanged.connect(lambda _: self._search_timer.start())
        self.status_filter.currentIndexChanged.connect(lambda _: self.reload())
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._emit_selection())
        self._clock = QTimer(self, interval=1000)
        self._clock.timeout.connect(self.model.tick)
        self._clock.start()
        self._total = 0
        self._last_selected = ""
        self.reload()

    # -- reading -----------------------------------------------------------------------------

    @property
    def status(self) -> str | None:
        return self.status_filter.currentData()

    @property
    def search(self) -> str:
        return self.search_edit.text().strip()

    def reload(self) -> None:
        selected = self.selected_id()
        page = self.store.list_sessions(status=self.status, search=self.search or None,
                                        limit=LIST_LIMIT)
        self._total = page.total_count
        self.model.set_sessions(page.data)
        self._update_count()
        if selected:
            self.select(selected)

    def _fit_started(self) -> None:
        self.table.resizeColumnToContents(SessionsModel.STARTED)

    def _update_count(self) -> None:
        shown = self.model.rowCount()
        if shown == 0:
            text = "No sessions match" if (self.status or self.search) else "No sessions yet"
        elif self._total > shown:
            text = f"Newest {shown} of {self._total} sessions"
        else:
            text = f"{shown} session{'s' if shown != 1 else ''}"
        self.count_label.setText(text)

    # -- selection ---------------------------------------------------------------------------

    def selected_id(self) -> str:
        rows = self.table.selectionModel().selectedRows()
        return self.model.session_at(rows[0].row()).session_id if rows else ""

    def select(self, session_id: str) -> bool:
        row = self.model.row_of(session_id)
        if row < 0:
            return False
        self.table.selectRow(row)
        self.table.scrollTo(self.model.index(row, 0))
        return True

    def _emit_selection(self) -> None:
        current = self.selected_id()
        if current != self._last_selected:
            self._last_selected = current
            self.sessionSelected.emit(current)

    # -- live changes ------------------------------------------------------------------------

    def _matches(self, session: Session) -> bool:
        if self.status and session.status != self.status:
            return False
        # A session already listed may match by its transcript, which events do not carry.
        if self.search and self.model.row_of(session.session_id) < 0:
            return self.search.casefold() in json.dumps(session.to_dict(), ensure_ascii=False).casefold()
        return True

    def session_changed(self, session: Session) -> None:
        present = self.model.row_of(session.session_id) >= 0
        if self._matches(session):
            self.model.upsert(session)
            self._total += 0 if present else 1
        elif present:
            self._remove(session.session_id)
        self._update_count()

    def session_deleted(self, session_id: str) -> None:
        if self.model.row_of(session_id) >= 0:
            self._remove(session_id)
            self._update_count()

    def _remove(self, session_id: str) -> None:
        self.model.remove(session_id)
        self._total -= 1
        self._emit_selection()
