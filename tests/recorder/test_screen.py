"""Screen capture on the test X display (Xvfb 1920x1080)."""
from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest

from recorder.clock import SessionClock
from recorder.screen import ScreenCapture, ScreenCaptureError, VideoFrame, fit_size

COLOUR = (10, 200, 30)


@pytest.fixture
def display() -> str:
    if not os.environ.get("DISPLAY"):
        pytest.fail("DISPLAY is not set: run the tests with `make test`, or first "
                    "`eval \"$(bash scripts/services.sh start)\"`")
    return os.environ["DISPLAY"]


@pytest.fixture
def coloured_window(display, qtbot):
    """A borderless window of one colour at a known place on the screen."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QColor, QPalette
    from PySide6.QtWidgets import QWidget

    window = QWidget(None, Qt.WindowType.FramelessWindowHint)
    window.setAutoFillBackground(True)
    palette = window.palette()
    palette.setColor(QPalette.ColorRole.Window, QColor(*COLOUR))
    window.setPalette(palette)
    window.setGeometry(200, 150, 400, 300)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    qtbot.wait(300)  # painted and flushed to the X server
    geometry = window.geometry()
    yield geometry.x(), geometry.y(), geometry.width(), geometry.height()  # keeps the window alive


class Frames(list):
    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()

    def __call__(self, frame: VideoFrame) -> None:
        with self.lock:
            self.append(frame)


def capture_for(seconds: float, **options) -> tuple[list[VideoFrame], ScreenCapture, float, float]:
    clock = SessionClock()
    frames = Frames()
    capture = ScreenCapture(frames, clock, **options)
    time.sleep(0.3)  # the session has been running a while: frames carry session time
    began = clock.now()
    capture.start()
    time.sleep(seconds)
    capture.stop()
    return frames, capture, began, clock.now()


def test_fit_size_keeps_aspect_and_even_dimensions():
    assert fit_size(1920, 1080, (1280, 720)) == (1280, 720)
    assert fit_size(1080, 1920, (1280, 720)) == (404, 720)
    assert fit_size(301, 201, (1280, 720)) == (300, 200)  # never enlarged
    assert fit_size(2560, 1600, (1280, 1280)) == (1280, 800)


def test_monitor_frames_arrive_at_the_frame_rate_scaled_within_the_cap(display):
    frames, capture, began, ended = capture_for(2.0, fps=5, max_size=(1280, 720))
    assert 6 <= len(frames) <= 11  # 5 fps for 2 s; a loaded machine may take fewer, never more
    assert {f.image.shape for f in frames} == {(720, 1280, 3)} and frames[0].image.dtype == np.uint8
    times = [f.time for f in frames]
    assert began <= times[0] < began + 1.0 and times[-1] <= ended  # session time, not capture time
    assert np.mean(np.diff(times)) == pytest.approx(0.2, abs=0.06)
    assert capture.frames_captured == len(frames)


def test_a_region_capture_has_the_regions_size_and_content(coloured_window):
    x, y, width, height = coloured_window
    frames, _, _, _ = capture_for(0.5, region=(x, y, width, height), fps=10)
    assert frames and {f.image.shape for f in frames} == {(height, width, 3)}
    assert np.abs(frames[-1].image.astype(int) - COLOUR).max() <= 2

    frames, capture, _, _ = capture_for(0.3, region=(x, y, width, height), fps=10, max_size=(200, 200))
    assert {f.image.shape for f in frames} == {(150, 200, 3)} and capture.frame_size == (200, 150)
    assert np.abs(frames[-1].image[10:-10, 10:-10].astype(int) - COLOUR).max() <= 2


def test_a_picture_of_any_width_keeps_its_pixels_where_they_were():
    from mss.screenshot import ScreenShot

    # 37 pixels: rows of the frame are padded past the picture's width.
    width, height = 37, 10
    bgra = np.zeros((height, width, 4), np.uint8)
    bgra[:, :18] = (255, 0, 0, 255)     # blue on the left (bytes are B, G, R, A)
    bgra[:, 19:] = (0, 0, 255, 255)     # red on the right
    shot = ScreenShot(bytearray(bgra.tobytes()), {"left": 0, "top": 0, "width": width, "height": height})
    picture = ScreenCapture._to_picture(shot, 36, 10).to_ndarray(format="rgb24").astype(int)
    assert np.abs(picture[:, :16] - (0, 0, 255)).max() <= 30
    assert np.abs(picture[:, 20:] - (255, 0, 0)).max() <= 30


def test_a_slow_consumer_costs_frames_that_are_counted_and_logged(display):
    logs = []
    clock = SessionClock()
    capture = ScreenCapture(lambda frame: time.sleep(0.35), clock, fps=10, max_size=(320, 180),
                            on_log=lambda level, message: logs.append((level, message)))
    capture.start()
    time.sleep(1.5)
    capture.stop()
    assert capture.dropped_frames >= 6
    warnings = [m for level, m in logs if level == "warning"]
    assert warnings and sum(int(m.split()[1]) for m in warnings) == capture.dropped_frames


def test_a_region_off_the_screen_or_a_missing_monitor_is_refused(display):
    clock = SessionClock()
    with pytest.raises(ScreenCaptureError) as caught:
        ScreenCapture(lambda f: None, clock, region=(1800, 1000, 400, 300)).start()
    assert "outside the screen" in caught.value.message
    with pytest.raises(ScreenCaptureError):
        ScreenCapture(lambda f: None, clock, monitor=7).start()
    with pytest.raises(ValueError):
        ScreenCapture(lambda f: None, clock, region=(0, 0, 0, 10))
