"""The "New session" form: a meeting link checked as it is typed, the bot's name, the
transcription language, and Start. An invalid link starts nothing and says why, inline."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.errors import MeetingBuddyError
from app.links import MeetingLink, parse_meeting_link
from app.sessions import StartRequest
from app.settings import Settings
from ui.formatting import platform_name, shorten
from ui.headings import heading
from ui.icons import platform_icon
from ui.languages import language_choices

ERROR_STYLE = "color: #d0312d;"
HINT_STYLE = "color: #8a8d93;"  # muted, readable on the light and the dark theme


def language_combo(selected: str) -> QComboBox:
    combo = QComboBox()
    for label, code in language_choices():
        combo.addItem(label, code)
    select_language(combo, selected)
    return combo


def select_language(combo: QComboBox, code: str) -> None:
    index = combo.findData(code)
    combo.setCurrentIndex(index if index >= 0 else combo.findData("en"))


class NewSessionForm(QFrame):
    startRequested = Signal(object)  # a StartRequest, only ever with a valid link

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("newSessionForm")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._link: MeetingLink | None = None

        title = heading("New session", point_size=12)

        self.link_edit = QLineEdit()
        self.link_edit.setPlaceholderText("Paste a Teams, Zoom, Google Meet or Webex link")
        self.link_edit.setClearButtonEnabled(True)
        self._platform_action = self.link_edit.addAction(QIcon(), QLineEdit.ActionPosition.LeadingPosition)
        self._platform_action.setVisible(False)
        self.link_status = QLabel()
        self.link_status.setWordWrap(True)
        self.link_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.bot_name_edit = QLineEdit(settings.bot_name)
        self.bot_name_edit.setMaxLength(100)
        self.bot_name_error = QLabel()
        self.bot_name_error.setStyleSheet(ERROR_STYLE)
        self.bot_name_error.setWordWrap(True)
        self.bot_name_error.hide()
        self.language_combo = language_combo(settings.language)
        self.transcribe_check = QCheckBox("Transcribe")
        self.transcribe_check.setChecked(True)
        self.transcribe_check.toggled.connect(self.language_combo.setEnabled)
        self.debug_check = QCheckBox("Show the bot's window")
        self.debug_check.setToolTip("Debug mode: the bot's browser opens in its own window")
        self.start_button = QPushButton("Start")
        self.start_button.setDefault(True)
        self.start_button.setEnabled(False)

        self.notice = QLabel()
        self.notice.setObjectName("formNotice")
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet("background: rgba(242, 169, 0, 0.18); border-radius: 4px; padding: 6px;")
        self.notice.hide()

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Bot name", self.bot_name_edit)
        form.addRow("", self.bot_name_error)
        form.addRow("Language", self.language_combo)
        options = QHBoxLayout()
        options.addWidget(self.transcribe_check)
        options.addWidget(self.debug_check)
        options.addStretch(1)
        options.addWidget(self.start_button)

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.notice)
        layout.addWidget(self.link_edit)
        layout.addWidget(self.link_status)
        layout.addLayout(form)
        layout.addLayout(options)

        self.link_edit.textChanged.connect(self._check_link)
        self.link_edit.returnPressed.connect(self._start)
        self.bot_name_edit.textChanged.connect(lambda _: self.bot_name_error.hide())
        self.start_button.clicked.connect(self._start)
        self._defaults = settings
        self._check_link("")

    # -- what the owner calls --------------------------------------------------------------

    @property
    def link(self) -> MeetingLink | None:
        return self._link

    def set_link(self, text: str) -> None:
        self.link_edit.setText(text)

    def show_notice(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setVisible(bool(text))

    def show_error(self, field: str | None, message: str) -> None:
        """A refusal of the start request, shown under the field it names."""
        if field == "bot_name":
            self.bot_name_error.setText(message)
            self.bot_name_error.show()
        else:
            self._show_link_state(message, error=True)

    def apply_defaults(self, settings: Settings) -> None:
        """New defaults from the settings; a value the user already changed stays."""
        if self.bot_name_edit.text() == self._defaults.bot_name:
            self.bot_name_edit.setText(settings.bot_name)
        if self.language_combo.currentData() == self._defaults.language:
            select_language(self.language_combo, settings.language)
        self._defaults = settings

    def started(self) -> None:
        self.link_edit.clear()
        self.show_notice("")

    # -- inside ------------------------------------------------------------------------------

    def _check_link(self, text: str) -> None:
        self._link = None
        if not text.strip():
            self._platform_action.setVisible(False)
            self._show_link_state("A bot joins the meeting, records it and transcribes it "
                                  "on this computer.", error=False)
            self.start_button.setEnabled(False)
            return
        try:
            self._link = parse_meeting_link(text)
        except MeetingBuddyError as exc:
            self._platform_action.setVisible(False)
            self._show_link_state(exc.message, error=True)
        else:
            self._platform_action.setIcon(platform_icon(self._link.platform))
            self._platform_action.setVisible(True)
            self._show_link_state(f"{platform_name(self._link.platform)} meeting "
                                  f"{shorten(self._link.meeting_id, 48)}", error=False)
            self.show_notice("")
        self.start_button.setEnabled(self._link is not None)

    def _show_link_state(self, text: str, *, error: bool) -> None:
        self.link_status.setText(("⚠ " if error else "") + text)
        self.link_status.setStyleSheet(ERROR_STYLE if error else HINT_STYLE)
        self.link_status.setProperty("error", error)

    def _start(self) -> None:
        if self._link is None:
            return  # the inline message already says what is wrong
        self.startRequested.emit(StartRequest(
            meeting_link=self.link_edit.text().strip(),
            bot_name=self.bot_name_edit.text(),
            transcription_enabled=self.transcribe_check.isChecked(),
            transcription_language=self.language_combo.currentData(),
            debug_mode=self.debug_check.isChecked()))
