"""The `meeting-buddy` command line.

Errors are one clear line on stderr and a non-zero exit (2 for bad input, 1 for failures),
never a traceback. JSON output speaks the Meeting Buddy API contract.
"""
from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from app import (
    __version__,
    cli_api,
    cli_media,
    cli_models,
    cli_notes,
    cli_packs,
    cli_refine,
    cli_search,
    cli_speakers,
)
from app.cli_common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, CliError, open_core, print_json, write_output
from app.errors import MeetingBuddyError
from app.models import Session
from app.store import Store

# -- commands -------------------------------------------------------------------------------

def cmd_link_info(args: argparse.Namespace) -> int:
    from app.api.errors import envelope
    from app.links import parse_meeting_link

    try:
        print_json(parse_meeting_link(args.url).to_dict())
    except MeetingBuddyError as exc:
        print_json(envelope(exc))
        return EXIT_USAGE
    return EXIT_OK


def cmd_sessions_list(args: argparse.Namespace) -> int:
    from app.models import SESSION_PLATFORMS, Status

    if args.status and args.status not in {s.value for s in Status}:
        raise CliError(f"--status must be one of {', '.join(s.value for s in Status)}", EXIT_USAGE)
    if args.platform and args.platform not in SESSION_PLATFORMS:
        raise CliError(f"--platform must be one of {', '.join(SESSION_PLATFORMS)}", EXIT_USAGE)
    if not 1 <= args.limit <= 100 or args.offset < 0:
        raise CliError("--limit must be 1 to 100 and --offset not negative", EXIT_USAGE)
    with open_core(own=False) as core:
        page = core.store.list_sessions(status=args.status, platform=args.platform,
                                        limit=args.limit, offset=args.offset, search=args.search)
    print_json({"data": [s.to_dict() for s in page.data], "total_count": page.total_count,
                "has_more": page.has_more})
    return EXIT_OK


def _load_session(store: Store, session_id: str) -> Session:
    from app.errors import SessionNotFound
    from app.paths import validate_id

    validate_id(session_id)
    session = store.get_session(session_id)
    if session is None:
        raise SessionNotFound(session_id)
    return session


def cmd_sessions_show(args: argparse.Namespace) -> int:
    with open_core(own=False) as core:
        print_json(_load_session(core.store, args.session_id).to_dict())
    return EXIT_OK


def cmd_sessions_transcripts(args: argparse.Namespace) -> int:
    with open_core(own=False) as core:
        _load_session(core.store, args.session_id)
        print_json([t.to_dict() for t in core.store.transcripts(args.session_id)])
    return EXIT_OK


def cmd_sessions_export(args: argparse.Namespace) -> int:
    from app.export import export_filename, export_transcript

    with open_core(own=False) as core:
        session = _load_session(core.store, args.session_id)
        data = export_transcript(session, core.store.transcripts(session.session_id), args.format,
                                 core.store.notes(session.session_id))
    write_output(data, args.output, export_filename(session, args.format))
    return EXIT_OK


def cmd_sessions_analytics(args: argparse.Namespace) -> int:
    from app.talk_time import talk_time

    with open_core(own=False) as core:
        _load_session(core.store, args.session_id)
        counted = talk_time(core.store.transcripts(args.session_id))
    print_json({"session_id": args.session_id, **counted.to_dict()})
    return EXIT_OK


def cmd_sessions_rename(args: argparse.Namespace) -> int:
    with open_core(own=True) as core:
        session = _load_session(core.store, args.session_id)
        if not core.owner and not session.is_terminal:
            raise CliError(f"session {session.session_id} is running in Meeting Buddy; rename it there")
        print_json(core.manager.rename(session.session_id, args.title).to_dict())
    return EXIT_OK


def cmd_sessions_delete(args: argparse.Namespace) -> int:
    import asyncio

    with open_core(own=True) as core:
        session = _load_session(core.store, args.session_id)
        if not core.owner and not session.is_terminal:
            raise CliError(f"session {session.session_id} is running in Meeting Buddy; stop it there first")
        asyncio.run(core.manager.delete(session.session_id))
    print(f"deleted {session.session_id}", file=sys.stderr)
    return EXIT_OK


# -- parser ---------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="meeting-buddy",
        description="Local meeting recorder: a bot joins Teams, Zoom, Google Meet or Webex, "
                    "records the meeting and transcribes it on this computer. "
                    "With no command, opens the window.")
    parser.add_argument("--version", action="version", version=f"meeting-buddy {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("link-info", help="validate a meeting link and show what it points to")
    p.add_argument("url")
    p.set_defaults(func=cmd_link_info)

    sessions = sub.add_parser("sessions", help="list, show, rename, export or delete recorded sessions")
    ssub = sessions.add_subparsers(dest="sessions_command", metavar="ACTION", required=True)
    p = ssub.add_parser("list", help="sessions, newest first (JSON)")
    p.add_argument("--status")
    p.add_argument("--platform")
    p.add_argument("--search", help="text in the session or its transcript")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--offset", type=int, default=0)
    p.set_defaults(func=cmd_sessions_list)
    p = ssub.add_parser("show", help="one session (JSON)")
    p.add_argument("session_id")
    p.set_defaults(func=cmd_sessions_show)
    p = ssub.add_parser("transcripts", help="a session's final transcript segments (JSON)")
    p.add_argument("session_id")
    p.set_defaults(func=cmd_sessions_transcripts)
    p = ssub.add_parser("export", help="export a transcript")
    p.add_argument("session_id")
    p.add_argument("--format", "-f", required=True, choices=["txt", "srt", "vtt", "json", "md", "docx"])
    p.add_argument("--output", "-o", help="file or folder to write ('-' for stdout)")
    p.set_defaults(func=cmd_sessions_export)
    p = ssub.add_parser("analytics", help="talk time per speaker and who spoke when (JSON)")
    p.add_argument("session_id")
    p.set_defaults(func=cmd_sessions_analytics)
    p = ssub.add_parser("rename", help="give a session a title (JSON: the session)")
    p.add_argument("session_id")
    p.add_argument("title", help="the new title; \"\" gives back the name taken from the meeting link")
    p.set_defaults(func=cmd_sessions_rename)
    p = ssub.add_parser("delete", help="delete a session, its transcript and its files")
    p.add_argument("session_id")
    p.set_defaults(func=cmd_sessions_delete)

    cli_media.register(sub)
    cli_refine.register(sub)
    cli_speakers.register(sub)
    cli_notes.register(sub)
    cli_search.register(sub)
    cli_api.register(sub)
    cli_packs.register(sub)
    cli_models.register(sub)
    return parser


def main(argv: Sequence[str] | None = None, *,
         open_window: Callable[[argparse.Namespace], int] | None = None) -> int:
    """Run one command. With none, `open_window` opens the desktop window: the launcher
    (ui.main) passes it, so the core never imports the GUI."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed a one-line usage error
        return int(exc.code or 0)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    func = getattr(args, "func", None) or open_window
    if func is None:
        parser.print_usage(sys.stderr)
        print("meeting-buddy: error: choose a command (the window opens from the "
              "`meeting-buddy` launcher)", file=sys.stderr)
        return EXIT_USAGE
    try:
        return int(func(args) or 0)
    except CliError as exc:
        print(f"meeting-buddy: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except MeetingBuddyError as exc:
        print(f"meeting-buddy: error: {exc.code}: {exc.message}", file=sys.stderr)
        return EXIT_USAGE if exc.caller_error else EXIT_FAILURE
    except KeyboardInterrupt:
        print("meeting-buddy: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # last resort: one line, details only with --verbose
        logging.getLogger("app.cli").debug("unexpected error", exc_info=True)
        print(f"meeting-buddy: error: unexpected {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILURE
