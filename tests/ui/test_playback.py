"""Playing a recorded session on its page: segment files written by the recorder's own segment
writer, played by Qt Multimedia into the test PulseAudio sink, as one timeline on the
session clock; transcript lines start playback and follow it."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtMultimedia import QMediaDevices, QMediaPlayer

from app.models import Session, Status, TranscriptSegment
from app.refine import AUDIO_START_KEY, SEGMENT_SECONDS_KEY
from recorder.audio.base import SAMPLE_RATE, AudioChunk
from recorder.screen import VideoFrame
from recorder.segments import SegmentWriter
from ui.playback_timeline import recording_timeline
from ui.session_page import SessionPage
from ui.transcript_view import TranscriptView

START, ROTATE, LENGTH = 1.0, 4.0, 10.0  # files: audio_0001 1-4 s, audio_0002 4-8 s, audio_0003 8-11 s
LINES = [(1.5, "The first line."), (5.0, "The second line."), (9.0, "The third line.")]
PLAYING = QMediaPlayer.PlaybackState.PlayingState


def write_recording(folder: Path, *, video: bool = False) -> None:
    """LENGTH seconds of tone from session time START, as a session's pipeline writes it."""
    writer = SegmentWriter(folder, rotate_seconds=ROTATE, video=video, fps=5.0)
    samples = (0.1 * np.sin(2 * np.pi * 220 * np.arange(int(LENGTH * SAMPLE_RATE)) / SAMPLE_RATE)).astype(np.float32)
    step = SAMPLE_RATE // 10
    for offset in range(0, len(samples), step):
        time = START + offset / SAMPLE_RATE
        writer.write_audio(AudioChunk(samples[offset:offset + step], time))
        if video and offset % (2 * step) == 0:
            writer.write_video(VideoFrame(np.full((48, 64, 3), 90, np.uint8), time))
    writer.close()


@pytest.fixture
def audio_output(qapp):
    if not QMediaDevices.audioOutputs():
        pytest.skip("no audio output: playback needs a sound server (PulseAudio)")


@pytest.fixture
def recorded(store, tmp_path):
    """A finished session with its recording (audio and screen video) and three transcript
    lines, one per file."""
    session = Session.create(meeting_link="https://meet.google.com/abc-defg-hij", platform="google_meet")
    for status in (Status.JOINING, Status.ACTIVE, Status.RECORDING, Status.LEAVING, Status.COMPLETED):
        session.transition(status)
    session.metadata.update({AUDIO_START_KEY: START, SEGMENT_SECONDS_KEY: ROTATE})
    session.audio_file_count = 3
    store.save_session(session)
    for start, text in LINES:
        store.add_transcript(TranscriptSegment.create(session.session_id, text, start, start + 2.0, speaker="Alice"))
    folder = tmp_path / "recording"
    write_recording(folder, video=True)
    return session, folder


def open_page(qtbot, store, session: Session, folder: Path) -> SessionPage:
    page = SessionPage(store, lambda s: folder)
    qtbot.addWidget(page)
    page.resize(900, 600)
    page.show()
    qtbot.waitExposed(page)
    page.activateWindow()
    qtbot.waitUntil(page.isActiveWindow)
    assert page.show_session(session.session_id)
    qtbot.waitUntil(lambda: not page.transcript.loading)
    return page


def click_line(qtbot, page: SessionPage, text: str) -> None:
    view = page.transcript.text
    block = view.document().find(text).block()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.cursorRect(QTextCursor(block)).center())


def played(page: SessionPage) -> tuple[str | None, float]:
    """The file the media player has loaded, and where the player really is on the session
    clock (the file's start plus the player's position in it)."""
    name = page.player.audio_player.source().fileName()
    starts = {part.audio.name: part.start for part in page.player.timeline.parts}
    return name or None, starts.get(name, 0.0) + page.player.audio_player.position() / 1000


def test_session_time_maps_to_the_file_and_offset_that_play_it(tmp_path):
    write_recording(tmp_path, video=True)
    timeline = recording_timeline(tmp_path, start=START, segment_seconds=ROTATE)
    assert [(p.audio.name, p.video.name if p.video else None, p.start) for p in timeline.parts] == [
        ("audio_0001.ogg", "video_0001.mp4", 1.0), ("audio_0002.ogg", "video_0002.mp4", 4.0),
        ("audio_0003.ogg", "video_0003.mp4", 8.0)]
    assert timeline.end == pytest.approx(START + LENGTH, abs=0.05)
    index, offset = timeline.locate(5.5)
    assert index == 1 and offset == pytest.approx(1.5) and timeline.session_time(index, offset) == 5.5
    assert timeline.locate(3.5) == (0, pytest.approx(2.5))
    assert timeline.locate(0.2) == (0, 0.0)  # before the recording: its beginning
    assert timeline.locate(99.0) == (2, timeline.parts[2].duration)  # past it: its end

    (tmp_path / "audio_0002.ogg").unlink()
    holed = recording_timeline(tmp_path, start=START, segment_seconds=ROTATE)
    assert [p.start for p in holed.parts] == [1.0, 8.0]
    assert holed.locate(5.5) == (1, 0.0)  # in the hole: the next file from its beginning

    legacy = recording_timeline(tmp_path, start=None, segment_seconds=None)  # the facts were not kept
    assert legacy.parts[0].start == 0.0 and legacy.parts[1].start == pytest.approx(legacy.parts[0].duration)


def test_a_clicked_line_plays_from_its_start_and_the_highlight_follows(qtbot, store, recorded, audio_output):
    session, folder = recorded
    page = open_page(qtbot, store, session, folder)
    click_line(qtbot, page, "The second line.")
    qtbot.waitUntil(lambda: played(page)[0] == "audio_0002.ogg" and abs(played(page)[1] - 5.0) < 0.5
                    and page.player.audio_player.playbackState() == PLAYING, timeout=5000)
    qtbot.waitUntil(lambda: page.transcript.played_line is not None)
    assert page.transcript.played_line.endswith("The second line.")
    assert "00:05" in page.player.time_label.text()  # session time, not the file's
    video = page.player.video_player  # the screen video of the same period plays along
    assert page.player.video.isVisible()
    qtbot.waitUntil(lambda: video.source().fileName() == "video_0002.mp4" and video.playbackState() == PLAYING
                    and abs(video.position() - page.player.audio_player.position()) < 500)

    # Across the end of the file: the next one is loaded and the next line marked.
    qtbot.waitUntil(lambda: played(page)[0] == "audio_0003.ogg" and played(page)[1] > 9.2, timeout=15000)
    assert page.transcript.played_line.endswith("The third line.")


def test_space_pauses_and_plays_and_arrows_seek_but_not_while_typing(qtbot, store, recorded, audio_output):
    session, folder = recorded
    page = open_page(qtbot, store, session, folder)
    click_line(qtbot, page, "The first line.")
    player = page.player.audio_player
    qtbot.waitUntil(lambda: player.playbackState() == PLAYING and player.position() > 700, timeout=8000)

    qtbot.keyClick(page.transcript.text, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: player.playbackState() == QMediaPlayer.PlaybackState.PausedState)
    paused_at = played(page)[1]

    qtbot.keyClick(page.transcript.text, Qt.Key.Key_Right)  # +5 s: into the second file, still paused
    qtbot.waitUntil(lambda: played(page)[0] == "audio_0002.ogg" and abs(played(page)[1] - (paused_at + 5.0)) < 0.3)
    assert player.playbackState() != PLAYING

    page.transcript.search_edit.setFocus()
    qtbot.keyClick(page.transcript.search_edit, Qt.Key.Key_Space)
    assert page.transcript.search_edit.text() == " " and not page.player.playing
    page.export_button.setFocus()  # a focused button keeps Space: it is pressed
    with qtbot.wait_signal(page.exportRequested):
        qtbot.keyClick(page.export_button, Qt.Key.Key_Space)
    assert not page.player.playing

    page.player.play_button.setFocus()  # the player's own controls take the player's keys
    qtbot.keyClick(page.player.play_button, Qt.Key.Key_Left)
    qtbot.waitUntil(lambda: played(page)[0] == "audio_0001.ogg" and abs(played(page)[1] - paused_at) < 0.3)
    qtbot.keyClick(page.player.play_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: player.playbackState() == PLAYING)

    page.hide()  # another page in its place: the sound stops
    qtbot.waitUntil(lambda: player.playbackState() == QMediaPlayer.PlaybackState.PausedState)


def test_the_played_line_is_scrolled_into_view(qtbot):
    view = TranscriptView()
    qtbot.addWidget(view)
    view.resize(500, 300)
    view.show()
    qtbot.waitExposed(view)
    view.set_segments([TranscriptSegment.create("mbsess_" + "a" * 24, f"Line {i}.", i * 3.0, i * 3.0 + 2.0)
                       for i in range(40)], "")
    qtbot.waitUntil(lambda: not view.loading)
    view.text.verticalScrollBar().setValue(0)  # the reader is at the top

    view.highlight_at(100.0)  # line 33 (99 s) is being played
    assert view.played_line.endswith("Line 33.")
    block = view.text.document().find("Line 33.").block()
    shown = view.text.cursorRect(QTextCursor(block))
    assert view.text.viewport().rect().contains(shown)
    view.highlight_at(None)
    assert view.played_line is None


@pytest.mark.parametrize("damage", ["missing", "unreadable"])
def test_a_file_that_does_not_play_is_named_and_skipped(qtbot, store, recorded, audio_output, damage):
    session, folder = recorded
    page = open_page(qtbot, store, session, folder)
    second = folder / "audio_0002.ogg"
    if damage == "missing":
        second.unlink()  # after the page opened: the timeline still counts it
    else:
        second.write_bytes(b"OggS" + bytes(2000))
    page.player.play_from(3.0)
    qtbot.waitUntil(lambda: played(page)[0] == "audio_0003.ogg"
                    and page.player.audio_player.playbackState() == PLAYING, timeout=15000)
    assert "audio_0002.ogg" in page.player.message.text() and page.player.message.isVisible()
    assert "next file" in page.player.message.text()


def test_the_player_is_off_with_a_reason_without_a_recording_to_play(qtbot, store, tmp_path):
    session = Session.create(meeting_link="https://meet.google.com/abc-defg-hij", platform="google_meet")
    session.transition(Status.JOINING)
    store.save_session(session)
    page = SessionPage(store, lambda s: tmp_path)
    qtbot.addWidget(page)
    page.show()
    assert page.show_session(session.session_id)
    assert not page.player.play_button.isEnabled() and "once the session has ended" in page.player.message.text()

    session.transition(Status.FAILED, error_code="INTERRUPTED", error_message="stopped")
    store.save_session(session)
    assert page.show_session(session.session_id)
    assert not page.player.play_button.isEnabled() and not page.player.slider.isEnabled()
    assert page.player.message.isVisible() and "No audio was recorded" in page.player.message.text()
    qtbot.keyClick(page, Qt.Key.Key_Space)  # nothing to play: nothing happens
    assert not page.player.playing

    write_recording(tmp_path)  # a copy from another Meeting Buddy, even with files here
    session.audio_file_count = 3
    store.save_session(session, is_remote=True, remote_origin="https://buddy.example.com")
    assert page.show_session(session.session_id)
    assert not page.player.play_button.isEnabled() and "another Meeting Buddy" in page.player.message.text()
