#!/usr/bin/env bash
# The main job on the built-in default: a whole session against the meeting simulator.
# The bot joins a simulated Teams meeting, is admitted, records and transcribes it, and
# leaves when the meeting ends; the transcript is printed and kept in .demo-data.
# Without a working display the bot runs on a private Xvfb. Extra arguments go to `demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export MEETING_BUDDY_DATA_DIR=${MEETING_BUDDY_DATA_DIR:-$PWD/.demo-data}
exec .venv/bin/meeting-buddy demo --headless "$@"
