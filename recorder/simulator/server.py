"""The meeting simulator's HTTPS server: one imitation web client per platform, chosen by
the request's Host header, plus the small API the pages use (`/__sim/...`).

A browser reaches it through host mapping only (Chromium --host-resolver-rules), so pages
keep their real addresses and the bot's code is the same as against the real services.
"""
from __future__ import annotations

import base64
import binascii
import json
import logging
import mimetypes
import socket
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from recorder.simulator import hosts
from recorder.simulator.certificate import SimulatorCertificate, make_certificate
from recorder.simulator.control import BadPageEvent, SimulatorControl
from recorder.simulator.hosts import Platform
from recorder.simulator.meetings import MeetingBook, MeetingVisit
from recorder.simulator.scenario import Scenario, ScenarioError, load_scenario
from recorder.simulator.speech import SpeechError, SpeechLibrary

log = logging.getLogger(__name__)

RESOURCE_DIR = Path(__file__).resolve().parents[2] / "resources" / "simulator"
MAX_BODY = 64 * 1024
# A "never loads" page holds its request this long (or until the server stops).
NEVER_LOADS_HOLD_S = 3600.0
# A hostile page's download: large and sent slowly, so that a browser that cancels it is seen
# to (the server records whether every byte went out).
DOWNLOAD_BYTES = 16 * 1024 * 1024
DOWNLOAD_PIECE = 64 * 1024
DOWNLOAD_PAUSE_S = 0.01
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
        self.meetings = MeetingBook()
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
        visit = self._visit(platform, scenario, meeting_id or href, href)
        if visit.join_retried:
            # The join was started again after Teams sent it to lightExperience=false.
            self.control.record(page.page_id, "join_retried", {"href": href})
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
            "title": scenario.title,
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
            "options": scenario.platforms.for_platform(platform.value),
            "visit": {"load_index": visit.load_index, "host_started": visit.host_started,
                      "light_redirect": visit.light_redirect,
                      "seconds_since_first_load": visit.seconds_since_first_load},
            "links": _page_links(platform, href, meeting_id, scenario),
            "hostile": self._hostile_config(scenario, href),
        }

    def _hostile_config(self, scenario: Scenario, href: str) -> dict[str, Any] | None:
        """What the hostile page script needs: its options, its forged speech, and a host of
        another site for the frame it loads (a cross-origin frame can only post messages)."""
        if scenario.hostile is None:
            return None
        clip = self.speech.render(*scenario.forged_voice_and_text())
        own = urlsplit(href).hostname or ""
        other = "meet.google.com" if own.endswith("zoom.us") else "zoom.us"
        return {**scenario.hostile.for_page(), "forged_speech_url": f"/__sim/speech/{clip.key}.wav",
                "frame_origin": f"https://{other}"}

    def _visit(self, platform: Platform, scenario: Scenario, meeting_key: str, href: str) -> MeetingVisit:
        parts = urlsplit(href)
        teams_page = _teams_page(parts.path, parts.query) if platform is Platform.TEAMS else ""
        return self.meetings.visit(
            platform.value, meeting_key,
            host_starts_after_s=scenario.platforms.zoom.host_starts_after_s,
            light_redirect_wanted=scenario.platforms.teams.light_experience_redirect,
            is_light_prejoin=teams_page == "prejoin",
            is_light_disabled=teams_page == "light_disabled",
        )

    def webex_client(self, href: str) -> str:
        """Which Webex client a page address opens: "main_page" or "iframe"."""
        scenario, _ = self.scenario_for(Platform.WEBEX, href)
        return _webex_client(scenario, urlsplit(href).path)


def _teams_page(path: str, query: str) -> str:
    """Which screen of the Teams client an address shows."""
    if path.rstrip("/") in ("/dl/launcher/launcher.html", "/_"):
        return "launcher"
    if "lightExperience=false" in query:
        return "light_disabled"
    return "prejoin"


def _webex_client(scenario: Scenario, path: str) -> str:
    chosen = scenario.platforms.webex.client
    if chosen:
        return chosen
    # A j.php link (the app chooser) leads to the newer client in the page, which runs at
    # preloader.html; the other links open the classic client in its frame.
    in_page = hosts.WEBEX_PRELOADER.fullmatch(path) or path.endswith("/j.php") or "/meeting/download/" in path
    return "main_page" if in_page else "iframe"


def _scenario_query(href: str) -> dict[str, str]:
    """The `scenario` a page address names, to carry along the service's own redirects."""
    parts = urlsplit(href)
    for query in (parts.query, parts.fragment.partition("?")[2]):
        names = parse_qs(query).get("scenario")
        if names:
            return {"scenario": names[0]}
    return {}


def _page_links(platform: Platform, href: str, meeting_id: str | None, scenario: Scenario) -> dict[str, str]:
    """Addresses a page moves to next, as the real service builds them."""
    parts = urlsplit(href)
    host, extra = parts.hostname or "", _scenario_query(href)
    meeting = meeting_id or ""
    if platform is Platform.TEAMS:
        fragment = (f"/l/meetup-join/{quote(meeting, safe='')}/0" if "@thread" in meeting
                    else f"/meet/{quote(meeting, safe='')}")
        disabled_query = urlencode({"meetingjoin": "true", "lightExperience": "false", **extra})
        return {
            "app": f"msteams:{fragment}",
            "light_meetings": hosts.teams_light_meetings_url(host, meeting, extra),
            "light_disabled": f"https://{host}/v2/?{disabled_query}#{fragment}",
        }
    if platform is Platform.ZOOM:
        pwd = parse_qs(parts.query).get("pwd", [""])[0]
        query = urlencode({k: v for k, v in (("pwd", pwd), *extra.items()) if v})
        app_query = urlencode({k: v for k, v in (("action", "join"), ("confno", meeting), ("pwd", pwd)) if v})
        return {"app": f"zoommtg://zoom.us/join?{app_query}",
                "web_client": hosts.zoom_web_client_url(host, meeting, query)}
    if platform is Platform.WEBEX:
        site = host.split(".", 1)[0]
        query = urlencode({"MTID": meeting, **extra})
        main_page = f"https://{host}/webappng/sites/{site}/meeting/preloader.html?{query}&runInOwnPage=true"
        classic = f"https://{host}/webappng/sites/{site}/meeting/info/{quote(meeting, safe='')}?{query}"
        client = _webex_client(scenario, parts.path)
        return {"app": f"webex://meeting?{urlencode({'MTID': meeting})}",
                "browser": main_page if client == "main_page" else classic,
                "client": client}
    return {}


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
        elif found.kind in ("client", "redirect"):
            self._meeting_page(found, host, parts.path, parts.query)
        elif found.kind == "sign_in":
            self._send_file(RESOURCE_DIR / "signin" / f"{hosts.CLIENT_DIRS[found.platform]}.html")
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

    def _meeting_page(self, found: hosts.Route, host: str, path: str, query: str) -> None:
        href = f"https://{host}{path}" + (f"?{query}" if query else "")
        try:
            scenario, _ = self.sim.scenario_for(found.platform, href)
        except ScenarioError as exc:
            self._send_text(HTTPStatus.BAD_REQUEST, str(exc))
            return
        if scenario.access == "never_loads":
            # The page never arrives: the browser waits until its own timeout gives up.
            self.sim.stopping.wait(NEVER_LOADS_HOLD_S)
            self.close_connection = True
            return
        if found.kind == "redirect":
            self.send_response(HTTPStatus.FOUND)
            self.send_header("Location", found.location)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        page = found.page
        if page == "webclient":
            page = "client.html" if self.sim.webex_client(href) == "main_page" else "frame.html"
        self._send_file(RESOURCE_DIR / hosts.CLIENT_DIRS[found.platform] / page)

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
        page_id = (parse_qs(query).get("page") or [""])[0]
        if path in _HOSTILE_ENDPOINTS:
            _HOSTILE_ENDPOINTS[path](self, page_id, query)
        elif path == "/__sim/commands":
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

    # --- what a hostile page reaches for (a browser that refuses never gets here) ---------

    def _record(self, page_id: str, event_type: str, data: dict[str, Any]) -> bool:
        try:
            self.sim.control.record(page_id, event_type, data)
        except BadPageEvent:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": "no such simulator page"})
            return False
        return True

    def _download(self, page_id: str, query: str) -> None:
        """A file sent as an attachment; `download_completed` only if every byte went out."""
        how = (parse_qs(query).get("how") or [""])[0][:40]
        if not self._record(page_id, "download_started", {"how": how, "host": self._host()}):
            return
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Disposition", f'attachment; filename="meeting-buddy-hostile-{page_id}.exe"')
        self.send_header("Content-Length", str(DOWNLOAD_BYTES))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        sent, piece = 0, b"MZ" + b"\0" * (DOWNLOAD_PIECE - 2)
        try:
            while sent < DOWNLOAD_BYTES and not self.sim.stopping.is_set():
                self.wfile.write(piece)
                sent += len(piece)
                time.sleep(DOWNLOAD_PAUSE_S)
            self.wfile.flush()
        except OSError:
            self.close_connection = True
        completed = sent >= DOWNLOAD_BYTES and not self.close_connection
        self.sim.control.record(page_id, "download_completed" if completed else "download_aborted",
                                {"how": how, "bytes": sent})

    def _popup(self, page_id: str, query: str) -> None:
        """A pop-up window's page: reaching it means the window opened."""
        how = (parse_qs(query).get("how") or [""])[0][:40]
        if self._record(page_id, "popup_opened", {"how": how, "host": self._host()}):
            self._send(HTTPStatus.OK, b"<!DOCTYPE html><title>Pop-up</title><p>A pop-up window.", "text/html")

    def _auth(self, page_id: str, query: str) -> None:
        """An HTTP authentication challenge: a browser that asks the user shows a dialog, and
        what it sends back says whether anything was typed (the credentials stay here)."""
        answer = self.headers.get("Authorization")
        if answer is None:
            recorded = self._record(page_id, "auth_challenged", {})
        else:
            scheme, _, token = answer.partition(" ")
            try:
                given = base64.b64decode(token, validate=True).decode("utf-8", "replace") if scheme == "Basic" else "?"
            except (binascii.Error, ValueError):
                given = "?"
            recorded = self._record(page_id, "auth_answered", {"credentials_given": given not in ("", ":")})
        if not recorded:
            return
        self.send_response(HTTPStatus.UNAUTHORIZED)
        self.send_header("WWW-Authenticate", 'Basic realm="Sign in to keep recording"')
        self.send_header("Content-Length", "0")
        self.end_headers()

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


# What a hostile page reaches for, by path (on every host, like the rest of /__sim/).
_HOSTILE_ENDPOINTS: dict[str, Callable[[_Handler, str, str], None]] = {
    "/__sim/download": _Handler._download,
    "/__sim/popup": _Handler._popup,
    "/__sim/auth": _Handler._auth,
}
