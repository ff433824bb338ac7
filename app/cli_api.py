"""Command-line commands of the API: `serve` (this computer's REST + SSE server), `remote
sessions ...` (a remote Meeting Buddy API) and `sync` (push finished sessions there, pull
its sessions here as read-only copies)."""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from typing import Any, Callable

from app.cli import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, CliError, print_json, write_output
from app.export import FORMATS
from app.sessions import SessionManager
from app.settings import Settings, load_settings
from app.store import Store

log = logging.getLogger(__name__)

ENV_API_TOKEN = "MEETING_BUDDY_API_TOKEN"
ENV_REMOTE_URL = "MEETING_BUDDY_REMOTE_URL"
ENV_REMOTE_TOKEN = "MEETING_BUDDY_REMOTE_TOKEN"

ManagerFactory = Callable[[Store, Settings], SessionManager]


def bot_session_manager(store: Store, settings: Settings) -> SessionManager:
    """The session manager driving the meeting bot pipeline."""
    from app.runtime import build_runner_factory

    return SessionManager(store, runner_factory=build_runner_factory(settings))


# -- serve ----------------------------------------------------------------------------------

def _serve_token(explicit: str | None) -> str:
    """--token, else $MEETING_BUDDY_API_TOKEN, else the stored token (made on first start
    and shown once, since only its owner can read it back from the keyring or the file)."""
    from app.secrets import API_TOKEN, api_token, get_secret

    token = explicit or os.environ.get(ENV_API_TOKEN)
    if token:
        return token
    if get_secret(API_TOKEN) is None:
        token = api_token(create=True)
        print(f"Generated the API token (stored for the next starts): {token}", file=sys.stderr)
        return token  # type: ignore[return-value]
    return api_token(create=False)  # type: ignore[return-value]


async def _serve(args: argparse.Namespace, store: Store, settings: Settings, token: str,
                 make_manager: ManagerFactory, stop: asyncio.Event) -> None:
    from app.api.server import ApiServer

    manager = make_manager(store, settings)
    port = settings.api_port if args.port is None else args.port
    server = ApiServer(manager, token=token, host=args.host, port=port,
                       allow_remote=args.allow_remote)
    await server.start()
    print(f"Meeting Buddy API listening on {server.api_url} (Ctrl+C stops it)",
          file=sys.stderr, flush=True)
    waiting = [asyncio.ensure_future(server.wait()), asyncio.ensure_future(stop.wait())]
    try:
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waiting:
            task.cancel()
        await manager.stop_all()  # bots leave and transcripts are saved before exiting
        await server.stop()


def cmd_serve(args: argparse.Namespace, make_manager: ManagerFactory) -> int:
    from app.api.server import is_loopback
    from app.cli_media import qt_runtime, run_until_signalled
    from app.errors import ValidationError
    from app.instance import InstanceLock
    from app.paths import data_root

    if not is_loopback(args.host) and not args.allow_remote:
        raise ValidationError(f"Refusing to serve on {args.host}: pass --allow-remote to let "
                              "other computers connect", field="host")
    settings = load_settings()
    lock = InstanceLock(data_root())
    if not lock.acquire():
        raise CliError(f"Meeting Buddy is already running with the data folder {data_root()}; "
                       "use its API or stop it first")
    store = Store(data_root())
    try:
        token = _serve_token(args.token)
        # Sessions run the browser bot, which needs Qt's event loop (Xvfb where no display).
        with qt_runtime(headless=True) as loop:
            run_until_signalled(
                loop, lambda stop: _serve(args, store, settings, token, make_manager, stop))
    finally:
        store.close()
        lock.release()
    return EXIT_OK


# -- remote ---------------------------------------------------------------------------------

def _remote_target(args: argparse.Namespace) -> tuple[str, str]:
    from app.secrets import REMOTE_TOKEN, get_secret

    url = args.api_url or os.environ.get(ENV_REMOTE_URL) or load_settings().remote_url
    if not url:
        raise CliError(f"No remote API: pass --api-url or set {ENV_REMOTE_URL}", EXIT_USAGE)
    token = args.token or os.environ.get(ENV_REMOTE_TOKEN) or get_secret(REMOTE_TOKEN)
    if not token:
        raise CliError(f"No token for {url}: pass --token or set {ENV_REMOTE_TOKEN}", EXIT_USAGE)
    return url, token


def _with_client(action: Callable[[Any, argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from app.remote import MeetingBuddyClient

        url, token = _remote_target(args)
        with MeetingBuddyClient(url, token) as client:
            return action(client, args)
    return run


def _remote_list(client: Any, args: argparse.Namespace) -> int:
    page = client.list_sessions(status=args.status, platform=args.platform, limit=args.limit,
                                offset=args.offset)
    print_json({"data": [s.to_dict() for s in page.data], "total_count": page.total_count,
                "has_more": page.has_more})
    return EXIT_OK


def _remote_show(client: Any, args: argparse.Namespace) -> int:
    print_json(client.get_session(args.session_id).to_dict())
    return EXIT_OK


def _remote_transcripts(client: Any, args: argparse.Namespace) -> int:
    print_json({"data": [t.to_dict() for t in client.transcripts(args.session_id)]})
    return EXIT_OK


def _remote_export(client: Any, args: argparse.Namespace) -> int:
    exported = client.export_transcript(args.session_id, args.format)
    write_output(exported.data, args.output, exported.filename)
    return EXIT_OK


def _remote_stop(client: Any, args: argparse.Namespace) -> int:
    print_json(client.stop_session(args.session_id).to_dict())
    return EXIT_OK


# -- sync -----------------------------------------------------------------------------------

def cmd_sync(args: argparse.Namespace) -> int:
    from app.paths import data_root
    from app.remote import AsyncMeetingBuddyClient
    from app.sync import SyncService

    url, token = _remote_target(args)
    store = Store(data_root())

    async def run():
        # Sync writes only copies of remote sessions, never a live one: it may run beside
        # the app that owns the data folder, so it does no crash recovery of its own.
        manager = SessionManager(store, recover=False)
        async with AsyncMeetingBuddyClient(url, token) as client:
            return await SyncService(manager, client).sync()

    try:
        report = asyncio.run(run())
    finally:
        store.close()
    print_json(report.to_dict())
    if report.offline:
        print(f"meeting-buddy: {url} cannot be reached; {len(report.queued)} session(s) wait "
              "in the queue for the next sync", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


# -- parser ---------------------------------------------------------------------------------

def _remote_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--api-url", help=f"remote API URL (or ${ENV_REMOTE_URL})")
    parser.add_argument("--token", help=f"remote API token (or ${ENV_REMOTE_TOKEN})")


def register(sub: Any, make_manager: ManagerFactory = bot_session_manager) -> None:
    p = sub.add_parser("serve", help="serve the Meeting Buddy API on this computer")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="TCP port (default: the settings' api_port, 8765)")
    p.add_argument("--token", help=f"API token (or ${ENV_API_TOKEN}; default: the stored one)")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow a non-loopback --host (other computers can then connect)")
    p.set_defaults(func=lambda args: cmd_serve(args, make_manager))

    remote = sub.add_parser("remote", help="sessions on a remote Meeting Buddy API")
    rsub = remote.add_subparsers(dest="remote_command", metavar="WHAT", required=True)
    sessions = rsub.add_parser("sessions", help="list, show, export or stop remote sessions")
    ssub = sessions.add_subparsers(dest="remote_sessions_command", metavar="ACTION", required=True)

    p = ssub.add_parser("list", help="sessions, newest first (JSON)")
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
    p = ssub.add_parser("export", help="export a transcript")
    p.add_argument("session_id")
    p.add_argument("--format", "-f", required=True, choices=list(FORMATS))
    p.add_argument("--output", "-o", help="file or folder to write ('-' for stdout)")
    p.set_defaults(func=_with_client(_remote_export))
    for parser in ssub.choices.values():
        _remote_options(parser)

    p = sub.add_parser("sync", help="push finished sessions to the remote API and pull its sessions")
    _remote_options(p)
    p.set_defaults(func=cmd_sync)
