"""The runner behind a bot session: the meeting bot joins, its page audio and window feed the
recording pipeline, and every event goes to the session's control (the SessionManager).

Status map: bot loading/pre-join/lobby -> joining; admitted -> active; first audio ->
recording; leaving on stop or when the meeting ends; then completed or failed with the
bot's code (PLATFORMS.md vocabulary).
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from app.models import Status
from app.workers import off_loop
from recorder.audio.page import PageAudioSource
from recorder.bot.bot import BotConfig, LeaveTimers, MeetingBot
from recorder.clock import SessionClock
from recorder.pipeline import PipelineConfig, RecordingPipeline, session_callbacks
from recorder.speakers import SpeakerTimeline

LEAVE_TIMEOUT_S = 20.0


@dataclass
class BotSessionOptions:
    pipeline: PipelineConfig = field(default_factory=PipelineConfig)
    timers: LeaveTimers = field(default_factory=LeaveTimers)
    # Demo/test mode only: hosts mapped to the meeting simulator whose self-signed
    # certificate may be accepted. Empty for real meetings.
    trusted_cert_hosts: frozenset[str] = frozenset()


class BotSessionRunner:
    def __init__(self, session, link, options: BotSessionOptions) -> None:
        self.session = session
        self.link = link
        self.options = options

    async def run(self, control) -> None:
        loop = asyncio.get_running_loop()
        clock = SessionClock()
        speakers = SpeakerTimeline()
        source = PageAudioSource(on_log=control.log)
        bot = MeetingBot(
            BotConfig(join_url=self.link.join_url, platform=self.link.platform,
                      bot_name=self.session.bot_name, debug_mode=self.session.debug_mode,
                      timers=self.options.timers,
                      trusted_cert_hosts=self.options.trusted_cert_hosts),
            audio_sink=source.push)  # chunks carry the monotonic time of their first sample
        finished: asyncio.Future = loop.create_future()
        pipeline_failed: asyncio.Future = loop.create_future()
        state: dict = {"pipeline": None, "starting": None}
        source.start(clock)  # the page may send audio while the pipeline is still starting

        def on_phase(phase: str) -> None:
            status = Status(control.session.status)
            if phase in ("loading", "prejoin", "lobby") and status is Status.INITIALIZING:
                control.set_status(Status.JOINING)
            elif phase == "admitted" and status in (Status.INITIALIZING, Status.JOINING):
                if status is Status.INITIALIZING:
                    control.set_status(Status.JOINING)
                control.set_status(Status.ACTIVE)
                start_pipeline()
            if phase == "lobby":
                control.log("info", "Waiting in the lobby to be admitted")

        def start_pipeline() -> None:
            cfg = self.options.pipeline
            pipeline = RecordingPipeline(
                control.output_dir, source,
                PipelineConfig(**{**cfg.__dict__,
                                  "transcription_enabled": self.session.transcription_enabled
                                  and cfg.transcription_enabled,
                                  "language": self.session.transcription_language}),
                session_callbacks(
                    control, first_audio=lambda: loop.call_soon_threadsafe(mark_recording),
                    speech=bot.note_audio_activity,
                    failed=lambda code, msg: loop.call_soon_threadsafe(
                        _set_once, pipeline_failed, (code, msg))),
                clock=clock, speakers=speakers, screen_region=bot.window_region)
            state["pipeline"] = pipeline
            # Opening files and loading the model take a while: not on the GUI thread.
            state["starting"] = asyncio.ensure_future(start_off_loop(pipeline))

        async def start_off_loop(pipeline: RecordingPipeline) -> None:
            try:
                await off_loop(pipeline.start)
            except Exception as exc:  # storage or capture cannot start: the session fails
                state["pipeline"] = None
                code = getattr(exc, "code", "AUDIO_CAPTURE_FAILED")
                _set_once(pipeline_failed, (code, getattr(exc, "message", str(exc))))

        def mark_recording() -> None:
            if control.session.status == Status.ACTIVE.value:
                control.set_status(Status.RECORDING)

        bot.phase_changed.connect(on_phase)
        bot.participant_joined.connect(lambda name, is_bot: control.participant(name, "joined", is_bot=is_bot))
        bot.participant_left.connect(lambda name: control.participant(name, "left"))
        bot.speaker_changed.connect(lambda name: speakers.set_speaker(clock.now(), name))
        bot.log.connect(lambda level, message: control.log(level, message))
        bot.finished.connect(lambda outcome, code, message: _set_once(finished, (outcome, code, message)))

        control.log("info", f"Bot '{self.session.bot_name}' is joining {self.link.platform} "
                            f"meeting {self.link.meeting_id}")
        bot.start()
        stop_wait = asyncio.ensure_future(control.wait_stop())
        try:
            await asyncio.wait({finished, stop_wait, pipeline_failed},
                               return_when=asyncio.FIRST_COMPLETED)
            outcome = None
            if finished.done():
                outcome = finished.result()
            elif pipeline_failed.done():
                code, message = pipeline_failed.result()
                outcome = ("failed", code, message)
                bot.leave(code)
            else:
                self._leaving(control)
                bot.leave("STOP_REQUESTED")
                try:
                    outcome = await asyncio.wait_for(asyncio.shield(finished), LEAVE_TIMEOUT_S)
                except asyncio.TimeoutError:
                    control.log("warning", "The meeting page did not confirm leaving; closed it")
                    outcome = ("completed", "STOP_REQUESTED", "Stopped")
            kind, code, message = outcome
            if kind == "completed":
                self._leaving(control)
            if state["starting"] is not None:
                await state["starting"]
            pipeline = state["pipeline"]
            if pipeline is not None:
                result = await off_loop(pipeline.finish)
                if result.error_code and kind == "completed":
                    kind, code, message = "failed", result.error_code, result.error_message
            if kind == "completed":
                control.complete(code)
            else:
                control.fail(code, message)
        finally:
            stop_wait.cancel()
            bot.close()

    @staticmethod
    def _leaving(control) -> None:
        if control.session.status not in (Status.LEAVING.value, Status.COMPLETED.value,
                                          Status.FAILED.value):
            control.set_status(Status.LEAVING)


def _set_once(future: asyncio.Future, value) -> None:
    if not future.done():
        future.set_result(value)
