"""Runs the benchmarks and reports their figures against the speed targets.

    python -m bench.run [--quick | --smoke] [--only NAME,...] [--out FILE]

Each benchmark runs in a process of its own (bench.worker) with its own data and config
folders; an Xvfb display and a PulseAudio server are started for those that need them when
none is running. The result, with facts about the machine, goes to bench/results/latest.json
(or --out) and a table goes to the standard output. `--quick` takes under three minutes and
leaves out the long bot-session benchmarks; `--smoke` only proves the harness works.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.figures import Mode
from bench.machine import load_average, machine_facts
from bench.registry import BENCHMARKS, BY_NAME, Benchmark
from bench.table import render_table
from recorder.headless import HeadlessError, HeadlessServices

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "bench" / "results" / "latest.json"
SCHEMA_VERSION = 1
ERROR_TAIL = 3000  # characters of a failed benchmark's output kept in the result


@dataclass
class Outcome:
    name: str
    status: str  # "ok", "failed", "timeout" or "skipped"
    seconds: float
    result: dict[str, Any] | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "seconds": round(self.seconds, 2), "error": self.error,
                **(self.result or {"figures": [], "details": {}})}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="short runs (under 3 minutes)")
    size.add_argument("--smoke", action="store_true",
                      help="tiny runs that only prove the harness works; the numbers mean nothing")
    parser.add_argument("--only", default="", metavar="NAME,...",
                        help=f"run only these: {', '.join(BY_NAME)}")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"result file (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        parser.error(f"unknown benchmark {unknown[0]!r}; known: {', '.join(BY_NAME)}")
    args.names = names
    return args


def run_one(bench: Benchmark, mode: Mode, env: dict[str, str], workdir: Path) -> Outcome:
    out = workdir / f"{bench.name}.json"
    log = workdir / f"{bench.name}.log"
    data = workdir / f"{bench.name}-data"
    child_env = {**env, "MEETING_BUDDY_DATA_DIR": str(data / "data"),
                 "MEETING_BUDDY_CONFIG_DIR": str(data / "config")}
    timeout = bench.timeout_s[0] if mode.full else bench.timeout_s[1]
    started = time.monotonic()
    with open(log, "wb") as output:
        # A session of its own, so a timeout ends the worker and whatever it started.
        worker = subprocess.Popen([sys.executable, "-m", "bench.worker", bench.name, mode.name, str(out)],
                                  cwd=REPO, env=child_env, stdout=output, stderr=subprocess.STDOUT,
                                  start_new_session=True)
        try:
            code = worker.wait(timeout)
        except subprocess.TimeoutExpired:
            code = None
        except KeyboardInterrupt:
            os.killpg(worker.pid, signal.SIGKILL)
            raise
        if code is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
    seconds = time.monotonic() - started
    tail = log.read_text(errors="replace")[-ERROR_TAIL:]
    if code is None:
        return Outcome(bench.name, "timeout", seconds, error=f"no result within {timeout:.0f} s\n{tail}")
    if code != 0 or not out.exists():
        return Outcome(bench.name, "failed", seconds, error=f"exit status {code}\n{tail}")
    return Outcome(bench.name, "ok", seconds, json.loads(out.read_text(encoding="utf-8")))


def summary(outcomes: list[Outcome]) -> dict[str, float]:
    values: dict[str, float] = {}
    for outcome in outcomes:
        for figure in (outcome.result or {}).get("figures", []):
            for key, stat in figure["summary_keys"].items():
                if stat in figure:
                    values[key] = figure[stat]
    return values


def run_all(chosen: list[Benchmark], mode: Mode, workdir: Path) -> list[Outcome]:
    outcomes: list[Outcome] = []
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "xcb")}
    # A display and a sound server, reusing working ones; stopped at the end if started here.
    services = HeadlessServices(workdir / "services")
    services_ready = False
    try:
        for bench in chosen:
            if bench.full_only and not mode.full:
                outcomes.append(Outcome(bench.name, "skipped", 0.0, error="full run only"))
                print(f"[bench] {bench.name}: skipped (full run only)", flush=True)
                continue
            if bench.needs_display and not services_ready:
                try:
                    services.start_display()
                    services.start_pulseaudio()
                except HeadlessError as exc:
                    outcomes.append(Outcome(bench.name, "failed", 0.0, error=f"no display: {exc}"))
                    print(f"[bench] {bench.name}: failed (no display: {exc})", flush=True)
                    continue
                services_ready = True
                env.update(services.env)
            print(f"[bench] {bench.name}: {bench.summary} ...", flush=True)
            outcome = run_one(bench, mode, env, workdir)
            print(f"[bench] {bench.name}: {outcome.status} in {outcome.seconds:.1f} s", flush=True)
            outcomes.append(outcome)
    finally:
        services.stop()
    return outcomes


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    mode = Mode("quick" if args.quick else "smoke" if args.smoke else "full")
    chosen = [b for b in BENCHMARKS if not args.names or b.name in args.names]
    started_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    load_before = load_average()
    # a sound-server client may still be writing its state here as the run ends
    with tempfile.TemporaryDirectory(prefix="mb-bench-", ignore_cleanup_errors=True) as tmp:
        outcomes = run_all(chosen, mode, Path(tmp))
    report = {
        "schema_version": SCHEMA_VERSION,
        "mode": mode.name,
        "started_at": started_at,
        "machine": {**machine_facts(REPO), "load_average_before": load_before,
                    "load_average_after": load_average()},
        "summary": summary(outcomes),
        "benchmarks": {o.name: o.to_dict() for o in outcomes},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print()
    print(render_table(report))
    print(f"\nwritten to {args.out}")
    return 0 if all(o.status in ("ok", "skipped") for o in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
