"""The runner behind a bot session: the meeting bot joins, its page audio and window feed the
recording pipeline, and every event goes to the session's control (the SessionManager).

Status map: bot loading/pre-join/lobby -> joining; admitted -> active; first audio ->
recording; leaving on stop or when the meeting ends; then completed or failed with the
bot's code (docs/PLATFORMS.md, "Outcomes"). The title the call shows becomes the session's
title (`metadata.title`) unless the user already gave it one.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from app.diagnostics import write_bundle
from app.errors import StorageError
from app.links import MeetingLink
from app.models import Session, Status
from app.runners.common import for_session, kept_for_refine, media_error_code, session_callbacks
from app.sessions import SessionControl
from app.settings import Settings
from app.workers import off_loop, settle_heap
from recorder.audio.page import PageAudioSource
from recorder.bot.bot import BotConfig, LeaveTimers, MeetingBot
from recorder.bot.diagnostics import PageDiagnostics
from recorder.bot.outcome import Outcome, completed, failed
from recorder.clock import SessionClock
from recorder.errors import MediaError
from recorder.pipeline import PipelineConfig, RecordingPipeline, load_ahead
from recorder.speakers import SpeakerTimeline

LEAVE_TIMEOUT_S = 20.0


def leave_timers(settings: Settings) -> LeaveTimers:
    t = settings.timers
    return LeaveTimers(waiting_room=t.waiting_room_s, no_one_joined=t.no_one_joined_s,
                       everyone_left=t.everyone_left_s, silence=t.silence_s,
                       silence_warmup=t.silence_warmup_s, max_duration=t.max_duration_s)


@dataclass
class BotSessionOptions:
    pipeline: PipelineConfig = field(default_factory=PipelineConfig)
    timers: LeaveTimers = field(default_factory=LeaveTimers)
    unexplained_after: float = BotConfig.unexplained_after   # seconds on an unknown screen before diagnostics
    # Demo/test mode only: SHA-256 fingerprints of the meeting simulator's certificate, the
    # one certificate error the bot may accept. Empty for real meetings.
    trusted_certificates: frozenset[str] = frozenset()


class BotSessionRunner:
    def __init__(self, session: Session, link: MeetingLink | None, options: BotSessionOptions) -> None:
        if link is None:
            raise ValueError("a bot session needs a meeting link")
        self.session = session
        self.link = link
        self.options = options

    async def run(self, control: SessionControl) -> None:
        await _BotSession(self.session, self.link, self.options, control).run()


class _BotSession:
    """One run: the bot, the page audio, the pipeline once admitted, and how it all ends."""

    def __init__(self, session: Session, link: MeetingLink, options: BotSessionOptions,
                 control: SessionControl) -> None:
        self.control = control
        self.options = options
        self.loop = asyncio.get_running_loop()
        self.clock = SessionClock()
        self.speakers = SpeakerTimeline()
        self.source = PageAudioSource(on_log=control.log)
        self.bot = MeetingBot(
            BotConfig(join_url=link.join_url, platform=link.platform, bot_name=session.bot_name,
                      debug_mode=session.debug_mode, timers=options.timers,
                      unexplained_after=options.unexplained_after,
                      trusted_certificates=options.trusted_certificates),
            audio_sink=self.source.push)  # chunks carry the monotonic time of their first sample
        self.finished: asyncio.Future[Outcome] = self.loop.create_future()
        self.recording_failed: asyncio.Future[MediaError] = self.loop.create_future()
        self.pipeline: RecordingPipeline | None = None
        self.pipeline_starting: asyncio.Future[None] | None = None
        self.config = options.pipeline   # with the session's own choices once it runs
        self.intro = (f"Bot '{session.bot_name}' is joining {link.platform} meeting "
                      f"{link.meeting_id}")

    async def run(self) -> None:
        bot, control = self.bot, self.control
        bot.phase_changed.connect(self._on_phase)
        bot.participant_joined.connect(lambda name, is_bot: control.participant(name, "joined", is_bot=is_bot))
        bot.participant_left.connect(lambda name: control.participant(name, "left"))
        bot.speaker_changed.connect(self._speaker_changed)
        bot.title_found.connect(control.page_title)   # kept unless the user named the session
        bot.log.connect(lambda level, message: control.log(level, message))
        bot.finished.connect(lambda outcome: _set_once(self.finished, outcome))
        bot.diagnostics_ready.connect(self._save_diagnostics)

        self.source.start(self.clock)  # the page may send audio while the pipeline is still starting
        control.log("info", self.intro)
        self.config = for_session(self.options.pipeline, control)
        loading = asyncio.ensure_future(self._load_ahead())
        bot.start()
        stop_wait = asyncio.ensure_future(control.wait_stop())
        try:
            outcome = await self._stay(stop_wait)
            if outcome.completed:
                self._leaving()
            if self.pipeline_starting is not None:
                await self.pipeline_starting
            if self.pipeline is not None:
                result = await off_loop(self.pipeline.finish)
                if result.failure is not None and outcome.completed:
                    outcome = failed(media_error_code(result.failure), result.failure.message)
            if outcome.completed:
                control.complete(outcome.code)
            else:
                control.fail(outcome.code, outcome.message)
        finally:
            stop_wait.cancel()
            bot.close()
            await loading

    async def _stay(self, stop_wait: asyncio.Future) -> Outcome:
        """Wait for the bot's own outcome, a recording failure, or the user's stop."""
        await asyncio.wait({self.finished, stop_wait, self.recording_failed},
                           return_when=asyncio.FIRST_COMPLETED)
        if self.finished.done():
            return self.finished.result()
        if self.recording_failed.done():
            error = self.recording_failed.result()
            outcome = failed(media_error_code(error), error.message)
            self.bot.leave(outcome)
            return outcome
        self._leaving()
        self.bot.leave(completed("STOP_REQUESTED", "Stopped by the user"))
        try:
            return await asyncio.wait_for(asyncio.shield(self.finished), LEAVE_TIMEOUT_S)
        except asyncio.TimeoutError:
            self.control.log("warning", "The meeting page did not confirm leaving; closed it")
            return completed("STOP_REQUESTED", "Stopped")

    def _on_phase(self, phase: str) -> None:
        control = self.control
        status = control.session.status
        if phase in ("loading", "prejoin", "lobby") and status is Status.INITIALIZING:
            control.set_status(Status.JOINING)
        elif phase == "admitted" and status in (Status.INITIALIZING, Status.JOINING):
            if status is Status.INITIALIZING:
                control.set_status(Status.JOINING)
            control.set_status(Status.ACTIVE)
            self._start_pipeline()
        if phase == "lobby":
            control.log("info", "Waiting in the lobby to be admitted")

    def _speaker_changed(self, name: str | None) -> None:
        time = self.clock.now()
        self.speakers.set_speaker(time, name)
        self.control.speaker(time, name)  # kept: the after-meeting pass assigns speakers by it

    async def _load_ahead(self) -> None:
        """The model loads while the bot joins, not once it is admitted (recorder.pipeline.load_ahead)."""
        if await off_loop(load_ahead, self.config):
            await off_loop(settle_heap)   # the model stays loaded for the process's life

    def _start_pipeline(self) -> None:
        config = self.config
        self.pipeline = RecordingPipeline(
            self.control.output_dir, kept_for_refine(self.source, self.control, config), config,
            session_callbacks(
                self.control,
                first_audio=lambda: self.loop.call_soon_threadsafe(self._mark_recording),
                speech=self.bot.note_audio_activity,
                failed=lambda error: self.loop.call_soon_threadsafe(
                    _set_once, self.recording_failed, error)),
            clock=self.clock, speakers=self.speakers, screen_region=self.bot.window_region)
        # Opening files and loading the model take a while: not on the GUI thread.
        self.pipeline_starting = asyncio.ensure_future(self._start_off_loop(self.pipeline))

    async def _start_off_loop(self, pipeline: RecordingPipeline) -> None:
        try:
            await off_loop(pipeline.start)
        except Exception as exc:  # storage or capture cannot start: the session fails
            self.pipeline = None
            error = exc if isinstance(exc, MediaError) else MediaError(f"Recording could not start: {exc}")
            _set_once(self.recording_failed, error)

    def _save_diagnostics(self, diagnostics: PageDiagnostics) -> None:
        control = self.control
        try:
            folder = control.output_dir
            bundle = write_bundle(folder, diagnostics, control.logs())
        except StorageError as exc:
            control.log("warning", f"Diagnostics could not be saved: {exc.message}")
            return
        relative = bundle.relative_to(folder).as_posix()
        saved = [*control.session.metadata.get("diagnostics", []), relative]
        control.metadata(diagnostics=saved)
        control.log("warning", f"Saved diagnostics of the meeting page ({diagnostics.reason}) in {relative}")

    def _mark_recording(self) -> None:
        if self.control.session.status is Status.ACTIVE:
            self.control.set_status(Status.RECORDING)

    def _leaving(self) -> None:
        if self.control.session.status not in (Status.LEAVING, Status.COMPLETED, Status.FAILED):
            self.control.set_status(Status.LEAVING)


def _set_once(future: asyncio.Future, value: object) -> None:
    if not future.done():
        future.set_result(value)
