"""Start-up time of the desktop application: from starting the process to its main window
first shown, on a warm start (a data folder that exists, files in the OS cache after one
untimed start). bench.app_start_probe runs the real entry point (ui.main.run_gui)."""
from __future__ import annotations

import os
import subprocess
import sys
import time

from bench.figures import BenchResult, Figure, Mode

START_TIMEOUT_S = 120.0


def one_start() -> float:
    began = time.monotonic()
    probe = subprocess.run([sys.executable, "-m", "bench.app_start_probe"], capture_output=True,
                           text=True, timeout=START_TIMEOUT_S, env=os.environ, check=False)
    shown = [line for line in probe.stdout.splitlines() if line.startswith("shown ")]
    if probe.returncode != 0 or not shown:
        raise RuntimeError(f"the application did not show its window (exit status "
                           f"{probe.returncode}): {probe.stderr[-1500:]}")
    return float(shown[0].split()[1]) - began


def measure(mode: Mode) -> BenchResult:
    runs = mode.pick(full=7, quick=3, smoke=1)
    one_start()  # creates the data folder and fills the OS file cache
    times = [one_start() for _ in range(runs)]
    return BenchResult([Figure(
        "app_start_s", "s", times, (),
        f"process start -> main window exposed (ui.main.run_gui), warm, {runs} start(s)")],
        {"runs": runs})
