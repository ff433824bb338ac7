"""Helpers for test suites that drive QtWebEngine pages against the simulator.

QtWebEngine reads its Chromium flags once per process, when the first QApplication starts,
and pytest-qt keeps one QApplication for the whole session. So every test module that
points a browser at the simulator must use the same port: `session_port()` picks one per
process, `configure_qtwebengine()` sets the flags for it (call it while the test module is
imported, before any QApplication exists), and each module starts its MeetingSimulator on
that port and stops it when done.
"""
from __future__ import annotations

import functools
import os
import socket
from typing import TYPE_CHECKING

from recorder.simulator.hosts import chromium_host_flag, host_resolver_rules

if TYPE_CHECKING:
    from recorder.simulator.server import MeetingSimulator

# The desktop apps' link schemes the meeting pages hand off to (docs/PLATFORMS.md, "Every
# platform": desktop-app links must never leave the page).
DESKTOP_APP_SCHEMES = ("msteams", "zoommtg", "zoomus", "zoomphonecall", "webex", "webexstart", "wbxstart", "wbx")


class QtWebEngineAlreadyStarted(RuntimeError):
    """A QApplication already runs with Chromium flags that do not reach the simulator."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


@functools.cache
def session_port() -> int:
    """One simulator port for this whole process."""
    return free_port()


def chromium_flags_for(port: int) -> str:
    """The Chromium flag that sends every simulated platform host to 127.0.0.1:port."""
    return chromium_host_flag(port)


def configure_qtwebengine(port: int | None = None) -> int:
    """Points QtWebEngine at the simulator on `port` (default: session_port()).

    Before the QApplication exists it sets the environment the way the bot's runtime does;
    afterwards it only checks that the running application already has the mapping.
    Returns the port to start the simulator on.
    """
    from PySide6.QtWidgets import QApplication

    from recorder.bot.chromium import prepare_qtwebengine_environment

    port = session_port() if port is None else port
    if chromium_flags_for(port) in os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", ""):
        return port
    if QApplication.instance() is not None:
        raise QtWebEngineAlreadyStarted(
            "QtWebEngine already started without the simulator's host mapping; call "
            "recorder.simulator.testing.configure_qtwebengine() before the QApplication exists"
        )
    prepare_qtwebengine_environment(host_resolver_rules(port))
    return port


class DesktopAppCatcher:
    """Stands in for the system's handlers of desktop-app links in this process.

    A browser page that lets such a link through hands it to the system (QtWebEngine calls
    QDesktopServices.openUrl); here it reaches the simulator instead, which records a
    `desktop_app_opened {url}` event of no page. A bot that refuses the links leaves none.
    Use as a context manager around the browser runs (a QApplication must exist).
    """

    def __init__(self, simulator: MeetingSimulator) -> None:
        from PySide6.QtCore import QObject, QUrl, Slot
        from PySide6.QtGui import QDesktopServices

        control = simulator.control

        class _Handler(QObject):
            @Slot(QUrl)
            def open(self, url: QUrl) -> None:
                control.note("desktop_app_opened", {"url": url.toString()})

        self._services = QDesktopServices
        self._handler = _Handler()

    def __enter__(self) -> DesktopAppCatcher:
        for scheme in DESKTOP_APP_SCHEMES:
            # PySide takes the slot's name as a str (its stubs say bytes, which it refuses).
            self._services.setUrlHandler(scheme, self._handler, "open")  # type: ignore[arg-type]
        return self

    def __exit__(self, *exc: object) -> None:
        for scheme in DESKTOP_APP_SCHEMES:
            self._services.unsetUrlHandler(scheme)
