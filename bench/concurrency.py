"""How many bot sessions at once keep transcription lag bounded: rounds of 1, 2, 3 and 4
simultaneous sessions (one per platform, each a never-ending three-person meeting) in one
process, as the app runs them. A round is sustained when every session records to the end
and the p95 of its lines' lags is within LAG_BOUND_S, a line that never got a final counting
with the time it had waited (bench/lag.py); the figure is the largest count before the first
round that is not.

The benchmark keeps to a time budget below the harness's limit: a round that would not fit
in what is left is not started, and the figure is reported from the rounds that ran, also
when it is 0.
"""
from __future__ import annotations

import time

from bench.bot_sessions import BotBench, SessionLag
from bench.figures import BenchResult, Figure, Mode, at_least, summarize

LAG_BOUND_S = 4.0
# A round is its meeting time plus joining and leaving: each bot joins in a few seconds, and
# a session that cannot stop is ended by the session manager after its 60 s stop timeout.
ROUND_OVERHEAD_S = 90.0


def sustained(sessions: list[SessionLag]) -> bool:
    for s in sessions:
        if not s.ok or not s.lags.final_lags:
            return False
        if summarize(s.lags.final_lags)["p95"] > LAG_BOUND_S:
            return False
    return True


def measure(mode: Mode) -> BenchResult:
    counts = mode.pick(full=(1, 2, 3, 4), quick=(1, 2), smoke=(1,))
    seconds = mode.pick(full=90.0, quick=45.0, smoke=25.0)
    budget = mode.pick(full=1500.0, quick=330.0)  # the harness stops it at 1800 s / 400 s
    started = time.monotonic()
    bench = BotBench()
    rounds = []
    best = 0
    left_out: list[int] = []
    try:
        for count in counts:
            if time.monotonic() - started + seconds + ROUND_OVERHEAD_S > budget:
                left_out = [c for c in counts if c >= count]
                break
            sessions = bench.run_round(count, seconds)
            ok = sustained(sessions)
            rounds.append({"sessions": count, "sustained": ok, "per_session": [s.to_dict() for s in sessions]})
            if not ok:
                break
            best = count
    finally:
        bench.close()
    ran = ", ".join(str(r["sessions"]) for r in rounds) or "none"
    skipped = f"; rounds of {', '.join(map(str, left_out))} left out to stay within the time limit" if left_out else ""
    return BenchResult([Figure(
        "concurrent_sessions_sustained", "sessions", [best], at_least(median=2),
        f"rounds of {ran} session(s) at once, {seconds:.0f} s each; sustained = all record to the end, "
        f"final lag p95 <= {LAG_BOUND_S:g} s each, a line without a final counted with its wait{skipped}")],
        {"rounds": rounds, "left_out": left_out, "qt_binding": bench.qt_binding,
         "seconds": round(time.monotonic() - started, 1)})
