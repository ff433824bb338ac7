"""Records from a PulseAudio server and kills it, in a process of its own, for the tests of
a sound server that dies mid-recording. Prints one JSON line with what the source did.

  server_death_probe.py device SERVER_PID      a DeviceAudioSource on the `pulse` device
  server_death_probe.py mix SERVER_PID TONE    a mix of that device ("others") and a file ("you")

A separate process because after the server's death libpulse can leave PortAudio's thread
blocked for good, and PortAudio's exit handler then waits for it forever: the probe ends
with os._exit once it has reported.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recorder.audio.base import AudioCaptureError, AudioSource
from recorder.audio.device import PULSE_DEVICE_NAME, DeviceAudioSource
from recorder.audio.file import FileAudioSource
from recorder.audio.mix import MixAudioSource
from recorder.clock import SessionClock


def wait_for_channels(source: AudioSource, channels: set, timeout: float = 20) -> set:
    seen: set = set()
    deadline = time.monotonic() + timeout
    while not channels <= seen and time.monotonic() < deadline:
        chunk = source.read(timeout=1)
        if chunk is not None:
            seen.add(chunk.channel)
    return seen


def main() -> None:
    mode, server_pid = sys.argv[1], int(sys.argv[2])
    logs: list = []
    device = DeviceAudioSource(PULSE_DEVICE_NAME)
    if mode == "mix":
        healthy = FileAudioSource(sys.argv[3])
        source: AudioSource = MixAudioSource({"you": healthy, "others": device}, on_log=lambda *e: logs.append(e))
        expected = {"you", "others"}
    else:
        source, expected = device, {None}
        device.on_log = lambda *entry: logs.append(entry)
    source.start(SessionClock())
    result: dict = {"channels_before": sorted(map(str, wait_for_channels(source, expected)))}
    os.kill(server_pid, signal.SIGKILL)
    killed = time.monotonic()
    try:
        while time.monotonic() - killed < 20:
            source.read(timeout=1)
        result["error"] = None
    except AudioCaptureError as exc:
        result.update(error=type(exc).__name__, message=exc.message, seconds=time.monotonic() - killed)
    source.stop()
    result.update(finished=source.finished, logs=logs)
    if mode == "mix":
        result["healthy_finished"] = healthy.finished
    print(json.dumps(result), flush=True)
    os._exit(0)


if __name__ == "__main__":
    main()
