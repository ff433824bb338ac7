"""Work-arounds for defects of the Qt binding this release ships with."""
from __future__ import annotations

import ctypes
import sys

import PySide6

_applied = False


def keep_singletons_alive() -> None:
    """PySide6 6.12.0 returns some singletons without taking a reference to them:
    `SignalInstance.emit()` leaves True one reference short, and Qt methods that return
    nothing (`QTextCursor.insertText`, format setters, …) do the same to None. A few hundred
    calls later the interpreter aborts ("Fatal Python error: bool_dealloc" /
    "none_dealloc"). Python 3.12 made these objects immortal; on older Pythons they get as
    many references here, so the missing ones never matter. Idempotent, and harmless where
    the defect is fixed."""
    global _applied
    if _applied or sys.version_info >= (3, 12) or not PySide6.__version__.startswith("6.12."):
        return
    for value in (True, False, None):
        # ob_refcnt is the first field of every CPython object.
        ctypes.c_ssize_t.from_address(id(value)).value += 1 << 40
    _applied = True
