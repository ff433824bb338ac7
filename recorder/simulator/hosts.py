"""Which host names the simulator answers for, how Chromium is pointed at it, which of its
pages a request path opens, and which meeting a page address names.

The simulator stands in for the real services, so it reads addresses as they do, on its
own: it shares no code with the product's link parser.
"""
from __future__ import annotations

import base64
import fnmatch
import json
import re
import secrets
from dataclasses import dataclass
from enum import Enum
from urllib.parse import parse_qs, quote, unquote, urlsplit


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
                     "teams.microsoft.us", "*.teams.microsoft.us"),
    Platform.ZOOM: ("zoom.us", "*.zoom.us", "zoomgov.com", "*.zoomgov.com"),
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
_TEAMS_CONTEXT = quote('{"Tid":"sim-tenant","Oid":"sim-organizer"}', safe="")


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


_TEAMS_CLIENT = re.compile(r"/(l/meetup-join/.+|meet/[^/]+/?|light-meetings/launch/?|v2/?|_/?|)")
_ZOOM_CLIENT = re.compile(r"/(wc/[^/]+/join|wc/join/[^/]+|my/[^/]+)/?")
_ZOOM_LAUNCHER = re.compile(r"/(?:j|w|s)/([0-9]{9,11})/?")
_MEET_CLIENT = re.compile(r"/(lookup/)?[a-z0-9][a-z0-9_-]{2,63}/?")
_WEBEX_CLIENT = re.compile(
    r"/(meet/[^/]+/?|[^/]+/j\.php|wbxmjs/joinservice/sites/[^/]+/meeting/download/[^/]+/?"
    r"|webappng/sites/[^/]+/meeting/.+)"
)


def route(host: str, path: str, query: str) -> Route | None:
    """The page a request for host+path opens; None for a host the simulator does not serve."""
    host = host.lower().rstrip(".")
    platform = platform_for_host(host)
    if platform is None:
        return None
    if host in SIGN_IN_HOSTS or host == WEBEX_SIGN_IN_HOST:
        return Route("sign_in", platform)
    if platform is Platform.TEAMS and _TEAMS_CLIENT.fullmatch(path):
        return Route("client", platform)
    if platform is Platform.ZOOM:
        if host == "events.zoom.us" or _ZOOM_CLIENT.fullmatch(path):
            return Route("client", platform)
        if path.rstrip("/") == "/signin":
            return Route("sign_in", platform)
        if match := _ZOOM_LAUNCHER.fullmatch(path):
            # The launcher page of a /j/ link hands the browser to the web client.
            web_host = "app.zoomgov.com" if host.endswith("zoomgov.com") else "app.zoom.us"
            suffix = f"?{query}" if query else ""
            return Route("redirect", platform, f"https://{web_host}/wc/{match.group(1)}/join{suffix}")
    if platform is Platform.GOOGLE_MEET and _MEET_CLIENT.fullmatch(path):
        return Route("client", platform)
    if platform is Platform.WEBEX and _WEBEX_CLIENT.fullmatch(path):
        return Route("client", platform)
    return Route("not_found", platform)


def meeting_link(platform: Platform, meeting_id: str) -> str:
    """A link of the form users paste, for a meeting id of that platform."""
    if platform is Platform.TEAMS:
        return f"https://teams.microsoft.com/l/meetup-join/{quote(meeting_id, safe='')}/0?context={_TEAMS_CONTEXT}"
    if platform is Platform.ZOOM:
        return f"https://zoom.us/j/{meeting_id}?pwd=sim"
    if platform is Platform.GOOGLE_MEET:
        return f"https://meet.google.com/{meeting_id}"
    return f"https://sim.webex.com/meet/{meeting_id}"


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
    if path.endswith("/j.php"):
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
        thread = data.get("threadId") if isinstance(data, dict) else None
        return thread if isinstance(thread, str) else None
    return None
