"""The readable table of a benchmark report: figure | median | p95 | target | met?"""
from __future__ import annotations

from typing import Any


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    if value == 0 or abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}" if abs(value) >= 0.01 else f"{value:.2e}"


def _met(value: bool | None) -> str:
    return {True: "yes", False: "NO", None: "-"}[value]


def render_table(report: dict[str, Any]) -> str:
    rows = [("figure", "unit", "n", "median", "p95", "target", "met?")]
    notes = []
    problems = []
    for name, bench in report["benchmarks"].items():
        if bench["status"] != "ok":
            first_line = (bench.get("error") or "").splitlines()[0] if bench.get("error") else ""
            problems.append(f"{name}: {bench['status']}" + (f" ({first_line})" if first_line else ""))
        for figure in bench["figures"]:
            rows.append((figure["name"], figure["unit"], str(figure["n"]), _number(figure.get("median")),
                         _number(figure.get("p95")), figure["target"] or "-", _met(figure["met"])))
            # a target on another statistic than the columns show gets its value here
            shown = [f"{lim} {_number(figure[lim])}" for lim in ("p99", "max")
                     if figure["target"] and figure["target"].startswith(lim) and figure["n"]]
            notes.append(f"  {figure['name']}: {figure['note']}" + (f" [{', '.join(shown)}]" if shown else ""))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [" | ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    machine = report["machine"]
    header = (f"mode {report['mode']} · {machine['cpu_count']} CPU ({machine['cpu_model']}) · "
              f"{machine['ram_gib']} GiB · load {machine['load_average_before']} -> "
              f"{machine['load_average_after']}")
    return "\n".join([header, *lines, "", "notes:", *notes, *(["", "not measured:"] if problems else []),
                      *(f"  {p}" for p in problems)])
