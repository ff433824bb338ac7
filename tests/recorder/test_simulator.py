"""The meeting simulator: its HTTPS server, scenarios, speech, control API, and its four
imitation web clients driven in real QtWebEngine pages with real in-page WebRTC audio."""
from __future__ import annotations

import http.client
import json
import socket
import ssl
import time
from pathlib import Path
from urllib.parse import urlsplit

import av
import numpy as np
import pytest

# QtWebEngine must be imported before the QApplication exists (it shares OpenGL contexts).
from PySide6.QtCore import QCoreApplication, QCryptographicHash, QEvent, QUrl
from PySide6.QtWebEngineCore import (
    QWebEnginePage,
    QWebEngineProfile,
    QWebEngineScript,
    QWebEngineSettings,
)
from PySide6.QtWebEngineWidgets import QWebEngineView

from app.links import parse_meeting_link
from app.models import Platform
from recorder.simulator import MeetingSimulator, ScenarioError, builtin_scenario_names, load_scenario, testing
from recorder.simulator.scenario import scenario_from_dict

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
    ("https://teams.microsoft.com/l/meetup-join/19%3ameeting_x%40thread.v2/0?context=%7b%7d",
     b'data-tid="prejoin-display-name-input"'),
    ("https://teams.microsoft.com/meet/2345678901234?p=abc", b'data-tid="joinOnWeb"'),
    ("https://teams.live.com/meet/9876543210?p=xyz", b'data-tid="toggle-mute"'),
    ("https://gov.teams.microsoft.us/l/meetup-join/19%3ameeting_y%40thread.v2/0", b'data-tid="prejoin-join-button"'),
    ("https://app.zoom.us/wc/1234567890/join?pwd=sim", b'id="input-for-name"'),
    ("https://us05web.zoom.us/my/sim.room", b'class="preview-join-button'),
    ("https://meet.google.com/abc-defg-hij", b'aria-label="Your name"'),
    ("https://meet.google.com/lookup/teamsync", b'aria-label="Your name"'),
    ("https://sim.webex.com/meet/simroom", b'id="unified-webclient-iframe"'),
    ("https://acme.webex.com/acme/j.php?MTID=m123abc", b'id="unified-webclient-iframe"'),
    ("https://sim.webex.com/__sim/static/webex/client.html", b'data-test="join-button"'),
    ("https://login.microsoftonline.com/common/oauth2/v2.0/authorize", b'name="loginfmt"'),
    ("https://accounts.google.com/v3/signin/identifier", b"to continue to Google Meet"),
])
def test_serves_each_platform_web_client_by_host(sim, url, landmark):
    status, headers, body = request(sim, url)
    assert status == 200
    assert headers["content-type"].startswith("text/html")
    assert landmark in body


def test_zoom_launcher_links_redirect_to_the_web_client(sim):
    status, headers, _ = request(sim, "https://zoom.us/j/1234567890?pwd=sim")
    assert status == 302
    assert headers["location"] == "https://app.zoom.us/wc/1234567890/join?pwd=sim"
    status, headers, _ = request(sim, "https://zoomgov.com/j/1234567890")
    assert headers["location"] == "https://app.zoomgov.com/wc/1234567890/join"


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
    assert {"teams.microsoft.com", "*.zoom.us", "meet.google.com", "*.webex.com"} <= patterns
    assert sim.chromium_flags() == f'--host-resolver-rules="{sim.host_resolver_rules()}"'
    for platform in Platform:
        link = parse_meeting_link(sim.example_link(platform))
        assert link.platform == platform.value
        assert sim.is_mapped_host(urlsplit(link.join_url).hostname)
        status, _, _ = request(sim, link.join_url)
        assert status == 200, link.join_url
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

# Probe a test injects like a recorder would: wraps RTCPeerConnection before the page runs
# and measures each remote audio track it delivers.
PROBE = """
(() => {
  const probe = window.__probe = { tracks: 0, maxRms: 0 };
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('track', (e) => {
        if (e.track.kind !== 'audio') return;
        probe.tracks += 1;
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


@pytest.fixture(scope="module")
def browser_sim(speech_dir):
    with MeetingSimulator(cache_dir=speech_dir, port=SIM_PORT) as server:
        yield server


class SimPage(QWebEnginePage):
    """A browser page that trusts the simulator's certificate on mapped hosts only."""

    def __init__(self, profile: QWebEngineProfile, simulator: MeetingSimulator) -> None:
        super().__init__(profile)
        self.simulator = simulator
        self.rejected: list[str] = []
        self.console: list[str] = []
        self.certificateError.connect(self._on_certificate_error)

    def javaScriptConsoleMessage(self, level, message, line, source) -> None:
        self.console.append(f"{source}:{line}: {message}")

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
    def __init__(self, qtbot, simulator: MeetingSimulator) -> None:
        self.qtbot = qtbot
        self.profile = QWebEngineProfile()  # off the record: nothing kept between tests
        probe = QWebEngineScript()
        probe.setName("probe")
        probe.setSourceCode(PROBE)
        probe.setInjectionPoint(QWebEngineScript.InjectionPoint.DocumentCreation)
        probe.setWorldId(QWebEngineScript.ScriptWorldId.MainWorld)
        probe.setRunsOnSubFrames(True)
        self.profile.scripts().insert(probe)
        self.page = SimPage(self.profile, simulator)
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
        self.qtbot.waitUntil(lambda: bool(box), timeout=10_000)
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

    def click(self, selector: str) -> None:
        assert self.check(f"!!d.querySelector({json.dumps(selector)})"), selector
        self.js(f"{self.doc}.querySelector({json.dumps(selector)}).click()")

    def click_text(self, text: str) -> None:
        found = self.check(
            f"(() => {{ const b = [...d.querySelectorAll('button')].find((x) => x.getClientRects().length && x.textContent.trim() === {json.dumps(text)});"
            " if (b) b.click(); return !!b; })()")
        assert found, f"no visible button {text!r}"

    def type_into(self, selector: str, value: str) -> None:
        # As a user's typing does: set the value, then fire the input event frameworks listen to.
        self.js(f"""(() => {{ const d = {self.doc}; const i = d.querySelector({json.dumps(selector)});
            const setter = Object.getOwnPropertyDescriptor(d.defaultView.HTMLInputElement.prototype, 'value').set;
            setter.call(i, {json.dumps(value)}); i.dispatchEvent(new d.defaultView.Event('input', {{bubbles: true}})); }})()""")

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
def browser(qtbot, browser_sim):
    opened = Browser(qtbot, browser_sim)
    yield opened
    opened.close()


def page_id_for(sim: MeetingSimulator, meeting_id: str) -> str:
    pages = [page for page in sim.control.pages() if page.meeting_id == meeting_id]
    assert pages, f"no page opened for {meeting_id}"
    return pages[-1].page_id


def assert_audio_flowed(browser: Browser, tracks: int) -> None:
    browser.qtbot.waitUntil(lambda: browser.probe()["maxRms"] > 0.01, timeout=10_000)
    assert browser.probe()["tracks"] == tracks


def test_meet_prejoin_lobby_admission_speech_and_end(browser, browser_sim):
    sim = browser_sim
    link = parse_meeting_link(sim.example_link(Platform.GOOGLE_MEET, scenario_from_dict(FAST, name="fast")))
    browser.load(link.join_url)
    browser.wait("d.getElementById('continue-without-media').getClientRects().length", what="the media dialog")
    browser.type_into('input[aria-label="Your name"]', BOT)
    browser.click("#join-button")  # a modal dialog is open: the click does nothing
    browser.click_text("Continue without microphone and camera")
    # Continuing without media turns both off; the labels offer to turn them on.
    assert browser.check("d.querySelector('[data-prejoin-toggle=mic]').getAttribute('aria-label')") == "Turn on microphone"
    browser.click('button[aria-label="Turn on camera"]')
    assert browser.check("!!d.querySelector('button[aria-label=\"Turn off camera\"]')")
    browser.click('button[aria-label="Turn off camera"]')
    assert browser.check("d.getElementById('join-button').textContent") == "Ask to join"
    browser.click_text("Ask to join")

    browser.wait(browser.visible_text("Asking to be let in"), what="the lobby")
    assert browser.check(browser.visible_text("You'll join the call when someone lets you in"))
    # The lobby already has Leave and mic buttons, but no tiles.
    assert browser.check("[...d.querySelectorAll('button[aria-label=\"Leave call\"]')].some((b) => b.getClientRects().length)")
    assert browser.check("[...d.querySelectorAll('button[aria-label=\"Turn on microphone\"]')].some((b) => b.getClientRects().length)")
    assert browser.check("d.querySelectorAll('[data-participant-id]').length") == 0

    browser.wait("d.querySelectorAll('#screen-meeting .stage [data-participant-id]').length === 3", what="three tiles")
    names = browser.check("[...d.querySelectorAll('[role=listitem] .participant-name')].map((n) => n.textContent)")
    assert names == [BOT, "Alice Johnson", "Bob Smith"]
    assert browser.check("!!d.querySelector('button[aria-label=\"Share screen\"]')")
    speaker = browser.wait("d.querySelector('.stage [data-participant-id][data-audio-level].speaking')"
                           "?.getAttribute('data-requested-participant-id')", what="a speaking tile")
    assert speaker in ("alice", "bob")
    assert_audio_flowed(browser, tracks=3)  # Meet: several rotating remote tracks
    assert browser.check("d.querySelectorAll('#remote-audio audio').length") == 3
    browser.wait("!d.querySelector('.stage [data-audio-level]')", what="the speaking indicator to go off")

    browser.wait(browser.visible_text("Your host ended the meeting for everyone"), timeout=20, what="the end")
    page = page_id_for(sim, link.meeting_id)
    joined = sim.control.last_event("join_requested", page)
    assert joined.data == {"name": BOT, "mic_on": False, "camera_on": False}
    assert sim.control.events("join_requested", page) == [joined]  # the blocked click sent nothing
    spoken = [(e.data["who"], e.data["text"]) for e in sim.control.events("speech_started", page)]
    assert spoken == [("alice", "Good morning everyone."), ("bob", "The release is ready.")]
    assert sim.control.last_event("meeting_ended", page)
    assert browser.page.rejected == []


def test_teams_launcher_prejoin_toggles_lobby_speaking_and_end_command(browser, browser_sim):
    sim = browser_sim
    link = parse_meeting_link(sim.example_link(Platform.TEAMS, scenario_from_dict(
        {**FAST, "meeting_ends_at": None}, name="fast_open_ended")))
    browser.load(link.join_url)
    browser.wait("d.querySelector('[data-tid=joinOnWeb]')?.getClientRects().length", what="the launcher")
    browser.click_text("Continue on this browser")
    browser.wait(browser.visible_text("Continue without audio or video"), what="the audio/video dialog")
    browser.click_text("Continue without audio or video")
    join = '[data-tid="prejoin-join-button"]'
    assert browser.check(f"d.querySelector('{join}').disabled")
    browser.type_into('[data-tid="prejoin-display-name-input"]', BOT)
    assert not browser.check(f"d.querySelector('{join}').disabled")
    for tid in ("toggle-mute", "toggle-video"):
        assert browser.check(f"d.querySelector('[data-tid={tid}]').getAttribute('aria-checked')") == "true"
        browser.click(f'[data-tid="{tid}"]')
        assert browser.check(f"d.querySelector('[data-tid={tid}]').getAttribute('aria-checked')") == "false"
    assert browser.check(browser.visible_text("Computer audio"))
    browser.click(join)

    browser.wait(browser.visible_text("Someone will let you in shortly"), what="the lobby")
    assert browser.check(browser.visible_text("You're in the lobby"))
    browser.wait("d.querySelector('[data-tid=\"video-gallery\"] [data-tid=\"video-tile\"]')", what="tiles")
    assert not browser.check(browser.visible_text("Someone will let you in shortly"))
    assert browser.check("d.querySelector('#hangup-button[data-tid=\"hangup-main-btn\"][aria-label=\"Leave\"]').getClientRects().length > 0")
    browser.wait("d.querySelectorAll('[data-tid=\"roster-participant\"]').length === 3", what="three in the roster")
    assert BOT in browser.check("d.querySelector('[data-tid=\"people-pane\"]').innerText")
    browser.wait("d.querySelector('[data-tid=\"video-tile\"] [data-tid=\"voice-level-stream-outline\"]')", what="voice outline")
    assert_audio_flowed(browser, tracks=1)  # Teams: one mixed stream
    browser.wait("!d.querySelector('[data-tid=\"voice-level-stream-outline\"]')", what="the outline to go off")

    page = page_id_for(sim, link.meeting_id)
    assert sim.control.last_event("join_requested", page).data == {"name": BOT, "mic_on": False, "camera_on": False}
    assert sim.control.end_meeting(page) == 1
    browser.wait(browser.visible_text("Meeting ended"), what="the ended screen")
    assert sim.control.last_event("meeting_ended", page)


def test_zoom_media_prompt_waiting_room_active_speaker_and_leave(browser, browser_sim):
    sim = browser_sim
    link = parse_meeting_link(sim.example_link(Platform.ZOOM, scenario_from_dict(FAST, name="fast")))
    browser.load(link.join_url)
    browser.wait("d.getElementById('media-allow').getClientRects().length", what="the media prompt")
    assert browser.check("d.getElementById('input-for-pwd').hidden")  # the link carries the passcode
    browser.click_text("Allow")
    browser.click('#preview-audio-control-button[aria-label="Mute"]')
    browser.click('#preview-video-control-button[aria-label="Stop Video"]')
    assert browser.check("d.getElementById('preview-audio-control-button').getAttribute('aria-label')") == "Unmute"
    browser.type_into("#input-for-name", BOT)
    browser.click("button.preview-join-button")
    browser.wait(browser.visible_text("Please wait, the meeting host will let you in soon."), what="the waiting room")
    browser.wait(browser.visible_text("3 participants"), what="the footer count")
    assert BOT in browser.check("[...d.querySelectorAll('.participants-item__display-name')].map((n) => n.textContent)")
    frame = browser.wait("d.querySelector('.speaker-active-container__video-frame .video-avatar__avatar-name')?.textContent",
                         what="the active speaker frame")
    assert frame in ("Alice Johnson", "Bob Smith")
    assert_audio_flowed(browser, tracks=1)
    browser.click('button[aria-label="Leave"]')
    browser.wait(browser.visible_text("You have left the meeting"), what="the left screen")
    page = page_id_for(sim, link.meeting_id)
    assert sim.control.last_event("join_requested", page).data == {"name": BOT, "mic_on": False, "camera_on": False}
    assert sim.control.last_event("bot_left", page).data == {"via": "leave_button", "phase": "meeting"}


def test_webex_in_iframe_admitted_by_command_then_removed(browser, browser_sim):
    sim = browser_sim
    held = {**FAST, "lobby": {"outcome": "never"}, "meeting_ends_at": None}
    link = parse_meeting_link(sim.example_link(Platform.WEBEX, scenario_from_dict(held, name="held")))
    browser.load(link.join_url)
    browser.wait("document.getElementById('unified-webclient-iframe')?.contentDocument?.querySelector('[data-test=join-button]')?.getClientRects().length",
                 what="the guest form in the iframe")
    browser.doc = "document.getElementById('unified-webclient-iframe').contentDocument"
    browser.type_into('input[placeholder="Name (required)"]', BOT)
    assert browser.check("d.querySelector('[data-test=join-button]').disabled")  # the email is required too
    browser.type_into('input[placeholder="Email (required)"]', "bot@example.com")
    browser.click('[data-test="mute-button"]')
    browser.click('[data-test="camera-button"]')
    browser.click('[data-test="join-button"]')
    browser.wait("d.querySelector('[data-test=call_lobby_content]')?.getClientRects().length", what="the lobby")
    assert browser.check(browser.visible_text("The host will let you in"))
    page = page_id_for(sim, link.meeting_id)
    assert sim.control.admit(page) == 1
    browser.wait("d.querySelectorAll('[data-test=grid-layout] [data-test=participant-tile]').length >= 2", what="tiles")
    assert browser.check("!!d.querySelector('[data-test=participants-toggle-button]')")
    browser.wait("d.querySelector('[data-test=participant-tile] [data-test=speaking-indicator]')", what="speaking marker")
    assert_audio_flowed(browser, tracks=1)
    sim.control.remove_bot(page)
    browser.wait(browser.visible_text("You've been removed from the meeting."), what="the removed screen")
    assert sim.control.last_event("join_requested", page).data == {"name": BOT, "mic_on": False, "camera_on": False}
    assert sim.control.last_event("removed", page)


def test_people_leave_then_the_host_removes_the_bot(browser, browser_sim):
    sim = browser_sim
    leaving = {
        "lobby": {"wait_s": 0},
        "participants": [{"id": "alice", "name": "Alice Johnson", "voice": "en-us+f3", "leaves_at": 1},
                         {"id": "bob", "name": "Bob Smith", "voice": "en-gb+m3", "leaves_at": 1.5}],
        "bot_removed_at": 3,
    }
    link = parse_meeting_link(sim.example_link(Platform.TEAMS, scenario_from_dict(leaving, name="leaving")))
    browser.load(link.join_url)
    browser.wait("d.querySelector('[data-tid=joinOnWeb]')?.getClientRects().length", what="the launcher")
    browser.click_text("Continue on this browser")
    browser.wait(browser.visible_text("Continue without audio or video"))
    browser.click_text("Continue without audio or video")
    browser.type_into('[data-tid="prejoin-display-name-input"]', BOT)
    browser.click('[data-tid="prejoin-join-button"]')
    # No lobby wait: straight into the meeting, where the others soon leave the bot alone.
    browser.wait("d.querySelector('[data-tid=roster-count]').textContent === '3'", what="three people")
    browser.wait("d.querySelector('[data-tid=roster-count]').textContent === '1'", what="the bot alone")
    assert browser.check("[...d.querySelectorAll('[data-tid=roster-participant] .roster-item-name')].map((n) => n.textContent)") == [BOT]
    browser.wait("d.getElementById('calling-retry-screen-title')?.getClientRects().length", what="the removed screen")
    assert browser.check("d.getElementById('calling-retry-screen-title').textContent") == "You've been removed from this meeting"
    page = page_id_for(sim, link.meeting_id)
    assert [e.data["id"] for e in sim.control.events("participant_left", page)] == ["alice", "bob"]
    assert sim.control.events("lobby_entered", page) == []
    assert sim.control.last_event("removed", page)


@pytest.mark.parametrize("platform, scenario, expect", [
    (Platform.TEAMS, "denied", "Sorry, but you were denied access to the meeting."),
    (Platform.TEAMS, "blocked", "Verify you're a real person"),
    (Platform.TEAMS, "sign_in_required", "url:login.microsoftonline.com"),
    (Platform.GOOGLE_MEET, "sign_in_required", "url:accounts.google.com"),
    (Platform.GOOGLE_MEET, "invalid_meeting", "Check your meeting code"),
    (Platform.ZOOM, "invalid_meeting", "title:Error - Zoom"),
    (Platform.ZOOM, "blocked", "Automated bots aren't allowed"),
])
def test_refusal_screens(browser, browser_sim, platform, scenario, expect):
    sim = browser_sim
    link = parse_meeting_link(sim.example_link(platform, scenario))
    browser.load(link.join_url)
    if platform is Platform.TEAMS:
        browser.wait("d.querySelector('[data-tid=joinOnWeb]')?.getClientRects().length", what="the launcher")
        browser.click_text("Continue on this browser")
    if scenario in ("denied", "blocked") and platform is Platform.TEAMS:
        browser.wait(browser.visible_text("Continue without audio or video"))
        browser.click_text("Continue without audio or video")
        browser.type_into('[data-tid="prejoin-display-name-input"]', BOT)
        browser.click('[data-tid="prejoin-join-button"]')
    kind, _, value = expect.partition(":") if expect.startswith(("url:", "title:")) else ("text", "", expect)
    if kind == "url":
        browser.wait(f"location.hostname === {json.dumps(value)} && {browser.visible_text('Sign in')}", what=value)
        page = page_id_for(sim, link.meeting_id)
        browser.qtbot.waitUntil(lambda: sim.control.last_event("sign_in_shown", page) is not None)
    elif kind == "title":
        browser.wait(f"d.title === {json.dumps(value)} && {browser.visible_text('This meeting link is invalid (3,001)')}")
    else:
        browser.wait(browser.visible_text(value), what=value)
