#!/usr/bin/env bash
# Runs a built bundle the way a user would: --version, link-info, and a whole demo session
# against the built-in meeting simulator (bot joins, records, transcribes with the bundled
# model). Exits non-zero on the first failure.
#   packaging/smoke.sh [BUNDLE_DIR]        (default dist/meeting-buddy)
# Needs Xvfb when there is no display, and espeak-ng for the simulated speakers' voices.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUNDLE="${1:-$ROOT/dist/meeting-buddy}"
EXE="$BUNDLE/meeting-buddy"
DEMO_TIMEOUT_S="${MB_SMOKE_DEMO_TIMEOUT_S:-300}"

fail() { echo "smoke: FAIL: $*" >&2; exit 1; }

[[ -x "$EXE" ]] || fail "no executable at $EXE (run packaging/build.sh first)"
command -v python3 >/dev/null || fail "python3 is needed to read the JSON results"
command -v espeak-ng >/dev/null || fail "espeak-ng is needed for the simulator's speech (apt-get install espeak-ng)"
if [[ -z "${DISPLAY:-}" ]]; then
    command -v Xvfb >/dev/null || fail "no DISPLAY and no Xvfb (apt-get install xvfb)"
fi

# A private data folder and services state, so the run touches none of the user's sessions.
WORK="$(mktemp -d "${TMPDIR:-/tmp}/meeting-buddy-smoke.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
export MEETING_BUDDY_DATA_DIR="$WORK/data"
export MB_SERVICES_DIR="$WORK/services"

# 1. --version
version="$("$EXE" --version)" || fail "--version exited non-zero"
[[ "$version" =~ ^meeting-buddy\ [0-9]+\.[0-9]+ ]] || fail "--version printed '$version'"
echo "smoke: ok: $version"

# 2. link-info: a valid link is understood, an unsupported one is refused with exit 2.
"$EXE" link-info "https://zoom.us/j/1234567890?pwd=abc" > "$WORK/link.json" \
    || fail "link-info exited non-zero for a Zoom link"
python3 - "$WORK/link.json" <<'EOF' || fail "link-info output is wrong: $(cat "$WORK/link.json")"
import json, sys
info = json.load(open(sys.argv[1]))
assert info["platform"] == "zoom" and info["meeting_id"] == "1234567890", info
EOF
set +e
"$EXE" link-info "https://example.com/meeting" > "$WORK/bad-link.json"
code=$?
set -e
[[ $code -eq 2 ]] || fail "link-info exited $code for an unsupported link (expected 2)"
grep -q '"UNSUPPORTED_PLATFORM"' "$WORK/bad-link.json" || fail "link-info gave no UNSUPPORTED_PLATFORM error"
echo "smoke: ok: link-info"

# 3. demo: a whole bot session against the simulator, transcribed with the bundled model.
start=$(date +%s)
set +e
timeout --signal=TERM --kill-after=30 "$DEMO_TIMEOUT_S" \
    "$EXE" demo --headless --json-out "$WORK/demo.json" > "$WORK/demo.stdout" 2> "$WORK/demo.stderr"
code=$?
set -e
elapsed=$(( $(date +%s) - start ))
if [[ $code -ne 0 ]]; then
    tail -n 40 "$WORK/demo.stderr" >&2
    fail "demo exited $code after ${elapsed}s"
fi
python3 - "$WORK/demo.json" <<'EOF' || { tail -n 40 "$WORK/demo.stderr" >&2; fail "demo result is wrong"; }
import json, sys
result = json.load(open(sys.argv[1]))
session, transcripts = result["session"], result["transcripts"]
assert session["status"] == "completed", f"status {session['status']}: {session.get('error_message')}"
texts = [t["text"].strip() for t in transcripts if t["text"].strip()]
assert texts, "the transcript is empty"
assert session["audio_file_count"] >= 1, "no audio file was written"
print(f"smoke: demo transcript: {len(texts)} segments, first: {texts[0]!r}")
EOF
echo "smoke: ok: demo completed in ${elapsed}s"
echo "smoke: PASS"
