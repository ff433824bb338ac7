"""Where the bot's data lives: injected scripts and selector packs under `resources/`."""
from __future__ import annotations

from pathlib import Path

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
BOT_SCRIPTS = RESOURCES / "bot"
SELECTOR_PACKS = RESOURCES / "selectors"


def read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")
