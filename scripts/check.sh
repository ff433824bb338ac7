#!/usr/bin/env bash
# The static checks the test command runs before pytest: lint and import order (ruff), the
# layer contract (import-linter: ui -> app -> recorder, never back) and the type checker (mypy).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "check: ruff"
.venv/bin/ruff check .
echo "check: import contract"
.venv/bin/lint-imports
echo "check: mypy"
.venv/bin/mypy
