"""Audio sources on real audio: PulseAudio devices, decoded files, the page tap, mixes."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest

from recorder.audio import (
    SAMPLE_RATE,
    AudioCaptureError,
    DeviceAudioSource,
    FileAudioSource,
    MixAudioSource,
    PageAudioSource,
    list_input_devices,
)
from recorder.audio.base import ChunkStamper
from recorder.audio.device import STALL_SECONDS
from recorder.clock import SessionClock
from tests.fixtures_audio import (  # noqa: F401  (fixtures)
    assert_contiguous,
    best_match,
    concat,
    decode_mono,
    dominant_frequency,
    doomed_pulse_server,
    drain,
    loud_windows,
    null_sink,
    pulse_server,
    speech_wav,
    time_of_sample,
    timeline_errors,
    wait_first_chunk,
    write_tone,
)

REPO = Path(__file__).resolve().parents[2]


class LogSink:
    def __init__(self) -> None:
        self.entries: list[tuple[str, str]] = []

    def __call__(self, level: str, message: str) -> None:
        self.entries.append((level, message))

    def warnings(self) -> list[str]:
        return [m for level, m in self.entries if level == "warning"]


# -- devices (PulseAudio) ------------------------------------------------------------------


def test_pulse_monitor_is_listed_as_loopback(pulse_server):
    devices = {d.name: d for d in list_input_devices()}
    monitor = devices["mb_sink.monitor"]
    assert monitor.is_loopback and monitor.pulse_source == "mb_sink.monitor"
    assert devices[monitor.pulse_source].index == devices["pulse"].index
    assert not devices["pulse"].is_loopback


def test_device_source_records_the_speech_played_into_the_chosen_sink(pulse_server, speech_wav):
    wav = speech_wav("The quarterly budget review starts at nine tomorrow morning.")
    clip = decode_mono(wav)
    clock = SessionClock()
    logs = LogSink()
    with null_sink("mbquiet") as quiet:
        recorded = DeviceAudioSource("mb_sink.monitor", on_log=logs)
        other = DeviceAudioSource(f"{quiet}.monitor", on_log=logs)
        recorded.start(clock)
        other.start(clock)
        try:
            first = [wait_first_chunk(recorded)]
            other_first = [wait_first_chunk(other)]
            time.sleep(0.5)
            played_at = clock.now()
            subprocess.run(["paplay", "--device=mb_sink", str(wav)], check=True, timeout=30)
            played_until = clock.now()
            time.sleep(1.0)
        finally:
            recorded.stop()
            other.stop()
            stopped_at = clock.now()
        chunks = first + drain(recorded)
        quiet_chunks = other_first + drain(other)

    assert recorded.dropped_chunks == 0 and not logs.warnings()
    assert recorded.device.pulse_source == "mb_sink.monitor"
    # Real time: the chunks follow each other (a sound server skipping under load leaves
    # a gap, stamped as such) and end when the recording stopped.
    assert timeline_errors(chunks) < 1.0
    assert stopped_at - 1.5 < chunks[-1].end_time < stopped_at + 0.5
    audio = concat(chunks)
    # The speech is there, unaltered, and stamped when it was played.
    loud = loud_windows(chunks)
    assert loud, "nothing audible was recorded"
    assert played_at - 0.2 < loud[0] < played_at + 5.0  # paplay takes a moment to start
    assert loud[-1] < played_until + 1.0
    offset, score = best_match(audio, clip)
    assert score > 0.8, f"the recording does not contain the speech (correlation {score:.2f})"
    speech_start = time_of_sample(chunks, offset)
    assert played_at - 0.2 < speech_start < played_until - len(clip) / SAMPLE_RATE + 0.3
    # The other sink's monitor heard nothing: each source records its own source only.
    assert np.max(np.abs(concat(quiet_chunks))) < 1e-3


def test_device_source_converts_a_441khz_stereo_capture_to_16khz_mono(pulse_server, tmp_path):
    tone_file = write_tone(tmp_path / "tone.wav", frequency=1000, rate=44100, seconds=1.5, channels=2)
    clock = SessionClock()
    source = DeviceAudioSource("mb_sink.monitor", samplerate=44100)
    source.start(clock)
    try:
        first = [wait_first_chunk(source)]
        subprocess.run(["paplay", "--device=mb_sink", str(tone_file)], check=True, timeout=30)
        time.sleep(0.5)
    finally:
        source.stop()
    chunks = first + drain(source)
    assert source.dropped_chunks == 0 and timeline_errors(chunks) < 0.5
    loud = loud_windows(chunks, threshold=0.1)
    assert loud[-1] + 0.05 - loud[0] == pytest.approx(1.5, abs=0.06)  # the tone lasts as long as played
    audio = concat(chunks)
    start = int((loud[0] - chunks[0].start_time) * SAMPLE_RATE)
    tone = audio[start + 1600: start + 1600 + SAMPLE_RATE]
    assert abs(dominant_frequency(tone) - 1000) < 2  # and keeps its pitch
    assert np.sqrt(np.mean(tone ** 2)) * np.sqrt(2) == pytest.approx(0.5, abs=0.05)  # and its level


def test_unknown_device_fails_with_audio_capture_error(pulse_server):
    source = DeviceAudioSource("no such microphone")
    with pytest.raises(AudioCaptureError) as caught:
        source.start(SessionClock())
    assert "no such microphone" in caught.value.message and "mb_sink.monitor" in caught.value.message


def test_device_overflow_is_counted_and_logged(pulse_server):
    logs = LogSink()
    source = DeviceAudioSource("mb_sink.monitor", queue_size=2, on_log=logs)
    source.start(SessionClock())
    deadline = time.monotonic() + 15
    while source.dropped_chunks < 10 and time.monotonic() < deadline:
        time.sleep(0.1)  # a consumer that never reads
    source.stop()
    dropped = source.dropped_chunks
    assert dropped >= 10
    assert logs.warnings(), "drops were not reported"
    assert sum(int(m.split()[1]) for m in logs.warnings()) == dropped  # every drop reported once
    assert len(drain(source)) == 2  # what fitted in the queue is still delivered


def test_stamper_keeps_counting_through_jitter_and_follows_real_losses():
    stamper = ChunkStamper(1000, tolerance=0.2, window=0.5)
    starts = [stamper.stamp(0.0, 100)]
    for block in range(1, 30):  # 0.1 s blocks; one delivery 0.6 s late
        starts.append(stamper.stamp(block / 10 + (0.6 if block == 10 else 0.03), 100))
    assert starts[:30] == pytest.approx([b / 10 for b in range(30)])
    for block in range(30, 40):  # 0.4 s of audio lost upstream: every estimate is late
        starts.append(stamper.stamp(block / 10 + 0.4, 100))
    assert starts[-1] == pytest.approx(3.9 + 0.4)  # a gap, after the window confirmed it
    assert stamper.stamp(3.0, 100) == 3.0  # the count ran ahead of reality: corrected at once
    assert stamper.stamp(9.0, 100, discontinuity=True) == 9.0


# -- the page tap ------------------------------------------------------------------------


def test_page_source_overflow_drops_newest_and_reports_without_flooding():
    logs = LogSink()
    clock = SessionClock()
    source = PageAudioSource(queue_size=3, on_log=logs)
    source.start(clock)
    for i in range(10):
        source.push(np.full(1600, i / 10, dtype=np.float32), page_time=clock.started_at + i * 0.1)
    assert source.dropped_chunks == 7
    assert logs.warnings() == ["Dropped 1 audio chunks from the meeting page (queue full); 1 dropped in total"]
    source.stop()  # the rest is reported at stop, in one line
    assert logs.warnings()[1:] == ["Dropped 6 audio chunks from the meeting page (queue full); 7 dropped in total"]
    kept = drain(source)
    assert [round(float(c.samples[0]), 1) for c in kept] == [0.0, 0.1, 0.2]
    assert [c.start_time for c in kept] == pytest.approx([0.0, 0.1, 0.2])  # the page's times
    assert source.finished and source.read(timeout=0) is None


def test_page_source_converts_and_stamps_contiguously():
    clock = SessionClock()
    source = PageAudioSource()
    source.start(clock)
    pcm16 = (np.sin(np.arange(1600) / 5) * 16000).astype(np.int16)
    source.push(pcm16.tobytes(), sample_format="s16")
    pushed_at = clock.now()
    source.push(np.ones(800, np.float32).tobytes())
    source.push(np.zeros(800, np.float64))
    source.stop()
    chunks = drain(source)
    assert [len(c.samples) for c in chunks] == [1600, 800, 800]
    assert all(c.samples.dtype == np.float32 and c.channel is None for c in chunks)
    np.testing.assert_allclose(chunks[0].samples, pcm16 / 32768.0, atol=1e-6)
    assert_contiguous(chunks)
    assert abs(chunks[0].start_time - (pushed_at - 0.1)) < 0.5  # a pushed chunk has just ended
    with pytest.raises(RuntimeError):
        PageAudioSource().push(b"\x00\x00\x00\x00")  # not started
    started = PageAudioSource()
    started.start(clock)
    for bad in (b"\x00\x00\x00", np.zeros((2, 10), np.float32), np.zeros(10, np.int32)):
        with pytest.raises(ValueError):
            started.push(bad)


# -- files -------------------------------------------------------------------------------


def test_file_source_resamples_a_441khz_stereo_tone_keeping_its_pitch(tmp_path):
    path = write_tone(tmp_path / "tone.wav", frequency=440, rate=44100, seconds=2.0, channels=2)
    source = FileAudioSource(path, speed=20)
    clock = SessionClock()
    source.start(clock)
    chunks = drain(source)
    audio = concat(chunks)
    assert abs(len(audio) - 2 * SAMPLE_RATE) <= 32
    assert abs(dominant_frequency(audio) - 440) < 1.0
    assert 0.3 < np.sqrt(np.mean(audio[1000:-1000] ** 2)) * np.sqrt(2) < 0.55  # amplitude kept
    assert_contiguous(chunks, tolerance=1e-9)
    assert all(c.channel is None for c in chunks)


def test_file_source_filters_what_16khz_cannot_hold(tmp_path):
    # A 12 kHz tone is above 16 kHz's Nyquist limit: a naive resampler folds it to 4 kHz.
    path = write_tone(tmp_path / "high.wav", frequency=12000, rate=48000, seconds=1.0)
    source = FileAudioSource(path, speed=50)
    source.start(SessionClock())
    audio = concat(drain(source))
    assert np.sqrt(np.mean(audio[2000:-2000] ** 2)) < 0.01


def test_file_source_plays_in_real_time(tmp_path):
    path = write_tone(tmp_path / "tone.flac", frequency=300, rate=48000, seconds=1.5)
    clock = SessionClock()
    source = FileAudioSource(path, chunk_seconds=0.1)
    started = clock.now()
    source.start(clock)
    arrivals = []
    while (chunk := source.read(timeout=5)) is not None:
        arrivals.append((clock.now(), chunk))
    assert source.finished
    elapsed = clock.now() - started
    assert 1.4 < elapsed < 4.0  # never faster than real time; a loaded machine may lag
    for arrived, chunk in arrivals:
        assert chunk.end_time - 0.01 <= arrived < chunk.end_time + 2.0  # not before it was "heard"
    assert_contiguous([c for _, c in arrivals], tolerance=1e-9)
    assert abs(arrivals[0][1].start_time - started) < 0.5


def test_file_source_speed_factor_paces_faster(tmp_path):
    path = write_tone(tmp_path / "tone.wav", frequency=300, rate=16000, seconds=2.0)
    source = FileAudioSource(path, speed=4)
    began = time.monotonic()
    source.start(SessionClock())
    chunks = drain(source)
    assert 0.45 < time.monotonic() - began < 1.9  # 2 s of audio at 4x: never faster
    assert abs(chunks[-1].end_time - chunks[0].start_time - 2.0) < 1e-6  # media time, not wall time


@pytest.mark.parametrize("content", [b"", b"this is not audio at all" * 100])
def test_unreadable_file_fails_with_audio_capture_error(tmp_path, content):
    path = tmp_path / "broken.wav"
    path.write_bytes(content)
    with pytest.raises(AudioCaptureError) as caught:
        FileAudioSource(path).start(SessionClock())
    assert "broken.wav" in caught.value.message
    assert str(tmp_path) not in caught.value.message


def test_missing_file_or_one_without_audio_fails_with_audio_capture_error(tmp_path):
    with pytest.raises(AudioCaptureError) as caught:
        FileAudioSource(tmp_path / "nope.ogg").start(SessionClock())
    assert caught.value.message == "Cannot read audio file 'nope.ogg': No such file or directory"
    silent_film = tmp_path / "film.mp4"
    with av.open(str(silent_film), "w") as container:
        stream = container.add_stream("mpeg4", rate=5)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for packet in stream.encode(av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), np.uint8), format="rgb24")):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    with pytest.raises(AudioCaptureError) as caught:
        FileAudioSource(silent_film).start(SessionClock())
    assert caught.value.message == "The audio file 'film.mp4' has no audio"


# -- mixes -------------------------------------------------------------------------------


def test_mix_keeps_each_sources_channel_label(tmp_path):
    you = FileAudioSource(write_tone(tmp_path / "you.wav", frequency=440, rate=48000, seconds=1.0), speed=10)
    others = FileAudioSource(write_tone(tmp_path / "others.wav", frequency=1000, rate=44100, seconds=1.0), speed=10)
    mix = MixAudioSource({"you": you, "others": others})
    mix.start(SessionClock())
    chunks = drain(mix)
    by_channel = {label: [c for c in chunks if c.channel == label] for label in ("you", "others")}
    assert set(c.channel for c in chunks) == {"you", "others"}
    assert abs(dominant_frequency(concat(by_channel["you"])) - 440) < 2
    assert abs(dominant_frequency(concat(by_channel["others"])) - 1000) < 2
    for label_chunks in by_channel.values():
        assert_contiguous(label_chunks, tolerance=1e-9)
        assert abs(len(concat(label_chunks)) - SAMPLE_RATE) <= 32
    assert mix.dropped_chunks == 0


def test_mix_with_a_failing_source_fails_to_start_and_stops_the_others(tmp_path, pulse_server):
    good = FileAudioSource(write_tone(tmp_path / "you.wav", frequency=440, rate=16000, seconds=5.0))
    mix = MixAudioSource({"you": good, "others": DeviceAudioSource("no such loopback")})
    with pytest.raises(AudioCaptureError):
        mix.start(SessionClock())
    drain(good, timeout=5)
    assert good.finished


def run_server_death_probe(*args: str) -> dict:
    run = subprocess.run([sys.executable, str(REPO / "tests" / "server_death_probe.py"), *args],
                         capture_output=True, text=True, timeout=90)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_device_source_fails_when_the_sound_server_dies(doomed_pulse_server):
    result = run_server_death_probe("device", str(doomed_pulse_server))
    assert result["channels_before"] == ["None"], "no audio before the server was killed"
    assert result["error"] == "AudioCaptureError"
    assert result["message"] == "Audio input 'pulse' stopped delivering audio"
    assert result["seconds"] < STALL_SECONDS + 6  # noticed even when PortAudio's thread hangs
    assert result["finished"]
    assert ["error", result["message"]] in result["logs"]


def test_mix_fails_when_a_source_fails_while_recording(doomed_pulse_server, tmp_path):
    tone = write_tone(tmp_path / "you.wav", frequency=300, rate=16000, seconds=60.0)
    result = run_server_death_probe("mix", str(doomed_pulse_server), str(tone))
    assert result["channels_before"] == ["others", "you"]
    assert result["error"] == "AudioCaptureError" and "stopped delivering audio" in result["message"]
    assert result["finished"] and result["healthy_finished"]  # the rest of the mix was stopped with it
    assert any(level == "error" and message.startswith("[others]") for level, message in result["logs"])
