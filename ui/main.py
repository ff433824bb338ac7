"""The `meeting-buddy` launcher: the command line, whose default (no command) opens the
desktop window — handed to a running Meeting Buddy if there is one, else a new window with
qasync driving asyncio on the Qt event loop."""
from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Sequence
from typing import cast


def _has_display() -> bool:
    if sys.platform != "linux":
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
                or os.environ.get("QT_QPA_PLATFORM") in ("offscreen", "minimal", "vnc"))


def main(argv: Sequence[str] | None = None) -> int:
    from app.cli import main as cli_main

    return cli_main(argv, open_window=run_gui)


def run_gui(args: argparse.Namespace) -> int:
    from app.qt_workarounds import keep_singletons_alive
    from app.single_instance import send_to_running_instance

    keep_singletons_alive()
    if send_to_running_instance({"action": "show"}):
        return 0  # the running window came to the front
    if not _has_display():
        print("meeting-buddy: error: no display to open the window on; use "
              "`meeting-buddy join --headless URL` or `meeting-buddy serve`", file=sys.stderr)
        return 1
    from recorder.bot.chromium import prepare_qtwebengine_environment

    prepare_qtwebengine_environment(None)

    import qasync
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from app.errors import MeetingBuddyError
    from ui.application import Application
    from ui.icons import app_icon

    qt_app = cast("QApplication | None", QApplication.instance()) or QApplication(sys.argv[:1])
    qt_app.setApplicationName("Meeting Buddy")
    qt_app.setDesktopFileName("meeting-buddy")
    qt_app.setWindowIcon(app_icon())
    qt_app.setQuitOnLastWindowClosed(False)  # the tray keeps sessions reachable
    loop = qasync.QEventLoop(qt_app)
    asyncio.set_event_loop(loop)

    try:
        application = Application()
    except MeetingBuddyError as exc:
        QMessageBox.critical(None, "Meeting Buddy cannot start", exc.message)
        return 1
    if not application.owns_data_folder:
        application.core.close()
        QMessageBox.critical(
            None, "Meeting Buddy is already running",
            f"Another Meeting Buddy (perhaps `meeting-buddy serve`) is using the data folder "
            f"{application.root}. Stop it first, or use its API.")
        return 1

    # Ctrl+C and SIGTERM quit gracefully: the bots leave and transcripts are saved. Python
    # runs signal handlers only between bytecodes, so a timer wakes it up regularly.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: QTimer.singleShot(0, lambda: application.request_quit(confirm=False)))
    wake = QTimer(interval=300)
    wake.timeout.connect(lambda: None)
    wake.start()

    application.start()
    with loop:
        loop.run_forever()
        if not application.closed:  # ended by the desktop session, not by Quit
            loop.run_until_complete(application.shutdown())
    return 0
