"""Command-line commands that drive the recorder and the bot: transcribe, record, demo, join."""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from app.cli import CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, print_json

PLATFORM_CHOICES = ("teams", "zoom", "google_meet", "webex")


def register(sub) -> None:
    p = sub.add_parser("transcribe", help="transcribe an audio or video file on this computer")
    p.add_argument("file")
    p.add_argument("--language", "-l", default="en")
    p.add_argument("--model", "-m", default=None, help="model name or folder (default: settings)")
    p.add_argument("--format", "-f", default="txt", choices=["txt", "srt", "vtt", "json"])
    p.set_defaults(func=cmd_transcribe)

    p = sub.add_parser("demo", help="run a whole session against the built-in meeting simulator")
    p.add_argument("--platform", choices=PLATFORM_CHOICES, default="teams")
    p.add_argument("--scenario", default="default")
    p.add_argument("--headless", action="store_true", help="no bot window; start Xvfb if needed")
    p.add_argument("--json-out", help="write {session, transcripts} to this file")
    p.add_argument("--bot-name", default="Meeting Buddy")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("join", help="send the bot into a real meeting and record it")
    p.add_argument("url")
    p.add_argument("--bot-name")
    p.add_argument("--language")
    p.add_argument("--no-transcription", action="store_true")
    p.add_argument("--debug", action="store_true", help="show the bot's browser window")
    p.add_argument("--headless", action="store_true", help="start Xvfb if there is no display")
    p.add_argument("--json-out")
    p.set_defaults(func=cmd_join)


# -- transcribe -----------------------------------------------------------------------------

def cmd_transcribe(args: argparse.Namespace) -> int:
    from app.export import FORMATS, export_segments
    from app.models import TranscriptSegment
    from app.settings import load_settings
    from recorder.models import ModelNotAvailable
    from recorder.transcriber import transcribe_file

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


# -- demo and join ----------------------------------------------------------------------------

class LivePrinter:
    """Prints status changes and final transcript lines as they happen (stderr), so stdout
    stays one JSON document."""

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id

    def __call__(self, event) -> None:
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
                    simulator=None) -> int:
    """Runs one bot session to its end in a Qt application driven by qasync."""
    from app.runtime import build_core
    from app.sessions import StartRequest
    from app.settings import load_settings
    from recorder.bot.runtime import prepare_qtwebengine_environment
    from recorder.headless import HeadlessError, HeadlessServices, default_state_dir

    services = None
    if headless and not os.environ.get("DISPLAY"):
        services = HeadlessServices(default_state_dir() / f"run-{os.getpid()}")
        try:
            services.start_display()
        except HeadlessError as exc:
            raise CliError(str(exc)) from exc
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        raise CliError("no display: run with --headless (uses Xvfb) or from a desktop session")
    prepare_qtwebengine_environment(simulator.host_resolver_rules() if simulator else None)

    from PySide6.QtWidgets import QApplication
    import qasync

    from app.qt_workarounds import keep_bools_alive

    keep_bools_alive()

    settings = load_settings()
    app = QApplication.instance() or QApplication([sys.argv[0]])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    trusted = frozenset(simulator.mapped_hosts()) if simulator else frozenset()
    core = build_core(settings, trusted_cert_hosts=trusted)
    try:
        request = StartRequest(link, bot_name=bot_name or settings.bot_name,
                               transcription_enabled=transcription,
                               transcription_language=language or settings.language,
                               debug_mode=debug or not headless)

        started: dict[str, str] = {}

        async def session_to_end() -> Any:
            session = core.manager.start(request)
            started["id"] = session.session_id
            printer = LivePrinter(session.session_id)
            sub = core.manager.bus.subscribe(printer)
            try:
                while not core.manager.get(session.session_id).is_terminal:
                    await asyncio.sleep(0.2)
            except asyncio.CancelledError:
                await core.manager.stop(session.session_id)
            finally:
                sub.close()
            return core.manager.get(session.session_id)

        with loop:
            task = loop.create_task(session_to_end())
            try:
                session = loop.run_until_complete(task)
            except KeyboardInterrupt:
                print("stopping…", file=sys.stderr)
                session = loop.run_until_complete(core.manager.stop(started["id"]))
        transcripts = [t.to_dict() for t in core.store.transcripts(session.session_id)]
        result = {"session": session.to_dict(), "transcripts": transcripts}
        if json_out:
            Path(json_out).write_text(json.dumps(result, indent=2, ensure_ascii=False), "utf-8")
        print_json(result)
        return EXIT_OK if session.status == "completed" else EXIT_FAILURE
    finally:
        core.close()
        if services is not None:
            services.stop()


def cmd_demo(args: argparse.Namespace) -> int:
    from recorder.simulator.server import MeetingSimulator

    simulator = MeetingSimulator(args.scenario)
    simulator.start()
    try:
        return run_bot_session(simulator.example_link(args.platform), bot_name=args.bot_name,
                               language="en", transcription=True, debug=False,
                               headless=args.headless, json_out=args.json_out,
                               simulator=simulator)
    finally:
        simulator.stop()


def cmd_join(args: argparse.Namespace) -> int:
    return run_bot_session(args.url, bot_name=args.bot_name, language=args.language,
                           transcription=not args.no_transcription, debug=args.debug,
                           headless=args.headless, json_out=args.json_out)
