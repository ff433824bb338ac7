"""Runs one tool of the side-by-side benchmark in a process of its own, so that the CPU time and
peak memory measured are that tool's alone: `python -m bench.peer_process NAME AUDIO OUT_JSON`
(bench.peers starts one per tool, one after another).

The tool is imported and its model loaded first (not timed, as in a warm app), then the
audio is played through it in real time; CPU time is the whole process's from the first
sample to the last result. A tool that cannot run here (not installed, an import that fails,
a download it insists on) is reported with the reason instead of a number."""
from __future__ import annotations

import json
import logging
import os
import resource
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from bench.offline_guard import DownloadRefused, refuse_downloads
from bench.peer_contenders import BY_NAME, Contender
from bench.recording import MODEL
from recorder.whisper_models import resolve_model

SETUP_HINT = "scripts/bench_setup.sh installs the peers for the benchmarks"


def _refused(error: BaseException | None) -> DownloadRefused | None:
    """The refused download behind an error, however the tool wrapped it (urllib keeps it
    as the `reason` of a URLError)."""
    while error is not None:
        for candidate in (error, getattr(error, "reason", None)):
            if isinstance(candidate, DownloadRefused):
                return candidate
        error = error.__cause__ or error.__context__
    return None


def why(error: BaseException) -> str:
    """The reason a tool could not run, and the place in its code it came from."""
    refused = _refused(error)
    reason = str(refused) if refused else f"{type(error).__name__}: {error}"
    frames = [f for f in traceback.extract_tb(error.__traceback__) if "site-packages" in f.filename]
    if frames:
        where = frames[-1]
        reason += f" (in {where.filename.split('site-packages/')[-1]}:{where.lineno}, {where.name})"
    return reason


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6  # kilobytes on Linux


def run(contender: Contender, audio: Path, workdir: Path) -> dict[str, Any]:
    threads = len(os.sched_getaffinity(0))
    report: dict[str, Any] = {"name": contender.name, "label": contender.label, "how": contender.how,
                              "version": contender.version(), "cpu_threads": threads}
    if report["version"] is None:
        return {**report, "status": "unavailable",
                "reason": f"{contender.distribution} is not installed ({SETUP_HINT})"}
    refuse_downloads()
    model_dir = resolve_model(MODEL).path
    started = time.monotonic()
    try:
        driver = contender.load(model_dir, threads)
    except Exception as error:  # whatever the tool raises is the reason it cannot run here
        return {**report, "status": "unavailable", "reason": why(error)}
    report.update(settings=driver.settings, load_seconds=round(time.monotonic() - started, 3))
    cpu0, wall0 = time.process_time(), time.monotonic()
    try:
        played = driver.play(audio, workdir)
    except Exception as error:
        return {**report, "status": "failed", "reason": why(error)}
    finally:
        driver.close()
    return {**report, "status": "ok", "cpu_seconds": time.process_time() - cpu0,
            "wall_seconds": time.monotonic() - wall0, "peak_rss_mb": peak_rss_mb(), "played": played.to_dict()}


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] not in BY_NAME:
        print(f"usage: python -m bench.peer_process {{{','.join(BY_NAME)}}} AUDIO OUT_JSON", file=sys.stderr)
        return 2
    name, audio, out = argv
    logging.basicConfig(level=logging.WARNING)  # the tools log every pass at INFO
    workdir = Path(out).parent / f"{name}-work"
    workdir.mkdir(parents=True, exist_ok=True)
    report = run(BY_NAME[name], Path(audio), workdir)
    Path(out).write_text(json.dumps(report), encoding="utf-8")
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    # A tool's server and worker threads are still up; an interpreter shutdown around them
    # can abort in their native libraries after the report is written, so leave at once.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
