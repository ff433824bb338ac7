"""A moving picture for the screen-capture benchmark: `python -m bench.screen_painter`
fills the display with a grid of video-like tiles that change ten times a second, so the
encoder works as it does on a meeting window rather than on a still, black screen.

It runs as a process of its own so its drawing is not counted in the recorder's CPU."""
from __future__ import annotations

import math
import sys
import time

from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import QApplication, QWidget

FPS = 10
COLUMNS, ROWS = 3, 2


class MeetingLikeScreen(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.started = time.monotonic()
        self.setWindowTitle("bench screen")
        self.timer = QTimer(self, interval=1000 // FPS)
        self.timer.timeout.connect(self.update)
        self.timer.start()

    def paintEvent(self, event) -> None:
        t = time.monotonic() - self.started
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(32, 33, 36))
        w, h = self.width() / COLUMNS, self.height() / ROWS
        for i in range(COLUMNS * ROWS):
            x, y = (i % COLUMNS) * w, (i // COLUMNS) * h
            tile = QRectF(x + 8, y + 8, w - 16, h - 16)
            hue = (i * 60 + t * 20) % 360
            painter.fillRect(tile, QColor.fromHsv(int(hue), 90, 110))
            # a "face" that moves a little, as people on camera do
            cx = tile.center().x() + 40 * math.sin(t * 1.3 + i)
            cy = tile.center().y() + 25 * math.cos(t * 0.9 + i)
            painter.setBrush(QColor(230, 190, 160))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawEllipse(QRectF(cx - 60, cy - 75, 120, 150))
            painter.setPen(QColor("white"))
            painter.setFont(QFont("Sans", 14))
            painter.drawText(tile.adjusted(12, 0, 0, -12), Qt.AlignmentFlag.AlignBottom,
                             f"Participant {i + 1}  {t:6.1f}s")
        painter.end()


def main() -> int:
    app = QApplication(sys.argv[:1])
    screen = MeetingLikeScreen()
    # Without a window manager (Xvfb) a full-screen request is not honoured: size it by hand.
    screen.setGeometry(app.primaryScreen().geometry())
    screen.show()
    print("painting", flush=True)
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
