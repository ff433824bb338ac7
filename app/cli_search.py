"""`meeting-buddy search`: full-text search across every meeting's transcript (app/search.py).

Ranked best first. On a terminal the matched words are shown in bold (unless $NO_COLOR is
set); `--json` prints the shape `GET /v1/meeting-buddy/search` answers."""
from __future__ import annotations

import argparse
import os
import sys

from app.cli_common import EXIT_OK, EXIT_USAGE, CliError, open_core, print_json
from app.models import PLATFORM_NAMES
from app.search import DEFAULT_LIMIT, MAX_LIMIT, SearchHit, SearchPage, check_range, parse_moment
from app.timeutil import parse_iso

BOLD, RESET = "\033[1m", "\033[0m"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "search", help="search the transcripts of every meeting",
        description="Search the transcripts of every meeting, best match first. Every word must occur "
                    "in a line; \"quoted words\" as a phrase; word* for every word it begins. Other "
                    "punctuation is only text. Case and accents do not matter. Put -- before a query that "
                    "begins with -.")
    p.add_argument("query", nargs="+", metavar="QUERY", help="the words to look for")
    p.add_argument("--speaker", metavar="NAME", help="only lines this speaker said (case does not matter)")
    p.add_argument("--since", metavar="DATE",
                   help="only sessions started from then: 2025-12-01 (UTC, the whole day) or 2025-12-01T09:00:00Z")
    p.add_argument("--until", metavar="DATE", help="only sessions started until then (included), as --since")
    p.add_argument("--limit", type=int, default=DEFAULT_LIMIT, help=f"results to show, 1 to {MAX_LIMIT} "
                                                                    f"(default {DEFAULT_LIMIT})")
    p.add_argument("--offset", type=int, default=0, help="results to skip (the next page)")
    p.add_argument("--raw", action="store_true",
                   help="read QUERY as SQLite FTS5 query syntax (AND, OR, NOT, NEAR, prefix*)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=cmd_search)


def cmd_search(args: argparse.Namespace) -> int:
    if not 1 <= args.limit <= MAX_LIMIT or args.offset < 0:
        raise CliError(f"--limit must be 1 to {MAX_LIMIT} and --offset not negative", EXIT_USAGE)
    since = parse_moment(args.since, "--since", end_of_day=False)
    until = parse_moment(args.until, "--until", end_of_day=True)
    check_range(since, until, since_field="--since")
    query = " ".join(args.query)
    with open_core(own=False) as core:
        page = core.store.search(query, speaker=args.speaker, since=since, until=until,
                                 limit=args.limit, offset=args.offset, raw=args.raw)
    if args.json:
        print_json(page.to_dict())
    else:
        print_results(page, color=sys.stdout.isatty() and not os.environ.get("NO_COLOR"))
    return EXIT_OK


def print_results(page: SearchPage, *, color: bool) -> None:
    if not page.data:
        print("No line matches." if not page.offset else "No more lines match.", file=sys.stderr)
        return
    out = []
    for hit in page.data:
        out.append(_heading(hit))
        out.append("    " + (hit.marked_snippet(BOLD, RESET) if color else hit.snippet))
    sys.stdout.write("\n".join(out) + "\n")
    if page.has_more:
        print(f"More lines match: --offset {page.offset + len(page.data)} shows the next ones.", file=sys.stderr)


def _heading(hit: SearchHit) -> str:
    try:
        started = parse_iso(hit.session_created_at).strftime("%Y-%m-%d %H:%M UTC")
    except (TypeError, ValueError):
        started = hit.session_created_at
    parts = [started, PLATFORM_NAMES.get(hit.platform, hit.platform), hit.session_id, _clock(hit.start_time)]
    if hit.speaker:
        parts.append(hit.speaker)
    return " · ".join(parts)


def _clock(seconds: float) -> str:
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"
