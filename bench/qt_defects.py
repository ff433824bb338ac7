"""A defect of the Qt binding that would end a long benchmark early, found and contained.

PySide6 6.12.0 on Python < 3.12 returns None from many void methods (QTextCursor.insertText,
QTextCharFormat setters, ...) without taking a reference to it, so each call leaves None one
reference short; after enough calls the interpreter aborts with "Fatal Python error:
none_dealloc". Opening a long transcript in the window is enough. The benchmarks that drive
Qt measure whether the defect is present and, if so, give None spare references for the
rest of their process (app.qt_workarounds, as the app does) and report it."""
from __future__ import annotations

import sys

PROBE_CALLS = 200


def none_reference_leak_present() -> bool:
    """Whether a void Qt call leaves None one reference short (needs no QApplication)."""
    from PySide6.QtGui import QTextCharFormat

    fmt = QTextCharFormat()
    before = sys.getrefcount(None)
    for _ in range(PROBE_CALLS):
        fmt.setFontItalic(True)
    return sys.getrefcount(None) - before <= -PROBE_CALLS // 2


def contain_none_reference_leak() -> dict[str, object]:
    """Probes for the defect and gives None spare references if it is present; returns what
    was found, for the benchmark's details."""
    from app.qt_workarounds import keep_singletons_alive

    present = none_reference_leak_present()
    keep_singletons_alive()
    return {"none_refcount_defect": present,
            "note": ("PySide6 leaves None a reference short per void call; without containment "
                     "the process aborts (none_dealloc). Contained by app.qt_workarounds."
                     if present else "not present")}
