"""How the live-tier benchmarks judge lag: a line that never gets a final is not left out, it
counts with the time it had waited; a round of concurrent sessions is sustained only when
each session's p95, misses included, stays within the bound."""
from __future__ import annotations

import pytest

from bench.bot_sessions import SessionLag
from bench.concurrency import LAG_BOUND_S, sustained
from bench.lag import Heard, Utterance, measure_lags


def test_a_line_without_a_final_counts_with_its_wait():
    said = [Utterance("first", 10.0, 12.0, 10.0, 12.0), Utterance("lost", 14.0, 16.0, 14.0, 16.0)]
    heard = [Heard("first", 10.0, 11.9, False, 13.0)]
    report = measure_lags(said, heard, taken_at=30.0)
    assert report.final_lags == pytest.approx([1.0, 14.0]) and report.missed == ["lost"]
    assert report.to_dict()["sentences"] == 2
    left_out = measure_lags(said, heard)  # without the moment the results were taken
    assert left_out.final_lags == pytest.approx([1.0]) and left_out.to_dict()["sentences"] == 2


def session(lags: list[float], status: str = "completed") -> SessionLag:
    said = [Utterance(f"line {i}", 0.0, 1.0, 0.0, 1.0) for i in range(len(lags))]
    report = measure_lags(said, [], taken_at=0.0)
    report.final_lags = lags
    return SessionLag("s", "zoom", status, None, report)


def test_a_round_is_sustained_only_within_the_bound_for_every_session():
    quick = [1.0] * 19 + [LAG_BOUND_S - 0.1]
    assert sustained([session(quick), session(quick)])
    assert not sustained([session(quick), session([1.0] * 18 + [30.0, 30.0])])  # two lines never came
    assert not sustained([session(quick, status="failed")])
    assert not sustained([session([])])
