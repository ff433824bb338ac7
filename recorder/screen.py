"""Screen capture with mss at a steady frame rate, on its own thread."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import av
import numpy as np
from mss import MSS
from mss.exception import ScreenShotError

from recorder.clock import SessionClock
from recorder.drops import DropCounter, LogFn
from recorder.errors import ScreenCaptureError
from recorder.priority import lower_this_thread


@dataclass
class VideoFrame:
    """One picture and the session-clock second it was grabbed.

    `picture` is an RGB array (height x width x 3, uint8), or, from screen capture, a
    yuv420p frame straight out of the scaler: the encoder takes that as it is, which saves
    a colour conversion per frame.
    """

    picture: np.ndarray | av.VideoFrame
    time: float

    @property
    def image(self) -> np.ndarray:
        """The picture as an RGB array."""
        if isinstance(self.picture, av.VideoFrame):
            return self.picture.to_ndarray(format="rgb24")
        return self.picture

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)"""
        if isinstance(self.picture, av.VideoFrame):
            return self.picture.width, self.picture.height
        return self.picture.shape[1], self.picture.shape[0]

    def to_av(self) -> av.VideoFrame:
        if isinstance(self.picture, av.VideoFrame):
            return self.picture
        return av.VideoFrame.from_ndarray(np.ascontiguousarray(self.picture), format="rgb24")


def fit_size(width: int, height: int, max_size: tuple[int, int]) -> tuple[int, int]:
    """The largest size within `max_size` with the same aspect, never enlarged, both even
    (H.264 in 4:2:0 needs even dimensions)."""
    scale = min(1.0, max_size[0] / width, max_size[1] / height)
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


class ScreenCapture:
    """Grabs a monitor (mss numbering: 1 is the first, 0 all of them) or a region of the
    screen in global coordinates, `fps` times a second, scaled to fit `max_size`.

    Each frame goes to `on_frame` on the capture thread; keep it quick (the segment writer
    only enqueues). A grab or callback that overruns its tick never builds a backlog: the
    missed ticks are skipped, counted in `dropped_frames` and reported through `on_log`.
    """

    def __init__(
        self,
        on_frame: Callable[[VideoFrame], None],
        clock: SessionClock,
        *,
        region: tuple[int, int, int, int] | None = None,
        monitor: int = 1,
        fps: float = 5.0,
        max_size: tuple[int, int] = (1280, 720),
        on_log: LogFn | None = None,
    ) -> None:
        if fps <= 0:
            raise ValueError("fps must be positive")
        if region is not None and (region[2] <= 0 or region[3] <= 0):
            raise ValueError(f"screen region {region} has no area")
        self.on_frame = on_frame
        self.clock = clock
        self.region = region
        self.monitor = monitor
        self.fps = fps
        self.max_size = max_size
        self.on_log = on_log
        self.frames_captured = 0
        self.error: ScreenCaptureError | None = None
        self._drops = DropCounter("screen frames", self._log)
        self._area: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def dropped_frames(self) -> int:
        return self._drops.count

    @property
    def frame_size(self) -> tuple[int, int]:
        """(width, height) of the delivered frames; known once started."""
        return fit_size(self._area["width"], self._area["height"], self.max_size)

    def start(self) -> None:
        """Checks the monitor or region against the screen, then starts capturing."""
        self._area = self._resolve_area()
        self._thread = threading.Thread(target=self._run, name="screen-capture", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._drops.flush()

    def _resolve_area(self) -> dict[str, int]:
        try:
            with MSS() as grabber:
                monitors = grabber.monitors
        except ScreenShotError as exc:
            raise ScreenCaptureError(f"The screen cannot be captured: {exc}") from exc
        if self.region is None:
            if not 0 <= self.monitor < len(monitors):
                raise ScreenCaptureError(
                    f"Monitor {self.monitor} does not exist (there are {len(monitors) - 1})",
                    details={"monitor": self.monitor},
                )
            m = monitors[self.monitor]
            return {"left": m["left"], "top": m["top"], "width": m["width"], "height": m["height"]}
        x, y, w, h = self.region
        screen = monitors[0]
        if x < screen["left"] or y < screen["top"] or x + w > screen["left"] + screen["width"] or (
            y + h > screen["top"] + screen["height"]
        ):
            raise ScreenCaptureError(
                f"Screen region {self.region} lies outside the screen "
                f"({screen['width']}x{screen['height']} at {screen['left']},{screen['top']})",
                details={"region": list(self.region)},
            )
        return {"left": x, "top": y, "width": w, "height": h}

    def _run(self) -> None:
        lower_this_thread()
        interval = 1.0 / self.fps
        width, height = self.frame_size
        try:
            with MSS() as grabber:  # an mss instance belongs to the thread that made it
                next_tick = time.monotonic()
                while not self._stop.is_set():
                    grabbed_at = self.clock.now()
                    shot = grabber.grab(self._area)
                    self.on_frame(VideoFrame(self._to_picture(shot, width, height), grabbed_at))
                    self.frames_captured += 1
                    next_tick += interval
                    late = time.monotonic() - next_tick
                    if late > 0:
                        missed = int(late / interval) + 1
                        for _ in range(missed):
                            self._drops.drop("capture could not keep up")
                        next_tick += missed * interval
                    self._stop.wait(max(0.0, next_tick - time.monotonic()))
        except ScreenShotError as exc:
            self.error = ScreenCaptureError(f"Screen capture stopped: {exc}")
            self._log("error", self.error.message)

    @staticmethod
    def _to_picture(shot, width: int, height: int) -> av.VideoFrame:
        """Scaled and converted to the encoder's yuv420p in one pass. The pixels are copied
        into the frame by numpy and converted by swscale, both without the interpreter lock
        (copying through `shot.bgra` and `from_ndarray` held it ~15 ms a frame, the window's
        thread waiting all along)."""
        frame = av.VideoFrame(shot.width, shot.height, "bgra")
        plane = frame.planes[0]
        rows = np.frombuffer(memoryview(plane), dtype=np.uint8).reshape(shot.height, plane.line_size)
        np.copyto(rows[:, : shot.width * 4],
                  np.frombuffer(shot.raw, dtype=np.uint8).reshape(shot.height, shot.width * 4))
        return frame.reformat(width=width, height=height, format="yuv420p", interpolation="AREA")

    def _log(self, level: str, message: str) -> None:
        if self.on_log is not None:
            self.on_log(level, message)
