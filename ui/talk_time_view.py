"""A session's talk time: a bar per speaker (their share of the talk) and who spoke when,
from the final transcript (app.talk_time). Live sessions add each final line as it comes."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.export import UNKNOWN_SPEAKER
from app.models import TranscriptSegment
from app.talk_time import TalkTime, talk_time
from ui.charts import Bar, BarChart, Lane, TimelineChart
from ui.formatting import clock
from ui.headings import heading
from ui.transcript_view import MUTED, speaker_color


def _label(speaker: str | None) -> str:
    return speaker or UNKNOWN_SPEAKER


def _color(speaker: str | None):
    return speaker_color(speaker) if speaker else MUTED  # the speaker's colour in the transcript


class TalkTimeView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.chart = BarChart()
        self.timeline = TimelineChart()
        self._headings = [heading("Talk time per speaker"), heading("Who spoke when")]
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 10, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self._headings[0])
        layout.addWidget(self.chart)
        layout.addSpacing(8)
        layout.addWidget(self._headings[1])
        layout.addWidget(self.timeline)
        layout.addStretch(1)
        self._segments: list[TranscriptSegment] = []
        self._seen: set[str] = set()
        self._duration = 0.0
        self.talk: TalkTime = talk_time([])
        self._show()

    def set_segments(self, segments: Iterable[TranscriptSegment], duration: float | None) -> None:
        self._segments = list(segments)
        self._seen = {segment.transcript_id for segment in self._segments}
        self._duration = duration or 0.0
        self._recount()

    def add_event(self, data: dict[str, Any]) -> None:
        """A final "transcript" event; one for a line already read from the store (events
        arrive queued) is left out."""
        if data["transcript_id"] in self._seen:
            return
        self._seen.add(data["transcript_id"])
        self._segments.append(TranscriptSegment(data["transcript_id"], data["session_id"], data["text"],
                                                data["start_time"], data["end_time"], data.get("speaker")))
        self._recount()

    def set_duration(self, duration: float | None) -> None:
        """How long the meeting has lasted: the timeline's length (at least its last speech)."""
        if (duration or 0.0) != self._duration:
            self._duration = duration or 0.0
            self._show()

    def shares(self) -> list[tuple[str, float]]:
        """(speaker, percentage of the talk time) as the chart shows them, the most first."""
        return [(_label(s.speaker), s.percentage) for s in self.talk.speakers]

    def _recount(self) -> None:
        self.talk = talk_time(self._segments)
        self._show()

    def _show(self) -> None:
        talk = self.talk
        spoken = bool(talk.speakers)
        for widget in (self.chart, self.timeline, *self._headings):
            widget.setVisible(spoken)
        if not spoken:
            self.summary.setText("Nobody has been heard yet: talk time shows once the transcript has lines.")
        else:
            text = f"Someone was speaking for {clock(talk.speech_seconds)}"
            if talk.overlap_seconds >= 1:
                text += f", two or more people at once for {clock(talk.overlap_seconds)}"
            self.summary.setText(text + ".")
        self.chart.set_rows([Bar(_label(s.speaker), s.share, f"{clock(s.seconds)} · {s.percentage:.1f}%",
                                 _color(s.speaker)) for s in talk.speakers])
        lanes = [Lane(_label(s.speaker), tuple((span.start, span.end) for span in talk.timeline
                                               if span.speaker == s.speaker), _color(s.speaker))
                 for s in talk.speakers]
        self.timeline.set_lanes(lanes, self._duration)
