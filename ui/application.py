"""The running desktop application: settings, the core (store, session manager), the
background services, the main window and the tray, and what they ask of each other.

Session work runs on the asyncio loop that qasync drives on the Qt event loop; every session
change reaches the widgets as an event through `EventBridge`.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from app.composition import Core, build_core
from app.errors import MeetingBuddyError
from app.events import SessionEvent
from app.links import MeetingLink, parse_meeting_link
from app.models import Session
from app.notes.backends import NotesOptions
from app.qt_workarounds import keep_singletons_alive
from app.refine import RefineOptions
from app.sessions import RunnerFactory, SessionRunner, StartRequest
from app.settings import Settings, load_settings, save_settings
from app.single_instance import InstanceServer
from app.titles import session_title
from app.workers import settle_heap
from ui.event_bridge import EventBridge
from ui.prefs import UiPrefs, load_prefs, save_prefs
from ui.services import BackgroundServices
from ui.theme import apply_theme

if TYPE_CHECKING:
    from ui.main_window import MainWindow
    from ui.tray import Tray

log = logging.getLogger(__name__)

RECORD_COMPUTER_NO_DEVICES = (
    "Choose a microphone and/or a system-audio device in Settings › Recording first, then "
    "use \u201cRecord this computer\u201d again.")

# Options a "join" request from a second launch may carry, with their types.
_REQUEST_OPTIONS = {"bot_name": str, "transcription_enabled": bool,
                    "transcription_language": str, "debug_mode": bool}


def clipboard_problem(text: str, reason: str) -> str:
    what = "The clipboard is empty." if not text.strip() else \
        f"The clipboard does not hold a meeting link ({reason})."
    return (f"Quick join uses the meeting link on the clipboard. {what} Copy the meeting's "
            "join link and choose Quick join again, or paste the link below.")


class Application(QObject):
    sessionStarted = Signal(object)     # the new Session, right after start
    sessionDeleted = Signal(str)        # a session id, once its data is gone
    settingsChanged = Signal(object)    # the new Settings, once saved
    liveSessionsChanged = Signal()      # a running session started, moved on or ended
    notice = Signal(str)                # one line for the status bar
    notified = Signal(str, str)         # title, message of a desktop notification
    finished = Signal()                 # the application has shut down

    def __init__(self, *, settings: Settings | None = None,
                 runner_factory: RunnerFactory | None = None,
                 trusted_certificates: frozenset[str] = frozenset()) -> None:
        keep_singletons_alive()
        super().__init__()
        self.settings = settings or load_settings()
        self.prefs = load_prefs()
        self._trusted_certificates = trusted_certificates
        self.core: Core = build_core(self.settings, own=True,
                                     runner_factory=runner_factory or self._bot_runner)
        self.events = EventBridge(self.manager.bus, self)
        self.events.received.connect(self._on_event)
        self.services = BackgroundServices(self.manager, self)
        self.services.notice.connect(self.notice)
        self.window: MainWindow | None = None
        self.tray: Tray | None = None
        self.instance: InstanceServer | None = None
        self._live: dict[str, Session] = {}
        self._tasks: set[asyncio.Future] = set()
        self.closed = False

    # -- the core ----------------------------------------------------------------------------

    @property
    def manager(self):
        return self.core.manager

    @property
    def store(self):
        return self.core.store

    @property
    def root(self) -> Path:
        return self.core.root

    @property
    def owns_data_folder(self) -> bool:
        return self.core.owner

    def _bot_runner(self, session: Session, link: MeetingLink | None) -> SessionRunner:
        # Built per session from the current settings, and imported only when a session
        # starts: the window opens without loading the browser or the recorder.
        from app.composition import bot_runner_factory

        factory = bot_runner_factory(self.settings, trusted_certificates=self._trusted_certificates)
        return factory(session, link)

    def folder_of(self, session: Session) -> Path:
        return self.manager.output_dir(session)

    # -- start-up and shut-down --------------------------------------------------------------

    def start(self, *, show: bool = True) -> None:
        """Open the window and the tray, listen for later launches, start the services.
        Needs the QApplication and the qasync loop set as the current event loop."""
        from ui.main_window import MainWindow
        from ui.tray import Tray

        apply_theme(cast(QApplication, QApplication.instance()), self.prefs.theme)
        self.window = MainWindow(self)
        self.tray = Tray(self)
        if self.owns_data_folder:
            self.instance = InstanceServer(self.root, self.handle_request, self)
            self.instance.listen()
        settle_heap()   # what start-up made lives as long as the window
        if show:
            self.window.show()
        self.spawn(self.services.apply(self.settings), "Starting the local services")
        if self.owns_data_folder:
            self.manager.refiner.follow_sessions(asyncio.get_event_loop())
            self.manager.notetaker.follow_sessions(asyncio.get_event_loop())

    def request_quit(self, *, confirm: bool = True) -> bool:
        """Quit; running sessions stop gracefully first. Asks first when one is running."""
        live = self.live_sessions()
        if live and confirm:
            count = f"{len(live)} session{'s are' if len(live) > 1 else ' is'}"
            answer = QMessageBox.question(
                self.window, "Quit Meeting Buddy",
                f"{count} still running. Quitting stops {'them' if len(live) > 1 else 'it'}: "
                "the bot leaves the meeting, and the recording and transcript are saved.\n\n"
                "Quit now?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                return False
        self.spawn(self._quit(), "Quitting")
        return True

    async def _quit(self) -> None:
        await self.shutdown()
        QApplication.quit()

    async def shutdown(self) -> None:
        """Stop every session gracefully, stop the services, close windows and the store."""
        if self.closed:
            return
        self.closed = True
        if self.live_sessions():
            self.notice.emit("Stopping running sessions…")
        await self.manager.refiner.close()  # a pass cut short changes nothing
        await self.manager.notetaker.close()  # nor does a notes job
        await self.manager.stop_all()
        await self.services.stop()
        if self.instance is not None:
            self.instance.close()
        self.events.close()
        if self.tray is not None:
            self.tray.hide()
        if self.window is not None:
            self.window.close()
        self.core.close()
        self.finished.emit()

    # -- sessions ----------------------------------------------------------------------------

    def start_session(self, request: StartRequest) -> Session:
        """Start a session (raises MeetingBuddyError for a request it refuses)."""
        session = self.manager.start(request)
        self.sessionStarted.emit(session)
        return session

    def default_request(self, meeting_link: str, **overrides: Any) -> StartRequest:
        values: dict[str, Any] = {"bot_name": self.settings.bot_name,
                                  "transcription_language": self.settings.language}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return StartRequest(meeting_link, **values)

    def stop_session(self, session_id: str) -> asyncio.Future:
        return self.spawn(self.manager.stop(session_id), "Stopping the session")

    def delete_session(self, session_id: str) -> asyncio.Future:
        return self.spawn(self._delete(session_id), "Deleting the session")

    async def _delete(self, session_id: str) -> None:
        await self.manager.delete(session_id)
        self._live.pop(session_id, None)
        self.sessionDeleted.emit(session_id)

    def live_sessions(self) -> list[Session]:
        return [s for sid, s in self._live.items() if self.manager.is_running(sid)]

    def quick_join(self, text: str | None = None) -> Session | None:
        """Join the meeting whose link is on the clipboard (or `text`) with the default
        settings. Anything else opens the window and says what to do."""
        text = QGuiApplication.clipboard().text() if text is None else text
        try:
            parse_meeting_link(text)
        except MeetingBuddyError as exc:
            self._tell_in_window(clipboard_problem(text, exc.message))
            return None
        try:
            session = self.start_session(self.default_request(text.strip()))
        except MeetingBuddyError as exc:
            self._tell_in_window(f"Quick join could not start the session: {exc.message}")
            return None
        self.notify("Joining the meeting", f"The bot is joining {session_title(session)}.")
        return session

    def _tell_in_window(self, message: str) -> None:
        self.show_window()
        assert self.window is not None
        self.window.form.show_notice(message)

    def record_this_computer(self) -> Session | None:
        """Record the microphone and the system sound (kept apart as "you" and "others")
        without a bot, with the devices chosen in the settings."""
        from app.runners.common import pipeline_config
        from app.runners.device_session import DeviceSessionOptions, DeviceSessionRunner

        settings = self.settings
        if not settings.mic_device and not settings.system_device:
            self.notify("Choose audio devices", RECORD_COMPUTER_NO_DEVICES)
            self.show_window()
            return None
        options = DeviceSessionOptions(mic=settings.mic_device, system=settings.system_device,
                                       pipeline=pipeline_config(settings))
        session = self.manager.start_local(
            lambda s, _link: DeviceSessionRunner(s, None, options),
            transcription_language=settings.language)
        self.sessionStarted.emit(session)
        return session

    # -- requests from later launches --------------------------------------------------------

    def handle_request(self, request: dict[str, Any]) -> dict[str, Any]:
        """Answer a request handed over by a second launch (see app.single_instance)."""
        self.show_window()
        if request["action"] == "show":
            return {"ok": True}
        link = request.get("meeting_link")
        options = {k: request.get(k) for k in _REQUEST_OPTIONS}
        wrong = [k for k, kind in _REQUEST_OPTIONS.items()
                 if options[k] is not None and not isinstance(options[k], kind)]
        if not isinstance(link, str) or wrong:
            return {"ok": False, "error": "meeting_link must be text" if not isinstance(link, str)
                    else f"wrong type for {', '.join(wrong)}"}
        try:
            session = self.start_session(self.default_request(link, **options))
        except MeetingBuddyError as exc:
            # Shown in the window, where the user can correct it.
            assert self.window is not None
            self.window.form.set_link(link)
            self.window.form.show_error(exc.details.get("field"), exc.message)
            return {"ok": True, "session_id": None, "error": exc.message}
        return {"ok": True, "session_id": session.session_id}

    # -- settings ----------------------------------------------------------------------------

    def apply_settings(self, settings: Settings) -> None:
        """Save and use new settings (raises ValidationError for an invalid value)."""
        save_settings(settings)
        self.settings = settings
        self.core.settings = settings
        self.manager.refiner.options = RefineOptions.from_settings(settings)
        self.manager.notetaker.options = NotesOptions.from_settings(settings)
        self.settingsChanged.emit(settings)
        self.spawn(self.services.apply(settings), "Applying the settings")

    def apply_prefs(self, prefs: UiPrefs) -> None:
        save_prefs(prefs)
        self.prefs = prefs
        apply_theme(cast(QApplication, QApplication.instance()), prefs.theme)

    # -- the window, notifications, background work ------------------------------------------

    def show_window(self) -> None:
        if self.window is None:
            return
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()

    def notify(self, title: str, message: str, *, warning: bool = False) -> None:
        if self.tray is not None:
            self.tray.show_message(title, message, warning=warning)
        self.notice.emit(f"{title}: {message}")
        self.notified.emit(title, message)

    def spawn(self, work: Awaitable[Any], what: str) -> asyncio.Future:
        """Run `work` on the loop; a failure is reported, never lost."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)

        def done(t: asyncio.Future) -> None:
            self._tasks.discard(t)
            if t.cancelled():
                return
            exc = t.exception()
            if isinstance(exc, MeetingBuddyError):
                self.notice.emit(f"{what} failed: {exc.message}")
            elif exc is not None:
                log.error("%s failed", what, exc_info=exc)
                self.notice.emit(f"{what} failed: unexpected {type(exc).__name__}")

        task.add_done_callback(done)
        return task

    def _on_event(self, event: SessionEvent) -> None:
        if event.kind != "session":
            return
        session = Session.from_dict(event.data)
        sid = session.session_id
        was = self._live.get(sid)
        if session.is_terminal:
            if self._live.pop(sid, None) is not None:
                self.liveSessionsChanged.emit()
                self.services.sync_soon()
        elif self.manager.is_running(sid):
            self._live[sid] = session
            if was is None or was.status != session.status:
                self.liveSessionsChanged.emit()
