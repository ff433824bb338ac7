"""The runner behind "record this computer": microphone and/or system audio (kept apart as
"you" and "others"), optionally a monitor's screen, into the same pipeline as a bot session.

No meeting to join, so the status passes through joining and active at once; the session
ends when the user stops it or `max_duration` is reached.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from app.links import MeetingLink
from app.models import Session, Status
from app.runners.common import for_session, kept_for_refine, media_error_code, session_callbacks
from app.sessions import SessionControl
from app.workers import off_loop
from recorder.audio.base import AudioSource
from recorder.errors import MediaError
from recorder.pipeline import PipelineConfig, RecordingPipeline


@dataclass
class DeviceSessionOptions:
    mic: str | int | None = None       # a device name or index; None: not recorded
    system: str | int | None = None    # a loopback/monitor device; None: not recorded
    screen_monitor: int | None = None  # mss monitor number; None: no screen
    max_duration: float | None = None  # seconds
    pipeline: PipelineConfig = field(default_factory=PipelineConfig)


def open_device_mix(mic: str | int | None, system: str | int | None) -> AudioSource:
    from recorder.audio.device import DeviceAudioSource
    from recorder.audio.mix import MixAudioSource

    sources: dict[str, AudioSource] = {}
    if mic is not None:
        sources["you"] = DeviceAudioSource(mic)
    if system is not None:
        sources["others"] = DeviceAudioSource(system)
    if not sources:
        raise ValueError("choose a microphone, a system-audio device, or both")
    return MixAudioSource(sources)


class DeviceSessionRunner:
    def __init__(self, session: Session, link: MeetingLink | None, options: DeviceSessionOptions) -> None:
        self.session = session
        self.options = options

    async def run(self, control: SessionControl) -> None:
        loop = asyncio.get_running_loop()
        opts = self.options
        failed: asyncio.Future[MediaError] = loop.create_future()

        def fail_once(error: MediaError) -> None:
            if not failed.done():
                failed.set_result(error)

        def mark_recording() -> None:
            if control.session.status is Status.ACTIVE:
                control.set_status(Status.RECORDING)

        control.set_status(Status.JOINING)
        control.set_status(Status.ACTIVE)
        config = for_session(opts.pipeline, control, screen_capture=opts.screen_monitor is not None)
        pipeline = RecordingPipeline(
            control.output_dir, kept_for_refine(open_device_mix(opts.mic, opts.system), control, config), config,
            session_callbacks(
                control, first_audio=lambda: loop.call_soon_threadsafe(mark_recording),
                failed=lambda error: loop.call_soon_threadsafe(fail_once, error)),
            screen_monitor=opts.screen_monitor)
        try:
            await off_loop(pipeline.start)
        except MediaError as exc:  # the devices or the folder cannot be used at all
            control.fail(media_error_code(exc), exc.message)
            return
        waits: set[asyncio.Future] = {asyncio.ensure_future(control.wait_stop()), failed}
        try:
            done, _ = await asyncio.wait(waits, timeout=opts.max_duration,
                                         return_when=asyncio.FIRST_COMPLETED)
            end_reason = "STOP_REQUESTED" if done else "MAX_DURATION"
            control.set_status(Status.LEAVING)
            result = await off_loop(pipeline.finish)
            error = failed.result() if failed.done() else result.failure
            if error is not None:
                control.fail(media_error_code(error), error.message)
            else:
                control.complete(end_reason)
        finally:
            for waiter in waits:
                waiter.cancel()
