"""Icons shipped under resources/icons (SVG, drawn for Meeting Buddy)."""
from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon

ICONS_DIR = Path(__file__).resolve().parent.parent / "resources" / "icons"

TRAY_STATES = ("idle", "joining", "recording")


@cache
def _icon(name: str) -> QIcon:
    path = ICONS_DIR / f"{name}.svg"
    if not path.is_file():
        raise FileNotFoundError(f"missing icon {path}")
    return QIcon(str(path))


def app_icon() -> QIcon:
    return _icon("app")


def tray_icon(state: str) -> QIcon:
    if state not in TRAY_STATES:
        raise ValueError(f"tray state must be one of {TRAY_STATES}")
    return _icon(f"tray-{state}")


def platform_icon(platform: str) -> QIcon:
    return _icon(f"platform-{platform}")
