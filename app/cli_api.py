"""Command-line commands of the API: `serve` (this computer's REST + SSE server), `remote
sessions ...` (a remote Meeting Buddy API) and `sync` (push finished sessions there, pull
its sessions here as read-only copies)."""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from app.cli_common import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    open_core,
    print_json,
    qt_runtime,
    run_until_signalled,
    write_output,
)
from app.composition import Core, bot_runner_factory
from app.export import FORMATS
from app.remote import MeetingBuddyClient, api_base
from app.settings import load_settings

log = logging.getLogger(__name__)

ENV_API_TOKEN = "MEETING_BUDDY_API_TOKEN"
ENV_REMOTE_URL = "MEETING_BUDDY_REMOTE_URL"
ENV_REMOTE_TOKEN = "MEETING_BUDDY_REMOTE_TOKEN"


# -- serve ----------------------------------------------------------------------------------

def _read_token_file(path: str) -> str:
    try:
        token = Path(path).read_text("utf-8").strip()
    except OSError as exc:
        raise CliError(f"cannot read the token file {path}: {exc.strerror}", EXIT_USAGE) from exc
    if not token:
        raise CliError(f"the token file {path} is empty", EXIT_USAGE)
    return token


def _serve_token(args: argparse.Namespace) -> str:
    """--token-file, else --token (visible to other users in the process list, hence the
    warning), else $MEETING_BUDDY_API_TOKEN, else the stored token (keyring or 0600 file;
    made on first start and shown once, since only its owner can read it back)."""
    from app.secrets import API_TOKEN, api_token, get_secret

    if args.token_file:
        return _read_token_file(args.token_file)
    if args.token:
        print("meeting-buddy: warning: --token is visible to other users of this computer in "
              f"the process list; prefer --token-file, ${ENV_API_TOKEN} or the stored token",
              file=sys.stderr)
        return str(args.token)
    token = os.environ.get(ENV_API_TOKEN)
    if token:
        return token
    if get_secret(API_TOKEN) is None:
        token = api_token(create=True)
        print(f"Generated the API token (stored for the next starts): {token}", file=sys.stderr)
        return str(token)
    return str(api_token(create=False))


async def _serve(args: argparse.Namespace, core: Core, token: str, stop: asyncio.Event) -> None:
    from app.api.server import ApiServer

    manager, settings = core.manager, core.settings
    port = settings.api_port if args.port is None else args.port
    server = ApiServer(manager, token=token, host=args.host, port=port,
                       allow_remote=args.allow_remote)
    await server.start()
    manager.refiner.follow_sessions(asyncio.get_running_loop())  # improve each transcript after its meeting
    manager.notetaker.follow_sessions(asyncio.get_running_loop())  # then make its notes
    print(f"Meeting Buddy API listening on {server.api_url} (Ctrl+C stops it)",
          file=sys.stderr, flush=True)
    waiting = [asyncio.ensure_future(server.wait()), asyncio.ensure_future(stop.wait())]
    try:
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waiting:
            task.cancel()
        await manager.refiner.close()  # a pass cut short changes nothing
        await manager.notetaker.close()
        await manager.stop_all()  # bots leave and transcripts are saved before exiting
        await server.stop()


def cmd_serve(args: argparse.Namespace) -> int:
    from app.api.server import is_loopback
    from app.errors import ValidationError

    if not is_loopback(args.host) and not args.allow_remote:
        raise ValidationError(f"Refusing to serve on {args.host}: pass --allow-remote to let "
                              "other computers connect", field="host")
    settings = load_settings()
    token = _serve_token(args)
    with open_core(own=True, settings=settings,
                   runner_factory=bot_runner_factory(settings)) as core:
        if not core.owner:
            raise CliError(f"Meeting Buddy is already running with the data folder {core.root}; "
                           "use its API or stop it first")
        # Sessions run the browser bot, which needs Qt's event loop (Xvfb where no display).
        with qt_runtime(headless=True) as loop:
            run_until_signalled(loop, lambda stop: _serve(args, core, token, stop))
    return EXIT_OK


# -- remote ---------------------------------------------------------------------------------

def _remote_target(args: argparse.Namespace) -> tuple[str, str]:
    from app.secrets import REMOTE_TOKEN, get_secret

    url = args.api_url or os.environ.get(ENV_REMOTE_URL) or load_settings().remote_url
    if not url:
        raise CliError(f"No remote API: pass --api-url or set {ENV_REMOTE_URL}", EXIT_USAGE)
    api_base(url)  # refuses a URL the token must not travel to, before anything else
    token = args.token or os.environ.get(ENV_REMOTE_TOKEN) or get_secret(REMOTE_TOKEN)
    if not token:
        raise CliError(f"No token for {url}: pass --token or set {ENV_REMOTE_TOKEN}", EXIT_USAGE)
    return url, token


RemoteAction = Callable[[MeetingBuddyClient, argparse.Namespace], int]


def _with_client(action: RemoteAction) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        url, token = _remote_target(args)
        with MeetingBuddyClient(url, token) as client:
            return action(client, args)
    return run


def _remote_list(client: MeetingBuddyClient, args: argparse.Namespace) -> int:
    page = client.list_sessions(status=args.status, platform=args.platform, limit=args.limit,
                                offset=args.offset)
    print_json({"data": [s.to_dict() for s in page.data], "total_count": page.total_count,
                "has_more": page.has_more})
    return EXIT_OK


def _remote_show(client: MeetingBuddyClient, args: argparse.Namespace) -> int:
    print_json(client.get_session(args.session_id).to_dict())
    return EXIT_OK


def _remote_transcripts(client: MeetingBuddyClient, args: argparse.Namespace) -> int:
    print_json([t.to_dict() for t in client.transcripts(args.session_id)])
    return EXIT_OK


def _remote_export(client: MeetingBuddyClient, args: argparse.Namespace) -> int:
    exported = client.export_transcript(args.session_id, args.format)
    write_output(exported.data, args.output, exported.filename)
    return EXIT_OK


def _remote_stop(client: MeetingBuddyClient, args: argparse.Namespace) -> int:
    print_json(client.stop_session(args.session_id).to_dict())
    return EXIT_OK


# -- sync -----------------------------------------------------------------------------------

def cmd_sync(args: argparse.Namespace) -> int:
    from app.remote import AsyncMeetingBuddyClient
    from app.sync import SyncReport, SyncService

    url, token = _remote_target(args)
    # Sync writes only copies of remote sessions, never a live one: it may run beside the
    # app that owns the data folder, so it does not claim the folder.
    with open_core(own=False) as core:
        async def run() -> SyncReport:
            async with AsyncMeetingBuddyClient(url, token) as client:
                return await SyncService(core.manager, client).sync()

        report = asyncio.run(run())
    print_json(report.to_dict())
    for lacking in report.unsupported.values():
        print(f"meeting-buddy: {lacking}", file=sys.stderr)
    if report.unsupported.get("push") and report.queued:
        print(f"meeting-buddy: {len(report.queued)} session(s) stay queued for a remote that "
              "accepts them", file=sys.stderr)
    if report.unsupported.get("list"):
        print("meeting-buddy: pulled only the remote's active sessions and the unfinished "
              "copies already here", file=sys.stderr)
    if report.offline:
        print(f"meeting-buddy: {url} cannot be reached; {len(report.queued)} session(s) wait "
              "in the queue for the next sync", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


# -- parser ---------------------------------------------------------------------------------

def _remote_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--api-url", help=f"remote API URL (or ${ENV_REMOTE_URL})")
    parser.add_argument("--token", help=f"remote API token (or ${ENV_REMOTE_TOKEN})")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve the Meeting Buddy API on this computer")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="TCP port (default: the settings' api_port, 8765)")
    p.add_argument("--token-file", help="read the API token from this file")
    p.add_argument("--token", help=f"API token (visible to other users; prefer --token-file or "
                                   f"${ENV_API_TOKEN}; default: the stored one)")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow a non-loopback --host (other computers can then connect)")
    p.set_defaults(func=cmd_serve)

    remote = sub.add_parser("remote", help="sessions on a remote Meeting Buddy API")
    rsub = remote.add_subparsers(dest="remote_command", metavar="WHAT", required=True)
    sessions = rsub.add_parser("sessions", help="list, show, export or stop remote sessions")
    ssub = sessions.add_subparsers(dest="remote_sessions_command", metavar="ACTION", required=True)

    p = ssub.add_parser("list", help="sessions, newest first (JSON; a Meeting Buddy remote only)")
    p.add_argument("--status")
    p.add_argument("--platform")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--offset", type=int, default=0)
    p.set_defaults(func=_with_client(_remote_list))
    for name, help_text, action in (("show", "one session (JSON)", _remote_show),
                                    ("transcripts", "final transcript segments (JSON)",
                                     _remote_transcripts),
                                    ("stop", "stop a running session", _remote_stop)):
        p = ssub.add_parser(name, help=help_text)
        p.add_argument("session_id")
        p.set_defaults(func=_with_client(action))
    p = ssub.add_parser("export", help="export a transcript (a Meeting Buddy remote only)")
    p.add_argument("session_id")
    p.add_argument("--format", "-f", required=True, choices=list(FORMATS))
    p.add_argument("--output", "-o", help="file or folder to write ('-' for stdout)")
    p.set_defaults(func=_with_client(_remote_export))
    for parser in ssub.choices.values():
        _remote_options(parser)

    p = sub.add_parser("sync", help="push finished sessions to the remote API and pull its sessions")
    _remote_options(p)
    p.set_defaults(func=cmd_sync)
