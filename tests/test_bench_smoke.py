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


# --- side by side with the peers (bench/peers.py) -------------------------------------------

def test_peers_smoke_runs_every_tool_or_says_why(tmp_path):
    """Our pipeline goes through the peers harness end to end; each peer either runs or is
    reported with the reason instead of numbers (not installed only where it is not)."""
    from bench.peer_contenders import CONTENDERS, OURS

    out = tmp_path / "report.json"
    done = subprocess.run([sys.executable, "-m", "bench.run", "--smoke", "--only", "peers", "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=420, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    bench = json.loads(out.read_text())["benchmarks"]["peers"]
    assert bench["status"] == "ok", bench["error"]
    details, figures = bench["details"], {f["name"]: f for f in bench["figures"]}
    assert list(details["tools"]) == [c.name for c in CONTENDERS]
    ours = details["tools"][OURS]
    assert ours["status"] == "ok", ours.get("reason")
    assert figures[f"{OURS}_final_lag_s"]["n"] >= 1 and figures[f"{OURS}_wer"]["n"] == 1
    assert ours["cpu_seconds"] > 0 and ours["peak_rss_mb"] > 50 and ours["final_text"]
    for contender in CONTENDERS[1:]:
        tool = details["tools"][contender.name]
        if contender.version() is None:
            assert tool["status"] == "unavailable" and "not installed" in tool["reason"], tool
        elif tool["status"] == "ok":
            assert figures[f"{contender.name}_cpu_per_audio_s"]["n"] == 1
            assert figures[f"{contender.name}_peak_rss_mb"]["median"] > 0
        else:
            assert tool["status"] == "unavailable" and tool["reason"], tool
            assert f"{contender.name}_wer" not in figures  # a reason instead of a number
            assert tool["reason"] in details["side_by_side"]
    for key, entry in details["vs_best_peer"].items():
        if entry["ratio"] is not None:
            assert figures[f"vs_best_peer_{key}"]["median"] == pytest.approx(entry["ours"] / entry["best"])
        else:
            assert entry["why"], key
    assert "| final-line lag p50 (s) |" in details["side_by_side"]
    assert "vs_best_peer_" in done.stdout or not any(e["ratio"] for e in details["vs_best_peer"].values())


def _figures(**tools):
    from bench.peers import Figure

    made = {}
    for tool, values in tools.items():
        for figure, samples in values.items():
            made[f"{tool}_{figure}"] = Figure(f"{tool}_{figure}", "-", samples)
    return made


def test_vs_best_peer_divides_ours_by_the_lowest_peer_and_says_why_not():
    from bench.peers import compare, comparison_figures

    tools = {"meeting_buddy": {"label": "Meeting Buddy", "status": "ok"},
             "fast": {"label": "Fast", "status": "ok"},
             "slow": {"label": "Slow", "status": "ok"},
             "broken": {"label": "Broken", "status": "unavailable", "reason": "download refused"}}
    figures = _figures(meeting_buddy={"final_lag_s": [1.0, 2.0, 3.0], "cpu_per_audio_s": [0.4], "wer": [0.1]},
                       fast={"final_lag_s": [0.5, 1.0, 1.5], "cpu_per_audio_s": [0.8], "wer": [0.0]},
                       slow={"final_lag_s": [4.0, 5.0, 6.0], "cpu_per_audio_s": [0.2]})
    comparison = compare(figures, tools)
    assert comparison["final_lag_p50_s"]["best_peer"] == "fast"
    assert comparison["final_lag_p50_s"]["ratio"] == pytest.approx(2.0 / 1.0)  # ours behind: above 1
    assert comparison["cpu_per_audio_s"]["best_peer"] == "slow"
    assert comparison["cpu_per_audio_s"]["ratio"] == pytest.approx(0.4 / 0.2)
    assert comparison["wer"]["ratio"] is None and "is 0" in comparison["wer"]["why"]
    assert comparison["peak_rss_mb"]["ratio"] is None and "no peak_rss_mb" in comparison["peak_rss_mb"]["why"]
    named = {f.name: f for f in comparison_figures(comparison, tools)}
    assert named["vs_best_peer_final_lag_p50_s"].samples == [pytest.approx(2.0)]
    assert "vs_best_peer_wer" not in named and "Fast" in named["vs_best_peer_final_lag_p50_s"].note

    no_peer = compare(figures, {"meeting_buddy": tools["meeting_buddy"], "broken": tools["broken"]})
    assert no_peer["final_lag_p50_s"]["ratio"] is None
    assert "Broken: download refused" in no_peer["final_lag_p50_s"]["why"]


def test_a_tool_that_reaches_for_a_download_is_refused_with_the_host_named():
    from bench.offline_guard import is_local
    from bench.peer_process import why

    assert is_local("127.0.0.1") and is_local("localhost") and is_local("::1") and is_local(None)
    assert not is_local("huggingface.co") and not is_local("8.8.8.8")
    script = ("import urllib.request\n"
              "from bench.offline_guard import refuse_downloads\n"
              "refuse_downloads()\n"
              "urllib.request.urlopen('https://example.com/model.pt', timeout=5)\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode != 0 and "download refused: tried to reach example.com" in done.stderr

    import urllib.error

    from bench.offline_guard import DownloadRefused
    try:
        try:
            raise DownloadRefused("download refused: tried to reach weights.example")
        except DownloadRefused as refused:
            raise urllib.error.URLError(refused) from None
    except urllib.error.URLError as wrapped:
        assert why(wrapped).startswith("download refused: tried to reach weights.example")
    assert why(ImportError("No module named 'torch'")) == "ImportError: No module named 'torch'"


def test_the_speech_is_cut_into_parts_of_whole_sentences_between_them(tmp_path):
    from bench.peer_audio import split_speech
    from bench.speech_script import build_speech_file

    speech = build_speech_file(tmp_path / "speech.wav", 12)
    parts = split_speech(speech, 2, drain=3.0)
    assert [s.text for p in parts for s in p.sentences] == [s.text for s in speech.sentences]
    assert sum(p.duration for p in parts) == pytest.approx(speech.duration + 2 * 3.0, abs=1e-3)
    first, second = parts
    assert first.sentences[0].start == speech.sentences[0].start  # the first part starts where the file does
    cut = (speech.sentences[len(first.sentences) - 1].end + speech.sentences[len(first.sentences)].start) / 2
    assert second.sentences[0].start == pytest.approx(speech.sentences[len(first.sentences)].start - cut)
    for part in parts:  # every sentence whole inside its part, the silence after the last one
        assert 0 < part.sentences[0].start and part.sentences[-1].end <= part.duration - 3.0
