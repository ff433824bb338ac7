"""The meeting bot: one browser page per session that joins a meeting, reports who is there
and who speaks, taps the meeting's audio, and leaves when the meeting is over for it.

Each bot has its own off-the-record browser profile, so sessions share no cookies or
permissions. The page is muted (the user does not hear the meeting twice) and every
camera/microphone/screen permission is denied: the bot can never send anything into the
meeting, and joins with microphone and camera off (the platforms offer "continue without
audio or video" for this, and the selector packs click it).
"""
from __future__ import annotations

import dataclasses
import json
import re
import time
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QCoreApplication, QCryptographicHash, QObject, QPoint, Qt, QTimer, QUrl, Signal
from PySide6.QtWebChannel import QWebChannel
from PySide6.QtWebEngineCore import (
    QWebEngineCertificateError,
    QWebEngineLoadingInfo,
    QWebEnginePage,
    QWebEnginePermission,
    QWebEngineProfile,
    QWebEngineScript,
    QWebEngineSettings,
)
from PySide6.QtWebEngineWidgets import QWebEngineView

from recorder.bot.bridge import PageBridge
from recorder.bot.config import BotConfig, LeaveTimers
from recorder.bot.monitor import ADMITTED, LOADING, LOBBY, PAGE_LOAD_TIMEOUT_S, MeetingMonitor, Step
from recorder.bot.outcome import Ending, Outcome, completed, failed
from recorder.bot.page_scripts import BRIDGE_OBJECT, build_page_scripts
from recorder.bot.page_state import PageState, PageStateError
from recorder.bot.pcm import ChunkError, decode_chunk, monotonic_from_unix
from recorder.bot.roster import UNCHANGED
from recorder.bot.selector_pack import load_pack

__all__ = ["BotConfig", "LeaveTimers", "MeetingBot"]

AudioSink = Callable[[np.ndarray, "float | None"], None]

WINDOW_SIZE = (1280, 720)
CLOCK_MS = 1000                 # leave timers are checked this often
LOAD_RETRY_MS = 2000            # a failed first load is tried once more after this
HTTP_ERROR_GRACE_MS = 5000      # an HTTP error page gets this long to show a known screen
LEAVE_CONFIRM_MS = 1000         # after clicking leave: answer a confirmation dialog
LEAVE_SETTLE_MS = 2500          # then give the page this long to leave the call
NO_AUDIO_WARNING_S = 30.0


class _BotPage(QWebEnginePage):
    """A page that never opens a modal dialog: nobody is there to answer it."""

    def __init__(self, profile: QWebEngineProfile, parent: QObject, report: Callable[[str, str], None],
                 console: bool) -> None:
        super().__init__(profile, parent)
        self._report = report
        self._console = console

    def javaScriptAlert(self, origin, message):
        self._report("info", f"The meeting page said: {message}")

    def javaScriptConfirm(self, origin, message):
        self._report("info", f"The meeting page asked {message!r}; answered yes")
        return True

    def javaScriptPrompt(self, origin, message, default):
        return False, ""

    def javaScriptConsoleMessage(self, level, message, line, source):
        if self._console and level == QWebEnginePage.JavaScriptConsoleMessageLevel.ErrorMessageLevel:
            self._report("warning", f"page console: {message} ({source}:{line})")


class MeetingBot(QObject):
    phase_changed = Signal(str)             # "loading", "prejoin", "lobby", "admitted"
    participant_joined = Signal(str, bool)  # name, is_bot
    participant_left = Signal(str)
    speaker_changed = Signal(object)        # name or None, at the moment of change
    log = Signal(str, str)                  # level ("info"|"warning"|"error"), message
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
        self._drops = {"malformed": 0, "sink": 0}
        self._bridge.chunk_received.connect(self._on_chunk)
        self._bridge.state_reported.connect(self._on_state)
        self._bridge.page_logged.connect(self.log)
        self._bridge.command_finished.connect(self._on_command_done)
        app = QCoreApplication.instance()
        if app is not None:   # quitting the app closes the page; that is no crash
            app.aboutToQuit.connect(self.close)

    # -- public interface -----------------------------------------------------------------
    def start(self) -> None:
        if self._started:
            raise RuntimeError("a MeetingBot starts once")
        self._started = True
        self._monitor = self._new_monitor()
        self._build_page()
        self._emit_phase(LOADING)
        self._clock.start()
        self.log.emit("info", f"Opening the {self.config.platform} meeting page as {self.config.bot_name!r}")
        self._page.load(QUrl(self.config.join_url))

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
            self._finish(self._leaving or completed("STOP_REQUESTED", "The bot was closed"))
        self._closing = True
        self._clock.stop()
        view, page, profile = self._view, self._page, self._profile
        self._view = self._page = self._profile = None
        if view is not None:
            view.hide()
            view.deleteLater()
        if page is not None:
            page.deleteLater()
        if profile is not None:
            profile.deleteLater()   # after its page: deletions run in the order posted

    # -- page set-up ----------------------------------------------------------------------
    def _new_monitor(self) -> MeetingMonitor:
        return MeetingMonitor(self.config.timers, self.config.bot_name, time.monotonic(),
                              guest_email=self._pack.guest_email, load_timeout=PAGE_LOAD_TIMEOUT_S)

    def _build_page(self) -> None:
        profile = QWebEngineProfile(self)   # no storage name: off the record
        profile.setHttpAcceptLanguage("en-US,en")   # the selector packs hold English screen texts
        # Platforms turn away browsers they do not know; present the Chromium this is.
        profile.setHttpUserAgent(re.sub(r"\s*QtWebEngine/\S+", "", profile.httpUserAgent()))
        page = _BotPage(profile, self, self.log.emit, self.config.debug_mode)
        settings = page.settings()
        settings.setAttribute(QWebEngineSettings.WebAttribute.PlaybackRequiresUserGesture, False)
        settings.setAttribute(QWebEngineSettings.WebAttribute.JavascriptCanOpenWindows, False)
        settings.setAttribute(QWebEngineSettings.WebAttribute.FocusOnNavigationEnabled, self.config.debug_mode)
        page.setAudioMuted(True)
        scripts = build_page_scripts(self._pack)
        page.scripts().insert(scripts.tap)
        page.scripts().insert(scripts.bridge)
        page.setWebChannel(self._channel, QWebEngineScript.ScriptWorldId.ApplicationWorld)
        page.permissionRequested.connect(self._on_permission)
        page.certificateError.connect(self._on_certificate_error)
        page.loadingChanged.connect(self._on_loading)
        page.renderProcessTerminated.connect(self._on_render_terminated)
        page.urlChanged.connect(self._on_url)
        # A profile must outlive its pages; children are deleted in the order they were
        # added, so move the profile behind the page.
        profile.setParent(None)
        profile.setParent(self)
        self._profile, self._page = profile, page
        self._view = self._make_view(page)

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
        permission.deny()
        kind = permission.permissionType().name
        if kind not in self._denied:
            self._denied.add(kind)
            self.log.emit("info", f"Denied {kind} to {permission.origin().host()}: the bot grants no "
                                  "browser permission, so it joins with microphone and camera off")

    def _trusted(self, error: QWebEngineCertificateError) -> bool:
        """Only the pinned certificate itself (by fingerprint), never a host name: whoever
        answers for a mapped host with another certificate is refused."""
        chain = error.certificateChain()
        if not chain or not self.config.trusted_certificates:
            return False
        digest = bytes(chain[0].digest(QCryptographicHash.Algorithm.Sha256).toHex()).decode("ascii")
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
        if self._finished or self._leaving:
            return
        status = info.status()
        if status == QWebEngineLoadingInfo.LoadStatus.LoadSucceededStatus:
            self._apply(self._monitor.page_loaded(time.monotonic()))
        elif status == QWebEngineLoadingInfo.LoadStatus.LoadFailedStatus:
            self._on_load_failed(info)

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
            self._count_drop("malformed", f"Dropped a malformed audio chunk from the page: {exc}")
            return
        self._chunks += 1
        page_time = None if chunk.page_time is None else monotonic_from_unix(chunk.page_time)
        try:
            self._sink(chunk.samples, page_time)
        except Exception as exc:  # the sink belongs to the pipeline; the bot carries on
            self._count_drop("sink", f"The audio consumer rejected a chunk: {exc!r}")

    def _count_drop(self, kind: str, message: str) -> None:
        self._drops[kind] += 1
        count = self._drops[kind]
        if count & (count - 1) == 0:   # 1st, 2nd, 4th, 8th ... : visible, never a flood
            self.log.emit("warning", f"{message} ({count} so far)")

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

    def _on_command_done(self, op: str, what: str) -> None:
        if what:
            self.log.emit("info", f"{op}: used {what}")
        elif op == "leave" and self._leaving and self._page is not None:
            self.log.emit("warning", "No leave control on screen; closing the meeting page instead")
            self._page.load(QUrl("about:blank"))
            self._finish(self._leaving)

    def _on_clock(self) -> None:
        now = time.monotonic()
        if self._admitted_at is not None and not self._chunks and now - self._admitted_at > NO_AUDIO_WARNING_S:
            self._warn_once("no-audio", f"No meeting audio has reached the bot {NO_AUDIO_WARNING_S:g} s after joining")
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
        for action in step.actions:
            self._bridge.send(json.dumps(action))
        if step.outcome:
            self._conclude(step.outcome)

    def _emit_phase(self, phase: str) -> None:
        if phase == ADMITTED:
            self._admitted_at = time.monotonic()
        self.phase_changed.emit(phase)

    def _conclude(self, outcome: Outcome) -> None:
        if self._finished or self._leaving:
            return
        self._monitor.done = True
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
