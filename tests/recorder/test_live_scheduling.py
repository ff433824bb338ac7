"""The parts that bound the live transcript's lag: the pass scheduler shared by all sessions,
the "behind" and "skipped" reports, the vocabulary given to whisper, and the final pass that
decodes to the end of the speech. Whisper itself is not needed here: passes are plain
callables that wait on events, so the order they run in is observed exactly."""
from __future__ import annotations

import threading
import time

import pytest

from recorder import live_progress
from recorder.final_decode import decode_through, keep_shown
from recorder.live_progress import BehindReporter, SkipLog
from recorder.local_agreement import Word
from recorder.pass_scheduler import PassKind, PassScheduler
from recorder.utterance_stream import BufferView
from recorder.vocabulary import VocabularyError, clean_vocabulary, merge_vocabularies, whisper_prompt

WAIT = 10.0  # seconds: generous, for a loaded machine; nothing here should take a fraction of it


class Recorder:
    """Passes that note when they start and wait until the test lets them end."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.gates: dict[str, threading.Event] = {}
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)

    def job(self, name: str, *, hold: bool = False):
        gate = self.gates.setdefault(name, threading.Event())
        if not hold:
            gate.set()

        def run(job) -> None:
            with self.changed:
                self.started.append(name)
                self.changed.notify_all()
            gate.wait(WAIT)

        return run

    def release(self, name: str) -> None:
        self.gates[name].set()

    def wait_started(self, count: int) -> list[str]:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.started) >= count, WAIT), self.started
            return list(self.started)


@pytest.fixture
def scheduler():
    made: list[PassScheduler] = []

    def make(slots: int) -> PassScheduler:
        made.append(PassScheduler(slots))
        return made[-1]

    yield make
    for s in made:
        s.stop()


def test_finals_go_before_partials_and_sessions_take_turns(scheduler):
    runs = Recorder()
    s = scheduler(1)
    a, b = s.client("a"), s.client("b")
    a.submit("x", PassKind.REQUIRED, runs.job("blocker", hold=True))
    runs.wait_started(1)  # the only worker is busy: everything below queues
    a.submit("x", PassKind.PARTIAL, runs.job("a-partial"))
    a.submit("y", PassKind.REQUIRED, runs.job("a-final-1"))
    a.submit("z", PassKind.REQUIRED, runs.job("a-final-2"))
    b.submit("x", PassKind.PARTIAL, runs.job("b-partial"))
    b.submit("x", PassKind.REQUIRED, runs.job("b-final"))
    runs.release("blocker")
    order = runs.wait_started(6)
    # finals first, the sessions in turn; then the partials (a's lane "x" had no final left)
    assert order[1:4] == ["b-final", "a-final-1", "a-final-2"] or order[1:4] == ["a-final-1", "b-final", "a-final-2"]
    assert set(order[4:]) == {"a-partial", "b-partial"}
    assert a.wait_idle(WAIT) and b.wait_idle(WAIT)


def test_a_final_finds_a_worker_while_partials_run(scheduler):
    runs = Recorder()
    s = scheduler(2)
    a, b = s.client("a"), s.client("b")
    a.submit("x", PassKind.PARTIAL, runs.job("a-partial", hold=True))
    runs.wait_started(1)
    b.submit("x", PassKind.PARTIAL, runs.job("b-partial", hold=True))
    time.sleep(0.2)
    assert runs.started == ["a-partial"]  # partials leave the last worker free
    b.submit("y", PassKind.REQUIRED, runs.job("b-final"))
    assert runs.wait_started(2) == ["a-partial", "b-final"]
    runs.release("a-partial")
    assert runs.wait_started(3)[-1] == "b-partial"
    runs.release("b-partial")
    assert b.wait_idle(WAIT)


def busy(scheduler, slots: int, first: str):
    """A client whose lane "x" runs a required pass named `first` until released."""
    runs = Recorder()
    client = scheduler(slots).client("a")
    client.submit("x", PassKind.REQUIRED, runs.job(first, hold=True))
    runs.wait_started(1)
    return runs, client


def test_a_newer_partial_replaces_a_waiting_one_and_waits_for_its_lanes_final(scheduler):
    runs, a = busy(scheduler, 2, "final")
    replaced: list[str] = []
    a.submit("x", PassKind.PARTIAL, runs.job("old"), dropped=lambda job: replaced.append("old"))
    a.submit("x", PassKind.PARTIAL, runs.job("new"))
    time.sleep(0.2)
    assert runs.started == ["final"] and replaced == ["old"]  # its lane's final is still running
    assert a.oldest_required_wait() >= 0.2
    runs.release("final")
    assert runs.wait_started(2) == ["final", "new"]
    assert a.wait_idle(WAIT) and a.oldest_required_wait() == 0.0


def test_a_closed_client_drops_what_waits_and_runs_nothing_more(scheduler):
    runs, a = busy(scheduler, 1, "running")
    dropped: list[str] = []
    a.submit("x", PassKind.REQUIRED, runs.job("queued"), dropped=lambda job: dropped.append("queued"))
    assert [job.kind for job in a.close()] == [PassKind.REQUIRED] and dropped == ["queued"]
    assert not a.submit("x", PassKind.PARTIAL, runs.job("late"))
    assert a.busy
    runs.release("running")
    assert a.wait_idle(WAIT) and runs.started == ["running"]


def test_the_cost_of_a_partial_is_measured(scheduler):
    s = scheduler(1)
    a = s.client("a")
    assert s.partial_cost() == 0.0
    a.submit("x", PassKind.PARTIAL, lambda job: time.sleep(0.2))
    assert a.wait_idle(WAIT)
    assert 0.15 <= s.partial_cost() < 5.0 and s.contenders() == 1


# --- behind and skipped ------------------------------------------------------------------------

def test_behind_is_reported_past_its_threshold_and_until_caught_up(monkeypatch):
    logs, reports = [], []
    monkeypatch.setattr(live_progress, "REPORT_EVERY", 0.0)
    reporter = BehindReporter(lambda level, message: logs.append((level, message)), reports.append)
    for seconds in (0.5, 2.0, 3.9):
        reporter.update(seconds)
    assert reports == [] and logs == []  # a final a few seconds after its line is normal
    reporter.update(6.0)
    reporter.update(6.3)  # changed by less than a second: not worth a report
    reporter.update(9.0)
    reporter.update(2.0)  # still behind until under CAUGHT_UP
    reporter.update(1.0)
    assert reports == [6.0, 9.0, 2.0, 0.0]
    assert [level for level, _ in logs] == ["warning", "info"] and "6 s behind" in logs[0][1]
    reporter.close()
    assert reports[-1] == 0.0 and reporter.worst == 9.0


def test_skipped_ranges_are_merged_and_reported_whole():
    reports = []
    skips = SkipLog(reports.append)
    skips.add(10.0, 10.1)
    skips.add(10.1, 10.2)  # a run of dropped chunks grows one range, reported now and then
    skips.add(40.0, 45.0)
    skips.add(5.0, 6.0)
    skips.add(3.0, 2.0)  # empty: ignored
    skips.flush()
    assert skips.ranges == [(5.0, 6.0), (10.0, 10.2), (40.0, 45.0)]
    assert reports[0] == [(10.0, 10.1)] and reports[-1] == [(5.0, 6.0), (10.0, 10.2), (40.0, 45.0)]
    assert skips.seconds == pytest.approx(6.2)


# --- vocabulary --------------------------------------------------------------------------------

def test_a_vocabulary_is_cleaned_and_goes_after_the_context():
    assert clean_vocabulary("Zorblax Quintara, velmora;\nVelmora\n\n  OKR  ") == ("Zorblax Quintara", "velmora", "OKR")
    assert clean_vocabulary(["Anna\u200b Kowalczyk", "x" * 61]) == ("Anna Kowalczyk",)
    assert clean_vocabulary(None) == ()
    with pytest.raises(VocabularyError):
        clean_vocabulary({"term": 1})
    with pytest.raises(VocabularyError):
        clean_vocabulary(["x" * 61], strict=True)
    assert merge_vocabularies(("OKR", "Velmora"), ("velmora", "Drunvik")) == ("OKR", "Velmora", "Drunvik")
    assert whisper_prompt("We met on Monday.", ("Zorblax Quintara", "OKR")) == "We met on Monday. Zorblax Quintara, OKR."
    assert whisper_prompt(None, ()) is None and whisper_prompt("Hello.", ()) == "Hello."


# --- the final pass ------------------------------------------------------------------------------

def w(text: str, start: float, end: float | None = None) -> Word:
    return Word(" " + text, start, start + 0.3 if end is None else end, 0.9)


def test_a_decode_that_stops_early_goes_on_from_its_last_word():
    import numpy as np

    view = BufferView(np.zeros(16000 * 8, np.float32), 10.0, 18.0)  # speech until 17.6 s
    calls = []

    def decode(part: BufferView, context: str | None) -> list[Word]:
        calls.append((part.start, part.end, len(part.audio), context))
        if len(calls) == 1:
            return [w("Wir", 10.2), w("sprechen", 10.6)]  # whisper ended its text here
        return [w("sprechen", 10.6), w("heute", 11.0), w("über", 14.0), w("Projekte.", 17.0)]

    words = decode_through(decode, view, "Guten Morgen.")
    assert [x.key for x in words] == ["wir", "sprechen", "heute", "über", "projekte"]
    # the continuation starts a second before the last word (here: the start), with the text so
    # far as its prompt
    assert calls[1][:2] == (pytest.approx(10.0), 18.0) and calls[1][3] == "Guten Morgen. Wir sprechen"
    assert calls[1][2] == pytest.approx(16000 * 8, abs=2)
    assert len(calls) == 2  # the decode reached the speech's end


def test_a_final_keeps_the_shown_words_it_does_not_reach():
    final = [w("Die", 2.5), w("sprechen", 2.9)]
    shown = [w("Wir", 2.5), w("sprechen", 2.9), w("heute", 3.3), w("über", 3.7)]
    assert [x.key for x in keep_shown(final, shown)] == ["die", "sprechen", "heute", "über"]
    assert keep_shown(shown, final) == shown
    assert [x.key for x in keep_shown([], shown)] == ["wir", "sprechen", "heute", "über"]
