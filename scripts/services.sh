#!/usr/bin/env bash
# Starts or stops the headless services the tests use: an Xvfb display (when none works)
# and a private PulseAudio daemon with a null sink `mb_sink` (its monitor is the default
# source), so device capture has something to record where no sound card exists.
#   eval "$(bash scripts/services.sh start)"   -> exports DISPLAY and PULSE_SERVER
#   bash scripts/services.sh stop
# State lives in $MB_SERVICES_DIR. The work is done by recorder/headless.py.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m recorder.headless "$@"
