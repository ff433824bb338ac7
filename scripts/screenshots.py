"""Screenshots of the desktop window for the docs, in the light and the dark theme.

Run under a display (e.g. after `eval "$(bash scripts/services.sh start)"`):

    QT_QPA_PLATFORM=xcb .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Uses a throw-away data and config folder. The sessions shown run a scripted conversation in
place of the meeting bot, so the pictures are the same on every run; its recording is the
conversation spoken by espeak-ng (needed on the PATH), so the session page really plays it.
Earlier meetings are added to the history for the analytics.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SIZE = (1440, 900)  # a common laptop screen; the session page's header fits its buttons and title
CONVERSATION = (
    ("Alice Johnson", "Good morning everyone, let's get started with the release review."),
    ("Bob Smith", "Morning! The build from last night passed every check."),
    ("Carol Diaz", "Great. I still see two open issues on the export screen."),
    ("Alice Johnson", "Can we fix those before Thursday, or do they move to the next release?"),
    ("Carol Diaz", "One is a label change, that's quick. The other needs a design decision."),
    ("Bob Smith", "I can pair with you on the second one this afternoon."),
    ("Alice Johnson", "Perfect. Then the plan is: label today, design review tomorrow morning."),
    ("Carol Diaz", "Works for me. I'll send the notes after the call."),
)
PARTIAL = ("Bob Smith", "One more thing about the installer, we should")
VOICES = {"Alice Johnson": "en-us+f3", "Bob Smith": "en-gb+m3", "Carol Diaz": "en-us+f4"}
FIRST_LINE_AT = 4.0  # session seconds
PAUSE_S = 1.2  # between two lines
TITLE_ON_PAGE = "Weekly release review"  # what the Teams meeting page shows as its title
# Earlier meetings (weeks ago, minutes, platform, link, title, status), so the analytics have
# weeks to show.
HISTORY = (
    (10, 48, "teams", "https://teams.microsoft.com/meet/29473364113?p=Xk2LpQ", "Weekly release review", "completed"),
    (9, 35, "google_meet", "https://meet.google.com/kmt-rqwe-zxa", "Design sync", "completed"),
    (8, 52, "teams", "https://teams.microsoft.com/meet/29473364113?p=Xk2LpQ", "Weekly release review", "completed"),
    (7, 27, "zoom", "https://us02web.zoom.us/j/845123987?pwd=x", None, "completed"),
    (6, 44, "teams", "https://teams.microsoft.com/meet/29473364113?p=Xk2LpQ", "Weekly release review", "completed"),
    (6, 31, "webex", "https://acme.webex.com/meet/design.review", "Design review", "completed"),
    (5, 0, "google_meet", "https://meet.google.com/kmt-rqwe-zxa", "Design sync", "failed"),
    (4, 58, "teams", "https://teams.microsoft.com/meet/29473364113?p=Xk2LpQ", "Weekly release review", "completed"),
    (3, 39, "google_meet", "https://meet.google.com/kmt-rqwe-zxa", "Design sync", "completed"),
    (2, 46, "teams", "https://teams.microsoft.com/meet/29473364113?p=Xk2LpQ", "Weekly release review", "completed"),
    (2, 22, "zoom", "https://us02web.zoom.us/j/845123987?pwd=x", None, "completed"),
    (1, 51, "teams", "https://teams.microsoft.com/meet/29473364113?p=Xk2LpQ", "Weekly release review", "completed"),
)


@dataclass(frozen=True)
class Line:
    speaker: str
    text: str
    start: float  # session seconds
    end: float


class Conversation:
    """The conversation spoken (16 kHz mono, from session time 0) and its lines' times."""

    def __init__(self, folder: Path) -> None:
        import numpy as np
        from faster_whisper import decode_audio

        from recorder.audio.base import SAMPLE_RATE

        pieces, self.lines, at = [], [], FIRST_LINE_AT
        for n, (speaker, text) in enumerate(CONVERSATION):
            wav = folder / f"line_{n}.wav"
            subprocess.run(["espeak-ng", "-v", VOICES[speaker], "-s", "165", "-w", str(wav), text],
                           check=True, capture_output=True)
            speech = decode_audio(str(wav), sampling_rate=SAMPLE_RATE)
            pieces.append((at, speech))
            self.lines.append(Line(speaker, text, at, at + len(speech) / SAMPLE_RATE))
            at = self.lines[-1].end + PAUSE_S
        self.audio = np.zeros(int(at * SAMPLE_RATE), np.float32)
        for start, speech in pieces:
            first = int(start * SAMPLE_RATE)
            self.audio[first:first + len(speech)] = speech

    def write(self, control, lines: int) -> None:
        """The recording of the first `lines` lines, with the real segment writer."""
        from app.refine import AUDIO_START_KEY, SEGMENT_SECONDS_KEY
        from recorder.audio.base import SAMPLE_RATE, AudioChunk
        from recorder.segments import SegmentWriter

        end = int((self.lines[lines - 1].end + PAUSE_S) * SAMPLE_RATE)
        writer = SegmentWriter(control.output_dir, rotate_seconds=300, video=False)
        control.metadata(**{AUDIO_START_KEY: 0.0, SEGMENT_SECONDS_KEY: 300})
        step = SAMPLE_RATE // 10
        for first in range(0, end, step):
            writer.write_audio(AudioChunk(self.audio[first:min(first + step, end)], first / SAMPLE_RATE))
        writer.close()
        stats = writer.stats()
        control.recording(segment_count=stats.segment_count, audio_file_count=stats.audio_file_count,
                          video_file_count=0, total_size_bytes=stats.total_size_bytes)


class ConversationRunner:
    """Plays a short meeting: people join, speak, and the recording grows."""

    def __init__(self, session, conversation: Conversation, *, lines: int, ending: str | None,
                 fail_with: str | None = None, page_title: str | None = None) -> None:
        self.session = session
        self.conversation = conversation
        self.lines = lines
        self.ending = ending
        self.fail_with = fail_with
        self.page_title = page_title

    async def run(self, control) -> None:
        from app.models import Status

        control.set_status(Status.JOINING)
        control.log("info", "Opening the meeting page")
        await asyncio.sleep(0.05)
        if self.fail_with:
            control.log("info", "Asked to join; waiting in the lobby")
            control.fail(self.fail_with, "The host denied the request to join")
            return
        control.set_status(Status.ACTIVE)
        control.log("info", "Admitted to the meeting")
        if self.page_title:
            control.page_title(self.page_title)  # as the bot reports the title the call shows
        for name in ("Alice Johnson", "Bob Smith", self.session.bot_name):
            control.participant(name, "joined", is_bot=name == self.session.bot_name)
        folder = control.output_dir
        folder.mkdir(parents=True, exist_ok=True)
        control.set_status(Status.RECORDING)
        control.log("info", "Recording started", segment=1)
        for i, line in enumerate(self.conversation.lines[: self.lines]):
            if line.speaker == "Carol Diaz" and i == 2:
                control.participant("Carol Diaz", "joined")
            control.transcript(text=line.text, start_time=line.start, end_time=line.end, is_partial=False,
                               speaker=line.speaker, confidence=0.9)
            await asyncio.sleep(0.01)
        self.conversation.write(control, self.lines)
        if self.ending is None:
            speaker, text = PARTIAL
            at = self.conversation.lines[self.lines - 1].end + PAUSE_S
            control.transcript(text=text, start_time=at, end_time=at + 2.0, is_partial=True, speaker=speaker)
            await control.wait_stop()
            control.set_status(Status.LEAVING)
            control.complete("STOP_REQUESTED")
            return
        control.participant("Bob Smith", "left")
        control.log("info", "Everyone else left; leaving")
        control.complete(self.ending)


class Factory:
    def __init__(self, conversation: Conversation) -> None:
        self.conversation = conversation
        self.next: dict = dict(lines=len(CONVERSATION), ending="MEETING_ENDED")

    def __call__(self, session, link):
        return ConversationRunner(session, self.conversation, **self.next)


def add_history(data_dir: Path) -> None:
    """Earlier meetings, straight into the store before the window opens."""
    from app.links import parse_meeting_link
    from app.models import Session, Status
    from app.store import Store
    from app.timeutil import iso, utc_now

    store = Store(data_dir)
    try:
        for weeks, minutes, platform, link, title, status in HISTORY:
            started = (utc_now() - timedelta(weeks=weeks)).replace(hour=9, minute=30, second=0, microsecond=0)
            session = Session.create(meeting_link=parse_meeting_link(link).normalized_link, platform=platform)
            session.created_at = session.updated_at = iso(started)
            session.status = Status(status)
            if status == "completed":
                session.join_timestamp = iso(started + timedelta(seconds=40))
                session.leave_timestamp = iso(started + timedelta(seconds=40, minutes=minutes))
                session.total_duration_seconds = minutes * 60.0
                session.metadata["end_reason"] = "MEETING_ENDED"
            else:
                session.error_code, session.error_message = "JOIN_DENIED", "The host denied the request to join"
            if title:
                session.metadata["title"] = title
            store.save_session(session)
    finally:
        store.close()


async def last_as_long_as_its_talk(app, session_id: str, conversation: Conversation, lines: int) -> None:
    """A scripted meeting takes a moment; the window shows it as long as its conversation."""
    from app.timeutil import iso, parse_iso

    await settle()  # the session's own last events reach the window first
    session = app.store.get_session(session_id)
    seconds = conversation.lines[lines - 1].end + 3 * PAUSE_S
    session.leave_timestamp = iso(parse_iso(session.join_timestamp) + timedelta(seconds=seconds))
    session.total_duration_seconds = round(seconds, 3)
    app.store.save_session(session)
    app.window.sessions.session_changed(session)


async def settle(seconds: float = 0.4) -> None:
    await asyncio.sleep(seconds)


async def wait_for(condition, timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise RuntimeError("the window did not reach the expected state")


def grab(widget, path: Path) -> None:
    if not widget.grab().save(str(path)):
        raise RuntimeError(f"cannot write {path}")
    print(path)


def grab_dialog_over(window, dialog, path: Path) -> None:
    from PySide6.QtGui import QColor, QPainter

    picture = window.grab()
    painter = QPainter(picture)
    painter.fillRect(picture.rect(), QColor(0, 0, 0, 110))
    shot = dialog.grab()
    painter.drawPixmap((picture.width() - shot.width()) // 2, (picture.height() - shot.height()) // 2, shot)
    painter.end()
    if not picture.save(str(path)):
        raise RuntimeError(f"cannot write {path}")
    print(path)


async def take(app, factory: Factory, out: Path) -> None:
    from app.models import Status
    from ui.prefs import UiPrefs
    from ui.settings_dialog import SettingsDialog

    window = app.window
    window.resize(*SIZE)
    window.show()
    # History: a finished meeting, a short one, and one the bot was not let into.
    for kwargs, link in ((dict(lines=4, ending="LEFT_ALONE"), "https://us02web.zoom.us/j/845123987?pwd=x"),
                         (dict(lines=0, ending=None, fail_with="JOIN_DENIED"), "https://acme.webex.com/meet/design.review"),
                         (dict(lines=len(CONVERSATION), ending="MEETING_ENDED", page_title=TITLE_ON_PAGE),
                          "https://teams.microsoft.com/meet/29473364113?p=Xk2LpQ")):
        factory.next = kwargs
        session = app.start_session(app.default_request(link))
        await wait_for(lambda session=session: app.store.get_session(session.session_id).is_terminal)
        if kwargs["lines"]:
            await last_as_long_as_its_talk(app, session.session_id, factory.conversation, kwargs["lines"])
    finished = session.session_id

    for theme in ("light", "dark"):
        app.apply_prefs(UiPrefs(theme=theme, export_dir=app.prefs.export_dir))
        window.sessions.table.clearSelection()
        window.form.link_edit.clear()
        window.statusBar().clearMessage()
        await settle()
        grab(window, out / f"main-idle-{theme}.png")

        factory.next = dict(lines=6, ending=None)
        window.form.link_edit.setText("https://meet.google.com/abc-defg-hij")
        window.form.start_button.click()
        live = window.page.session_id
        await wait_for(lambda: window.page.transcript.partial_text != "")
        await settle()
        grab(window, out / f"main-live-{theme}.png")
        await app.stop_session(live)
        await wait_for(lambda live=live: app.store.get_session(live).status == Status.COMPLETED.value)
        await last_as_long_as_its_talk(app, live, factory.conversation, factory.next["lines"])
        window.form.link_edit.clear()

        window.select_session(finished)
        await settle()
        grab(window, out / f"main-finished-{theme}.png")
        await grab_reviewing(app, finished, theme, out)
        if theme == "light":
            await grab_notes(app, finished, out / "notes-light.png")

        dialog = SettingsDialog(app, window)
        dialog.tabs.setCurrentIndex(2 if theme == "light" else 1)  # Recording; Transcription
        dialog.show()
        await settle()
        grab_dialog_over(window, dialog, out / f"settings-{theme}.png")
        dialog.reject()


async def grab_reviewing(app, session_id: str, theme: str, out: Path) -> None:
    """Reviewing a finished meeting: playing it from a line, its talk time, the analytics,
    and a search across every meeting."""
    window, page = app.window, app.window.page
    window.select_session(session_id)
    window.statusBar().clearMessage()
    await settle()
    line = app.store.transcripts(session_id)[3]
    page.transcript.lineActivated.emit(line.start_time)  # as a click on the line does
    # Shown once the player has moved on in that line, so its time and marked line are on screen.
    await wait_for(lambda: page.player.playing and page.player.slider.value() > (line.start_time + 1.5) * 1000)
    await settle(0.2)
    grab(window, out / f"session-playback-{theme}.png")
    page.player.pause()

    page.tabs.setCurrentWidget(page.talk_time)
    await settle()
    grab(window, out / f"talk-time-{theme}.png")
    page.tabs.setCurrentWidget(page.transcript)

    window.show_analytics()
    await settle()
    grab(window, out / f"analytics-{theme}.png")

    panel = window.search_panel
    panel.field.setText("design")
    await wait_for(lambda: not panel.searching and panel.result_count > 0)
    first = panel.model.hits[0]
    panel.results.setCurrentIndex(panel.model.index(0, 0))
    window.open_transcript_line(first.session_id, first.transcript_id)  # as a click on the result does
    await settle()
    grab(window, out / f"search-{theme}.png")
    window.search_panel.clear()
    await settle()


async def grab_notes(app, session_id: str, path: Path) -> None:
    """The Notes tab of the finished meeting, with notes stored as a notes job stores them
    and one action item ticked. The notes are written here, to show the layout, and their
    byline says so: no model wrote them."""
    from app.notes.models import ActionItem, MeetingNotes

    lines = app.store.transcripts(session_id)
    app.manager.save_notes(MeetingNotes(
        session_id,
        "The release build passed every check. Two issues remain on the export screen: a label change, "
        "fixed today, and one that needs a design decision, reviewed tomorrow morning.",
        ["Fix the label before Thursday's release", "Hold a design review of the export screen tomorrow morning"],
        [ActionItem("item-1", "Change the label on the export screen", "Carol Diaz", "today",
                    lines[6].transcript_id, done=True),
         ActionItem("item-2", "Pair on the export screen's design question", "Bob Smith", "this afternoon",
                    lines[5].transcript_id),
         ActionItem("item-3", "Send the notes after the call", "Carol Diaz", None, lines[7].transcript_id)],
        ["Does the second export issue move to the next release?"],
        "local", "notes entered for this picture"))
    page = app.window.page
    page.show_session(session_id)
    page.tabs.setCurrentWidget(page.notes)
    app.window.statusBar().clearMessage()
    await settle()
    grab(app.window, path)
    page.tabs.setCurrentWidget(page.transcript)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "docs" / "screenshots"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="mb-screenshots-"))
    os.environ["MEETING_BUDDY_DATA_DIR"] = str(scratch / "data")
    os.environ["MEETING_BUDDY_CONFIG_DIR"] = str(scratch / "config")

    import qasync
    from PySide6.QtWidgets import QApplication

    from app.settings import Settings, save_settings
    from ui.application import Application
    from ui.icons import app_icon

    # The notes shown are stored by grab_notes: no notes job runs after each meeting.
    # Nor does the after-meeting pass: the transcript shown is the one the conversation made.
    save_settings(Settings(notes_auto=False, refine_after_session=False))

    qt_app = QApplication.instance() or QApplication(sys.argv[:1])
    qt_app.setApplicationName("Meeting Buddy")
    qt_app.setWindowIcon(app_icon())
    loop = qasync.QEventLoop(qt_app)
    asyncio.set_event_loop(loop)
    factory = Factory(Conversation(scratch))
    add_history(scratch / "data")
    application = Application(runner_factory=factory)

    async def run() -> None:
        application.start(show=False)
        try:
            await take(application, factory, out)
        finally:
            await application.shutdown()

    with loop:
        loop.run_until_complete(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
