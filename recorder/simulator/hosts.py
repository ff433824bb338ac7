"""Which host names the simulator answers for, how Chromium is pointed at it, which of its
pages a request path opens (and where the service redirects it), and which meeting a page
address names.

The simulator stands in for the real services, so it reads addresses as they do, on its
own: it shares no code with the product's link parser. Link shapes and redirect chains
follow docs/PLATFORMS.md ("Links" and each platform's "Behaviours").
"""
from __future__ import annotations

import base64
import fnmatch
import json
import re
import secrets
from dataclasses import dataclass
from enum import Enum
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit


class Platform(str, Enum):
    """The services the simulator imitates (the same names the product uses for them)."""

    TEAMS = "teams"
    ZOOM = "zoom"
    GOOGLE_MEET = "google_meet"
    WEBEX = "webex"

    def __str__(self) -> str:
        return self.value

# Host patterns as Chromium's --host-resolver-rules takes them ("*" spans labels).
PLATFORM_HOSTS: dict[Platform, tuple[str, ...]] = {
    Platform.TEAMS: ("teams.microsoft.com", "*.teams.microsoft.com", "teams.live.com",
                     "teams.microsoft.us", "*.teams.microsoft.us", "teams.cloud.microsoft"),
    Platform.ZOOM: ("zoom.us", "*.zoom.us", "zoomgov.com", "*.zoomgov.com", "zoom.com", "*.zoom.com"),
    Platform.GOOGLE_MEET: ("meet.google.com",),
    Platform.WEBEX: ("*.webex.com",),
}
# Where a platform sends a browser that must sign in first (Zoom and Webex use their own hosts).
SIGN_IN_HOSTS: dict[str, Platform] = {
    "login.microsoftonline.com": Platform.TEAMS,
    "login.live.com": Platform.TEAMS,
    "accounts.google.com": Platform.GOOGLE_MEET,
}
WEBEX_SIGN_IN_HOST = "idbroker.webex.com"

# The folder of each platform's web client under resources/simulator/.
CLIENT_DIRS: dict[Platform, str] = {
    Platform.TEAMS: "teams", Platform.ZOOM: "zoom", Platform.GOOGLE_MEET: "meet", Platform.WEBEX: "webex",
}

DEFAULT_MEETING_IDS: dict[Platform, str] = {
    Platform.TEAMS: "19:meeting_sim@thread.v2",
    Platform.ZOOM: "1234567890",
    Platform.GOOGLE_MEET: "abc-defg-hij",
    Platform.WEBEX: "simroom",
}
TEAMS_TENANT = "sim-tenant"
TEAMS_ORGANIZER = "sim-organizer"
_TEAMS_CONTEXT = quote(json.dumps({"Tid": TEAMS_TENANT, "Oid": TEAMS_ORGANIZER}, separators=(",", ":")), safe="")
WEBEX_SITE = "sim"


def mapped_host_patterns() -> set[str]:
    patterns = {pattern for group in PLATFORM_HOSTS.values() for pattern in group}
    return patterns | set(SIGN_IN_HOSTS)


def is_mapped_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    return any(fnmatch.fnmatchcase(host, pattern) for pattern in mapped_host_patterns())


def host_resolver_rules(port: int, address: str = "127.0.0.1") -> str:
    """Chromium --host-resolver-rules value that sends every simulated host to the server."""
    return ", ".join(f"MAP {pattern} {address}:{port}" for pattern in sorted(mapped_host_patterns()))


def chromium_host_flag(port: int, address: str = "127.0.0.1") -> str:
    # The inner double quotes keep the comma-separated rules one argument in QTWEBENGINE_CHROMIUM_FLAGS.
    return f'--host-resolver-rules="{host_resolver_rules(port, address)}"'


def certificate_names() -> list[str]:
    """DNS names for the certificate: each pattern, wildcards as one-label wildcards."""
    return sorted(mapped_host_patterns())


def platform_for_host(host: str) -> Platform | None:
    host = host.lower().rstrip(".")
    if host in SIGN_IN_HOSTS:
        return SIGN_IN_HOSTS[host]
    for platform, patterns in PLATFORM_HOSTS.items():
        if any(fnmatch.fnmatchcase(host, pattern) for pattern in patterns):
            return platform
    return None


@dataclass(frozen=True)
class Route:
    kind: str  # "client", "sign_in", "redirect" or "not_found"
    platform: Platform
    location: str = ""  # for "redirect"
    page: str = "index.html"  # for "client": the file in the platform's folder


# Teams: links hand the browser to the launcher, which hands it to the light-meetings
# client (docs/PLATFORMS.md, Teams "Behaviours": anonymous joins land in light-meetings).
_TEAMS_LINK = re.compile(r"/(l/meetup-join/.+|meet/[^/]+/?)")
_TEAMS_CLIENT = re.compile(r"/(dl/launcher/launcher\.html|light-meetings/launch/?|v2/?|_/?)")
_TEAMS_LAUNCHER_FLAGS = "directDl=true&msLaunch=true&enableMobilePage=true&suppressPrompt=true"
# Zoom: /j/ links open a landing page that launches the desktop app and offers the browser.
_ZOOM_LANDING = re.compile(r"/(?:j|w|s)/([0-9]{9,11})/?")
_ZOOM_CLIENT = re.compile(r"/(wc/[^/]+/join|wc/join/[^/]+|my/[^/]+)/?")
_MEET_CLIENT = re.compile(r"/(lookup/)?[a-z0-9][a-z0-9_-]{2,63}/?")
# Webex: j.php and the join service land on the app chooser; the others are the web client.
_WEBEX_CHOOSER = re.compile(r"/([^/]+/j\.php|wbxmjs/joinservice/sites/[^/]+/meeting/download/[^/]+/?)")
_WEBEX_CLIENT = re.compile(r"/(meet/[^/]+/?|webappng/sites/[^/]+/meeting/.+)")
WEBEX_PRELOADER = re.compile(r"/webappng/sites/[^/]+/meeting/preloader\.html")


def route(host: str, path: str, query: str) -> Route | None:
    """The page a request for host+path opens; None for a host the simulator does not serve."""
    host = host.lower().rstrip(".")
    platform = platform_for_host(host)
    if platform is None:
        return None
    if host in SIGN_IN_HOSTS or host == WEBEX_SIGN_IN_HOST:
        return Route("sign_in", platform)
    if platform is Platform.TEAMS:
        if _TEAMS_LINK.fullmatch(path):
            return Route("redirect", platform, teams_launcher_location(path, query))
        if _TEAMS_CLIENT.fullmatch(path):
            return Route("client", platform)
    if platform is Platform.ZOOM:
        if host == "events.zoom.us" or _ZOOM_CLIENT.fullmatch(path):
            return Route("client", platform)
        if path.rstrip("/") == "/signin":
            return Route("sign_in", platform)
        if _ZOOM_LANDING.fullmatch(path):
            return Route("client", platform, page="landing.html")
    if platform is Platform.GOOGLE_MEET and _MEET_CLIENT.fullmatch(path):
        return Route("client", platform)
    if platform is Platform.WEBEX:
        if _WEBEX_CHOOSER.fullmatch(path):
            return Route("client", platform, page="chooser.html")
        if _WEBEX_CLIENT.fullmatch(path):
            # Which client (in the page or in its frame) depends on the scenario: the server picks.
            return Route("client", platform, page="webclient")
    return Route("not_found", platform)


def teams_launcher_location(path: str, query: str) -> str:
    """Where Teams sends a meetup-join or /meet/ link: its launcher page, the meeting in the fragment."""
    extra = "type=meetup-join&" if path.startswith("/l/") else "anon=true&"
    inner = f"{path}?{query}&{extra}{_TEAMS_LAUNCHER_FLAGS}" if query else f"{path}?{extra}{_TEAMS_LAUNCHER_FLAGS}"
    return f"/dl/launcher/launcher.html?url=/_#{inner}"


def zoom_web_client_url(host: str, meeting_number: str, query: str) -> str:
    """The web client a Zoom landing page offers ("Join from your browser")."""
    web_host = "app.zoomgov.com" if host.endswith("zoomgov.com") else "app.zoom.us"
    return f"https://{web_host}/wc/{meeting_number}/join" + (f"?{query}" if query else "")


def teams_coords(meeting_id: str) -> str:
    """The base64 JSON `coords` of a light-meetings address (docs/PLATFORMS.md, "Links")."""
    data = {"conversationId": meeting_id, "tenantId": TEAMS_TENANT, "organizerId": TEAMS_ORGANIZER,
            "messageId": "0"}
    return base64.b64encode(json.dumps(data, separators=(",", ":")).encode("utf-8")).decode("ascii")


def teams_light_meetings_url(host: str, meeting_id: str, extra: dict[str, str]) -> str:
    query = urlencode({"anon": "true", **extra, "coords": teams_coords(meeting_id)})
    return f"https://{host}/light-meetings/launch?{query}"


def meeting_link(platform: Platform, meeting_id: str) -> str:
    """A link of the form users paste, for a meeting id of that platform."""
    if platform is Platform.TEAMS:
        return f"https://teams.microsoft.com/l/meetup-join/{quote(meeting_id, safe='')}/0?context={_TEAMS_CONTEXT}"
    if platform is Platform.ZOOM:
        return f"https://zoom.us/j/{meeting_id}?pwd=sim"
    if platform is Platform.GOOGLE_MEET:
        return f"https://meet.google.com/{meeting_id}"
    return f"https://{WEBEX_SITE}.webex.com/{WEBEX_SITE}/j.php?MTID={meeting_id}"


def new_meeting_id(platform: Platform) -> str:
    """A fresh, valid-looking meeting id, for a meeting that gets its own scenario."""
    if platform is Platform.TEAMS:
        return f"19:meeting_{secrets.token_hex(12)}@thread.v2"
    if platform is Platform.ZOOM:
        return "8" + "".join(secrets.choice("0123456789") for _ in range(10))
    if platform is Platform.GOOGLE_MEET:
        letters = "abcdefghijklmnopqrstuvwxyz"
        return "-".join("".join(secrets.choice(letters) for _ in range(n)) for n in (3, 4, 3))
    return f"sim{secrets.token_hex(6)}"


# -- which meeting a page address names ----------------------------------------------------

_TEAMS_MEETUP = re.compile(r"/l/meetup-join/([^/]+)(?:/.*)?")
_TEAMS_MEET = re.compile(r"/meet/([^/?]+)/?")
_ZOOM_MEETING = re.compile(r"/(?:wc/([^/]+)/join|wc/join/([^/]+)|[jws]/([^/]+)|my/([^/]+))/?")
_MEET_CODE = re.compile(r"/(?:lookup/)?([a-z0-9][a-z0-9_-]{2,63})/?")
_WEBEX_MEETING = re.compile(
    r"/(?:meet/([^/]+)|wbxmjs/joinservice/sites/[^/]+/meeting/download/([^/]+)"
    r"|webappng/sites/[^/]+/meeting/(?:info/|download/)?([^/]+)).*")


def meeting_id_in(platform: Platform, href: str) -> str | None:
    """The meeting a page address opens (as the service reads it), None if it names none."""
    parts = urlsplit(href)
    path, query = parts.path or "/", parts.query
    if platform is Platform.TEAMS:
        return _teams_meeting(path, query) or _teams_meeting(*_fragment(parts.fragment))
    if platform is Platform.ZOOM:
        match = _ZOOM_MEETING.fullmatch(path)
        return next((group for group in match.groups() if group), None) if match else None
    if platform is Platform.GOOGLE_MEET:
        match = _MEET_CODE.fullmatch(path)
        return match.group(1).lower() if match else None
    if path.endswith("/j.php") or WEBEX_PRELOADER.fullmatch(path):
        return _first(query, "MTID")
    match = _WEBEX_MEETING.fullmatch(path)
    return next((group for group in match.groups() if group), None) if match else None


def _fragment(fragment: str) -> tuple[str, str]:
    path, _, query = fragment.partition("?")
    return path, query


def _first(query: str, name: str) -> str | None:
    values = parse_qs(query).get(name)
    return values[0] if values else None


def _teams_meeting(path: str, query: str) -> str | None:
    if match := _TEAMS_MEETUP.fullmatch(path):
        return unquote(match.group(1))
    if match := _TEAMS_MEET.fullmatch(path):
        return match.group(1)
    coords = _first(query, "coords")
    if path.rstrip("/").endswith("light-meetings/launch") and coords:
        try:
            padded = coords.replace("-", "+").replace("_", "/")
            data = json.loads(base64.b64decode(padded + "=" * (-len(padded) % 4)).decode("utf-8"))
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        thread = data.get("conversationId") or data.get("threadId")
        return thread if isinstance(thread, str) else None
    return None
