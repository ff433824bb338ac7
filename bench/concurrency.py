"""How many bot sessions at once keep transcription lag bounded: rounds of 1, 2, 3 and 4
simultaneous sessions (one per platform, each a never-ending three-person meeting) in one
process, as the app runs them. A round is sustained when every session records to the end
and its lines get finals with p95 lag within LAG_BOUND_S; the figure is the largest count
before the first round that is not."""
from __future__ import annotations

from bench.bot_sessions import BotBench, SessionLag
from bench.figures import BenchResult, Figure, Mode, at_least, summarize

LAG_BOUND_S = 6.0
MAX_MISSED = 0.2  # share of lines without a final that still counts as keeping up


def sustained(sessions: list[SessionLag]) -> bool:
    for s in sessions:
        spoken = len(s.lags.final_lags) + len(s.lags.missed)
        if not s.ok or not s.lags.final_lags or len(s.lags.missed) > MAX_MISSED * spoken:
            return False
        if summarize(s.lags.final_lags)["p95"] > LAG_BOUND_S:
            return False
    return True


def measure(mode: Mode) -> BenchResult:
    counts = mode.pick(full=(1, 2, 3, 4), quick=(1, 2), smoke=(1,))
    seconds = mode.pick(full=90.0, quick=45.0, smoke=25.0)
    bench = BotBench()
    rounds = []
    best = 0
    try:
        for count in counts:
            sessions = bench.run_round(count, seconds)
            ok = sustained(sessions)
            rounds.append({"sessions": count, "sustained": ok, "per_session": [s.to_dict() for s in sessions]})
            if not ok:
                break
            best = count
    finally:
        bench.close()
    return BenchResult([Figure(
        "concurrent_sessions_sustained", "sessions", [best], at_least(median=3),
        f"rounds of {', '.join(str(r['sessions']) for r in rounds)} session(s) at once, {seconds:.0f} s "
        f"each; sustained = all record to the end, final lag p95 <= {LAG_BOUND_S:g} s each")],
        {"rounds": rounds, "qt_binding": bench.qt_binding})
