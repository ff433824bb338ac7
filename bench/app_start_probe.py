"""Starts the desktop application as `meeting-buddy` does (ui.main.run_gui) and, once the
main window is first exposed on screen, prints `shown <time.monotonic()>` and quits the
application the normal way. Used by bench.app_start; needs a display."""
from __future__ import annotations

import argparse
import sys
import time

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QWindow
from PySide6.QtWidgets import QApplication

WINDOW_TITLE = "Meeting Buddy"


class FirstShown(QObject):
    """Notes the first exposure of the main window, then asks the application to quit."""

    def __init__(self) -> None:
        super().__init__()
        self.done = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (not self.done and event.type() == QEvent.Type.Expose and isinstance(watched, QWindow)
                and watched.title() == WINDOW_TITLE and watched.isExposed()):
            self.done = True
            print(f"shown {time.monotonic():.6f}", flush=True)
            QTimer.singleShot(0, self.quit)
        return False

    @staticmethod
    def quit() -> None:
        for widget in QApplication.topLevelWidgets():
            app = getattr(widget, "app", None)
            if app is not None and hasattr(app, "request_quit"):
                app.request_quit(confirm=False)
                return


def main() -> int:
    from recorder.bot.chromium import prepare_qtwebengine_environment
    from ui.main import run_gui

    # run_gui makes the QApplication itself unless one exists; one is made here (after the
    # same set-up) only so that the watcher is in place before the window appears.
    prepare_qtwebengine_environment(None)
    qt_app = QApplication(sys.argv[:1])
    watcher = FirstShown()
    qt_app.installEventFilter(watcher)
    code = run_gui(argparse.Namespace())
    return code if watcher.done else 3


if __name__ == "__main__":
    raise SystemExit(main())
