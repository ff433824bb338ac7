"""Real audio for tests: espeak-ng speech, generated tones, the test PulseAudio server, and
measurements (loudness over time, dominant frequency, where a recording contains a clip)."""
from __future__ import annotations

import os
import signal
import subprocess
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import av
import numpy as np
import pytest

from recorder.audio.base import SAMPLE_RATE, AudioChunk, AudioSource


def make_speech_wav(text: str, path: Path) -> Path:
    """Speech synthesized by espeak-ng (22.05 kHz mono WAV)."""
    subprocess.run(["espeak-ng", "-w", str(path), text], check=True, capture_output=True)
    return path


@pytest.fixture
def speech_wav(tmp_path) -> Callable[[str], Path]:
    """speech_wav("some words") -> a WAV file of those words, spoken."""
    counter = iter(range(1_000_000))
    return lambda text: make_speech_wav(text, tmp_path / f"speech_{next(counter)}.wav")


def write_tone(path: Path, *, frequency: float, rate: int, seconds: float, channels: int = 1,
               amplitude: float = 0.5) -> Path:
    """A sine tone as 16-bit PCM in whatever container `path`'s suffix names."""
    t = np.arange(int(rate * seconds)) / rate
    wave = (amplitude * np.sin(2 * np.pi * frequency * t) * 32767).astype(np.int16)
    interleaved = np.repeat(wave, channels).reshape(1, -1)
    layout = {1: "mono", 2: "stereo"}[channels]
    codec = {".wav": "pcm_s16le", ".flac": "flac"}[path.suffix]
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate, layout=layout)
        frame = av.AudioFrame.from_ndarray(interleaved, format="s16", layout=layout)
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def decode_mono(path: Path) -> np.ndarray:
    """A file decoded to 16 kHz mono float32 (for comparing with what a source captured)."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    parts = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            parts += [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    parts += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(parts)


@pytest.fixture(scope="session")
def pulse_server() -> str:
    """The PulseAudio server the test command started; its absence is a failure, not a skip."""
    server = os.environ.get("PULSE_SERVER")
    if not server:
        pytest.fail("PULSE_SERVER is not set: run the tests with `make test`, or first "
                    "`eval \"$(bash scripts/services.sh start)\"`")
    info = subprocess.run(["pactl", "info"], capture_output=True, text=True)
    if info.returncode != 0:
        pytest.fail(f"PulseAudio at {server} does not answer: {info.stderr.strip()}")
    return server


@pytest.fixture
def doomed_pulse_server(tmp_path, monkeypatch) -> Iterator[int]:
    """A PulseAudio daemon of this test's own, made the server of this process and of the
    processes it starts; the value is the daemon's pid, for the test to kill it."""
    state = tmp_path / "pulse-services"
    env = {**os.environ, "MB_SERVICES_DIR": str(state)}
    script = Path(__file__).resolve().parents[1] / "scripts" / "services.sh"
    exports = subprocess.run(["bash", str(script), "start"], env=env, check=True,
                             capture_output=True, text=True).stdout
    for line in exports.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        monkeypatch.setenv(name, value)
    pid = int((state / "pulse" / "pulse" / "pid").read_text().split()[0])
    yield pid
    subprocess.run(["bash", str(script), "stop"], env=env, capture_output=True)
    try:
        os.kill(pid, signal.SIGKILL)  # the services script cannot stop a daemon that refuses exit
    except ProcessLookupError:
        pass


@contextmanager
def null_sink(prefix: str = "mbtest") -> Iterator[str]:
    """A private PulseAudio null sink (and so a `<name>.monitor` source) for one test."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    module = subprocess.run(
        ["pactl", "load-module", "module-null-sink", f"sink_name={name}"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    try:
        yield name
    finally:
        subprocess.run(["pactl", "unload-module", module], capture_output=True)


def drain(source: AudioSource, timeout: float = 10.0) -> list[AudioChunk]:
    """Every chunk a stopped source still holds."""
    chunks = []
    while (chunk := source.read(timeout=timeout)) is not None:
        chunks.append(chunk)
    assert source.finished, "the source neither delivered nor finished within the timeout"
    return chunks


def wait_first_chunk(source: AudioSource, timeout: float = 15.0) -> AudioChunk:
    chunk = source.read(timeout=timeout)
    assert chunk is not None, f"{source.describe()} delivered nothing within {timeout} s"
    return chunk


def concat(chunks: list[AudioChunk]) -> np.ndarray:
    return np.concatenate([c.samples for c in chunks]) if chunks else np.zeros(0, np.float32)


def assert_contiguous(chunks: list[AudioChunk], tolerance: float = 1e-3) -> None:
    for before, after in zip(chunks, chunks[1:]):
        assert abs(after.start_time - before.end_time) < tolerance, (
            f"gap or overlap of {after.start_time - before.end_time:+.4f} s at {before.end_time:.3f} s")


def time_of_sample(chunks: list[AudioChunk], index: int) -> float:
    """Session time of sample `index` of the chunks' concatenated samples."""
    for chunk in chunks:
        if index < len(chunk.samples):
            return chunk.start_time + index / SAMPLE_RATE
        index -= len(chunk.samples)
    raise IndexError("sample beyond the chunks")


def timeline_errors(chunks: list[AudioChunk]) -> float:
    """Seconds of gaps and overlaps between consecutive chunks, summed."""
    return sum(abs(after.start_time - before.end_time) for before, after in zip(chunks, chunks[1:]))


def loud_windows(chunks: list[AudioChunk], *, window: float = 0.05, threshold: float = 0.01) -> list[float]:
    """Session times of the windows whose RMS exceeds `threshold`."""
    audio, size = concat(chunks), int(window * SAMPLE_RATE)
    return [time_of_sample(chunks, offset) for offset in range(0, len(audio) - size + 1, size)
            if np.sqrt(np.mean(audio[offset: offset + size] ** 2)) > threshold]


def dominant_frequency(samples: np.ndarray, rate: int = SAMPLE_RATE) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[np.argmax(spectrum)])


def best_match(recording: np.ndarray, clip: np.ndarray) -> tuple[int, float]:
    """(offset, normalized correlation) where `clip` best matches inside `recording`."""
    size = 1 << int(np.ceil(np.log2(len(recording) + len(clip))))
    corr = np.fft.irfft(np.fft.rfft(recording, size) * np.conj(np.fft.rfft(clip, size)), size)
    corr = corr[: len(recording) - len(clip) + 1]
    energy = np.sqrt(np.convolve(recording ** 2, np.ones(len(clip)), "valid"))
    score = corr / (np.maximum(energy, 1e-9) * np.linalg.norm(clip))
    offset = int(np.argmax(score))
    return offset, float(score[offset])
