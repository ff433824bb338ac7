#!/usr/bin/env bash
# Installs everything Meeting Buddy needs on Debian/Ubuntu: the system libraries QtWebEngine,
# PortAudio and the test tools need (only those missing), then a virtual environment in .venv.
# Safe to run again: it only does what is not done yet.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(
  libnss3 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0
  libxcb-xinerama0 libxcb-randr0 libxcb-render-util0 libxcb-image0 libegl1 libgl1
  libasound2 libxcomposite1 libxdamage1 libxrandr2 libxtst6 libxkbfile1 libdbus-1-3
  libportaudio2 xvfb xauth x11-utils pulseaudio pulseaudio-utils libasound2-plugins espeak-ng
  desktop-file-utils appstream
  cmake build-essential
  python3 python3-venv python3-pip
)

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PYTHON --version)"
  $PYTHON -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "setup: installing Python packages into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  # llama-cpp-python comes as source where no wheel fits: build only the library the notes
  # need, for any x86-64/ARM CPU (not only this one), on every core. pip keeps the
  # built wheel in its cache, so this happens once per machine.
  export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
-DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAVA_BUILD=OFF -DGGML_OPENMP=OFF}"
  export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
  .venv/bin/python -m pip install -q -e '.[test]'
  rm -f .venv/.installed-*
  touch "$stamp"
fi
# The voice encoder's weights (recorder/voices): the resemblyzer package ships them; its code
# and its dependencies (torch) are never imported, so it is installed without them.
if ! .venv/bin/python -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('resemblyzer') is None)"; then
  echo "setup: installing the voice encoder's weights (resemblyzer, without its dependencies)"
  .venv/bin/python -m pip install -q --no-deps resemblyzer==0.1.4
fi
