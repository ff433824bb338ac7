"""The session page's player: a recording's segment files played as one timeline on the
session clock, with Qt Multimedia (the audio, and the screen video where one was recorded).

The slider and the time say session time; at the end of one file the next is loaded, and a
file that is missing or does not play is reported and skipped."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer
from PySide6.QtMultimediaWidgets import QVideoWidget
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QStyle, QVBoxLayout, QWidget

from ui.formatting import clock
from ui.playback_timeline import Timeline

SEEK_STEP = 5.0  # seconds the arrow keys move
_VIDEO_DRIFT_MS = 300  # the screen video is put back in step with the audio beyond this
_READY = (QMediaPlayer.MediaStatus.LoadedMedia, QMediaPlayer.MediaStatus.BufferingMedia,
          QMediaPlayer.MediaStatus.BufferedMedia, QMediaPlayer.MediaStatus.EndOfMedia)


class Player(QWidget):
    positionChanged = Signal(float)  # session seconds of what is playing

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.play_button = QPushButton()
        self.play_button.setToolTip("Play the recording (Space); ← and → go back and on 5 s. "
                                    "Click a transcript line to play it.")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.time_label = QLabel()
        self.time_label.setStyleSheet("color: #8a8d93;")
        self.message = QLabel()  # why the player is off, or which file did not play
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #8a8d93;")
        self.video = QVideoWidget()
        self.video.setFixedHeight(200)  # the transcript keeps most of the page
        self.video.hide()

        controls = QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        controls.addWidget(self.play_button)
        controls.addWidget(self.slider, 1)
        controls.addWidget(self.time_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.video)
        layout.addLayout(controls)
        layout.addWidget(self.message)

        self.audio_player = QMediaPlayer(self)
        self.audio_player.setAudioOutput(QAudioOutput(self))
        self.video_player = QMediaPlayer(self)  # silent: it only shows the screen video
        self.video_player.setVideoOutput(self.video)

        self.timeline = Timeline(())
        self._index: int | None = None  # the part whose file is loaded
        self._seek_to: float | None = None  # offset to go to once that file has loaded
        self._playing = False  # what the user asked for; files change under it

        self.play_button.clicked.connect(self.toggle)
        self.slider.valueChanged.connect(self._slider_changed)
        self.slider.sliderReleased.connect(lambda: self.play_from(self.slider.value() / 1000, play=self._playing))
        self.audio_player.mediaStatusChanged.connect(self._status_changed)
        self.audio_player.errorOccurred.connect(self._failed)
        self.audio_player.positionChanged.connect(self._position_changed)
        self.video_player.mediaStatusChanged.connect(self._video_status_changed)
        self.unavailable("")

    # -- what is loaded --------------------------------------------------------------------------

    def load(self, timeline: Timeline) -> None:
        """Readies the recording, from its beginning, paused."""
        if not timeline.parts:
            self.unavailable("No audio was recorded in this session.")
            return
        self._reset(timeline)
        self.message.clear()
        self.message.hide()
        self.video.setVisible(any(part.video is not None for part in timeline.parts))
        self._show_time(timeline.parts[0].start)

    def unavailable(self, reason: str) -> None:
        """The player off, saying why."""
        self._reset(Timeline(()))
        self.message.setText(reason)
        self.message.setVisible(bool(reason))
        self.video.hide()
        self._show_time(0.0)

    def _reset(self, timeline: Timeline) -> None:
        self.audio_player.stop()
        self.video_player.stop()
        self.audio_player.setSource(QUrl())
        self.video_player.setSource(QUrl())
        self.timeline, self._index, self._seek_to, self._playing = timeline, None, None, False
        enabled = bool(timeline.parts)
        for widget in (self.play_button, self.slider):
            widget.setEnabled(enabled)
        self.slider.blockSignals(True)
        self.slider.setRange(0, round(timeline.end * 1000))
        self.slider.blockSignals(False)
        self._show_playing()

    # -- what the user does ----------------------------------------------------------------------

    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def position(self) -> float | None:
        """Session seconds of the loaded file's position; None before anything was played."""
        if self._index is None:
            return None
        offset = self._seek_to if self._seek_to is not None else self.audio_player.position() / 1000
        return self.timeline.session_time(self._index, offset)

    @property
    def playing_path(self) -> Path | None:
        """The audio file of the part being played."""
        return self.timeline.parts[self._index].audio if self._index is not None else None

    def play_from(self, seconds: float, *, play: bool = True) -> None:
        if self.timeline.parts:
            self._open(*self.timeline.locate(seconds), play=play)

    def toggle(self) -> None:
        if not self.timeline.parts:
            return
        ended = self.audio_player.mediaStatus() is QMediaPlayer.MediaStatus.EndOfMedia and not self._playing
        if self._index is None or ended:
            self._open(0, 0.0, play=True)
            return
        self._playing = not self._playing
        self._apply_playing()

    def pause(self) -> None:
        if self._playing:
            self._playing = False
            self._apply_playing()

    def seek_by(self, seconds: float) -> None:
        position = self.position
        if position is not None:
            self.play_from(position + seconds, play=self._playing)
        elif self.timeline.parts:
            self.play_from(self.timeline.parts[0].start + max(0.0, seconds), play=False)

    # -- inside ----------------------------------------------------------------------------------

    def _open(self, index: int, offset: float, *, play: bool) -> None:
        self._playing = play
        part = self.timeline.parts[index]
        if index == self._index and self.audio_player.mediaStatus() in _READY:
            self.audio_player.setPosition(round(offset * 1000))
            self.video_player.setPosition(round(offset * 1000))
            self._apply_playing()
            return
        self._index, self._seek_to = index, offset
        self._show_playing()
        if not part.audio.is_file():
            self._skip("is missing")
            return
        self.audio_player.setSource(QUrl.fromLocalFile(str(part.audio)))
        self.video_player.setSource(QUrl.fromLocalFile(str(part.video)) if part.video is not None else QUrl())

    def _status_changed(self, status: QMediaPlayer.MediaStatus) -> None:
        if self._index is None or self.audio_player.source() != QUrl.fromLocalFile(str(self.playing_path)):
            return  # the previous file on its way out (changing the file stops it first)
        if status is QMediaPlayer.MediaStatus.LoadedMedia and self._seek_to is not None:
            self.audio_player.setPosition(round(self._seek_to * 1000))
            self._seek_to = None
            self._apply_playing()
        elif status is QMediaPlayer.MediaStatus.EndOfMedia:
            if self._index + 1 < len(self.timeline.parts):
                self._open(self._index + 1, 0.0, play=self._playing)
            else:  # the end of the recording; Play starts it again
                self._playing = False
                self._show_playing()

    def _video_status_changed(self, status: QMediaPlayer.MediaStatus) -> None:
        if status is QMediaPlayer.MediaStatus.LoadedMedia:
            offset = self.audio_player.position() if self._seek_to is None else round(self._seek_to * 1000)
            self.video_player.setPosition(offset)
            self._play_or_pause(self.video_player)

    def _failed(self, error: QMediaPlayer.Error, text: str) -> None:
        if error is not QMediaPlayer.Error.NoError:
            self._skip(f"cannot be played ({text or error.name})")

    def _skip(self, problem: str) -> None:
        """Says which file did not play and plays on from the next one."""
        if self._index is None:
            return
        name = self.timeline.parts[self._index].audio.name
        last = self._index + 1 >= len(self.timeline.parts)
        self.message.setText(f"The recording file {name} {problem}; "
                             + ("the recording ends there." if last else "playing on from the next file."))
        self.message.show()
        if last:
            self._seek_to, self._playing = None, False
            self._apply_playing()
        else:
            self._open(self._index + 1, 0.0, play=self._playing)

    def _apply_playing(self) -> None:
        self._play_or_pause(self.audio_player)
        self._play_or_pause(self.video_player)
        self._show_playing()

    def _play_or_pause(self, player: QMediaPlayer) -> None:
        if player.mediaStatus() not in _READY:
            return  # a file still loading starts once loaded
        if self._playing:
            player.play()
        else:
            player.pause()

    def _show_playing(self) -> None:
        pixmap = QStyle.StandardPixmap.SP_MediaPause if self._playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(pixmap))
        self.play_button.setText("Pause" if self._playing else "Play")

    def _position_changed(self, milliseconds: int) -> None:
        if self._index is None or self._seek_to is not None:
            return  # a file is loading: its position is not yet where it will play
        video = self.video_player
        if video.mediaStatus() in _READY and abs(video.position() - milliseconds) > _VIDEO_DRIFT_MS:
            video.setPosition(milliseconds)
        seconds = self.timeline.session_time(self._index, milliseconds / 1000)
        self._show_time(seconds)
        self.positionChanged.emit(seconds)

    def _show_time(self, seconds: float) -> None:
        if not self.slider.isSliderDown():
            self.slider.blockSignals(True)
            self.slider.setValue(round(seconds * 1000))
            self.slider.blockSignals(False)
        self.time_label.setText(f"{clock(seconds)} / {clock(self.timeline.end)}")

    def _slider_changed(self, milliseconds: int) -> None:
        if self.slider.isSliderDown():  # dragging: the time follows, playback moves on release
            self.time_label.setText(f"{clock(milliseconds / 1000)} / {clock(self.timeline.end)}")
        else:
            self.play_from(milliseconds / 1000, play=self._playing)
