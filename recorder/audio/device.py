"""Capture from an input device (microphone, or the system's output through a loopback).

Devices come from PortAudio (through `sounddevice`). On Linux PortAudio reaches PulseAudio
and PipeWire only through the ALSA `pulse` device, which records the server's default
source; their individual sources (microphones and the `.monitor` of every output, i.e.
what the computer plays) are listed with `pactl` and opened through that same `pulse`
device with the `PULSE_SOURCE` environment variable set while the stream opens. libpulse
reads it when the stream connects, so each stream keeps its own source and the process
environment is restored right after.

When a recorded PulseAudio source disappears, the server moves the stream to its default
source and recording goes on from there; when the server itself goes away, the stream
ends and the source fails with AudioCaptureError.
"""
from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

try:
    import sounddevice as sd
except OSError as exc:  # the PortAudio library itself is missing
    sd = None
    _PORTAUDIO_MISSING = str(exc)

from recorder.audio.base import SAMPLE_RATE, AudioCaptureError, AudioChunk, AudioSource, ChunkStamper
from recorder.audio.resample import MonoResampler
from recorder.clock import SessionClock
from recorder.drops import LogFn

PULSE_DEVICE_NAME = "pulse"
CHUNK_SECONDS = 0.05  # callback blocks are gathered into chunks of at least this length
STALL_SECONDS = 5.0  # no audio for this long (a stream starts within ~2 s) means the device is lost
CLOSE_SECONDS = 3.0  # how long stop() waits for PortAudio to close the stream
_LOOPBACK_MARKERS = ("monitor", "loopback", "stereo mix", "what u hear")
_pulse_env_lock = threading.Lock()  # PULSE_SOURCE is process-wide while a stream opens


@dataclass(frozen=True)
class AudioDevice:
    name: str
    index: int  # PortAudio device index that opens it
    is_loopback: bool  # records what the computer plays rather than a microphone
    default_samplerate: float
    max_input_channels: int
    pulse_source: str | None = None  # PulseAudio/PipeWire source opened through `pulse`


def list_input_devices() -> list[AudioDevice]:
    """Every input PortAudio offers, then every PulseAudio/PipeWire source where reachable."""
    _require_portaudio()
    try:
        raw = sd.query_devices()
    except sd.PortAudioError as exc:
        raise AudioCaptureError(f"Audio devices cannot be listed: {exc}") from exc
    devices = [
        AudioDevice(
            name=d["name"],
            index=d["index"],
            is_loopback=any(m in d["name"].lower() for m in _LOOPBACK_MARKERS),
            default_samplerate=float(d["default_samplerate"]),
            max_input_channels=int(d["max_input_channels"]),
        )
        for d in raw
        if d["max_input_channels"] > 0
    ]
    pulse = next((d for d in devices if d.name == PULSE_DEVICE_NAME), None)
    if pulse is not None:
        devices += _pulse_sources(pulse.index)
    return devices


def _require_portaudio() -> None:
    if sd is None:
        raise AudioCaptureError(
            f"Audio devices cannot be used: {_PORTAUDIO_MISSING} (install PortAudio, e.g. libportaudio2)"
        )


def _pulse_sources(pulse_index: int) -> list[AudioDevice]:
    """Sources from `pactl list short sources`: index, name, driver, sample spec, state."""
    try:
        listing = subprocess.run(
            ["pactl", "list", "short", "sources"], capture_output=True, text=True, timeout=5, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []  # no pactl or no server: PortAudio's own list is all there is
    sources = []
    for line in listing.splitlines():
        fields = line.split("\t")
        if len(fields) < 4:
            continue
        name, spec = fields[1], fields[3].split()
        channels = next((int(s[:-2]) for s in spec if s.endswith("ch") and s[:-2].isdigit()), 2)
        rate = next((float(s[:-2]) for s in spec if s.endswith("Hz") and s[:-2].isdigit()), 48000.0)
        sources.append(AudioDevice(name, pulse_index, name.endswith(".monitor"), rate, channels, name))
    return sources


def find_input_device(device: AudioDevice | str | int | None) -> AudioDevice:
    """Resolves a device given by name (exact, else a unique part of it), index or None (default)."""
    if isinstance(device, AudioDevice):
        return device
    devices = list_input_devices()
    if device is None:
        index = sd.default.device[0]
        device = index if index is not None and index >= 0 else None
        if device is None:
            raise AudioCaptureError("No audio input device is available")
    if isinstance(device, int):
        match = [d for d in devices if d.index == device and d.pulse_source is None]
    else:
        match = [d for d in devices if d.name == device] or [
            d for d in devices if device.lower() in d.name.lower()
        ]
    if len(match) == 1:
        return match[0]
    names = ", ".join(repr(d.name) for d in (match or devices)) or "none"
    problem = "matches several" if match else "is not among"
    raise AudioCaptureError(
        f"Audio input {device!r} {problem} the available inputs ({names})", details={"device": str(device)}
    )


class DeviceAudioSource(AudioSource):
    """Records one input device; the PortAudio callback only copies the block and enqueues it.

    Down-mixing and resampling to 16 kHz mono happen in `read()`, on the consumer's thread.
    A device that stops delivering (unplugged, server gone, or delivering nothing for
    STALL_SECONDS) ends the source with an AudioCaptureError.
    """

    def __init__(
        self,
        device: AudioDevice | str | int | None = None,
        *,
        samplerate: int | None = None,
        queue_size: int = 200,
        on_log: LogFn | None = None,
    ) -> None:
        self._requested = device
        self._device: AudioDevice | None = None
        super().__init__(queue_size=queue_size, on_log=on_log)
        self.samplerate = samplerate
        self._stream: sd.InputStream | None = None
        self._stopping = False
        self._clock: SessionClock | None = None
        self._rate = SAMPLE_RATE
        self._stamper: ChunkStamper | None = None  # made for the device's rate when it opens
        self._resampler = MonoResampler()
        self._pending: list[np.ndarray] = []  # blocks gathered by the callback (its thread only)
        self._pending_frames = 0
        self._pending_start = self._pending_end = 0.0
        self._last_block = 0.0  # time.monotonic() of the last callback
        self._raw_next: float | None = None  # expected start of the next queued block
        self._out_anchor = 0.0
        self._out_samples = 0

    def describe(self) -> str:
        return f"audio input {self._device.name if self._device else self._requested!r}"

    @property
    def device(self) -> AudioDevice | None:
        return self._device

    def start(self, clock: SessionClock) -> None:
        _require_portaudio()
        self._clock = clock
        self._device = device = find_input_device(self._requested)
        with _pulse_env_lock:
            saved = os.environ.get("PULSE_SOURCE")
            if device.pulse_source is not None:
                os.environ["PULSE_SOURCE"] = device.pulse_source
            try:
                self._stream = self._open(device)
                self._last_block = time.monotonic()
                self._stream.start()
            except sd.PortAudioError as exc:
                if self._stream is not None:
                    self._stream.close(ignore_errors=True)
                    self._stream = None
                raise AudioCaptureError(
                    f"Cannot record from audio input {device.name!r}: {exc}", details={"device": device.name}
                ) from exc
            finally:
                if saved is None:
                    os.environ.pop("PULSE_SOURCE", None)
                else:
                    os.environ["PULSE_SOURCE"] = saved
        self._log("info", f"Recording {self.describe()} at {self._rate} Hz")

    def _open(self, device: AudioDevice) -> sd.InputStream:
        """16 kHz mono where the device (or the sound server) converts, else its own format;
        or the `samplerate` asked for, in stereo where there is stereo (converted here)."""
        stereo = min(2, device.max_input_channels)
        if self.samplerate is not None:
            candidates = [(self.samplerate, stereo), (self.samplerate, 1)]
        else:
            rate = int(device.default_samplerate)
            candidates = [(SAMPLE_RATE, 1), (rate, 1), (rate, stereo)]
        # The first accepted setting wins; if none is, the last one is tried so that the
        # stream reports PortAudio's own reason.
        for samplerate, channels in candidates:
            try:
                sd.check_input_settings(device=device.index, samplerate=samplerate, channels=channels, dtype="float32")
            except sd.PortAudioError:
                continue
            break
        self._rate = samplerate
        # Blocks arrive in bursts of a few (jitter of ~0.15 s); audio a sound server skipped
        # is followed within a third of a second.
        self._stamper = ChunkStamper(samplerate, tolerance=0.15, window=0.3)
        return sd.InputStream(
            device=device.index,
            samplerate=samplerate,
            channels=channels,
            dtype="float32",
            # PortAudio's own block size and its default buffer: through the ALSA `pulse`
            # plugin, fixed blocks lose ~20 ms and a 0.5 s buffer ~0.15 s of a monitor's
            # audio whenever playback starts (measured against parec: no loss this way).
            blocksize=0,
            latency="high",
            callback=self._callback,
            finished_callback=self._on_stream_finished,
        )

    def _callback(self, indata: np.ndarray, frames: int, time_info: Any, status: sd.CallbackFlags) -> None:
        self._last_block = time.monotonic()
        if status.input_overflow:
            self._drops.drop("the device's buffer overran")
        # The block has just been completed, so it began `frames` ago at the latest.
        # (PortAudio's own capture time is unusable through the ALSA `pulse` plugin: it
        # is off by most of a second as a stream starts, and sometimes in the future.)
        assert self._clock is not None and self._stamper is not None
        estimate = self._clock.now() - frames / self._rate
        start = self._stamper.stamp(estimate, frames, discontinuity=status.input_overflow)
        if self._pending and abs(start - self._pending_end) > 1e-6:
            self._queue_pending()  # not contiguous: the gathered blocks go as they are
        if not self._pending:
            self._pending_start = start
        self._pending.append(indata.copy())
        self._pending_frames += frames
        self._pending_end = start + frames / self._rate
        if self._pending_frames >= self._rate * CHUNK_SECONDS:
            self._queue_pending()

    def _queue_pending(self) -> None:
        """PortAudio's blocks are a few milliseconds long: they are queued in chunks."""
        if self._pending:
            self._offer((np.concatenate(self._pending), self._pending_start))
        self._pending, self._pending_frames = [], 0

    def _on_stream_finished(self) -> None:
        """PortAudio ended the stream (or `read` found it dead) without being asked to."""
        if not self._stopping:
            assert self._device is not None
            self._finish(AudioCaptureError(f"Audio input {self._device.name!r} stopped delivering audio"))

    def read(self, timeout: float | None = None) -> AudioChunk | None:
        # Waits in slices so that a stream that died silently is noticed while waiting.
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self._check_alive()
            wait = 0.5 if deadline is None else min(0.5, max(0.0, deadline - time.monotonic()))
            chunk = super().read(wait)
            if chunk is not None or self.finished or (deadline is not None and time.monotonic() >= deadline):
                return chunk

    def _check_alive(self) -> None:
        """A stream can die without PortAudio saying so: when the sound server goes away,
        the ALSA `pulse` plugin may block PortAudio's thread for good."""
        stream = self._stream
        if stream is None or self._stopping or self._queue.closed:
            return
        if not stream.active or time.monotonic() - self._last_block > STALL_SECONDS:
            self._on_stream_finished()

    def _to_chunk(self, item: tuple[np.ndarray, float]) -> AudioChunk:
        block, start = item
        if self._raw_next is None or abs(start - self._raw_next) > 1e-6:
            # First block, or blocks were lost: the resampled stream restarts at this block.
            self._resampler = MonoResampler()
            self._out_anchor, self._out_samples = start, 0
        self._raw_next = start + len(block) / self._rate
        samples = self._resampler.push_array(block, self._rate)
        chunk = AudioChunk(samples, self._out_anchor + self._out_samples / SAMPLE_RATE)
        self._out_samples += len(samples)
        return chunk

    def stop(self) -> None:
        """Stops and closes the stream; never hangs on a stream whose thread is stuck."""
        self._stopping = True
        stream, self._stream = self._stream, None
        if stream is not None:
            closer = threading.Thread(target=self._close, args=(stream,), name="audio-close", daemon=True)
            closer.start()
            closer.join(CLOSE_SECONDS)
            if closer.is_alive():
                self._log("warning", f"The {self.describe()} did not close; it is left behind")
            else:
                self._queue_pending()  # the callback has stopped: its last blocks are ours to send
        self._finish()

    def _close(self, stream: sd.InputStream) -> None:
        try:
            stream.stop()
        except sd.PortAudioError as exc:
            self._log("warning", f"Stopping the {self.describe()} failed: {exc}")
        finally:
            stream.close(ignore_errors=True)
