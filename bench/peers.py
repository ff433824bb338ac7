"""Side by side with the peers: the benchmark's speech script played in real time through
Meeting Buddy's pipeline and through the live-transcription tools people would pick instead
(bench.peer_contenders), each given the same tiny.en files from the model store, the same
cores and threads, one at a time in a process of its own (bench.peer_process), taking turns
over parts of the script (bench.peer_audio).

Figures per tool: final-line lag (a sentence's last sound fed -> the final holding its last
word), partial lag (its first sound fed -> the first text covering it), CPU seconds per audio
second, peak RSS and WER of its final transcript against the script; then ours divided by the
best peer's (`vs_best_peer_*`, below 1: ours is better). A tool that cannot run here is
reported with the reason instead of numbers.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.figures import BenchResult, Figure, Mode
from bench.lag import LagReport, measure_lags
from bench.live_pipeline import heard, utterances
from bench.machine import load_average
from bench.peer_audio import split_speech
from bench.peer_contenders import CONTENDERS, OURS, Contender
from bench.peer_stream import as_pipeline_run
from bench.peer_table import render_side_by_side
from bench.speech_script import SpeechFile, build_speech_file
from bench.wer import edit_distance, normalize

REPO = Path(__file__).resolve().parent.parent
LOG_TAIL = 2000  # characters of a failed tool's output kept in the results
# Lower is better for all of these; the statistic of the per-tool samples each compares.
COMPARED = {"final_lag_p50_s": ("final_lag_s", "median"), "final_lag_p95_s": ("final_lag_s", "p95"),
            "partial_lag_p50_s": ("partial_lag_s", "median"), "cpu_per_audio_s": ("cpu_per_audio_s", "median"),
            "peak_rss_mb": ("peak_rss_mb", "median"), "wer": ("wer", "median")}
# What each part's run reports about itself, kept per part.
PART_FACTS = ("cpu_seconds", "wall_seconds", "peak_rss_mb", "load_seconds", "load_average_before",
              "load_average_after")


class Tool:
    """One tool's runs over the parts of the speech, added up: its lags per sentence, CPU
    time and audio, peak memory, and word errors against the parts' scripts."""

    def __init__(self, contender: Contender) -> None:
        self.contender = contender
        self.report: dict[str, Any] = {}
        self.parts: list[dict[str, Any]] = []
        self.lags = LagReport([], [], [])
        self.cpu_seconds = self.audio_seconds = self.peak_rss_mb = 0.0
        self.edits = self.words = 0
        self.texts: list[str] = []
        self.results = {"finals": 0, "partials": 0}

    @property
    def ok(self) -> bool:
        return self.report.get("status") == "ok"

    def add(self, report: dict[str, Any], part: SpeechFile, number: int, parts: int) -> None:
        played = report.pop("played", None)
        facts: dict[str, Any] = {k: report.pop(k) for k in PART_FACTS if k in report}
        if not self.report or report["status"] != "ok":
            self.report = report
            if report["status"] == "failed" and parts > 1:
                self.report["reason"] = f"part {number} of {parts}: {report.get('reason')}"
        if played is None:
            return
        run = as_pipeline_run(played, facts["cpu_seconds"], facts["wall_seconds"])
        said = utterances(run, part)
        lags = measure_lags(said, heard(run))
        self.lags.final_lags += lags.final_lags
        self.lags.first_text_lags += lags.first_text_lags
        self.lags.missed += lags.missed
        self.cpu_seconds += facts["cpu_seconds"]
        self.audio_seconds += part.duration
        self.peak_rss_mb = max(self.peak_rss_mb, facts["peak_rss_mb"])
        script, written = normalize(part.text), normalize(played["final_text"])
        self.edits += edit_distance(script, written)
        self.words += len(script)
        self.texts.append(played["final_text"])
        for row in played["results"]:
            self.results["partials" if row[3] else "finals"] += 1
        # how far behind it ended: its last result after the last sound of speech was fed
        behind = round(max(arrived for _, arrived in run.results) - said[-1].heard_until, 3) if run.results else None
        self.parts.append({**facts, "audio_seconds": round(part.duration, 3), "last_result_after_speech_s": behind,
                           **played["details"]})

    def to_dict(self) -> dict[str, Any]:
        if not self.ok:
            return {**self.report, "parts": self.parts}
        return {**self.report, "parts": self.parts, "final_text": " ".join(self.texts), "lag": self.lags.to_dict(),
                "results": self.results, "cpu_seconds": round(self.cpu_seconds, 3),
                "audio_seconds": round(self.audio_seconds, 3), "peak_rss_mb": round(self.peak_rss_mb, 1)}


def run_contender(contender: Contender, audio: Path, folder: Path, timeout: float) -> dict[str, Any]:
    """Runs one tool in its own process; its report, or why there is none."""
    out, log = folder / f"{contender.name}.json", folder / f"{contender.name}.log"
    threads = len(os.sched_getaffinity(0))
    # every tool gets the same cores; peers' CTranslate2 takes its thread count from here
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "HF_HUB_OFFLINE": "1"}
    load_before = load_average()
    with open(log, "wb") as output:
        child = subprocess.Popen([sys.executable, "-m", "bench.peer_process", contender.name, str(audio), str(out)],
                                 cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            code = child.wait(timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            code = child.wait()
    machine = {"load_average_before": load_before, "load_average_after": load_average()}
    if code == 0 and out.exists():
        return {**json.loads(out.read_text(encoding="utf-8")), **machine}
    tail = log.read_text(errors="replace")[-LOG_TAIL:]
    return {"name": contender.name, "label": contender.label, "how": contender.how, "version": contender.version(),
            "status": "failed", "reason": f"exit status {code} within {timeout:.0f} s\n{tail}", **machine}


def tool_figures(tool: Tool) -> list[Figure]:
    name, label = tool.contender.name, tool.contender.label
    missed = f"; {len(tool.lags.missed)} sentence(s) never got a final" if tool.lags.missed else ""
    return [
        Figure(f"{name}_final_lag_s", "s", tool.lags.final_lags, (),
               f"{label}, per sentence: its last sound fed -> the final holding its last word{missed}",
               {f"peers_{name}_final_lag_p50_s": "median", f"peers_{name}_final_lag_p95_s": "p95"}),
        Figure(f"{name}_partial_lag_s", "s", tool.lags.first_text_lags, (),
               f"{label}, per sentence: its first sound fed -> the first text covering it",
               {f"peers_{name}_partial_lag_p50_s": "median"}),
        Figure(f"{name}_cpu_per_audio_s", "cpu s/audio s", [tool.cpu_seconds / tool.audio_seconds], (),
               f"{label}: its process's CPU time from the first sample to the last result / audio seconds",
               {f"peers_{name}_cpu_per_audio_s": "median"}),
        Figure(f"{name}_peak_rss_mb", "MB", [tool.peak_rss_mb], (),
               f"{label}: peak resident memory of its process (imports and model included)",
               {f"peers_{name}_peak_rss_mb": "median"}),
        Figure(f"{name}_wer", "ratio", [tool.edits / tool.words], (),
               f"{label}: its final transcript against the script (word errors over the parts / their words)",
               {f"peers_{name}_wer": "median"}),
    ]


def statistic(figures: dict[str, Figure], name: str, figure: str, stat: str) -> float | None:
    found = figures.get(f"{name}_{figure}")
    return found.stats.get(stat) if found is not None and found.samples else None


def compare(figures: dict[str, Figure], tools: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per compared figure: ours, the best peer's (the lowest), their ratio, or why there is
    no ratio."""
    peers = [name for name, tool in tools.items() if name != OURS and tool["status"] == "ok"]
    comparison: dict[str, dict[str, Any]] = {}
    for key, (figure, stat) in COMPARED.items():
        ours = statistic(figures, OURS, figure, stat)
        values = {p: v for p in peers if (v := statistic(figures, p, figure, stat)) is not None}
        best = min(values, key=lambda p: values[p]) if values else None
        entry: dict[str, Any] = {"ours": ours, "best_peer": best, "best": values.get(best) if best else None,
                                 "ratio": None, "why": None}
        if ours is None:
            entry["why"] = f"{tools.get(OURS, {}).get('label', 'Meeting Buddy')} has no {figure} figure"
        elif best is None:
            reasons = "; ".join(f"{t['label']}: {t.get('reason') or 'no ' + figure}"
                                for n, t in tools.items() if n != OURS)
            entry["why"] = f"no peer has a {figure} figure ({reasons})"
        elif values[best] <= 0:
            entry["why"] = f"the best peer's {figure} is 0; a ratio to it means nothing"
        else:
            entry["ratio"] = ours / values[best]
        comparison[key] = entry
    return comparison


def comparison_figures(comparison: dict[str, dict[str, Any]], tools: dict[str, dict[str, Any]]) -> list[Figure]:
    return [Figure(f"vs_best_peer_{key}", "x", [entry["ratio"]], (),
                   f"ours {entry['ours']:.3g} / {tools[entry['best_peer']]['label']} {entry['best']:.3g} "
                   "(the best peer; below 1: ours is better)")
            for key, entry in comparison.items() if entry["ratio"] is not None]


def measure(mode: Mode) -> BenchResult:
    seconds = mode.pick(full=300, quick=48, smoke=4)
    parts = mode.pick(full=3, quick=1, smoke=1)
    drain = mode.pick(full=10.0, quick=10.0, smoke=4.0)
    tools = {c.name: Tool(c) for c in CONTENDERS}
    with tempfile.TemporaryDirectory(prefix="mb-bench-peers-") as tmp:
        speech = build_speech_file(Path(tmp) / "speech.wav", seconds)
        files = split_speech(speech, parts, drain)
        for number, part in enumerate(files, start=1):
            for tool in tools.values():
                if tool.report and not tool.ok:
                    continue  # could not run: no use trying again
                print(f"[peers] part {number}/{parts}: {tool.contender.name} ...", flush=True)
                report = run_contender(tool.contender, part.path, Path(tmp), part.duration + 300.0)
                print(f"[peers] {tool.contender.name}: {report['status']} {report.get('reason') or ''}", flush=True)
                tool.add(report, part, number, parts)
    figures = {f.name: f for tool in tools.values() if tool.ok for f in tool_figures(tool)}
    reports = {name: tool.to_dict() for name, tool in tools.items()}
    comparison = compare(figures, reports)
    details = {"audio_seconds": round(sum(part.duration for part in files), 3), "parts": parts,
               "drain_seconds": drain, "sentences": len(speech.sentences),
               "cores": sorted(os.sched_getaffinity(0)), "tools": reports, "vs_best_peer": comparison}
    details["side_by_side"] = render_side_by_side({"figures": [f.to_dict() for f in figures.values()],
                                                   "details": details})
    return BenchResult([*figures.values(), *comparison_figures(comparison, reports)], details)
