"""Screenshots of the desktop window for the docs, in the light and the dark theme.

Run under a display (e.g. after `eval "$(bash scripts/services.sh start)"`):

    QT_QPA_PLATFORM=xcb .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Uses a throw-away data and config folder. The sessions shown run a scripted conversation in
place of the meeting bot, so the pictures are the same on every run.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SIZE = (1280, 800)
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


class ConversationRunner:
    """Plays a short meeting: people join, speak, and the recording grows."""

    def __init__(self, session, *, lines: int, ending: str | None, fail_with: str | None = None) -> None:
        self.session = session
        self.lines = lines
        self.ending = ending
        self.fail_with = fail_with

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
        for name in ("Alice Johnson", "Bob Smith", self.session.bot_name):
            control.participant(name, "joined", is_bot=name == self.session.bot_name)
        folder = control.output_dir
        folder.mkdir(parents=True, exist_ok=True)
        control.set_status(Status.RECORDING)
        control.log("info", "Recording started", segment=1)
        at = 4.0
        for i, (speaker, text) in enumerate(CONVERSATION[: self.lines]):
            if speaker == "Carol Diaz" and i == 2:
                control.participant("Carol Diaz", "joined")
            control.transcript(text=text, start_time=at, end_time=at + 5.5, is_partial=False,
                               speaker=speaker, confidence=0.9)
            at += 7.5
            await asyncio.sleep(0.01)
        segments = 1 + self.lines // 4
        for n in range(1, segments + 1):
            (folder / f"audio_{n:04d}.ogg").write_bytes(bytes(180_000))
            (folder / f"video_{n:04d}.mp4").write_bytes(bytes(2_400_000))
        control.recording(segment_count=segments, audio_file_count=segments,
                          video_file_count=segments, total_size_bytes=segments * 2_580_000)
        if self.ending is None:
            speaker, text = PARTIAL
            control.transcript(text=text, start_time=at, end_time=at + 2.0, is_partial=True, speaker=speaker)
            await control.wait_stop()
            control.set_status(Status.LEAVING)
            control.complete("STOP_REQUESTED")
            return
        control.participant("Bob Smith", "left")
        control.log("info", "Everyone else left; leaving")
        control.complete(self.ending)


class Factory:
    def __init__(self) -> None:
        self.next = dict(lines=len(CONVERSATION), ending="MEETING_ENDED")

    def __call__(self, session, link):
        return ConversationRunner(session, **self.next)


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
                         (dict(lines=len(CONVERSATION), ending="MEETING_ENDED"),
                          "https://teams.microsoft.com/meet/29473364113?p=Xk2LpQ")):
        factory.next = kwargs
        session = app.start_session(app.default_request(link))
        await wait_for(lambda session=session: app.store.get_session(session.session_id).is_terminal)
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
        window.form.link_edit.clear()

        window.select_session(finished)
        await settle()
        grab(window, out / f"main-finished-{theme}.png")

        dialog = SettingsDialog(app, window)
        dialog.tabs.setCurrentIndex(2 if theme == "light" else 1)  # Recording; Transcription
        dialog.show()
        await settle()
        grab_dialog_over(window, dialog, out / f"settings-{theme}.png")
        dialog.reject()


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

    from ui.application import Application
    from ui.icons import app_icon

    qt_app = QApplication.instance() or QApplication(sys.argv[:1])
    qt_app.setApplicationName("Meeting Buddy")
    qt_app.setWindowIcon(app_icon())
    loop = qasync.QEventLoop(qt_app)
    asyncio.set_event_loop(loop)
    factory = Factory()
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
