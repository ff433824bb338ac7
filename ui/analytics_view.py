"""Analytics over every stored session: meetings per week and hours recorded, the same
numbers the API serves (app.api.analytics: the summary, and the trends by ISO week)."""
from __future__ import annotations

from datetime import datetime, timedelta

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.api import analytics
from app.store import Store
from app.timeutil import utc_now
from ui.charts import Bar, BarChart
from ui.headings import heading

WEEKS = 12
MEETINGS_COLOR = QColor("#1f6fd1")
HOURS_COLOR = QColor("#2e7d32")


def _hours(value: float) -> str:
    return f"{value:.1f} h"


class AnalyticsView(QWidget):
    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.meetings = BarChart()
        self.hours = BarChart()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(heading("Analytics", point_size=15))
        layout.addWidget(self.summary)
        layout.addSpacing(6)
        layout.addWidget(heading(f"Meetings per week (the last {WEEKS} weeks)"))
        layout.addWidget(self.meetings)
        layout.addSpacing(6)
        layout.addWidget(heading("Hours recorded per week"))
        layout.addWidget(self.hours)
        layout.addStretch(1)
        self.weeks: list[dict] = []  # the trend points shown, oldest first
        self.totals: dict = {}

    def refresh(self, now: datetime | None = None) -> None:
        """Reads every session and counts again."""
        now = now or utc_now()
        sessions = self.store.all_sessions()
        plan = analytics.TrendPlan.of(analytics.Span.resolve(now - timedelta(weeks=WEEKS - 1), now, now), "week")
        self.totals = analytics.summary(sessions)
        self.weeks = analytics.trends(sessions, plan)["data"]
        totals = self.totals
        self.summary.setText(
            f"{totals['session_count']} meeting{'s' if totals['session_count'] != 1 else ''} · "
            f"{_hours(totals['total_duration_hours'])} recorded · "
            f"{totals['avg_duration_minutes']:.0f} min on average · "
            f"{totals['completed_count']} completed, {totals['failed_count']} failed")
        labels = [f"Week of {start.strftime('%b')} {start.day}" for start in plan.periods]
        most_meetings = max((week["session_count"] for week in self.weeks), default=0) or 1
        most_hours = max((week["total_duration_hours"] for week in self.weeks), default=0) or 1
        self.meetings.set_rows([Bar(label, week["session_count"] / most_meetings, str(week["session_count"]),
                                    MEETINGS_COLOR) for label, week in zip(labels, self.weeks)])
        self.hours.set_rows([Bar(label, week["total_duration_hours"] / most_hours,
                                 _hours(week["total_duration_hours"]), HOURS_COLOR)
                             for label, week in zip(labels, self.weeks)])
