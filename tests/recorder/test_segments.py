"""Segment files: rotation, durations, channel mixing, crash safety and storage failures,
all checked by decoding the files with PyAV."""
from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest

from recorder.audio.base import SAMPLE_RATE, AudioChunk
from recorder.errors import StorageError
from recorder.screen import VideoFrame
from recorder.segments import SegmentWriter, probe_segments
from tests.fixtures_audio import dominant_frequency

REPO = Path(__file__).resolve().parents[2]
CRASH_WRITER = REPO / "tests" / "crash_writer.py"


def tone(start: float, seconds: float = 0.1, frequency: float = 440, amplitude: float = 0.3) -> np.ndarray:
    t = start + np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def picture(width: int, height: int, shade: int) -> np.ndarray:
    image = np.zeros((height, width, 3), dtype=np.uint8)
    image[..., 0] = shade
    image[: height // 2, : width // 2] = 255
    return image


def decode_audio(path: Path) -> np.ndarray:
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    with av.open(str(path)) as container:
        parts = [f.to_ndarray().reshape(-1) for frame in container.decode(audio=0) for f in resampler.resample(frame)]
    return np.concatenate(parts)


def decoded_frame_sizes(path: Path) -> set[tuple[int, int]]:
    with av.open(str(path)) as container:
        return {(frame.width, frame.height) for frame in container.decode(video=0)}


def durations(directory: Path) -> dict[str, float]:
    return {info.path.name: info.duration_seconds for info in probe_segments(directory)}


class LogSink(list):
    def __call__(self, level: str, message: str) -> None:
        self.append((level, message))


def test_rotation_writes_numbered_segments_that_decode_to_their_periods(tmp_path):
    logs = LogSink()
    writer = SegmentWriter(tmp_path, rotate_seconds=2.0, fps=5, on_log=logs)
    for i in range(50):  # 5 s: audio in 0.1 s chunks, video at 5 fps
        writer.write_audio(AudioChunk(tone(i / 10), i / 10))
        if i % 2 == 0:
            writer.write_video(VideoFrame(picture(1280, 720, i * 5), i / 10))
            time.sleep(0.02)  # a real screen gives the encoder time between frames
    writer.close()

    assert durations(tmp_path) == pytest.approx({
        "audio_0001.ogg": 2.0, "audio_0002.ogg": 2.0, "audio_0003.ogg": 1.0,
        "video_0001.mp4": 2.0, "video_0002.mp4": 2.0, "video_0003.mp4": 1.0,
    }, abs=0.01)
    assert all(info.error is None for info in probe_segments(tmp_path))
    for name in ("audio_0001.ogg", "audio_0003.ogg"):
        assert abs(dominant_frequency(decode_audio(tmp_path / name)) - 440) < 1
    assert decoded_frame_sizes(tmp_path / "video_0002.mp4") == {(1280, 720)}
    stats = writer.stats()
    assert (stats.segment_count, stats.audio_file_count, stats.video_file_count) == (3, 3, 3)
    assert stats.total_size_bytes == sum(p.stat().st_size for p in tmp_path.iterdir())
    assert stats.total_duration_seconds == pytest.approx(5.0)
    assert [m for level, m in logs if level != "info"] == []


def test_audio_only_writer_and_the_segment_count(tmp_path):
    writer = SegmentWriter(tmp_path, rotate_seconds=1.0, video=False)
    for i in range(25):
        writer.write_audio(AudioChunk(tone(i / 10), i / 10))
    with pytest.raises(RuntimeError):
        writer.write_video(VideoFrame(picture(64, 64, 0), 0.0))
    writer.close()
    writer.close()  # a second close changes nothing
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audio_0001.ogg", "audio_0002.ogg", "audio_0003.ogg"]
    stats = writer.stats()
    assert (stats.segment_count, stats.audio_file_count, stats.video_file_count) == (3, 3, 0)
    assert stats.total_duration_seconds == pytest.approx(2.5)
    with pytest.raises(RuntimeError):
        writer.write_audio(AudioChunk(tone(3.0), 3.0))


def test_channels_are_lined_up_in_time_and_summed_into_one_mono_track(tmp_path):
    writer = SegmentWriter(tmp_path, rotate_seconds=60, video=False)
    for i in range(20):  # "you" speaks for 2 s; "others" joins at 1 s; chunks arrive interleaved
        writer.write_audio(AudioChunk(tone(i / 10, frequency=440, amplitude=0.2), i / 10, "you"))
        if i >= 10:
            writer.write_audio(AudioChunk(tone(i / 10, frequency=1000, amplitude=0.2), i / 10, "others"))
    writer.close()
    audio = decode_audio(tmp_path / "audio_0001.ogg")
    assert len(audio) / SAMPLE_RATE == pytest.approx(2.0, abs=0.01)  # not 3 s: the channels overlap

    def level(part: np.ndarray, frequency: float) -> float:
        spectrum = np.abs(np.fft.rfft(part * np.hanning(len(part))))
        freqs = np.fft.rfftfreq(len(part), 1 / SAMPLE_RATE)
        return float(spectrum[np.abs(freqs - frequency) < 5].max() / len(part))

    first, second = audio[1600:14400], audio[17600:30400]
    assert level(first, 440) > 20 * level(first, 1000)  # only "you" in the first second
    assert level(second, 1000) == pytest.approx(level(second, 440), rel=0.25)  # both after


def test_a_gap_in_the_audio_is_kept_as_silence(tmp_path):
    writer = SegmentWriter(tmp_path, video=False)
    for start in (0.0, 0.5, 2.0, 2.5):  # nothing arrived for 1.0-2.0 s
        writer.write_audio(AudioChunk(tone(start, seconds=0.5), start))
    writer.close()
    audio = decode_audio(tmp_path / "audio_0001.ogg")
    assert len(audio) / SAMPLE_RATE == pytest.approx(3.0, abs=0.01)
    assert np.abs(audio[17600:30400]).max() < 0.01  # 1.1 s to 1.9 s
    assert np.sqrt(np.mean(audio[33600:46400] ** 2)) > 0.15  # the audio after the gap is in place


def test_video_frames_of_another_size_are_scaled_to_the_first_frames(tmp_path):
    writer = SegmentWriter(tmp_path, fps=5)
    sizes = [(641, 361), (800, 600), (320, 180), (1920, 1080)]  # odd first size: rounded to even
    for i, (width, height) in enumerate(sizes * 3):
        writer.write_video(VideoFrame(picture(width, height, i * 20), i / 5))
        time.sleep(0.02)
    writer.close()
    assert decoded_frame_sizes(tmp_path / "video_0001.mp4") == {(640, 360)}
    assert durations(tmp_path)["video_0001.mp4"] == pytest.approx(12 / 5, abs=0.01)
    with pytest.raises(ValueError):
        SegmentWriter(tmp_path / "other").write_video(VideoFrame(np.zeros((10, 10), np.uint8), 0.0))


def test_a_full_video_queue_drops_frames_counts_and_says_so(tmp_path):
    logs = LogSink()
    writer = SegmentWriter(tmp_path, fps=5, video_queue_size=1, on_log=logs)
    for i in range(40):  # far faster than the encoder can go
        writer.write_video(VideoFrame(picture(1280, 720, i), i / 5))
    writer.close()
    warnings = [m for level, m in logs if level == "warning"]
    dropped = sum(int(m.split()[1]) for m in warnings)
    assert warnings and 0 < dropped < 40
    with av.open(str(tmp_path / "video_0001.mp4")) as container:
        assert sum(1 for _ in container.decode(video=0)) == 40 - dropped


def test_existing_segments_are_never_overwritten(tmp_path):
    first = SegmentWriter(tmp_path, rotate_seconds=1.0, video=False)
    for i in range(15):
        first.write_audio(AudioChunk(tone(i / 10), i / 10))
    first.close()
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    second = SegmentWriter(tmp_path, rotate_seconds=1.0, video=False)  # e.g. after a crash
    for i in range(5):
        second.write_audio(AudioChunk(tone(i / 10, frequency=880), i / 10))
    second.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audio_0001.ogg", "audio_0002.ogg", "audio_0003.ogg"]
    assert {name: (tmp_path / name).read_bytes() for name in before} == before
    assert abs(dominant_frequency(decode_audio(tmp_path / "audio_0003.ogg")) - 880) < 2


def test_sigkill_loses_at_most_about_a_second(tmp_path):
    rotate = 2.5
    writer = subprocess.Popen([sys.executable, str(CRASH_WRITER), "live", str(tmp_path), "--rotate", str(rotate)],
                              stdout=subprocess.PIPE, text=True)
    try:
        ready = writer.stdout.readline()
        assert ready.startswith("READY"), f"the writer did not start: {ready!r}"
        started_at = float(ready.split()[1])
        while time.monotonic() - started_at < 6.0:
            time.sleep(0.01)
    finally:
        writer.send_signal(signal.SIGKILL)
        killed_at = time.monotonic() - started_at
        writer.wait()
    found = {info.path.name: info for info in probe_segments(tmp_path)}
    assert sorted(found) == ["audio_0001.ogg", "audio_0002.ogg", "audio_0003.ogg",
                             "video_0001.mp4", "video_0002.mp4", "video_0003.mp4"]
    for name in ("audio_0001.ogg", "audio_0002.ogg"):  # closed segments: complete
        assert found[name].error is None and found[name].duration_seconds == pytest.approx(rotate, abs=0.01)
    for name in ("video_0001.mp4", "video_0002.mp4"):  # frames at 0.2 s steps straddle the boundary
        assert found[name].error is None and found[name].duration_seconds == pytest.approx(rotate, abs=0.11)
    open_period = killed_at - 2 * rotate
    for name in ("audio_0003.ogg", "video_0003.mp4"):  # the open one: up to shortly before the kill
        lost = open_period - found[name].duration_seconds
        assert 0 <= lost < 1.5, f"{name}: {lost:.2f} s lost"


def tiny_filesystem_prefix(mount_point: Path) -> list[str]:
    """The unshare command that can mount a tmpfs in a private mount namespace here:
    plain as root, in a user namespace otherwise."""
    for prefix in (["unshare", "--mount"], ["unshare", "--user", "--map-root-user", "--mount"]):
        probe = subprocess.run(prefix + ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount_point)],
                               capture_output=True)
        if probe.returncode == 0:
            return prefix
    pytest.fail("this test fills a tiny tmpfs and needs a private mount namespace "
                "(root, or unprivileged user namespaces); neither is available here")


def test_a_full_disk_raises_storage_error_and_keeps_earlier_segments(tmp_path):
    tiny, copied = tmp_path / "tiny", tmp_path / "copied"
    tiny.mkdir()
    script = 'mount -t tmpfs -o size=600k tmpfs "$1" && exec "$2" "$3" fill "$1" --rotate 1 --copy-to "$4"'
    run = subprocess.run(tiny_filesystem_prefix(tiny) + ["sh", "-c", script, "sh", str(tiny), sys.executable,
                                                          str(CRASH_WRITER), str(copied)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["error"] == "StorageError"
    assert result["message"] == "The recording cannot be written: the disk is full"
    assert result["details"]["errno"] == "ENOSPC"
    failed_period = int(result["failed_at"])  # 1-second periods
    assert failed_period >= 3, "the disk filled before any segment was closed"
    found = {info.path.name: info for info in probe_segments(copied)}
    for index in range(1, failed_period):  # every segment closed before the failure is whole
        for name in (f"audio_{index:04d}.ogg", f"video_{index:04d}.mp4"):
            assert found[name].error is None and found[name].duration_seconds == pytest.approx(1.0, abs=0.01), name
    assert result["stats"]["total_size_bytes"] == sum(p.stat().st_size for p in copied.iterdir())


def test_a_folder_that_cannot_exist_raises_storage_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    for directory in (blocker / "recordings", blocker):
        with pytest.raises(StorageError) as caught:
            SegmentWriter(directory)
        assert caught.value.message.startswith("The recording cannot be written: ")
        assert str(tmp_path) not in caught.value.message  # no paths in user-facing errors


def test_a_folder_removed_while_recording_raises_storage_error_at_the_next_write(tmp_path):
    directory = tmp_path / "session"
    writer = SegmentWriter(directory, rotate_seconds=1.0, video=False)
    for i in range(10):
        writer.write_audio(AudioChunk(tone(i / 10), i / 10))
    shutil.rmtree(directory)
    with pytest.raises(StorageError) as caught:
        for i in range(10, 30):  # the next period needs a new file in the vanished folder
            writer.write_audio(AudioChunk(tone(i / 10), i / 10))
    assert caught.value.details["errno"] == "ENOENT"
    stats = writer.stats()  # what is on disk: the folder took its file along, the next was never made
    assert (stats.segment_count, stats.audio_file_count, stats.total_size_bytes) == (0, 0, 0)
    with pytest.raises(StorageError):  # the writer stays failed: nothing is silently lost
        writer.write_audio(AudioChunk(tone(3.0), 3.0))
    writer.close()  # already reported: closing finalizes quietly
