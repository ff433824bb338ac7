"""Small charts drawn with QPainter: labelled horizontal bars, and lanes of time spans (who
spoke when). Each keeps what it draws as plain values (`rows`, `lanes`), so what a chart
shows can be read without looking at pixels."""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

from ui.formatting import clock

ROW_HEIGHT = 24
LANE_HEIGHT = 18
GAP = 8
MAX_LABEL_WIDTH = 180


@dataclass(frozen=True)
class Bar:
    label: str
    fraction: float  # of the longest possible bar, 0 to 1
    value: str  # what the bar stands for, written beside it
    color: QColor


@dataclass(frozen=True)
class Lane:
    label: str
    spans: tuple[tuple[float, float], ...]  # (start, end) in seconds
    color: QColor


def _track(widget: QWidget) -> QColor:
    color = QColor(widget.palette().color(QPalette.ColorRole.Mid))
    color.setAlpha(70)
    return color


def _label_width(widget: QWidget, labels: list[str]) -> int:
    metrics = QFontMetrics(widget.font())
    # Two pixels of room: elidedText may cut a text given exactly its rounded advance.
    widest = max((metrics.horizontalAdvance(label) + 2 for label in labels), default=0)
    return min(widest, MAX_LABEL_WIDTH, max(60, widget.width() // 3))


class BarChart(QWidget):
    """One bar per row: its label, the bar, and the value it stands for."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[Bar] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_rows(self, rows: list[Bar]) -> None:
        self.rows = list(rows)
        self.setToolTip("\n".join(f"{row.label}: {row.value}" for row in self.rows))
        self.setAccessibleDescription(self.toolTip())
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(320, max(1, len(self.rows)) * ROW_HEIGHT)

    def minimumSizeHint(self) -> QSize:
        return QSize(160, self.sizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        metrics = painter.fontMetrics()
        label_w = _label_width(self, [row.label for row in self.rows])
        value_w = max((metrics.horizontalAdvance(row.value) for row in self.rows), default=0)
        left = label_w + GAP
        track_w = max(1.0, self.width() - left - value_w - GAP)
        text = self.palette().color(QPalette.ColorRole.WindowText)
        for number, row in enumerate(self.rows):
            top = number * ROW_HEIGHT
            middle = QRectF(0, top, self.width(), ROW_HEIGHT)
            painter.setPen(text)
            painter.drawText(QRectF(0, top, label_w, ROW_HEIGHT),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                             metrics.elidedText(row.label, Qt.TextElideMode.ElideRight, label_w))
            bar = QRectF(left, middle.center().y() - 7, track_w, 14)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(_track(self))
            painter.drawRoundedRect(bar, 3, 3)
            painter.setBrush(row.color)
            painter.drawRoundedRect(QRectF(bar.left(), bar.top(), track_w * min(1.0, max(0.0, row.fraction)),
                                           bar.height()), 3, 3)
            painter.setPen(text)
            painter.drawText(QRectF(left + track_w + GAP, top, value_w, ROW_HEIGHT),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, row.value)
        painter.end()


class TimelineChart(QWidget):
    """One lane per row; each span of the lane drawn where it falls between 0 and `length`
    seconds, with the times along the bottom."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lanes: list[Lane] = []
        self.length = 0.0
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_lanes(self, lanes: list[Lane], length: float) -> None:
        self.lanes = list(lanes)
        self.length = max(0.0, length, *(end for lane in self.lanes for _, end in lane.spans))
        self.updateGeometry()
        self.update()

    def _axis_height(self) -> int:
        return self.fontMetrics().height() + 4

    def sizeHint(self) -> QSize:
        return QSize(320, max(1, len(self.lanes)) * (LANE_HEIGHT + 4) + self._axis_height())

    def minimumSizeHint(self) -> QSize:
        return QSize(160, self.sizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        metrics = painter.fontMetrics()
        label_w = _label_width(self, [lane.label for lane in self.lanes])
        left = label_w + GAP
        track_w = max(1.0, self.width() - left - GAP)
        scale = track_w / self.length if self.length > 0 else 0.0
        text = self.palette().color(QPalette.ColorRole.WindowText)
        for number, lane in enumerate(self.lanes):
            top = number * (LANE_HEIGHT + 4)
            painter.setPen(text)
            painter.drawText(QRectF(0, top, label_w, LANE_HEIGHT),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                             metrics.elidedText(lane.label, Qt.TextElideMode.ElideRight, label_w))
            painter.fillRect(QRectF(left, top, track_w, LANE_HEIGHT), _track(self))
            for start, end in lane.spans:
                # At least a pixel wide: a short word stays visible in a long meeting.
                painter.fillRect(QRectF(left + start * scale, top + 2, max(1.0, (end - start) * scale),
                                        LANE_HEIGHT - 4), lane.color)
        axis_top = len(self.lanes) * (LANE_HEIGHT + 4)
        painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
        for share, align, offset in ((0.0, Qt.AlignmentFlag.AlignLeft, 0), (0.5, Qt.AlignmentFlag.AlignHCenter, -40),
                                     (1.0, Qt.AlignmentFlag.AlignRight, -80)):
            x = left + share * track_w
            painter.drawLine(round(x), axis_top, round(x), axis_top + 3)
            painter.drawText(QRectF(x + offset, axis_top + 3, 80, self._axis_height()),
                             align | Qt.AlignmentFlag.AlignTop, clock(share * self.length))
        painter.end()
