"""Segment files of a recording: numbered Ogg/Opus audio and fragmented-MP4 H.264 video.

Both containers are written so that a killed process loses at most about a second: Ogg
pages of at most half a second, and fragmented MP4 with one fragment per frame and a
keyframe every second, each flushed to the file as soon as the muxer emits it. (Tested:
SIGKILL while recording loses about 0.6 s of audio and 0.2 s of video.)

Files are numbered by rotation period of the session clock: `audio_0003.ogg` and
`video_0003.mp4` cover the same period. A directory that already holds segments (a
session resumed after a crash) continues after the highest number; nothing is overwritten.

Audio channels: chunks labelled with a channel ("you", "others") are lined up on the
session clock and summed into one mono track, so a mix plays as the meeting sounded and
the file's length is the session's length, not the sum of its channels. Who said what
stays known to the transcriber through the chunks' labels; the file is for listening.
"""
from __future__ import annotations

import errno
import os
import queue
import re
import threading
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.audio.stream import AudioStream
from av.video.stream import VideoStream

from recorder.audio.base import SAMPLE_RATE, AudioChunk
from recorder.drops import DropCounter, LogFn
from recorder.errors import StorageError
from recorder.priority import lower_this_thread
from recorder.screen import VideoFrame

AUDIO_NAME, VIDEO_NAME = "audio_{:04d}.ogg", "video_{:04d}.mp4"
_SEGMENT_FILE = re.compile(r"^(audio|video)_(\d{4,})\.(ogg|mp4)$")
_OGG_OPTIONS = {"page_duration": "500000", "flush_packets": "1"}
_MP4_OPTIONS = {"movflags": "frag_keyframe+frag_every_frame+empty_moov+default_base_moof", "flush_packets": "1"}
_VIDEO_TIME_BASE = Fraction(1, 1000)
_KEYFRAME_INTERVAL = 1.0  # seconds; also bounds what a damaged file costs a decoder


@dataclass
class RecordingStats:
    segment_count: int  # rotation periods with at least one file on disk
    audio_file_count: int
    video_file_count: int
    total_size_bytes: int
    total_duration_seconds: float  # the longer of the audio and the video written


@dataclass
class SegmentInfo:
    path: Path
    kind: str  # "audio" or "video"
    index: int
    duration_seconds: float  # of what decodes
    error: str | None = None  # why decoding stopped early, if it did


def storage_error(exc: OSError, path: Path) -> StorageError:
    """The user-facing StorageError for a failed write (names the file, not the full path)."""
    reasons = {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is used up",
        errno.EFBIG: "the file has reached the size limit",
        errno.EROFS: "the folder is on a read-only disk",
        errno.EACCES: "the folder is not writable",
        errno.EPERM: "the folder is not writable",
        errno.ENOTDIR: "the folder path runs through a file",
        errno.ENOENT: "the folder does not exist",
        errno.EEXIST: "a file is in the way of the folder",
    }
    code = exc.errno
    reason = reasons.get(code, exc.strerror or str(exc)) if code is not None else exc.strerror or str(exc)
    name = errno.errorcode.get(code, str(code)) if code is not None else str(code)
    return StorageError(f"The recording cannot be written: {reason}", details={"file": path.name, "errno": name})


class _AudioTimeline:
    """Lines audio chunks up on the session clock and releases one contiguous mono stream.

    Gaps become silence, overlapping channels are summed, and a channel never overlaps
    itself. Labelled chunks come from a mix whose sources deliver with their own delays
    (and may start later than the others), so audio is held `hold` samples behind the
    newest chunk before it is written; an unlabelled stream is written at once.
    """

    def __init__(self, hold: int) -> None:
        self.hold = hold
        self.origin: int | None = None  # absolute sample number of buffer[0]
        self.buffer = np.zeros(0, dtype=np.float32)
        self.channel_end: dict[str | None, int] = {}

    def add(self, chunk: AudioChunk) -> None:
        start = round(chunk.start_time * SAMPLE_RATE)
        if self.origin is None:
            self.origin = max(0, start)
        skip = max(self.origin, self.channel_end.get(chunk.channel, 0)) - start
        samples = chunk.samples[max(0, skip) :]
        if not len(samples):
            return
        start += max(0, skip)
        end = start + len(samples)
        if end - self.origin > len(self.buffer):
            self.buffer = np.concatenate([self.buffer, np.zeros(end - self.origin - len(self.buffer), np.float32)])
        self.buffer[start - self.origin : end - self.origin] += samples
        self.channel_end[chunk.channel] = max(end, self.channel_end.get(chunk.channel, 0))

    def release(self, final: bool = False) -> tuple[int, np.ndarray]:
        """(absolute sample number, samples) that are complete; empty when nothing is."""
        if self.origin is None or not self.channel_end:
            return 0, np.zeros(0, np.float32)
        newest = max(self.channel_end.values())
        labelled = any(channel is not None for channel in self.channel_end)
        upto = newest - self.hold if labelled and not final else newest
        count = max(0, upto - self.origin)
        start, out = self.origin, np.clip(self.buffer[:count], -1.0, 1.0)
        self.buffer, self.origin = self.buffer[count:], self.origin + count
        return start, out


@dataclass
class _Segment:
    path: Path
    period: int
    container: av.container.OutputContainer
    stream: AudioStream | VideoStream
    media_seconds: float = 0.0
    first_time: float | None = None  # video: session time of the first frame
    last_keyframe: float = float("-inf")
    next_pts: int = 0


class SegmentWriter:
    """Writes a session's audio chunks and screen frames into rotating segment files.

    `write_audio` encodes on the caller's thread (Opus is cheap); `write_video` only
    enqueues, and a thread of its own encodes H.264. A full video queue drops the frame,
    counted and logged. A failed write (disk full, folder gone or read-only) raises
    StorageError from the constructor or from the next `write_*`/`close()`; segments
    closed before stay intact and the open ones are finalized as far as the disk allows.
    """

    def __init__(
        self,
        directory: str | Path,
        *,
        rotate_seconds: float = 300.0,
        video: bool = True,
        fps: float = 5.0,
        video_queue_size: int = 30,
        channel_hold_seconds: float = 0.5,
        on_log: LogFn | None = None,
    ) -> None:
        if rotate_seconds <= 0 or fps <= 0:
            raise ValueError("rotate_seconds and fps must be positive")
        self.directory = Path(directory)
        self.rotate_seconds = rotate_seconds
        self.video_enabled = video
        self.fps = fps
        self.on_log = on_log
        self._prepare_directory()
        existing = (_SEGMENT_FILE.match(name) for name in os.listdir(self.directory))
        self._index_base = max((int(m.group(2)) for m in existing if m), default=0)
        self._lock = threading.Lock()  # guards the statistics and the failure
        self._audio_lock = threading.Lock()
        self._failure: BaseException | None = None
        self._failure_raised = False
        self._closed = False
        self._files: dict[Path, int] = {}  # every segment file begun -> its period
        self._audio_seconds = 0.0
        self._video_seconds = 0.0
        self._timeline = _AudioTimeline(round(channel_hold_seconds * SAMPLE_RATE))
        self._audio: _Segment | None = None
        self._video: _Segment | None = None
        self._video_size: tuple[int, int] | None = None
        self._video_drops = DropCounter("screen frames waiting for the video encoder", self._log)
        self._video_queue: queue.Queue[VideoFrame | None] = queue.Queue(maxsize=video_queue_size)
        self._video_thread: threading.Thread | None = None
        if video:
            self._video_thread = threading.Thread(target=self._encode_video_frames, name="video-encoder", daemon=True)
            self._video_thread.start()

    def _prepare_directory(self) -> None:
        probe = self.directory / ".write-check"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise storage_error(exc, self.directory) from exc

    # -- public API ---------------------------------------------------------------------

    def write_audio(self, chunk: AudioChunk) -> None:
        self._check_usable()
        with self._audio_lock:
            self._timeline.add(chunk)
            self._guard(lambda: self._write_audio_samples(*self._timeline.release()))
        self._check_usable()

    def write_video(self, frame: VideoFrame) -> None:
        if not self.video_enabled:
            raise RuntimeError("this SegmentWriter was created with video=False")
        if isinstance(frame.picture, np.ndarray):
            image = frame.picture
            if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8 or min(image.shape[:2]) < 2:
                raise ValueError(f"expected an RGB uint8 image of at least 2x2, got {image.dtype} {image.shape}")
        elif min(frame.size) < 2:
            raise ValueError(f"expected a picture of at least 2x2, got {frame.size}")
        self._check_usable()
        try:
            self._video_queue.put_nowait(frame)
        except queue.Full:
            self._video_drops.drop()

    def close(self) -> None:
        """Writes what is pending and finalizes the open files; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        with self._audio_lock:
            if self._failure is None:
                self._guard(lambda: self._write_audio_samples(*self._timeline.release(final=True)))
            self._close_segment(self._audio)
            self._audio = None
        if self._video_thread is not None:
            self._video_queue.put(None)  # the encoder drains the queue, then finalizes
            self._video_thread.join()
        self._video_drops.flush()
        with self._lock:
            if self._failure is not None and not self._failure_raised:
                self._failure_raised = True
                raise self._failure

    def stats(self) -> RecordingStats:
        with self._lock:
            files = dict(self._files)
            duration = max(self._audio_seconds, self._video_seconds)
        on_disk: dict[Path, int] = {}
        for path in files:
            try:
                on_disk[path] = path.stat().st_size
            except OSError:
                pass  # never created (the folder went away) or removed since: not a file of ours
        return RecordingStats(
            segment_count=len({files[path] for path in on_disk}),
            audio_file_count=sum(p.suffix == ".ogg" for p in on_disk),
            video_file_count=sum(p.suffix == ".mp4" for p in on_disk),
            total_size_bytes=sum(on_disk.values()),
            total_duration_seconds=duration,
        )

    # -- shared machinery ---------------------------------------------------------------

    def _check_usable(self) -> None:
        if self._closed:
            raise RuntimeError("the SegmentWriter is closed")
        with self._lock:
            if self._failure is not None:
                self._failure_raised = True
                raise self._failure

    def _guard(self, action) -> bool:
        """Runs a write; a failure is recorded (the first one wins; the next `write_*` or
        `close()` raises it) and the files are left for close() to finalize. Returns
        whether it succeeded."""
        try:
            action()
            return True
        except OSError as exc:
            path = getattr(exc, "filename", None)
            failure: BaseException = storage_error(exc, Path(path) if path else self.directory)
        except Exception as exc:  # an encoder bug must surface too, not kill a thread silently
            failure = exc
        with self._lock:
            if self._failure is None:
                self._failure = failure
        return False

    def _open_segment(self, kind: str, period: int) -> _Segment:
        index = self._index_base + period + 1
        path = self.directory / (AUDIO_NAME if kind == "audio" else VIDEO_NAME).format(index)
        stream: AudioStream | VideoStream
        if kind == "audio":
            container = av.open(str(path), "w", format="ogg", container_options=_OGG_OPTIONS)
            stream = container.add_stream("libopus", rate=SAMPLE_RATE, layout="mono")
            stream.bit_rate = 24000  # speech
        else:
            assert self._video_size is not None
            width, height = self._video_size
            container = av.open(str(path), "w", format="mp4", container_options=_MP4_OPTIONS)
            stream = container.add_stream(
                "libx264", rate=Fraction(self.fps).limit_denominator(1001),
                options={"preset": "ultrafast", "tune": "zerolatency", "threads": "1"},
            )
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.codec_context.time_base = _VIDEO_TIME_BASE
            stream.codec_context.gop_size = max(1, round(self.fps * _KEYFRAME_INTERVAL))
        with self._lock:
            self._files[path] = period
        self._log("info", f"Recording into {path.name}")
        return _Segment(path, period, container, stream)

    def _close_segment(self, segment: _Segment | None) -> None:
        """Flushes the encoder and writes the trailer. After a failure only the container
        is closed (which writes what the disk still takes): the failure is already known."""
        if segment is None:
            return
        if self._failure is None and self._guard(lambda: self._finish_segment(segment)):
            return
        try:
            segment.container.close()
        except (OSError, av.FFmpegError):
            pass  # the disk refused again; the recorded failure says why

    def _finish_segment(self, segment: _Segment) -> None:
        try:
            for packet in segment.stream.encode(None):
                self._mux(segment, packet)
        finally:
            segment.container.close()

    def _mux(self, segment: _Segment, packet: av.Packet) -> None:
        if segment.stream.type == "video" and not packet.duration:
            packet.duration = round(1 / self.fps / _VIDEO_TIME_BASE)  # lets the last frame count
        segment.container.mux(packet)

    def _period(self, seconds: float) -> int:
        return max(0, int(seconds // self.rotate_seconds))

    # -- audio --------------------------------------------------------------------------

    def _write_audio_samples(self, start: int, samples: np.ndarray) -> None:
        """Encodes samples that begin at absolute sample `start`, split at period boundaries."""
        period_samples = round(self.rotate_seconds * SAMPLE_RATE)
        while len(samples):
            period = max(0, start // period_samples)
            take = min(len(samples), (period + 1) * period_samples - start)
            if self._audio is None or self._audio.period != period:
                previous, self._audio = self._audio, None
                if previous is not None:
                    self._finish_segment(previous)
                self._audio = self._open_segment("audio", period)
            self._encode_audio(self._audio, samples[:take])
            start, samples = start + take, samples[take:]

    def _encode_audio(self, segment: _Segment, samples: np.ndarray) -> None:
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples).reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = segment.next_pts
        segment.next_pts += len(samples)
        assert isinstance(segment.stream, AudioStream)
        for packet in segment.stream.encode(frame):
            self._mux(segment, packet)
        with self._lock:
            self._audio_seconds += len(samples) / SAMPLE_RATE

    # -- video (encoder thread) ---------------------------------------------------------

    def _encode_video_frames(self) -> None:
        lower_this_thread()   # the encoder's own threads, started from here, inherit it
        while (frame := self._video_queue.get()) is not None:
            if self._failure is None:
                self._guard(lambda: self._encode_video(frame))
        self._close_segment(self._video)
        self._video = None

    def _encode_video(self, frame: VideoFrame) -> None:
        if self._video_size is None:
            width, height = frame.size
            self._video_size = (max(2, width // 2 * 2), max(2, height // 2 * 2))  # 4:2:0 needs even sizes
        period = self._period(frame.time)
        segment = self._video
        if segment is None or segment.period != period:
            previous, self._video = segment, None
            if previous is not None:
                self._finish_segment(previous)
            self._video = segment = self._open_segment("video", period)
        if segment.first_time is None:
            segment.first_time = frame.time
        pts = round((frame.time - segment.first_time) / _VIDEO_TIME_BASE)
        if pts < segment.next_pts:
            return  # not after the previous frame: MP4 needs rising timestamps
        image = frame.to_av()
        width, height = self._video_size
        if (image.width, image.height) != (width, height) or image.format.name != "yuv420p":
            image = image.reformat(width=width, height=height, format="yuv420p")
        image.pts = pts
        if frame.time - segment.last_keyframe >= _KEYFRAME_INTERVAL:
            image.pict_type = av.video.frame.PictureType.I
            segment.last_keyframe = frame.time
        assert isinstance(segment.stream, VideoStream)
        for packet in segment.stream.encode(image):
            self._mux(segment, packet)
        segment.next_pts = pts + 1
        seconds = (frame.time - segment.first_time) + 1 / self.fps
        with self._lock:
            self._video_seconds += seconds - segment.media_seconds
        segment.media_seconds = seconds

    def _log(self, level: str, message: str) -> None:
        if self.on_log is not None:
            self.on_log(level, message)


def probe_segments(directory: str | Path) -> list[SegmentInfo]:
    """Every segment file in `directory`, decoded to measure how much of it plays.

    A file cut short by a crash reports what decodes and why decoding stopped.
    """
    found = []
    for name in os.listdir(directory):
        match = _SEGMENT_FILE.match(name)
        if match:
            found.append((match.group(1), int(match.group(2)), Path(directory) / name))
    found.sort(key=lambda item: (item[0], item[1]))
    return [_probe(path, kind, index) for kind, index, path in found]


def _probe(path: Path, kind: str, index: int) -> SegmentInfo:
    duration, error = 0.0, None
    try:
        with av.open(str(path)) as container:
            if kind == "audio":
                samples, rate = 0, 1
                try:
                    for frame in container.decode(audio=0):
                        samples, rate = samples + frame.samples, frame.sample_rate
                finally:
                    duration = samples / rate
            else:
                first = last_end = None
                try:
                    for picture in container.decode(video=0):
                        pts, time_base = picture.pts, picture.time_base
                        assert pts is not None and time_base is not None
                        start = float(pts * time_base)
                        first = start if first is None else first
                        length = float(picture.duration * time_base) if picture.duration else 0.0
                        last_end = start + length
                finally:
                    if first is not None and last_end is not None:
                        duration = last_end - first
    except (av.FFmpegError, OSError, EOFError, IndexError) as exc:
        error = str(exc) or type(exc).__name__
    return SegmentInfo(path, kind, index, duration, error)
