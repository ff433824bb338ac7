"""Audio for the after-meeting pass's tests: WAV files of given samples, a conversation
split into the two channels of a device mix, each silent while the other speaks, and such a
conversation recorded through the real "record this computer" runner."""
from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np

from bench.refine import write_wav

RATE = 16000


def channel_wavs(speech, folder: Path) -> tuple[Path, Path]:
    """("you": Alice's turns, "others": everyone else's) as two WAV files of equal length."""
    you, others = np.zeros_like(speech.audio), np.zeros_like(speech.audio)
    for name, begin, end in speech.spans:
        span = slice(int(begin * RATE), int(end * RATE))
        (you if name == "Alice" else others)[span] = speech.audio[span]
    return write_wav(folder / "you.wav", you), write_wav(folder / "others.wav", others)


def record_device_mix(store, speech, folder: Path, monkeypatch):
    """`speech` recorded as "record this computer" records it — the real runner, pipeline and
    segment writer — from two files standing in for the devices, played at 4x: Alice's turns
    on the microphone ("you"), everyone else's on the system sound ("others"). Live
    transcription is off: the after-meeting pass is what the tests look at. Returns the
    manager and the finished session's id."""
    from app.runners import device_session
    from app.runners.device_session import DeviceSessionOptions, DeviceSessionRunner
    from app.sessions import SessionManager
    from recorder.audio.file import FileAudioSource
    from recorder.audio.mix import MixAudioSource
    from recorder.pipeline import PipelineConfig

    you, others = channel_wavs(speech, folder)
    monkeypatch.setattr(device_session, "open_device_mix", lambda mic, system: MixAudioSource(
        {"you": FileAudioSource(you, speed=4.0), "others": FileAudioSource(others, speed=4.0)}))
    options = DeviceSessionOptions(mic="test", system="test", max_duration=speech.duration / 4 + 3,
                                   pipeline=PipelineConfig(transcription_enabled=False, screen_capture=False))
    manager = SessionManager(store)

    async def run() -> str:
        session = manager.start_local(lambda s, _link: DeviceSessionRunner(s, None, options))
        while manager.is_running(session.session_id):
            await asyncio.sleep(0.05)
        return session.session_id

    return manager, asyncio.run(run())


__all__ = ["channel_wavs", "record_device_mix", "write_wav"]
