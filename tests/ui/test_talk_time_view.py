"""The talk-time chart and timeline, the editable title and the analytics view, as widgets:
what they show is read from their values (the charts keep what they draw), and each is
painted (grab) to prove it draws without error."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from PySide6.QtCore import Qt

from app.api import analytics
from app.events import SessionEvent
from app.models import Session, Status, TranscriptSegment
from app.talk_time import talk_time
from app.timeutil import iso
from ui.analytics_view import WEEKS, AnalyticsView
from ui.session_page import SessionPage
from ui.talk_time_view import TalkTimeView
from ui.title_edit import TitleEdit
from ui.transcript_view import MUTED, speaker_color

MEET = "https://meet.google.com/abc-defg-hij"


def seg(start: float, end: float, speaker: str | None, text: str = "words", sid: str = "mbsess_v") -> TranscriptSegment:
    return TranscriptSegment.create(sid, text, start, end, speaker=speaker)


def painted(widget) -> bool:
    """The widget paints without error into a picture of its size."""
    widget.resize(max(widget.width(), 480), max(widget.sizeHint().height(), 40))
    image = widget.grab().toImage()
    return not image.isNull() and image.width() > 0


def test_the_chart_shows_each_speakers_share_and_the_timeline_who_spoke_when(qtbot):
    view = TalkTimeView()
    qtbot.addWidget(view)
    segments = [seg(0, 30, "Alice"), seg(25, 40, "Bob"), seg(50, 60, None), seg(60, 70, "Alice")]
    view.set_segments(segments, duration=120)
    view.show()

    assert view.shares() == [("Alice", 61.5), ("Bob", 23.1), ("Unknown speaker", 15.4)]
    assert view.shares() == [(s.speaker or "Unknown speaker", s.percentage) for s in talk_time(segments).speakers]
    rows = view.chart.rows
    assert [row.label for row in rows] == ["Alice", "Bob", "Unknown speaker"]
    assert [round(row.fraction, 3) for row in rows] == [0.615, 0.231, 0.154]
    assert [row.value for row in rows] == ["00:40 · 61.5%", "00:15 · 23.1%", "00:10 · 15.4%"]
    assert rows[0].color == speaker_color("Alice") and rows[2].color == MUTED  # as in the transcript
    assert view.timeline.lanes[0].spans == ((0.0, 30.0), (60.0, 70.0))
    assert view.timeline.lanes[1].spans == ((25.0, 40.0),)
    assert view.timeline.length == 120  # the meeting, longer than its speech
    assert view.summary.text() == "Someone was speaking for 01:00, two or more people at once for 00:05."
    assert painted(view.chart) and painted(view.timeline) and painted(view)


def test_an_empty_transcript_says_nobody_was_heard_and_still_paints(qtbot):
    view = TalkTimeView()
    qtbot.addWidget(view)
    view.set_segments([], duration=None)
    view.show()
    assert view.shares() == [] and view.chart.rows == [] and view.timeline.lanes == []
    assert "Nobody has been heard" in view.summary.text()
    assert not view.chart.isVisible()
    assert painted(view) and painted(view.chart) and painted(view.timeline)


def test_live_lines_add_up_and_a_line_already_read_is_not_counted_twice(qtbot):
    view = TalkTimeView()
    qtbot.addWidget(view)
    first = seg(0, 4, "Alice")
    view.set_segments([first], duration=10)
    event = {"session_id": "mbsess_v", "transcript_id": first.transcript_id, "text": "words", "speaker": "Alice",
             "start_time": 0.0, "end_time": 4.0, "is_partial": False}
    view.add_event(event)  # queued before the store was read
    assert view.shares() == [("Alice", 100.0)]
    view.add_event({**event, "transcript_id": "mbtrans_new", "speaker": "Bob", "start_time": 4.0, "end_time": 8.0})
    assert view.shares() == [("Alice", 50.0), ("Bob", 50.0)]
    view.set_duration(20)
    assert view.timeline.length == 20


def test_the_session_page_counts_talk_time_when_its_tab_is_opened_then_follows(qtbot, store, tmp_path):
    session = Session.create(meeting_link=MEET, platform="google_meet")
    session.transition(Status.JOINING)
    store.save_session(session)
    sid = session.session_id
    store.add_transcript(seg(0, 3, "Alice", sid=sid))
    page = SessionPage(store, lambda s: tmp_path)
    qtbot.addWidget(page)
    page.show()
    assert page.show_session(sid)
    assert page.talk_time.shares() == []  # not read while its tab is hidden
    page.tabs.setCurrentIndex(page.TALK_TIME)
    assert page.tabs.tabText(page.TALK_TIME) == "Talk time"
    assert page.talk_time.shares() == [("Alice", 100.0)]
    page.apply_event(SessionEvent("transcript", sid, {
        "session_id": sid, "transcript_id": None, "text": "par", "speaker": "Bob", "start_time": 3.0,
        "end_time": 4.0, "is_partial": True}))
    assert page.talk_time.shares() == [("Alice", 100.0)]  # partial lines do not count
    said = seg(3, 4, "Bob", sid=sid)
    store.add_transcript(said)
    page.apply_event(SessionEvent("transcript", sid, {**said.to_dict(), "is_partial": False}))
    assert page.talk_time.shares() == [("Alice", 75.0), ("Bob", 25.0)]
    assert painted(page)


def test_the_title_is_edited_in_place(qtbot):
    edit = TitleEdit(point_size=15)
    qtbot.addWidget(edit)
    edit.show()
    renamed: list[str] = []
    edit.renamed.connect(renamed.append)
    edit.show_title("Google Meet · abc-defg-hij")
    assert edit.text() == "Google Meet · abc-defg-hij" and edit.font().bold()

    edit.selectAll()
    qtbot.keyClicks(edit, "  Weekly sync ")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert renamed == ["Weekly sync"]

    edit.show_title("Weekly sync")
    edit.selectAll()
    qtbot.keyClicks(edit, "Oops")
    qtbot.keyClick(edit, Qt.Key.Key_Escape)  # gives the title back, renames nothing
    assert edit.text() == "Weekly sync" and renamed == ["Weekly sync"]

    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Delete)
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert renamed == ["Weekly sync", ""]  # emptied: back to the link's name

    edit.set_editable(False, "A copy")
    assert edit.isReadOnly() and edit.toolTip() == "A copy"


def test_a_copy_from_elsewhere_shows_its_title_but_cannot_be_renamed_here(qtbot, store, tmp_path):
    session = Session.create(meeting_link=MEET, platform="google_meet", metadata={"title": "Their \u202etitle"})
    store.save_session(session, is_remote=True, remote_origin="buddy-b")
    page = SessionPage(store, lambda s: tmp_path)
    qtbot.addWidget(page)
    assert page.show_session(session.session_id)
    assert page.title.text() == "Their title" and page.title.isReadOnly()


def test_the_analytics_view_counts_meetings_and_hours_per_week_as_the_api_does(qtbot, store):
    now = datetime(2025, 12, 17, 12, 0, tzinfo=timezone.utc)  # a Wednesday
    for days_ago, minutes in ((0, 30), (1, 90), (8, 60), (8, None), (200, 45)):
        session = Session.create(meeting_link=MEET, platform="google_meet")
        session.created_at = iso(now - timedelta(days=days_ago))
        session.total_duration_seconds = minutes * 60 if minutes is not None else None
        store.save_session(session)
    view = AnalyticsView(store)
    qtbot.addWidget(view)
    view.refresh(now)
    view.show()

    span = analytics.Span.resolve(now - timedelta(weeks=WEEKS - 1), now, now)
    expected = analytics.trends(store.all_sessions(), analytics.TrendPlan.of(span, "week"))["data"]
    assert view.weeks == expected and len(view.weeks) == WEEKS
    assert [row.value for row in view.meetings.rows][-2:] == ["2", "2"]  # last week, this week
    assert [row.value for row in view.hours.rows][-2:] == ["1.0 h", "2.0 h"]
    assert view.meetings.rows[-1].label == "Week of Dec 15"
    assert view.hours.rows[-1].fraction == 1.0 and view.hours.rows[-2].fraction == 0.5
    assert view.totals == analytics.summary(store.all_sessions())
    assert view.summary.text().startswith("5 meetings · 3.8 h recorded")
    assert painted(view.meetings) and painted(view.hours) and painted(view)
