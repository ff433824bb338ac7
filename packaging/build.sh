#!/usr/bin/env bash
# Builds the one-folder bundle of Meeting Buddy with PyInstaller and prints its size.
#   packaging/build.sh                 -> dist/meeting-buddy/
#   MB_DIST_DIR=/tmp/out packaging/build.sh
# Environment: PYTHON (default .venv/bin/python), MB_DIST_DIR (default dist),
# MB_WORK_DIR (default build/pyinstaller).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
DIST_DIR="${MB_DIST_DIR:-$ROOT/dist}"
WORK_DIR="${MB_WORK_DIR:-$ROOT/build/pyinstaller}"

if [[ ! -x "$PYTHON" ]]; then
    echo "build.sh: no Python at $PYTHON (create .venv or set PYTHON)" >&2
    exit 1
fi
if ! "$PYTHON" -c "import PyInstaller" 2>/dev/null; then
    echo "installing PyInstaller into $("$PYTHON" -c 'import sys; print(sys.prefix)')" >&2
    "$PYTHON" -m pip install --quiet 'pyinstaller>=6.10,<7'
fi

start=$(date +%s)
"$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$DIST_DIR" --workpath "$WORK_DIR" packaging/meeting-buddy.spec
elapsed=$(( $(date +%s) - start ))

BUNDLE="$DIST_DIR/meeting-buddy"
if [[ ! -x "$BUNDLE/meeting-buddy" ]]; then
    echo "build.sh: the build finished but $BUNDLE/meeting-buddy is missing" >&2
    exit 1
fi
echo "built $BUNDLE in ${elapsed}s"
echo "size: $(du -sh "$BUNDLE" | cut -f1) ($(find "$BUNDLE" -type f | wc -l) files)"
