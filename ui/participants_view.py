"""Who is in the meeting now, and everyone's comings and goings."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHeaderView,
    QListWidget,
    QListWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.models import Session
from ui.formatting import local_time
from ui.headings import heading


class ParticipantsView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.current_label = heading()
        self.current = QListWidget()
        self.current.setMaximumHeight(160)
        self.history = QTreeWidget()
        self.history.setHeaderLabels(["Time", "Who", "What"])
        self.history.setRootIsDecorated(False)
        self.history.setAlternatingRowColors(True)
        self.history.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.history.header().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        history_label = heading("History")

        self._rows: list[tuple[str, str]] = []  # (text, name) of each row shown in `current`
        self._history: list[dict] = []            # the history entries shown

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addWidget(self.current_label)
        layout.addWidget(self.current)
        layout.addWidget(history_label)
        layout.addWidget(self.history, 1)

    def show_session(self, session: Session) -> None:
        """Redraws only what changed: a meeting's events come many times a minute, and the
        history only grows (a long or busy meeting would otherwise be rebuilt at each one)."""
        rows = []
        for name, info in sorted(session.current_participants.items(), key=lambda kv: kv[0].casefold()):
            info = info if isinstance(info, dict) else {}
            bot = " (bot)" if info.get("is_bot") else ""
            rows.append((f"{name}{bot}  ·  since {local_time(info.get('joined_at'), with_date=False)}", name))
        if rows != self._rows:
            self._rows = rows
            self.current.clear()
            for text, name in rows:
                QListWidgetItem(text, self.current).setData(Qt.ItemDataRole.UserRole, name)
        count = len(session.current_participants)
        self.current_label.setText(f"In the meeting now ({count})" if not session.is_terminal
                                   else "The meeting is over for this session")
        self.current.setVisible(not session.is_terminal or count > 0)
        history = session.participant_history
        shown = len(self._history)
        if history[:shown] != self._history:
            self.history.clear()
            self._history, shown = [], 0
        if len(history) > shown:
            for entry in history[shown:]:
                bot = " (bot)" if entry.get("is_bot") else ""
                QTreeWidgetItem(self.history, [local_time(entry.get("timestamp"), with_date=False),
                                               f"{entry.get('participant_name', '')}{bot}",
                                               entry.get("event", "")])
            self._history = list(history)
            self.history.scrollToBottom()

    def current_names(self) -> list[str]:
        return [self.current.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.current.count())]

    def history_rows(self) -> list[tuple[str, str]]:
        items = (self.history.topLevelItem(i) for i in range(self.history.topLevelItemCount()))
        return [(item.text(1), item.text(2)) for item in items if item is not None]
