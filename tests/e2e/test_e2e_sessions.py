"""Whole sessions against the meeting simulator through the real parts: the SessionManager,
the QtWebEngine bot, in-page WebRTC audio, PyAV segment files, faster-whisper (tiny.en) and
SQLite. Nothing is mocked; only the meeting service is the simulator (no real one is
reachable from here)."""
from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from recorder.simulator.scenario import load_scenario, scenario_from_dict

OWNER_MARK = f"MB_TEST_BROWSER_OWNER={os.getpid()}"
os.environ.setdefault(*OWNER_MARK.split("=", 1))  # inherited by the browser's processes

import httpx
from httpx_sse import aconnect_sse

from app.api.server import ApiServer
from app.composition import bot_runner_factory
from app.diagnostics import bundles
from app.sessions import SessionManager, StartRequest
from app.settings import Settings
from recorder.segments import probe_segments

PLATFORMS = ("teams", "zoom", "google_meet", "webex")
HAPPY_PATH = ["initializing", "joining", "active", "recording", "leaving", "completed"]


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def looping(text: str) -> bool:
    """A decode stuck in a loop repeats a phrase over and over."""
    w = words(text)
    phrases = [" ".join(w[i:i + 3]) for i in range(len(w) - 2)]
    return any(phrases.count(p) > 2 for p in set(phrases))


def recall(spoken: str, heard: str) -> float:
    expected, got = words(spoken), set(words(heard))
    return sum(w in got for w in expected) / len(expected)


class Harness:
    """A SessionManager wired like the app's (app.composition), pointed at the simulator.

    Each test runs as one coroutine on the qasync loop (`run`): leaving the Qt event loop
    means the application is quitting, and the bot then leaves its meeting.
    """

    def __init__(self, store, sim, loop, **timers):
        settings = Settings(segment_seconds=10)
        for name, value in timers.items():
            setattr(settings.timers, name, value)
        self.sim = sim
        self.loop = loop
        self.store = store
        self.manager = SessionManager(store, runner_factory=bot_runner_factory(
            settings, trusted_certificates=frozenset({sim.cert_fingerprint})))
        self.statuses: dict[str, list[str]] = {}
        self.manager.bus.subscribe(
            lambda e: self.statuses.setdefault(e.session_id, []).append(e.data["status"]),
            kinds={"status"})

    def link(self, platform: str, scenario) -> str:
        if isinstance(scenario, dict):
            scenario = scenario_from_dict(scenario, name="e2e")
        elif isinstance(scenario, str):
            scenario = load_scenario(scenario)
        return self.sim.example_link(platform, scenario=scenario)

    def run(self, coroutine_function):
        return self.loop.run_until_complete(coroutine_function())

    def start(self, platform: str, scenario, **kw) -> str:
        return self.manager.start(StartRequest(self.link(platform, scenario), **kw)).session_id

    async def wait(self, predicate, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("timed out waiting for the session")
            await asyncio.sleep(0.2)

    async def wait_end(self, sid: str, timeout: float = 120):
        await self.wait(lambda: self.manager.get(sid).is_terminal, timeout)
        return self.manager.get(sid)

    def session(self, platform: str, scenario, timeout: float = 120):
        """Runs one session to its end."""
        async def whole():
            return await self.wait_end(self.start(platform, scenario), timeout)
        return self.run(whole)

    def texts(self, sid: str) -> list[tuple[str | None, str]]:
        return [(t.speaker, t.text) for t in self.store.transcripts(sid)]

    def files(self, sid: str):
        return probe_segments(self.manager.output_dir(self.manager.get(sid)))


@pytest.fixture
def harness(store, sim, loop):
    made: list[Harness] = []

    def make(**timers) -> Harness:
        made.append(Harness(store, sim, loop, **timers))
        return made[-1]

    yield make
    # A test that failed half-way leaves its bots in their meetings; they leave here, so
    # their threads and browser pages do not outlive the test (or keep pytest from exiting).
    for h in made:
        loop.run_until_complete(h.manager.stop_all())


@pytest.mark.parametrize("platform", PLATFORMS)
def test_admitted_recorded_and_transcribed_with_speakers(harness, platform):
    h = harness()

    session = h.session(platform, "default")
    sid = session.session_id
    assert h.statuses[sid] == HAPPY_PATH
    assert session.metadata["end_reason"] == "MEETING_ENDED"
    assert session.error_code is None

    files = h.files(sid)
    audio = [f for f in files if f.kind == "audio"]
    video = [f for f in files if f.kind == "video"]
    assert audio and video, f"segment files missing: {files}"
    assert sum(f.duration_seconds for f in audio) > 20
    assert all(f.error is None for f in files)
    assert session.audio_file_count == len(audio) and session.video_file_count == len(video)
    assert session.total_size_bytes == sum(f.path.stat().st_size for f in files)

    lines = h.texts(sid)
    heard = " ".join(text for _, text in lines)
    script = load_scenario("default").speech
    assert recall(" ".join(u.text for u in script), heard) >= 0.75, lines
    assert not looping(heard), lines
    speakers = {speaker for speaker, _ in lines if speaker}
    assert {"Alice Johnson", "Bob Smith"} <= speakers, lines
    by_speaker = {s: " ".join(t for sp, t in lines if sp == s) for s in speakers}
    assert "release" in words(by_speaker["Bob Smith"])
    # Alice's lines under her name. Her first words come 2 s after admission, and on Zoom
    # (audio only once the microphone is allowed) a busy machine can miss them, as a late
    # joiner would: the words of both her lines count.
    assert len(set(words(by_speaker["Alice Johnson"])) & {"morning", "joining", "weekly", "planning", "report",
                                                            "team"}) >= 3, lines
    assert "release" not in words(by_speaker["Alice Johnson"])

    history = [(e["participant_name"], e["event"]) for e in session.participant_history]
    for person in ("Alice Johnson", "Bob Smith"):
        assert (person, "joined") in history and (person, "left") in history
    assert session.current_participants == {}
    assert session.total_duration_seconds and session.total_duration_seconds > 20


def test_a_bot_session_is_refined_afterwards_with_the_speakers_it_saw(harness):
    """The after-meeting pass over a real bot session: the runner kept where the audio begins
    and the active-speaker changes; the refined lines carry the same speakers."""
    from app.refine import RefineOptions, refine_session, transcript_revision

    h = harness()
    session = h.session("google_meet", "default")
    sid = session.session_id
    assert session.metadata["audio_start_s"] > 0 and session.metadata["segment_seconds"] == 10
    assert {name for _, name in h.store.speaker_changes(sid) if name} >= {"Alice Johnson", "Bob Smith"}
    live = h.texts(sid)

    refined = refine_session(h.manager, sid, options=RefineOptions(model="tiny.en"))
    assert transcript_revision(refined) == "refined:tiny.en"
    lines = h.texts(sid)
    script = load_scenario("default").speech
    assert recall(" ".join(u.text for u in script), " ".join(text for _, text in lines)) >= 0.75, lines
    by_speaker = {s: " ".join(t for sp, t in lines if sp == s) for s, _ in lines if s}
    assert {"Alice Johnson", "Bob Smith"} <= set(by_speaker), lines
    assert "release" in words(by_speaker["Bob Smith"]) and "morning" in words(by_speaker["Alice Johnson"])
    # On the session clock, like the live lines.
    live_start = min(t.start_time for t in h.store.revision_transcripts(sid, "live"))
    assert abs(min(t.start_time for t in h.store.transcripts(sid)) - live_start) < 2.0, (live, lines)


def test_denied(harness):
    h = harness()
    session = h.session("google_meet", "denied", 60)
    assert h.statuses[session.session_id] == ["initializing", "joining", "failed"]
    assert session.error_code == "JOIN_DENIED"


# A passcode in the link must stay out of every file of the bundle (Meet links have none).
PASSCODE = "Pa55codeE2E"


@pytest.mark.parametrize("platform, link", [
    ("google_meet", None),
    ("teams", f"https://teams.live.com/meet/9312345678901?p={PASSCODE}&scenario=denied"),
], ids=["google_meet", "teams_with_passcode"])
def test_a_failed_join_leaves_scrubbed_diagnostics_a_pack_check_reads(harness, platform, link):
    h = harness()

    async def whole():
        request = StartRequest(link or h.link(platform, "denied"))
        return await h.wait_end(h.manager.start(request).session_id, 60)
    session = h.run(whole)
    assert session.error_code == "JOIN_DENIED"
    saved = bundles(h.manager.output_dir(session))
    assert len(saved) == 1 and session.metadata["diagnostics"] == [f"diagnostics/{saved[0].name}"]
    bundle = saved[0]
    assert {p.name for p in bundle.iterdir()} == {"screenshot.png", "page.html", "landmarks.json", "log.txt"}
    assert (bundle / "screenshot.png").read_bytes().startswith(b"\x89PNG")
    for path in bundle.iterdir():
        assert PASSCODE.encode() not in path.read_bytes(), path.name
    summary = json.loads((bundle / "landmarks.json").read_text("utf-8"))
    assert summary["reason"] == "the join failed: JOIN_DENIED"
    assert summary["landmarks"]["denied"] is not None and "denied" not in summary["unmatched"]
    assert "name_input" in summary["unmatched"]
    if link:
        assert "REDACTED" in summary["url"]   # the passcode, or the launch coordinates that carry it
    page = (bundle / "page.html").read_text("utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    assert "Waiting in the lobby" in (bundle / "log.txt").read_text("utf-8")   # the log until then

    # the saved page is what `packs check` takes
    check = subprocess.run([sys.executable, "-m", "app", "packs", "check", platform, str(bundle / "page.html"),
                            "--expect", "denied", "--json"], capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stderr[-2000:]
    assert json.loads(check.stdout)["landmarks"]["denied"] == summary["landmarks"]["denied"]


def test_waiting_room_timeout(harness):
    h = harness(waiting_room_s=8)
    session = h.session("teams", "lobby_forever", 60)
    assert session.status == "failed" and session.error_code == "WAITING_ROOM_TIMEOUT"
    assert "active" not in h.statuses[session.session_id]


def test_removed_by_host_keeps_what_was_recorded(harness):
    h = harness()
    session = h.session("zoom", "removed", 90)
    sid = session.session_id
    assert session.status == "failed" and session.error_code == "BOT_REMOVED"
    assert "recording" in h.statuses[sid]
    assert recall("remove the recording bot from this call",
                  " ".join(t for _, t in h.texts(sid))) >= 0.7
    assert [f for f in h.files(sid) if f.kind == "audio" and f.duration_seconds > 5]


def test_a_ten_second_network_cut_is_ridden_out(harness):
    """The connection drops 4 s after admission for 10 s: the platform's reconnecting banner
    shows and only silence arrives; the bot waits (the grace is 60 s), keeps recording, and
    what is said after the connection is back is transcribed."""
    h = harness()
    scenario = {"lobby": {"wait_s": 1, "outcome": "admitted"},
                "participants": [{"id": "a", "name": "Alice Johnson", "voice": "en-us+f3"}],
                "speech": [{"at": 1, "who": "a", "text": "Good morning everyone."},
                           {"at": 7, "who": "a", "text": "This sentence is lost in the outage."},
                           {"at": 17, "who": "a", "text": "Please send the weekly report to the whole team."}],
                "network_cut": {"at": 4, "seconds": 10},
                "meeting_ends_at": 24}
    session = h.session("google_meet", scenario, 120)
    sid = session.session_id
    assert session.status == "completed" and session.metadata["end_reason"] == "MEETING_ENDED"
    heard = " ".join(t for _, t in h.texts(sid))
    assert recall("good morning everyone", heard) >= 0.6, heard
    assert recall("send the weekly report to the whole team", heard) >= 0.6, heard
    assert not {"outage", "lost"} & set(words(heard)), heard
    assert [e.type for e in h.sim.control.events() if e.type.startswith("network")] == ["network_cut", "network_restored"]
    logs = [entry.message for entry in h.store.logs(sid)]
    assert any("lost its connection" in m and "waiting up to 60 s" in m for m in logs), "\n".join(logs)
    assert any("connection came back after" in m for m in logs), logs
    audio = [f for f in h.files(sid) if f.kind == "audio"]
    assert sum(f.duration_seconds for f in audio) > 18  # the outage is recorded as silence, not a gap


def test_everyone_left(harness):
    h = harness(everyone_left_s=3)
    session = h.session("webex", "everyone_leaves", 90)
    assert h.statuses[session.session_id] == HAPPY_PATH
    assert session.metadata["end_reason"] == "LEFT_ALONE"


def test_stop_requested_leaves_gracefully_and_keeps_the_transcript(harness, sim):
    h = harness()

    async def scenario():
        sid = h.start("teams", "long_meeting")
        await h.wait(lambda: len(h.texts(sid)) >= 2, 90)
        return await h.manager.stop(sid)

    session = h.run(scenario)
    sid = session.session_id
    assert session.status == "completed" and session.metadata["end_reason"] == "STOP_REQUESTED"
    assert h.statuses[sid] == HAPPY_PATH
    left = sim.control.events("bot_left")
    assert left and left[-1].data.get("via") not in (None, "navigation"), left[-1]
    heard = " ".join(t for _, t in h.texts(sid))
    assert recall("Let us review the budget for the next quarter", heard) >= 0.7


def _zygote_child(pid: str) -> bool:
    """Renderers are forked by Chromium's zygote and keep its command line."""
    proc = Path("/proc") / pid
    if b"--type=zygote" not in (proc / "cmdline").read_bytes():
        return False
    parent = (proc / "stat").read_text().rsplit(")", 1)[1].split()[1]
    return b"--type=zygote" in (Path("/proc") / parent / "cmdline").read_bytes()


def _renderer_pids() -> list[int]:
    """QtWebEngine renderer processes of this test process (marked by OWNER_MARK in their
    environment, which every browser process inherits)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if _zygote_child(entry.name) and \
                    OWNER_MARK.encode() in (entry / "environ").read_bytes().split(b"\0"):
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def test_renderer_crash_fails_the_session_and_keeps_files(harness):
    h = harness()

    async def scenario():
        sid = h.start("google_meet", "long_meeting")
        await h.wait(lambda: h.manager.get(sid).status == "recording" and h.texts(sid), 90)
        pids = _renderer_pids()
        assert pids, "no renderer process found"
        for pid in pids:
            os.kill(pid, signal.SIGKILL)  # what an out-of-memory kill does
        return await h.wait_end(sid, 60)

    session = h.run(scenario)
    sid = session.session_id
    assert session.status == "failed" and session.error_code == "BROWSER_CRASHED"
    assert h.texts(sid), "the transcript made before the crash is kept"
    audio = [f for f in h.files(sid) if f.kind == "audio"]
    assert audio and all(f.error is None for f in audio) and sum(f.duration_seconds for f in audio) > 3


def test_two_sessions_at_once_do_not_hear_each_other(harness):
    # Two sentences each: on two cores both live tiers run behind, and one sentence alone
    # leaves the recall to a word or two (the after-meeting pass is not run here).
    said_a = ["The orange elephant crossed the river.", "Seven purple bicycles waited near the bakery."]
    said_b = ["Please send the weekly report to the whole team.", "The budget meeting moves to Thursday afternoon."]
    one = {"lobby": {"wait_s": 1, "outcome": "admitted"},
           "participants": [{"id": "a", "name": "Anna", "voice": "en-us+f3"}],
           "speech": [{"at": 1, "who": "a", "text": said_a[0]}, {"at": 5, "who": "a", "text": said_a[1]}],
           "meeting_ends_at": 14}
    two = {"lobby": {"wait_s": 1, "outcome": "admitted"},
           "participants": [{"id": "b", "name": "Bruno", "voice": "en-us+m3"}],
           "speech": [{"at": 1, "who": "b", "text": said_b[0]}, {"at": 5, "who": "b", "text": said_b[1]}],
           "meeting_ends_at": 14}

    async def scenario():
        first, second = h.start("teams", one), h.start("google_meet", two)
        return await h.wait_end(first), await h.wait_end(second)

    h = harness()
    a, b = h.run(scenario)
    assert a.status == b.status == "completed"
    heard_a = " ".join(t for _, t in h.texts(a.session_id))
    heard_b = " ".join(t for _, t in h.texts(b.session_id))
    assert recall(" ".join(said_a), heard_a) >= 0.5, heard_a
    assert recall(" ".join(said_b), heard_b) >= 0.5, heard_b
    # Neither hears the other's own words.
    assert not {"elephant", "river", "orange", "purple", "bicycles", "bakery"} & set(words(heard_b)), heard_b
    assert not {"weekly", "report", "budget", "thursday", "afternoon"} & set(words(heard_a)), heard_a


def test_the_api_streams_a_simulator_session_from_start_to_close(harness):
    """POST /sessions on a real ApiServer (on the bot's loop, as `meeting-buddy serve` runs
    it), then its three SSE streams read over HTTP until `close`."""
    h = harness()
    token = "e2e-" + "t" * 28

    async def read(client: httpx.AsyncClient, path: str) -> list[tuple[str, dict]]:
        events = []
        async with aconnect_sse(client, "GET", path, headers={"Last-Event-ID": "0"}) as source:
            async for sse in source.aiter_sse():  # the server ends the response after `close`
                if sse.data:  # not a bare retry hint
                    events.append((sse.event, json.loads(sse.data)))
        assert events and events[-1][0] == "close", f"{path} ended without a close event: {events}"
        return events

    async def scenario():
        server = ApiServer(h.manager, token=token, port=0)
        await server.start()
        try:
            async with httpx.AsyncClient(base_url=server.api_url, timeout=150,
                                         headers={"Authorization": f"Bearer {token}"}) as client:
                created = await client.post("/sessions", json={"meeting_link": h.link("teams", "default"),
                                                               "bot_name": "API Scribe"})
                assert created.status_code == 201, created.text
                sid = created.json()["session_id"]
                streams = await asyncio.gather(*(read(client, f"/sessions/{sid}/{path}")
                                                 for path in ("stream", "transcripts/stream", "logs/stream")))
                final = (await client.get(f"/sessions/{sid}")).json()
                return final, streams
        finally:
            await server.stop()

    final, (statuses, transcripts, logs) = h.run(scenario)
    assert final["status"] == "completed" and final["metadata"]["end_reason"] == "MEETING_ENDED"
    # Joins and leaves arrive as status events too, told apart by their participant_name.
    changes = [d for kind, d in statuses if kind == "status" and "participant_name" not in d]
    assert [d["status"] for d in changes] == HAPPY_PATH
    people = {(d["participant_name"], d["event"]) for kind, d in statuses if "participant_name" in d}
    assert {("Alice Johnson", "joined"), ("Bob Smith", "joined"), ("API Scribe", "joined")} <= people
    said = [d for kind, d in transcripts if kind == "transcript"]
    assert any(d["is_partial"] for d in said) and any(not d["is_partial"] for d in said)
    finals = " ".join(d["text"] for d in said if not d["is_partial"])
    assert recall("thank you for joining the weekly planning call", finals) >= 0.6, finals
    assert {d["speaker"] for d in said if not d["is_partial"]} >= {"Alice Johnson", "Bob Smith"}
    assert any(kind == "log" for kind, _ in logs)
    for events in (statuses, transcripts, logs):
        assert events[-1] == ("close", {"reason": "session_ended"})


SOAK_SECONDS = float(os.environ.get("MB_SOAK_SECONDS", "600"))


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


@pytest.mark.soak
@pytest.mark.timeout(SOAK_SECONDS + 600)  # the run itself, plus joining and stopping three bots
def test_three_sessions_for_ten_minutes_keep_recording_and_transcribing(harness):
    """Three bots in three never-ending simulator meetings at once for MB_SOAK_SECONDS (600):
    every minute each is still recording and has new finals; stopped at the end, each
    completes with every segment file readable, audio covering the run, and memory flat."""
    h = harness()
    minutes = max(2, int(SOAK_SECONDS // 60))
    finals_per_minute: dict[str, list[int]] = {}
    rss: list[float] = []

    async def scenario():
        sids = [h.start(platform, "long_meeting") for platform in ("teams", "zoom", "webex")]
        await h.wait(lambda: all(h.manager.get(s).status == "recording" for s in sids), 120)
        for _ in range(minutes):
            await asyncio.sleep(60)
            rss.append(rss_mb())
            for sid in sids:
                assert h.manager.get(sid).status == "recording", h.manager.get(sid)
                finals_per_minute.setdefault(sid, []).append(len(h.texts(sid)))
        for sid in sids:
            await h.manager.stop(sid)
        return [await h.wait_end(sid, 120) for sid in sids]

    sessions = h.run(scenario)
    for session in sessions:
        sid = session.session_id
        assert session.status == "completed" and session.metadata["end_reason"] == "STOP_REQUESTED"
        counts = finals_per_minute[sid]
        assert all(later > earlier for earlier, later in zip(counts, counts[1:])), counts  # never stalls
        assert {speaker for speaker, _ in h.texts(sid)} >= {"Alice Johnson", "Bob Smith", "Carol Davis"}
        heard = " ".join(text for _, text in h.texts(sid))
        assert recall("travel costs went down by ten percent since march", heard) >= 0.6
        files = h.files(sid)
        assert files and all(f.error is None for f in files)
        assert sum(f.duration_seconds for f in files if f.kind == "audio") >= 0.9 * minutes * 60
    # whisper, the browsers and the encoders reach a steady size after the first minutes
    assert rss[-1] - rss[1] < 150, rss
