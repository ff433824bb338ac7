"""Real bot sessions against the meeting simulator, in this process as the app runs them:
the SessionManager with the app's runner factory (QtWebEngine bot, in-page WebRTC audio,
recording pipeline, tiny.en), on a qasync loop.

Lag is counted from when the simulator page reports that a participant's clip finished
playing (`speech_ended`) to the final transcript holding its last word (a line that never
gets one counts with the time it had waited when the session was stopped and its results
taken), and from when it began (`speech_started`) to the first text covering it. A final
holds the line's last word when it reaches the line's last sound, which lies a clip's
trailing silence (espeak-ng leaves about 0.4 s) before the clip's end. Lines that began
before the session was recording are not counted: the recorder never heard them. Transcript times are on each
session's clock, which the bot's runner starts as its run begins; that moment is noted here
to put them on the monotonic clock the simulator's events use.
"""
from __future__ import annotations

import asyncio
import atexit
import os
import sys
import threading
import time
import wave
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bench.figures import BenchResult, Figure, Mode, at_most, summarize
from bench.lag import Heard, LagReport, Utterance, measure_lags
from bench.qt_defects import contain_none_reference_leak
from bench.speech_script import LOUD

PLATFORMS = ("teams", "google_meet", "zoom", "webex")  # one meeting per platform at a time
SCENARIO = "long_meeting"  # three people talking without end, a line every 6-7 s
SETTLE_S = 1.0  # an utterance must end this long before the stop to count


@dataclass
class SessionLag:
    session_id: str
    platform: str
    status: str
    error_code: str | None
    lags: LagReport
    warnings: list[str] = field(default_factory=list)
    profile: dict[str, Any] = field(default_factory=dict)  # where transcription time went

    @property
    def ok(self) -> bool:
        return self.error_code is None and self.status == "completed"

    def to_dict(self) -> dict[str, Any]:
        return {"session_id": self.session_id, "platform": self.platform, "status": self.status,
                "error_code": self.error_code, "lag": {**self.lags.to_dict(),
                                                       **_brief(self.lags.final_lags)},
                "warnings": self.warnings, "profile": self.profile}


def _silence_after_lines(sim: Any) -> dict[tuple[str, str], float]:
    """Seconds of silence at the end of each line's clip in the benchmark's scenario, by
    (participant id, text)."""
    from recorder.simulator.scenario import load_scenario

    scenario = load_scenario(SCENARIO)
    after = {}
    for line in scenario.speech:
        clip = sim.speech.render(scenario.participant(line.who).voice, line.text)
        with wave.open(str(clip.path), "rb") as wav:
            rate = wav.getframerate()
            samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
        loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > LOUD)
        after[(line.who, line.text)] = float(len(samples) - (loud[-1] + 1 if loud.size else 0)) / rate
    return after


def _near_misses(spoken: list[Utterance], missed: list[str], heard: list[Heard]) -> list[dict[str, Any]]:
    """For each line without a final: the finals around it, timed from the line's end (what
    the transcriber made of it)."""
    near = []
    for u in spoken:
        if u.text in missed:
            finals = [{"text": h.text, "start": round(h.start - u.end, 2), "end": round(h.end - u.end, 2),
                       "arrived": round(h.arrived - u.end, 2)}
                      for h in heard if not h.partial and h.end > u.start - 1.0 and h.start < u.end + 2.0]
            near.append({"line": u.text, "seconds": round(u.end - u.start, 2), "finals": finals})
    return near


def _brief(lags: list[float]) -> dict[str, float | None]:
    stats = summarize(lags)
    return {"p50_s": round(stats["median"], 3) if stats else None,
            "p95_s": round(stats["p95"], 3) if stats else None}


class ClockedRunner:
    """Notes when the session's runner starts (its session clock's zero), then runs it."""

    def __init__(self, inner: Any, origins: dict[str, float]) -> None:
        self.inner = inner
        self.origins = origins

    async def run(self, control) -> None:
        self.origins[control.session_id] = time.monotonic()
        await self.inner.run(control)


def _end_process() -> None:
    """Ends the benchmark's process as Python exits. Once bots have run, QtWebEngine now and
    then never returns from its shutdown (README, "Tests"); the worker has written its result
    by then, and a process that does not end would be stopped at the harness's limit with the
    result thrown away."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(1 if hasattr(sys, "last_value") else 0)  # set when an exception ended the program


class BotBench:
    """The simulator, the session manager and the Qt loop for one benchmark process.
    Create it before anything else of Qt exists in the process."""

    def __init__(self) -> None:
        from recorder.simulator import testing

        port = testing.configure_qtwebengine()  # before the QApplication exists
        self.qt_binding = contain_none_reference_leak()
        import qasync
        from PySide6.QtWidgets import QApplication

        from app.composition import bot_runner_factory
        from app.paths import data_root
        from app.sessions import SessionManager
        from app.settings import Settings
        from app.store import Store
        from recorder.simulator import MeetingSimulator

        self.qt_app = QApplication.instance() or QApplication(sys.argv[:1])
        atexit.register(_end_process)  # after PySide's own handlers, so it runs before them
        self.loop = qasync.QEventLoop(self.qt_app, already_running=False)
        asyncio.set_event_loop(self.loop)
        self.sim = MeetingSimulator(port=port).start()
        self.silence_after = _silence_after_lines(self.sim)
        self.store = Store(data_root())
        self.origins: dict[str, float] = {}
        factory = bot_runner_factory(Settings(), trusted_certificates=frozenset({self.sim.cert_fingerprint}))
        self.manager = SessionManager(self.store, runner_factory=lambda s, link: ClockedRunner(
            factory(s, link), self.origins))
        self.heard: dict[str, list[tuple[dict[str, Any], float]]] = {}
        self.recording_from: dict[str, float] = {}  # when each session's status became recording
        self._lock = threading.Lock()
        self.manager.bus.subscribe(self._on_transcript, kinds={"transcript"})
        self.manager.bus.subscribe(self._on_status, kinds={"status"})

    def _on_transcript(self, event) -> None:
        arrived = time.monotonic()
        with self._lock:
            self.heard.setdefault(event.session_id, []).append((event.data, arrived))

    def _on_status(self, event) -> None:
        if getattr(event.data["status"], "value", event.data["status"]) == "recording":
            self.recording_from.setdefault(event.session_id, time.monotonic())

    def close(self) -> None:
        self.loop.run_until_complete(asyncio.sleep(0))
        self.sim.stop()
        self.store.close()
        self.loop.close()

    # -- one round of simultaneous sessions ------------------------------------------------

    def run_round(self, count: int, seconds: float) -> list[SessionLag]:
        return self.loop.run_until_complete(self._round(count, seconds))

    async def _round(self, count: int, seconds: float) -> list[SessionLag]:
        from app.sessions import StartRequest

        if not 1 <= count <= len(PLATFORMS):
            raise ValueError(f"between 1 and {len(PLATFORMS)} sessions at once")
        platforms = PLATFORMS[:count]
        since = time.monotonic()
        ids = [self.manager.start(StartRequest(self.sim.example_link(p, scenario=SCENARIO))).session_id
               for p in platforms]
        await asyncio.sleep(seconds)
        stopped_at = time.monotonic()
        await asyncio.gather(*(self.manager.stop(sid) for sid in ids))
        return [self._lags(sid, platform, since, stopped_at) for sid, platform in zip(ids, platforms)]

    def _utterances(self, platform: str, since: float, until: float) -> list[Utterance]:
        events = [e for e in self.sim.control.events() if e.platform == platform and e.time >= since
                  and e.type in ("speech_started", "speech_ended")]
        open_lines: dict[tuple[str, str], Any] = {}
        spoken = []
        for event in events:
            key = (event.page_id, event.data.get("who", ""))
            if event.type == "speech_started":
                open_lines[key] = event
            elif key in open_lines:
                began = open_lines.pop(key)
                if event.time <= until - SETTLE_S:
                    text = began.data.get("text", "")
                    last_sound = event.time - self.silence_after.get((key[1], text), 0.0)
                    spoken.append(Utterance(text, began.time, last_sound, began.time, event.time))
        return spoken

    def _lags(self, sid: str, platform: str, since: float, until: float) -> SessionLag:
        session = self.manager.get(sid)
        origin = self.origins.get(sid)
        with self._lock:
            results = list(self.heard.get(sid, []))
        heard = [] if origin is None else [
            Heard(d["text"], origin + d["start_time"], origin + d["end_time"], d["is_partial"], arrived)
            for d, arrived in results]
        recording = self.recording_from.get(sid, until)
        spoken = self._utterances(platform, max(since, recording), until)
        lags = measure_lags(spoken, heard, taken_at=time.monotonic())
        logs = self.store.logs(sid)
        warnings = [e.message for e in logs if e.level != "info"]
        profile = {"passes": [e.message for e in logs if e.message.startswith("Transcription made")],
                   "caught_up": sum(1 for e in logs if "caught up" in e.message),
                   "live_skipped": session.metadata.get("live_skipped", []),
                   "missed_lines": _near_misses(spoken, lags.missed, heard)}
        return SessionLag(sid, platform, session.status, session.error_code, lags, warnings, profile)


def measure(mode: Mode) -> BenchResult:
    seconds = mode.pick(full=150.0, quick=60.0, smoke=25.0)
    bench = BotBench()
    try:
        (result,) = bench.run_round(1, seconds)
    finally:
        bench.close()
    if not result.ok:
        raise RuntimeError(f"the bot session ended {result.status} ({result.error_code}): {result.warnings[-3:]}")
    missed = (f"; {len(result.lags.missed)} line(s) never got a final, counted with the time they had waited"
              if result.lags.missed else "")
    return BenchResult([
        Figure("session_transcript_lag_s", "s", result.lags.final_lags, at_most(median=2.0, p95=4.0),
               f"real bot session ({SCENARIO}, {result.platform}, {seconds:.0f} s): a line's clip "
               f"ended in the meeting -> its final{missed}",
               {"session_transcript_lag_p50_s": "median", "session_transcript_lag_p95_s": "p95"}),
        Figure("session_partial_lag_s", "s", result.lags.first_text_lags, (),
               "same session: a line's clip began -> the first text covering it",
               {"session_partial_lag_p50_s": "median"}),
    ], {"session": result.to_dict(), "qt_binding": bench.qt_binding})
