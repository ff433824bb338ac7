"""Light and dark looks: Qt's Fusion style with a matching palette, or the system's own."""
from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

_system_style: str | None = None


def _dark_palette() -> QPalette:
    p = QPalette()
    window, base, text = QColor("#1f2125"), QColor("#16181b"), QColor("#e6e6e6")
    disabled = QColor("#7c7f86")
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: QColor("#23262b"),
        QPalette.ColorRole.ToolTipBase: QColor("#2b2e34"),
        QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.PlaceholderText: disabled,
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: QColor("#2b2e34"),
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.BrightText: QColor("#ff6b6b"),
        QPalette.ColorRole.Link: QColor("#7aa7ff"),
        QPalette.ColorRole.Highlight: QColor("#4f6fd8"),
        QPalette.ColorRole.HighlightedText: QColor("#ffffff"),
        QPalette.ColorRole.Light: QColor("#3a3d44"),
        QPalette.ColorRole.Midlight: QColor("#30333a"),
        QPalette.ColorRole.Mid: QColor("#26292e"),
        QPalette.ColorRole.Dark: QColor("#111214"),
        QPalette.ColorRole.Shadow: QColor("#000000"),
    }
    for role, color in roles.items():
        p.setColor(role, color)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText,
                 QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return p


def apply_theme(app: QApplication, theme: str) -> None:
    """theme: "system" (the platform's style), "light" or "dark" (Fusion)."""
    global _system_style
    if _system_style is None:
        _system_style = app.style().name()
    if theme == "system":
        app.setStyle(QStyleFactory.create(_system_style))
        app.setPalette(app.style().standardPalette())
    else:
        app.setStyle(QStyleFactory.create("Fusion"))
        app.setPalette(_dark_palette() if theme == "dark" else app.style().standardPalette())
    # Widgets with a style sheet keep the colours of their last polish: polish them again.
    for widget in app.allWidgets():
        if widget.styleSheet():
            widget.setStyleSheet(widget.styleSheet())
