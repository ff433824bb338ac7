"""Runs one benchmark in this process and writes its result as JSON:
`python -m bench.worker NAME MODE OUT_JSON` (bench.run starts one per benchmark)."""
from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

from bench.figures import Mode
from bench.registry import BY_NAME


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] not in BY_NAME:
        print(f"usage: python -m bench.worker {{{','.join(BY_NAME)}}} MODE OUT_JSON", file=sys.stderr)
        return 2
    name, mode, out = argv
    module = importlib.import_module(BY_NAME[name].module)
    result = module.measure(Mode(mode))
    Path(out).write_text(json.dumps(result.to_dict(), indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
