"""The main window: the search across every meeting, the New-session form and the sessions
list on the left, the selected session (or the analytics) on the right. While a search is
typed, its results take the place of the form and the list; a result opens its session at its
line."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from app import __version__
from app.errors import MeetingBuddyError
from app.events import SessionEvent
from app.models import Session
from app.sessions import StartRequest
from app.titles import session_title
from app.workers import off_loop
from ui.analytics_view import AnalyticsView
from ui.headings import heading
from ui.icons import app_icon
from ui.new_session_form import NewSessionForm
from ui.search_panel import SearchPanel
from ui.session_actions import ask_export_target, confirm_delete, export_failed, remember_export_folder, write_export
from ui.session_page import SessionPage
from ui.sessions_list import SessionsList

if TYPE_CHECKING:
    from ui.application import Application

WELCOME = (
    "<h2>Record a meeting</h2>"
    "<p>Paste the meeting's link in <b>New session</b> and press <b>Start</b>: a bot joins "
    "the meeting, records it and transcribes it on this computer. Teams, Zoom, Google Meet "
    "and Webex are supported.</p>"
    "<p>Or copy a meeting link and choose <b>Quick join</b> in the tray menu.</p>"
    "<p>Select a session on the left to read its transcript, see who was there, and export it.</p>")


class MainWindow(QMainWindow):
    exportFinished = Signal(str)  # the file a transcript was saved to

    def __init__(self, app: Application) -> None:
        super().__init__()
        self.app = app
        self.setWindowTitle("Meeting Buddy")
        self.setWindowIcon(app_icon())
        self.resize(1280, 800)

        self.search_panel = SearchPanel(app.store)
        self.form = NewSessionForm(app.settings)
        self.sessions = SessionsList(app.store)
        self.page = SessionPage(app.store, app.folder_of, refine_job_of=app.manager.refiner.job,
                                notes_of=app.manager.notes, notes_job_of=self._notes_job,
                                endpoint_of=self._notes_endpoint)
        self.welcome = self._welcome_page()
        self.analytics = AnalyticsView(app.store)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.welcome)
        self.stack.addWidget(self.page)
        self.stack.addWidget(self.analytics)
        # While the analytics are shown, a session that starts or ends counts them again.
        self._analytics_timer = QTimer(self, singleShot=True, interval=500)
        self._analytics_timer.timeout.connect(self.analytics.refresh)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(10, 10, 4, 10)
        left_layout.addWidget(self.search_panel)
        self.browse = QWidget()  # what the search results take the place of
        browse_layout = QVBoxLayout(self.browse)
        browse_layout.setContentsMargins(0, 6, 0, 0)
        browse_layout.addWidget(self.form)
        browse_layout.addSpacing(6)
        sessions_bar = QHBoxLayout()
        sessions_bar.addWidget(heading("Sessions", point_size=12), 1)
        self.analytics_button = QPushButton("Analytics")
        self.analytics_button.setToolTip("Meetings per week and hours recorded")
        self.analytics_button.clicked.connect(self.show_analytics)
        sessions_bar.addWidget(self.analytics_button)
        browse_layout.addLayout(sessions_bar)
        browse_layout.addWidget(self.sessions, 1)
        left_layout.addWidget(self.browse, 1)
        self._left_layout = left_layout
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self.stack)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([500, 780])
        splitter.setChildrenCollapsible(False)
        self.setCentralWidget(splitter)
        self._build_menus()
        self._told_about_tray = False

        self.form.startRequested.connect(self._start)
        self.sessions.sessionSelected.connect(self._select)
        self.search_panel.activeChanged.connect(self._searching)
        self.search_panel.resultActivated.connect(self.open_transcript_line)
        self.page.stopRequested.connect(app.stop_session)
        self.page.exportRequested.connect(self._export)
        self.page.deleteRequested.connect(self._delete)
        self.page.refineRequested.connect(self._refine)
        self.page.refineCancelRequested.connect(lambda sid: app.manager.refiner.cancel(sid))
        self.page.restoreRequested.connect(self._restore)
        self.page.speakerRenameRequested.connect(self._rename_speaker)
        self.page.renameRequested.connect(self._rename)
        self.page.notes.writeRequested.connect(self._write_notes)
        self.page.notes.cancelRequested.connect(lambda sid: app.manager.notetaker.cancel(sid))
        self.page.notes.doneChanged.connect(self._tick_action)
        app.events.received.connect(self._on_event)
        app.sessionStarted.connect(self._started)
        app.sessionDeleted.connect(self._deleted)
        app.settingsChanged.connect(self.form.apply_defaults)
        app.notice.connect(lambda text: self.statusBar().showMessage(text, 15000))

    def _welcome_page(self) -> QWidget:
        page = QWidget()
        icon = QLabel()
        icon.setPixmap(app_icon().pixmap(QSize(96, 96)))
        icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        text = QLabel(WELCOME)
        text.setWordWrap(True)
        text.setFixedWidth(520)  # a fixed width lets the wrapped text take its full height
        text.setTextFormat(Qt.TextFormat.RichText)
        layout = QVBoxLayout(page)
        layout.addStretch(1)
        layout.addWidget(icon, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(text, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)
        return page

    def _build_menus(self) -> None:
        menu = self.menuBar().addMenu("&Meeting Buddy")
        new = menu.addAction("New session")
        new.setShortcut(QKeySequence.StandardKey.New)
        new.triggered.connect(lambda: self.form.link_edit.setFocus())
        find = menu.addAction("Search all meetings")
        find.setShortcut(QKeySequence("Ctrl+Shift+F"))
        find.triggered.connect(self.search_panel.focus)
        menu.addAction("Quick join (link on the clipboard)").triggered.connect(lambda: self.app.quick_join())
        menu.addAction("Record this computer").triggered.connect(lambda: self.app.record_this_computer())
        menu.addSeparator()
        self.settings_action = QAction("Settings…", self)
        self.settings_action.setShortcut(QKeySequence.StandardKey.Preferences)
        self.settings_action.triggered.connect(self.open_settings)
        menu.addAction(self.settings_action)
        menu.addSeparator()
        quit_action = menu.addAction("Quit")
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(lambda: self.app.request_quit())
        view = self.menuBar().addMenu("&View")
        analytics = view.addAction("Analytics")
        analytics.setShortcut(QKeySequence("Ctrl+Shift+A"))
        analytics.triggered.connect(self.show_analytics)
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction("About Meeting Buddy").triggered.connect(self._about)

    # -- sessions ----------------------------------------------------------------------------

    def _start(self, request: StartRequest) -> None:
        try:
            self.app.start_session(request)
        except MeetingBuddyError as exc:
            self.form.show_error(exc.details.get("field"), exc.message)
            return
        self.form.started()

    def _started(self, session: Session) -> None:
        self.sessions.session_changed(session)
        self.select_session(session.session_id)

    def select_session(self, session_id: str) -> None:
        if not self.sessions.select(session_id):
            # Hidden by the list's filter: show it anyway.
            self._select(session_id)

    def _select(self, session_id: str) -> None:
        if session_id and self.page.show_session(session_id):
            self.stack.setCurrentWidget(self.page)
        else:
            self.stack.setCurrentWidget(self.welcome)

    def _searching(self, searching: bool) -> None:
        self.browse.setVisible(not searching)
        self._left_layout.setStretchFactor(self.search_panel, 1 if searching else 0)

    def open_transcript_line(self, session_id: str, transcript_id: str) -> None:
        """A search result: its session, its transcript, that line selected and in view."""
        self.select_session(session_id)
        if self.page.session_id != session_id:
            self.statusBar().showMessage("That session no longer exists", 8000)
            return
        if not self.page.show_line(transcript_id):
            self.statusBar().showMessage("That line is no longer in the session's transcript", 8000)

    def _on_event(self, event: SessionEvent) -> None:
        if event.kind == "session":
            self.sessions.session_changed(Session.from_dict(event.data))
        elif event.kind == "transcript_revision" and self.search_panel.active:
            self.search_panel.refresh()  # the lines found may have been replaced
        elif event.kind == "status" and self.stack.currentWidget() is self.analytics:
            self._analytics_timer.start()
        self.page.apply_event(event)

    def show_analytics(self) -> None:
        """Meetings per week and hours recorded, in place of the selected session."""
        self.sessions.table.clearSelection()  # choosing a session again shows it
        self.analytics.refresh()
        self.stack.setCurrentWidget(self.analytics)

    def _export(self, session_id: str) -> None:
        session = self.app.store.get_session(session_id)
        if session is None:
            return
        choice = ask_export_target(self, self.app, session)
        if choice is None:
            return
        self.statusBar().showMessage(f"Saving the transcript to {choice[0]}…")
        self.app.spawn(self._write_export(session, *choice), "Export")

    async def _write_export(self, session: Session, target: Path, fmt: str) -> None:
        # A long meeting takes seconds to render (DOCX above all): the window stays live.
        try:
            await off_loop(write_export, self.app.store, session, target, fmt)
        except (OSError, MeetingBuddyError) as exc:
            self.statusBar().clearMessage()
            export_failed(self, target, exc)
            return
        remember_export_folder(self.app, target)
        self.statusBar().showMessage(f"Transcript saved to {target}", 15000)
        self.exportFinished.emit(str(target))

    def _refine(self, session_id: str) -> None:
        """The after-meeting pass runs off the GUI thread; the page follows its events."""
        try:
            self.app.manager.refiner.start(session_id)
        except MeetingBuddyError as exc:
            self.statusBar().showMessage(f"The transcript cannot be improved: {exc.message}", 15000)

    # -- meeting notes -------------------------------------------------------------------------

    def _notes_job(self, session_id: str) -> dict | None:
        """The last event of the session's notes job while it is queued or running."""
        job = self.app.manager.notetaker.job(session_id)
        return job.to_dict() if job is not None and job.active else None

    def _notes_endpoint(self, backend: str) -> str | None:
        """Where a remote notes back-end is reached, as the settings say."""
        settings = self.app.settings
        return {"ollama": settings.ollama_url, "openai": settings.openai_url}.get(backend) or None

    def _write_notes(self, session_id: str, backend: str) -> None:
        """The notes are written off the GUI thread; the page follows their events."""
        try:
            self.app.manager.notetaker.start(session_id, backend or None)
        except MeetingBuddyError as exc:
            if self.page.session_id == session_id:
                self.page.notes.show_error(exc.message)

    def _tick_action(self, session_id: str, item_id: str, done: bool) -> None:
        # One small row written: quick enough for the GUI thread.
        try:
            self.app.manager.set_action_done(session_id, item_id, done)
        except MeetingBuddyError as exc:
            if self.page.session_id == session_id:
                self.page.notes.set_done(item_id, not done)
            self.statusBar().showMessage(f"The tick cannot be kept: {exc.message}", 15000)

    def _rename(self, session_id: str, title: str) -> None:
        try:
            session = self.app.manager.rename(session_id, title)
        except MeetingBuddyError as exc:
            self.page.title.revert()
            self.statusBar().showMessage(f"The session cannot be renamed: {exc.message}", 15000)
            return
        if self.page.session_id == session_id:
            self.page.title.show_title(session_title(session))  # also when nothing changed

    def _restore(self, session_id: str, label: str) -> None:
        try:
            self.app.manager.restore_transcript(session_id, label)
        except MeetingBuddyError as exc:
            self.statusBar().showMessage(f"That transcript cannot be shown: {exc.message}", 15000)

    def _rename_speaker(self, session_id: str, old: str, new: str) -> None:
        # A few rows rewritten: quick enough for the GUI thread; the page reloads the transcript
        # on the transcript_revision event.
        try:
            lines = self.app.manager.rename_speaker(session_id, old, new)
        except MeetingBuddyError as exc:
            self.statusBar().showMessage(f"The speaker cannot be renamed: {exc.message}", 15000)
            return
        self.statusBar().showMessage(f"\u201c{old}\u201d is now \u201c{new}\u201d on {lines} lines", 15000)

    def _delete(self, session_id: str) -> None:
        session = self.app.store.get_session(session_id)
        if session is not None and confirm_delete(self, session, self.app.folder_of(session)):
            self.app.delete_session(session_id)

    def _deleted(self, session_id: str) -> None:
        self.sessions.session_deleted(session_id)
        if self.search_panel.active:
            self.search_panel.refresh()
        if self.page.session_id == session_id:
            self.page.session = None
            self.stack.setCurrentWidget(self.welcome)
        self.statusBar().showMessage("Session deleted", 8000)

    # -- dialogs -----------------------------------------------------------------------------

    def open_settings(self) -> None:
        from ui.settings_dialog import SettingsDialog

        SettingsDialog(self.app, self).exec()

    def _about(self) -> None:
        QMessageBox.about(self, "About Meeting Buddy",
                          f"<b>Meeting Buddy {__version__}</b><p>Records and transcribes "
                          "Teams, Zoom, Google Meet and Webex meetings on this computer.</p>")

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.app.closed:
            event.accept()
            return
        event.ignore()
        if self.app.tray is not None and self.app.tray.icon.isVisible() and QSystemTrayIcon.isSystemTrayAvailable():
            # Sessions keep running; the tray brings the window back.
            self.hide()
            if not self._told_about_tray:
                self._told_about_tray = True
                self.app.notify("Meeting Buddy is still running", "Open it again from the tray icon.")
        else:
            self.app.request_quit()
