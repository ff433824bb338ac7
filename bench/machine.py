"""Facts about the machine and the software a benchmark run measured."""
from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("PySide6", "faster-whisper", "ctranslate2", "av", "numpy", "fastapi", "uvicorn",
            "python-docx", "mss")


def _cpuinfo() -> tuple[int | None, str | None]:
    """(processor count, model name) from /proc/cpuinfo; (None, None) where there is none."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return None, None
    count = sum(1 for line in lines if line.split(":")[0].strip() == "processor")
    model = next((line.split(":", 1)[1].strip() for line in lines
                  if line.lower().startswith(("model name", "hardware"))), None)  # x86; ARM boards
    return count or None, model or None


def _ram_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 2)
    except OSError:
        pass
    return None


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _git_commit(repo: Path) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip() or None


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def machine_facts(repo: Path) -> dict[str, Any]:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    count, model = _cpuinfo()
    return {
        "cpu_count": count or os.cpu_count(),
        "cpu_usable": usable,
        "cpu_model": model or platform.processor() or None,
        "ram_gib": _ram_gib(),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "versions": {name: _version(name) for name in PACKAGES},
        "git_commit": _git_commit(repo),
    }
