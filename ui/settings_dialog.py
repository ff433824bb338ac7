"""Settings: defaults for new sessions, transcription model, recording, auto-leave timers,
the local API and sync, and who writes the meeting notes. Saved with app.settings; tokens and
keys go to app.secrets, never into the settings file."""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.errors import MeetingBuddyError, ValidationError
from app.paths import data_root
from app.settings import LeaveTimerSettings, Settings
from recorder.vocabulary import split_terms
from ui.models_page import ModelsPage
from ui.new_session_form import language_combo
from ui.prefs import THEMES

if TYPE_CHECKING:
    from ui.application import Application

DEVICES = (("CPU", "cpu"), ("GPU (CUDA)", "cuda"), ("Automatic", "auto"))
COMPUTE_TYPES = ("int8", "int8_float32", "int8_float16", "float16", "float32", "default")
THEME_LABELS = {"system": "System", "light": "Light", "dark": "Dark"}

# Each timer: (field, label, unit label, seconds per unit).
TIMERS = (
    ("waiting_room_s", "Leave the waiting room after", "min", 60),
    ("no_one_joined_s", "Leave when nobody joins within", "min", 60),
    ("everyone_left_s", "Leave after everyone else left, after", "s", 1),
    ("silence_s", "Leave after silence of", "min", 60),
    ("silence_warmup_s", "Count silence only after the first", "min", 60),
    ("max_duration_s", "Leave after at most", "min", 60),
)
# Shown beside the leave timers, though the bot stays: it only saves what it saw.
DIAGNOSTICS_TIMER = ("unexplained_screen_s", "Save diagnostics of an unknown screen after", "s", 1)

# Which tab holds the field a ValidationError names.
_FIELD_TABS = {"bot_name": 0, "data_dir": 0, "device": 1, "refine_model": 1, "vocabulary": 1, "segment_seconds": 2,
               "screen_fps": 2, "api_port": 4, "remote_url": 4, "notes_backend": 5, "notes_model": 5,
               "ollama_url": 5, "ollama_model": 5, "openai_url": 5, "openai_model": 5}
NOTES_BACKENDS = (("On this computer (local model)", "local"), ("An Ollama server", "ollama"),
                  ("An OpenAI-compatible service", "openai"))


def _form_page() -> tuple[QWidget, QFormLayout]:
    page = QWidget()
    form = QFormLayout(page)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    return page, form


def _note(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet("color: #8a8d93;")
    return label


def _compact(spin: QAbstractSpinBox) -> QAbstractSpinBox:
    """Numbers need little room: keep spin boxes from stretching across the dialog."""
    spin.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
    spin.setMinimumWidth(140)
    return spin


def _select(combo: QComboBox, value) -> None:
    index = combo.findData(value)
    if index >= 0:
        combo.setCurrentIndex(index)


class SettingsDialog(QDialog):
    def __init__(self, app: Application, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.app = app
        self.setWindowTitle("Settings")
        self.resize(720, 560)
        s = app.settings
        self._new_api_token: str | None = None

        self.tabs = QTabWidget()
        self.tabs.addTab(self._general_tab(s), "General")
        self.tabs.addTab(self._transcription_tab(s), "Transcription")
        self.tabs.addTab(self._recording_tab(s), "Recording")
        self.tabs.addTab(self._meeting_tab(s), "Meeting")
        self.tabs.addTab(self._api_tab(s), "API and sync")
        self.tabs.addTab(self._notes_tab(s), "Notes")
        self.models_page = ModelsPage(lambda: self.app.settings)
        self.models_page.changed.connect(self._models_changed)
        self.tabs.addTab(self.models_page, "Models")

        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #d0312d;")
        self.error_label.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save |
                                        QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)

    # -- tabs --------------------------------------------------------------------------------

    def _general_tab(self, s: Settings) -> QWidget:
        page, form = _form_page()
        self.bot_name = QLineEdit(s.bot_name)
        self.bot_name.setMaxLength(100)
        self.language = language_combo(s.language)
        self.theme = QComboBox()
        for theme in THEMES:
            self.theme.addItem(THEME_LABELS[theme], theme)
        _select(self.theme, self.app.prefs.theme)
        self.data_dir = QLineEdit(s.data_dir or "")
        self.data_dir.setPlaceholderText(f"Default: {data_root()}")
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._choose_data_dir)
        row = QHBoxLayout()
        row.addWidget(self.data_dir, 1)
        row.addWidget(browse)
        form.addRow("Bot name", self.bot_name)
        form.addRow("Transcription language", self.language)
        form.addRow("Appearance", self.theme)
        form.addRow("Data folder", row)
        form.addRow("", _note("Recordings and the session database live here. A new folder "
                              "is used after Meeting Buddy restarts; existing sessions stay "
                              "in the old one."))
        return page

    def _transcription_tab(self, s: Settings) -> QWidget:
        page, form = _form_page()
        self.model = QComboBox()
        self.model_state = _note("")
        self._fill_models(s.model)
        folder = QPushButton("Use a model folder…")
        folder.clicked.connect(self._choose_model_folder)
        row = QHBoxLayout()
        row.addWidget(self.model, 1)
        row.addWidget(folder)
        self.device = QComboBox()
        for label, value in DEVICES:
            self.device.addItem(label, value)
        _select(self.device, s.device)
        self.compute_type = QComboBox()
        for value in COMPUTE_TYPES:
            self.compute_type.addItem(value, value)
        if self.compute_type.findData(s.compute_type) < 0:
            self.compute_type.addItem(s.compute_type, s.compute_type)
        _select(self.compute_type, s.compute_type)
        form.addRow("Model", row)
        form.addRow("", self.model_state)
        form.addRow("Runs on", self.device)
        form.addRow("Compute type", self.compute_type)
        form.addRow("", _note("int8 on the CPU is fast and small; float16 suits a GPU. "
                              "English-only models (.en) are swapped for a multilingual one "
                              "when a session is in another language."))
        self._vocabulary_rows(form, s)
        self._refine_rows(form, s)
        self.model.currentIndexChanged.connect(lambda _: self._show_model_state())
        self._show_model_state()
        return page

    def _vocabulary_rows(self, form: QFormLayout, s: Settings) -> None:
        self.vocabulary = QPlainTextEdit("\n".join(s.vocabulary))
        self.vocabulary.setPlaceholderText("Zorblax Quintara\nAnna Kowalczyk\nOKR")
        self.vocabulary.setFixedHeight(90)
        form.addRow("Names and terms", self.vocabulary)
        form.addRow("", _note("One per line: product names, people, customers, jargon. Whisper is "
                              "given them in every session, live and after the meeting, so it spells "
                              "them right. A session started through the API can add its own "
                              "(metadata.vocabulary)."))

    def _refine_rows(self, form: QFormLayout, s: Settings) -> None:
        """The after-meeting pass: on or off, and its own model."""
        self.refine_after = QCheckBox("Improve the transcript after each meeting")
        self.refine_after.setChecked(s.refine_after_session)
        self.refine_model = QComboBox()
        self._fill_refine_models(s.refine_model)
        form.addRow("", self.refine_after)
        form.addRow("Model after the meeting", self.refine_model)
        form.addRow("", _note("Once a meeting has ended its recording is transcribed again, whole "
                              "passages at a time, which is more accurate than live; the live "
                              "transcript is kept. Automatic picks the most accurate installed model "
                              "that does an hour of meeting within 20 minutes on two cores."))

    def _recording_tab(self, s: Settings) -> QWidget:
        page, form = _form_page()
        self.segment_seconds = QSpinBox()
        self.segment_seconds.setRange(10, 3600)
        self.segment_seconds.setSuffix(" s")
        self.segment_seconds.setValue(int(s.segment_seconds))
        self.screen_capture = QCheckBox("Record the meeting's screen")
        self.screen_capture.setChecked(s.screen_capture)
        self.screen_fps = QDoubleSpinBox()
        self.screen_fps.setRange(0.5, 30)
        self.screen_fps.setSingleStep(0.5)
        self.screen_fps.setDecimals(1)
        self.screen_fps.setSuffix(" frames/s")
        self.screen_fps.setValue(s.screen_fps)
        self.screen_width = QSpinBox()
        self.screen_height = QSpinBox()
        for spin, value in ((self.screen_width, s.screen_max_width), (self.screen_height, s.screen_max_height)):
            spin.setRange(160, 7680)
            spin.setValue(value)
        size = QHBoxLayout()
        size.addWidget(self.screen_width)
        size.addWidget(QLabel("×"))
        size.addWidget(self.screen_height)
        size.addStretch(1)
        for widget in (self.screen_fps, self.screen_width, self.screen_height):
            self.screen_capture.toggled.connect(widget.setEnabled)
            widget.setEnabled(s.screen_capture)

        devices, problem = _input_devices()
        self.bot_audio = QComboBox()
        self.bot_audio.addItem("The meeting page (recommended)", "page")
        self.mic_device = QComboBox()
        self.mic_device.addItem("System default", None)
        self.system_device = QComboBox()
        self.system_device.addItem("System default", None)
        for device in devices:
            label = device.name + ("  (system sound)" if device.is_loopback else "")
            self.bot_audio.addItem(label, device.name)
            (self.system_device if device.is_loopback else self.mic_device).addItem(label, device.name)
        for combo, choice in ((self.bot_audio, s.bot_audio), (self.mic_device, s.mic_device),
                              (self.system_device, s.system_device)):
            if choice is not None and combo.findData(choice) < 0:
                combo.addItem(f"{choice}  (not connected)", choice)
            _select(combo, choice)

        _compact(self.segment_seconds)
        _compact(self.screen_fps)
        form.addRow("Segment length", self.segment_seconds)
        form.addRow("", self.screen_capture)
        form.addRow("Frame rate", self.screen_fps)
        form.addRow("Largest frame", size)
        form.addRow("Bot's audio from", self.bot_audio)
        form.addRow("Microphone", self.mic_device)
        form.addRow("System sound", self.system_device)
        form.addRow("", _note(problem or "The meeting page captures each session's audio on its "
                              "own; a device records whatever this computer hears."))
        return page

    def _meeting_tab(self, s: Settings) -> QWidget:
        page, form = _form_page()
        self.timers: dict[str, tuple[QDoubleSpinBox, int]] = {}
        for timer in TIMERS:
            self._timer_row(form, s, *timer)
        form.addRow("", _note("The bot leaves by itself when one of these happens; the "
                              "recording and transcript are kept."))
        self._timer_row(form, s, *DIAGNOSTICS_TIMER)
        form.addRow("", _note("When a join fails, the bot saves what it saw in the session's "
                              "folder: a picture of the page, the page without passcodes, and the "
                              "log (Open diagnostics on the session's page). It does the same, and "
                              "carries on, when the page shows a screen it does not recognise for "
                              "this long."))
        return page

    def _timer_row(self, form: QFormLayout, s: Settings, name: str, label: str, unit: str, scale: int) -> None:
        spin = QDoubleSpinBox()
        spin.setDecimals(1 if scale == 60 else 0)
        spin.setRange(0.1 if scale == 60 else 1, 24 * 60 if scale == 60 else 24 * 3600)
        spin.setSuffix(f" {unit}")
        spin.setValue(getattr(s.timers, name) / scale)
        self.timers[name] = (spin, scale)
        form.addRow(label, _compact(spin))

    def _api_tab(self, s: Settings) -> QWidget:
        page, form = _form_page()
        from app.secrets import REMOTE_TOKEN, api_token, get_secret

        self.api_enabled = QCheckBox("Serve the Meeting Buddy API on this computer (127.0.0.1)")
        self.api_enabled.setChecked(s.api_enabled)
        self.api_port = QSpinBox()
        self.api_port.setRange(1, 65535)
        self.api_port.setValue(s.api_port)
        self.api_token = QLineEdit(api_token(create=True) or "")
        self.api_token.setReadOnly(True)
        self.api_token.setEchoMode(QLineEdit.EchoMode.Password)
        self.show_token = QPushButton("Show")
        self.show_token.setCheckable(True)
        self.show_token.toggled.connect(self._toggle_token)
        copy = QPushButton("Copy")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.api_token.text()))
        regenerate = QPushButton("Regenerate")
        regenerate.clicked.connect(self._regenerate_token)
        token_row = QHBoxLayout()
        token_row.addWidget(self.api_token, 1)
        for button in (self.show_token, copy, regenerate):
            token_row.addWidget(button)
        self.remote_url = QLineEdit(s.remote_url or "")
        self.remote_url.setPlaceholderText("https://meeting-buddy.example.com")
        self.remote_token = QLineEdit()
        self.remote_token.setEchoMode(QLineEdit.EchoMode.Password)
        self.remote_token.setPlaceholderText("Stored" if get_secret(REMOTE_TOKEN) else "Not set")
        self.sync_enabled = QCheckBox("Sync finished sessions with the remote API")
        self.sync_enabled.setChecked(s.sync_enabled)

        form.addRow("", self.api_enabled)
        form.addRow("Port", _compact(self.api_port))
        form.addRow("Token", token_row)
        form.addRow("", _note("Clients send it as 'Authorization: Bearer <token>'. Regenerating "
                              "it locks out every client that uses the old one."))
        form.addRow("Remote API", self.remote_url)
        form.addRow("Remote token", self.remote_token)
        form.addRow("", self.sync_enabled)
        return page

    def _notes_tab(self, s: Settings) -> QWidget:
        """Who writes the meeting notes. The key is never shown: the field only replaces it."""
        from app.secrets import openai_key

        page, form = _form_page()
        self.notes_auto = QCheckBox("Write notes after each meeting")
        self.notes_auto.setChecked(s.notes_auto)
        self.notes_backend = QComboBox()
        for label, value in NOTES_BACKENDS:
            self.notes_backend.addItem(label, value)
        _select(self.notes_backend, s.notes_backend)
        self.notes_model = QComboBox()
        self.notes_model.setEditable(True)  # or the path of a .gguf file
        self.notes_model.addItems(["auto", "small", "recommended"])
        self.notes_model.setCurrentText(s.notes_model)
        choose = QPushButton("Choose a file…")
        choose.clicked.connect(self._choose_notes_model)
        model_row = QHBoxLayout()
        model_row.addWidget(self.notes_model, 1)
        model_row.addWidget(choose)
        self.ollama_url = QLineEdit(s.ollama_url)
        self.ollama_url.setPlaceholderText("http://127.0.0.1:11434")
        self.ollama_model = QLineEdit(s.ollama_model)
        self.ollama_model.setPlaceholderText("llama3.2")
        self.openai_url = QLineEdit(s.openai_url)
        self.openai_url.setPlaceholderText("https://api.example.com/v1")
        self.openai_model = QLineEdit(s.openai_model)
        self.openai_model.setPlaceholderText("gpt-4o-mini")
        self.openai_key = QLineEdit()
        self.openai_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.openai_key.setPlaceholderText("Stored in the keyring; type to replace it" if openai_key()
                                           else "Not set")
        form.addRow("", self.notes_auto)
        form.addRow("Written by", self.notes_backend)
        form.addRow("Local model", model_row)
        form.addRow("", _note("auto: the recommended model (Qwen2.5 1.5B Instruct) once it is downloaded, "
                              "else the small one installed with Meeting Buddy. Or a .gguf file of your own."))
        form.addRow("Ollama URL", self.ollama_url)
        form.addRow("Ollama model", self.ollama_model)
        form.addRow("Service URL", self.openai_url)
        form.addRow("Service model", self.openai_model)
        form.addRow("Service key", self.openai_key)
        form.addRow("", _note("The local model keeps everything on this computer. An Ollama server or an "
                              "OpenAI-compatible service is sent the whole transcript of each meeting it "
                              "writes notes for: use one you trust. The key is kept in the system keyring."))
        self._backend_fields = {"local": (self.notes_model, choose),
                                "ollama": (self.ollama_url, self.ollama_model),
                                "openai": (self.openai_url, self.openai_model, self.openai_key)}
        self.notes_backend.currentIndexChanged.connect(lambda _: self._show_backend_fields())
        self._show_backend_fields()
        return page

    # -- helpers behind the buttons ----------------------------------------------------------

    def _show_backend_fields(self) -> None:
        chosen = self.notes_backend.currentData()
        for backend, widgets in self._backend_fields.items():
            for widget in widgets:
                widget.setEnabled(backend == chosen)

    def _choose_notes_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "A language model file", "", "GGUF models (*.gguf)")
        if path:
            self.notes_model.setCurrentText(path)

    def _fill_models(self, selected: str) -> None:
        try:
            from recorder.whisper_models import model_states

            states = model_states()
        except (ImportError, OSError):
            states = []
        self._model_states = {state.name: state for state in states}
        self._model_in_use = self.app.settings.model
        self.model.clear()
        for state in states:
            note = ("in use" if state.name == self._model_in_use else "installed" if state.installed
                    else "not installed")
            self.model.addItem(f"{state.name}  ({note})", state.name)
        for extra in dict.fromkeys([self._model_in_use, selected]):  # a model folder
            if self.model.findData(extra) < 0:
                self.model.addItem(extra, extra)
        _select(self.model, selected)

    def _fill_refine_models(self, selected: str) -> None:
        from recorder.refine_models import AUTO, choose_refine_model

        self.refine_model.clear()
        auto = choose_refine_model(self.app.settings.language, self._model_states.values())
        self.refine_model.addItem(f"Automatic (now {auto})", AUTO)
        for state in self._model_states.values():
            self.refine_model.addItem(f"{state.name}  ({'installed' if state.installed else 'not installed'})",
                                      state.name)
        if self.refine_model.findData(selected) < 0:
            self.refine_model.addItem(selected, selected)
        _select(self.refine_model, selected)

    def _models_changed(self) -> None:
        """A model was installed or removed: both model choices say again what is installed."""
        self._fill_models(self.model.currentData())
        self._fill_refine_models(self.refine_model.currentData())
        self._show_model_state()

    def _show_model_state(self) -> None:
        name = self.model.currentData()
        state = self._model_states.get(name)
        if state is None:
            text = "A model folder on this computer."
        elif state.installed:
            where = {"package": "a Python package", "installed": "in the model cache"}.get(state.source or "",
                                                                                          "downloaded")
            text = f"Installed ({where})."
        else:
            text = "Not installed: install it on the Models page."
        if state is not None:
            text += " Multilingual." if state.multilingual else " English only."
        if name == self._model_in_use:
            text = "In use. " + text
        self.model_state.setText(text)

    def _choose_model_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder with a CTranslate2 Whisper model")
        if folder:
            if self.model.findData(folder) < 0:
                self.model.addItem(folder, folder)
            _select(self.model, folder)

    def _choose_data_dir(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Data folder", self.data_dir.text() or str(data_root()))
        if folder:
            self.data_dir.setText(folder)

    def _toggle_token(self, shown: bool) -> None:
        self.api_token.setEchoMode(QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password)
        self.show_token.setText("Hide" if shown else "Show")

    def _regenerate_token(self) -> None:
        from app.secrets import new_token

        answer = QMessageBox.question(
            self, "Regenerate the API token",
            "Clients using the current token lose access until they get the new one. "
            "The new token is stored when you press Save.")
        if answer == QMessageBox.StandardButton.Yes:
            self._new_api_token = new_token()
            self.api_token.setText(self._new_api_token)

    # -- saving ------------------------------------------------------------------------------

    def settings(self) -> Settings:
        """The settings as the dialog shows them (not yet validated)."""
        timers = LeaveTimerSettings(**{name: spin.value() * scale
                                       for name, (spin, scale) in self.timers.items()})
        return dataclasses.replace(
            self.app.settings,
            bot_name=self.bot_name.text().strip(),
            language=self.language.currentData(),
            model=self.model.currentData(),
            device=self.device.currentData(),
            compute_type=self.compute_type.currentData(),
            vocabulary=split_terms(self.vocabulary.toPlainText()),
            refine_after_session=self.refine_after.isChecked(),
            refine_model=self.refine_model.currentData(),
            data_dir=self.data_dir.text().strip() or None,
            segment_seconds=float(self.segment_seconds.value()),
            screen_capture=self.screen_capture.isChecked(),
            screen_fps=self.screen_fps.value(),
            screen_max_width=self.screen_width.value(),
            screen_max_height=self.screen_height.value(),
            bot_audio=self.bot_audio.currentData(),
            mic_device=self.mic_device.currentData(),
            system_device=self.system_device.currentData(),
            timers=timers,
            api_enabled=self.api_enabled.isChecked(),
            api_port=self.api_port.value(),
            remote_url=self.remote_url.text().strip() or None,
            sync_enabled=self.sync_enabled.isChecked(),
            notes_auto=self.notes_auto.isChecked(),
            notes_backend=self.notes_backend.currentData(),
            notes_model=self.notes_model.currentText().strip() or "auto",
            ollama_url=self.ollama_url.text().strip(),
            ollama_model=self.ollama_model.text().strip(),
            openai_url=self.openai_url.text().strip(),
            openai_model=self.openai_model.text().strip())

    def _check_remote(self, settings: Settings) -> None:
        url = settings.remote_url
        if url and not url.startswith(("https://", "http://")):
            raise ValidationError("The remote API URL must start with https:// (or http://)",
                                  field="remote_url")
        if settings.sync_enabled and not url:
            raise ValidationError("Sync needs the remote API's URL", field="remote_url")

    def _check_notes(self, settings: Settings) -> None:
        """The chosen remote back-end's address, in words the dialog's fields use."""
        for backend, field, name in (("ollama", "ollama_url", "The Ollama URL"),
                                     ("openai", "openai_url", "The service URL")):
            url = getattr(settings, field)
            if url and not _web_address(url):
                raise ValidationError(f"{name} must be a web address such as "
                                      f"{getattr(self, field).placeholderText()}", field=field)
            if settings.notes_backend == backend and not url:
                raise ValidationError(f"{name} is needed to write notes with it", field=field)
        if settings.notes_backend == "openai" and not settings.openai_model:
            raise ValidationError("The service model is needed to write notes with it", field="openai_model")

    def save(self) -> None:
        from app.secrets import API_TOKEN, REMOTE_TOKEN, set_openai_key, set_secret

        settings = self.settings()
        try:
            self._check_notes(settings)  # before validate(): its words name the dialog's fields
            settings.validate()
            self._check_remote(settings)
            if self._new_api_token:
                set_secret(API_TOKEN, self._new_api_token)
            if self.remote_token.text():
                set_secret(REMOTE_TOKEN, self.remote_token.text())
            if self.openai_key.text().strip():
                set_openai_key(self.openai_key.text())
            data_dir_changed = settings.data_dir != self.app.settings.data_dir
            self.app.apply_settings(settings)
        except MeetingBuddyError as exc:
            self.show_error(exc)
            return
        theme = self.theme.currentData()
        if theme != self.app.prefs.theme:
            self.app.apply_prefs(dataclasses.replace(self.app.prefs, theme=theme))
        if data_dir_changed:
            self.app.notice.emit("The new data folder is used after Meeting Buddy restarts")
        self.accept()

    def show_error(self, exc: MeetingBuddyError) -> None:
        field = str(exc.details.get("field", ""))
        tab = _FIELD_TABS.get(field, 3 if field.startswith("timers.") else None)
        if tab is not None:
            self.tabs.setCurrentIndex(tab)
        self.error_label.setText(f"⚠ {exc.message}")
        self.error_label.show()


def _web_address(url: str) -> bool:
    """An http:// or https:// address with a host (and, if any, a port number)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in url


def _input_devices():
    """The audio inputs, or none and a sentence saying why."""
    try:
        from recorder.audio.device import list_input_devices

        return list_input_devices(), None
    except Exception as exc:  # no PortAudio, no sound server: the page path still works
        return [], f"Audio devices cannot be listed here ({type(exc).__name__}); the meeting page's audio still works."

