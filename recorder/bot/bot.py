"""The meeting bot: one browser page per session that joins a meeting, reports who is there
and who speaks, taps the meeting's audio, and leaves when the meeting is over for it.

Each bot has its own off-the-record browser profile, so sessions share no cookies or
permissions. The page is muted (the user does not hear the meeting twice). The page gets the
microphone permission — web clients play no remote audio without it — but the microphone
is Chromium's fake device playing silence (recorder/bot/chromium.py), and the bot mutes it
in the meeting's own controls; the camera and every other permission are refused. The bot
clicks and types with real input events (recorder/bot/real_input.py), and opens no
desktop-app links, pop-ups or downloads.
"""
from __future__ import annotations

import dataclasses
import json
import re
import time
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QCoreApplication,
    QCryptographicHash,
    QIODevice,
    QObject,
    QPoint,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtWebChannel import QWebChannel
from PySide6.QtWebEngineCore import (
    QWebEngineCertificateError,
    QWebEngineDownloadRequest,
    QWebEngineLoadingInfo,
    QWebEnginePage,
    QWebEnginePermission,
    QWebEngineProfile,
    QWebEngineScript,
    QWebEngineSettings,
)
from PySide6.QtWebEngineWidgets import QWebEngineView

from recorder.bot.bridge import PageBridge
from recorder.bot.chromium import ACCEPT_LANGUAGE, CHROME_USER_AGENT
from recorder.bot.config import BotConfig, LeaveTimers
from recorder.bot.diagnostics import PageDiagnostics
from recorder.bot.monitor import ADMITTED, LOADING, LOBBY, PAGE_LOAD_TIMEOUT_S, MeetingMonitor, Step
from recorder.bot.outcome import Ending, Outcome, completed, failed
from recorder.bot.page_scripts import BRIDGE_OBJECT, build_page_scripts
from recorder.bot.page_state import PageState, PageStateError
from recorder.bot.pcm import ChunkError, decode_chunk, monotonic_from_unix
from recorder.bot.real_input import ViewInput
from recorder.bot.roster import UNCHANGED
from recorder.bot.selector_pack import load_pack
from recorder.drops import DropCounter
from recorder.priority import lower_process

__all__ = ["BotConfig", "LeaveTimers", "MeetingBot"]

AudioSink = Callable[[np.ndarray, "float | None"], None]

WINDOW_SIZE = (1280, 720)
TEARDOWN_STEP_MS = 50
CLOCK_MS = 1000                 # leave timers are checked this often
LOAD_RETRY_MS = 2000            # a failed first load is tried once more after this
HTTP_ERROR_GRACE_MS = 5000      # an HTTP error page gets this long to show a known screen
LEAVE_CONFIRM_MS = 1000         # after clicking leave: answer a confirmation dialog
LEAVE_SETTLE_MS = 2500          # then give the page this long to leave the call
NO_AUDIO_WARNING_S = 30.0
LOUD_RMS = 0.01                 # about -40 dBFS: above this a chunk is speech, not silence
DIAGNOSE_TIMEOUT_MS = 3000      # a failed join waits this long for the page's diagnostics
NOTICE_INTERVAL_S = 60.0        # repeated page behaviour is summed up in the log this often
# Schemes a meeting page may navigate to; desktop-app links (msteams:, zoommtg:, webex:),
# file:, data: and the rest are refused, so no app is launched and nothing local is read.
MAIN_FRAME_SCHEMES = frozenset({"https", "http", "about"})
SUBFRAME_SCHEMES = MAIN_FRAME_SCHEMES | {"blob", "data"}
# Chromium refuses some navigations before the bot is asked (a web page may not open file:
# addresses, nor move its top frame to a data: URL) and says so only on the page's console.
_BROWSER_REFUSAL = re.compile(
    r"Not allowed to (?:load local resource|navigate top frame to data URL): ([a-z][a-z0-9+.-]{0,30}):", re.IGNORECASE)
MAX_CONSOLE_LINES = 20          # debug mode: distinct console errors logged, then only counted
# A chunk whose page time is further than this from the bot's clock has a time the page
# made up: it is taken as just arrived.
PAGE_TIME_TOLERANCE_S = 60.0


Notice = Callable[..., None]
"""(kind, first message[, count]): something the page did; the first of a kind is logged,
the rest counted."""


class _BotPage(QWebEnginePage):
    """A page that never opens a modal dialog (nobody is there to answer it) and never
    leaves the web: other schemes are refused. The page decides how often these happen, so
    each kind is logged once and then only counted."""

    def __init__(self, profile: QWebEngineProfile, parent: QObject, notice: Notice,
                 report: Callable[[str, str], None], console: bool) -> None:
        super().__init__(profile, parent)
        self._notice = notice
        self._report = report
        self._console = console
        self._console_lines: set[str] = set()

    def acceptNavigationRequest(self, url, kind, is_main_frame):
        scheme = url.scheme().lower()
        if scheme in (MAIN_FRAME_SCHEMES if is_main_frame else SUBFRAME_SCHEMES):
            return True
        self._notice(f"navigations to {scheme}: addresses",
                     f"The meeting page tried to open a {scheme}: address; refused (the bot never leaves the web page)")
        return False

    def javaScriptAlert(self, origin, message):
        self._notice("page dialogs", f"The meeting page showed a message, dismissed: {str(message)[:200]}")

    def javaScriptConfirm(self, origin, message):
        self._notice("page dialogs", f"The meeting page asked {str(message)[:200]!r}; answered yes")
        return True

    def javaScriptPrompt(self, origin, message, default):
        self._notice("page dialogs", f"The meeting page asked for input ({str(message)[:200]!r}); answered nothing")
        return False, ""

    def javaScriptConsoleMessage(self, level, message, line, source):
        if level != QWebEnginePage.JavaScriptConsoleMessageLevel.ErrorMessageLevel:
            return
        text = str(message)[:500]
        refused = _BROWSER_REFUSAL.match(text)
        if refused:
            scheme = refused.group(1).lower()
            self._notice(f"navigations to {scheme}: addresses",
                         f"The meeting page tried to open a {scheme}: address; the browser refused it")
        elif self._console:
            entry = f"page console: {text} ({str(source)[:200]}:{line})"
            if len(self._console_lines) < MAX_CONSOLE_LINES and entry not in self._console_lines:
                self._console_lines.add(entry)
                self._report("warning", entry)
            elif entry not in self._console_lines:
                self._notice("page console errors", f"More page console errors than the first {MAX_CONSOLE_LINES}")

    def chooseFiles(self, mode, old_files, accepted_mime_types):
        # QWebEngineView's own answer is a file dialog on the user's screen.
        self._notice("file choosers", "The meeting page asked to choose a file; refused (no file leaves this "
                                      "computer)")
        return []


class MeetingBot(QObject):
    phase_changed = Signal(str)             # "loading", "prejoin", "lobby", "admitted"
    participant_joined = Signal(str, bool)  # name, is_bot
    participant_left = Signal(str)
    speaker_changed = Signal(object)        # name or None, at the moment of change
    title_found = Signal(str)               # the meeting's title as the call shows it, once
    log = Signal(str, str)                  # level ("info"|"warning"|"error"), message
    diagnostics_ready = Signal(object)      # a PageDiagnostics: a failed join, an unknown screen
    finished = Signal(object)               # the Outcome, once

    def __init__(self, config: BotConfig, audio_sink: AudioSink | None = None, parent: QObject | None = None):
        super().__init__(parent)
        url = QUrl(config.join_url)
        if not url.isValid() or url.scheme() not in ("https", "http") or not url.host():
            raise ValueError(f"join_url must be an http(s) address, got {config.join_url!r}")
        if not config.bot_name.strip():
            raise ValueError("bot_name must not be empty")
        self.config = config
        self._pack = load_pack(config.platform)
        self._sink = audio_sink
        self._monitor = self._new_monitor()
        self._profile: QWebEngineProfile | None = None
        self._page: _BotPage | None = None
        self._view: QWebEngineView | None = None
        self._input: ViewInput | None = None
        self._pointer_step = 0
        self._bridge = PageBridge(self)
        self._channel = QWebChannel(self)
        self._channel.registerObject(BRIDGE_OBJECT, self._bridge)
        self._clock = QTimer(self)
        self._clock.setInterval(CLOCK_MS)
        self._clock.timeout.connect(self._on_clock)
        self._started = self._finished = self._closing = False
        self._leaving: Outcome | None = None
        self._load_retried = False
        self._controls_seen = False
        self._cert_errors: list[str] = []
        self._accepted_hosts: set[str] = set()
        self._denied: set[str] = set()
        self._chunks = 0
        self._admitted_at: float | None = None
        self._warned: set[str] = set()
        self._noticed: dict[str, DropCounter] = {}
        self._diagnosing: str | None = None     # the reason of the snapshot being taken
        self._after_diagnostics: Outcome | None = None
        self._failure_diagnosed = False
        self._bridge.chunk_received.connect(self._on_chunk)
        self._bridge.state_reported.connect(self._on_state)
        self._bridge.page_logged.connect(self.log)
        self._bridge.command_finished.connect(self._on_command_done)
        self._bridge.messages_dropped.connect(
            lambda kind, count: self._notice(kind, f"Dropped {count} {kind} from the meeting page", count))
        app = QCoreApplication.instance()
        if app is not None:   # quitting the app closes the page; that is no crash
            app.aboutToQuit.connect(self.close)

    # -- public interface -----------------------------------------------------------------
    def start(self) -> None:
        if self._started:
            raise RuntimeError("a MeetingBot starts once")
        self._started = True
        self._monitor = self._new_monitor()
        page = self._build_page()
        self._emit_phase(LOADING)
        self._clock.start()
        self.log.emit("info", f"Opening the {self.config.platform} meeting page as {self.config.bot_name!r}")
        page.load(QUrl(self.config.join_url))

    def leave(self, outcome: Outcome = completed("STOP_REQUESTED", "Stopped by the user")) -> None:
        """Leave gracefully (click the platform's leave control), then finish with `outcome`:
        a stop, or a failure the recording hit."""
        if self._finished or self._leaving:
            return
        self._conclude(dataclasses.replace(outcome, leave_first=self._monitor.phase in (LOBBY, ADMITTED)))

    def note_audio_activity(self) -> None:
        """Voice activity heard in the meeting audio (keeps the silence timer from firing)."""
        self._monitor.note_activity(time.monotonic())

    def window_region(self) -> tuple[int, int, int, int] | None:
        """The page's area on the screen in physical pixels (x, y, width, height)."""
        view = self._view
        if view is None or not view.isVisible():
            return None
        top_left = view.mapToGlobal(QPoint(0, 0))
        screen = view.screen()
        ratio = screen.devicePixelRatio() if screen else 1.0
        return (round(top_left.x() * ratio), round(top_left.y() * ratio),
                round(view.width() * ratio), round(view.height() * ratio))

    @property
    def phase(self) -> str:
        return self._monitor.phase

    def close(self) -> None:
        """Tear down the page, its window and its profile (leaving the call if still in it)."""
        if self._closing:
            return
        if self._started and not self._finished:
            self._finish(self._leaving or self._after_diagnostics
                         or completed("STOP_REQUESTED", "The bot was closed"))
        self._closing = True
        self._clock.stop()
        for counter in self._noticed.values():
            counter.flush("more of the same")
        view, page, profile = self._view, self._page, self._profile
        self._view = self._page = self._profile = None
        if view is not None:
            view.hide()
            view.deleteLater()
        # One piece per turn of the event loop: torn down at once, view, page and profile
        # hold the window for some 50 ms. The profile goes after its page.
        if page is not None:
            QTimer.singleShot(TEARDOWN_STEP_MS, page, page.deleteLater)
        if profile is not None:
            QTimer.singleShot(2 * TEARDOWN_STEP_MS, profile, profile.deleteLater)

    # -- page set-up ----------------------------------------------------------------------
    def _new_monitor(self) -> MeetingMonitor:
        return MeetingMonitor(self.config.timers, self.config.bot_name, time.monotonic(),
                              guest_email=self._pack.guest_email, load_timeout=PAGE_LOAD_TIMEOUT_S,
                              unexplained_after=self.config.unexplained_after)

    def _build_page(self) -> _BotPage:
        profile = QWebEngineProfile(self)   # no storage name: off the record
        profile.setHttpAcceptLanguage(ACCEPT_LANGUAGE)
        # Platforms turn away browsers they do not know: a current desktop Chrome.
        profile.setHttpUserAgent(CHROME_USER_AGENT)
        page = _BotPage(profile, self, self._notice, self.log.emit, self.config.debug_mode)
        settings = page.settings()
        settings.setAttribute(QWebEngineSettings.WebAttribute.PlaybackRequiresUserGesture, False)
        settings.setAttribute(QWebEngineSettings.WebAttribute.JavascriptCanOpenWindows, False)
        settings.setAttribute(QWebEngineSettings.WebAttribute.FocusOnNavigationEnabled, self.config.debug_mode)
        settings.setUnknownUrlSchemePolicy(QWebEngineSettings.UnknownUrlSchemePolicy.DisallowUnknownUrlSchemes)
        page.setAudioMuted(True)
        scripts = build_page_scripts(self._pack)
        page.scripts().insert(scripts.tap)
        page.scripts().insert(scripts.bridge)
        page.setWebChannel(self._channel, QWebEngineScript.ScriptWorldId.ApplicationWorld)
        page.permissionRequested.connect(self._on_permission)
        page.certificateError.connect(self._on_certificate_error)
        page.loadingChanged.connect(self._on_loading)
        page.renderProcessTerminated.connect(self._on_render_terminated)
        page.renderProcessPidChanged.connect(lower_process)   # and again each second (_on_clock)
        page.urlChanged.connect(self._on_url)
        page.newWindowRequested.connect(
            lambda request: self._notice("pop-up windows", "The meeting page tried to open a new window; refused"))
        profile.downloadRequested.connect(self._refuse_download)
        # What a page may ask of the browser beyond permissions: all of it refused, each kind
        # logged once.
        page.fullScreenRequested.connect(lambda request: self._refuse(request.reject, "full screen"))
        page.registerProtocolHandlerRequested.connect(lambda request: self._refuse(request.reject, "link handling"))
        page.fileSystemAccessRequested.connect(lambda request: self._refuse(request.reject, "file access"))
        page.desktopMediaRequested.connect(lambda request: self._refuse(request.cancel, "screen sharing"))
        page.authenticationRequired.connect(
            lambda url, authenticator: self._notice(
                "sign-in prompts", f"The meeting page asked for a password for {url.host()}; nobody was asked, "
                                   "no password was given"))
        # A profile must outlive its pages; children are deleted in the order they were
        # added, so move the profile behind the page.
        profile.setParent(None)
        profile.setParent(self)
        self._profile, self._page = profile, page
        self._view = self._make_view(page)
        self._input = ViewInput(self._view)
        return page

    def _make_view(self, page: QWebEnginePage) -> QWebEngineView:
        view = QWebEngineView()
        view.setPage(page)
        view.resize(*WINDOW_SIZE)
        view.setWindowTitle(f"Meeting Buddy: {self.config.platform} meeting")
        if not self.config.debug_mode:
            # Rendered on screen (screen capture reads that region) but kept out of the way:
            # no taskbar entry, no focus, below other windows.
            view.setWindowFlags(Qt.WindowType.Tool | Qt.WindowType.FramelessWindowHint
                                | Qt.WindowType.WindowDoesNotAcceptFocus | Qt.WindowType.WindowStaysOnBottomHint)
            view.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        view.show()
        if self.config.debug_mode:
            view.raise_()
        return view

    # -- browser events -------------------------------------------------------------------
    def _on_permission(self, permission: QWebEnginePermission) -> None:
        kind = permission.permissionType()
        if kind == QWebEnginePermission.PermissionType.MediaAudioCapture:
            # The fake, silent microphone: without it some web clients play no remote audio.
            permission.grant()
            if "microphone" not in self._denied:
                self._denied.add("microphone")
                self.log.emit("info", f"Gave {permission.origin().host()} the silent microphone; the bot "
                                      "mutes it in the meeting and never sends a sound")
            return
        permission.deny()
        if kind.name not in self._denied:
            self._denied.add(kind.name)
            self.log.emit("info", f"Refused {kind.name} to {permission.origin().host()}: the bot grants no "
                                  "camera, screen or other browser permission")

    def _refuse(self, refuse: Callable[[], None], what: str) -> None:
        refuse()
        self._notice(f"{what} requests", f"The meeting page asked for {what}; refused")

    def _refuse_download(self, download: QWebEngineDownloadRequest) -> None:
        download.cancel()
        self._notice("downloads", f"The meeting page tried to download {download.downloadFileName()[:200]!r}; refused")

    def _trusted(self, error: QWebEngineCertificateError) -> bool:
        """Only the pinned certificate itself (by fingerprint), never a host name: whoever
        answers for a mapped host with another certificate is refused."""
        chain = error.certificateChain()
        if not chain or not self.config.trusted_certificates:
            return False
        digest = bytes(chain[0].digest(QCryptographicHash.Algorithm.Sha256).toHex().data()).decode("ascii")
        return digest.lower() in self.config.trusted_certificates

    def _on_certificate_error(self, error: QWebEngineCertificateError) -> None:
        host = error.url().host()
        if self._trusted(error):
            error.acceptCertificate()
            if host not in self._accepted_hosts:
                self._accepted_hosts.add(host)
                self.log.emit("warning", f"Demo/test mode: accepting the meeting simulator's certificate for {host}")
            return
        error.rejectCertificate()
        self._cert_errors.append(f"{host}: {error.description()}")
        self.log.emit("error", f"Certificate error for {host}: {error.description()}")

    def _on_url(self, url: QUrl) -> None:
        text = url.toString().lower()
        if not self._finished and any(m in text for m in self._pack.url_markers("sign_in")):
            if self._monitor.phase != ADMITTED:
                self._conclude(failed("SIGN_IN_REQUIRED", "The meeting sent the bot to a sign-in page: "
                                      f"anonymous join is turned off ({url.host()})"))

    def _on_loading(self, info: QWebEngineLoadingInfo) -> None:
        status = info.status()
        if status == QWebEngineLoadingInfo.LoadStatus.LoadStoppedStatus:
            self._after_stopped_load(info.url())
        if self._finished or self._leaving:
            return
        if status == QWebEngineLoadingInfo.LoadStatus.LoadSucceededStatus:
            self._apply(self._monitor.page_loaded(time.monotonic()))
        elif status == QWebEngineLoadingInfo.LoadStatus.LoadFailedStatus:
            self._on_load_failed(info)

    def _after_stopped_load(self, url: QUrl) -> None:
        """A navigation that never happened: a desktop-app link (msteams:, zoommtg:, webex:)
        the page tried to open, which the browser refused. QtWebEngine then stops injecting
        the bot's scripts into the documents that follow, so they are put back."""
        scheme = url.scheme().lower()
        if scheme not in SUBFRAME_SCHEMES:
            self._notice(f"navigations to {scheme}: addresses",
                         f"The meeting page tried to open a {scheme}: address; refused (the bot never leaves "
                         "the web page)")
        if self._page is not None:
            scripts = self._page.scripts()
            injected = scripts.toList()
            for script in injected:
                scripts.remove(script)
            for script in injected:
                scripts.insert(script)

    def _on_load_failed(self, info: QWebEngineLoadingInfo) -> None:
        url = info.url()
        reason = f"{info.errorString() or 'error'} ({info.errorDomain().name} {info.errorCode()})"
        if self._cert_errors:
            reason += f"; certificate: {self._cert_errors[-1]}"
        if self._monitor.phase == ADMITTED:
            self._conclude(failed("NETWORK_LOST", f"The meeting page lost its connection: {reason}"))
            return
        if info.errorDomain() == QWebEngineLoadingInfo.ErrorDomain.HttpStatusCodeDomain:
            # The error page may still be a screen the pack knows (e.g. "meeting not found").
            self._apply(self._monitor.page_loaded(time.monotonic()))
            QTimer.singleShot(HTTP_ERROR_GRACE_MS, self, lambda: self._http_error_timeout(url, reason))
            return
        if not self._load_retried:
            self._load_retried = True
            self.log.emit("warning", f"Could not load {url.toString()}: {reason}; trying once more")
            QTimer.singleShot(LOAD_RETRY_MS, self, lambda: self._retry_load(url))
            return
        self._conclude(failed("PAGE_LOAD_FAILED", f"The meeting page {url.toString()} could not be loaded: {reason}"))

    def _retry_load(self, url: QUrl) -> None:
        if self._page is not None and not self._finished and not self._leaving:
            self._page.load(url)

    def _http_error_timeout(self, url: QUrl, reason: str) -> None:
        if not self._finished and not self._leaving and not self._controls_seen:
            self._conclude(failed("PAGE_LOAD_FAILED", f"The meeting page {url.toString()} answered {reason}"))

    def _on_render_terminated(self, status, exit_code: int) -> None:
        if self._closing or self._finished:
            return
        if self._leaving:   # the page went away while leaving: the leave is done
            self._finish(self._leaving)
            return
        if status == QWebEnginePage.RenderProcessTerminationStatus.NormalTerminationStatus:
            # Only a shutdown ends a renderer normally (e.g. the app quitting mid-meeting).
            self._conclude(failed("INTERRUPTED", "The browser closed the meeting page"))
            return
        self._conclude(failed("BROWSER_CRASHED", f"The meeting page's browser process stopped "
                              f"({status.name}, exit code {exit_code})"))

    # -- page reports ---------------------------------------------------------------------
    def _on_chunk(self, detail: str) -> None:
        if self._finished or self._sink is None or self._monitor.phase != ADMITTED:
            return  # audio before admission (e.g. lobby music) is not the meeting
        try:
            chunk = decode_chunk(detail)
        except ChunkError as exc:
            self._notice("malformed audio chunks", f"Dropped a malformed audio chunk from the page: {exc}")
            return
        self._chunks += 1
        if chunk.samples.size and float(np.sqrt(np.mean(np.square(chunk.samples)))) >= LOUD_RMS:
            self._apply(self._monitor.note_loud_audio(time.monotonic()))
        page_time = None
        if chunk.page_time is not None and abs(chunk.page_time - time.time()) <= PAGE_TIME_TOLERANCE_S:
            page_time = monotonic_from_unix(chunk.page_time)
        try:
            self._sink(chunk.samples, page_time)
        except Exception as exc:  # the sink belongs to the pipeline; the bot carries on
            self._notice("audio chunks the recording refused", f"The audio consumer rejected a chunk: {exc!r}")

    def _notice(self, kind: str, first_message: str, count: int = 1) -> None:
        """The first of a kind is logged as it is; the rest are counted and summed up in the
        log at most once a minute (a page decides how often, never the size of the log)."""
        counter = self._noticed.get(kind)
        if counter is None:
            counter = self._noticed[kind] = DropCounter(kind, self.log.emit, interval=NOTICE_INTERVAL_S)
            counter.reported_elsewhere()
            self.log.emit("warning", first_message)
            count -= 1
        if count > 0:
            counter.drop("more of the same", count)

    def _on_state(self, text: str) -> None:
        if self._finished or self._leaving:
            return
        try:
            state = PageState.from_json(text)
        except PageStateError as exc:
            self._warn_once("state", f"The page observer sent an unreadable report: {exc}")
            return
        if state.name_input is not None or state.join_button or state.flags:
            self._controls_seen = True
        self._apply(self._monitor.observe(state, time.monotonic()))

    def _on_command_done(self, op: str, where: str) -> None:
        if op == "diagnose":
            self._diagnosed(where)
        elif where:
            self._use_control(op, where)
        elif op == "leave" and self._leaving and self._page is not None:
            self.log.emit("warning", "No leave control on screen; closing the meeting page instead")
            self._page.load(QUrl("about:blank"))
            self._finish(self._leaving)

    def _use_control(self, op: str, where: str) -> None:
        """Click (and type into) the control the page driver found, with real input."""
        try:
            found = json.loads(where)
            x, y, what = float(found["x"]), float(found["y"]), str(found["what"])
            text = found.get("type")
        except (ValueError, TypeError, KeyError):
            self._warn_once("command", f"The page driver's answer to {op} was unreadable")
            return
        if self._view is None or self._input is None or not (
                0 <= x <= self._view.width() and 0 <= y <= self._view.height()):
            self._warn_once(f"outside-{op}", f"{op}: {what} is outside the page's window; not clicked")
            return
        self._input.click(x, y)
        if isinstance(text, str):
            self._input.select_all()
            self._input.erase()
            self._input.type_text(text)
        self.log.emit("info", f"{op}: used {what}")

    def _on_clock(self) -> None:
        now = time.monotonic()
        if self._page is not None:
            lower_process(self._page.renderProcessPid(), zygote=False)
        if self._input is not None and self._view is not None and self._monitor.phase in (LOBBY, ADMITTED):
            # Toolbars hide after a few seconds without pointer movement, and with them the
            # leave control and the proof of admission (docs/PLATFORMS.md, "Toolbars hide").
            self._pointer_step = (self._pointer_step + 1) % 2
            self._input.hover(self._view.width() / 2 + 8 * self._pointer_step, self._view.height() / 2)
        if self._admitted_at is not None and not self._chunks and now - self._admitted_at > NO_AUDIO_WARNING_S:
            self._warn_once("no-audio", f"No meeting audio has reached the bot {NO_AUDIO_WARNING_S:g} s after joining")
        self._apply(self._monitor.refresh_speaker(now))   # a pause names nobody
        outcome = self._monitor.check_timers(now)
        if outcome:
            self._conclude(outcome)

    # -- decisions applied ----------------------------------------------------------------
    def _apply(self, step: Step) -> None:
        for level, message in step.notes:
            self.log.emit(level, message)
        if step.phase:
            self._emit_phase(step.phase)
        for name, is_bot in step.joined:
            self.participant_joined.emit(name, is_bot)
        for name in step.left:
            self.participant_left.emit(name)
        if step.speaker is not UNCHANGED:
            self.speaker_changed.emit(step.speaker)
        if step.title:
            self.log.emit("info", f"The meeting page shows the title \u201c{step.title}\u201d")
            self.title_found.emit(step.title)
        for action in step.actions:
            if action["op"] == "reload":
                if self._page is not None:
                    self._page.triggerAction(QWebEnginePage.WebAction.Reload)
            elif action["op"] == "restart":
                if self._page is not None:
                    self._page.load(QUrl(self.config.join_url))
            else:
                self._bridge.send(json.dumps(action))
        if step.diagnose:
            self.capture_diagnostics(step.diagnose)
        if step.outcome:
            self._conclude(step.outcome)

    # -- diagnostics ------------------------------------------------------------------------
    def capture_diagnostics(self, reason: str) -> None:
        """Take a snapshot of the page; `diagnostics_ready` delivers it."""
        if self._page is None or self._diagnosing is not None:
            return
        self._diagnosing = reason
        self._bridge.send(json.dumps({"op": "diagnose"}))
        QTimer.singleShot(DIAGNOSE_TIMEOUT_MS, self, lambda: self._diagnosed(""))

    def _diagnosed(self, report: str) -> None:
        reason, self._diagnosing = self._diagnosing, None
        if reason is None:
            return   # already delivered (the page answered before the timeout, or after it)
        self.diagnostics_ready.emit(PageDiagnostics.from_page(reason, report, self._screenshot()))
        pending, self._after_diagnostics = self._after_diagnostics, None
        if pending is not None:
            self._conclude(pending)

    def _screenshot(self) -> bytes:
        if self._view is None:
            return b""
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        self._view.grab().save(buffer, "PNG")
        buffer.close()
        return bytes(data.data())

    def _emit_phase(self, phase: str) -> None:
        if phase == ADMITTED:
            self._admitted_at = time.monotonic()
        self.phase_changed.emit(phase)

    def _conclude(self, outcome: Outcome) -> None:
        if self._finished or self._leaving or self._after_diagnostics is not None:
            return
        self._monitor.done = True
        if outcome.ending is Ending.FAILED and self._monitor.phase != ADMITTED and self._page is not None \
                and outcome.code != "INTERRUPTED" and not self._failure_diagnosed:
            # A join that failed is what a maintainer needs to see: the page first, then leave.
            self._failure_diagnosed = True
            self._after_diagnostics = outcome
            self.capture_diagnostics(f"the join failed: {outcome.code}")
            if self._diagnosing is not None:
                return
            self._after_diagnostics = None
        if not outcome.leave_first or self._page is None:
            self._finish(outcome)
            return
        self._leaving = outcome
        self.log.emit("info", f"Leaving the meeting: {outcome.message}")
        self._bridge.send(json.dumps({"op": "leave"}))
        QTimer.singleShot(LEAVE_CONFIRM_MS, self, lambda: self._bridge.send(json.dumps({"op": "leave_confirm"})))
        QTimer.singleShot(LEAVE_SETTLE_MS, self, lambda: self._finish(outcome))

    def _finish(self, outcome: Outcome) -> None:
        if self._finished:
            return
        self._finished = True
        self._monitor.done = True
        self._clock.stop()
        level = "info" if outcome.ending is Ending.COMPLETED else "error"
        self.log.emit(level, f"{outcome.ending} ({outcome.code}): {outcome.message}")
        self.finished.emit(outcome)

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            self.log.emit("warning", message)
