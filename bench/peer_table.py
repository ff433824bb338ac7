"""The side-by-side table of the peers benchmark: one row per figure, one column per tool, and
ours divided by the best peer's; a tool that could not run gets a note saying why.

    python -m bench.peer_table [REPORT_JSON]   # default bench/results/latest.json
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from bench.table import _number

DEFAULT_REPORT = Path(__file__).resolve().parent / "results" / "latest.json"
# row label, figure (after the tool's name), statistic, key in vs_best_peer
ROWS = (("final-line lag p50 (s)", "final_lag_s", "median", "final_lag_p50_s"),
        ("final-line lag p95 (s)", "final_lag_s", "p95", "final_lag_p95_s"),
        ("partial lag p50 (s)", "partial_lag_s", "median", "partial_lag_p50_s"),
        ("CPU s per audio s", "cpu_per_audio_s", "median", "cpu_per_audio_s"),
        ("peak RSS (MB)", "peak_rss_mb", "median", "peak_rss_mb"),
        ("WER", "wer", "median", "wer"))


def render_side_by_side(bench: dict[str, Any]) -> str:
    """Markdown table of the peers benchmark's result (its `figures` and `details`)."""
    details = bench["details"]
    tools: dict[str, dict[str, Any]] = details["tools"]
    figures = {f["name"]: f for f in bench["figures"]}
    notes: list[str] = []
    marks: dict[str, str] = {}
    for name, tool in tools.items():
        if tool["status"] != "ok":
            notes.append(f"[{len(notes) + 1}] {tool['label']} {tool['status']}: {tool.get('reason', '')}".strip())
            marks[name] = f"{tool['status']} [{len(notes)}]"
    header = ["", *(t["label"] + (f" {t['version']}" if t.get("version") else "") for t in tools.values()),
              "ours / best peer"]
    rows = []
    for label, figure, stat, key in ROWS:
        cells = [marks.get(name) or _number(figures.get(f"{name}_{figure}", {}).get(stat)) for name in tools]
        entry = details["vs_best_peer"].get(key, {})
        if entry.get("ratio") is not None:
            ratio = f"{entry['ratio']:.2f}x ({tools[entry['best_peer']]['label']})"
        else:
            notes.append(f"[{len(notes) + 1}] {label}: {entry.get('why') or 'not compared'}")
            ratio = f"- [{len(notes)}]"
        rows.append([label, *cells, ratio])
    finals = [marks.get(name) or f"{figures.get(f'{name}_final_lag_s', {}).get('n', 0)} of {details['sentences']}"
              for name in tools]
    rows.append(["sentences with a final", *finals, ""])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join([*lines, *([""] + notes if notes else [])])


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else DEFAULT_REPORT
    report = json.loads(path.read_text(encoding="utf-8"))
    bench = report["benchmarks"].get("peers")
    if bench is None or bench["status"] != "ok":
        print(f"{path} has no peers result", file=sys.stderr)
        return 1
    print(render_side_by_side(bench))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
