#!/usr/bin/env bash
# What the benchmarks need beyond the app: the peers bench/peers.py compares Meeting Buddy with
# (WhisperLive, WhisperLiveKit), installed into .venv only here, never for the app. The peers
# go in without their declared dependencies, which pull CUDA libraries, torchaudio, OpenVINO,
# PyAudio and a pinned faster-whisper that would replace the app's; the `peers` extra holds what
# their code paths the benchmark drives really import. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

PEERS=(whisper-live==0.10.0 whisperlivekit==0.2.26)
stamp=.venv/.bench-peers-$(cat pyproject.toml scripts/bench_setup.sh | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "bench setup: installing the peers for the side-by-side benchmark into .venv"
  .venv/bin/python -m pip install -q -e '.[test,peers]'
  .venv/bin/python -m pip install -q --no-deps "${PEERS[@]}"
  rm -f .venv/.bench-peers-*
  touch "$stamp"
fi
