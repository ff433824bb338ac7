"""Mouse and keyboard input delivered to the bot's browser view as Qt input events.

Chromium turns them into the same trusted events a person's hands make (`isTrusted` is true),
so pages that ignore script-made clicks and typing (Google Meet does; Zoom keeps Join
disabled for a script-set name) see a person. The page driver only says where a control is.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QKeyEvent, QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

_NO_BUTTON = Qt.MouseButton.NoButton
_LEFT = Qt.MouseButton.LeftButton
_NO_MODIFIER = Qt.KeyboardModifier.NoModifier


class ViewInput:
    def __init__(self, view: QWidget) -> None:
        self._view = view

    def _target(self) -> QWidget:
        # QtWebEngine renders into a child widget that receives the input.
        return self._view.focusProxy() or self._view

    def _mouse(self, kind: QEvent.Type, x: float, y: float, button: Qt.MouseButton,
               buttons: Qt.MouseButton) -> None:
        target = self._target()
        local = QPointF(x, y)
        screen = QPointF(target.mapToGlobal(QPoint(round(x), round(y))))
        QApplication.sendEvent(target, QMouseEvent(kind, local, screen, button, buttons, _NO_MODIFIER))

    def hover(self, x: float, y: float) -> None:
        """Move the pointer to (x, y) without pressing anything."""
        self._mouse(QEvent.Type.MouseMove, x, y, _NO_BUTTON, _NO_BUTTON)

    def click(self, x: float, y: float) -> None:
        """Move to (x, y) in the view's coordinates and click with the left button."""
        self._mouse(QEvent.Type.MouseMove, x, y, _NO_BUTTON, _NO_BUTTON)
        self._mouse(QEvent.Type.MouseButtonPress, x, y, _LEFT, _LEFT)
        self._mouse(QEvent.Type.MouseButtonRelease, x, y, _LEFT, _NO_BUTTON)

    def _key(self, key: int, text: str = "", modifiers: Qt.KeyboardModifier = _NO_MODIFIER) -> None:
        target = self._target()
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(target, QKeyEvent(kind, key, modifiers, text))

    def select_all(self) -> None:
        self._key(Qt.Key.Key_A, "", Qt.KeyboardModifier.ControlModifier)

    def erase(self) -> None:
        self._key(Qt.Key.Key_Backspace)

    def type_text(self, text: str) -> None:
        for char in text:
            if char.isascii() and char.isalnum():
                key = ord(char.upper())
            elif char == " ":
                key = Qt.Key.Key_Space
            else:
                key = 0   # Chromium takes the character from the event's text
            self._key(key, char)
