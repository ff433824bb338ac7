"""A session's transcript as it is spoken: final segments with time and speaker, the current
partial greyed at the end until its final replaces it. Follows the newest line until the user
scrolls up; search highlights every match. A click on a line asks to play the recording from
there, and the line being played is marked and kept in view. Once renaming is allowed, a
line's context menu offers to rename its speaker (all their lines follow)."""
from __future__ import annotations

import bisect
import itertools
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QMouseEvent, QTextBlockFormat, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QMenu, QPushButton, QTextEdit, QVBoxLayout, QWidget

from app.models import TranscriptSegment
from ui.formatting import clock

MUTED = QColor("#8a8d93")
SPEAKER_COLORS = ("#3b82f6", "#d97706", "#059669", "#db2777", "#7c3aed", "#0891b2", "#65a30d",
                  "#dc2626")
PLAYED = QColor(31, 111, 209, 40)  # the background of the line being played
_BOTTOM_SLACK = 4  # pixels from the end that still count as "at the newest line"
LOAD_BATCH = 50  # stored lines laid out per event-loop turn: a long meeting opens without a freeze


def speaker_color(name: str) -> QColor:
    return QColor(SPEAKER_COLORS[zlib.crc32(name.encode()) % len(SPEAKER_COLORS)])


class TranscriptView(QWidget):
    lineActivated = Signal(float)  # a final line was clicked: its start, session seconds
    speakerRenameRequested = Signal(str)  # "Rename speaker…" on a line of this speaker

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Search the transcript")
        self.search_edit.setClearButtonEnabled(True)
        self.match_label = QLabel()
        self.match_label.setStyleSheet("color: #8a8d93;")
        self.follow_button = QPushButton("Jump to latest ↓")
        self.follow_button.hide()
        self.revision_label = QLabel()  # says when the transcript is not the live one
        self.revision_label.setStyleSheet("color: #2e7d32; font-weight: 600;")
        self.revision_label.hide()
        self.behind_label = QLabel()  # says when the live transcript is running behind
        self.behind_label.setStyleSheet("color: #b45309; font-weight: 600;")
        self.behind_label.setToolTip("Transcription is catching up: partial lines pause until it has. "
                                     "Whatever the live transcript leaves out is transcribed after the "
                                     "meeting.")
        self.behind_label.hide()
        self.text = QTextEdit()
        self.text.setReadOnly(True)
        self.text.setUndoRedoEnabled(False)
        self.text.document().setDocumentMargin(10)

        bar = QHBoxLayout()
        bar.addWidget(self.revision_label)
        bar.addWidget(self.behind_label)
        bar.addWidget(self.search_edit, 1)
        bar.addWidget(self.match_label)
        bar.addWidget(self.follow_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.text, 1)

        self._seen: set[str] = set()
        self._unloaded: Iterator[TranscriptSegment] | None = None  # stored lines still to show
        self._held: list[dict[str, Any]] = []  # live events that arrived while loading
        self._load_generation = 0
        self._partial_start: int | None = None
        self._partial_text = ""
        self._final_count = 0
        self._line_starts: list[float] = []  # final lines in document order, by start
        self._line_blocks: list[int] = []  # their block numbers
        self._line_speakers: list[str | None] = []  # and speakers
        self._speakers_renamable = False
        self._played_block: int | None = None
        self._follow = True
        self._block_of: dict[str, int] = {}  # final lines' block numbers, by transcript id
        self._reveal_pending: str | None = None  # a line to show once the stored lines are laid out
        self._matches: list[QTextCursor] = []
        self._match_index = -1
        self._search_timer = QTimer(self, singleShot=True, interval=150)
        self._search_timer.timeout.connect(self._highlight)

        self.text.viewport().installEventFilter(self)
        self.text.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.text.customContextMenuRequested.connect(
            lambda pos: self.context_menu(pos).exec(self.text.viewport().mapToGlobal(pos)))
        bar_scroll = self.text.verticalScrollBar()
        bar_scroll.valueChanged.connect(self._scrolled)
        self.follow_button.clicked.connect(self.follow_latest)
        self.search_edit.textChanged.connect(lambda _: self._search_timer.start())
        self.search_edit.returnPressed.connect(self.next_match)

    # -- content -----------------------------------------------------------------------------

    def clear(self, placeholder: str = "") -> None:
        self.text.clear()
        self.text.setPlaceholderText(placeholder)
        self._seen.clear()
        self._unloaded, self._held = None, []
        self._load_generation += 1
        self._partial_start = None
        self._partial_text = ""
        self._final_count = 0
        self._line_starts, self._line_blocks, self._line_speakers, self._played_block = [], [], [], None
        self._block_of.clear()
        self._reveal_pending = None
        self.follow_latest()

    def set_segments(self, segments: Iterable[TranscriptSegment], placeholder: str) -> None:
        """Shows the stored lines, a batch per event-loop turn (a lazy iterable is read as
        it is shown)."""
        self.clear(placeholder)
        self._unloaded = iter(segments)
        self._load_batch(self._load_generation)

    @property
    def loading(self) -> bool:
        return self._unloaded is not None

    def _load_batch(self, generation: int) -> None:
        if generation != self._load_generation:
            return  # another session was shown meanwhile
        assert self._unloaded is not None
        batch = list(itertools.islice(self._unloaded, LOAD_BATCH))
        cursor = QTextCursor(self.text.document())
        cursor.beginEditBlock()  # one layout pass for the batch, not one per line
        for seg in batch:
            if seg.transcript_id not in self._seen:
                self._append_final(seg.transcript_id, seg.start_time, seg.speaker, seg.text)
        cursor.endEditBlock()
        if len(batch) == LOAD_BATCH:
            QTimer.singleShot(0, lambda: self._load_batch(generation))
        else:
            self._unloaded = None
            held, self._held = self._held, []
            for data in held:
                self.add_event(data)
        self._after_change()
        if self._reveal_pending is not None and (self._reveal_pending in self._block_of or not self.loading):
            self.reveal(self._reveal_pending)

    def add_event(self, data: dict[str, Any]) -> None:
        """A "transcript" event: a partial replaces the previous partial; a final replaces
        the partial and stays."""
        if self._unloaded is not None:
            self._held.append(data)  # after the stored lines, in order
            return
        if not data.get("is_partial") and data.get("transcript_id") in self._seen:
            return  # already loaded from the store
        self._remove_partial()
        if data.get("is_partial"):
            self._append_partial(data["start_time"], data.get("speaker"), data["text"])
        else:
            self._append_final(data["transcript_id"], data["start_time"], data.get("speaker"), data["text"])
        self._after_change()

    def set_revision(self, label: str) -> None:
        """Marks a transcript that replaced the live one ("refined:<model>")."""
        kind, _, model = label.partition(":")
        refined = kind == "refined"
        self.revision_label.setVisible(refined)
        if refined:
            self.revision_label.setText(f"✓ Improved after the meeting ({model})")
            self.revision_label.setToolTip("The recording was transcribed again after the meeting. The live "
                                           "transcript is kept: Improve transcript ▸ Show the live transcript.")

    def set_behind(self, seconds: float | None) -> None:
        """Shows how far the live transcript is behind the meeting (hidden when it is not)."""
        behind = bool(seconds and seconds > 0)
        self.behind_label.setVisible(behind)
        if behind:
            self.behind_label.setText(f"⏱ Live transcript {seconds:.0f} s behind")

    @property
    def revision(self) -> str | None:
        """The marker's text, None for the live transcript."""
        return self.revision_label.text() if not self.revision_label.isHidden() else None

    @property
    def partial_text(self) -> str:
        return self._partial_text

    @property
    def final_count(self) -> int:
        return self._final_count

    def plain_text(self) -> str:
        return self.text.toPlainText()

    # -- inside: the document ----------------------------------------------------------------

    def _new_block(self) -> QTextCursor:
        cursor = QTextCursor(self.text.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        if not self.text.document().isEmpty():
            block = QTextBlockFormat()
            block.setTopMargin(6)
            cursor.insertBlock(block, QTextCharFormat())
        return cursor

    def _write_line(self, cursor: QTextCursor, start: float, speaker: str | None, text: str,
                    *, partial: bool) -> None:
        stamp = QTextCharFormat()
        stamp.setForeground(MUTED)
        stamp.setFontFixedPitch(True)
        cursor.insertText(f"{clock(start)}  ", stamp)
        if speaker:
            who = QTextCharFormat()
            who.setFontWeight(QFont.Weight.Bold)
            who.setForeground(MUTED if partial else speaker_color(speaker))
            cursor.insertText(f"{speaker}  ", who)
        body = QTextCharFormat()
        if partial:
            body.setForeground(MUTED)
            body.setFontItalic(True)
            text += " …"
        cursor.insertText(text, body)

    def _append_final(self, transcript_id: str, start: float, speaker: str | None, text: str) -> None:
        self._seen.add(transcript_id)
        cursor = self._new_block()
        self._line_starts.append(start)
        self._line_blocks.append(cursor.blockNumber())
        self._line_speakers.append(speaker)
        self._write_line(cursor, start, speaker, text, partial=False)
        self._block_of[transcript_id] = self.text.document().blockCount() - 1
        self._final_count += 1

    def _append_partial(self, start: float, speaker: str | None, text: str) -> None:
        end = QTextCursor(self.text.document())
        end.movePosition(QTextCursor.MoveOperation.End)
        self._partial_start = end.position()
        self._partial_text = text
        self._write_line(self._new_block(), start, speaker, text, partial=True)

    def _remove_partial(self) -> None:
        if self._partial_start is None:
            return
        cursor = QTextCursor(self.text.document())
        cursor.setPosition(self._partial_start)
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        self._partial_start = None
        self._partial_text = ""

    def _after_change(self) -> None:
        if self._follow:
            bar = self.text.verticalScrollBar()
            bar.setValue(bar.maximum())
        if self.search_edit.text():
            self._search_timer.start()

    # -- following the newest line -----------------------------------------------------------

    @property
    def following(self) -> bool:
        return self._follow

    def follow_latest(self) -> None:
        self._follow = True
        bar = self.text.verticalScrollBar()
        bar.setValue(bar.maximum())
        self.follow_button.hide()

    def showEvent(self, event) -> None:  # the scroll range is only known once laid out
        super().showEvent(event)
        if self._follow:
            QTimer.singleShot(0, self.follow_latest)

    def _scrolled(self, value: int) -> None:
        bar = self.text.verticalScrollBar()
        self._follow = value >= bar.maximum() - _BOTTOM_SLACK
        self.follow_button.setVisible(not self._follow)

    # -- playback ----------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """A click on a final line (not the end of a drag that selected text) activates it."""
        if (watched is self.text.viewport() and isinstance(event, QMouseEvent)
                and event.type() == QEvent.Type.MouseButtonRelease and event.button() == Qt.MouseButton.LeftButton
                and not self.text.textCursor().hasSelection()):
            line = self._line_at(event.position().toPoint())
            if line is not None:
                self.lineActivated.emit(self._line_starts[line])
        return super().eventFilter(watched, event)

    def _line_at(self, pos: QPoint) -> int | None:
        """The final line at viewport position `pos`, if any."""
        block = self.text.cursorForPosition(pos).blockNumber()
        line = bisect.bisect_left(self._line_blocks, block)
        return line if line < len(self._line_blocks) and self._line_blocks[line] == block else None

    # -- renaming speakers -------------------------------------------------------------------

    def set_speakers_renamable(self, renamable: bool) -> None:
        """Whether lines offer "Rename speaker…" (a finished session recorded here)."""
        self._speakers_renamable = renamable

    def context_menu(self, pos: QPoint) -> QMenu:
        """The text's usual menu at viewport position `pos`, with "Rename speaker…" for the
        speaker of the line there when renaming is allowed."""
        menu = self.text.createStandardContextMenu(self.text.viewport().mapToParent(pos))
        line = self._line_at(pos)
        speaker = self._line_speakers[line] if line is not None else None
        if speaker and self._speakers_renamable:
            menu.addSeparator()
            action = menu.addAction(f"Rename speaker \u201c{speaker}\u201d\u2026")
            action.triggered.connect(lambda: self.speakerRenameRequested.emit(speaker))
        return menu

    def highlight_at(self, seconds: float | None) -> None:
        """Marks the line spoken at session time `seconds` (the last one begun by then) and
        scrolls it into view; None marks none."""
        line = bisect.bisect_right(self._line_starts, seconds) - 1 if seconds is not None else -1
        block = self._line_blocks[line] if line >= 0 else None
        if block == self._played_block:
            return
        for number, background in ((self._played_block, None), (block, PLAYED)):
            if number is None:
                continue
            cursor = QTextCursor(self.text.document().findBlockByNumber(number))
            fmt = cursor.blockFormat()
            if background is None:
                fmt.clearBackground()
            else:
                fmt.setBackground(background)
            cursor.setBlockFormat(fmt)
        self._played_block = block
        if block is not None:
            self._show_block(block)

    def _show_block(self, number: int) -> None:
        doc = self.text.document()
        area = doc.documentLayout().blockBoundingRect(doc.findBlockByNumber(number))
        bar = self.text.verticalScrollBar()
        height = self.text.viewport().height()
        if area.top() < bar.value() or area.bottom() > bar.value() + height:
            bar.setValue(round(area.top() - height / 3))  # some of what was said before stays in view

    @property
    def played_line(self) -> str | None:
        """The text of the line marked as being played."""
        if self._played_block is None:
            return None
        return self.text.document().findBlockByNumber(self._played_block).text()

    # -- showing one line (a search result) -------------------------------------------------

    def reveal(self, transcript_id: str) -> bool:
        """Selects the final line `transcript_id` and scrolls it into view, now or, while the
        stored lines are still being laid out, once it is. False when the transcript shown
        has no such line."""
        block = self._block_of.get(transcript_id)
        if block is None:
            self._reveal_pending = transcript_id if self.loading else None
            return self.loading
        self._reveal_pending = None
        self._follow = False  # new lines must not scroll it away
        line = self.text.document().findBlockByNumber(block)
        cursor = QTextCursor(line)
        cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock, QTextCursor.MoveMode.KeepAnchor)
        self.text.setTextCursor(cursor)
        self._center(block)
        QTimer.singleShot(0, lambda: self._center(block))  # again once laid out and shown
        return True

    def _center(self, block: int) -> None:
        line = self.text.document().findBlockByNumber(block)
        if not line.isValid():
            return
        self.text.ensureCursorVisible()
        top = self.text.cursorRect(QTextCursor(line)).top()
        bar = self.text.verticalScrollBar()
        bar.setValue(bar.value() + top - self.text.viewport().height() // 3)  # what was said before stays in view

    @property
    def selected_line(self) -> str:
        """The text of the line the cursor is on (the one a search result showed)."""
        return self.text.textCursor().block().text()

    # -- search ------------------------------------------------------------------------------

    def _highlight(self) -> None:
        needle = self.search_edit.text().strip()
        self._matches = []
        if needle:
            doc = self.text.document()
            cursor = doc.find(needle, 0)
            while not cursor.isNull():
                self._matches.append(cursor)
                cursor = doc.find(needle, cursor)
        marks = []
        for match in self._matches:
            mark = QTextEdit.ExtraSelection()
            mark.cursor = match
            mark.format.setBackground(QColor(255, 200, 0, 110))
            marks.append(mark)
        self.text.setExtraSelections(marks)
        self._match_index = -1
        if needle:
            count = len(self._matches)
            self.match_label.setText("No match" if not count else f"{count} match{'es' if count > 1 else ''}")
        else:
            self.match_label.clear()

    def next_match(self) -> None:
        if self._search_timer.isActive():  # the search text changed: find again first
            self._search_timer.stop()
            self._highlight()
        if not self._matches:
            return
        self._match_index = (self._match_index + 1) % len(self._matches)
        found = QTextCursor(self._matches[self._match_index])
        self.text.setTextCursor(found)
        self.text.ensureCursorVisible()

    @property
    def match_count(self) -> int:
        return len(self._matches)

