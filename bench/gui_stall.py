"""The longest stall of the window's event loop: a 10 ms Qt timer ticks in the GUI process
(ui.application.Application on the qasync loop, as `meeting-buddy` runs it) while

- live: a session streams what a recording session reports (statuses, participants,
  recording facts every second, a partial every second, a final every four seconds) into the
  open session page; the session is scripted, so the figure is the window's own work;
- export: the three-hour meeting (about 5000 segments) is opened in the window and exported
  in each of the six formats through the session page's Export button;
- hostile: a real bot session (QtWebEngine, page audio, recorder, faster-whisper) in the
  window against the meeting simulator's `hostile` page, which spins a CPU core in a worker,
  bursts on its own thread, loops alert/confirm/prompt, floods the console and the tap's
  channel and opens pop-ups and downloads (resources/simulator/hostile/); and, as the baseline
  it is held against, the same against the `default` page. Measured from admission to the end;
  the stalls while the bot joins (the live model loads then) are reported apart, without a
  target. Each bot session starts once the sessions before it have their after-meeting pass
  and notes done, so the figure is the page's and the live session's, not theirs. The
  simulator serves the pages from a process of its own, as a meeting service is elsewhere:
  in the window's process its server threads would share the interpreter lock with it.

A stall is a gap between ticks minus the 10 ms interval."""
from __future__ import annotations

import asyncio
import gc
import itertools
import multiprocessing
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.figures import BenchResult, Figure, Mode, at_most, summarize
from bench.long_meeting import long_meeting
from bench.qt_defects import contain_none_reference_leak
from bench.speech_script import SCRIPT
from tests.fakes import (
    ACTIVE,
    JOINING,
    RECORDING,
    ScriptedRunner,
    Step,
    join,
    join_as_bot,
    partial,
    pause,
    recording,
    say,
    status,
)

TICK_MS = 10
MEET_LINK = "https://meet.google.com/abc-defg-hij"
BOT_SESSION_TIMEOUT_S = 180.0


class StallMeter:
    """Ticks every TICK_MS on the GUI thread and files each stall under the current phase;
    notes the stalls over LONG_STALL_MS (when in their phase) and the garbage collector's
    passes over LONG_STALL_MS / 3 (any thread's: each holds the interpreter lock)."""

    LONG_STALL_MS = 30.0

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.phase: str | None = None
        self.stalls: dict[str, list[float]] = {}
        self.long_stalls: list[tuple[str, float, float]] = []      # phase, ms, s into the phase
        self.collector_pauses: list[tuple[str | None, int, float, str]] = []  # phase, generation, ms, thread
        self._last: float | None = None
        self._phase_began = time.perf_counter()
        self._collecting: dict[int, float] = {}
        gc.callbacks.append(self._collector)
        self._timer = QTimer(interval=TICK_MS)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None and self.phase is not None:
            stall = max(0.0, (now - self._last) * 1000.0 - TICK_MS)
            self.stalls.setdefault(self.phase, []).append(stall)
            if stall > self.LONG_STALL_MS:
                self.long_stalls.append((self.phase, round(stall, 1), round(now - self._phase_began, 1)))
        self._last = now

    def _collector(self, stage: str, info: dict[str, int]) -> None:
        thread = threading.get_ident()
        if stage == "start":
            self._collecting[thread] = time.perf_counter()
        elif (began := self._collecting.pop(thread, None)) is not None:
            ms = (time.perf_counter() - began) * 1000.0
            if ms > self.LONG_STALL_MS / 3:
                self.collector_pauses.append((self.phase, info["generation"], round(ms, 1),
                                              threading.current_thread().name))

    def enter(self, phase: str | None) -> None:
        if phase != self.phase:
            self._phase_began = time.perf_counter()
        self.phase = phase

    def worst(self, prefix: str) -> float:
        return max((max(v) for k, v in self.stalls.items() if k.startswith(prefix) and v), default=0.0)

    def stop(self) -> None:
        self._timer.stop()
        if self._collector in gc.callbacks:
            gc.callbacks.remove(self._collector)


def live_session_steps() -> Iterator[Step]:
    """What a live recording session reports, at its pace, until stopped: three people and
    the bot, a growing segment every second, partials and then a final line every 4 s."""
    yield from (status(JOINING), pause(0.2), status(ACTIVE))
    for name in ("Alice Johnson", "Bob Smith", "Carol Davis"):
        yield join(name)
    yield from (join_as_bot(), status(RECORDING))
    lines = itertools.cycle(SCRIPT)
    speakers = itertools.cycle(("Alice Johnson", "Bob Smith", "Carol Davis"))
    t = 0.0
    for second in itertools.count(1):
        yield recording(segment_count=1, audio_file_count=1, video_file_count=1,
                        total_size_bytes=second * 40_000, total_duration_seconds=float(second))
        if second % 4:
            words = next(lines).split()
            yield partial(" ".join(words[: 3 * (second % 4)]), t, t + second % 4, speaker="Alice Johnson")
        else:
            yield say(next(lines), t, t + 3.8, speaker=next(speakers))
            t += 4.0
        yield pause(1.0)


@contextmanager
def save_dialog_answers(folder: Path, formats: list[str]) -> Iterator[None]:
    """The save dialog waits for a person; here it answers with a file in each format in turn."""
    from PySide6.QtWidgets import QFileDialog

    from app.export import FORMATS
    from ui.session_actions import export_filters

    by_format = {fmt: name for name, fmt in export_filters().items()}
    answers = iter(formats)

    def answer(parent, caption, directory, filters, selected):
        fmt = next(answers)
        return str(folder / f"transcript.{FORMATS[fmt].extension}"), by_format[fmt]

    original = QFileDialog.getSaveFileName
    QFileDialog.getSaveFileName = staticmethod(answer)
    try:
        yield
    finally:
        QFileDialog.getSaveFileName = original


def store_long_meeting() -> str:
    from app.paths import data_root
    from app.store import Store

    session, transcript = long_meeting()
    store = Store(data_root())
    try:
        store.save_session(session)
        for segment in transcript:  # as the session manager stores each final
            store.add_transcript(segment)
    finally:
        store.close()
    return session.session_id


def _serve_simulator(port: int, conn: Any) -> None:
    """The simulator's process: answers (platform, scenario) with a meeting link; None, or
    the bench's end, stops it."""
    from recorder.simulator import MeetingSimulator

    sim = MeetingSimulator(port=port).start()
    try:
        conn.send(sim.cert_fingerprint)
        while (asked := conn.recv()) is not None:
            conn.send(sim.example_link(*asked))
    except EOFError:  # the bench ended without a word
        pass
    finally:
        sim.stop()


class SimulatorProcess:
    """The meeting simulator in a child process, for as much of it as the bench uses."""

    def __init__(self, port: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve_simulator, args=(port, child), daemon=True,
                                        name="meeting-simulator")
        self._process.start()
        if not self._conn.poll(120):
            self.stop()
            raise RuntimeError("the meeting simulator's process did not start")
        self.cert_fingerprint: str = self._conn.recv()

    def example_link(self, platform: str, scenario: str) -> str:
        self._conn.send((platform, scenario))
        return self._conn.recv()

    def stop(self) -> None:
        if self._process.is_alive():
            self._conn.send(None)
            self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()


class BotPages:
    """The session runners of the bench's window: the scripted one, or the real bot for the
    links it made on the meeting simulator."""

    def __init__(self, sim: Any) -> None:
        from app.composition import bot_runner_factory
        from app.settings import Settings

        self.sim = sim
        self.meetings: set[str] = set()
        self._bot = bot_runner_factory(Settings(segment_seconds=10),
                                       trusted_certificates=frozenset({sim.cert_fingerprint}))

    def link(self, scenario: str) -> str:
        from app.links import parse_meeting_link

        link = self.sim.example_link("google_meet", scenario=scenario)
        self.meetings.add(parse_meeting_link(link).meeting_id)
        return link

    def runner(self, session: Any, link: Any) -> Any:
        if link is not None and link.meeting_id in self.meetings:
            return self._bot(session, link)
        return ScriptedRunner(live_session_steps())


async def after_meeting_work(app, session_id: str) -> dict[str, Any]:
    """Until the session's after-meeting pass and notes, each started of its own accord once
    the one before has ended, are done (or were not started within a few seconds): how each
    ended and when."""
    ended: dict[str, Any] = {}
    started = time.monotonic()
    for name, queue in (("refine", app.manager.refiner), ("notes", app.manager.notetaker)):
        for _ in range(100):
            if queue.job(session_id) is not None:
                break
            await asyncio.sleep(0.05)
        job = await queue.wait(session_id)
        ended[name] = {"state": None if job is None else str(getattr(job.state, "value", job.state)),
                       "done_after_s": round(time.monotonic() - started, 1)}
    return ended


async def bot_session(app, meter: StallMeter, pages: BotPages, scenario: str, phase: str) -> dict[str, Any]:
    """One real bot session in the window, metered from admission to its end."""
    from app.models import Status
    from app.sessions import StartRequest

    session = app.start_session(StartRequest(pages.link(scenario)))
    sid = session.session_id
    app.window.select_session(sid)
    deadline = time.monotonic() + BOT_SESSION_TIMEOUT_S
    run, _, page = phase.partition(":")
    while not (current := app.manager.get(sid)).is_terminal:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the {scenario} bot session did not end within {BOT_SESSION_TIMEOUT_S:.0f} s")
        if current.status in (Status.ACTIVE, Status.RECORDING, Status.LEAVING):
            meter.enter(phase)
        else:
            meter.enter(f"{run}:joining:{page}")
        await asyncio.sleep(0.05)
    meter.enter(None)
    if current.status is not Status.COMPLETED:
        raise RuntimeError(f"the {scenario} bot session failed: {current.error_code} {current.error_message}")
    after = await after_meeting_work(app, sid)
    return {"scenario": scenario, "end_reason": current.metadata.get("end_reason"),
            "log_lines": len(app.store.logs(sid)), "transcript_lines": len(app.store.transcripts(sid)),
            "after_meeting": after}


async def scenario(app, meter: StallMeter, long_id: str, runs: int, live_s: float, folder: Path,
                   pages: BotPages, sessions: list[dict[str, Any]]) -> None:
    from app.export import FORMATS
    from app.sessions import StartRequest

    formats = list(FORMATS)
    await asyncio.sleep(1.0)  # the window has settled
    for run in range(runs):
        meter.enter(f"{run}:live")
        session = app.start_session(StartRequest(MEET_LINK))
        await asyncio.sleep(live_s)
        await app.stop_session(session.session_id)
        meter.enter(None)
        await asyncio.sleep(0.3)
        meter.enter(f"{run}:export:open")
        app.window.select_session(long_id)
        while app.window.page.transcript.loading:
            await asyncio.sleep(0.05)
        with save_dialog_answers(folder, formats):
            for fmt in formats:
                meter.enter(f"{run}:export:{fmt}")
                saved = asyncio.Event()
                app.window.exportFinished.connect(saved.set)
                app.window.page.export_button.click()
                await asyncio.wait_for(saved.wait(), 120)  # the file is written off the GUI thread
                app.window.exportFinished.disconnect(saved.set)
        if not (folder / "transcript.docx").is_file():
            raise RuntimeError("the window's export wrote no file")
        meter.enter(None)
        for page in ("default", "hostile"):
            sessions.append(await bot_session(app, meter, pages, page, f"{run}:{page}"))
            await asyncio.sleep(0.5)


def measure(mode: Mode) -> BenchResult:
    from recorder.bot.chromium import prepare_qtwebengine_environment
    from recorder.simulator.hosts import host_resolver_rules
    from recorder.simulator.testing import free_port

    # As ui.main does before the QApplication, plus the meeting simulator's host mapping.
    port = free_port()
    prepare_qtwebengine_environment(host_resolver_rules(port))
    defect = contain_none_reference_leak()
    import qasync
    from PySide6.QtWidgets import QApplication

    from app.export import FORMATS
    from ui.application import Application

    runs = mode.pick(full=3, quick=1, smoke=1)
    live_s = mode.pick(full=30.0, quick=6.0, smoke=3.0)
    long_id = store_long_meeting()
    qt_app = QApplication.instance() or QApplication(sys.argv[:1])
    loop = qasync.QEventLoop(qt_app)
    asyncio.set_event_loop(loop)
    sim = SimulatorProcess(port)
    pages = BotPages(sim)
    sessions: list[dict[str, Any]] = []
    app = Application(runner_factory=pages.runner)
    app.start()
    meter = StallMeter()
    try:
        with tempfile.TemporaryDirectory(prefix="mb-bench-gui-") as tmp:
            loop.run_until_complete(scenario(app, meter, long_id, runs, live_s, Path(tmp), pages, sessions))
    finally:
        meter.stop()
        loop.run_until_complete(app.shutdown())
        sim.stop()
    live = [meter.worst(f"{r}:live") for r in range(runs)]
    export = [meter.worst(f"{r}:export") for r in range(runs)]
    bot = [meter.worst(f"{r}:default") for r in range(runs)]
    hostile = [meter.worst(f"{r}:hostile") for r in range(runs)]
    joining = [meter.worst(f"{r}:joining") for r in range(runs)]
    worst = [max(a, b) for a, b in zip(live, export)]
    details = {
        "qt_binding": defect,
        "runs": runs, "live_seconds_per_run": live_s,
        "bot_sessions": sessions,
        "bot_stall_p95_ms": {page: round(summarize(
            [x for r in range(runs) for x in meter.stalls.get(f"{r}:{page}", [])])["p95"], 2)
            for page in ("default", "hostile")},
        "export_stall_ms_by_step": {step: round(max(meter.worst(f"{r}:export:{step}") for r in range(runs)), 1)
                                    for step in ["open", *FORMATS]},
        "stalls_over_30ms": meter.long_stalls,
        "collector_pauses_over_10ms": meter.collector_pauses,
        "live_tick_stall_p95_ms": round(summarize(
            [x for phase, v in meter.stalls.items() if phase.endswith(":live") for x in v])["p95"], 2),
    }
    per_run = f"per run ({runs}): worst stall"
    return BenchResult([
        Figure("gui_max_stall_ms", "ms", worst, at_most(max=50.0),
               f"{per_run} over a scripted live session and the 3 h meeting's exports"),
        Figure("gui_stall_live_ms", "ms", live, at_most(max=50.0),
               f"{per_run} while a scripted session streams into the open page for {live_s:.0f} s"),
        Figure("gui_stall_export_ms", "ms", export, at_most(max=50.0),
               f"{per_run} opening the 3 h meeting and exporting it in six formats from the window"),
        Figure("gui_stall_hostile_ms", "ms", hostile, at_most(max=50.0),
               f"{per_run} while a real bot is in the simulator's hostile page (admission to end)"),
        Figure("gui_stall_bot_ms", "ms", bot, (),
               f"{per_run} the same with the default page: the baseline of gui_stall_hostile_ms"),
        Figure("gui_stall_bot_joining_ms", "ms", joining, (),
               f"{per_run} while either bot joins, the live model loading meanwhile"),
    ], details)
