"""`meeting-buddy refine`: the after-meeting pass over a finished session, in the foreground,
with a progress bar on a terminal; Ctrl+C cancels it and leaves the transcript as it was.
`--restore` shows a kept transcript (the live one by default) again."""
from __future__ import annotations

import argparse
import signal
import sys
import threading

from app.cli_common import EXIT_OK, CliError, open_core, print_json, share_progress_bar
from app.composition import Core
from app.models import Session
from app.refine import RefineCancelled, RefineOptions, refine_session, revision_name, transcript_revision
from app.settings import load_settings
from recorder.errors import MediaError

EXIT_CANCELLED = 130  # as a shell reports Ctrl+C


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("refine", help="transcribe a finished session's recording again, offline, and make "
                                      "that its transcript (the live one is kept)")
    p.add_argument("session_id")
    p.add_argument("--model", "-m", help="model name or folder (default: the refine model setting, auto)")
    p.add_argument("--restore", nargs="?", const="live", metavar="REVISION",
                   help="show a kept transcript again instead: live (the default) or refined:<model>")
    p.add_argument("--json", action="store_true", help="print the session and its transcript as JSON")
    p.set_defaults(func=cmd_refine)


def cmd_refine(args: argparse.Namespace) -> int:
    settings = load_settings()
    with open_core(own=True, settings=settings) as core:
        if not core.owner:
            raise CliError(f"Meeting Buddy is running with the data folder {core.root}: improve the "
                           "transcript there (Improve transcript) or through its API")
        session = core.manager.get(args.session_id)
        if args.restore:
            session = core.manager.restore_transcript(session.session_id, args.restore)
            message = f"{session.session_id} shows its {revision_name(args.restore)} transcript"
        else:
            try:
                session = _refine(core, session, args.model, RefineOptions.from_settings(settings))
            except RefineCancelled:
                print("meeting-buddy: cancelled; the transcript is unchanged", file=sys.stderr)
                return EXIT_CANCELLED
            message = (f"{session.session_id}: transcript improved with "
                       f"{transcript_revision(session).partition(':')[2]} (restore the live one with "
                       f"`meeting-buddy refine {session.session_id} --restore`)")
        if args.json:
            print_json({"session": session.to_dict(),
                        "transcripts": [t.to_dict() for t in core.store.transcripts(session.session_id)]})
        else:
            print(message)
    return EXIT_OK


def _refine(core: Core, session: Session, model: str | None, options: RefineOptions) -> Session:
    cancelled = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: cancelled.set())  # stop between whisper windows
    progress, close_bar = share_progress_bar("Improving the transcript")
    try:
        return refine_session(core.manager, session.session_id, options=options, model=model,
                              progress=progress, cancelled=cancelled)
    except MediaError as exc:  # the model cannot be found or loaded, the audio cannot be read
        raise CliError(exc.message) from exc
    finally:
        close_bar()
        signal.signal(signal.SIGINT, previous)
