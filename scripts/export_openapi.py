"""Write the API's OpenAPI document to docs/openapi.json (or check it is up to date).

    .venv/bin/python scripts/export_openapi.py          # write
    .venv/bin/python scripts/export_openapi.py --check  # exit 1 if the file is stale
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from app.api import openapi_document  # noqa: E402

TARGET = REPO / "docs" / "openapi.json"


def render() -> str:
    return json.dumps(openapi_document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare, write nothing")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not TARGET.exists() or TARGET.read_text("utf-8") != text:
            print(f"{TARGET.relative_to(REPO)} is stale: run scripts/export_openapi.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, "utf-8")
    print(f"wrote {TARGET.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
