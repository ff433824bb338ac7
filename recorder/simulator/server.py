"""The meeting simulator's HTTPS server: one imitation web client per platform, chosen by
the request's Host header, plus the small API the pages use (`/__sim/...`).

A browser reaches it through host mapping only (Chromium --host-resolver-rules), so pages
keep their real addresses and the bot's code is the same as against the real services.
"""
from __future__ import annotations

import json
import logging
import mimetypes
import socket
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from recorder.simulator import hosts
from recorder.simulator.certificate import SimulatorCertificate, make_certificate
from recorder.simulator.control import BadPageEvent, SimulatorControl
from recorder.simulator.hosts import Platform
from recorder.simulator.scenario import Scenario, ScenarioError, load_scenario
from recorder.simulator.speech import SpeechError, SpeechLibrary

log = logging.getLogger(__name__)

RESOURCE_DIR = Path(__file__).resolve().parents[2] / "resources" / "simulator"
MAX_BODY = 64 * 1024
# A "never loads" page holds its request this long (or until the server stops).
NEVER_LOADS_HOLD_S = 3600.0
_SIGN_IN_URLS: dict[Platform, str] = {
    Platform.TEAMS: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
    Platform.ZOOM: "https://zoom.us/signin",
    Platform.GOOGLE_MEET: "https://accounts.google.com/v3/signin/identifier",
    Platform.WEBEX: f"https://{hosts.WEBEX_SIGN_IN_HOST}/idb/oauth2/v1/authorize",
}


class SimulatorNotRunning(RuntimeError):
    """The simulator was asked for its port or certificate before start() or after stop()."""


class MeetingSimulator:
    """A local HTTPS meeting service for tests and `meeting-buddy demo`.

    The scenario applies to every meeting unless a link selects another: a link made by
    `example_link(platform, scenario=...)` (its meeting id is registered to that scenario),
    or any link whose page address carries `?scenario=<name>` (kept by Teams and Webex links).
    """

    def __init__(
        self,
        scenario: str | Scenario = "default",
        host: str = "127.0.0.1",
        port: int = 0,
        cache_dir: Path | None = None,
    ) -> None:
        self.scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        self.host = host
        self.control = SimulatorControl()
        self.speech = SpeechLibrary(cache_dir)
        self._requested_port = port
        self._meetings: dict[tuple[str, str], Scenario] = {}
        self._named: dict[str, Scenario] = {self.scenario.name: self.scenario}
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._certificate: SimulatorCertificate | None = None
        self.stopping = threading.Event()

    # --- life cycle -------------------------------------------------------------------

    def start(self) -> MeetingSimulator:
        if self._server is not None:
            return self
        self.prepare_speech(self.scenario)
        self._certificate = make_certificate(hosts.certificate_names(), [self.host])
        self.stopping.clear()
        server = _Server((self.host, self._requested_port), _Handler)
        server.simulator = self
        server.tls = self._certificate.server_context()
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="meeting-simulator", daemon=True)
        self._thread.start()
        log.info("meeting simulator on %s:%d (scenario %s)", self.host, self.port, self.scenario.name)
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self.stopping.set()  # releases requests held by a "never loads" scenario
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._thread = None

    def __enter__(self) -> MeetingSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- how a browser reaches it -----------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise SimulatorNotRunning("the meeting simulator is not running")
        return self._server.server_address[1]

    @property
    def certificate(self) -> SimulatorCertificate:
        if self._certificate is None:
            raise SimulatorNotRunning("the meeting simulator has no certificate before start()")
        return self._certificate

    @property
    def cert_pem(self) -> str:
        return self.certificate.cert_pem

    @property
    def cert_fingerprint(self) -> str:
        return self.certificate.fingerprint

    def host_resolver_rules(self) -> str:
        return hosts.host_resolver_rules(self.port, self.host)

    def chromium_flags(self) -> str:
        return hosts.chromium_host_flag(self.port, self.host)

    @staticmethod
    def mapped_hosts() -> set[str]:
        """Host patterns sent to the simulator ("*." patterns cover any subdomain)."""
        return hosts.mapped_host_patterns()

    @staticmethod
    def is_mapped_host(host: str) -> bool:
        return hosts.is_mapped_host(host)

    # --- meetings -----------------------------------------------------------------------

    def example_link(self, platform: Platform | str, scenario: str | Scenario | None = None) -> str:
        """A meeting link users would paste. With a scenario, a fresh meeting that plays it."""
        platform = Platform(platform)
        if scenario is None:
            return hosts.meeting_link(platform, hosts.DEFAULT_MEETING_IDS[platform])
        chosen = scenario if isinstance(scenario, Scenario) else self.named_scenario(scenario)
        self.prepare_speech(chosen)
        meeting_id = hosts.new_meeting_id(platform)
        with self._lock:
            self._meetings[(platform.value, meeting_id)] = chosen
        return hosts.meeting_link(platform, meeting_id)

    def named_scenario(self, name: str) -> Scenario:
        with self._lock:
            if name in self._named:
                return self._named[name]
        loaded = load_scenario(name)
        with self._lock:
            return self._named.setdefault(name, loaded)

    def scenario_for(self, platform: Platform, href: str) -> tuple[Scenario, str | None]:
        """The scenario a page address plays, and its meeting id (None if it has none)."""
        meeting_id = hosts.meeting_id_in(platform, href)
        parts = urlsplit(href)
        for query in (parts.query, parts.fragment.partition("?")[2]):
            names = parse_qs(query).get("scenario")
            if names:
                return self.named_scenario(names[0]), meeting_id
        with self._lock:
            registered = self._meetings.get((platform.value, meeting_id or ""))
        return registered or self.scenario, meeting_id

    def prepare_speech(self, scenario: Scenario) -> None:
        for voice, text in scenario.voices_and_texts():
            self.speech.render(voice, text)

    def page_config(self, platform: Platform, href: str) -> dict[str, Any]:
        """Opens a page session and returns everything its page script needs."""
        scenario, meeting_id = self.scenario_for(platform, href)
        page = self.control.open_page(platform.value, meeting_id, scenario.name, href)
        clips = {key: self.speech.render(*key) for key in scenario.voices_and_texts()}
        speech = []
        for line in scenario.speech:
            clip = clips[(scenario.participant(line.who).voice, line.text)]
            speech.append({"at": line.at, "who": line.who, "text": line.text,
                           "url": f"/__sim/speech/{clip.key}.wav", "duration_s": round(clip.duration_s, 3)})
        sign_in = f"{_SIGN_IN_URLS[platform]}?{urlencode({'continue': href, 'sim_page': page.page_id})}"
        return {
            "page_id": page.page_id,
            "platform": platform.value,
            "meeting_id": meeting_id,
            "scenario": scenario.name,
            "access": scenario.access,
            "lobby": {"wait_s": scenario.lobby.wait_s, "outcome": scenario.lobby.outcome},
            "participants": [
                {"id": p.id, "name": p.name, "joins_at": p.joins_at, "leaves_at": p.leaves_at}
                for p in scenario.participants
            ],
            "speech": speech,
            "speech_repeat_every_s": scenario.speech_repeat_every_s,
            "meeting_ends_at": scenario.meeting_ends_at,
            "bot_removed_at": scenario.bot_removed_at,
            "network_cut": ({"at": scenario.network_cut_at, "seconds": scenario.network_cut_s}
                            if scenario.network_cut_at is not None else None),
            "sign_in_url": sign_in,
        }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    simulator: MeetingSimulator
    tls: Any

    def get_request(self) -> tuple[socket.socket, Any]:
        # The TLS handshake happens in the request's own thread (on first read), so one slow
        # client never stalls the accept loop.
        conn, address = self.socket.accept()
        return self.tls.wrap_socket(conn, server_side=True, do_handshake_on_connect=False), address


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def handle(self) -> None:
        try:
            super().handle()
        except (OSError, ValueError) as exc:  # TLS handshake failures, resets, timeouts
            log.debug("simulator connection closed: %s", exc)

    @property
    def sim(self) -> MeetingSimulator:
        return self.server.simulator

    def _host(self) -> str:
        return (self.headers.get("Host") or "").strip().lower().split(":", 1)[0]

    # --- dispatch ---------------------------------------------------------------------

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        path = parts.path
        if path.startswith("/__sim/"):
            self._api_get(path, parts.query)
            return
        if path == "/favicon.ico":
            self._send(HTTPStatus.NO_CONTENT, b"", "image/x-icon")
            return
        host = self._host()
        found = hosts.route(host, path, parts.query)
        if found is None:
            self._send_text(HTTPStatus.MISDIRECTED_REQUEST, f"The meeting simulator does not serve {host!r}.")
        elif found.kind == "redirect":
            self.send_response(HTTPStatus.FOUND)
            self.send_header("Location", found.location)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif found.kind == "sign_in":
            self._send_file(RESOURCE_DIR / "signin" / f"{hosts.CLIENT_DIRS[found.platform]}.html")
        elif found.kind == "client":
            self._client_page(found.platform, host, parts.path, parts.query)
        else:
            self._send_text(HTTPStatus.NOT_FOUND, "This page isn't available.")

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        try:
            body = self._json_body()
        except ValueError as exc:
            self._send_json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
            return
        if path == "/__sim/session":
            self._open_session(body)
        elif path == "/__sim/events":
            try:
                self.sim.control.record(str(body.get("page_id", "")), str(body.get("type", "")), body.get("data", {}))
            except BadPageEvent as exc:
                self._send_json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
                return
            self._send_json(HTTPStatus.OK, {"ok": True})
        else:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": f"no simulator endpoint {path}"})

    def _client_page(self, platform: Platform, host: str, path: str, query: str) -> None:
        href = f"https://{host}{path}" + (f"?{query}" if query else "")
        try:
            scenario, _ = self.sim.scenario_for(platform, href)
        except ScenarioError as exc:
            self._send_text(HTTPStatus.BAD_REQUEST, str(exc))
            return
        if scenario.access == "never_loads":
            # The page never arrives: the browser waits until its own timeout gives up.
            self.sim.stopping.wait(NEVER_LOADS_HOLD_S)
            self.close_connection = True
            return
        self._send_file(RESOURCE_DIR / hosts.CLIENT_DIRS[platform] / "index.html")

    def _open_session(self, body: dict[str, Any]) -> None:
        platform = hosts.platform_for_host(self._host())
        href = body.get("href")
        if platform is None or not isinstance(href, str) or len(href) > 4096:
            self._send_json(HTTPStatus.BAD_REQUEST, {"error": "a session needs a platform host and its page href"})
            return
        try:
            config = self.sim.page_config(platform, href)
        except ScenarioError as exc:
            self._send_json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
            return
        except SpeechError as exc:
            self._send_json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": str(exc)})
            return
        self._send_json(HTTPStatus.OK, config)

    def _api_get(self, path: str, query: str) -> None:
        if path == "/__sim/commands":
            page_id = (parse_qs(query).get("page") or [""])[0]
            try:
                self._send_json(HTTPStatus.OK, {"commands": self.sim.control.take_commands(page_id)})
            except BadPageEvent as exc:
                self._send_json(HTTPStatus.NOT_FOUND, {"error": str(exc)})
        elif path.startswith("/__sim/speech/") and path.endswith(".wav"):
            clip = self.sim.speech.path_for(path[len("/__sim/speech/"):-len(".wav")])
            if clip is None:
                self._send_json(HTTPStatus.NOT_FOUND, {"error": "no such speech clip"})
            else:
                self._send_file(clip)
        elif path.startswith("/__sim/static/"):
            target = (RESOURCE_DIR / path[len("/__sim/static/"):]).resolve()
            if RESOURCE_DIR not in target.parents or not target.is_file():
                self._send_json(HTTPStatus.NOT_FOUND, {"error": "no such file"})
            else:
                self._send_file(target)
        else:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": f"no simulator endpoint {path}"})

    # --- responses --------------------------------------------------------------------

    def _json_body(self) -> dict[str, Any]:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise ValueError("bad Content-Length") from None
        if not 0 < length <= MAX_BODY:
            raise ValueError(f"a JSON body of 1 to {MAX_BODY} bytes is required")
        try:
            body = json.loads(self.rfile.read(length))
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ValueError("the body is not JSON") from None
        if not isinstance(body, dict):
            raise ValueError("the body must be a JSON object")
        return body

    def _send(self, status: HTTPStatus, payload: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(payload)

    def _send_json(self, status: HTTPStatus, data: dict[str, Any]) -> None:
        self._send(status, json.dumps(data).encode("utf-8"), "application/json")

    def _send_text(self, status: HTTPStatus, text: str) -> None:
        self._send(status, text.encode("utf-8"), "text/plain; charset=utf-8")

    def _send_file(self, path: Path) -> None:
        content_type = {".js": "text/javascript", ".wav": "audio/wav"}.get(path.suffix) or (
            mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        )
        if content_type.startswith("text/"):
            content_type += "; charset=utf-8"
        self._send(HTTPStatus.OK, path.read_bytes(), content_type)
