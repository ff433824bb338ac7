"""`meeting-buddy packs check`: a platform's selector pack against a saved meeting page (a
diagnostics bundle's page.html, or a page saved from a browser), to see which landmarks the
bot would find there before a fixed pack goes out."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.cli_common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, CliError, print_json, qt_runtime
from app.models import Platform

NONE = "none"


def register(sub: argparse._SubParsersAction) -> None:
    packs = sub.add_parser("packs", help="check the selector packs against saved meeting pages")
    psub = packs.add_subparsers(dest="packs_command", metavar="ACTION", required=True)
    p = psub.add_parser(
        "check", help="which landmarks of a platform's pack a saved page shows",
        description="Opens a saved meeting page (its own scripts off, nothing fetched from the "
                    "network) with the bot's page driver and lists every landmark of the "
                    "platform's pack with the matcher that hits, or 'none'. Exit 1 when an "
                    "expected landmark matches nothing, 2 on bad input.")
    p.add_argument("platform", metavar="PLATFORM", help=", ".join(p.value for p in Platform))
    p.add_argument("file", metavar="FILE.html", help="the saved page, e.g. a diagnostics bundle's page.html")
    p.add_argument("--expect", metavar="LANDMARK,...",
                   help="landmarks the page must show (default: the pre-join screen's, "
                        "name_input,join_buttons)")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.set_defaults(func=cmd_packs_check)


def cmd_packs_check(args: argparse.Namespace) -> int:
    from recorder.bot.pack_check import PREJOIN_LANDMARKS, PackCheckError, check_page
    from recorder.bot.selector_pack import SelectorPackError, load_pack

    try:
        pack = load_pack(args.platform)
    except SelectorPackError as exc:
        platforms = ", ".join(p.value for p in Platform)
        raise CliError(f"{exc} (platforms: {platforms})", EXIT_USAGE) from exc
    path = Path(args.file)
    _readable(path)
    expected = ([name.strip() for name in args.expect.split(",") if name.strip()] if args.expect is not None
                else list(PREJOIN_LANDMARKS))
    with qt_runtime(headless=True):
        try:
            diagnostics = check_page(pack, path)
        except PackCheckError as exc:
            raise CliError(str(exc)) from exc
    landmarks = diagnostics.landmarks
    unknown = [name for name in expected if name not in landmarks]
    if unknown:
        raise CliError(f"the {pack.platform} pack has no landmark {', '.join(unknown)} "
                       f"(it has: {', '.join(landmarks)})", EXIT_USAGE)
    missing = [name for name in expected if landmarks[name] is None]
    if args.json:
        print_json({"platform": pack.platform, "file": str(path.resolve()), "url": diagnostics.url,
                    "title": diagnostics.title, "landmarks": landmarks, "expected": expected,
                    "missing": missing})
    else:
        _print_table(landmarks, expected)
    if missing:
        print(f"meeting-buddy: the page shows no {', '.join(missing)} "
              f"(expected: {', '.join(expected)})", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


def _readable(path: Path) -> None:
    try:
        with path.open("rb") as page:
            page.read(1)
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}", EXIT_USAGE) from exc


def _print_table(landmarks: dict[str, str | None], expected: list[str]) -> None:
    """One landmark a line: its name (expected ones marked *), then the matcher or none."""
    width = max((len(name) for name in landmarks), default=0)
    for name, matcher in landmarks.items():
        mark = "*" if name in expected else " "
        print(f"{mark} {name:<{width}}  {matcher or NONE}")
