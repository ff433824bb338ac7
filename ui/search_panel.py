"""Search across every meeting: a field, and the matching transcript lines ranked best first,
each with its meeting, when it was said and who said it, and a snippet of the line with the
matched words marked. Activating a result asks to open that session at that line.

The search runs off the GUI thread (the store reads it through a connection of its own), a
moment after typing stops; an answer to an older query than the one in the field is dropped.
Text from meetings is only ever laid out as plain text: the match is marked with character
formats, never with markup."""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRectF,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QKeyEvent, QPainter, QPalette, QTextCharFormat, QTextCursor, QTextDocument
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QLineEdit,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from app.errors import MeetingBuddyError
from app.search import SearchHit, SearchPage
from app.store import Store
from app.titles import session_title
from ui.formatting import clock, local_time, platform_name

RESULT_LIMIT = 50
TYPING_PAUSE_MS = 250
MATCH_BACKGROUND = QColor(255, 200, 0, 150)
MATCH_TEXT = QColor("#1a1a1a")  # on the match's yellow, in both themes and on a selected row
MUTED = QColor("#8a8d93")
HIT_ROLE = Qt.ItemDataRole.UserRole


class SearchResultsModel(QAbstractListModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.hits: list[SearchHit] = []
        self.titles: dict[str, str] = {}

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.hits)

    def set_hits(self, hits: list[SearchHit], titles: dict[str, str]) -> None:
        self.beginResetModel()
        self.hits, self.titles = list(hits), titles
        self.endResetModel()

    def heading(self, hit: SearchHit) -> str:
        parts = [self.titles.get(hit.session_id, platform_name(hit.platform)), local_time(hit.session_created_at),
                 clock(hit.start_time)]
        if hit.speaker:
            parts.append(hit.speaker)
        return " · ".join(parts)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        hit = self.hits[index.row()]
        if role == HIT_ROLE:
            return hit
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{self.heading(hit)}\n{hit.snippet}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return hit.text
        return None


def result_document(heading: str, hit: SearchHit, font: QFont, text_color: QColor,
                    heading_color: QColor = MUTED) -> QTextDocument:
    """The heading (muted) over the snippet, plain text, the matched words marked."""
    doc = QTextDocument()
    doc.setDefaultFont(font)
    doc.setDocumentMargin(6)
    cursor = QTextCursor(doc)
    head = QTextCharFormat()
    head.setForeground(heading_color)
    small = QFont(font)
    small.setPointSizeF(max(6.0, font.pointSizeF() * 0.9))
    head.setFont(small)
    cursor.insertText(heading, head)
    cursor.insertBlock()
    body = QTextCharFormat()
    body.setForeground(text_color)
    mark = QTextCharFormat(body)
    mark.setForeground(MATCH_TEXT)
    mark.setBackground(MATCH_BACKGROUND)
    mark.setFontWeight(QFont.Weight.Bold)
    at = 0
    for start, end in hit.highlights:
        cursor.insertText(hit.snippet[at:start], body)
        cursor.insertText(hit.snippet[start:end], mark)
        at = end
    cursor.insertText(hit.snippet[at:], body)
    return doc


class ResultDelegate(QStyledItemDelegate):
    def _document(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex,
                  width: int) -> QTextDocument:
        model = index.model()
        hit: SearchHit = index.data(HIT_ROLE)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        color = option.palette.color(role)
        doc = result_document(model.heading(hit) if isinstance(model, SearchResultsModel) else "", hit,
                              option.font, color, color if selected else MUTED)
        doc.setTextWidth(max(80, width))
        return doc

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        self.initStyleOption(option, index)
        rect = option.rect
        style = option.widget.style() if option.widget else None
        option.text = ""
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, option.widget)
        doc = self._document(option, index, rect.width())
        painter.save()
        painter.translate(rect.topLeft())
        doc.drawContents(painter, QRectF(0, 0, rect.width(), rect.height()))
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        self.initStyleOption(option, index)
        widget = option.widget
        width = widget.viewport().width() if isinstance(widget, QAbstractItemView) else 320
        doc = self._document(option, index, width)
        return QSize(width, int(doc.size().height()) + 2)


class SearchPanel(QWidget):
    resultActivated = Signal(str, str)   # session id, transcript id
    activeChanged = Signal(bool)         # a query is in the field (results are shown)
    _answered = Signal(int, object)      # from the search thread: generation, SearchPage or error

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.field = QLineEdit()
        self.field.setPlaceholderText("Search all meetings")
        self.field.setClearButtonEnabled(True)
        self.field.setToolTip("Every word must occur in a line; \"quoted words\" as a phrase; word* for every "
                              "word it begins. Case and accents do not matter.")
        self.status = QLabel()
        self.status.setStyleSheet("color: #8a8d93;")
        self.status.setWordWrap(True)
        self.model = SearchResultsModel(self)
        self.results = QListView()
        self.results.setModel(self.model)
        self.results.setItemDelegate(ResultDelegate(self.results))
        self.results.setWordWrap(True)
        self.results.setUniformItemSizes(False)
        self.results.setResizeMode(QListView.ResizeMode.Adjust)
        self.results.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.results.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.results.setAccessibleName("Search results")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.field)
        layout.addWidget(self.status)
        layout.addWidget(self.results, 1)
        self.status.hide()
        self.results.hide()

        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="meeting-buddy-search")
        self._generation = 0
        self._shown_query: str | None = None  # the query the results are for
        self._active = False
        self._timer = QTimer(self, singleShot=True, interval=TYPING_PAUSE_MS)
        self._timer.timeout.connect(self.search_now)
        self._answered.connect(self._show)
        self.field.textChanged.connect(self._typed)
        self.field.returnPressed.connect(self._enter)
        self.field.installEventFilter(self)
        self.results.clicked.connect(self._activate)
        self.results.activated.connect(self._activate)

    # -- what the window asks ------------------------------------------------------------------

    @property
    def query(self) -> str:
        return self.field.text().strip()

    @property
    def active(self) -> bool:
        return self._active

    @property
    def searching(self) -> bool:
        """A search for the text in the field is pending or running."""
        return bool(self.query) and (self._timer.isActive() or self._shown_query != self.query)

    @property
    def result_count(self) -> int:
        return self.model.rowCount()

    def focus(self) -> None:
        self.field.setFocus()
        self.field.selectAll()

    def refresh(self) -> None:
        """Search again (the transcripts changed)."""
        if self.query:
            self._shown_query = None
            self.search_now()

    def clear(self) -> None:
        self.field.clear()

    # -- searching -----------------------------------------------------------------------------

    def _typed(self, _text: str) -> None:
        active = bool(self.query)
        if active != self._active:
            self._active = active
            self.results.setVisible(active)
            self.status.setVisible(active)
            self.activeChanged.emit(active)
        if active:
            self.status.setText("Searching…")
            self._timer.start()
        else:
            self._timer.stop()
            self._generation += 1  # whatever is still running answers nobody
            self._shown_query = None
            self.model.set_hits([], {})

    def search_now(self) -> None:
        self._timer.stop()
        query = self.query
        if not query:
            return
        self._generation += 1
        generation = self._generation

        def run() -> SearchPage | None:
            if generation != self._generation:
                return None  # typed on meanwhile: not worth running
            return self.store.search(query, limit=RESULT_LIMIT)

        def answer(done: Future) -> None:  # on the search thread: queued to the GUI thread
            try:
                self._answered.emit(generation, done)
            except RuntimeError:  # the panel is gone (the window closed meanwhile)
                pass

        self._pool.submit(run).add_done_callback(answer)

    def _show(self, generation: int, done: Future) -> None:
        if generation != self._generation:
            return
        try:
            page = done.result()
        except MeetingBuddyError as exc:
            self._shown_query = self.query
            self.model.set_hits([], {})
            self.status.setText(exc.message)
            return
        except Exception as exc:  # the store is gone (the window is closing) or failed
            self._shown_query = self.query
            self.model.set_hits([], {})
            self.status.setText(f"The search failed: {type(exc).__name__}")
            return
        if page is None:
            return
        self._shown_query = page.query
        self.model.set_hits(page.data, self._titles(page.data))
        count = len(page.data)
        if not count:
            self.status.setText("No line matches.")
        else:
            more = "+" if page.has_more else ""
            self.status.setText(f"{count}{more} line{'s' if count > 1 or more else ''}, best match first")
            self.results.setCurrentIndex(self.model.index(0, 0))
            self.results.scrollToTop()

    def _titles(self, hits: list[SearchHit]) -> dict[str, str]:
        titles = {}
        for session_id in {hit.session_id for hit in hits}:
            session = self.store.get_session(session_id)
            if session is not None:
                titles[session_id] = session_title(session)
        return titles

    # -- opening a result ------------------------------------------------------------------------

    def _activate(self, index: QModelIndex) -> None:
        hit = index.data(HIT_ROLE) if index.isValid() else None
        if isinstance(hit, SearchHit):
            self.resultActivated.emit(hit.session_id, hit.transcript_id)

    def activate_row(self, row: int) -> None:
        self._activate(self.model.index(row, 0))

    def _enter(self) -> None:
        """Enter in the field: search now, or open the chosen result when these are its results."""
        if self._shown_query == self.query and self.result_count:
            self._activate(self.results.currentIndex())
        else:
            self.search_now()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Down and Up in the field move through the results; Escape clears the field."""
        if watched is self.field and event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up) and self.result_count:
                row = self.results.currentIndex().row() + (1 if key == Qt.Key.Key_Down else -1)
                self.results.setCurrentIndex(self.model.index(max(0, min(row, self.result_count - 1)), 0))
                return True
            if key == Qt.Key.Key_Escape and self.field.text():
                self.field.clear()
                return True
        return super().eventFilter(watched, event)
