"""The meeting bot: its decision rules (plain Python), its selector packs, and real
QtWebEngine runs — an audio tap on local tone pages, then full joins of the meeting
simulator's four web clients over real in-page WebRTC."""
from __future__ import annotations

import base64
import http.server
import json
import os
import re
import signal
import threading
import wave

import numpy as np
import pytest

from app.models import END_REASONS, ERROR_CODES
from recorder.bot.chromium import prepare_qtwebengine_environment
from recorder.bot.config import BotConfig, LeaveTimers
from recorder.bot.monitor import ADMITTED, LOBBY, PREJOIN, MeetingMonitor
from recorder.bot.page_state import PageState, PageStateError
from recorder.bot.pcm import ChunkError, decode_chunk
from recorder.bot.roster import UNCHANGED, Participant, Roster, SpeakerTracker, looks_like_bot
from recorder.bot.selector_pack import SelectorPackError, load_pack, validate
from recorder.simulator import MeetingSimulator, testing
from recorder.simulator.hosts import host_resolver_rules
from recorder.simulator.scenario import scenario_from_dict

# Chromium reads its flags when the first QApplication starts (pytest-qt keeps one for the
# run), so the simulator's host mapping is set while this module is imported.
SIM_PORT = testing.session_port()
prepare_qtwebengine_environment(host_resolver_rules(SIM_PORT))

from recorder.bot import bot as bot_module
from recorder.bot.bot import MeetingBot
from tests.recorder.bot_runs import Run

PLATFORMS = ("teams", "zoom", "google_meet", "webex")
BOT_NAME = "Meeting Buddy"
CODES = set(END_REASONS) | set(ERROR_CODES)


# --- decision rules (no browser) ------------------------------------------------------------


def state(**kw) -> PageState:
    kw.setdefault("flags", {})
    kw["participants"] = tuple(Participant(*p) if isinstance(p, tuple) else Participant(p)
                               for p in kw.get("participants", ()))
    kw["speakers"] = tuple(kw.get("speakers", ()))
    return PageState(**kw)


def admitted_monitor(timers=LeaveTimers(), **kw) -> MeetingMonitor:
    m = MeetingMonitor(timers, BOT_NAME, 0.0, **kw)
    m.page_loaded(0.5)
    step = m.observe(state(flags={"admitted": "css=#hangup"}), 1.0)
    assert step.phase == ADMITTED
    return m


def test_prejoin_fills_the_form_then_joins_one_step_at_a_time():
    m = MeetingMonitor(LeaveTimers(), BOT_NAME, 0.0, guest_email="bot@example.com")
    assert m.page_loaded(0.2).phase == PREJOIN
    seen = []
    form = dict(name_input="", email_input="", mic_off=False, camera_off=False, join_button="text=Join",
                interstitial="text=Continue without audio or video")
    t = 1.0
    for expected, change in [("dismiss", {"interstitial": None}), ("fill_name", {"name_input": BOT_NAME}),
                             ("fill_email", {"email_input": "bot@example.com"}), ("mic_off", {"mic_off": True}),
                             ("camera_off", {"camera_off": True}), ("join", {})]:
        step = m.observe(state(**form), t)
        seen.append(step.actions[0]["op"])
        assert step.actions[0]["op"] == expected
        form.update(change)
        t += 2.0
    assert seen[-1] == "join"
    assert m.observe(state(**form), t + 1).actions == []           # a join click gets time to work
    assert m.observe(state(**form), t + 6).actions == [{"op": "join"}]
    assert m.observe(state(flags={"lobby": "text=Asking"}), t + 7).phase == LOBBY


def test_a_name_field_that_refuses_the_name_does_not_block_the_join():
    m = MeetingMonitor(LeaveTimers(), BOT_NAME, 0.0)
    m.page_loaded(0.0)
    ops, notes = [], []
    for i in range(12):
        step = m.observe(state(name_input="", join_button="css=#join"), 2.0 * (i + 1))
        ops += [a["op"] for a in step.actions]
        notes += step.notes
    assert ops.count("fill_name") == 4 and "join" in ops
    assert any("does not keep" in message for _, message in notes)


def test_lobby_controls_are_not_proof_of_admission():
    m = MeetingMonitor(LeaveTimers(), BOT_NAME, 0.0)
    step = m.observe(state(flags={"lobby": "text=You're in the lobby", "admitted": "css=#hangup-button"}), 1.0)
    assert step.phase == LOBBY and m.phase == LOBBY
    assert m.observe(state(flags={"admitted": "css=#hangup-button"}), 2.0).phase == ADMITTED


@pytest.mark.parametrize("flag, phase, outcome, code", [
    ("sign_in", PREJOIN, "failed", "SIGN_IN_REQUIRED"),
    ("blocked", PREJOIN, "failed", "BOT_BLOCKED"),
    ("invalid", PREJOIN, "failed", "MEETING_NOT_FOUND"),
    ("denied", LOBBY, "failed", "JOIN_DENIED"),
    ("removed", ADMITTED, "failed", "BOT_REMOVED"),
    ("ended", ADMITTED, "completed", "MEETING_ENDED"),
    ("ended", LOBBY, "completed", "MEETING_ENDED"),
    ("removed", LOBBY, "failed", "JOIN_DENIED"),   # Zoom turns guests away by removing them
])
def test_screens_that_end_the_stay(flag, phase, outcome, code):
    m = MeetingMonitor(LeaveTimers(), BOT_NAME, 0.0)
    m.page_loaded(0.0)
    if phase != PREJOIN:
        m.observe(state(flags={"lobby": "x"} if phase == LOBBY else {"admitted": "x"}), 1.0)
    assert m.phase == phase
    step = m.observe(state(flags={flag: "text=the screen"}), 2.0)
    assert (step.outcome.ending, step.outcome.code) == (outcome, code)
    assert "the screen" in step.outcome.message
    assert m.observe(state(flags={flag: "text=the screen"}), 3.0).outcome is None   # reported once


def test_denied_text_after_admission_is_ignored():
    m = admitted_monitor()
    assert m.observe(state(flags={"admitted": "x", "denied": "x", "invalid": "x"}), 5.0).outcome is None


def test_waiting_room_timeout_counts_from_start_and_withdraws_from_the_lobby():
    m = MeetingMonitor(LeaveTimers(waiting_room=30), BOT_NAME, 100.0)
    m.page_loaded(101.0)
    m.observe(state(flags={"lobby": "x"}), 102.0)
    assert m.check_timers(129.0) is None
    out = m.check_timers(130.5)
    assert (out.ending, out.code, out.leave_first) == ("failed", "WAITING_ROOM_TIMEOUT", True)


def test_page_that_never_shows_anything_fails_to_load():
    m = MeetingMonitor(LeaveTimers(), BOT_NAME, 0.0, load_timeout=20)
    assert m.check_timers(19.0) is None
    assert m.check_timers(20.0).code == "PAGE_LOAD_FAILED"


def test_no_one_joined_only_when_nobody_ever_came_or_spoke():
    m = admitted_monitor(LeaveTimers(no_one_joined=60))
    m.observe(state(flags={"admitted": "x"}, participants=[(BOT_NAME, True)]), 2.0)
    assert m.check_timers(60.0) is None
    out = m.check_timers(61.5)
    assert (out.ending, out.code, out.leave_first) == ("completed", "NO_ONE_JOINED", True)

    spoken = admitted_monitor(LeaveTimers(no_one_joined=60))
    spoken.note_activity(10.0)   # the roster may be hidden; voices prove people are there
    assert spoken.check_timers(100.0) is None


def test_left_alone_counts_bots_as_nobody():
    m = admitted_monitor(LeaveTimers(everyone_left=10))
    step = m.observe(state(flags={"admitted": "x"}, participants=[
        (BOT_NAME, True), ("Alice Johnson",), ("Otter.ai",), ("Fireflies Notetaker",)]), 2.0)
    assert sorted(step.joined) == [("Alice Johnson", False), ("Fireflies Notetaker", True),
                                   ("Meeting Buddy", True), ("Otter.ai", True)]
    step = m.observe(state(flags={"admitted": "x"}, participants=[(BOT_NAME, True), ("Otter.ai",)]), 5.0)
    assert sorted(step.left) == ["Alice Johnson", "Fireflies Notetaker"]
    assert m.check_timers(14.0) is None
    m.observe(state(flags={"admitted": "x"}, participants=[(BOT_NAME, True), ("Bob",)]), 14.5)
    assert m.check_timers(30.0) is None          # Bob came back: the clock restarts when he leaves
    m.observe(state(flags={"admitted": "x"}, participants=[(BOT_NAME, True)]), 31.0)
    assert m.check_timers(40.0) is None
    assert m.check_timers(41.0).code == "LEFT_ALONE"


def test_silence_only_after_the_warm_up():
    m = admitted_monitor(LeaveTimers(silence=100, silence_warmup=300))
    m.observe(state(flags={"admitted": "x"}, participants=[("Alice",)]), 2.0)
    assert m.check_timers(250.0) is None                  # silent, but still warming up
    out = m.check_timers(301.0)
    assert (out.ending, out.code) == ("completed", "SILENCE_TIMEOUT")

    m = admitted_monitor(LeaveTimers(silence=100, silence_warmup=300))
    m.note_loud_audio(280.0)
    m.observe(state(flags={"admitted": "x"}, participants=[("Alice",)], speakers=["Alice"]), 280.0)
    assert m.check_timers(350.0) is None
    m.note_activity(360.0)                                 # voice activity from the audio
    assert m.check_timers(459.0) is None
    assert m.check_timers(461.0).code == "SILENCE_TIMEOUT"


def test_max_duration_and_network_loss():
    m = admitted_monitor(LeaveTimers(max_duration=3600))
    m.note_loud_audio(3000.0)
    m.observe(state(flags={"admitted": "x"}, participants=[("Alice",)], speakers=["Alice"]), 3000.0)
    assert m.check_timers(3600.9) is None
    assert m.check_timers(3601.0).code == "MAX_DURATION"

    m = admitted_monitor(network_grace=30)
    lost = m.observe(state(flags={"admitted": "x", "reconnecting": "text=Reconnecting"}, participants=[("A",)]), 10.0)
    assert lost.notes == [("warning", "The meeting lost its connection (page shows text=Reconnecting); "
                                      "waiting up to 30 s for it to come back")]
    back = m.observe(state(flags={"admitted": "x"}, participants=[("A",)]), 20.0)     # it came back
    assert back.notes == [("info", "The connection came back after 10 s")]
    m.observe(state(flags={"admitted": "x"}, online=False, participants=[("A",)]), 25.0)
    assert m.check_timers(54.0) is None
    out = m.check_timers(55.0)
    assert (out.ending, out.code, out.leave_first) == ("failed", "NETWORK_LOST", False)


def test_a_speaking_indicator_in_silence_names_nobody():
    """Some clients always mark someone as the active speaker, even in silence: a speaker is
    named only while the meeting audio is loud, and the indicator alone keeps no meeting alive
    (docs/PLATFORMS.md, Zoom "Behaviours")."""
    m = admitted_monitor(LeaveTimers(silence=100, silence_warmup=0))
    quiet = m.observe(state(flags={"admitted": "x"}, participants=[("Alice",)], speakers=["Alice"]), 10.0)
    assert quiet.speaker is UNCHANGED                       # nobody named
    assert m.check_timers(120.0).code == "SILENCE_TIMEOUT"   # the indicator is not speech

    m = admitted_monitor(LeaveTimers(silence=100, silence_warmup=0))
    m.note_loud_audio(9.5)
    assert m.observe(state(flags={"admitted": "x"}, participants=[("Alice",)], speakers=["Alice"]), 10.0).speaker == "Alice"
    gone_quiet = m.observe(state(flags={"admitted": "x"}, participants=[("Alice",)], speakers=["Alice"]), 12.0)
    assert gone_quiet.speaker is None                        # 2.5 s of silence: nobody speaks
    # When the audio comes back, an indicator the page changed is named at once, without
    # waiting for the page's next report.
    m.observe(state(flags={"admitted": "x"}, participants=[("Alice",), ("Bob",)], speakers=["Bob"]), 12.3)
    assert m.note_loud_audio(12.5).speaker == "Bob"
    assert m.note_loud_audio(12.6).speaker is UNCHANGED
    assert m.refresh_speaker(14.5).speaker is None          # and a pause names nobody again
    # Speaker view keeps the last speaker on screen: when the audio comes back under an
    # indicator unchanged since before the pause, its switch to the new speaker may still be on
    # its way. Nobody is named until it changes...
    assert m.note_loud_audio(20.0).speaker is UNCHANGED
    assert m.observe(state(flags={"admitted": "x"}, participants=[("Alice",), ("Bob",)], speakers=["Alice"]),
                     20.2).speaker == "Alice"
    m.refresh_speaker(25.0)
    # ... or stays long enough to be the one speaking.
    assert m.note_loud_audio(30.0).speaker is UNCHANGED
    assert m.refresh_speaker(30.5).speaker is UNCHANGED
    assert m.refresh_speaker(31.1).speaker == "Alice"


def test_the_host_not_started_page_is_looked_at_again_until_the_waiting_room_timer():
    """Zoom shows "This meeting link is invalid" until the host starts: the bot stays, reloads
    every 15 s, and gives up only at the waiting-room timer (docs/PLATFORMS.md, Zoom)."""
    m = MeetingMonitor(LeaveTimers(waiting_room=100), BOT_NAME, 0.0)
    m.page_loaded(0.0)
    page = state(flags={"not_started": "text=This meeting link is invalid"})
    first = m.observe(page, 1.0)
    assert first.outcome is None and first.actions == [] and "has not started" in first.notes[0][1]
    assert m.observe(page, 10.0).actions == []
    assert m.observe(page, 16.5).actions == [{"op": "reload"}]
    assert m.observe(page, 20.0).actions == []
    assert m.observe(page, 31.6).actions == [{"op": "reload"}]
    out = m.check_timers(100.0)
    assert (out.ending, out.code) == ("failed", "WAITING_ROOM_TIMEOUT") and "did not start" in out.message


def test_a_page_no_landmark_explains_asks_for_diagnostics_once():
    m = MeetingMonitor(LeaveTimers(), BOT_NAME, 0.0, unexplained_after=30)
    m.page_loaded(0.0)
    blank = state()
    assert m.observe(blank, 1.0).diagnose is None
    asked = m.observe(blank, 31.5)
    assert asked.diagnose and "30 s" in asked.diagnose
    assert m.observe(blank, 40.0).diagnose is None          # once
    known = MeetingMonitor(LeaveTimers(), BOT_NAME, 0.0, unexplained_after=30)
    known.page_loaded(0.0)
    assert known.observe(state(join_button="text=Join now"), 31.0).diagnose is None


def test_speaker_tracker_keeps_the_current_speaker_while_they_talk():
    t = SpeakerTracker()
    assert t.update([]) is UNCHANGED
    assert t.update(["Alice"]) == "Alice"
    assert t.update(["Bob", "Alice"]) is UNCHANGED
    assert t.update(["Bob"]) == "Bob"
    assert t.update([]) is None
    assert t.update([]) is UNCHANGED


def test_roster_and_bot_names():
    r = Roster("Scribe")
    joined, left = r.update([Participant("Scribe"), Participant("Dana", is_bot=True)])
    assert sorted(joined) == [("Dana", True), ("Scribe", True)] and not left
    assert r.humans_present == 0 and not r.humans_seen
    for name in ("Otter.ai", "Fathom Notetaker", "tl;dv Recorder", "Zoom AI Companion", "Meeting Buddy"):
        assert looks_like_bot(name), name
    for name in ("Harry Potter", "Robert Bottom", "Abbot Lee", "Alice Johnson"):
        assert not looks_like_bot(name), name


def test_every_outcome_code_is_in_the_product_vocabulary():
    source = "".join(open(f"recorder/bot/{n}.py", encoding="utf-8").read() for n in ("monitor", "bot"))
    used = set(re.findall(r'(?:failed|completed)\("([A-Z_]+)"', source))
    assert used and used <= CODES, used - CODES


# --- wire formats ---------------------------------------------------------------------------


def test_decode_int16_and_float32_chunks():
    tone = (0.5 * np.sin(np.arange(1600) * 2 * np.pi * 440 / 16000)).astype(np.float32)
    i16 = base64.b64encode((tone * 32767).astype("<i2").tobytes()).decode()
    chunk = decode_chunk(f"i16:16000:1700000000.250:{i16}")
    assert chunk.samples.dtype == np.float32 and chunk.page_time == 1700000000.25
    np.testing.assert_allclose(chunk.samples, tone, atol=1e-4)
    f32 = base64.b64encode(tone.astype("<f4").tobytes()).decode()
    chunk = decode_chunk(f"f32:16000::{f32}")
    assert chunk.page_time is None
    np.testing.assert_array_equal(chunk.samples, tone)


@pytest.mark.parametrize("detail, why", [
    ("garbage", "header"), ("u8:16000::AAAA", "format"), ("i16:48000::AAAA", "Hz"),
    ("i16:16000::not base64!", "base64"), ("i16:16000::AA==", "mid-sample"), ("i16:16000:soon:AAAAAA==", "time"),
])
def test_malformed_chunks_are_rejected_with_a_reason(detail, why):
    with pytest.raises(ChunkError, match=why):
        decode_chunk(detail)


def test_page_state_parsing():
    s = PageState.from_json(json.dumps({
        "url": "https://x", "flags": {"lobby": "text=wait"}, "name_input": "", "mic_off": None,
        "participants": [{"name": "Alice", "self": False}, {"name": " "}, {"name": "Me", "self": True}],
        "speakers": ["Alice", ""]}))
    assert s.has("lobby") and s.name_input == "" and s.mic_off is None
    assert [p.name for p in s.participants] == ["Alice", "Me"] and s.participants[1].is_self
    assert s.speakers == ("Alice",)
    with pytest.raises(PageStateError):
        PageState.from_json("[1, 2")


# --- selector packs -------------------------------------------------------------------------


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_platform_has_a_valid_pack_with_fallbacks(platform):
    pack = load_pack(platform)
    for landmark in ("name_input", "join_buttons", "lobby", "admitted", "denied", "removed", "ended", "leave"):
        assert len(pack.data[landmark]) >= 2, landmark   # web clients change: always a fallback
    assert pack.data["participants"]["items"] and pack.data["speaking"]["indicators"]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_pack_entry_carries_its_evidence(platform):
    """docs/PLATFORMS.md: each matcher names the public source that shows it on the real page,
    or is marked unconfirmed and tried only after every confirmed one."""
    data = load_pack(platform).data  # validates evidence and order
    confirmed = [m for key in ("name_input", "join_buttons", "admitted", "leave") for m in data[key] if "source" in m]
    assert confirmed, "the landmarks a join needs must have evidence"


def test_a_pack_entry_without_evidence_or_out_of_order_is_refused():
    good = load_pack("teams").data
    bare = {"text": "Join now"}
    guess = {"text": "Join now", "unconfirmed": True}
    shown = {"text": "Join now", "source": "attendee-labs/attendee bots/teams_bot_adapter/teams_ui_methods.py"}
    for broken, why in [({**good, "join_buttons": [bare]}, "needs either a 'source'"),
                        ({**good, "join_buttons": [guess, shown]}, "unconfirmed matchers must come after"),
                        ({**good, "join_buttons": [{**shown, "unconfirmed": True}]}, "needs either"),
                        ({**good, "join_buttons": [{**shown, "source": "somewhere"}]}, "owner/repo"),
                        ({**good, "join_buttons": [{**guess, "unconfirmed": False}]}, "can only be true")]:
        with pytest.raises(SelectorPackError, match=why):
            validate(broken, "test pack")
    validate({**good, "join_buttons": [shown, guess]}, "test pack")


def test_pack_errors_name_the_problem():
    with pytest.raises(SelectorPackError, match="no selector pack"):
        load_pack("skype")
    with pytest.raises(SelectorPackError, match="unknown platform"):
        load_pack("../etc/passwd")
    good = load_pack("teams").data
    for broken, why in [({**good, "lobby": []}, "'lobby' must be a non-empty list"),
                        ({**good, "lobby": [{"xpath": "//div"}]}, "not a matcher"),
                        ({k: v for k, v in good.items() if k != "leave"}, "missing 'leave'"),
                        ({**good, "colour": "blue"}, "unknown keys"),
                        ({**good, "email_input": [{"css": "input", "unconfirmed": True}]}, "guest_email"),
                        ({**good, "participants": {**good["participants"],
                                                  "strip": [{"pattern": "(", "unconfirmed": True}]}},
                         "regular expression")]:
        with pytest.raises(SelectorPackError, match=why):
            validate(broken, "test pack")


def test_no_selectors_in_python_code():
    for name in os.listdir("recorder/bot"):
        if name.endswith(".py"):
            text = open(f"recorder/bot/{name}", encoding="utf-8").read()
            for marker in ("data-tid", "aria-label", "data-test", "querySelector", "Ask to join"):
                assert marker not in text, (name, marker)


def test_prepare_environment_sets_the_host_mapping_once(monkeypatch):
    monkeypatch.setenv("QTWEBENGINE_CHROMIUM_FLAGS", '--disable-gpu --host-resolver-rules="MAP old 1.2.3.4:1"')
    prepare_qtwebengine_environment("MAP teams.microsoft.com 127.0.0.1:8443, MAP zoom.us 127.0.0.1:8443")
    flags = os.environ["QTWEBENGINE_CHROMIUM_FLAGS"].split(" --")
    assert flags[0] == "--disable-gpu" and flags[-1] == (
        'host-resolver-rules="MAP teams.microsoft.com 127.0.0.1:8443, MAP zoom.us 127.0.0.1:8443"')
    assert sum("host-resolver-rules" in f for f in flags) == 1
    # A current Chrome in US English that does not announce automation, with a silent fake
    # microphone: never a real capture device (docs/PLATFORMS.md, "Every platform").
    assert {"lang=en-US", "disable-blink-features=AutomationControlled",
            "use-fake-device-for-media-stream"} <= set(flags)
    silence = next(f for f in flags if f.startswith("use-file-for-fake-audio-capture=")).split("=", 1)[1]
    with wave.open(silence) as w:
        assert w.getnframes() > 0 and not any(w.readframes(w.getnframes()))
    with pytest.raises(ValueError):
        prepare_qtwebengine_environment('MAP a "b"')
    monkeypatch.setenv("QTWEBENGINE_CHROMIUM_FLAGS", "--log-level=0")  # a user's own choice stays
    monkeypatch.delenv("QT_QUICK_BACKEND", raising=False)
    prepare_qtwebengine_environment()
    assert os.environ["QTWEBENGINE_CHROMIUM_FLAGS"].split()[0] == "--log-level=0"
    assert "--log-level=3" not in os.environ["QTWEBENGINE_CHROMIUM_FLAGS"]
    # The page is drawn in software: no OpenGL frames for the window's thread to wait on.
    assert "--disable-gpu" in os.environ["QTWEBENGINE_CHROMIUM_FLAGS"].split()
    assert os.environ["QT_QUICK_BACKEND"] == "software"
    monkeypatch.setenv("QT_QUICK_BACKEND", "opengl")
    prepare_qtwebengine_environment()
    assert os.environ["QT_QUICK_BACKEND"] == "opengl"
    if os.geteuid() == 0:
        assert os.environ["QTWEBENGINE_DISABLE_SANDBOX"] == "1"


def test_bad_configuration_is_refused_before_anything_starts(qapp):
    with pytest.raises(ValueError, match="http"):
        MeetingBot(BotConfig(join_url="ftp://zoom.us/j/1", platform="zoom"))
    with pytest.raises(ValueError, match="bot_name"):
        MeetingBot(BotConfig(join_url="https://zoom.us/j/1", platform="zoom", bot_name="  "))
    with pytest.raises(SelectorPackError):
        MeetingBot(BotConfig(join_url="https://zoom.us/j/1", platform="skype"))


# --- real browser runs ------------------------------------------------------------------------


@pytest.fixture
def run(qtbot):
    runs = []

    def make(join_url: str, platform: str, **kw) -> Run:
        r = Run(qtbot, BotConfig(join_url=join_url, platform=platform, bot_name=BOT_NAME, **kw))
        runs.append(r)
        return r.start()

    yield make
    for r in runs:
        r.close()


# Local pages for the audio tap: a Meet-like tile and leave control (so the google_meet pack
# sees an admitted bot) and a 440 Hz tone sent over an in-page RTCPeerConnection loopback to
# an <audio>.
_TONE_JS = """
(async () => {
  const ctx = new AudioContext();
  const osc = ctx.createOscillator(); osc.frequency.value = 440;
  const gain = ctx.createGain(); gain.gain.value = 0.5;
  const dest = ctx.createMediaStreamDestination(); osc.connect(gain).connect(dest); osc.start();
  const a = new RTCPeerConnection(), b = new RTCPeerConnection();
  a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
  b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
  b.ontrack = (e) => { document.getElementById('out').srcObject = e.streams[0]; };
  dest.stream.getTracks().forEach((t) => a.addTrack(t, dest.stream));
  const offer = await a.createOffer(); await a.setLocalDescription(offer); await b.setRemoteDescription(offer);
  const answer = await b.createAnswer(); await b.setLocalDescription(answer); await a.setRemoteDescription(answer);
})();
"""
_TILE = ('<div data-participant-id="t1"><span class="notranslate">Tone Tester</span></div>'
         '<button jsname="CQylAd" aria-label="Leave call">Leave</button>')
_PAGES = {
    "/tone.html": f"<!doctype html><body>{_TILE}<audio id=out autoplay></audio><script>{_TONE_JS}</script>",
    # A strict CSP forbids the blob: worklet module: the tap must fall back to ScriptProcessor.
    "/csp.html": ("<!doctype html><head><meta http-equiv=\"Content-Security-Policy\" "
                  "content=\"script-src 'self' 'unsafe-inline'\"></head>"
                  f"<body>{_TILE}<audio id=out autoplay></audio><script>{_TONE_JS}</script>"),
    "/frame.html": f"<!doctype html><body>{_TILE}<iframe id=webclient src=/tone-only.html></iframe>",
    # The frame comes from another origin (localhost vs 127.0.0.1): its events are posted.
    "/cross.html": (f"<!doctype html><body>{_TILE}<script>document.write('<iframe id=webclient "
                    "src=\"http://localhost:' + location.port + '/tone-only.html\"></iframe>')</script>"),
    "/tone-only.html": f"<!doctype html><body><audio id=out autoplay></audio><script>{_TONE_JS}</script>",
    # The top page tries to read and forge what the tap in its cross-origin frame sends.
    "/forge.html": ("<!doctype html><body><div data-participant-id=s><span class=notranslate id=sniffed>sniffed 0"
                    "</span></div><button jsname=CQylAd aria-label='Leave call'>Leave</button><script>"
                    + "const FORGED = " + json.dumps(
                        "i16:16000::" + base64.b64encode(
                            (np.sin(2 * np.pi * 1000 * np.arange(1600) / 16000) * 30000).astype("<i2").tobytes()
                        ).decode()) + ";"
                    """
                    const seen = new Set();
                    const dispatch = EventTarget.prototype.dispatchEvent;
                    EventTarget.prototype.dispatchEvent = function (e) { seen.add(e.type); return dispatch.call(this, e); };
                    const Custom = window.CustomEvent;
                    window.CustomEvent = function (type, init) { seen.add(type); return new Custom(type, init); };
                    // Posting from a frame of its own makes the messages look like a frame's.
                    const helper = document.createElement('iframe');
                    document.body.append(helper);
                    const postFromFrame = helper.contentWindow.Function('d', 'parent.postMessage(d, "*")');
                    window.addEventListener('message', (e) => {
                      if (typeof e.data !== 'string' || e.source !== document.getElementById('webclient').contentWindow) return;
                      const parts = e.data.split('|');
                      if (parts.length < 5) return;
                      window.postMessage(e.data, '*');                                        // from the page
                      postFromFrame(e.data);                                                  // replayed
                      postFromFrame(parts.slice(0, 4).join('|') + '|' + FORGED);              // signature kept
                      parts[1] = String(Number(parts[1]) + 1000000);
                      postFromFrame(parts.slice(0, 4).join('|') + '|' + FORGED);              // renumbered
                      for (const t of seen) document.dispatchEvent(new Custom(t, {detail: FORGED}));
                    });
                    setInterval(() => {
                      const ours = [...seen].filter((t) => t.startsWith('mb-')).length;
                      document.getElementById('sniffed').textContent = 'sniffed ' + ours;
                    }, 200);
                    document.write('<iframe id=webclient src="http://localhost:' + location.port + '/tone-only.html"></iframe>');
                    </script>"""),
    # A page asking for permissions shows what it got as participants' names: the silent fake
    # microphone is granted, the camera and notifications are refused.
    "/media.html": ("<!doctype html><body><button jsname=CQylAd aria-label='Leave call'>Leave</button>"
                    "<div data-participant-id=m><span class=notranslate id=mic>asking</span></div>"
                    "<div data-participant-id=c><span class=notranslate id=cam>asking</span></div>"
                    "<div data-participant-id=n><span class=notranslate id=note>asking</span></div><script>"
                    "navigator.mediaDevices.getUserMedia({audio: true})"
                    ".then((s) => { mic.textContent = 'microphone granted: ' + s.getAudioTracks()[0].label; })"
                    ".catch((e) => { mic.textContent = 'microphone refused'; });"
                    "navigator.mediaDevices.getUserMedia({video: true})"
                    ".then(() => { cam.textContent = 'camera granted'; })"
                    ".catch((e) => { cam.textContent = 'camera refused'; });"
                    "Notification.requestPermission().then((p) => { note.textContent = 'notifications ' + p; });"
                    "</script>"),
}


class _PageHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = _PAGES.get(self.path.split("?")[0])
        if body is None:
            self.send_error(404)
            return
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def tone_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _PageHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def dominant_hz(samples: np.ndarray) -> float:
    window = samples[-16000:] * np.hanning(min(16000, len(samples)))
    spectrum = np.abs(np.fft.rfft(window))
    return float(np.argmax(spectrum) * 16000 / len(window))


@pytest.mark.parametrize("page, path", [("tone.html", "AudioWorklet"), ("csp.html", "ScriptProcessor"),
                                        ("frame.html", "AudioWorklet"), ("cross.html", "AudioWorklet")])
def test_audio_tap_delivers_16k_pcm_of_the_remote_track(run, tone_server, page, path):
    r = run(f"{tone_server}/{page}", "google_meet")
    r.wait_phase(ADMITTED, timeout=15)
    r.qtbot.waitUntil(lambda: len(r.audio()) >= 3 * 16000, timeout=15000)
    n0, t0 = len(r.audio()), r.chunks[-1][2]
    r.qtbot.wait(3000)
    x = r.audio()
    rate = (len(x) - n0) / (r.chunks[-1][2] - t0)
    assert 12000 < rate < 20000, rate                   # 16 kHz, give or take delivery jitter
    assert abs(dominant_hz(x) - 440) < 3
    assert 0.25 < float(np.sqrt(np.mean(x[-16000:] ** 2))) < 0.45   # a 0.5 sine: rms 0.354
    assert any(path in message for _, message in r.logs), r.logs
    # Chunk times are this process's monotonic clock, close to when the chunk arrived.
    lags = [arrived - t for _, t, arrived in r.chunks if t is not None]
    assert lags and all(-0.5 < lag < 1.0 for lag in lags), lags[:5]
    assert ("Tone Tester", False) in r.joined


def test_a_page_cannot_read_or_forge_what_the_audio_tap_sends(run, tone_server):
    """The meeting page is untrusted: replacing dispatchEvent/CustomEvent shows it nothing of
    the tap's channel, and replaying or re-signing the messages its cross-origin frame posts
    injects nothing: only the frame's real 440 Hz tone reaches the bot, never the 1 kHz forgery."""
    r = run(f"{tone_server}/forge.html", "google_meet")
    r.wait_phase(ADMITTED, timeout=15)
    r.qtbot.waitUntil(lambda: len(r.audio()) >= 4 * 16000, timeout=20000)
    r.qtbot.wait(6000)   # the bridge reports its drop counts every few seconds
    x = r.audio()
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    hz = np.fft.rfftfreq(len(x), 1 / 16000)
    tone, forged = spectrum[np.abs(hz - 440) < 5].max(), spectrum[np.abs(hz - 1000) < 5].max()
    assert forged < tone / 100, (tone, forged)
    assert ("sniffed 0", False) in r.joined, r.joined        # the page never saw the event names
    dropped = " ".join(m for _, m in r.logs if "frame messages" in m)
    assert "replayed frame messages" in dropped and "forged frame messages" in dropped, r.logs


def test_only_the_silent_fake_microphone_is_granted(run, tone_server):
    """Web clients play no remote audio without a microphone (docs/PLATFORMS.md, "Every
    platform"): the page gets Chromium's fake device, fed from silence; never a real device,
    never the camera, nothing else."""
    r = run(f"{tone_server}/media.html", "google_meet")
    names = lambda: {name for name, _ in r.joined}  # noqa: E731
    r.qtbot.waitUntil(lambda: {"camera refused", "notifications denied"} <= names()
                      and any(n.startswith("microphone granted") for n in names()), timeout=15000)
    granted = next(n for n in names() if n.startswith("microphone granted"))
    assert "fake" in granted.lower(), granted           # Chromium's fake capture device
    assert any(" s Refused Notifications" in m for _, m in r.logs), r.logs
    assert any("silent microphone" in m for _, m in r.logs), r.logs


def test_debug_mode_shows_a_normal_window(run, tone_server):
    r = run(f"{tone_server}/tone.html", "google_meet", debug_mode=True)
    r.wait_phase(ADMITTED)
    view = r.bot._view
    assert view.isVisible() and view.isActiveWindow() is not None and "google_meet" in view.windowTitle()
    assert not view.windowFlags() & bot_module.Qt.WindowType.WindowDoesNotAcceptFocus
    assert r.bot.window_region()[2:] == (1280, 720)


def test_unreachable_page_is_retried_then_fails(run):
    with socketless_port() as port:
        r = run(f"http://127.0.0.1:{port}/meeting", "google_meet")
        outcome, code, message = r.wait_finished(timeout=20)
    assert (outcome, code) == ("failed", "PAGE_LOAD_FAILED")
    assert any("trying once more" in m for _, m in r.logs)
    assert "127.0.0.1" in message


class socketless_port:
    """A local port with nothing listening on it."""

    def __enter__(self) -> int:
        import socket
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))   # bound, never listening: connections are refused
        return self.sock.getsockname()[1]

    def __exit__(self, *exc):
        self.sock.close()


# --- against the meeting simulator --------------------------------------------------------------


@pytest.fixture(scope="module")
def sim():
    simulator = MeetingSimulator(port=SIM_PORT).start()
    yield simulator
    simulator.stop()


def meeting(sim, platform: str, scenario: dict | str) -> str:
    if isinstance(scenario, dict):
        scenario = scenario_from_dict(scenario, name="bot-test")
    return sim.example_link(platform, scenario=scenario)


def sim_run(run, sim, platform, scenario, **timers) -> Run:
    link = meeting(sim, platform, scenario)
    known = {page.page_id for page in sim.control.pages()}
    r = run(link, platform, timers=LeaveTimers(**timers), trusted_certificates=frozenset({sim.cert_fingerprint}))
    r.sim_pages_before = known
    return r


def page_events(sim, r: Run, event_type: str | None = None):
    """What the simulator recorded of this bot's pages (a join may pass through several:
    a launcher, a redirect, a reload), in order."""
    opened = [p.page_id for p in sim.control.pages() if p.page_id not in r.sim_pages_before]
    assert opened, "the bot's page never reached the simulator"
    return sorted((e for page_id in opened for e in sim.control.events(event_type, page_id=page_id)),
                  key=lambda e: e.time)


ALICE = {"id": "alice", "name": "Alice Johnson", "voice": "en-us+f3"}
BOB = {"id": "bob", "name": "Bob Smith", "voice": "en-gb+m3"}
SHORT_MEETING = {
    "lobby": {"wait_s": 1, "outcome": "admitted"},
    "participants": [ALICE, {**BOB, "joins_at": 1, "leaves_at": 6}],
    "speech": [{"at": 1.5, "who": "alice", "text": "Good morning everyone, this is the planning call."}],
    "meeting_ends_at": 8,
    "zoom": {"host_starts_after_s": 0},   # the host-not-started page has tests of its own
}
ENDLESS = {"lobby": {"wait_s": 0.5, "outcome": "admitted"}, "participants": [ALICE],
           "zoom": {"host_starts_after_s": 0}}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_joins_records_and_follows_the_meeting_to_its_end(run, sim, platform):
    r = sim_run(run, sim, platform, SHORT_MEETING)
    outcome, code, _ = r.wait_finished(timeout=40)
    assert (outcome, code) == ("completed", "MEETING_ENDED"), r.logs
    assert r.phases == ["loading", "prejoin", "lobby", "admitted"]
    join = page_events(sim, r, "join_requested")[0].data
    assert join == {"name": BOT_NAME, "mic_on": False, "camera_on": False}
    assert not page_events(sim, r, "media_changed"), "the bot touched its microphone or camera in the call"
    assert set(r.joined) == {(BOT_NAME, True), ("Alice Johnson", False), ("Bob Smith", False)}
    assert r.left == ["Bob Smith"]
    assert "Alice Johnson" in r.speaker_names() and r.speakers[-1][1] is None
    x = r.audio()
    assert len(x) > 5 * 16000
    assert float(np.sqrt(np.mean(x ** 2))) > 0.01, "no speech in the tapped audio"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_denied_by_the_host(run, sim, platform):
    r = sim_run(run, sim, platform, "denied")
    outcome, code, message = r.wait_finished(timeout=30)
    assert (outcome, code) == ("failed", "JOIN_DENIED")
    assert LOBBY in r.phases and ADMITTED not in r.phases


@pytest.mark.parametrize("scenario, code", [("blocked", "BOT_BLOCKED"), ("sign_in_required", "SIGN_IN_REQUIRED"),
                                            ("invalid_meeting", "MEETING_NOT_FOUND")])
@pytest.mark.parametrize("platform", PLATFORMS)
def test_meetings_the_bot_cannot_enter_fail_fast(run, sim, platform, scenario, code):
    r = sim_run(run, sim, platform, scenario)
    assert r.wait_finished(timeout=20)[:2] == ("failed", code)
    assert ADMITTED not in r.phases


@pytest.mark.parametrize("platform", PLATFORMS)
def test_removed_by_the_host(run, sim, platform):
    r = sim_run(run, sim, platform, {**ENDLESS, "bot_removed_at": 2})
    assert r.wait_finished(timeout=30)[:2] == ("failed", "BOT_REMOVED")
    assert ADMITTED in r.phases


@pytest.mark.parametrize("platform", PLATFORMS)
def test_stop_clicks_the_platforms_leave_control(run, sim, platform):
    r = sim_run(run, sim, platform, ENDLESS)
    r.wait_phase(ADMITTED)
    r.qtbot.waitUntil(lambda: ("Alice Johnson", False) in r.joined, timeout=5000)
    r.bot.leave()
    r.bot.leave()                                   # a second stop changes nothing
    assert r.wait_finished(timeout=15)[:2] == ("completed", "STOP_REQUESTED")
    left = page_events(sim, r, "bot_left")
    assert left and left[0].data == {"via": "leave_button", "phase": "meeting"}


@pytest.mark.parametrize("platform", ["google_meet", "teams", "zoom"])
def test_waiting_room_timeout_withdraws_the_request(run, sim, platform):
    # Long enough to get through each client's pre-join steps with real input.
    r = sim_run(run, sim, platform, "lobby_forever", waiting_room=25)
    outcome, code, message = r.wait_finished(timeout=60)
    assert (outcome, code) == ("failed", "WAITING_ROOM_TIMEOUT")
    assert "25 s" in message and r.phases[-1] == LOBBY
    left = page_events(sim, r, "bot_left")
    assert left and left[0].data["phase"] == "lobby"   # the host sees the request withdrawn


def test_left_alone_when_everyone_else_leaves(run, sim):
    r = sim_run(run, sim, "webex", {**ENDLESS, "participants": [
        {**ALICE, "leaves_at": 2}, {**BOB, "name": "Fireflies Notetaker"}]}, everyone_left=1.5)
    assert r.wait_finished(timeout=30)[:2] == ("completed", "LEFT_ALONE")
    assert ("Fireflies Notetaker", True) in r.joined and r.left == ["Alice Johnson"]
    assert page_events(sim, r, "bot_left")


def test_no_one_joined(run, sim):
    r = sim_run(run, sim, "zoom", {"lobby": {"wait_s": 0, "outcome": "admitted"}, "participants": [],
                                   "zoom": {"host_starts_after_s": 0}}, no_one_joined=2)
    assert r.wait_finished(timeout=30)[:2] == ("completed", "NO_ONE_JOINED")
    assert r.joined == [(BOT_NAME, True)]


def test_renderer_crash_fails_the_session(run, sim):
    r = sim_run(run, sim, "teams", ENDLESS)
    r.wait_phase(ADMITTED)
    os.kill(r.bot._page.renderProcessPid(), signal.SIGKILL)   # what an out-of-memory kill does
    outcome, code, message = r.wait_finished(timeout=15)
    assert (outcome, code) == ("failed", "BROWSER_CRASHED") and "stopped" in message


def test_page_that_never_loads(run, sim, monkeypatch):
    monkeypatch.setattr(bot_module, "PAGE_LOAD_TIMEOUT_S", 3.0)
    r = sim_run(run, sim, "google_meet", "never_loads")
    assert r.wait_finished(timeout=20)[:2] == ("failed", "PAGE_LOAD_FAILED")
    assert r.phases == ["loading"]


@pytest.mark.parametrize("pinned", [frozenset(), frozenset({"00" * 32})],
                         ids=["production", "another-certificate-pinned"])
def test_certificate_errors_fail_unless_the_simulators_certificate_is_pinned(run, sim, pinned):
    """Demo/test mode trusts the simulator's own certificate by fingerprint, not the mapped
    host names: a page for teams.microsoft.com with any other certificate is refused."""
    r = run(meeting(sim, "teams", ENDLESS), "teams", trusted_certificates=pinned)
    outcome, code, message = r.wait_finished(timeout=20)
    assert (outcome, code) == ("failed", "PAGE_LOAD_FAILED") and "certificate" in message.lower()


def test_window_region_and_close(run, sim, qtbot):
    r = sim_run(run, sim, "google_meet", ENDLESS)
    r.wait_phase(ADMITTED)
    x, y, w, h = r.bot.window_region()
    assert (w, h) == (1280, 720) and x >= 0 and y >= 0
    r.bot.close()
    assert r.bot.window_region() is None
    assert r.wait_finished(timeout=5)[:2] == ("completed", "STOP_REQUESTED")
