#!/usr/bin/env bash
# The test command: installs what is missing, runs the static checks (ruff, the layer
# contract, mypy), starts Xvfb and PulseAudio, runs the suite, and stops the services again
# whatever the outcome. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/check.sh
export MB_SERVICES_DIR=${MB_SERVICES_DIR:-$(mktemp -d /tmp/mb-test-services.XXXXXX)}
trap 'bash scripts/services.sh stop' EXIT
eval "$(bash scripts/services.sh start)"
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-xcb}
.venv/bin/python -m pytest "$@"
