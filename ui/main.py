"""Starts the desktop application: the Qt application with qasync driving asyncio."""
from __future__ import annotations

import asyncio
import sys


def run_gui(args) -> int:
    from PySide6.QtWidgets import QApplication, QLabel, QMainWindow
    import qasync

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Meeting Buddy")
    window = QMainWindow()
    window.setWindowTitle("Meeting Buddy")
    window.setCentralWidget(QLabel("Meeting Buddy"))
    window.resize(1280, 800)
    window.show()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)
    with loop:
        loop.run_until_complete(closed.wait())
    return 0
