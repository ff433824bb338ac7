"""What the real meeting pages do, played by the meeting simulator, against the real
MeetingBot. Each test names one behaviour from docs/PLATFORMS.md and the source listed there,
and asserts what a user relies on: the bot gets in, hears each word once, names the right
speaker, reports the right outcome, never hands the meeting to a desktop app, and sends
nothing but silence. Behaviours a test does not look at are switched off in its scenario, so
a failure points at one behaviour. Each test fails against a naive bot (script clicks and
values, every remote track mixed, the microphone refused); its docstring says why.
"""
from __future__ import annotations

import time
import wave

import numpy as np
import pytest

from recorder.bot.config import BotConfig, LeaveTimers
from recorder.bot.monitor import ADMITTED, LOBBY
from recorder.simulator import MeetingSimulator, testing
from recorder.simulator.hosts import Platform, meeting_id_in
from recorder.simulator.scenario import scenario_from_dict
from tests.recorder.bot_runs import Run

# Chromium reads its flags when the first QApplication starts (pytest-qt keeps one for the
# run), so the simulator's host mapping is set while this module is imported.
SIM_PORT = testing.configure_qtwebengine()

PLATFORMS = ("teams", "zoom", "google_meet", "webex")
BOT_NAME = "Meeting Buddy"
RATE = 16_000
ALICE = {"id": "alice", "name": "Alice Johnson", "voice": "en-us+f3"}
BOB = {"id": "bob", "name": "Bob Smith", "voice": "en-gb+m3"}
ALICE_LINE = "Good morning everyone, this is the planning call for the new release."
# Every hard behaviour off; a test turns on the one it is about.
QUIET = {"teams": {"light_experience_redirect": False, "launcher": "direct", "desktop_app_launch": "frame"},
         "zoom": {"host_starts_after_s": 0, "toolbar_hides_after_s": None, "desktop_app_launch": "frame"},
         "google_meet": {"dialog": None, "toolbar_hides_after_s": None},
         "webex": {"app_prompt": False, "desktop_app_launch": "frame"}}
MEETING = {"lobby": {"wait_s": 1, "outcome": "admitted"}, "participants": [ALICE],
           "speech": [{"at": 2, "who": "alice", "text": ALICE_LINE}], "meeting_ends_at": 10}


@pytest.fixture(scope="module")
def sim(qapp):
    with MeetingSimulator(port=SIM_PORT) as simulator, testing.DesktopAppCatcher(simulator):
        yield simulator


@pytest.fixture
def run(qtbot, sim):
    runs: list[Run] = []

    def start(platform: str, scenario: dict, **timers) -> Run:
        data = quiet(scenario)
        link = sim.example_link(platform, scenario=scenario_from_dict(data, name="behaviour"))
        r = Run(qtbot, BotConfig(join_url=link, platform=platform, bot_name=BOT_NAME,
                                 timers=LeaveTimers(**{"waiting_room": 60, **timers}),
                                 trusted_certificates=frozenset({sim.cert_fingerprint})))
        r.meeting_id = _meeting_id(platform, link)
        runs.append(r)
        return r.start()

    yield start
    for r in runs:
        r.close()


def quiet(scenario: dict) -> dict:
    """The scenario with every hard behaviour it does not name switched off."""
    merged = {**QUIET, **scenario}
    for key in QUIET:
        merged[key] = {**QUIET[key], **scenario.get(key, {})}
    return merged


def _meeting_id(platform: str, link: str) -> str:
    found = meeting_id_in(Platform(platform), link)
    assert found, link
    return found


def events(sim: MeetingSimulator, r: Run, event_type: str) -> list:
    """What the simulator recorded of this bot's meeting (every page load of it)."""
    pages = {page.page_id for page in sim.control.pages_for(r.meeting_id)}
    return [e for e in sim.control.events(event_type) if e.page_id in pages]


# --- audio helpers ----------------------------------------------------------------------------


def clip_16k(sim: MeetingSimulator, voice: str, text: str) -> np.ndarray:
    """The utterance as the simulator plays it, at the bot's sample rate."""
    with wave.open(str(sim.speech.render(voice, text).path), "rb") as wav:
        rate = wav.getframerate()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), "<i2").astype(np.float32) / 32768.0
    times = np.arange(0, len(samples) / rate, 1 / RATE)
    return np.interp(times, np.arange(len(samples)) / rate, samples).astype(np.float32)


def echo_of(audio: np.ndarray, clip: np.ndarray, min_lag_s: float = 0.15, max_lag_s: float = 0.6) -> tuple[float, float]:
    """(where the utterance best matches the audio, how strong a second copy of it is nearby
    relative to the first). A bot that hears each word once has no second copy."""
    n = 1 << int(np.ceil(np.log2(len(audio) + len(clip))))
    corr = np.fft.irfft(np.fft.rfft(audio, n) * np.conj(np.fft.rfft(clip, n)), n)[: len(audio) - len(clip) + 1]
    corr = np.abs(corr)
    peak = int(np.argmax(corr))
    lo, hi = int(min_lag_s * RATE), int(max_lag_s * RATE)
    around = np.concatenate([corr[max(0, peak - hi): max(0, peak - lo)], corr[peak + lo: peak + hi]])
    echo = float(around.max()) if around.size else 0.0
    return peak / RATE, echo / float(corr[peak])


def loud_seconds(audio: np.ndarray, threshold: float = 0.01) -> float:
    frames = audio[: len(audio) // 1600 * 1600].reshape(-1, 1600)
    return float(np.sum(np.sqrt(np.mean(frames ** 2, axis=1)) > threshold)) / 10


# --- Microsoft Teams ------------------------------------------------------------------------


def test_teams_the_bot_hears_each_word_once_although_the_page_sends_the_mix_twice(run, sim):
    """Teams "One meeting mix plus duplicates" (docs/PLATFORMS.md; Vexa-ai/vexa
    docs/changelog.d/1024-teams-speaker-names.md, attendee-labs/attendee
    bots/teams_bot_adapter/teams_chromedriver_payload.js): the page gets the meeting mix in a
    "mainAudio" stream and a duplicate of it in another. The audio the bot delivers must hold
    each utterance once. A bot that mixes every remote track delivers every word twice."""
    r = run("teams", MEETING)
    assert r.wait_finished()[:2] == ("completed", "MEETING_ENDED"), r.logs[-15:]
    streams = [e.data["stream_id"] for e in events(sim, r, "remote_track")]
    assert len(streams) == 2 and any(s.startswith("mainAudio") for s in streams), streams
    audio = r.audio()
    assert loud_seconds(audio) > 1.0, "no speech reached the bot"
    _, echo = echo_of(audio, clip_16k(sim, ALICE["voice"], ALICE_LINE))
    assert echo < 0.35, f"every word arrives twice (a second copy at {echo:.0%} of the first)"


def test_teams_names_the_speaker_only_from_the_speakers_own_tile(run, sim):
    """Teams "Speaking" (docs/PLATFORMS.md; joinly-ai/joinly
    joinly/providers/browser/platforms/teams.py): every tile has
    [data-tid="voice-level-stream-outline"]; only the speaker's carries vdi-frame-occlusion. Bob
    is in the call and never speaks: he must never be named. A bot that takes the bare outline
    as a speaking sign names everyone."""
    r = run("teams", {**MEETING, "participants": [ALICE, BOB]})
    assert r.wait_finished()[:2] == ("completed", "MEETING_ENDED"), r.logs[-15:]
    assert ("Bob Smith", False) in r.joined
    assert r.speaker_names() == {"Alice Johnson"}, r.speakers


@pytest.mark.parametrize("case, scenario, outcome", [
    ("denied", {"lobby": {"wait_s": 2, "outcome": "denied"}}, ("failed", "JOIN_DENIED")),
    ("declined", {"lobby": {"wait_s": 2, "outcome": "denied"}, "teams": {"denied_text": "declined"}},
     ("failed", "JOIN_DENIED")),
    ("removed", {"lobby": {"wait_s": 1}, "bot_removed_at": 3}, ("failed", "BOT_REMOVED")),
])
def test_teams_tells_denial_from_removal_on_the_one_retry_screen(run, sim, case, scenario, outcome):
    """Teams "One retry screen, several meanings" (docs/PLATFORMS.md; attendee-labs/attendee
    bots/teams_bot_adapter/teams_chromedriver_payload.js and teams_ui_methods.py): denial and
    removal both show #calling-retry-screen-title, with [data-tid="calling-retry-cancelbutton"];
    only its text tells them apart, and both denial texts occur. A bot that takes the bare
    title for removal reports BOT_REMOVED for a denial; one that knows a single denial text
    misses the other and waits out its timer."""
    r = run("teams", {**MEETING, **scenario, "meeting_ends_at": None})
    assert r.wait_finished()[:2] == outcome, r.logs[-15:]
    if case == "removed":
        assert ADMITTED in r.phases
    else:
        assert LOBBY in r.phases and ADMITTED not in r.phases


def test_teams_starts_the_join_over_after_light_experience_false(run, sim):
    """Teams "Anonymous joins land in the light-meetings client" (docs/PLATFORMS.md;
    attendee-labs/attendee bots/teams_bot_adapter/teams_ui_methods.py): once per meeting the
    service moves the pre-join page to an address with lightExperience=false, where the join
    cannot go on; the bot must open the join link again. A bot that stays waits out its
    waiting-room timer."""
    r = run("teams", {**MEETING, "teams": {"light_experience_redirect": True, "launcher": "prompt"}},
            waiting_room=45)
    outcome = r.wait_finished(timeout=60)
    assert events(sim, r, "light_experience_redirect"), "the simulator never sent the join away"
    assert events(sim, r, "join_retried"), f"the bot never opened the join link again: {r.logs[-15:]}"
    assert outcome[:2] == ("completed", "MEETING_ENDED") and ADMITTED in r.phases


# --- Zoom -----------------------------------------------------------------------------------


def test_zoom_meeting_audio_reaches_the_bot(run, sim):
    """Zoom "Click Allow" (docs/PLATFORMS.md; Vexa-ai/vexa
    core/meetings/modules/join/src/zoom/join.ts): Zoom creates no remote audio until the page
    has the microphone and "Allow" is answered (twice: camera and microphone, then the
    microphone alone). A bot that refuses the microphone or skips "Allow" records silence."""
    r = run("zoom", MEETING)
    assert r.wait_finished()[:2] == ("completed", "MEETING_ENDED"), r.logs[-15:]
    assert events(sim, r, "remote_track"), "Zoom never joined computer audio"
    assert loud_seconds(r.audio()) > 1.0, "no speech in the audio the bot delivered"


def test_zoom_waits_for_the_host_reloading_until_the_meeting_starts(run, sim):
    """Zoom "Host not started looks like an invalid link" (docs/PLATFORMS.md; Vexa-ai/vexa
    core/meetings/modules/join/src/zoom/join.ts and selectors.ts): until the host starts,
    the web client shows "Error - Zoom" / "This meeting link is invalid (3,001)" and never
    updates itself. The bot must stay (no failure), reload, and get in once it started. A bot
    that reads the page as an invalid meeting fails at once; one that never reloads waits
    forever."""
    r = run("zoom", {**MEETING, "zoom": {"host_starts_after_s": 3}}, waiting_room=90)
    outcome = r.wait_finished(timeout=80)
    assert events(sim, r, "not_started_shown"), "the simulator never showed the host-not-started page"
    loads = [p for p in sim.control.pages_for(r.meeting_id) if "/wc/" in p.href]
    assert len(loads) >= 2, "the bot never reloaded the web client"
    assert outcome[:2] == ("completed", "MEETING_ENDED"), (outcome, r.logs[-15:])
    assert r.phases[:2] == ["loading", "prejoin"] and ADMITTED in r.phases


def test_zoom_gives_up_when_the_host_never_starts_after_the_waiting_room_timer(run, sim):
    """Zoom "Host not started" (docs/PLATFORMS.md; attendee-labs/attendee
    bots/automatic_leave_configuration.py): a meeting whose host never starts ends with
    WAITING_ROOM_TIMEOUT once the waiting-room timer runs out, not with "not found"."""
    started = time.monotonic()
    r = run("zoom", {**MEETING, "zoom": {"host_starts_after_s": None}}, waiting_room=8)
    outcome = r.wait_finished(timeout=40)
    assert outcome[:2] == ("failed", "WAITING_ROOM_TIMEOUT"), (outcome, r.logs[-15:])
    assert 7 <= time.monotonic() - started < 30
    assert ADMITTED not in r.phases and events(sim, r, "not_started_shown")


def test_zoom_join_enables_for_the_name_typed_with_real_keys(run, sim):
    """Zoom "Pre-join" (docs/PLATFORMS.md; Vexa-ai/vexa core/meetings/modules/join/src/zoom/join.ts):
    button.preview-join-button keeps class "disabled" for a name set by script; only a name
    typed with real key events enables it. A bot that sets the value never joins."""
    r = run("zoom", {**MEETING, "meeting_ends_at": 4})
    assert r.wait_finished()[:2] == ("completed", "MEETING_ENDED"), r.logs[-15:]
    joined = events(sim, r, "join_requested")
    assert joined and joined[0].data["name"] == BOT_NAME
    ignored = [e.data for e in events(sim, r, "untrusted_event_ignored") if e.data.get("target") == "name"]
    assert not ignored, f"the bot filled the name by script: {ignored}"


def test_zoom_participants_are_read_from_the_opened_panel(run, sim):
    """Zoom "Participants" (docs/PLATFORMS.md; joinly-ai/joinly
    joinly/providers/browser/platforms/zoom.py): the list must be opened (a button labelled
    participants), then div.participants-li items named by aria-label. Bob never speaks, so
    speaker view never shows him: only the panel does. A bot that does not open it misses him."""
    r = run("zoom", {**MEETING, "participants": [ALICE, {**BOB, "joins_at": 0.5}]})
    assert r.wait_finished()[:2] == ("completed", "MEETING_ENDED"), r.logs[-15:]
    assert events(sim, r, "participants_panel_opened"), "the bot never opened the participants panel"
    assert ("Bob Smith", False) in r.joined, r.joined


def test_zoom_names_no_speaker_in_silence_although_speaker_view_shows_someone(run, sim):
    """Zoom "Speaking" (docs/PLATFORMS.md; Vexa-ai/vexa
    core/meetings/modules/zoom-capture/src/zoom-speakers.ts): speaker view always shows
    somebody, the last speaker staying in silence. Alice (the host) is shown from the start
    and never speaks; Bob speaks once. A bot that trusts the frame names Alice, and keeps
    naming Bob after he stopped."""
    scenario = {**MEETING, "participants": [ALICE, BOB], "meeting_ends_at": 14,
                "speech": [{"at": 2, "who": "bob", "text": "The new release is ready for testing on Friday."}]}
    r = run("zoom", scenario)
    assert r.wait_finished()[:2] == ("completed", "MEETING_ENDED"), r.logs[-15:]
    shown = [e.data["name"] for e in events(sim, r, "active_speaker_shown")]
    assert shown[:2] == ["Alice Johnson", "Bob Smith"], shown
    assert "Alice Johnson" not in r.speaker_names(), r.speakers
    assert "Bob Smith" in r.speaker_names() and r.speakers[-1][1] is None, r.speakers


# --- Google Meet ----------------------------------------------------------------------------


def test_meet_joins_although_the_page_ignores_script_made_input(run, sim):
    """Meet "Real input only" (docs/PLATFORMS.md; Vexa-ai/vexa
    core/meetings/modules/join/src/googlemeet/join.ts): every handler ignores events whose
    isTrusted is false. A bot that clicks or fills by script never leaves the pre-join page."""
    r = run("google_meet", MEETING)
    assert r.wait_finished()[:2] == ("completed", "MEETING_ENDED"), r.logs[-15:]
    joined = events(sim, r, "join_requested")
    assert [e.data["name"] for e in joined] == [BOT_NAME], "\n".join(m for _, m in r.logs[:14])


def test_meet_reads_names_from_span_notranslate_and_skips_the_self_preview(run, sim):
    """Meet "The lobby already has a [data-participant-id]" and "Speaking in the DOM"
    (docs/PLATFORMS.md; Vexa-ai/vexa core/meetings/modules/gmeet-capture/src/gmeet-speakers.ts,
    core/meetings/modules/join/src/googlemeet/admission.ts): names are in span.notranslate; the
    pre-join self-preview carries a [data-participant-id] labelled "visual_effects …"."""
    r = run("google_meet", {**MEETING, "participants": [ALICE, BOB]})
    assert r.wait_finished()[:2] == ("completed", "MEETING_ENDED"), r.logs[-15:]
    names = {name for name, _ in r.joined}
    assert {"Alice Johnson", "Bob Smith", BOT_NAME} <= names, names
    assert not [n for n in names if "visual_effects" in n or "Backgrounds" in n], names
    assert r.speaker_names() == {"Alice Johnson"}, r.speakers


@pytest.mark.parametrize("dialog", ["recording", "gemini"])
def test_meet_confirms_the_dialog_shown_on_admission(run, sim, dialog):
    """Meet "Dialogs after admission" (docs/PLATFORMS.md; attendee-labs/attendee
    bots/google_meet_bot_adapter/google_meet_chromedriver_payload.js): a
    div[aria-modal="true"][role="dialog"] confirmed with button[data-mdc-dialog-action="ok"];
    the call's audio waits for it. A bot that leaves it (or clicks it by script) hears nothing."""
    r = run("google_meet", {**MEETING, "google_meet": {"dialog": dialog}})
    assert r.wait_finished()[:2] == ("completed", "MEETING_ENDED"), r.logs[-15:]
    assert events(sim, r, "dialog_confirmed"), "the bot never confirmed the dialog"
    assert loud_seconds(r.audio()) > 1.0, "no speech reached the bot"


def test_meet_joins_with_join_here_too(run, sim):
    """Meet join buttons (docs/PLATFORMS.md; attendee-labs/attendee
    bots/google_meet_bot_adapter/google_meet_ui_methods.py): when the account is already in the
    call on another device the only join button reads "Join here too"."""
    r = run("google_meet", {**MEETING, "lobby": {"wait_s": 0},
                            "google_meet": {"join_button": "join_here_too"}})
    assert r.wait_finished()[:2] == ("completed", "MEETING_ENDED"), r.logs[-15:]
    assert events(sim, r, "prejoin_shown")[0].data == {"join_button": "Join here too"}
    assert ADMITTED in r.phases


# --- Webex ----------------------------------------------------------------------------------


def test_webex_joins_the_client_in_the_page_through_the_guest_form(run, sim):
    """Webex "The app chooser" and "Guest forms" (docs/PLATFORMS.md;
    aws-samples/amazon-transcribe-live-meeting-assistant
    lma-virtual-participant-stack/backend/src/webex.ts): a j.php link lands on the app chooser,
    whose first "Join from this browser" click goes to the desktop app; the newer client runs
    in the page with "Problem joining from browser?" over a guest form (name, email, Next),
    then #interstitial_join_btn. A bot that clicks once, or only looks inside a frame, stays out."""
    r = run("webex", {**MEETING, "webex": {"app_prompt": True}})
    assert r.wait_finished()[:2] == ("completed", "MEETING_ENDED"), r.logs[-15:]
    assert [e.data["click"] for e in events(sim, r, "browser_join_clicked")][:2] == [1, 2]
    submitted = events(sim, r, "guest_form_submitted")
    assert submitted and submitted[0].data["name"] == BOT_NAME and "@" in submitted[0].data["email"]
    assert events(sim, r, "prejoin_shown")[-1].data == {"client": "main_page"}
    assert {"Alice Johnson", BOT_NAME} <= {name for name, _ in r.joined}
    assert r.speaker_names() == {"Alice Johnson"}, r.speakers


def test_webex_joins_the_classic_client_in_its_frame(run, sim):
    """Webex "Three places for the client" (docs/PLATFORMS.md;
    aws-samples/amazon-transcribe-live-meeting-assistant
    lma-virtual-participant-stack/backend/src/webex.ts): the classic client runs inside
    #unified-webclient-iframe. A bot that only reads the top document never finds the form."""
    r = run("webex", {**MEETING, "webex": {"client": "iframe"}})
    assert r.wait_finished()[:2] == ("completed", "MEETING_ENDED"), r.logs[-15:]
    assert events(sim, r, "prejoin_shown")[-1].data == {"client": "iframe"}
    assert loud_seconds(r.audio()) > 1.0


# --- every platform -------------------------------------------------------------------------


@pytest.mark.parametrize("launch", ["navigate", "frame"])
@pytest.mark.parametrize("platform", ["teams", "zoom", "webex"])
def test_desktop_app_links_never_leave_the_page(run, sim, platform, launch):
    """"Desktop-app links must never leave the page" (docs/PLATFORMS.md;
    aws-samples/amazon-transcribe-live-meeting-assistant
    lma-virtual-participant-stack/backend/src/lib/profile.ts): the Teams launcher, the Zoom
    landing page and the Webex app chooser hand the meeting to msteams:, zoommtg: and webex:
    links. None may reach the system (the simulator stands in for its handlers) or take the
    page away, and the bot must go on joining whichever way the page tries (moving itself to
    the link, or a hidden frame). A bot that lets links through opens the desktop app."""
    launch_platform = platform
    r = run(platform, {**MEETING, launch_platform: {"desktop_app_launch": launch}})
    outcome = r.wait_finished(required=False)
    attempted = [e.data["url"] for e in events(sim, r, "app_launch_attempted")]
    assert attempted, "the page never tried its desktop app"
    opened = [e.data["url"] for e in sim.control.events("desktop_app_opened") if e.time >= r.started]
    assert not opened, f"desktop-app links reached the system: {opened}"
    assert not events(sim, r, "app_launch_observed")
    assert outcome is not None and ADMITTED in r.phases, (
        f"after the page tried {attempted[0]} the bot never got into the meeting "
        f"(phases {r.phases}, outcome {outcome}); log: {r.logs[-6:]}")


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_bot_holds_the_microphone_and_sends_only_silence(run, sim, platform):
    """"Give the page a microphone, then mute it in the page" (docs/PLATFORMS.md;
    attendee-labs/attendee bots/web_bot_adapter/web_bot_adapter.py): the page must get the
    microphone permission (Zoom and Teams play no audio without it), and what it captures
    must be silence. A bot that refuses the microphone fails the first check; one that gives
    the page a real or noisy device fails the second."""
    r = run(platform, MEETING)
    r.wait_finished()
    permission = [e.data for e in events(sim, r, "mic_permission")]
    assert permission and all(p["granted"] for p in permission), permission
    levels = [e.data for e in events(sim, r, "mic_level")]
    assert levels and levels[-1]["running"] and levels[-1]["samples"] > 10, levels
    assert max(level["max_rms"] for level in levels) <= 1e-4, levels


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_bot_page_looks_like_desktop_chrome_in_english(run, sim, platform):
    """"Look like an ordinary desktop Chrome" (docs/PLATFORMS.md; Vexa-ai/vexa
    core/meetings/modules/join/src/browser-args.ts, joinly-ai/joinly
    joinly/providers/browser/browser_session.py): a Chrome user agent without "QtWebEngine",
    navigator.webdriver false, navigator.language "en-US". QtWebEngine's own agent names itself."""
    r = run(platform, {**MEETING, "meeting_ends_at": None, "lobby": {"wait_s": 0, "outcome": "never"}})
    r.qtbot.waitUntil(lambda: bool(events(sim, r, "browser_identity")), timeout=20_000)
    r.bot.leave()
    identities = [e.data for e in events(sim, r, "browser_identity")]
    for identity in identities:
        assert "Chrome/" in identity["user_agent"] and "QtWebEngine" not in identity["user_agent"], identity
        assert "HeadlessChrome" not in identity["user_agent"], identity
        assert identity["webdriver"] is False and identity["language"] == "en-US", identity
