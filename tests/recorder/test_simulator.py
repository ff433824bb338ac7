"""The meeting simulator: its HTTPS server, scenarios, speech, control API, and its four
imitation web clients driven in real QtWebEngine pages with real in-page WebRTC audio."""
from __future__ import annotations

import base64
import http.client
import json
import socket
import ssl
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import av
import numpy as np
import pytest

# QtWebEngine must be imported before the QApplication exists (it shares OpenGL contexts).
from PySide6.QtCore import QCoreApplication, QCryptographicHash, QEvent, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QKeyEvent, QMouseEvent
from PySide6.QtWebEngineCore import (
    QWebEnginePage,
    QWebEnginePermission,
    QWebEngineProfile,
    QWebEngineScript,
    QWebEngineSettings,
)
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QApplication
from pytestqt.exceptions import TimeoutError as WaitTimeout

from app.links import parse_meeting_link
from app.models import Platform
from recorder.simulator import MeetingSimulator, ScenarioError, builtin_scenario_names, load_scenario, testing
from recorder.simulator.scenario import SCENARIO_DIR, scenario_from_dict

# Chromium's flags are fixed when the first QApplication starts (pytest-qt keeps one for the
# whole run), so the host mapping is set while the module is imported, before any test.
SIM_PORT = testing.configure_qtwebengine()

REQUIRED_SCENARIOS = {"default", "denied", "lobby_forever", "removed", "everyone_leaves",
                      "sign_in_required", "blocked", "invalid_meeting", "long_meeting", "never_loads"}


# --- plain HTTPS --------------------------------------------------------------------------


class _SimConnection(http.client.HTTPSConnection):
    """Connects to the simulator's port while presenting (and verifying) a platform host name."""

    def __init__(self, host: str, port: int, context: ssl.SSLContext, timeout: float = 10) -> None:
        super().__init__(host, port, context=context, timeout=timeout)

    def connect(self) -> None:
        raw = socket.create_connection(("127.0.0.1", self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)


def request(sim: MeetingSimulator, url: str, method: str = "GET", body: dict | None = None,
            host_header: str | None = None, timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    context = ssl.create_default_context(cadata=sim.cert_pem)
    conn = _SimConnection(parts.hostname, sim.port, context, timeout)
    headers = {"Host": host_header or parts.hostname}
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def open_session(sim: MeetingSimulator, href: str) -> tuple[int, dict]:
    host = urlsplit(href).hostname
    status, _, body = request(sim, f"https://{host}/__sim/session", "POST", {"href": href}, timeout=30)
    return status, json.loads(body)


@pytest.fixture(scope="module")
def speech_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("speech")


@pytest.fixture(scope="module")
def sim(speech_dir):
    with MeetingSimulator(cache_dir=speech_dir) as server:
        yield server


def test_each_start_makes_a_fresh_certificate_for_every_platform_host(speech_dir):
    first = MeetingSimulator(cache_dir=speech_dir).start()
    second = MeetingSimulator(cache_dir=speech_dir).start()
    try:
        assert first.cert_fingerprint != second.cert_fingerprint
        assert first.port != second.port
        # Verification against the generated certificate succeeds for each platform host ...
        for platform in Platform:
            host = urlsplit(first.example_link(platform)).hostname
            status, _, _ = request(first, first.example_link(platform))
            assert status in (200, 302), host
        # ... and fails against the other server's certificate.
        with pytest.raises(ssl.SSLCertVerificationError):
            context = ssl.create_default_context(cadata=second.cert_pem)
            conn = _SimConnection("meet.google.com", first.port, context)
            conn.request("GET", "/abc-defg-hij")
    finally:
        first.stop()
        second.stop()


@pytest.mark.parametrize("url, landmark", [
    ("https://teams.microsoft.com/dl/launcher/launcher.html?url=/_", b"Continue on this browser"),
    ("https://teams.microsoft.com/light-meetings/launch?anon=true&coords=e30", b'data-tid="prejoin-display-name-input"'),
    ("https://teams.cloud.microsoft/v2/?meetingjoin=true", b'data-tid="toggle-mute"'),
    ("https://gov.teams.microsoft.us/light-meetings/launch", b'data-tid="prejoin-join-button"'),
    ("https://zoom.us/j/1234567890?pwd=sim", b"Join from your browser"),
    ("https://us05web.zoom.com/j/1234567890", b"Launch Meeting"),
    ("https://app.zoom.us/wc/1234567890/join?pwd=sim", b'id="input-for-name"'),
    ("https://app.zoom.com/wc/join/1234567890", b'class="zm-btn preview-join-button'),
    ("https://us05web.zoom.us/my/sim.room", b'class="meeting-app"'),
    ("https://meet.google.com/abc-defg-hij?hl=en", b'aria-label="Your name"'),
    ("https://meet.google.com/lookup/teamsync", b'jsname="CQylAd"'),
    ("https://acme.webex.com/acme/j.php?MTID=m123abc", b'id="broadcom-center-right"'),
    ("https://sim.webex.com/meet/simroom", b'id="unified-webclient-iframe"'),
    ("https://sim.webex.com/webappng/sites/sim/meeting/preloader.html?MTID=m1&runInOwnPage=true",
     b'aria-labelledby="nameLabel"'),
    ("https://sim.webex.com/__sim/static/webex/client.html", b'data-test="join-button"'),
    ("https://login.microsoftonline.com/common/oauth2/v2.0/authorize", b'name="loginfmt"'),
    ("https://accounts.google.com/v3/signin/identifier", b"to continue to Google Meet"),
])
def test_serves_each_platform_web_client_by_host(sim, url, landmark):
    status, headers, body = request(sim, url)
    assert status == 200
    assert headers["content-type"].startswith("text/html")
    assert landmark in body


def test_teams_links_pass_through_the_launcher_to_light_meetings(sim):
    """docs/PLATFORMS.md Teams "Behaviours": anonymous joins go launcher.html -> light-meetings."""
    link = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_x%40thread.v2/0?context=%7b%7d"
    status, headers, _ = request(sim, link)
    assert status == 302
    location = headers["location"]
    assert location.startswith("/dl/launcher/launcher.html?url=/_#/l/meetup-join/19%3ameeting_x%40thread.v2/0?context=%7b%7d&")
    status, headers, _ = request(sim, "https://teams.live.com/meet/9876543210?p=xyz")
    assert status == 302 and headers["location"].startswith("/dl/launcher/launcher.html?url=/_#/meet/9876543210?p=xyz&anon=true")
    # The launcher's page learns where the light-meetings client is, with coords as the service writes them.
    _, config = open_session(sim, "https://teams.microsoft.com" + location)
    assert config["meeting_id"] == "19:meeting_x@thread.v2"
    light = config["links"]["light_meetings"]
    assert light.startswith("https://teams.microsoft.com/light-meetings/launch?anon=true&coords=")
    coords = json.loads(base64.b64decode(parse_qs(urlsplit(light).query)["coords"][0]))
    assert coords == {"conversationId": "19:meeting_x@thread.v2", "tenantId": "sim-tenant",
                      "organizerId": "sim-organizer", "messageId": "0"}
    assert config["links"]["app"].startswith("msteams:/l/meetup-join/")
    _, light_config = open_session(sim, light)
    assert light_config["meeting_id"] == "19:meeting_x@thread.v2"
    assert "lightExperience=false" in light_config["links"]["light_disabled"]


def test_zoom_links_open_the_landing_page_that_offers_the_web_client(sim):
    for link, client in [("https://zoom.us/j/1234567890?pwd=sim", "https://app.zoom.us/wc/1234567890/join?pwd=sim"),
                         ("https://zoomgov.com/j/1234567890", "https://app.zoomgov.com/wc/1234567890/join"),
                         ("https://zoom.com/j/1234567890", "https://app.zoom.us/wc/1234567890/join")]:
        status, _, body = request(sim, link)
        assert status == 200 and b"Launch Meeting - Zoom" in body
        _, config = open_session(sim, link)
        assert config["links"]["web_client"] == client
        assert config["links"]["app"].startswith("zoommtg://zoom.us/join?action=join&confno=1234567890")


def test_unknown_hosts_paths_and_files_are_refused(sim):
    status, _, _ = request(sim, "https://meet.google.com/", host_header="evil.example")
    assert status == 421
    status, _, _ = request(sim, "https://teams.microsoft.com/some/other/page")
    assert status == 404
    status, _, _ = request(sim, "https://meet.google.com/__sim/static/../../../pyproject.toml")
    assert status == 404
    status, _, _ = request(sim, "https://meet.google.com/__sim/speech/../../etc.wav")
    assert status == 404


def test_host_mapping_covers_every_example_link_and_its_web_client(sim):
    rules = sim.host_resolver_rules().split(", ")
    assert all(rule.startswith("MAP ") and rule.endswith(f" 127.0.0.1:{sim.port}") for rule in rules)
    patterns = {rule.split()[1] for rule in rules}
    assert patterns == sim.mapped_hosts()
    assert {"teams.microsoft.com", "teams.cloud.microsoft", "*.zoom.us", "zoom.com", "*.zoom.com",
            "meet.google.com", "*.webex.com"} <= patterns
    assert sim.chromium_flags() == f'--host-resolver-rules="{sim.host_resolver_rules()}"'
    for platform in Platform:
        link = parse_meeting_link(sim.example_link(platform))
        assert link.platform == platform.value
        assert sim.is_mapped_host(urlsplit(link.join_url).hostname)
        status, _, _ = request(sim, link.join_url)
        assert status in (200, 302), link.join_url
    assert not sim.is_mapped_host("teams.microsoft.com.evil.example")
    assert not sim.is_mapped_host("google.com")


def test_a_link_can_select_its_own_scenario(sim):
    for platform in Platform:
        link = parse_meeting_link(sim.example_link(platform, scenario="denied"))
        status, config = open_session(sim, link.join_url)
        assert status == 200
        assert (config["scenario"], config["meeting_id"]) == ("denied", link.meeting_id)
        assert config["lobby"]["outcome"] == "denied"
        # The server's own scenario still plays for every other meeting.
        status, config = open_session(sim, parse_meeting_link(sim.example_link(platform)).join_url)
        assert config["scenario"] == "default"
    teams = sim.example_link(Platform.TEAMS) + "&scenario=removed"
    assert open_session(sim, teams)[1]["scenario"] == "removed"
    status, config = open_session(sim, sim.example_link(Platform.TEAMS) + "&scenario=nope")
    assert status == 400
    assert "Unknown scenario 'nope'" in config["error"]


def test_page_config_carries_the_timeline_and_speech(sim):
    status, config = open_session(sim, "https://meet.google.com/abc-defg-hij")
    assert status == 200
    assert [p["name"] for p in config["participants"]] == ["Alice Johnson", "Bob Smith"]
    assert config["meeting_ends_at"] == 28
    assert config["sign_in_url"].startswith("https://accounts.google.com/")
    for line in config["speech"]:
        status, headers, wav = request(sim, "https://meet.google.com" + line["url"])
        assert status == 200 and headers["content-type"] == "audio/wav"
        assert wav[:4] == b"RIFF"
        assert 1.0 < line["duration_s"] < 8.0
    # The real pages' behaviours are on unless a scenario turns one off.
    assert config["options"] == {"join_button": "default", "dialog": "recording", "toolbar_hides_after_s": 5.0}
    assert config["visit"]["load_index"] >= 1


def test_the_zoom_host_starts_the_meeting_after_a_delay_seen_only_by_a_new_page_load(sim):
    """docs/PLATFORMS.md Zoom "Behaviours": host-not-started; the page must be reloaded."""
    starts = scenario_from_dict({"zoom": {"host_starts_after_s": 0.6}}, name="starts_soon")
    link = sim.example_link(Platform.ZOOM, starts)
    web_client = open_session(sim, link)[1]["links"]["web_client"]
    first = open_session(sim, web_client)[1]["visit"]
    assert (first["load_index"], first["host_started"]) == (2, False)
    time.sleep(0.7)
    again = open_session(sim, web_client)[1]["visit"]
    assert (again["load_index"], again["host_started"]) == (3, True)
    never = sim.example_link(Platform.ZOOM, scenario_from_dict({"zoom": {"host_starts_after_s": None}}, name="never"))
    assert open_session(sim, never)[1]["visit"]["host_started"] is False
    assert open_session(sim, parse_meeting_link(sim.example_link(Platform.ZOOM, "lobby_forever")).join_url)[1][
        "visit"]["host_started"] is True


def test_teams_sends_each_meeting_to_light_experience_false_once_and_records_the_retry(sim):
    """docs/PLATFORMS.md Teams "Behaviours": A retries the join after lightExperience=false."""
    link = sim.example_link(Platform.TEAMS, "default")
    launcher = "https://teams.microsoft.com" + request(sim, link)[1]["location"]
    light = open_session(sim, launcher)[1]["links"]["light_meetings"]
    first = open_session(sim, light)[1]
    assert first["visit"]["light_redirect"] is True
    disabled = open_session(sim, first["links"]["light_disabled"])[1]
    assert disabled["visit"]["light_redirect"] is False
    assert sim.control.events("join_retried", page_id=disabled["page_id"]) == []
    retried = open_session(sim, launcher)[1]
    assert sim.control.last_event("join_retried", page_id=retried["page_id"]).data == {"href": launcher}
    assert open_session(sim, light)[1]["visit"]["light_redirect"] is False
    off = sim.example_link(Platform.TEAMS, scenario_from_dict({"teams": {"light_experience_redirect": False}}, name="off"))
    off_light = open_session(sim, "https://teams.microsoft.com" + request(sim, off)[1]["location"])[1]["links"]["light_meetings"]
    assert open_session(sim, off_light)[1]["visit"]["light_redirect"] is False


def test_webex_links_choose_the_client_in_the_page_or_in_its_frame(sim):
    """docs/PLATFORMS.md Webex "Three places for the client"."""
    jphp = sim.example_link(Platform.WEBEX, "default")
    assert urlsplit(jphp).path == "/sim/j.php"
    links = open_session(sim, jphp)[1]["links"]
    assert links["client"] == "main_page" and "/meeting/preloader.html?" in links["browser"]
    assert b'aria-labelledby="nameLabel"' in request(sim, links["browser"])[2]
    classic = sim.example_link(Platform.WEBEX, scenario_from_dict({"webex": {"client": "iframe"}}, name="classic"))
    links = open_session(sim, classic)[1]["links"]
    assert links["client"] == "iframe" and "/meeting/info/" in links["browser"]
    assert b'id="unified-webclient-iframe"' in request(sim, links["browser"])[2]
    assert b'id="unified-webclient-iframe"' in request(sim, "https://sim.webex.com/meet/simroom")[2]


def test_never_loads_holds_the_page_until_the_server_stops(speech_dir):
    server = MeetingSimulator("never_loads", cache_dir=speech_dir).start()
    try:
        with pytest.raises(TimeoutError):
            request(server, "https://meet.google.com/abc-defg-hij", timeout=1.5)
    finally:
        started = time.monotonic()
        server.stop()
    assert time.monotonic() - started < 5


def test_events_and_commands_reach_the_right_page(sim):
    _, first = open_session(sim, "https://meet.google.com/abc-defg-hij")
    _, second = open_session(sim, "https://meet.google.com/abc-defg-hij")
    status, _, _ = request(sim, "https://meet.google.com/__sim/events", "POST",
                           {"page_id": first["page_id"], "type": "join_requested",
                            "data": {"name": "Bot", "mic_on": False, "camera_on": False}})
    assert status == 200
    event = sim.control.wait_for_event("join_requested", timeout=1, page_id=first["page_id"])
    assert event.platform == "google_meet" and event.data == {"name": "Bot", "mic_on": False, "camera_on": False}
    assert sim.control.events("join_requested", page_id=second["page_id"]) == []

    assert sim.control.end_meeting(first["page_id"]) == 1
    commands_url = "https://meet.google.com/__sim/commands?page="
    assert json.loads(request(sim, commands_url + first["page_id"])[2]) == {"commands": ["end_meeting"]}
    assert json.loads(request(sim, commands_url + first["page_id"])[2]) == {"commands": []}
    assert json.loads(request(sim, commands_url + second["page_id"])[2]) == {"commands": []}

    for bad in ({"page_id": "nope", "type": "x"}, {"page_id": first["page_id"], "type": "Bad Type!"},
                {"page_id": first["page_id"], "type": "ok", "data": [1]}):
        assert request(sim, "https://meet.google.com/__sim/events", "POST", bad)[0] == 400
    with pytest.raises(ValueError, match="unknown simulator command"):
        sim.control.send("explode")
    with pytest.raises(TimeoutError):
        sim.control.wait_for_event("never_sent", timeout=0.2)


# --- scenarios and speech -----------------------------------------------------------------


def test_builtin_scenarios_all_load_and_validate():
    names = set(builtin_scenario_names())
    assert REQUIRED_SCENARIOS <= names
    for name in names:
        assert load_scenario(name).name == name
    default = load_scenario("default")
    assert default.lobby.outcome == "admitted" and 1 <= default.lobby.wait_s <= 3
    assert {p.name for p in default.participants} == {"Alice Johnson", "Bob Smith"}
    assert sorted(line.who for line in default.speech) == ["alice", "alice", "bob", "bob"]
    assert 25 <= default.meeting_ends_at <= 30
    assert len({p.voice for p in default.participants}) == 2
    assert load_scenario("denied").lobby.outcome == "denied"
    assert load_scenario("lobby_forever").lobby.outcome == "never"
    assert load_scenario("removed").bot_removed_at is not None
    assert all(p.leaves_at for p in load_scenario("everyone_leaves").participants)
    assert load_scenario("long_meeting").speech_repeat_every_s and load_scenario("long_meeting").meeting_ends_at is None
    assert default.platforms.zoom.host_starts_after_s == 3
    assert load_scenario("lobby_forever").platforms.zoom.host_starts_after_s == 0
    assert load_scenario("zoom_host_never_starts").platforms.zoom.host_starts_after_s is None
    assert load_scenario("meet_join_here_too").platforms.google_meet.join_button == "join_here_too"
    options = scenario_from_dict({"google_meet": {"dialog": None}, "webex": {"client": "iframe"}}, name="x").platforms
    assert (options.google_meet.dialog, options.webex.client, options.teams.light_experience_redirect) == (None, "iframe", True)
    for name, access in [("sign_in_required", "sign_in_required"), ("blocked", "blocked"),
                         ("invalid_meeting", "invalid_meeting"), ("never_loads", "never_loads")]:
        assert load_scenario(name).access == access


ALICE = {"id": "alice", "name": "Alice", "voice": "en-us"}


@pytest.mark.parametrize("data, message", [
    ([], "scenario: must be an object"),
    ({"lobby": {"outcome": "maybe"}}, "lobby.outcome: 'maybe' is not one of admitted, denied, never"),
    ({"lobby": {"wait_s": -1}}, "lobby.wait_s: must be a number of seconds"),
    ({"access": "open", "colour": "red"}, "scenario: unknown field 'colour'"),
    ({"participants": [{"id": "alice", "name": "Alice"}]}, "participants[0].voice: is required"),
    ({"participants": [{**ALICE, "voice": "en us; rm"}]}, "participants[0].voice: 'en us; rm' is not an espeak-ng voice"),
    ({"participants": [ALICE, ALICE]}, "participants: id 'alice' is used more than once"),
    ({"participants": [{**ALICE, "joins_at": 5, "leaves_at": 2}]}, "participants[0].leaves_at: must be later"),
    ({"participants": [ALICE], "speech": [{"at": 1, "who": "bob", "text": "Hi"}]},
     "speech[0].who: unknown participant 'bob'"),
    ({"participants": [{**ALICE, "joins_at": 10}], "speech": [{"at": 1, "who": "alice", "text": "Hi"}]},
     "speech[0].at: 'alice' is not in the meeting at 1.0 s"),
    ({"participants": [ALICE], "speech": [{"at": 1, "who": "alice", "text": "  "}]},
     "speech[0].text: must be a non-empty string"),
    ({"participants": [ALICE], "speech": [{"at": 9, "who": "alice", "text": "Hi"}], "speech_repeat_every_s": 5},
     "speech_repeat_every_s: must be longer"),
    ({"meeting_ends_at": "soon"}, "meeting_ends_at: must be a number of seconds"),
    ({"participants": [ALICE], "speech": [{"at": None, "who": "alice", "text": "Hi"}]},
     "speech[0].at: must be a number of seconds"),
    ({"description": 7}, "scenario.description: must be a string"),
    ({"network_cut": {"seconds": 5}}, "network_cut.at: is required"),
    ({"network_cut": {"at": 3, "seconds": 0}}, "network_cut.seconds: must be greater than 0"),
    ({"network_cut": {"at": 3, "for": 5}}, "network_cut: unknown field 'for'"),
    ({"zoom": {"host_starts_after_s": "later"}}, "zoom.host_starts_after_s: must be a number of seconds"),
    ({"zoom": {"toolbar_hides_after_s": 0}}, "zoom.toolbar_hides_after_s: must be greater than 0"),
    ({"zoom": {"not_started_screen": "x"}}, "zoom.not_started_screen: 'x' is not one of invalid_link, waiting_for_host"),
    ({"teams": {"launcher": "app"}}, "teams.launcher: 'app' is not one of prompt, direct"),
    ({"teams": {"light_experience_redirect": "yes"}}, "teams.light_experience_redirect: must be true or false"),
    ({"teams": {"colour": 1}}, "teams: unknown field 'colour'"),
    ({"google_meet": {"dialog": "popup"}}, "google_meet.dialog: 'popup' is not one of recording, gemini"),
    ({"google_meet": {"join_button": "Join"}}, "google_meet.join_button: 'Join' is not one of default, join_here_too"),
    ({"webex": {"client": "thin"}}, "webex.client: 'thin' is not one of main_page, iframe"),
    ({"webex": []}, "webex: must be an object"),
])
def test_a_bad_scenario_gives_a_clear_error(data, message):
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(data, name="broken")
    assert message in str(caught.value)


def test_bad_scenario_files_and_names_name_the_problem(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"lobby": {"wait_s": 1,}}')
    with pytest.raises(ScenarioError, match=r"broken\.json is not valid JSON"):
        load_scenario(broken)
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"lobby": {"outcome": "later"}}')
    with pytest.raises(ScenarioError, match=r"wrong\.json: lobby\.outcome"):
        load_scenario(wrong)
    with pytest.raises(ScenarioError, match="Unknown scenario 'nope'; built-in scenarios: blocked, default"):
        load_scenario("nope")
    with pytest.raises(ScenarioError, match="cannot be read"):
        load_scenario(tmp_path / "missing.json")
    with pytest.raises(ScenarioError, match="Unknown scenario"):
        MeetingSimulator("nope")


def decode(path: Path) -> tuple[np.ndarray, int]:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        frames = [frame.to_ndarray().astype(np.float32).reshape(-1) for frame in container.decode(stream)]
        return np.concatenate(frames) / 32768.0, stream.rate


def test_speech_is_generated_once_per_voice_and_text_and_decodes(tmp_path):
    from recorder.simulator.speech import SpeechLibrary

    library = SpeechLibrary(tmp_path / "cache")
    clip = library.render("en-us+f3", "The quarterly report is ready.")
    samples, rate = decode(clip.path)
    assert abs(len(samples) / rate - clip.duration_s) < 0.05
    assert 1.0 < clip.duration_s < 5.0
    assert float(np.sqrt(np.mean(samples ** 2))) > 0.01
    written = clip.path.stat().st_mtime_ns
    again = library.render("en-us+f3", "The quarterly report is ready.")
    assert again.key == clip.key and again.path.stat().st_mtime_ns == written
    other = library.render("en-gb+m3", "The quarterly report is ready.")
    assert other.key != clip.key
    assert not np.array_equal(decode(other.path)[0][:2000], samples[:2000])
    assert library.path_for(clip.key) == clip.path
    assert library.path_for("../../etc/passwd") is None
    assert list((tmp_path / "cache").glob("*.part")) == []


def test_an_unknown_voice_is_a_clear_speech_error(tmp_path):
    from recorder.simulator.speech import SpeechError, SpeechLibrary

    with pytest.raises(SpeechError, match="voice 'zz-nothing'"):
        SpeechLibrary(tmp_path).render("zz-nothing", "Hello")
    assert list(tmp_path.iterdir()) == []


# --- the web clients in QtWebEngine ---------------------------------------------------------
# The pages are driven directly: by script (what a naive bot does) and by real mouse and key
# events sent to the view (what a person does); the simulator's events say what the page saw.

# Probe a test injects like a recorder would: wraps RTCPeerConnection before the page runs and
# measures every remote audio track it delivers, mixed (as a bot that taps all tracks would).
PROBE = """
(() => {
  const probe = window.__probe = { tracks: 0, streams: [], maxRms: 0 };
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('track', (e) => {
        if (e.track.kind !== 'audio') return;
        probe.tracks += 1;
        probe.streams.push(e.streams[0] ? e.streams[0].id : '');
        const ctx = new AudioContext();
        const analyser = ctx.createAnalyser();
        analyser.fftSize = 2048;
        ctx.createMediaStreamSource(new MediaStream([e.track])).connect(analyser);
        const buf = new Float32Array(analyser.fftSize);
        setInterval(() => {
          analyser.getFloatTimeDomainData(buf);
          let sum = 0;
          for (const v of buf) sum += v * v;
          probe.maxRms = Math.max(probe.maxRms, Math.sqrt(sum / buf.length));
        }, 50);
      });
    }
  };
})();
"""

# A microphone that plays a tone instead of the device: what a bot that sends sound looks like.
TONE_MICROPHONE = """
(() => {
  navigator.mediaDevices.getUserMedia = async () => {
    const ctx = new AudioContext();
    const osc = ctx.createOscillator();
    const dest = ctx.createMediaStreamDestination();
    osc.connect(dest);
    osc.start();
    return dest.stream;
  };
})();
"""

# Short timeline for the browser tests: lobby, two speakers, then the host ends the meeting.
FAST = {
    "lobby": {"wait_s": 1, "outcome": "admitted"},
    "participants": [
        {"id": "alice", "name": "Alice Johnson", "voice": "en-us+f3"},
        {"id": "bob", "name": "Bob Smith", "voice": "en-gb+m3", "joins_at": 1},
    ],
    "speech": [
        {"at": 0.5, "who": "alice", "text": "Good morning everyone."},
        {"at": 3.5, "who": "bob", "text": "The release is ready."},
    ],
    "meeting_ends_at": 9,
}
BOT = "Meeting Buddy Bot"
# Behaviours a test does not look at are switched off, so each test shows its own.
QUIET = {"teams": {"light_experience_redirect": False, "launcher": "direct"},
         "zoom": {"host_starts_after_s": 0}, "google_meet": {"dialog": None}, "webex": {"app_prompt": False}}


@pytest.fixture(scope="module")
def browser_sim(speech_dir):
    with MeetingSimulator(cache_dir=speech_dir, port=SIM_PORT) as server:
        yield server


class SimPage(QWebEnginePage):
    """A browser page that trusts the simulator's certificate on mapped hosts only, grants the
    microphone when told to (never the camera), and never leaves the web."""

    def __init__(self, profile: QWebEngineProfile, simulator: MeetingSimulator, microphone: bool) -> None:
        super().__init__(profile)
        self.simulator = simulator
        self.microphone = microphone
        self.rejected: list[str] = []
        self.refused_urls: list[str] = []
        self.console: list[str] = []
        self.certificateError.connect(self._on_certificate_error)
        self.permissionRequested.connect(self._on_permission)
        # Every address comes through acceptNavigationRequest, desktop-app links included.
        self.settings().setUnknownUrlSchemePolicy(QWebEngineSettings.UnknownUrlSchemePolicy.AllowAllUnknownUrlSchemes)

    def acceptNavigationRequest(self, url, kind, is_main_frame) -> bool:
        if url.scheme() in ("https", "http", "about", "data", "blob"):
            return True
        self.refused_urls.append(url.toString())
        return False

    def javaScriptConsoleMessage(self, level, message, line, source) -> None:
        self.console.append(f"{source}:{line}: {message}")

    def _on_permission(self, permission) -> None:
        if self.microphone and permission.permissionType() == QWebEnginePermission.PermissionType.MediaAudioCapture:
            permission.grant()
        else:
            permission.deny()

    def _on_certificate_error(self, error) -> None:
        chain = error.certificateChain()
        fingerprint = bytes(chain[0].digest(QCryptographicHash.Algorithm.Sha256).toHex()).decode() if chain else ""
        if self.simulator.is_mapped_host(error.url().host()) and fingerprint == self.simulator.cert_fingerprint:
            error.acceptCertificate()
        else:
            self.rejected.append(error.url().toString())
            error.rejectCertificate()


class JavaScriptFailed(AssertionError):
    """A script run in the test page gave no value."""


class Browser:
    def __init__(self, qtbot, simulator: MeetingSimulator, microphone: bool = True, tone: bool = False) -> None:
        self.qtbot = qtbot
        self.profile = QWebEngineProfile()  # off the record: nothing kept between tests
        for name, source in [("probe", PROBE)] + ([("tone", TONE_MICROPHONE)] if tone else []):
            script = QWebEngineScript()
            script.setName(name)
            script.setSourceCode(source)
            script.setInjectionPoint(QWebEngineScript.InjectionPoint.DocumentCreation)
            script.setWorldId(QWebEngineScript.ScriptWorldId.MainWorld)
            script.setRunsOnSubFrames(True)
            self.profile.scripts().insert(script)
        self.page = SimPage(self.profile, simulator, microphone)
        self.page.settings().setAttribute(QWebEngineSettings.WebAttribute.PlaybackRequiresUserGesture, False)
        self.page.setAudioMuted(True)
        self.view = QWebEngineView()
        self.view.setPage(self.page)
        self.view.resize(1280, 800)
        self.view.show()
        self.doc = "document"

    def load(self, url: str) -> None:
        self.page.load(QUrl(url))

    def js(self, script: str):
        """Runs an expression in the page; its value comes back through JSON."""
        box: list = []
        self.page.runJavaScript(f"JSON.stringify(({script}) ?? null)", 0, box.append)
        try:
            self.qtbot.waitUntil(lambda: bool(box), timeout=10_000)
        except WaitTimeout:
            # A script sent while the page navigates to another site gets no answer at all.
            raise JavaScriptFailed(script) from None
        if not isinstance(box[0], str) or not box[0]:
            # No value: the script threw, or the page was between documents.
            raise JavaScriptFailed(script)
        return json.loads(box[0])

    def wait(self, expression: str, timeout: float = 15, what: str = ""):
        deadline = time.monotonic() + timeout
        while True:
            try:
                # An element found counts as true (elements do not cross as JSON).
                result = self.js(f"(() => {{ try {{ const d = {self.doc}; const r = ({expression});"
                                 " return r && r.nodeType ? true : r; } catch (e) { return null; } })()")
            except JavaScriptFailed:
                result = None  # navigating
            if result:
                return result
            if time.monotonic() > deadline:
                console = "\n".join(self.page.console[-20:])
                events = "\n".join(f"{e.type} {e.data}" for e in self.page.simulator.control.events()[-15:])
                raise AssertionError(f"timed out waiting for {what or expression}; page console:\n{console}\n"
                                     f"simulator events:\n{events}")
            self.qtbot.wait(100)

    def check(self, expression: str):
        return self.js(f"(() => {{ const d = {self.doc}; return ({expression}); }})()")

    def visible_text(self, text: str) -> str:
        return f"d.body.innerText.includes({json.dumps(text)})"

    def visible(self, selector: str) -> str:
        return (f"(() => {{ const e = d.querySelector({json.dumps(selector)}); if (!e || !e.getClientRects().length)"
                " return false; return e.ownerDocument.defaultView.getComputedStyle(e).visibility !== 'hidden'; })()")

    # Script-made input: what pages that want real input ignore.
    def click(self, selector: str) -> None:
        assert self.check(f"!!d.querySelector({json.dumps(selector)})"), selector
        self.js(f"{self.doc}.querySelector({json.dumps(selector)}).click()")

    def click_text(self, text: str) -> None:
        found = self.check(
            f"(() => {{ const b = [...d.querySelectorAll('button, a, [role=button]')].find((x) => x.getClientRects().length && x.textContent.trim() === {json.dumps(text)});"
            " if (b) b.click(); return !!b; })()")
        assert found, f"no visible button {text!r}"

    def type_into(self, selector: str, value: str) -> None:
        # As a script fills a form: set the value, then fire the input event frameworks listen to.
        self.js(f"""(() => {{ const d = {self.doc}; const i = d.querySelector({json.dumps(selector)});
            const setter = Object.getOwnPropertyDescriptor(d.defaultView.HTMLInputElement.prototype, 'value').set;
            setter.call(i, {json.dumps(value)}); i.dispatchEvent(new d.defaultView.Event('input', {{bubbles: true}})); }})()""")

    # Real input: Qt mouse and key events, which Chromium turns into trusted DOM events.
    def _target(self):
        return self.view.focusProxy() or self.view

    def _mouse(self, kind, x: float, y: float, button, buttons) -> None:
        target = self._target()
        event = QMouseEvent(kind, QPointF(x, y), QPointF(target.mapToGlobal(QPoint(round(x), round(y)))),
                            button, buttons, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(target, event)

    def centre(self, selector: str) -> tuple[float, float]:
        x, y = self.check(f"""(() => {{ const e = d.querySelector({json.dumps(selector)});
            e.scrollIntoView({{block: 'center'}}); const r = e.getBoundingClientRect();
            let x = r.left + r.width / 2, y = r.top + r.height / 2, w = e.ownerDocument.defaultView;
            while (w !== window && w.frameElement) {{ const f = w.frameElement.getBoundingClientRect();
              x += f.left; y += f.top; w = w.parent; }}
            return [x, y]; }})()""")
        return x, y

    def move_pointer(self, x: float = 640, y: float = 400) -> None:
        self._mouse(QEvent.Type.MouseMove, x, y, Qt.MouseButton.NoButton, Qt.MouseButton.NoButton)
        self.qtbot.wait(50)

    def real_click(self, selector: str) -> None:
        x, y = self.centre(selector)
        self.move_pointer(x, y)
        self._mouse(QEvent.Type.MouseButtonPress, x, y, Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton)
        self._mouse(QEvent.Type.MouseButtonRelease, x, y, Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton)
        self.qtbot.wait(150)

    def real_click_until(self, selector: str, expression: str, tries: int = 4) -> None:
        """Clicks until the page shows the effect (a frame just shown may miss the first click)."""
        for _ in range(tries):
            self.real_click(selector)
            try:
                self.wait(expression, timeout=1.5)
                return
            except AssertionError:
                continue
        raise AssertionError(f"clicking {selector} never led to {expression}")

    def real_type(self, selector: str, text: str) -> None:
        self.real_click(selector)
        for char in text:
            key = ord(char.upper()) if char.isascii() and char.isalnum() else (Qt.Key.Key_Space if char == " " else 0)
            for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                QApplication.sendEvent(self._target(), QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier, char))
        self.qtbot.wait(200)

    def probe(self) -> dict:
        window = "window" if self.doc == "document" else f"{self.doc}.defaultView"
        return self.js(f"JSON.parse(JSON.stringify({window}.__probe))")

    def close(self) -> None:
        self.view.close()
        # The page must be gone before its profile is.
        for obj in (self.view, self.page, self.profile):
            obj.deleteLater()
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.fixture
def open_browser(qtbot, browser_sim):
    opened: list[Browser] = []

    def make(microphone: bool = True, tone: bool = False) -> Browser:
        opened.append(Browser(qtbot, browser_sim, microphone=microphone, tone=tone))
        return opened[-1]

    yield make
    for browser in opened:
        browser.close()


@pytest.fixture
def browser(open_browser):
    return open_browser()


def scenario(data: dict, *, quiet: bool = True, name: str = "browser-test"):
    merged = {**QUIET, **data} if quiet else data
    return scenario_from_dict(merged, name=name)


def last_page(sim: MeetingSimulator, meeting_id: str, path_part: str = "") -> str:
    pages = [page for page in sim.control.pages_for(meeting_id) if path_part in page.href]
    assert pages, f"no page opened for {meeting_id} ({path_part})"
    return pages[-1].page_id


def meeting_events(sim: MeetingSimulator, meeting_id: str, event_type: str) -> list:
    pages = {page.page_id for page in sim.control.pages_for(meeting_id)}
    return [e for e in sim.control.events(event_type) if e.page_id in pages]


def assert_audio_flowed(browser: Browser, tracks: int) -> None:
    browser.qtbot.waitUntil(lambda: browser.probe()["maxRms"] > 0.01, timeout=10_000)
    assert browser.probe()["tracks"] == tracks


def test_meet_ignores_script_made_input_and_joins_with_real_input(browser, browser_sim):
    """docs/PLATFORMS.md Meet: "Real input only"; names in span.notranslate; the dialog on
    admission; a self-preview [data-participant-id] before admission; the bar hides."""
    sim = browser_sim
    data = {**FAST, "google_meet": {"dialog": "recording", "toolbar_hides_after_s": 1.5}}
    link = parse_meeting_link(sim.example_link(Platform.GOOGLE_MEET, scenario(data)))
    browser.load(link.join_url)
    browser.wait(browser.visible('input[aria-label="Your name"]'), what="the pre-join form")
    preview = "[...d.querySelectorAll('[data-participant-id]')].filter((e) => e.getClientRects().length)"
    assert browser.check(f"{preview}.map((e) => e.getAttribute('aria-label'))") == [
        "visual_effects Backgrounds and effects"]                # the self-preview has one too
    # A script's value, and a script's click on a button it enabled itself, do nothing.
    browser.type_into('input[aria-label="Your name"]', BOT)
    assert browser.check("d.getElementById('join-button').disabled")
    browser.js("(() => { const b = document.getElementById('join-button'); b.disabled = false; b.click(); })()")
    browser.click('[data-prejoin-toggle="mic"]')
    browser.qtbot.wait(500)
    page = last_page(sim, link.meeting_id)
    assert sim.control.events("join_requested", page) == []
    assert browser.check("d.querySelector('[data-prejoin-toggle=mic]').getAttribute('aria-label')") == "Turn off microphone"
    ignored = {(e.data["type"], e.data["target"]) for e in sim.control.events("untrusted_event_ignored", page)}
    assert {("input", "name"), ("click", "join"), ("click", "mic")} <= ignored
    # Real input does what a person does.
    browser.js("document.querySelector('input[aria-label=\"Your name\"]').value = ''")
    browser.real_type('input[aria-label="Your name"]', BOT)
    browser.wait("!d.getElementById('join-button').disabled", what="Join enabled by typing")
    browser.real_click('[data-prejoin-toggle="mic"]')
    assert browser.check("d.querySelector('[data-prejoin-toggle=mic]').getAttribute('aria-label')") == "Turn on microphone"
    assert browser.check("d.querySelector('[data-prejoin-toggle=camera]').getAttribute('aria-label')") == "Turn on camera"
    assert browser.check("d.getElementById('join-button').textContent") == "Ask to join"
    browser.real_click("#join-button")
    browser.wait(browser.visible_text("Asking to be let in"), what="the lobby")
    assert browser.check(browser.visible('button[aria-label="Leave call"]'))
    assert not browser.check("!!d.querySelector('#screen-lobby [jsname=CQylAd]')")

    browser.wait(browser.visible('#meeting-dialog div[aria-modal="true"][role="dialog"]'), what="the recording dialog")
    assert browser.check("d.querySelectorAll('.stage [data-participant-id]').length") >= 2
    names = browser.check("[...d.querySelectorAll('.stage [data-participant-id] span.notranslate')].map((n) => n.textContent)")
    assert names[0] == BOT and "Alice Johnson" in names
    browser.click('button[data-mdc-dialog-action="ok"]')      # a script's click leaves it open
    browser.qtbot.wait(300)
    assert browser.check(browser.visible('#meeting-dialog div[aria-modal="true"][role="dialog"]'))
    assert browser.probe()["tracks"] == 0                      # the call's audio waits for it
    browser.real_click('button[data-mdc-dialog-action="ok"]')
    browser.wait("!" + browser.visible('#meeting-dialog div[aria-modal="true"][role="dialog"]'), what="the dialog to close")
    assert sim.control.last_event("dialog_confirmed", page).data == {"kind": "recording"}
    assert_audio_flowed(browser, tracks=3)                     # Meet: rotating remote tracks
    speaker = browser.wait("d.querySelector('.stage [data-participant-id] .level-indicator.HX2H7, "
                           ".stage [data-participant-id] .level-indicator.Oaajhc, .stage [data-participant-id] "
                           ".level-indicator.wEsLMd, .stage [data-participant-id] .level-indicator.OgVli')"
                           "?.closest('[data-participant-id]').querySelector('span.notranslate').textContent",
                           what="a speaking tile")
    assert speaker in ("Alice Johnson", "Bob Smith")
    # Without pointer movement the bar hides; a real move brings it back.
    browser.wait("!" + browser.visible('button[jsname="CQylAd"][aria-label="Leave call"]'), what="the bar to hide")
    browser.move_pointer(500, 300)
    browser.wait(browser.visible('button[jsname="CQylAd"][aria-label="Leave call"]'), what="the bar back")
    browser.wait(browser.visible_text("Your host ended the meeting for everyone"), timeout=20, what="the end")
    assert browser.check("!!d.querySelector('.roSPhc')")
    joined = sim.control.events("join_requested", page)
    assert [e.data for e in joined] == [{"name": BOT, "mic_on": False, "camera_on": False}]
    assert sim.control.last_event("mic_permission", page).data == {"granted": True}
    assert sim.control.last_event("camera_permission", page).data == {"granted": False}


def test_meet_join_here_too_and_no_microphone_dialog(open_browser, browser_sim):
    """docs/PLATFORMS.md Meet: "Join here too"; "Continue without microphone and camera"
    appears only when the page has no microphone."""
    sim = browser_sim
    browser = open_browser(microphone=False)
    data = {**FAST, "lobby": {"wait_s": 0}, "google_meet": {"join_button": "join_here_too", "dialog": None}}
    link = parse_meeting_link(sim.example_link(Platform.GOOGLE_MEET, scenario(data)))
    browser.load(link.join_url)
    browser.wait(browser.visible_text("Continue without microphone and camera"), what="the no-microphone dialog")
    browser.real_type('input[aria-label="Your name"]', BOT)     # the dialog is in the way
    assert browser.check("d.querySelector('input[aria-label=\"Your name\"]').value") == ""
    browser.real_click("#continue-without-media")
    browser.real_type('input[aria-label="Your name"]', BOT)
    assert browser.check("d.getElementById('join-button').textContent") == "Join here too"
    browser.real_click("#join-button")
    browser.wait(browser.visible('button[jsname="CQylAd"][aria-label="Leave call"]'), what="the call")
    page = last_page(sim, link.meeting_id)
    assert sim.control.last_event("mic_permission", page).data["granted"] is False
    assert sim.control.events("lobby_entered", page) == []


def test_teams_launcher_light_experience_retry_switches_lobby_and_call(browser, browser_sim):
    """docs/PLATFORMS.md Teams "Behaviours": launcher -> light-meetings; lightExperience=false
    once per meeting; switches with checked/aria-checked; one mix plus a duplicate; outlines on
    every tile; the People pane; the anonymous end screen."""
    sim = browser_sim
    data = {**FAST, "meeting_ends_at": None, "teams": {"launcher": "prompt"}}
    link = parse_meeting_link(sim.example_link(Platform.TEAMS, scenario(data, quiet=False)))
    browser.load(link.join_url)
    browser.wait(browser.visible_text("Continue on this browser"), what="the launcher")
    assert "/dl/launcher/launcher.html" in browser.check("location.pathname")
    browser.qtbot.waitUntil(lambda: any(u.startswith("msteams:/l/meetup-join/") for u in browser.page.refused_urls))
    assert meeting_events(sim, link.meeting_id, "app_launch_attempted")
    assert not meeting_events(sim, link.meeting_id, "app_launch_observed")   # refused: the page stayed
    browser.click_text("Continue on this browser")
    browser.wait("location.search.includes('lightExperience=false')", what="the lightExperience=false address")
    browser.wait(browser.visible_text("Loading Microsoft Teams"))
    assert meeting_events(sim, link.meeting_id, "light_experience_redirect")
    assert not meeting_events(sim, link.meeting_id, "join_retried")
    # Starting the join over gets through this time.
    browser.load(link.join_url)
    browser.wait(browser.visible_text("Continue on this browser"), what="the launcher again")
    assert meeting_events(sim, link.meeting_id, "join_retried")
    browser.click_text("Continue on this browser")
    browser.wait(browser.visible('[data-tid="prejoin-display-name-input"]'), what="the pre-join")
    mic = "d.querySelector('input[type=checkbox][role=switch][data-tid=\"toggle-mute\"]')"
    browser.wait(f"{mic}.checked", what="the microphone switch on")
    assert browser.check(f"[{mic}.hasAttribute('checked'), {mic}.getAttribute('aria-checked')]") == [True, "true"]
    camera = "d.querySelector('[data-tid=\"toggle-video\"]')"
    assert browser.check(f"[{camera}.checked, {camera}.getAttribute('aria-checked')]") == [False, "false"]
    browser.click('[data-tid="prejoin-join-button"]')           # no name: it says so
    assert browser.check(browser.visible_text("Type your name to join"))
    browser.type_into('[data-tid="prejoin-display-name-input"]', BOT)
    browser.real_click('[data-tid="toggle-mute"]')
    assert browser.check(f"[{mic}.checked, {mic}.hasAttribute('checked'), {mic}.getAttribute('aria-checked')]") == [
        False, False, "false"]
    browser.click('[data-tid="prejoin-join-button"]')
    browser.wait(browser.visible_text("Someone will let you in soon"), what="the lobby")
    assert not browser.check(browser.visible("#hangup-button"))
    assert browser.check(browser.visible('[data-tid="prejoin-cancel-button"]'))

    browser.wait("d.querySelectorAll('[data-stream-type][data-tid]').length === 3", what="three tiles")
    for selector in ("#hangup-button", "#callingButtons-showMoreBtn", "#chat-button", "#roster-button"):
        assert browser.check(browser.visible(selector)), selector
    assert browser.check("d.querySelectorAll('[data-stream-type] [data-tid=\"voice-level-stream-outline\"]').length") == 3
    assert browser.check(f"!!d.querySelector('[data-stream-type][data-tid={json.dumps(BOT)}] [data-tid=\"myself-video\"]')")
    speaking = browser.wait("[...d.querySelectorAll('[data-tid=\"voice-level-stream-outline\"].vdi-frame-occlusion')]"
                            ".map((o) => o.closest('[data-stream-type]').dataset.tid)", what="a speaker's outline")
    assert speaking in (["Alice Johnson"], ["Bob Smith"])
    assert_audio_flowed(browser, tracks=2)
    streams = browser.probe()["streams"]
    assert len(streams) == 2 and streams[1].startswith("mainAudio") and not streams[0].startswith("mainAudio")
    assert browser.check("d.querySelectorAll('#remote-audio audio').length") == 1   # the page plays the mix only
    # The People pane is closed until #roster-button opens it.
    assert not browser.check(browser.visible('[data-cid="roster-participant"]'))
    browser.click("#roster-button")
    labels = browser.check("[...d.querySelectorAll('div[aria-label=\"Attendees\"][role=tree] [data-cid=\"roster-participant\"]')]"
                           ".map((n) => n.getAttribute('aria-label'))")
    assert [label.split(", ")[0] for label in labels] == [BOT, "Alice Johnson", "Bob Smith"]

    page = last_page(sim, link.meeting_id, "light-meetings")
    assert sim.control.last_event("join_requested", page).data == {"name": BOT, "mic_on": False, "camera_on": False}
    mic_level = sim.control.last_event("mic_level", page).data
    assert mic_level["running"] and mic_level["samples"] > 0 and mic_level["max_rms"] < 0.001
    assert sim.control.end_meeting(page) == 1
    browser.wait(browser.visible('[data-tid="anon-meeting-end-screen-rejoin-button"]'), what="the end screen")
    assert browser.check(browser.visible_text("This meeting has ended"))


def test_teams_without_the_microphone_shows_the_modal_and_plays_nothing(open_browser, browser_sim):
    """docs/PLATFORMS.md "Every platform": on Teams a denied permission brings up the
    "Continue without audio or video" modal that blocks the join; the call plays no audio."""
    sim = browser_sim
    browser = open_browser(microphone=False)
    link = parse_meeting_link(sim.example_link(Platform.TEAMS, scenario({**FAST, "lobby": {"wait_s": 0}})))
    browser.load(link.join_url)
    browser.wait(browser.visible_text("Continue without audio or video"), what="the modal")
    browser.type_into('[data-tid="prejoin-display-name-input"]', BOT)
    browser.click('[data-tid="prejoin-join-button"]')
    page = last_page(sim, link.meeting_id, "light-meetings")
    assert sim.control.events("join_requested", page) == []
    browser.click_text("Continue without audio or video")
    browser.click('[data-tid="prejoin-join-button"]')
    browser.wait(browser.visible("#hangup-button"), what="the call")
    browser.qtbot.wait(3000)
    assert sim.control.events("remote_track", page) == [] and browser.probe()["tracks"] == 0
    assert sim.control.last_event("mic_permission", page).data["granted"] is False


def zoom_preview(browser: Browser, link: str) -> None:
    browser.load(link)                                      # the zoom.us/j/ link: its landing page
    browser.wait(browser.visible("#join-from-browser"), what="the landing's browser offer")
    browser.click("#join-from-browser")
    browser.wait(browser.visible("#media-allow"), what="the media prompt")


def test_zoom_landing_host_not_started_then_prompts_typed_name_and_speaker_view(browser, browser_sim):
    """docs/PLATFORMS.md Zoom "Behaviours": host not started ("Error - Zoom"), seen only by a
    reload; "Allow" asked again for the microphone alone; Join disabled until the name is
    typed with keys; the waiting room inside .meeting-app; speaker view always shows someone;
    the footer hides; participants only in the opened panel; Leave takes a confirmation."""
    sim = browser_sim
    data = {**FAST, "meeting_ends_at": None, "zoom": {"host_starts_after_s": 2, "toolbar_hides_after_s": 2}}
    raw = sim.example_link(Platform.ZOOM, scenario(data, quiet=False))
    link = parse_meeting_link(raw)
    browser.load(raw)                                          # the zoom.us/j/ link: its landing page
    browser.wait(browser.visible("#join-from-browser"), what="the landing")
    browser.qtbot.waitUntil(lambda: any(u.startswith("zoommtg://") for u in browser.page.refused_urls))
    browser.click("#join-from-browser")
    browser.wait("d.title === 'Error - Zoom'", what="the host-not-started page")
    assert browser.check(browser.visible_text("This meeting link is invalid (3,001)"))
    browser.qtbot.wait(2500)                                   # the host starts; the page does not change
    assert browser.check("d.title") == "Error - Zoom"
    browser.page.triggerAction(QWebEnginePage.WebAction.Reload)
    browser.wait(browser.visible("#media-allow"), what="the preview after a reload")
    assert [e.data["load_index"] for e in meeting_events(sim, link.meeting_id, "not_started_shown")] == [2]
    # "Allow" asks for the camera too; refused, it asks again for the microphone alone.
    browser.click("#media-allow")
    browser.wait("d.getElementById('media-prompt-title').textContent === 'Use microphone'", what="the second prompt")
    browser.click("#media-allow")
    browser.wait("d.getElementById('media-prompt').hidden", what="the prompt answered")
    assert browser.check("d.getElementById('preview-audio-control-button').getAttribute('aria-label')") == "Mute"
    # A name set by script leaves Join disabled; typed with keys, it enables.
    browser.type_into("#input-for-name", BOT)
    browser.qtbot.wait(400)
    assert browser.check("d.querySelector('button.preview-join-button').classList.contains('disabled')")
    browser.click("button.preview-join-button")
    page = last_page(sim, link.meeting_id, "/wc/")
    browser.qtbot.waitUntil(lambda: sim.control.last_event("join_refused", page) is not None)
    browser.js("document.getElementById('input-for-name').value = ''")
    browser.real_type("#input-for-name", BOT)
    browser.wait("!d.querySelector('button.preview-join-button').classList.contains('disabled')", what="Join enabled")
    browser.real_click("#preview-audio-control-button")
    browser.click("button.preview-join-button")
    browser.wait(browser.visible_text("Please wait, the meeting host will let you in soon."), what="the waiting room")
    assert browser.check("!!d.querySelector('.meeting-app') && !" + browser.visible('button[aria-label="Leave"]'))

    browser.wait(browser.visible('button[aria-label="Leave"]'), what="the call's footer")
    frame = "d.querySelector('.speaker-active-container__video-frame .video-avatar__avatar-footer span')?.textContent"
    assert browser.wait(frame) == "Alice Johnson"               # before anyone speaks: someone is shown
    assert_audio_flowed(browser, tracks=1)
    browser.wait(f"{frame} === 'Bob Smith'", timeout=10, what="Bob in the frame")
    browser.qtbot.wait(4000)                                   # silence: the last speaker stays
    assert browser.check(frame) == "Bob Smith"
    assert not browser.check(browser.visible('button[aria-label="Leave"]'))   # the footer hid
    browser.move_pointer()
    browser.wait(browser.visible('button[aria-label="Leave"]'), what="the footer back")
    assert not browser.check(browser.visible("div.participants-li"))
    browser.real_click('button[aria-label*="participants" i]')
    labels = browser.check("[...d.querySelectorAll('div.participants-li')].map((n) => n.getAttribute('aria-label'))")
    assert [label.split(",")[0] for label in labels] == [f"{BOT} (Me)", "Alice Johnson (Host)", "Bob Smith"]
    browser.real_click('button[aria-label="Leave"]')
    browser.real_click("button.leave-meeting-options__btn--danger")
    browser.wait(browser.visible_text("You have left the meeting"), what="the left screen")
    assert sim.control.last_event("join_requested", page).data == {"name": BOT, "mic_on": False, "camera_on": False}
    assert sim.control.last_event("bot_left", page).data == {"via": "leave_button", "phase": "meeting"}


def test_zoom_creates_no_remote_audio_until_computer_audio_is_joined(browser, browser_sim):
    """docs/PLATFORMS.md "Every platform": Zoom creates no remote <audio> unless "Allow" is
    clicked with the microphone given; "Join Audio" in the call does it later."""
    sim = browser_sim
    zoom_preview(browser, sim.example_link(Platform.ZOOM, scenario({**FAST, "meeting_ends_at": None})))
    browser.click_text("Continue without microphone and camera")
    browser.real_type("#input-for-name", BOT)
    browser.wait("!d.querySelector('button.preview-join-button').classList.contains('disabled')", what="Join enabled")
    browser.click("button.preview-join-button")
    browser.wait(browser.visible('button[aria-label="Leave"]'), what="the call")
    browser.qtbot.wait(3000)
    assert browser.probe()["tracks"] == 0 and browser.check("d.querySelectorAll('audio').length") == 0
    browser.click('button[aria-label="join audio"]')
    assert_audio_flowed(browser, tracks=1)
    assert browser.check("d.querySelectorAll('#remote-audio audio').length") == 1


def test_webex_chooser_app_prompt_guest_form_and_join_screen_in_the_page(browser, browser_sim):
    """docs/PLATFORMS.md Webex "Behaviours": the app chooser's first click is spent on the
    webex: link; the newer client runs in the page with the guest form (name, email, Next),
    then #interstitial_join_btn; the active-speaker halo."""
    sim = browser_sim
    data = {**FAST, "meeting_ends_at": None, "webex": {"app_prompt": True}}
    link = parse_meeting_link(sim.example_link(Platform.WEBEX, scenario(data)))
    browser.load(link.join_url)
    browser.wait(browser.visible("#broadcom-center-right"), what="the app chooser")
    browser.real_click("#broadcom-center-right")
    browser.qtbot.waitUntil(lambda: any(u.startswith("webex://") for u in browser.page.refused_urls))
    assert browser.check(browser.visible("#broadcom-center-right"))     # the first click went to the app
    browser.real_click("#broadcom-center-right")
    browser.wait(browser.visible('input[aria-labelledby="nameLabel"]'), what="the guest form")
    assert browser.check("!document.getElementById('unified-webclient-iframe')")
    assert browser.check(browser.visible(".el-dialog__wrapper .el-dialog__close"))
    browser.type_into('input[aria-labelledby="nameLabel"]', BOT)
    browser.type_into('input[aria-labelledby="emailLabel"]', "bot@example.com")
    browser.click("#guest_next-btn")                            # the popup is in the way
    assert browser.check(browser.visible("#guest_next-btn"))
    browser.click(".el-dialog__wrapper .el-dialog__close")
    browser.click("#guest_next-btn")
    browser.wait(browser.visible("#interstitial_join_btn"), what="the join screen")
    browser.wait("d.querySelector('[data-test=\"microphone-button\"]').getAttribute('aria-label').includes('currently unmuted')")
    browser.click('[data-test="microphone-button"]')
    assert "currently muted" in browser.check("d.querySelector('[data-test=\"microphone-button\"]').getAttribute('aria-label')")
    assert browser.check("!!d.querySelector('button[data-doi*=\"START_VIDEO\"]:disabled')")   # no camera
    browser.click("#interstitial_join_btn")
    browser.wait(browser.visible('[data-test="in-meeting-chat-toggle-button"]'), timeout=20, what="the call")
    name = browser.wait("d.querySelector('.active-speaker-halo')?.closest('.participants-video-tile')"
                        ".querySelector('[data-test=\"participant-name\"]').textContent", what="the halo")
    assert name in ("Alice Johnson", "Bob Smith")
    assert_audio_flowed(browser, tracks=1)
    page = last_page(sim, link.meeting_id, "preloader.html")
    assert sim.control.last_event("guest_form_submitted", page).data == {"name": BOT, "email": "bot@example.com"}
    assert sim.control.last_event("join_requested", page).data == {"name": BOT, "mic_on": False, "camera_on": False}


def test_webex_classic_client_in_its_frame_admitted_by_command_then_removed(browser, browser_sim):
    sim = browser_sim
    held = {**FAST, "lobby": {"outcome": "never"}, "meeting_ends_at": None, "webex": {"client": "iframe"}}
    link = parse_meeting_link(sim.example_link(Platform.WEBEX, scenario(held)))
    browser.load(link.join_url)
    browser.wait(browser.visible("#broadcom-center-right"), what="the app chooser")
    browser.click("#broadcom-center-right")
    browser.click("#broadcom-center-right")
    browser.wait("document.getElementById('unified-webclient-iframe')?.contentDocument?.querySelector('[data-test=join-button]')?.getClientRects().length",
                 what="the classic form in the iframe")
    browser.doc = "document.getElementById('unified-webclient-iframe').contentDocument"
    assert browser.check("d.querySelector('[data-test=join-button]').disabled")
    browser.type_into('[data-test="Name (required)"]', BOT)
    browser.wait("d.querySelector('[data-test=\"microphone-button\"]').getAttribute('aria-label').includes('currently unmuted')")
    # Real input reaches into the frame.
    browser.real_click_until('[data-test="microphone-button"]',
                             "d.querySelector('[data-test=\"microphone-button\"]').getAttribute('aria-label').includes('currently muted')")
    browser.click('[data-test="join-button"]')
    browser.wait(browser.visible('[data-test="call_lobby_content"]'), what="the lobby")
    page = last_page(sim, link.meeting_id, "/meeting/info/")
    assert sim.control.admit(page) == 1
    browser.wait("d.querySelectorAll('[data-test=grid-layout] .participants-video-tile').length >= 2", what="tiles")
    browser.wait("d.querySelector('.participants-video-tile .active-speaker-halo')", what="the halo")
    assert_audio_flowed(browser, tracks=1)
    sim.control.remove_bot(page)
    browser.wait(browser.visible_text("You've been removed from the meeting."), what="the removed screen")
    assert sim.control.last_event("join_requested", page).data == {"name": BOT, "mic_on": False, "camera_on": False}
    assert sim.control.last_event("removed", page)


def test_people_leave_then_the_host_removes_the_bot_on_the_retry_screen(browser, browser_sim):
    sim = browser_sim
    leaving = {
        "lobby": {"wait_s": 0},
        "participants": [{"id": "alice", "name": "Alice Johnson", "voice": "en-us+f3", "leaves_at": 1},
                         {"id": "bob", "name": "Bob Smith", "voice": "en-gb+m3", "leaves_at": 1.5}],
        "bot_removed_at": 3,
    }
    link = parse_meeting_link(sim.example_link(Platform.TEAMS, scenario(leaving)))
    browser.load(link.join_url)
    browser.wait(browser.visible('[data-tid="prejoin-display-name-input"]'), what="the pre-join")
    browser.type_into('[data-tid="prejoin-display-name-input"]', BOT)
    browser.click('[data-tid="prejoin-join-button"]')
    # No lobby wait: straight into the meeting, where the others soon leave the bot alone.
    browser.wait("d.querySelectorAll('[data-stream-type][data-tid]').length === 3", what="three people")
    browser.wait("d.querySelectorAll('[data-stream-type][data-tid]').length === 1", what="the bot alone")
    browser.wait(browser.visible("#calling-retry-screen-title"), what="the retry screen")
    assert browser.check("d.getElementById('calling-retry-screen-title').textContent") == "You've been removed from this meeting"
    assert browser.check(browser.visible('[data-tid="calling-retry-cancelbutton"]'))
    page = last_page(sim, link.meeting_id, "light-meetings")
    assert [e.data["id"] for e in sim.control.events("participant_left", page)] == ["alice", "bob"]
    assert sim.control.last_event("removed", page)


def test_the_page_measures_what_its_microphone_sends(open_browser, browser_sim):
    """The simulator's record of the bot's outgoing audio: max RMS of the page's own capture."""
    sim = browser_sim
    browser = open_browser(tone=True)
    link = parse_meeting_link(sim.example_link(Platform.GOOGLE_MEET, scenario(FAST)))
    browser.load(link.join_url)
    browser.wait(browser.visible('input[aria-label="Your name"]'))
    page = last_page(sim, link.meeting_id)
    browser.qtbot.waitUntil(lambda: (sim.control.last_event("mic_level", page) or _NO_LEVEL).data["max_rms"] > 0.1,
                            timeout=10_000)
    identity = sim.control.last_event("browser_identity", page).data
    assert set(identity) == {"user_agent", "webdriver", "language", "languages", "framed"}


class _NoLevel:
    data = {"max_rms": 0.0}


_NO_LEVEL = _NoLevel()


@pytest.mark.parametrize("platform, scenario_name, expect", [
    (Platform.TEAMS, "denied", "title:Sorry, but you were denied access to the meeting."),
    (Platform.TEAMS, "declined", "title:Your request to join was declined"),
    (Platform.TEAMS, "blocked", "Verify you're a real person"),
    (Platform.TEAMS, "invalid_meeting", "Looks like the meeting URL is incorrect"),
    (Platform.TEAMS, "sign_in_required", "url:login.microsoftonline.com"),
    (Platform.GOOGLE_MEET, "sign_in_required", "url:accounts.google.com"),
    (Platform.GOOGLE_MEET, "invalid_meeting", "Check your meeting code"),
    (Platform.GOOGLE_MEET, "blocked", "You can't join this video call"),
    (Platform.ZOOM, "sign_in_required", "Sign in to join this meeting"),
    (Platform.ZOOM, "invalid_meeting", "Passcode wrong"),
    (Platform.ZOOM, "blocked", "Automated bots aren't allowed"),
    (Platform.ZOOM, "denied", "You have been removed"),
    (Platform.WEBEX, "invalid_meeting", "This meeting link is not valid"),
])
def test_refusal_screens(browser, browser_sim, platform, scenario_name, expect):
    sim = browser_sim
    file = "denied" if scenario_name == "declined" else scenario_name
    data = json.loads((SCENARIO_DIR / f"{file}.json").read_text())
    data.pop("description")
    data = {**QUIET, **data, "zoom": {"host_starts_after_s": 0}}
    if scenario_name == "declined":
        data["teams"] = {**QUIET["teams"], "denied_text": "declined"}
    chosen = scenario_from_dict(data, name=file)
    raw = sim.example_link(platform, chosen)
    link = parse_meeting_link(raw)
    browser.load(raw)
    if platform is Platform.ZOOM:
        browser.wait(browser.visible("#join-from-browser"), what="the landing")
        browser.click("#join-from-browser")
        if scenario_name != "sign_in_required":
            browser.wait(browser.visible("#media-allow"), what="the media prompt")
            browser.click("#media-continue-without")
            browser.real_type("#input-for-name", BOT)
            browser.wait("!d.querySelector('button.preview-join-button').classList.contains('disabled')")
            browser.click("button.preview-join-button")
    if platform is Platform.TEAMS and scenario_name in ("denied", "declined", "blocked"):
        browser.wait(browser.visible('[data-tid="prejoin-display-name-input"]'), what="the pre-join")
        browser.type_into('[data-tid="prejoin-display-name-input"]', BOT)
        browser.click('[data-tid="prejoin-join-button"]')
    kind, _, value = expect.partition(":") if expect.startswith(("url:", "title:")) else ("text", "", expect)
    if kind == "url":
        browser.wait(f"location.hostname === {json.dumps(value)} && {browser.visible_text('Sign in')}", what=value)
        browser.qtbot.waitUntil(lambda: bool(meeting_events(sim, link.meeting_id, "sign_in_shown")))
    elif kind == "title":
        browser.wait(f"d.getElementById('calling-retry-screen-title')?.textContent === {json.dumps(value)}", what=value)
        assert browser.check(browser.visible('[data-tid="calling-retry-cancelbutton"]'))
    else:
        browser.wait(browser.visible_text(value), what=value)
