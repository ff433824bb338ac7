"""Headings set through the font, not a style sheet, so they follow a theme change."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel


def heading(text: str = "", *, point_size: float | None = None) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setBold(True)
    if point_size is not None:
        font.setPointSizeF(point_size)
    label.setFont(font)
    return label
