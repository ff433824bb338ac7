"""One session: its header (its title, editable; status, outcome in words, actions) and the
player of its recording over the live transcript, the participants, the log, the recording
facts, the talk time and the meeting notes.

The store is read when a session is selected; after that the page follows the session's
events."""
from __future__ import annotations

from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import cast

from PySide6.QtCore import QSize, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QTabBar,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.diagnostics import bundles
from app.error_texts import session_outcome
from app.events import SessionEvent
from app.models import Session, Status
from app.notes.models import MeetingNotes
from app.refine import RefineJob, recording_facts, transcript_revision
from app.runners.common import LIVE_BEHIND_KEY
from app.store import Store
from app.titles import session_title
from ui.formatting import local_time, session_duration
from ui.icons import platform_icon
from ui.languages import language_name
from ui.log_view import LogView
from ui.notes_view import NotesView
from ui.participants_view import ParticipantsView
from ui.playback import SEEK_STEP, Player
from ui.playback_timeline import recording_timeline
from ui.recording_view import RecordingView
from ui.refine_panel import RefinePanel
from ui.status_badge import StatusBadge
from ui.talk_time_view import TalkTimeView
from ui.title_edit import TitleEdit
from ui.transcript_view import TranscriptView

_BANNER_STYLES = {
    "failed": "background: rgba(208, 49, 45, 0.14); border: 1px solid rgba(208, 49, 45, 0.5);",
    "completed": "background: rgba(46, 125, 50, 0.12); border: 1px solid rgba(46, 125, 50, 0.45);",
    "note": "background: rgba(31, 111, 209, 0.10); border: 1px solid rgba(31, 111, 209, 0.4);",
}

# Widgets that use Space and the arrow keys themselves: while one has the focus, they keep them.
_OWN_KEYS = (QLineEdit, QAbstractButton, QAbstractItemView, QComboBox, QTabBar)

_DIAGNOSTICS_TIP = ("What the bot saw of the meeting page: a picture, the page and the log, without "
                    "passcodes. Send it to the maintainers when the bot got stuck.")


class SessionPage(QWidget):
    stopRequested = Signal(str)
    exportRequested = Signal(str)
    deleteRequested = Signal(str)
    refineRequested = Signal(str)           # improve the transcript after the meeting
    refineCancelRequested = Signal(str)
    restoreRequested = Signal(str, str)     # session id, the label of a kept transcript
    renameRequested = Signal(str, str)      # session id, the title typed ("" to remove it)
    speakerRenameRequested = Signal(str, str, str)  # session id, a speaker's name, the new name typed

    TRANSCRIPT, PARTICIPANTS, LOG, RECORDING, TALK_TIME, NOTES = range(6)

    def __init__(self, store: Store, folder_of: Callable[[Session], Path],
                 parent: QWidget | None = None, *,
                 refine_job_of: Callable[[str], RefineJob | None] = lambda session_id: None,
                 notes_of: Callable[[str], MeetingNotes | None] = lambda session_id: None,
                 notes_job_of: Callable[[str], dict | None] = lambda session_id: None,
                 endpoint_of: Callable[[str], str | None] = lambda backend: None) -> None:
        super().__init__(parent)
        self.store = store
        self._folder_of = folder_of
        self._refine_job_of = refine_job_of
        self._notes_of = notes_of
        self._notes_job_of = notes_job_of  # a queued or running notes job's last event
        self.session: Session | None = None
        self._fixed: tuple[str, bool, Path] | None = None  # see _copy_and_folder

        self.platform_label = QLabel()
        self.title = TitleEdit(point_size=15)
        self.badge = StatusBadge()
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("The bot leaves; the recording and transcript are saved")
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save the transcript as text, subtitles, JSON, Markdown or Word")
        self.delete_button = QPushButton("Delete")
        self.delete_button.setToolTip("Delete the session, its transcript and its files")
        self.diagnostics_button = QPushButton("Open diagnostics")
        self.diagnostics_button.hide()
        self.refine = RefinePanel()
        self.facts = QLabel()
        self.facts.setStyleSheet("color: #8a8d93;")
        self.facts.setWordWrap(True)
        self.facts.setTextFormat(Qt.TextFormat.RichText)
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner = QLabel()
        self.banner.setObjectName("outcomeBanner")
        self.banner.setWordWrap(True)
        self.banner.setTextFormat(Qt.TextFormat.RichText)
        self.banner.hide()

        self.transcript = TranscriptView()
        self.participants = ParticipantsView()
        self.log = LogView()
        self.recording = RecordingView()
        self.player = Player()
        self._playback_key: tuple | None = None  # what the player was loaded for
        self.talk_time = TalkTimeView()
        self._talk_time_loaded = False  # read from the store when its tab is first shown
        self.notes = NotesView(endpoint_of=endpoint_of)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.transcript, "Transcript")
        self.tabs.addTab(self.participants, "Participants")
        self.tabs.addTab(self.log, "Log")
        self.tabs.addTab(self.recording, "Recording")
        self.tabs.addTab(self.talk_time, "Talk time")
        self.tabs.addTab(self.notes, "Notes")

        top = QHBoxLayout()
        top.addWidget(self.platform_label)
        top.addWidget(self.title, 1)
        top.addWidget(self.badge)
        top.addSpacing(12)
        for button in (self.diagnostics_button, self.stop_button, self.refine.button, self.export_button,
                       self.delete_button):
            top.addWidget(button)
        header = QFrame()
        header_layout = QVBoxLayout(header)
        header_layout.setContentsMargins(0, 0, 0, 0)
        header_layout.addLayout(top)
        header_layout.addWidget(self.facts)
        header_layout.addWidget(self.banner)
        header_layout.addWidget(self.refine)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.addWidget(header)
        layout.addWidget(self.player)
        layout.addWidget(self.tabs, 1)

        self.stop_button.clicked.connect(lambda: self._request(self.stopRequested))
        self.export_button.clicked.connect(lambda: self._request(self.exportRequested))
        self.delete_button.clicked.connect(lambda: self._request(self.deleteRequested))
        self.diagnostics_button.clicked.connect(self.open_diagnostics)
        self.transcript.lineActivated.connect(self.player.play_from)
        self.transcript.speakerRenameRequested.connect(self._ask_speaker_name)
        self.notes.lineRequested.connect(self._show_line_of_notes)
        self.player.positionChanged.connect(self.transcript.highlight_at)
        self._playback_keys = [
            QShortcut(QKeySequence(key), self, action, context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
            for key, action in ((Qt.Key.Key_Space, self.player.toggle),
                                (Qt.Key.Key_Left, lambda: self.player.seek_by(-SEEK_STEP)),
                                (Qt.Key.Key_Right, lambda: self.player.seek_by(SEEK_STEP)))]
        cast(QApplication, QApplication.instance()).focusChanged.connect(self._focus_changed)
        self.title.renamed.connect(
            lambda title: self.session is not None and self.renameRequested.emit(self.session.session_id, title))
        self.tabs.currentChanged.connect(lambda _: self._load_talk_time())
        self.refine.requested.connect(lambda: self._request(self.refineRequested))
        self.refine.cancelRequested.connect(lambda: self._request(self.refineCancelRequested))
        self.refine.restoreRequested.connect(
            lambda label: self.session is not None and self.restoreRequested.emit(self.session.session_id, label))

    @property
    def session_id(self) -> str | None:
        return self.session.session_id if self.session else None

    def _request(self, signal) -> None:
        if self.session is not None:
            signal.emit(self.session.session_id)

    # -- loading and following ---------------------------------------------------------------

    def show_session(self, session_id: str) -> bool:
        """Load a session from the store; False when it no longer exists."""
        session = self.store.get_session(session_id)
        if session is None:
            self.session = None
            return False
        self._fixed = None
        self.session = session
        self._load_transcript(session)
        self.log.set_entries(self.store.logs(session_id))
        self.refine.reset()
        self._talk_time_loaded = False
        self.notes.show_session(session_id, self._notes_of(session_id), self._notes_job_of(session_id))
        self._show(session)
        self._load_talk_time()
        return True

    def _load_talk_time(self) -> None:
        """The talk time is counted when its tab is shown, so a long meeting opens as fast
        as before; then it follows the transcript's events."""
        if self.session is None or self._talk_time_loaded or self.tabs.currentWidget() is not self.talk_time:
            return
        self._talk_time_loaded = True
        self.talk_time.set_segments(self.store.transcripts(self.session.session_id), session_duration(self.session))

    def _load_transcript(self, session: Session) -> None:
        self.transcript.set_segments(self.store.iter_transcripts(session.session_id), self._placeholder(session))
        self.transcript.set_revision(transcript_revision(session))

    def apply_event(self, event: SessionEvent) -> None:
        if self.session is None or event.session_id != self.session.session_id:
            return
        if event.kind == "session":
            self._show(Session.from_dict(event.data))
        elif event.kind == "transcript":
            self.transcript.add_event(event.data)
            if self._talk_time_loaded and not event.data.get("is_partial"):
                self.talk_time.add_event(event.data)
        elif event.kind == "log":
            self.log.add_event(event.data)
        elif event.kind == "refine":
            self.refine.apply_event(event.data)
        elif event.kind == "notes":
            self.notes.apply_event(event.data)
            if event.data.get("state") == "done":
                self.notes.show_notes(self._notes_of(event.session_id))
        elif event.kind == "transcript_revision":
            self._load_transcript(self.store.get_session(event.session_id) or self.session)
            self._talk_time_loaded = False
            self._load_talk_time()

    def _placeholder(self, session: Session) -> str:
        if not session.transcription_enabled:
            return "Transcription is off for this session."
        if session.is_terminal:
            return "Nothing was transcribed in this session."
        return "Waiting for someone to speak…"

    def _copy_and_folder(self, session: Session) -> tuple[bool, Path]:
        """Whether the session is a copy from another Meeting Buddy, and its folder: fixed for a
        session, so read once when it is chosen rather than at each of its events, where every
        read of the store or the disk waits again for the recorder's threads."""
        if self._fixed is None or self._fixed[0] != session.session_id:
            self._fixed = (session.session_id, self.store.session_origin(session.session_id)[0],
                           self._folder_of(session))
        return self._fixed[1], self._fixed[2]

    def _show(self, session: Session) -> None:
        self.session = session
        self.platform_label.setPixmap(platform_icon(session.platform).pixmap(QSize(28, 28)))
        self.title.show_title(session_title(session))
        copy, folder = self._copy_and_folder(session)
        self.title.set_editable(not copy, "A copy from another Meeting Buddy: rename it there")
        self.badge.set_status(session.status)
        self.stop_button.setEnabled(not session.is_terminal and session.status is not Status.LEAVING)
        language = (language_name(session.transcription_language) if session.transcription_enabled
                    else "no transcription")
        started = local_time(session.join_timestamp or session.created_at)
        self.facts.setText(f"Bot “{escape(session.bot_name)}” · {language} · started {started}"
                           f"<br>{escape(session.meeting_link)}")
        self._show_banner(session)
        self.participants.show_session(session)
        self.tabs.setTabText(self.PARTICIPANTS, f"Participants ({len(session.current_participants)})"
                             if not session.is_terminal else "Participants")
        self.recording.show_session(session, folder)
        if self._talk_time_loaded:
            self.talk_time.set_duration(session_duration(session))
        self.transcript.text.setPlaceholderText(self._placeholder(session))
        self.transcript.set_behind(None if session.is_terminal else session.metadata.get(LIVE_BEHIND_KEY))
        self._show_diagnostics_button(session)
        self._show_refine(session, copy, folder)
        self.transcript.set_speakers_renamable(session.is_terminal and not copy)
        self.notes.set_writable(session.is_terminal and not copy,
                                "A copy from another Meeting Buddy: write its notes there." if copy
                                else "Notes can be written once the meeting has ended.")
        self._show_playback(session, copy, folder)

    # -- the after-meeting pass ------------------------------------------------------------------

    def _show_refine(self, session: Session, copy: bool, folder: Path) -> None:
        """"Improve transcript" for a finished session recorded here (not a `copy`) with audio
        on disk."""
        sid = session.session_id
        refinable = (session.is_terminal and not copy
                     and any(folder.glob("audio_*.ogg")))
        self.refine.show_session(refinable=refinable, current=transcript_revision(session),
                                 kept=self.store.transcript_revisions(sid) if refinable else [],
                                 job=self._refine_job_of(sid))

    def _ask_speaker_name(self, speaker: str) -> None:
        """A dialog for the speaker's new name; all their lines follow once it is accepted."""
        if self.session is None:
            return
        session_id = self.session.session_id
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Rename speaker")
        dialog.setLabelText(f"New name for \u201c{speaker}\u201d (all their lines are renamed):")
        dialog.setTextValue(speaker)

        def chosen(name: str) -> None:
            if name.strip() and name.strip() != speaker:
                self.speakerRenameRequested.emit(session_id, speaker, name.strip())

        dialog.textValueSelected.connect(chosen)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def show_line(self, transcript_id: str) -> bool:
        """The transcript tab with the line `transcript_id` selected and in view; False when
        the transcript shown has no such line."""
        self.tabs.setCurrentWidget(self.transcript)
        return self.transcript.reveal(transcript_id)

    def _show_line_of_notes(self, session_id: str, transcript_id: str) -> None:
        if session_id == self.session_id and not self.show_line(transcript_id):
            self.tabs.setCurrentWidget(self.notes)
            self.notes.tell("That line is no longer in the transcript shown.")

    # -- playback --------------------------------------------------------------------------------

    def _show_playback(self, session: Session, copy: bool, folder: Path) -> None:
        """The recording of a finished session recorded here; the player is loaded again only
        when the session or what it recorded changes."""
        if copy:
            reason = "This session is a copy from another Meeting Buddy; its recording is there."
        elif not session.is_terminal:
            reason = "The recording can be played once the session has ended."
        else:
            reason = ""
        key = (session.session_id, reason, session.audio_file_count, session.total_size_bytes)
        if key == self._playback_key:
            return
        self._playback_key = key
        self.transcript.highlight_at(None)
        if reason:
            self.player.unavailable(reason)
        else:
            start, segment_seconds = recording_facts(session)
            self.player.load(recording_timeline(folder, start=start,
                                                segment_seconds=segment_seconds))

    def _focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        own_keys = isinstance(new, _OWN_KEYS) and not self.player.isAncestorOf(new)
        for shortcut in self._playback_keys:
            shortcut.setEnabled(not own_keys)

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        if not event.spontaneous():  # another page took its place (the session was deleted) or the window closed
            self.player.pause()

    # -- diagnostics ---------------------------------------------------------------------------

    def _show_diagnostics_button(self, session: Session) -> None:
        """Shown for a failed session and for one with diagnostics; usable once a bundle is on
        disk (a session that failed before its page opened has none)."""
        shown = session.status is Status.FAILED or bool(session.metadata.get("diagnostics"))
        self.diagnostics_button.setVisible(shown)
        if shown:
            saved = self.newest_diagnostics() is not None
            self.diagnostics_button.setEnabled(saved)
            self.diagnostics_button.setToolTip(_DIAGNOSTICS_TIP if saved else "No diagnostics were saved "
                                                                               "for this session")

    def newest_diagnostics(self) -> Path | None:
        if self.session is None:
            return None
        found = bundles(self._copy_and_folder(self.session)[1])
        return found[-1] if found else None

    def open_diagnostics(self) -> None:
        bundle = self.newest_diagnostics()
        if bundle is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(bundle)))

    def _show_banner(self, session: Session) -> None:
        outcome = session_outcome(session)
        if outcome is not None:
            kind = "failed" if session.status is Status.FAILED else "completed"
            lead = "Failed" if kind == "failed" else "Ended"
            text = f"<b>{lead}: {escape(outcome.title)}.</b> {escape(outcome.explanation)}"
            if outcome.remedy:
                text += f"<br>{escape(outcome.remedy)}"
        elif session.debug_mode:
            kind = "note"
            text = "Debug mode: the bot shows its browser in its own window."
        else:
            self.banner.hide()
            return
        self.banner.setText(text)
        self.banner.setStyleSheet(_BANNER_STYLES[kind] + " border-radius: 6px; padding: 8px;")
        self.banner.setProperty("kind", kind)
        self.banner.show()
