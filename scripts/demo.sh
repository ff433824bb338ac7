#!/usr/bin/env bash
# The main job on the built-in default: shows the command line and parses an example link.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export MEETING_BUDDY_DATA_DIR=${MEETING_BUDDY_DATA_DIR:-$PWD/.demo-data}
.venv/bin/meeting-buddy --help
.venv/bin/meeting-buddy link-info 'https://teams.microsoft.com/l/meetup-join/19%3ameeting_demo%40thread.v2/0?context=%7b%22Tid%22%3a%22t%22%7d'
