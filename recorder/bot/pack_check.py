"""A selector pack checked against a saved meeting page: which landmarks a page shows, and
with which matcher, as the bot would see them — without joining a meeting.

The page (a diagnostics bundle's page.html, or a page saved from a browser) is opened in
an off-the-record QtWebEngine page with the bot's own driver and bridge
(recorder/bot/page_scripts.py), and the driver's `diagnose` answers through the bridge, as
in a session. The page is checked as it was saved: its own scripts do not run (a saved web
client would start over, or fail, and change the screen) and nothing is fetched from the
network (the meeting service is never contacted). Needs a QApplication.
"""
from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, QObject, QTimer, QUrl, Signal
from PySide6.QtWebChannel import QWebChannel
from PySide6.QtWebEngineCore import (
    QWebEnginePage,
    QWebEngineProfile,
    QWebEngineScript,
    QWebEngineSettings,
    QWebEngineUrlRequestInfo,
    QWebEngineUrlRequestInterceptor,
)

from recorder.bot.bridge import PageBridge
from recorder.bot.diagnostics import PageDiagnostics
from recorder.bot.page_scripts import BRIDGE_OBJECT, build_page_scripts
from recorder.bot.selector_pack import SelectorPack

CHECK_TIMEOUT_S = 30.0
# Where a saved page may read from: its own file and its saved resources beside it.
LOCAL_SCHEMES = frozenset({"file", "data", "blob", "qrc", "about"})
# The pre-join screen: what every join needs first.
PREJOIN_LANDMARKS = ("name_input", "join_buttons")


class PackCheckError(Exception):
    """The page could not be opened or did not answer."""


class _Offline(QWebEngineUrlRequestInterceptor):
    def interceptRequest(self, info: QWebEngineUrlRequestInfo) -> None:
        if info.requestUrl().scheme().lower() not in LOCAL_SCHEMES:
            info.block(True)


class PackChecker(QObject):
    """One saved page against one pack: `check(path)`, then `checked` delivers the
    diagnostics (reason "pack check") or `failed` says why there are none."""

    checked = Signal(object)   # PageDiagnostics
    failed = Signal(str)

    def __init__(self, pack: SelectorPack, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._profile = QWebEngineProfile(self)   # no storage name: off the record
        self._interceptor = _Offline(self)
        self._profile.setUrlRequestInterceptor(self._interceptor)
        self._page = QWebEnginePage(self._profile, self)
        settings = self._page.settings()
        # Only the page's own scripts (the main world) are off; the driver runs in the
        # ApplicationWorld.
        settings.setAttribute(QWebEngineSettings.WebAttribute.JavascriptEnabled, False)
        settings.setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls, False)
        self._page.setAudioMuted(True)
        self._page.scripts().insert(build_page_scripts(pack).bridge)   # no audio to tap here
        self._bridge = PageBridge(self)
        self._channel = QWebChannel(self)
        self._channel.registerObject(BRIDGE_OBJECT, self._bridge)
        self._page.setWebChannel(self._channel, QWebEngineScript.ScriptWorldId.ApplicationWorld)
        # A profile must outlive its pages; children are deleted in the order they were
        # added, so move the profile behind the page.
        self._profile.setParent(None)
        self._profile.setParent(self)
        self._page.loadFinished.connect(self._on_loaded)
        self._bridge.state_reported.connect(self._on_bridge_up)
        self._bridge.command_finished.connect(self._on_answer)
        self._timeout = QTimer(self)
        self._timeout.setSingleShot(True)
        self._timeout.timeout.connect(lambda: self._fail("the page did not answer within "
                                                         f"{self._timeout.interval() / 1000:g} s"))
        self._loaded = self._bridge_up = self._asked = self._done = False

    def check(self, path: Path, timeout_s: float = CHECK_TIMEOUT_S) -> None:
        self._timeout.start(round(timeout_s * 1000))
        self._page.load(QUrl.fromLocalFile(str(path.resolve())))

    def _on_loaded(self, ok: bool) -> None:
        if not ok:
            self._fail("the page could not be loaded")
            return
        self._loaded = True
        self._ask()

    def _on_bridge_up(self, _state: str) -> None:
        self._bridge_up = True
        self._ask()

    def _ask(self) -> None:
        # The bridge takes commands once its channel is up (its first report says so), and
        # the answer is only meaningful on the whole page.
        if self._loaded and self._bridge_up and not self._asked:
            self._asked = True
            self._bridge.send(json.dumps({"op": "diagnose"}))

    def _on_answer(self, op: str, report: str) -> None:
        if op != "diagnose" or self._done:
            return
        if not report:
            self._fail("the page driver could not read the page")
            return
        self._done = True
        self._timeout.stop()
        self.checked.emit(PageDiagnostics.from_page("pack check", report, b""))

    def _fail(self, reason: str) -> None:
        if not self._done:
            self._done = True
            self._timeout.stop()
            self.failed.emit(reason)


def check_page(pack: SelectorPack, path: Path, timeout_s: float = CHECK_TIMEOUT_S) -> PageDiagnostics:
    """Blocking form of PackChecker (runs a local Qt event loop until the answer)."""
    if not path.is_file():
        raise PackCheckError(f"no such file: {path}")
    checker = PackChecker(pack)
    loop = QEventLoop()
    answers: list[PageDiagnostics | str] = []   # the diagnostics, or why there are none
    for signal in (checker.checked, checker.failed):
        signal.connect(answers.append)
        signal.connect(loop.quit)
    try:
        checker.check(path, timeout_s)
        if not answers:
            loop.exec()
    finally:
        checker.deleteLater()   # with its page, then its profile
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    answer = answers[0] if answers else "no answer"
    if isinstance(answer, str):
        raise PackCheckError(f"{path}: {answer}")
    return answer
