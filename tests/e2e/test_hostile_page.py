"""A hostile meeting page cannot hurt the user (the simulator's `hostile` scenario).

The real application runs one whole session in its window — the real bot, SessionManager,
recorder, faster-whisper and SQLite — against Google Meet's imitation with the page's own
hostile script (resources/simulator/hostile/): forged and oversized tap events, hooks on the
built-ins the audio tap could call, a cross-origin frame whose signed messages the page
replays and forges, names of 1 MB and of markup, dialogs in a loop, pop-ups, downloads, other
schemes, every permission, a spinning CPU and console floods, while Alice and Mallory (shown
under a hostile name) speak. Then what reached the user is checked where the user meets it:
the files, the transcript, the log, the store, every export parsed back, and the window.

The after-meeting pass is off: the live transcript is the one under test."""
from __future__ import annotations

import asyncio
import json
import re
import time
import unicodedata
from pathlib import Path

from markdown_it import MarkdownIt
from PySide6.QtCore import QStandardPaths, QTimer
from PySide6.QtWidgets import QApplication, QDialog

from app.export import FORMATS, export_transcript, participant_names, srt_text
from app.models import Status
from app.sessions import MAX_NAME, StartRequest, clean_untrusted
from app.settings import Settings
from recorder.segments import probe_segments
from recorder.simulator.scenario import load_scenario
from tests.app.test_export import assert_inert_markdown, md_talk_time, md_unescape, open_docx, parse_srt, parse_vtt
from tests.e2e.test_e2e_sessions import recall, words
from ui.application import Application

SCENARIO = load_scenario("hostile")
# The forged speech's own words ("transfer", "offshore", ...), not the small ones anyone says.
FORGED_WORDS = {w for w in words(SCENARIO.hostile.forged_speech) if len(w) > 4} - set(
    words(" ".join(u.text for u in SCENARIO.speech)))
MAX_LOG_LINES = 150        # a quiet session logs about 40; the page must not add thousands
MAX_LINES_PER_KIND = 3     # the first of a kind, then a sum once a minute and at the end
STALL_BOUND_S = 1.0        # generous: the speed target is in bench/gui_stall.py
# What the page does, and (a pattern of) the words the log says it was refused with.
REFUSALS = {
    "download": "tried to download",
    "pop-up": "tried to open a new window",
    "dialog": "The meeting page (showed a message|asked .*; answered)",
    "file: navigation": "open a file: address",
    "data: navigation": "open a data: address",
    "msteams: navigation": "open a msteams: address",
    "zoommtg: navigation": "open a zoommtg: address",
    "mailto: navigation": "open a mailto: address",
    "ms-settings: navigation": "open a ms-settings: address",
    "file chooser": "asked to choose a file",
    "screen sharing": "asked for screen sharing",
    "link handling": "asked for link handling",
    "password prompt": "asked for a password",
    "camera": "Refused MediaVideoCapture",
    "location": "Refused Geolocation",
    "notifications": "Refused Notifications",
    "clipboard": "Refused ClipboardReadWrite",
}
DROPS = {
    "posted by the page itself": "frame messages posted by the page itself",
    "replayed": "replayed frame messages",
    "forged": "forged frame messages",
    "oversized": "oversized frame messages",
    "unsigned": "unsigned frame messages",
    "over the rate limit": "frame messages over the rate limit",
}
DOWNLOADED = ("invoice.exe", "blob-invoice.exe", "data-invoice.exe", "meeting-buddy-hostile-")


def unsafe_characters(text: str) -> list[str]:
    """Control, format (bidi, zero-width), surrogate, private-use and unassigned characters."""
    return [f"U+{ord(ch):04X}" for ch in text if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn")]


class Watch:
    """While the session runs: every dialog or extra browser window that showed on the screen,
    and, once the bot is in the meeting (where the page attacks), how long the window's event
    loop went without running a 50 ms timer."""

    def __init__(self) -> None:
        from PySide6.QtWebEngineWidgets import QWebEngineView

        self.view_type = QWebEngineView
        self.longest_gap = 0.0
        self.longest_at = 0.0
        self.started = time.monotonic()
        self.in_meeting = False
        self.dialogs: set[str] = set()
        self.browser_windows = 0
        self._last = time.monotonic()
        self.timer = QTimer(interval=50)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        now = time.monotonic()
        if self.in_meeting and now - self._last > self.longest_gap:
            self.longest_gap, self.longest_at = now - self._last, now - self.started
        self._last = now
        shown = [w for w in QApplication.topLevelWidgets() if w.isVisible()]
        self.dialogs |= {f"{type(w).__name__}: {w.windowTitle()}" for w in shown if isinstance(w, QDialog)}
        self.browser_windows = max(self.browser_windows, sum(isinstance(w, self.view_type) for w in shown))

    def stop(self) -> None:
        self.timer.stop()


def downloads_folder() -> set[str]:
    folder = Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DownloadLocation))
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def test_a_hostile_page_cannot_hurt_the_user(sim, loop, qtbot, tmp_path):
    before = downloads_folder()
    app = Application(settings=Settings(segment_seconds=10, refine_after_session=False),
                      trusted_certificates=frozenset({sim.cert_fingerprint}))
    app.start()
    watch = Watch()

    async def session() -> str:
        watch.started = time.monotonic()
        sid = app.start_session(StartRequest(sim.example_link("google_meet", scenario="hostile"))).session_id
        app.window.select_session(sid)
        deadline = time.monotonic() + 240
        while not (current := app.manager.get(sid)).is_terminal:
            assert time.monotonic() < deadline, "the session did not end"
            watch.in_meeting = current.status in (Status.ACTIVE, Status.RECORDING)
            await asyncio.sleep(0.2)
        watch.stop()
        app.window.select_session(sid)  # the finished session, as a user opens it
        while app.window.page.transcript.loading:
            await asyncio.sleep(0.05)
        return sid

    try:
        sid = loop.run_until_complete(session())
        result = app.manager.get(sid)
        events = sim.control.events
        assert result.status == "completed" and result.metadata["end_reason"] == "MEETING_ENDED", result

        # The page really attacked: hooks in place, the frame's messages read, the roster shown.
        tried = {e.type for e in events()}
        assert {"hostile_hooks_installed", "frame_message_sniffed", "hostile_names", "speaker_renamed",
                "cpu_burning"} <= tried, f"the attacks did not all run: {sorted(tried)}"
        raw_names = events("hostile_names")[0].data["names"] + [events("speaker_renamed")[0].data["name"]]

        # -- what it got: no secret, no channel, no pop-up, no download, no password ---------
        assert not events("tap_secret_caught"), [e.data for e in events("tap_secret_caught")]
        assert all(not e.data["found"] for e in events("channel_probe")), [e.data for e in events("channel_probe")]
        assert len(events("channel_probe")) >= 2  # from the page and from its frame
        assert not events("popup_opened"), [e.data for e in events("popup_opened")]
        assert events("download_started") and not events("download_completed"), \
            [e.type for e in events() if e.type.startswith("download")]
        assert not any(e.data["credentials_given"] for e in events("auth_answered"))
        assert not {name for name in downloads_folder() - before if name.startswith(DOWNLOADED)}
        assert not watch.dialogs, watch.dialogs
        assert watch.browser_windows <= 1, "a page opened a browser window of its own"
        granted = {e.data["name"]: e.data["detail"] for e in events("permission_result") if e.data["outcome"] == "granted"}
        assert {"camera", "screen", "geolocation", "notifications", "clipboard_read", "midi"}.isdisjoint(granted), granted
        assert "Fake" in granted.get("microphone", ""), granted     # Chromium's silent fake device
        assert not events("navigation_escaped") and not events("hostile_error"), \
            [e.data for e in events() if e.type in ("navigation_escaped", "hostile_error")]

        # -- the window held: a CPU-burning, dialog-looping page is in its own renderer ------
        assert watch.longest_gap < STALL_BOUND_S, \
            f"the window stalled {watch.longest_gap:.2f} s, {watch.longest_at:.1f} s after the session started"

        # -- the recording: whole files, the real speakers' words, nothing forged ---------------
        files = probe_segments(app.folder_of(result))
        audio = [f for f in files if f.kind == "audio"]
        assert audio and [f for f in files if f.kind == "video"], files
        assert all(f.error is None for f in files), [f for f in files if f.error]
        assert sum(f.duration_seconds for f in audio) > 15, audio
        lines = [(t.speaker, t.text) for t in app.store.transcripts(sid)]
        heard = " ".join(text for _, text in lines)
        for said in SCENARIO.speech:
            assert recall(said.text, heard) >= 0.6, (said.text, lines)
        assert not FORGED_WORDS & set(words(heard)), lines
        assert "forged" not in heard.lower(), lines

        # -- the log: one line per kind of refusal and drop, not one per message ---------------
        log = [entry.message for entry in app.store.logs(sid)]
        assert len(log) <= MAX_LOG_LINES, f"{len(log)} log lines:\n" + "\n".join(log)
        for kind, pattern in {**REFUSALS, **{f"dropped {k}": v for k, v in DROPS.items()}}.items():
            found = [m for m in log if re.search(pattern, m)]
            assert 1 <= len(found) <= MAX_LINES_PER_KIND, (kind, found, log)
        for message in log:
            assert "FORGED" not in message and "owned" not in message, message
            assert not unsafe_characters(message), message

        # -- the store: names normalised, each hostile name kept as text ------------------------
        stored = [e["participant_name"] for e in result.participant_history] + list(result.current_participants)
        speakers = {speaker for speaker, _ in lines if speaker}
        for name in [*stored, *speakers, *(n for _, n in app.store.speaker_changes(sid) if n)]:
            assert len(name) <= MAX_NAME and not unsafe_characters(name), repr(name[:80])
        expected = {clean_untrusted(raw, MAX_NAME) for raw in raw_names}
        assert expected <= set(stored), expected - set(stored)
        mallory = clean_untrusted(events("speaker_renamed")[0].data["name"], MAX_NAME)
        assert mallory in speakers, speakers
        hostile = sorted(expected)

        # -- every export, written and read back: the names are text in each format -------------
        segments = app.store.transcripts(sid)
        written = {}
        for fmt in FORMATS:
            path = tmp_path / f"transcript.{FORMATS[fmt].extension}"
            path.write_bytes(export_transcript(result, segments, fmt))
            written[fmt] = path.read_bytes()
        check_exports(written, result, hostile, mallory)

        # -- the window shows the raw names as plain text -----------------------------------------
        page = app.window.page
        history = {who for who, _ in page.participants.history_rows()}
        assert set(hostile) <= {who.removesuffix(" (bot)") for who in history}, history
        shown = page.transcript.plain_text()
        assert mallory in shown, shown
        document = page.transcript.text.toHtml()
        assert "<b>Mallory</b>" not in document and "&lt;b&gt;Mallory&lt;/b&gt;" in document
        assert any("tried to download" in line for line in page.log.visible_lines())
    finally:
        watch.stop()
        loop.run_until_complete(app.shutdown())


def check_exports(written: dict[str, bytes], session, hostile: list[str], mallory: str) -> None:
    txt = written["txt"].decode("utf-8")
    assert f"{mallory}:" in txt and not unsafe_characters(txt.replace("\n", ""))

    cues = parse_srt(written["srt"])
    labelled = [text for _, _, text in cues if text.startswith(srt_text(mallory) + ": ")]
    assert labelled, cues
    assert all("<" not in text and ">" not in text and "-->" not in text for _, _, text in cues), cues

    voices = {voice for _, _, voice, _ in parse_vtt(written["vtt"])}
    assert mallory in voices, voices

    data = json.loads(written["json"])
    assert mallory in {t["speaker"] for t in data["transcripts"]}
    assert set(hostile) <= {e["participant_name"] for e in data["session"]["participant_history"]}

    md = written["md"].decode("utf-8").split("\n")
    listed = md[md.index("## Participants") + 2:md.index("## Talk time") - 1]
    assert [md_unescape(line[2:]) for line in listed] == participant_names(session)
    tokens = MarkdownIt("commonmark").parse("\n".join(listed))
    items = [t for t in tokens if t.type == "inline"]
    assert len(items) == len(listed)
    for item in items:   # a list item of plain text: no emphasis, link, code or HTML in it
        assert {child.type for child in item.children} <= {"text"}, [c.type for c in item.children]
    for line in listed:
        assert_inert_markdown(line[2:])
    # the talk-time table: each name one cell of plain text, as it was said
    rows, _ = md_talk_time("\n".join(md))
    assert mallory in [name for name, _, _ in rows[1:]], rows
    table = MarkdownIt("commonmark").enable("table").parse("\n".join(
        line for line in md[md.index("## Talk time"):md.index("## Transcript")] if line.startswith("|")))
    cells = [t for t in table if t.type == "inline"]
    assert len(cells) == 3 * len(rows), len(cells)
    for cell in cells:
        assert {child.type for child in cell.children} <= {"text"}, [c.type for c in cell.children]
    headings = [line for line in md if line.startswith("**") and " — " in line]
    assert any(md_unescape(h[2:h.rindex("** — ")]) == mallory for h in headings), headings

    document = open_docx(written["docx"])
    bullets = [p.text for p in document.paragraphs if p.style.name == "List Bullet"]
    assert set(hostile) <= set(bullets), set(hostile) - set(bullets)
    assert any(p.runs and p.runs[0].text == mallory for p in document.paragraphs)
    assert re.search(r"<b>Mallory</b>", "\n".join(p.text for p in document.paragraphs))
    talk = document.tables[1]
    assert mallory in [row.cells[0].text for row in talk.rows[1:]]
