"""`meeting-buddy notes`: make a finished session's meeting notes in the foreground, with a
progress bar on a terminal; Ctrl+C cancels and leaves the stored notes as they were."""
from __future__ import annotations

import argparse
import signal
import sys
import threading
from dataclasses import replace

from app.cli_common import EXIT_OK, CliError, open_core, print_json, share_progress_bar
from app.cli_refine import EXIT_CANCELLED
from app.export import notes_markdown
from app.notes.backends import NotesOptions
from app.notes.engine import NotesCancelled
from app.notes.models import BACKENDS
from app.notes.service import generate_notes
from app.settings import load_settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("notes", help="make a finished session's meeting notes: summary, decisions, action items "
                                     "and open questions")
    p.add_argument("session_id")
    p.add_argument("--backend", choices=BACKENDS,
                   help="local (this computer), ollama (your Ollama server) or openai (the OpenAI-compatible "
                        "endpoint in Settings; the transcript is sent there); default: the notes back-end setting")
    p.add_argument("--download", action="store_true",
                   help="allow downloading the recommended local model (needs the network once)")
    p.add_argument("--json", action="store_true", help="print the notes as JSON")
    p.set_defaults(func=cmd_notes)


def cmd_notes(args: argparse.Namespace) -> int:
    settings = load_settings()
    options = replace(NotesOptions.from_settings(settings), allow_download=args.download)
    with open_core(own=True, settings=settings) as core:
        if not core.owner:
            raise CliError(f"Meeting Buddy is running with the data folder {core.root}: make the notes there "
                           "(Notes tab) or through its API")
        session = core.manager.get(args.session_id)
        cancelled = threading.Event()
        previous = signal.signal(signal.SIGINT, lambda *_: cancelled.set())
        progress, close_bar = share_progress_bar("Making meeting notes")
        try:
            notes = generate_notes(core.manager, session.session_id, options=options, backend=args.backend,
                                   progress=progress, cancelled=cancelled)
        except NotesCancelled:
            close_bar()
            print("meeting-buddy: cancelled; the notes are unchanged", file=sys.stderr)
            return EXIT_CANCELLED
        finally:
            close_bar()
            signal.signal(signal.SIGINT, previous)
        if args.json:
            print_json(notes.to_dict())
        else:
            lines = core.store.transcripts(session.session_id)
            print(notes_markdown(notes, {seg.transcript_id: seg.start_time for seg in lines}), end="")
    return EXIT_OK
