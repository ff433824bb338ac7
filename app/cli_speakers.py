"""`meeting-buddy speakers rename SESSION_ID OLD NEW`: give a speaker of a finished session
a name; every line of theirs follows."""
from __future__ import annotations

import argparse

from app.cli_common import EXIT_OK, CliError, open_core, print_json


def register(sub: argparse._SubParsersAction) -> None:
    speakers = sub.add_parser("speakers", help="name the speakers of a finished session")
    ssub = speakers.add_subparsers(dest="speakers_command", required=True)
    p = ssub.add_parser("rename", help="rename a speaker: every line of theirs follows (JSON: how many lines "
                                       "changed)")
    p.add_argument("session_id")
    p.add_argument("old", help="the speaker as the transcript names them, e.g. \"Speaker 1\"")
    p.add_argument("new", help="the name to give them")
    p.set_defaults(func=cmd_speakers_rename)


def cmd_speakers_rename(args: argparse.Namespace) -> int:
    with open_core(own=True) as core:
        session = core.manager.get(args.session_id)
        if not core.owner and not session.is_terminal:
            raise CliError(f"session {session.session_id} is running in Meeting Buddy; rename its speakers "
                           "once it has ended")
        changed = core.manager.rename_speaker(session.session_id, args.old, args.new)
    print_json({"session_id": session.session_id, "from": args.old, "to": args.new, "lines": changed})
    return EXIT_OK
