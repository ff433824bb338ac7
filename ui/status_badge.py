"""A session's status as a coloured badge: a label widget for headers, a delegate for lists."""
from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import QLabel, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from ui.formatting import STATUS_COLORS, status_label

_PAD_X, _PAD_Y = 8, 2


class StatusBadge(QLabel):
    def __init__(self, status: str = "", parent=None) -> None:
        super().__init__(parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.set_status(status)

    def set_status(self, status: str) -> None:
        self.setProperty("status", status)
        self.setText(status_label(status))
        color = STATUS_COLORS.get(status, "#666666")
        self.setStyleSheet(f"background: {color}; color: white; border-radius: 9px; "
                           f"padding: {_PAD_Y}px {_PAD_X}px; font-weight: 600;")
        self.setVisible(bool(status))


def _bold(font: QFont) -> QFont:
    bold = QFont(font)
    bold.setBold(True)
    return bold


class StatusBadgeDelegate(QStyledItemDelegate):
    """Paints the status text of a cell (Qt.DisplayRole) as a badge, its raw status taken
    from Qt.UserRole + 1."""

    STATUS_ROLE = Qt.ItemDataRole.UserRole + 1

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        style = option.widget.style() if option.widget else None
        if style is not None and option.state & QStyle.StateFlag.State_Selected:
            style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, option.widget)
        status = index.data(self.STATUS_ROLE) or ""
        text = status_label(status)
        font = _bold(option.font)
        metrics = QFontMetrics(font)
        width = metrics.horizontalAdvance(text) + 2 * _PAD_X
        height = metrics.height() + 2 * _PAD_Y
        rect = QRect(option.rect.left() + 6, option.rect.center().y() - height // 2 + 1, width, height)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(STATUS_COLORS.get(status, "#666666")))
        painter.drawRoundedRect(rect, height / 2, height / 2)
        painter.setPen(QColor("white"))
        painter.setFont(font)
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        metrics = QFontMetrics(_bold(option.font))
        text = status_label(index.data(self.STATUS_ROLE) or "")
        return QSize(metrics.horizontalAdvance(text) + 2 * _PAD_X + 16, metrics.height() + 2 * _PAD_Y + 10)
