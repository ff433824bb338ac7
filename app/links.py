"""Meeting links: validate one, tell its platform, find its meeting id and passcode, and
build the web-client URL the bot opens.

Only HTTPS links whose host really is a platform's (equal to one of its domains, or a
subdomain of one by whole labels) are accepted; anything else fails with InvalidMeetingLink
or UnsupportedPlatform, so a pasted link can never send the bot to another site. Which link
shapes each service hands out, and which address its web client wants, is described in
docs/PLATFORMS.md ("Links").
"""
from __future__ import annotations

import base64
import ipaddress
import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, TypeGuard
from urllib.parse import quote, unquote

from app.errors import InvalidMeetingLink, UnsupportedPlatform
from app.models import Platform

MAX_LINK_LENGTH = 2048

# Domains per platform: a link's host must equal one of them or be a subdomain of one.
PLATFORM_HOSTS: dict[str, tuple[str, ...]] = {
    Platform.TEAMS.value: ("teams.microsoft.com", "teams.live.com", "teams.microsoft.us", "teams.cloud.microsoft"),
    Platform.ZOOM.value: ("zoom.us", "zoom.com", "zoomgov.com"),
    Platform.GOOGLE_MEET.value: ("meet.google.com",),
    Platform.WEBEX.value: ("webex.com",),
}

NOT_HTTPS_URL = "Meeting link must be a valid HTTPS URL"
UNSUPPORTED = (
    "Unsupported meeting platform: only Microsoft Teams, Zoom, Google Meet and Webex "
    "links are accepted"
)

_HOST_RE = re.compile(
    r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*", re.ASCII
)
_PASSCODE_RE = re.compile(r"[\x21-\x7e]+")
_MAX_PASSCODE_LENGTH = 256
# Zoom's registrant token (`tk`, for meetings that need registration) is longer than a passcode.
_MAX_TOKEN_LENGTH = 512
# Teams thread ids such as 19:meeting_NjQ0...@thread.v2, once url-decoded.
_TEAMS_THREAD_RE = re.compile(r"[A-Za-z0-9][\x21-\x7e]{0,511}", re.ASCII)
_TEAMS_MEET_ID_RE = re.compile(r"[A-Za-z0-9]{6,64}", re.ASCII)
# Tenant and organizer ids (GUIDs in practice) and message ids (0 or a timestamp in ms), which
# go into the meetup-join address the bot opens.
_TEAMS_PARTY_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}", re.ASCII)
_TEAMS_MESSAGE_RE = re.compile(r"[0-9]{1,32}", re.ASCII)
_ZOOM_NUMBER_RE = re.compile(r"[0-9]{9,11}", re.ASCII)
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}", re.ASCII)
_EVENT_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]{0,255}", re.ASCII)
_MEET_CODE_RE = re.compile(r"[a-z]{3}-[a-z]{4}-[a-z]{3}", re.ASCII)
_MEET_NICKNAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}", re.ASCII)

_TEAMS_MEETUP_JOIN = re.compile(r"/l/meetup-join/([^/]*)(?:/[^/]*)?/?")
_TEAMS_MEET = re.compile(r"/meet/([^/]*)/?")
_TEAMS_LAUNCH = re.compile(r"/light-meetings/launch/?")
_TEAMS_LAUNCHER = re.compile(r"/dl/launcher/launcher\.html")
_TEAMS_LAUNCHER_MEETUP = re.compile(r"/l/meetup-join/([^/]+)/([^/]+)/?")
# The meetup-join form of a consumer (teams.live.com) meeting opens on teams.microsoft.com
# (docs/PLATFORMS.md, "Links").
_TEAMS_MEETUP_HOSTS = {"teams.live.com": "teams.microsoft.com"}
# (path shape, kind): the numeric kinds carry a 9-11 digit meeting number.
_ZOOM_SHAPES = (
    (re.compile(r"/j/([^/]*)/?"), "j"),
    (re.compile(r"/w/([^/]*)/?"), "w"),
    (re.compile(r"/wc/([^/]*)/join/?"), "wc"),
    (re.compile(r"/wc/join/([^/]*)/?"), "wc"),
    (re.compile(r"/my/([^/]*)/?"), "my"),
)
_MEET_PATH = re.compile(r"/(lookup/)?([^/]*)/?")
_WEBEX_PATH_ID_SHAPES = (
    re.compile(r"/meet/([^/]*)/?"),
    re.compile(r"/wbxmjs/joinservice/sites/[^/]+/meeting/download/([^/]*)/?"),
    re.compile(r"/webappng/sites/[^/]+/meeting/(?:[^/]+/)*([^/]*)"),
)
_WEBEX_JPHP = re.compile(r"/[^/]+/j\.php")


@dataclass(frozen=True)
class MeetingLink:
    platform: str  # an app.models.Platform value
    meeting_id: str
    passcode: str | None
    join_url: str  # the web-client URL the bot opens
    normalized_link: str  # canonical link to store and show

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Parts:
    """A link split the way a browser splits it, after the common checks."""

    host: str  # lowercase, no port
    path: str
    query: str | None  # None when the link has no '?'
    fragment: str | None  # None when the link has no '#'

    def url(self, *, fragment: bool) -> str:
        text = f"https://{self.host}{self.path}"
        if self.query is not None:
            text += f"?{self.query}"
        if fragment and self.fragment is not None:
            text += f"#{self.fragment}"
        return text


def parse_meeting_link(link: str) -> MeetingLink:
    """Validate a meeting link; raises InvalidMeetingLink or UnsupportedPlatform only."""
    parts = _split(link)
    platform = _platform_of(parts.host)
    if platform is None:
        raise UnsupportedPlatform(UNSUPPORTED)
    return _PARSERS[platform](parts)


def detect_platform(link: str) -> str | None:
    """The platform of a valid supported link, else None; never raises."""
    try:
        return parse_meeting_link(link).platform
    except (InvalidMeetingLink, UnsupportedPlatform):
        return None


# --- common checks -------------------------------------------------------------------


def _split(link: object) -> _Parts:
    if not isinstance(link, str):
        raise InvalidMeetingLink(NOT_HTTPS_URL)
    text = link.strip()
    if not text:
        raise InvalidMeetingLink("Meeting link is empty")
    if len(text) > MAX_LINK_LENGTH:
        raise InvalidMeetingLink(f"Meeting link is too long (at most {MAX_LINK_LENGTH} characters)")
    if any(_is_forbidden_char(char) for char in text):
        raise InvalidMeetingLink("Meeting link must not contain spaces or control characters")
    # Browsers read a backslash as a slash, which would move the host: never accept one.
    if text[:8].lower() != "https://" or "\\" in text:
        raise InvalidMeetingLink(NOT_HTTPS_URL)
    rest = text[8:]
    ends = [index for index in (rest.find(mark) for mark in "/?#") if index >= 0]
    authority_end = min(ends, default=len(rest))
    authority, rest = rest[:authority_end], rest[authority_end:]
    rest, hash_mark, fragment = rest.partition("#")
    path, question_mark, query = rest.partition("?")
    return _Parts(
        host=_host(authority),
        path=path,
        query=query if question_mark else None,
        fragment=fragment if hash_mark else None,
    )


def _is_forbidden_char(char: str) -> bool:
    # Categories C* (control, format such as zero-width or bidi overrides, surrogates,
    # private, unassigned) and Z* (separators) hide what a link really says.
    return char.isspace() or unicodedata.category(char)[0] in "CZ"


def _host(authority: str) -> str:
    if not authority:
        raise InvalidMeetingLink(NOT_HTTPS_URL)
    if "@" in authority:
        raise InvalidMeetingLink("Meeting link must not contain a user name or password")
    if authority.startswith("["):
        end = authority.find("]")
        host, port = authority[: end + 1], authority[end + 1 :]
    else:
        host, colon, port = authority.partition(":")
        port = colon + port
    _check_port(port)
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise InvalidMeetingLink("Meeting link has a malformed host name") from None
        return host  # a well-formed address, which no platform uses
    if not host.isascii():
        raise InvalidMeetingLink("Meeting link host must use plain ASCII letters, digits and dots")
    host = host.lower()
    if len(host) > 253 or not _HOST_RE.fullmatch(host):
        raise InvalidMeetingLink("Meeting link has a malformed host name")
    if any(label.startswith("xn--") for label in host.split(".")):
        raise InvalidMeetingLink("Meeting link host must not be an internationalized (xn--) name")
    return host


def _check_port(port: str) -> None:
    if port in ("", ":443"):
        return
    if re.fullmatch(r":[0-9]{1,5}", port, re.ASCII):
        raise InvalidMeetingLink("Meeting link must not name a port other than 443")
    raise InvalidMeetingLink(NOT_HTTPS_URL)


def _belongs(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


def _platform_of(host: str) -> str | None:
    for platform, domains in PLATFORM_HOSTS.items():
        if any(_belongs(host, domain) for domain in domains):
            return platform
    return None


def _query_value(query: str | None, *names: str) -> str | None:
    """First non-empty value among `names` (keys compared case-insensitively).

    '+' stays a plus: meeting links are not form posts, and passcodes may hold one.
    """
    if not query:
        return None
    wanted = {name.lower() for name in names}
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        if unquote(key).lower() in wanted and value:
            return unquote(value)
    return None


def _passcode(query: str | None, *names: str) -> str | None:
    return _secret(query, names, "passcode", _MAX_PASSCODE_LENGTH)


def _secret(query: str | None, names: tuple[str, ...], what: str, max_length: int) -> str | None:
    """A passcode-like query value: printable ASCII without spaces, at most `max_length` long."""
    value = _query_value(query, *names)
    if value is None:
        return None
    if len(value) > max_length:
        raise InvalidMeetingLink(f"This meeting link's {what} is too long (at most {max_length} characters)")
    if not _PASSCODE_RE.fullmatch(value):
        raise InvalidMeetingLink(f"This meeting link's {what} has characters a {what} cannot have")
    return value


def _meeting_id(raw: str, pattern: re.Pattern[str], platform_name: str, shape: str = "") -> str:
    """`raw` when it fits `pattern`; `shape` says what a well-formed id looks like."""
    if not raw:
        raise InvalidMeetingLink(f"This {platform_name} link has no meeting id")
    if not pattern.fullmatch(raw):
        raise InvalidMeetingLink(f"This {platform_name} link's meeting id is malformed{shape}")
    return raw


# --- Microsoft Teams -----------------------------------------------------------------


@dataclass(frozen=True)
class _TeamsMeeting:
    meeting_id: str
    passcode: str | None
    join_url: str | None = None  # None: the bot opens the link as it is


def _parse_teams(parts: _Parts) -> MeetingLink:
    meeting = _teams_meeting(parts, allow_wrappers=True)
    # The web client reads the whole link (context, passcode, fragment): keep all of it. Only
    # a wrapper (light-meetings coords, the launcher page) that names the meeting itself is
    # opened at that meeting's own address instead.
    link = parts.url(fragment=True)
    join_url = meeting.join_url or link
    if len(join_url) > MAX_LINK_LENGTH:
        raise InvalidMeetingLink(
            f"This Microsoft Teams link's meeting address is too long (at most {MAX_LINK_LENGTH} characters)"
        )
    return MeetingLink(Platform.TEAMS.value, meeting.meeting_id, meeting.passcode, join_url, link)


def _teams_meeting(parts: _Parts, *, allow_wrappers: bool) -> _TeamsMeeting:
    if allow_wrappers and _TEAMS_LAUNCHER.fullmatch(parts.path):
        return _teams_launcher(parts)
    found = _teams_shape(parts, parts.path, parts.query, allow_wrappers)
    if found is None and parts.fragment and parts.fragment.startswith("/"):
        # The /v2/?meetingjoin=true#/l/meetup-join/... form carries the meeting in the fragment.
        fragment_path, _, fragment_query = parts.fragment.partition("?")
        found = _teams_shape(parts, fragment_path, fragment_query, allow_wrappers)
    if found is None:
        raise InvalidMeetingLink("This Microsoft Teams link has no meeting id")
    return found


def _teams_shape(parts: _Parts, path: str, query: str | None, allow_wrappers: bool) -> _TeamsMeeting | None:
    if match := _TEAMS_MEETUP_JOIN.fullmatch(path):
        thread = _meeting_id(unquote(match.group(1)), _TEAMS_THREAD_RE, "Microsoft Teams")
        return _TeamsMeeting(thread, _passcode(query, "p") or _passcode(parts.query, "p"))
    if match := _TEAMS_MEET.fullmatch(path):
        meet_id = _meeting_id(match.group(1), _TEAMS_MEET_ID_RE, "Microsoft Teams")
        return _TeamsMeeting(meet_id, _passcode(query, "p") or _passcode(parts.query, "p"))
    if allow_wrappers and _TEAMS_LAUNCH.fullmatch(path):
        return _teams_coords(parts, query)
    return None


def _teams_coords(parts: _Parts, query: str | None) -> _TeamsMeeting:
    """The meeting in the base64 JSON `coords` of a light-meetings link.

    A nested meetingUrl is opened at its own join address; a thread id with its tenant and
    organizer at the meetup-join address they make; a bare thread id through the link itself.
    """
    broken = InvalidMeetingLink("This Microsoft Teams link's meeting coordinates cannot be read")
    raw = _query_value(query, "coords")
    if raw is None:
        raise InvalidMeetingLink("This Microsoft Teams link has no meeting id")
    try:
        standard = raw.replace("-", "+").replace("_", "/")
        text = base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True).decode("utf-8")
        coords = _json_object(text)
        if coords is None:
            # Some Teams builds percent-encode the JSON before base64.
            coords = _json_object(unquote(text))
    except ValueError:
        raise broken from None
    if coords is None:
        raise broken
    passcode = _passcode(parts.query, "p")
    meeting_url = coords.get("meetingUrl")
    if meeting_url is not None:
        return _teams_nested(meeting_url, passcode, broken)
    thread = next(
        (
            value
            for value in (coords.get("conversationId"), coords.get("threadId"))
            if isinstance(value, str) and _TEAMS_THREAD_RE.fullmatch(value)
        ),
        None,
    )
    if thread is None:
        raise broken
    tenant, organizer = coords.get("tenantId"), coords.get("organizerId")
    if tenant in (None, "") or organizer in (None, ""):
        return _TeamsMeeting(thread, passcode)
    message = coords.get("messageId", "0")
    if isinstance(message, int) and not isinstance(message, bool) and message >= 0:
        message = str(message)
    if not (_is_party_id(tenant) and _is_party_id(organizer)):
        raise broken
    if not isinstance(message, str) or not _TEAMS_MESSAGE_RE.fullmatch(message):
        raise broken
    join_url = _meetup_join_url(parts.host, thread, message, tenant, organizer, passcode)
    return _TeamsMeeting(thread, passcode, join_url)


def _teams_nested(meeting_url: object, passcode: str | None, broken: InvalidMeetingLink) -> _TeamsMeeting:
    """A light-meetings link's nested meetingUrl: a plain Teams meeting link on a Teams host."""
    if not isinstance(meeting_url, str):
        raise broken
    try:
        inner = _split(meeting_url)
        if _platform_of(inner.host) != Platform.TEAMS.value:
            raise broken
        found = _teams_meeting(inner, allow_wrappers=False)
    except InvalidMeetingLink:
        raise broken from None
    if found.passcode or not passcode:
        return _TeamsMeeting(found.meeting_id, found.passcode, inner.url(fragment=True))
    # The passcode sits on the outer link only: the address the bot opens carries it too.
    query = f"{inner.query}&" if inner.query else ""
    inner = _Parts(inner.host, inner.path, f"{query}p={quote(passcode, safe='')}", inner.fragment)
    return _TeamsMeeting(found.meeting_id, passcode, inner.url(fragment=True))


def _teams_launcher(parts: _Parts) -> _TeamsMeeting:
    """The meeting a dl/launcher/launcher.html?url=/_#/... link hands to the web client.

    Only the two in-app targets are followed, always on the link's own host: the `url=` value
    never chooses where the bot goes.
    """
    not_meeting = InvalidMeetingLink("This Microsoft Teams launcher link does not lead to a Teams meeting")
    target = _query_value(parts.query, "url")
    if target is None:
        raise InvalidMeetingLink("This Microsoft Teams link has no meeting id")
    if target == "/_" and parts.fragment is not None:
        # Left unencoded, the '#' of url=/_#/... starts the link's own fragment.
        target += "#" + parts.fragment
    inner = target[len("/_#") :]
    if (
        not target.startswith("/_#/")
        or "#" in inner
        or "\\" in inner
        or any(_is_forbidden_char(char) for char in inner)
    ):
        raise not_meeting
    inner_path, _, inner_query = inner.partition("?")
    passcode = _passcode(inner_query, "p") or _passcode(parts.query, "p")
    if match := _TEAMS_MEET.fullmatch(inner_path):
        meet_id = _meeting_id(match.group(1), _TEAMS_MEET_ID_RE, "Microsoft Teams")
        passcode_query = f"?p={quote(passcode, safe='')}" if passcode else ""
        return _TeamsMeeting(meet_id, passcode, f"https://{parts.host}/meet/{meet_id}{passcode_query}")
    match = _TEAMS_LAUNCHER_MEETUP.fullmatch(inner_path)
    if match is None or not _TEAMS_MESSAGE_RE.fullmatch(match.group(2)):
        raise not_meeting
    thread = _meeting_id(unquote(match.group(1)), _TEAMS_THREAD_RE, "Microsoft Teams")
    context = _json_object(_query_value(inner_query, "context") or "")
    tenant, organizer = (context.get("Tid"), context.get("Oid")) if context else (None, None)
    if not (_is_party_id(tenant) and _is_party_id(organizer)):
        raise not_meeting
    join_url = _meetup_join_url(parts.host, thread, match.group(2), tenant, organizer, passcode)
    return _TeamsMeeting(thread, passcode, join_url)


def _is_party_id(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and bool(_TEAMS_PARTY_RE.fullmatch(value))


def _meetup_join_url(
    host: str, thread: str, message: str, tenant: str, organizer: str, passcode: str | None
) -> str:
    """https://<host>/l/meetup-join/<thread>/<message>?context={"Tid":..,"Oid":..}, encoded as Teams does."""
    host = _TEAMS_MEETUP_HOSTS.get(host, host)
    context = json.dumps({"Tid": tenant, "Oid": organizer}, separators=(",", ":"))
    url = f"https://{host}/l/meetup-join/{_teams_quote(thread)}/{message}?context={_teams_quote(context)}"
    return url + (f"&p={quote(passcode, safe='')}" if passcode else "")


def _teams_quote(text: str) -> str:
    # Teams writes its escapes in lowercase hex: 19%3ameeting_...%40thread.v2, %7b%22Tid%22...
    return re.sub(r"%[0-9A-F]{2}", lambda escape: escape.group().lower(), quote(text, safe=""))


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


# --- Zoom ------------------------------------------------------------------------------


def _parse_zoom(parts: _Parts) -> MeetingLink:
    # zoom.com hosts serve the same meetings as their zoom.us namesakes.
    host = parts.host
    if _belongs(host, "zoom.com"):
        host = host[: -len("zoom.com")] + "zoom.us"
        parts = _Parts(host, parts.path, parts.query, parts.fragment)
    passcode = _passcode(parts.query, "pwd")
    # The registrant token of a meeting that needs registration travels with the passcode.
    token = _secret(parts.query, ("tk",), "registration token", _MAX_TOKEN_LENGTH)
    if host == "events.zoom.us":
        return _zoom_event(parts, passcode)
    for shape, shape_kind in _ZOOM_SHAPES:
        if match := shape.fullmatch(parts.path):
            kind = shape_kind
            break
    else:
        raise InvalidMeetingLink("This Zoom link has no meeting id")
    pairs = [(key, value) for key, value in (("pwd", passcode), ("tk", token)) if value]
    query = "&".join(f"{key}={quote(value, safe='')}" for key, value in pairs)
    query = f"?{query}" if query else ""
    if kind == "my":
        name = _meeting_id(match.group(1), _NAME_RE, "Zoom")
        link = f"https://{host}/my/{name}{query}"
        return MeetingLink(Platform.ZOOM.value, name, passcode, link, link)
    number = _meeting_id(match.group(1), _ZOOM_NUMBER_RE, "Zoom", " (it must be 9 to 11 digits)")
    web_client_host = "app.zoomgov.com" if _belongs(host, "zoomgov.com") else "app.zoom.us"
    shown_path = f"/wc/{number}/join" if kind == "wc" else f"/{kind}/{number}"
    return MeetingLink(
        platform=Platform.ZOOM.value,
        meeting_id=number,
        passcode=passcode,
        join_url=f"https://{web_client_host}/wc/{number}/join{query}",
        normalized_link=f"https://{host}{shown_path}{query}",
    )


def _zoom_event(parts: _Parts, passcode: str | None) -> MeetingLink:
    segments = [segment for segment in parts.path.split("/") if segment]
    if not segments or not _EVENT_ID_RE.fullmatch(segments[-1]):
        raise InvalidMeetingLink("This Zoom Events link has no event id")
    # Zoom Events pages are their own web client: open the link as it is.
    link = parts.url(fragment=True)
    return MeetingLink(Platform.ZOOM.value, segments[-1], passcode, link, link)


# --- Google Meet -----------------------------------------------------------------------


def _parse_google_meet(parts: _Parts) -> MeetingLink:
    match = _MEET_PATH.fullmatch(parts.path)
    if match is None or not match.group(2):
        raise InvalidMeetingLink("This Google Meet link has no meeting code")
    code = match.group(2).lower()
    if _MEET_CODE_RE.fullmatch(code):
        link = f"https://meet.google.com/{code}"
    elif match.group(1) and _MEET_NICKNAME_RE.fullmatch(code):
        # A lookup nickname only resolves through /lookup/, so it stays there.
        link = f"https://meet.google.com/lookup/{code}"
    else:
        raise InvalidMeetingLink("This Google Meet link's meeting code must look like abc-defg-hij")
    # The bot reads the page's texts in English, whatever the account or machine language
    # (docs/PLATFORMS.md, "Links").
    return MeetingLink(Platform.GOOGLE_MEET.value, code, None, f"{link}?hl=en", link)


# --- Webex -----------------------------------------------------------------------------


def _parse_webex(parts: _Parts) -> MeetingLink:
    if parts.host == "webex.com":
        raise InvalidMeetingLink("This Webex link has no site name (expected <site>.webex.com)")
    if _WEBEX_JPHP.fullmatch(parts.path):
        raw_id = _query_value(parts.query, "MTID") or ""
    else:
        matches = (shape.fullmatch(parts.path) for shape in _WEBEX_PATH_ID_SHAPES)
        match = next((found for found in matches if found), None)
        if match is None:
            raise InvalidMeetingLink("This Webex link has no meeting id")
        raw_id = match.group(1)
    meeting_id = _meeting_id(raw_id, _NAME_RE, "Webex")
    link = parts.url(fragment=False)
    passcode = _passcode(parts.query, "pwd", "password")
    return MeetingLink(Platform.WEBEX.value, meeting_id, passcode, link, link)


_PARSERS: dict[str, Callable[[_Parts], MeetingLink]] = {
    Platform.TEAMS.value: _parse_teams,
    Platform.ZOOM.value: _parse_zoom,
    Platform.GOOGLE_MEET.value: _parse_google_meet,
    Platform.WEBEX.value: _parse_webex,
}
