"""Full-text search latency across many meetings: a store of 1,000 finished meetings of 500
transcript lines each (500,000 lines; 200 meetings quick) is written through the store's own
write path (its triggers keep the FTS5 index in step), then `Store.search` — the call behind
`meeting-buddy search`, `GET /search` and the window's search field — is timed over a mix of
queries, each run several times after one untimed run.

The text is generated: words drawn with Zipf's law (s = 1.07) from a ranked vocabulary —
English function words first, then the words of the benchmark's meeting script, then 30,000
made-up words — 5 to 22 words a line, five speakers, sessions spread over a year. The queries
are chosen by how many lines they match (their share of the corpus), so the mix means the same
whatever the vocabulary: a rare word, a moderate and a frequent one, two words, a phrase, a
prefix, one speaker's lines, a month's sessions and a second page. A word in about a fifth of
all lines (a function word, as nobody searches for) is reported apart, without a target: every
match is ranked, so its time grows with its matches."""
from __future__ import annotations

import itertools
import random
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from statistics import median
from typing import Any

from app.models import Platform, Session, Status, TranscriptSegment
from app.search import fts_query
from app.store import DB_NAME, Store
from app.timeutil import iso, utc_now
from bench.figures import BenchResult, Figure, Mode, at_most
from bench.speech_script import SCRIPT

PEOPLE = ("Alice Johnson", "Bob Smith", "Carol Davis", "Dmitri Petrov", "Eun-ji Park")
FUNCTION_WORDS = ("the and to of a i we that is it you for in on this be with so have are was but not just "
                  "what can do will at about our if or they there all one know think yes okay right").split()
SYLLABLES = ("ka", "lo", "mi", "ra", "to", "ve", "su", "na", "pe", "di", "go", "ba", "ze", "fu", "ri", "ta",
             "no", "le", "si", "mo")
ZIPF_S = 1.07
MADE_UP_WORDS = 30_000
LINE_SECONDS = 7.0
TARGET_P95_MS = 50.0

# Query kinds by the share of all lines their words match (low, high).
RARE, MODERATE, FREQUENT, COMMON = (0.0001, 0.0006), (0.002, 0.006), (0.01, 0.03), (0.15, 0.45)


def vocabulary(rng: random.Random) -> list[str]:
    script_words: list[str] = []
    for sentence in SCRIPT:
        for word in sentence.lower().replace(",", " ").replace(".", " ").replace("?", " ").split():
            if word not in FUNCTION_WORDS and word not in script_words:
                script_words.append(word)
    made_up: set[str] = set()
    while len(made_up) < MADE_UP_WORDS:
        made_up.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    rest = script_words + sorted(made_up - set(script_words))
    rng.shuffle(rest)
    return FUNCTION_WORDS + rest


class Corpus:
    def __init__(self, seed: int = 11) -> None:
        self.rng = random.Random(seed)
        self.words = vocabulary(self.rng)
        self.cumulative = list(itertools.accumulate(1 / (rank + 1) ** ZIPF_S for rank in range(len(self.words))))

    def line(self) -> str:
        words = self.rng.choices(self.words, cum_weights=self.cumulative, k=self.rng.randint(5, 22))
        return " ".join(words).capitalize() + self.rng.choice((".", ".", ".", "?", ","))

    def meeting(self, number: int, lines: int, started: Any) -> tuple[Session, list[TranscriptSegment]]:
        session = Session.create(meeting_link=f"https://meet.google.com/ben-chse-{number:03d}"[:36],
                                 platform=Platform.GOOGLE_MEET.value)
        session.status = Status.COMPLETED
        session.created_at = session.updated_at = session.join_timestamp = iso(started)
        session.leave_timestamp = iso(started + timedelta(seconds=lines * LINE_SECONDS))
        session.total_duration_seconds = lines * LINE_SECONDS
        speaker = PEOPLE[0]
        transcript = []
        for i in range(lines):
            if self.rng.random() < 0.35:
                speaker = self.rng.choice(PEOPLE)
            start = i * LINE_SECONDS
            transcript.append(TranscriptSegment.create(session.session_id, self.line(), start, start + 6.0,
                                                       speaker=speaker, confidence=0.9))
        return session, transcript


def build(store: Store, meetings: int, lines: int) -> dict[str, Any]:
    corpus = Corpus()
    first = utc_now() - timedelta(days=366)
    began = time.perf_counter()
    for number in range(meetings):
        started = first + timedelta(days=365 * number / max(1, meetings), hours=9)
        session, transcript = corpus.meeting(number, lines, started)
        store.import_session(session, transcript, origin="bench")  # one transaction a meeting
    return {"build_s": round(time.perf_counter() - began, 1)}


def matches(store: Store, query: str) -> int:
    with store._lock:  # a count, not a ranked search: only used to choose the queries
        return store._conn.execute("SELECT COUNT(*) FROM transcripts_fts WHERE transcripts_fts MATCH ?",
                                   (query,)).fetchone()[0]


def word_in_band(store: Store, words: list[str], total: int, band: tuple[float, float], *,
                 skip: frozenset[str] = frozenset()) -> tuple[str, int]:
    """The most frequent word of the vocabulary (ranked order) whose share of lines is in `band`
    (at least one line, for the small stores of the short modes)."""
    low, high = (max(1.0, share * total) for share in band)
    for word in words:
        if word in skip:
            continue
        count = matches(store, f'"{word}"')
        if low <= count <= high:
            return word, count
    raise RuntimeError(f"no word matches {band[0]:.2%}-{band[1]:.2%} of the lines")


def choose_queries(store: Store, total: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    words = Corpus().words  # the ranked vocabulary
    ranked = words[len(FUNCTION_WORDS):]
    frequent, _ = word_in_band(store, ranked, total, FREQUENT)
    moderate, _ = word_in_band(store, ranked, total, MODERATE)
    moderate2, _ = word_in_band(store, ranked, total, MODERATE, skip=frozenset({moderate}))
    rare, _ = word_in_band(store, ranked[400:], total, RARE)
    common, common_count = word_in_band(store, FUNCTION_WORDS, total, COMMON)
    # A phrase of two words that follow each other in a stored line.
    with store._lock:
        sample = store._conn.execute("SELECT text FROM transcripts WHERE id = ?", (total // 3,)).fetchone()[0]
    said = sample.lower().strip(".,?").split()
    pair = next((said[i:i + 2] for i in range(len(said) - 1)
                 if said[i] not in FUNCTION_WORDS or said[i + 1] not in FUNCTION_WORDS), said[:2])
    prefix = rare[:4] + "*"
    month_start = utc_now() - timedelta(days=200)
    queries = [
        {"kind": "rare word", "query": rare},
        {"kind": "moderate word", "query": moderate},
        {"kind": "frequent word", "query": frequent},
        {"kind": "two words", "query": f"{frequent} {moderate}"},
        {"kind": "phrase", "query": f'"{" ".join(pair)}"'},
        {"kind": "prefix", "query": prefix},
        {"kind": "speaker", "query": frequent, "speaker": PEOPLE[2]},
        {"kind": "a month", "query": frequent, "since": month_start, "until": month_start + timedelta(days=30)},
        {"kind": "second page", "query": moderate2, "offset": 20},
    ]
    return queries, {"kind": "common word", "query": common, "matching_lines": common_count}


def run(store: Store, query: dict[str, Any]) -> tuple[float, int]:
    options = {k: v for k, v in query.items() if k not in ("kind", "query", "matching_lines")}
    began = time.perf_counter()
    page = store.search(query["query"], **options)
    return (time.perf_counter() - began) * 1000, len(page.data)


def measure(mode: Mode) -> BenchResult:
    meetings = mode.pick(full=1000, quick=200, smoke=12)
    lines = mode.pick(full=500, quick=500, smoke=100)
    repeats = mode.pick(full=20, quick=10, smoke=2)
    with tempfile.TemporaryDirectory(prefix="mb-bench-search-") as tmp:
        store = Store(Path(tmp))
        try:
            built = build(store, meetings, lines)
            total = store.search_index_count()
            if total != meetings * lines:
                raise RuntimeError(f"the index holds {total} lines, not {meetings * lines}")
            queries, common = choose_queries(store, total)
            samples: list[float] = []
            per_kind: dict[str, Any] = {}
            for query in queries:
                run(store, query)  # untimed: the pages it reads come into the cache
                times = []
                for _ in range(repeats):
                    took, found = run(store, query)
                    times.append(took)
                samples += times
                per_kind[query["kind"]] = {"query": query["query"], "results": found,
                                           "lines_with_the_words": matches(store, fts_query(query["query"])),
                                           "median_ms": round(median(times), 2), "max_ms": round(max(times), 2)}
            run(store, common)
            common_times = [run(store, common)[0] for _ in range(max(2, repeats // 4))]
            size_mb = sum(p.stat().st_size for p in Path(tmp).glob(DB_NAME + "*")) / 1e6
        finally:
            store.close()
    lines_total = meetings * lines
    return BenchResult([
        Figure("search_p95_ms", "ms", samples, at_most(p95=TARGET_P95_MS),
               f"Store.search over {meetings} meetings / {lines_total} lines, {len(queries)} query kinds x "
               f"{repeats} (ranked, 20 results with snippets)",
               {"search_p95_ms": "p95", "search_p50_ms": "median"}),
        Figure("search_common_word_ms", "ms", common_times, (),
               f"a function word nobody searches for ('{common['query']}', in "
               f"{common['matching_lines'] / lines_total:.0%} of the lines): every match is ranked"),
    ], {"meetings": meetings, "lines": lines_total, **built, "database_mb": round(size_mb, 1),
        "per_query": per_kind, "common_word": {**{k: common[k] for k in ("query", "matching_lines")},
                                               "median_ms": round(median(common_times), 1)}})

