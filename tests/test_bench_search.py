"""The search benchmark (bench/search.py) in its smoke size: it builds its store through the
store's own write path, chooses its queries by how many lines they match, and reports the
figure the README's table holds. Its numbers mean nothing at this size."""
from __future__ import annotations

from bench.figures import Mode
from bench.registry import BY_NAME
from bench.search import measure


def test_the_search_benchmark_measures_every_kind_of_query():
    assert BY_NAME["search"].module == "bench.search"
    result = measure(Mode("smoke")).to_dict()
    figures = {f["name"]: f for f in result["figures"]}
    p95 = figures["search_p95_ms"]
    assert p95["target"] == "p95 <= 50" and p95["summary_keys"] == {"search_p95_ms": "p95", "search_p50_ms": "median"}
    details = result["details"]
    assert details["lines"] == 1200 and details["meetings"] == 12
    kinds = details["per_query"]
    assert list(kinds) == ["rare word", "moderate word", "frequent word", "two words", "phrase", "prefix",
                           "speaker", "a month", "second page"]
    assert p95["n"] == 2 * len(kinds)
    for kind in ("rare word", "moderate word", "frequent word", "phrase", "prefix", "speaker"):
        assert kinds[kind]["results"] >= 1, kind  # every query finds something
    assert kinds["rare word"]["lines_with_the_words"] <= kinds["moderate word"]["lines_with_the_words"] \
        <= kinds["frequent word"]["lines_with_the_words"]
    assert details["common_word"]["matching_lines"] >= 0.15 * details["lines"]
