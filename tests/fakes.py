"""The one stand-in for the bot pipeline in tests and benchmarks: a session runner that plays
a script of steps through the session's control (statuses, people, segment files, speech,
log lines) with no browser and no capture; `recorded_speech` writes real Ogg/Opus segment
files of given audio, as the recorder does, for the after-meeting pass to read. The real pipeline is exercised end to end in
tests/e2e and tests/recorder/test_bot.py; this one pins down everything around it (the
session manager, the API, sync, the window) quickly and deterministically.

    runner_factory = scripted(status(JOINING), status(ACTIVE), join("Alice"), say("hi", 0, 1))

After the last step the session waits to be stopped (`end_by_itself=True`: it completes with
MEETING_ENDED). A step list may be a generator, e.g. an endless stream for a benchmark;
between steps a stop request ends it.
"""
from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import numpy as np

from app.models import Status
from app.sessions import SessionControl

Step = Callable[[SessionControl], "Awaitable[None] | None"]

JOINING, ACTIVE, RECORDING, LEAVING = Status.JOINING, Status.ACTIVE, Status.RECORDING, Status.LEAVING


class _Failed(Exception):
    pass


class ScriptedRunner:
    def __init__(self, steps: Iterable[Step], *, end_by_itself: bool = False) -> None:
        self.steps = steps
        self.end_by_itself = end_by_itself

    async def run(self, control: SessionControl) -> None:
        try:
            for step in self.steps:
                if control.stop_requested:
                    break
                result = step(control)
                if asyncio.iscoroutine(result):
                    await result
        except _Failed:
            return
        if not self.end_by_itself:
            await control.wait_stop()
        if control.session.status is not Status.LEAVING:
            control.set_status(Status.LEAVING)
        control.complete("STOP_REQUESTED" if control.stop_requested else "MEETING_ENDED")


def scripted(*steps: Step, end_by_itself: bool = False) -> Callable[..., ScriptedRunner]:
    """A runner factory for SessionManager: every session plays the same steps."""
    return lambda session, link: ScriptedRunner(steps, end_by_itself=end_by_itself)


# -- steps ---------------------------------------------------------------------------------

def status(value: Status) -> Step:
    return lambda control: control.set_status(value)


def happy_path() -> list[Step]:
    """joining -> active, the way a bot gets in."""
    return [status(JOINING), status(ACTIVE)]


def join(name: str, *, bot: bool = False) -> Step:
    return lambda control: control.participant(name, "joined", is_bot=bot)


def join_as_bot() -> Step:
    """The bot itself appears in the meeting's list, under the session's bot name."""
    return lambda control: control.participant(control.session.bot_name, "joined", is_bot=True)


def leave(name: str) -> Step:
    return lambda control: control.participant(name, "left")


def segment_file(size: int = 64, name: str = "audio_0001.ogg") -> Step:
    """Write one small segment file into the session's folder and report it."""
    def write(control: SessionControl) -> None:
        folder = control.output_dir
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"OggS" + bytes(max(0, size - 4)))
        control.recording(segment_count=1, audio_file_count=1, video_file_count=0,
                          total_size_bytes=size)
    return write


def recorded_speech(audio: np.ndarray, *, start: float = 0.5, segment_seconds: float = 300.0,
                    speakers: Iterable[tuple[float, str | None]] = ()) -> Step:
    """Write `audio` (16 kHz mono float32) into the session's folder with the real segment
    writer, from session time `start`, keeping what the session runners keep for the
    after-meeting pass (where the audio begins, the segment length, speaker changes)."""
    from app.refine import AUDIO_START_KEY, SEGMENT_SECONDS_KEY
    from recorder.audio.base import AudioChunk
    from recorder.segments import SegmentWriter

    def write(control: SessionControl) -> None:
        writer = SegmentWriter(control.output_dir, rotate_seconds=segment_seconds, video=False)
        control.metadata(**{AUDIO_START_KEY: start, SEGMENT_SECONDS_KEY: segment_seconds})
        step = 1600
        for offset in range(0, len(audio), step):
            writer.write_audio(AudioChunk(audio[offset:offset + step], start + offset / 16000))
        writer.close()
        for time, name in speakers:
            control.speaker(time, name)
        stats = writer.stats()
        control.recording(segment_count=stats.segment_count, audio_file_count=stats.audio_file_count,
                          video_file_count=0, total_size_bytes=stats.total_size_bytes)
    return write


def recording(**stats: Any) -> Step:
    return lambda control: control.recording(**stats)


def say(text: str, start: float, end: float, *, speaker: str | None = None,
        confidence: float = 0.9, partial: str | None = None, from_thread: bool = False) -> Step:
    """A final transcript line, after its partial when `partial` is given. `from_thread`
    reports it from another thread, as the transcriber's worker does."""
    def report(control: SessionControl) -> None:
        if partial is not None:
            control.transcript(text=partial, start_time=start, end_time=(start + end) / 2,
                               is_partial=True, speaker=speaker)
        control.transcript(text=text, start_time=start, end_time=end, is_partial=False,
                           speaker=speaker, confidence=confidence)

    def run(control: SessionControl) -> None:
        if not from_thread:
            report(control)
            return
        worker = threading.Thread(target=report, args=(control,))
        worker.start()
        worker.join()
    return run


def partial(text: str, start: float, end: float, *, speaker: str | None = None) -> Step:
    return lambda control: control.transcript(text=text, start_time=start, end_time=end,
                                              is_partial=True, speaker=speaker)


def log(level: str, message: str, **details: Any) -> Step:
    return lambda control: control.log(level, message, **details)


def pause(seconds: float) -> Step:
    """Wait, but end the wait early when the session is stopped."""
    async def wait(control: SessionControl) -> None:
        try:
            await asyncio.wait_for(control.wait_stop(), seconds)
        except asyncio.TimeoutError:
            pass
    return wait


def until(condition: Callable[[], bool]) -> Step:
    """Hold the script until `condition()` is true (or the session is stopped)."""
    async def wait(control: SessionControl) -> None:
        while not (condition() or control.stop_requested):
            await asyncio.sleep(0.01)
    return wait


def fail(code: str, message: str) -> Step:
    def end(control: SessionControl) -> None:
        control.fail(code, message)
        raise _Failed
    return end


class Gates:
    """Named gates a test opens to let scripted sessions go on (thread-safe)."""

    def __init__(self) -> None:
        self.open_all = False
        self._lock = threading.Lock()
        self._events: dict[str, threading.Event] = {}

    def _event(self, name: str) -> threading.Event:
        with self._lock:
            return self._events.setdefault(name, threading.Event())

    def open(self, name: str) -> None:
        self._event(name).set()

    def step(self, name: str) -> Step:
        event = self._event(name)
        return until(lambda: self.open_all or event.is_set())
