"""Preferences of the window itself (theme, last export folder), kept beside the settings.

They change how the window looks, not what a session does, so they stay out of
`app.settings` (which the command line and the API server also read).
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from app.paths import config_dir

log = logging.getLogger(__name__)

PREFS_FILE = "ui.json"
THEMES = ("system", "light", "dark")


@dataclass
class UiPrefs:
    theme: str = "system"
    export_dir: str | None = None


def prefs_path() -> Path:
    return config_dir() / PREFS_FILE


def load_prefs() -> UiPrefs:
    path = prefs_path()
    try:
        data = json.loads(path.read_text("utf-8")) if path.exists() else {}
    except (OSError, ValueError) as exc:
        log.warning("Window preferences %s were unreadable (%s); using defaults", path, exc)
        return UiPrefs()
    known = {f.name for f in fields(UiPrefs)}
    prefs = UiPrefs(**{k: v for k, v in data.items() if k in known}) if isinstance(data, dict) else UiPrefs()
    if prefs.theme not in THEMES:
        prefs.theme = "system"
    return prefs


def save_prefs(prefs: UiPrefs) -> None:
    path = prefs_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(asdict(prefs), indent=2), "utf-8")
    os.replace(tmp, path)
