"""What a session recorded: segment and file counts, size, duration and the files themselves."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QListWidget, QPushButton, QVBoxLayout, QWidget

from app.models import Session
from ui.formatting import MISSING, clock, file_size, session_duration


def _count(value: int | None) -> str:
    return MISSING if value is None else str(value)


class RecordingView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.segments = QLabel()
        self.audio_files = QLabel()
        self.video_files = QLabel()
        self.size_label = QLabel()
        self.duration = QLabel()
        self.folder = QLabel()
        self.folder.setWordWrap(True)
        self.folder.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_button = QPushButton("Open folder")
        self.files = QListWidget()

        facts = QFormLayout()
        facts.addRow("Segments", self.segments)
        facts.addRow("Audio files", self.audio_files)
        facts.addRow("Video files", self.video_files)
        facts.addRow("Size", self.size_label)
        facts.addRow("Duration", self.duration)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(self.open_button)
        facts.addRow("Folder", folder_row)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addLayout(facts)
        layout.addWidget(QLabel("Files"))
        layout.addWidget(self.files, 1)

        self._directory: Path | None = None
        self._counts: tuple | None = None
        self._stale = False  # the files listed are not those of the counts shown
        self.open_button.clicked.connect(self.open_folder)

    def show_session(self, session: Session, directory: Path) -> None:
        self.segments.setText(_count(session.segment_count))
        self.audio_files.setText(_count(session.audio_file_count))
        self.video_files.setText(_count(session.video_file_count))
        self.size_label.setText(file_size(session.total_size_bytes))
        self.duration.setText(clock(session_duration(session)))
        self.folder.setText(str(directory))
        counts = (session.segment_count, session.audio_file_count, session.video_file_count,
                  session.total_size_bytes, session.status)
        if directory != self._directory or counts != self._counts:
            # The folder is read when what the session reports about it changes, and only
            # while the list is in view: a recording session reports every few seconds.
            self._directory, self._counts = directory, counts
            self._stale = True
        if self._stale and self.isVisible():
            self._list_files()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self._list_files()

    def _list_files(self) -> None:
        self._stale = False
        self.files.clear()
        directory = self._directory
        exists = directory is not None and directory.is_dir()
        self.open_button.setEnabled(exists)
        if directory is None or not exists:
            self.files.addItem("Nothing recorded yet")
            return
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            self.files.addItem(f"{path.relative_to(directory)}  ·  {file_size(path.stat().st_size)}")

    def open_folder(self) -> None:
        if self._directory is not None and self._directory.is_dir():
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._directory)))
