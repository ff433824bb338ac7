"""What the bot saw of a meeting page when a join failed or the page showed a screen its
selector pack does not know: the picture, the page's HTML, and every landmark of the pack
with the matcher that hit (or none). Scrubbing and storing it is the caller's business."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PageDiagnostics:
    reason: str                              # why it was taken
    url: str = ""
    title: str = ""
    landmarks: dict[str, str | None] = field(default_factory=dict)   # landmark -> matcher or None
    participants: tuple[str, ...] = ()
    html: str = ""                           # without scripts and without typed values
    screenshot_png: bytes = b""

    @classmethod
    def from_page(cls, reason: str, report: str, screenshot_png: bytes) -> PageDiagnostics:
        """From the page driver's JSON report (missing or unreadable parts stay empty)."""
        try:
            data: dict[str, Any] = json.loads(report) if report else {}
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        found = data.get("landmarks")
        landmarks: dict[Any, Any] = found if isinstance(found, dict) else {}
        return cls(
            reason=reason, url=str(data.get("url", "")), title=str(data.get("title", "")),
            landmarks={str(k): None if v is None else str(v) for k, v in landmarks.items()},
            participants=tuple(str(p) for p in data.get("participants") or () if isinstance(p, str)),
            html=str(data.get("html", "")), screenshot_png=screenshot_png)
