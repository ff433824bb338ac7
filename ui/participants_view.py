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

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addWidget(self.current_label)
        layout.addWidget(self.current)
        layout.addWidget(history_label)
        layout.addWidget(self.history, 1)

    def show_session(self, session: Session) -> None:
        self.current.clear()
        for name, info in sorted(session.current_participants.items(), key=lambda kv: kv[0].casefold()):
            info = info if isinstance(info, dict) else {}
            bot = " (bot)" if info.get("is_bot") else ""
            since = local_time(info.get("joined_at"), with_date=False)
            item = QListWidgetItem(f"{name}{bot}  ·  since {since}", self.current)
            item.setData(Qt.ItemDataRole.UserRole, name)
        count = len(session.current_participants)
        self.current_label.setText(f"In the meeting now ({count})" if not session.is_terminal
                                   else "The meeting is over for this session")
        self.current.setVisible(not session.is_terminal or count > 0)
        self.history.clear()
        for entry in session.participant_history:
            bot = " (bot)" if entry.get("is_bot") else ""
            QTreeWidgetItem(self.history, [local_time(entry.get("timestamp"), with_date=False),
                                           f"{entry.get('participant_name', '')}{bot}",
                                           entry.get("event", "")])
        self.history.scrollToBottom()

    def current_names(self) -> list[str]:
        return [self.current.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.current.count())]

    def history_rows(self) -> list[tuple[str, str]]:
        items = (self.history.topLevelItem(i) for i in range(self.history.topLevelItemCount()))
        return [(item.text(1), item.text(2)) for item in items if item is not None]
