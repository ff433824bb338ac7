"""The benchmark harness: `python -m bench.run` runs real benchmarks in worker processes and
writes the documented JSON report (numbers of a smoke run mean nothing, so only the shape is
checked), and its measuring helpers compute what they claim."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.figures import Figure, at_most
from bench.lag import Heard, Utterance, measure_lags
from bench.wer import normalize, word_error_rate

REPO = Path(__file__).resolve().parent.parent
FIGURE_KEYS = {"name", "unit", "n", "median", "p95", "p99", "min", "max", "mean", "samples",
               "target", "met", "note", "summary_keys"}


def run_bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bench.run", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120, check=False)


def test_smoke_run_writes_the_report(tmp_path):
    out = tmp_path / "report.json"
    done = run_bench("--smoke", "--only", "export,api", "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(out.read_text())

    assert report["schema_version"] == 1 and report["mode"] == "smoke"
    machine = report["machine"]
    assert machine["cpu_count"] >= 1 and machine["ram_gib"] > 0 and machine["python"]
    assert {"PySide6", "faster-whisper", "ctranslate2"} <= set(machine["versions"])
    assert list(report["benchmarks"]) == ["api", "export"]  # registry order, only those asked for
    for name, bench in report["benchmarks"].items():
        assert bench["status"] == "ok" and bench["error"] is None, name
        assert bench["seconds"] > 0 and bench["figures"], name
        for figure in bench["figures"]:
            assert set(figure) == FIGURE_KEYS
            assert figure["n"] == len(figure["samples"]) > 0
            assert figure["min"] <= figure["median"] <= figure["p95"] <= figure["max"]
    api = report["benchmarks"]["api"]["figures"][0]
    assert api["name"] == "api_start_ms" and api["n"] == 20 * 2  # 20 clients x 2 requests
    assert api["target"] == "p99 <= 50" and isinstance(api["met"], bool)
    assert report["summary"]["api_start_p99_ms"] == api["p99"]
    assert report["summary"]["export_3h_s"] == report["benchmarks"]["export"]["figures"][0]["median"]
    assert report["benchmarks"]["export"]["details"]["bytes_per_format"]["docx"] > 0
    assert "figure" in done.stdout and "api_start_ms" in done.stdout and str(out) in done.stdout


def test_unknown_benchmark_is_refused_with_the_known_names(tmp_path):
    done = run_bench("--only", "nope", "--out", str(tmp_path / "r.json"))
    assert done.returncode == 2
    assert "unknown benchmark 'nope'" in done.stderr and "pipeline" in done.stderr
    assert not (tmp_path / "r.json").exists()


def test_figure_target_uses_the_named_statistic():
    figure = Figure("lag", "s", [1.0, 1.5, 2.0, 9.0], at_most(median=2.0, p95=4.0))
    assert figure.stats["median"] == 1.75
    assert figure.met is False  # the p95 (8.0) breaks it, the median alone would not
    assert Figure("lag", "s", [1.0, 1.5], at_most(median=2.0, p95=4.0)).met is True
    assert Figure("x", "s", [3.0]).met is None  # no target
    with pytest.raises(ValueError):
        Figure("x", "s", [float("nan")])


def test_word_error_rate_ignores_case_punctuation_and_number_spelling():
    assert normalize("Travel costs fell 10% since March, 2 follow-ups.") == \
        "travel costs fell ten percent since march two follow ups".split()
    assert word_error_rate("Twelve laptops, please.", "12 laptops please") == 0.0
    # one substitution and one deletion over five reference words
    assert word_error_rate("the cat sat on mats", "the dog sat on") == pytest.approx(0.4)


def test_lag_is_counted_to_the_final_that_reaches_the_sentence_end():
    said = [Utterance("first one", 10.0, 12.0, 10.1, 12.1), Utterance("second one", 14.0, 16.0, 14.1, 16.1)]
    heard = [
        Heard("first", 10.0, 10.8, True, 11.5),
        Heard("first one", 10.0, 11.9, False, 13.0),   # ends within the margin of 12.0
        Heard("second", 14.1, 15.0, False, 15.5),       # a final before the end was even fed
        Heard("second one", 14.1, 15.95, False, 17.6),
    ]
    report = measure_lags(said, heard)
    assert report.final_lags == pytest.approx([13.0 - 12.1, 17.6 - 16.1])
    assert report.first_text_lags == pytest.approx([11.5 - 10.1, 15.5 - 14.1])
    assert measure_lags([Utterance("third", 20.0, 22.0, 20.0, 22.0)], heard).missed == ["third"]
