"""Command-line commands that drive the recorder and the bot: transcribe, record, demo, join."""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli_common import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    open_core,
    print_json,
    qt_runtime,
    run_until_signalled,
)
from app.events import SessionEvent
from app.models import Platform, Session, Status

if TYPE_CHECKING:
    from recorder.simulator.server import MeetingSimulator

PLATFORM_CHOICES = tuple(p.value for p in Platform)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("transcribe", help="transcribe an audio or video file on this computer")
    p.add_argument("file")
    p.add_argument("--language", "-l", default="en")
    p.add_argument("--model", "-m", default=None, help="model name or folder (default: settings)")
    p.add_argument("--format", "-f", default="txt", choices=["txt", "srt", "vtt", "json"])
    p.set_defaults(func=cmd_transcribe)

    p = sub.add_parser("record", help="record this computer: microphone and/or system audio")
    p.add_argument("--mic", help="microphone device (name or index); see `devices`")
    p.add_argument("--system", help="system-audio device, e.g. a PulseAudio monitor")
    p.add_argument("--screen", type=int, metavar="N", help="also record monitor N")
    p.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    p.add_argument("--language", "-l")
    p.add_argument("--no-transcription", action="store_true")
    p.set_defaults(func=cmd_record)

    p = sub.add_parser("devices", help="list audio input devices (JSON)")
    p.set_defaults(func=cmd_devices)

    p = sub.add_parser("demo", help="run a whole session against the built-in meeting simulator")
    p.add_argument("--platform", choices=PLATFORM_CHOICES, default="teams")
    p.add_argument("--scenario", default="default")
    p.add_argument("--headless", action="store_true", help="no bot window; start Xvfb if needed")
    p.add_argument("--json-out", help="write {session, transcripts} to this file")
    p.add_argument("--bot-name", default="Meeting Buddy")
    p.add_argument("--debug", action="store_true",
                   help="show the bot's browser window; print where diagnostics were saved")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("join", help="send the bot into a real meeting and record it")
    p.add_argument("url")
    p.add_argument("--bot-name")
    p.add_argument("--language")
    p.add_argument("--no-transcription", action="store_true")
    p.add_argument("--debug", action="store_true",
                   help="show the bot's browser window; print where diagnostics were saved")
    p.add_argument("--headless", action="store_true", help="start Xvfb if there is no display")
    p.add_argument("--json-out")
    p.set_defaults(func=cmd_join)


# -- transcribe -----------------------------------------------------------------------------

def cmd_transcribe(args: argparse.Namespace) -> int:
    from app.export import export_segments
    from app.models import TranscriptSegment
    from app.settings import load_settings
    from recorder.transcriber import transcribe_file
    from recorder.whisper_models import ModelNotAvailable

    path = Path(args.file)
    if not path.is_file():
        raise CliError(f"no such file: {path}", EXIT_USAGE)
    model = args.model or load_settings().model
    try:
        results = transcribe_file(path, language=args.language, model=model)
    except ModelNotAvailable as exc:
        raise CliError(str(exc)) from exc
    except ValueError as exc:  # undecodable input
        raise CliError(f"cannot read {path}: {exc}", EXIT_USAGE) from exc
    segments = [TranscriptSegment.create("file", r.text, r.start_time, r.end_time,
                                         speaker=r.speaker, confidence=r.confidence,
                                         language_code=r.language_code) for r in results]
    sys.stdout.buffer.write(export_segments(segments, args.format))
    sys.stdout.flush()
    return EXIT_OK


# -- record this computer -------------------------------------------------------------------

def _device(value: str | None) -> str | int | None:
    return int(value) if value is not None and value.isdigit() else value


def cmd_devices(args: argparse.Namespace) -> int:
    from recorder.audio.device import list_input_devices

    print_json([{"index": d.index, "name": d.name, "is_loopback": d.is_loopback,
                 "default_samplerate": d.default_samplerate,
                 "max_input_channels": d.max_input_channels} for d in list_input_devices()])
    return EXIT_OK


def cmd_record(args: argparse.Namespace) -> int:
    from app.runners.common import pipeline_config
    from app.runners.device_session import DeviceSessionOptions, DeviceSessionRunner
    from app.settings import load_settings

    settings = load_settings()
    mic, system = _device(args.mic or settings.mic_device), _device(args.system or settings.system_device)
    if mic is None and system is None:
        raise CliError("choose what to record: --mic DEVICE and/or --system DEVICE "
                       "(see `meeting-buddy devices`)", EXIT_USAGE)
    if args.duration is not None and args.duration <= 0:
        raise CliError("--duration must be positive", EXIT_USAGE)
    options = DeviceSessionOptions(mic=mic, system=system, screen_monitor=args.screen,
                                   max_duration=args.duration, pipeline=pipeline_config(settings))
    core = open_core(own=True, settings=settings)
    if not core.owner:
        core.close()
        raise CliError(f"Meeting Buddy is already running with the data folder {core.root}; "
                       "use its window (Record this computer) or stop it first")

    async def record(stop: asyncio.Event) -> Session:
        session = core.manager.start_local(
            lambda s, _link: DeviceSessionRunner(s, None, options),
            transcription_enabled=not args.no_transcription,
            transcription_language=args.language or settings.language)
        sub = core.manager.bus.subscribe(LivePrinter(session.session_id))
        print("recording; Ctrl+C stops", file=sys.stderr, flush=True)
        try:
            while not core.manager.get(session.session_id).is_terminal:
                if stop.is_set():
                    return await core.manager.stop(session.session_id)
                await asyncio.sleep(0.1)
            return core.manager.get(session.session_id)
        finally:
            sub.close()

    try:
        loop = asyncio.new_event_loop()
        try:
            session = run_until_signalled(loop, record)
        finally:
            loop.close()
    finally:
        core.close()
    print_json(session.to_dict())
    return EXIT_OK if session.status is Status.COMPLETED else EXIT_FAILURE


# -- demo and join ----------------------------------------------------------------------------

class LivePrinter:
    """Prints status changes and final transcript lines as they happen (stderr), so stdout
    stays one JSON document."""

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id

    def __call__(self, event: SessionEvent) -> None:
        if event.session_id != self.session_id:
            return
        d = event.data
        if event.kind == "status":
            extra = f" ({d['error_code']}: {d['error_message']})" if d.get("error_code") else ""
            print(f"status: {d['status']}{extra}", file=sys.stderr, flush=True)
        elif event.kind == "participant":
            print(f"participant {d['event']}: {d['participant_name']}", file=sys.stderr, flush=True)
        elif event.kind == "transcript" and not d["is_partial"]:
            who = d.get("speaker") or "?"
            print(f"[{d['start_time']:7.1f}s] {who}: {d['text']}", file=sys.stderr, flush=True)
        elif event.kind == "log" and d["level"] != "info":
            print(f"{d['level']}: {d['message']}", file=sys.stderr, flush=True)




def run_bot_session(link: str, *, bot_name: str | None, language: str | None,
                    transcription: bool, debug: bool, headless: bool, json_out: str | None,
                    simulator: MeetingSimulator | None = None) -> int:
    """Runs one bot session to its end, printing it live; exit 0 when it completed."""
    from app.composition import bot_runner_factory
    from app.sessions import StartRequest
    from app.settings import load_settings

    settings = load_settings()
    rules = simulator.host_resolver_rules() if simulator else None
    trusted = frozenset({simulator.cert_fingerprint}) if simulator else frozenset()
    with qt_runtime(headless=headless, host_resolver_rules=rules) as loop:
        core = open_core(own=True, settings=settings,
                         runner_factory=bot_runner_factory(settings, trusted_certificates=trusted))
        try:
            if not core.owner:
                raise CliError(f"Meeting Buddy is already running with the data folder {core.root}; "
                               "open the link there (meeting-buddy join URL hands it over) or stop it first")
            request = StartRequest(link, bot_name=bot_name or settings.bot_name,
                                   transcription_enabled=transcription,
                                   transcription_language=language or settings.language,
                                   debug_mode=debug or not headless)

            async def session_to_end(stop: asyncio.Event) -> Session:
                session = core.manager.start(request)
                sub = core.manager.bus.subscribe(LivePrinter(session.session_id))
                try:
                    while not core.manager.get(session.session_id).is_terminal:
                        if stop.is_set():
                            print("stopping: the bot leaves and the transcript is saved…",
                                  file=sys.stderr, flush=True)
                            return await core.manager.stop(session.session_id)
                        await asyncio.sleep(0.2)
                    return core.manager.get(session.session_id)
                finally:
                    sub.close()

            session = run_until_signalled(loop, session_to_end)
            transcripts = [t.to_dict() for t in core.store.transcripts(session.session_id)]
            if debug:
                _print_diagnostics(core.manager.output_dir(session), session)
        finally:
            core.close()
    result = {"session": session.to_dict(), "transcripts": transcripts}
    if json_out:
        try:
            Path(json_out).write_text(json.dumps(result, indent=2, ensure_ascii=False), "utf-8")
        except OSError as exc:
            print_json(result)
            raise CliError(f"cannot write {json_out}: {exc.strerror}") from exc
    print_json(result)
    return EXIT_OK if session.status is Status.COMPLETED else EXIT_FAILURE


def _print_diagnostics(folder: Path, session: Session) -> None:
    """Where the bot saved what it saw of the meeting page (failed joins, unknown screens)."""
    for bundle in session.metadata.get("diagnostics") or ():
        print(f"diagnostics saved: {folder / bundle}", file=sys.stderr, flush=True)


def cmd_demo(args: argparse.Namespace) -> int:
    from recorder.simulator.server import MeetingSimulator

    simulator = MeetingSimulator(args.scenario)
    simulator.start()
    try:
        return run_bot_session(simulator.example_link(args.platform), bot_name=args.bot_name,
                               language="en", transcription=True, debug=args.debug,
                               headless=args.headless, json_out=args.json_out,
                               simulator=simulator)
    finally:
        simulator.stop()


def cmd_join(args: argparse.Namespace) -> int:
    from app.single_instance import send_to_running_instance

    # With the window open, the running Meeting Buddy takes the meeting (one owner per folder).
    if not args.headless and send_to_running_instance({
            "action": "join", "meeting_link": args.url, "bot_name": args.bot_name,
            "transcription_language": args.language,
            "transcription_enabled": not args.no_transcription,
            "debug_mode": args.debug or None}):
        print("handed to the running Meeting Buddy window", file=sys.stderr)
        return EXIT_OK
    return run_bot_session(args.url, bot_name=args.bot_name, language=args.language,
                           transcription=not args.no_transcription, debug=args.debug,
                           headless=args.headless, json_out=args.json_out)
