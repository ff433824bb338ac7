"""Meeting links: every accepted shape, every rejection, and properties over arbitrary input."""
from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.errors import InvalidMeetingLink, UnsupportedPlatform
from app.links import (
    MAX_LINK_LENGTH,
    PLATFORM_HOSTS,
    MeetingLink,
    detect_platform,
    parse_meeting_link,
)
from app.models import Platform

THREAD = "19:meeting_NjQ0YTQ4ZDgtMDg1Zi00ZDBkLWE0NWYtY2Q5ZDIwZTU4ZGQ2@thread.v2"
THREAD_IN_PATH = quote(THREAD, safe="").replace("%3A", "%3a")  # as Outlook writes it: 19%3ameeting_...%40thread.v2
TENANT, ORGANIZER = "72f988bf-86f1-41af-91ab-2d7cd011db47", "d1e2"
CONTEXT = "%7b%22Tid%22%3a%2272f988bf-86f1-41af-91ab-2d7cd011db47%22%2c%22Oid%22%3a%22d1e2%22%7d"
RAW_CONTEXT = '{"Tid":"72f988bf-86f1-41af-91ab-2d7cd011db47","Oid":"d1e2"}'
MEETUP = f"https://teams.microsoft.com/l/meetup-join/{THREAD_IN_PATH}/0?context={CONTEXT}"
MTID = "m0123456789abcdef0123456789abcdef"


def coords(payload: object, *, urlsafe: bool = False, percent_json: bool = False) -> str:
    """The `coords` query value of a Teams light-meetings link, as Teams builds it."""
    text = payload if isinstance(payload, str) else json.dumps(payload)
    if percent_json:
        text = quote(text, safe="")
    raw = text.encode()
    if urlsafe:
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return quote(base64.b64encode(raw).decode(), safe="")


def launch(coords_value: str, extra: str = "", host: str = "teams.microsoft.com") -> str:
    return (
        f"https://{host}/light-meetings/launch?agent=web&version=25010000000"
        f"&coords={coords_value}&deeplinkId=9b1c{extra}"
    )


def launcher(target: str, host: str = "teams.microsoft.com", *, encode: bool = True) -> str:
    """A Teams dl/launcher link; `target` is the in-app address, /_#/..., as Teams builds it."""
    value = quote(target, safe="") if encode else target
    return f"https://{host}/dl/launcher/launcher.html?url={value}&type=meetup-join&deeplinkId=5e0f&directDl=true"


def meetup(host: str, message: str = "0", passcode: str | None = None) -> str:
    """The meetup-join address the bot opens for THREAD in the TENANT/ORGANIZER meeting."""
    link = f"https://{host}/l/meetup-join/{THREAD_IN_PATH}/{message}?context={CONTEXT}"
    return link if passcode is None else f"{link}&p={passcode}"


def joined(link: str, platform: str, meeting_id: str, passcode: str | None, join_url: str):
    """An accepted link opened at another address, shown as the user gave it."""
    return link, platform, meeting_id, passcode, join_url, link


def same(link: str, platform: str, meeting_id: str, passcode: str | None = None):
    """An accepted link whose join URL and canonical form are the link itself."""
    return link, platform, meeting_id, passcode, link, link


TEAMS, ZOOM, MEET, WEBEX = (p.value for p in Platform)
MEETING = {"conversationId": THREAD, "tenantId": TENANT, "organizerId": ORGANIZER}
LAUNCH_BY_CONVERSATION = launch(coords({"conversationId": THREAD, "tenantId": "t1", "messageId": "0"}))
LAUNCH_BY_THREAD = launch(coords({"threadId": THREAD}, urlsafe=True))
LAUNCH_BY_MEETING_URL = launch(coords({"meetingUrl": f"{MEETUP}&p=Pass123"}))
LAUNCH_PERCENT_JSON = launch(coords({"conversationId": THREAD}, percent_json=True), "&p=Outer9")
LAUNCH_FULL = launch(coords(MEETING))
V2_FRAGMENT = f"https://teams.microsoft.com/v2/?meetingjoin=true#/l/meetup-join/{THREAD_IN_PATH}/0?context={CONTEXT}&anon=true"
V2_IN_MEETING_URL = f"https://teams.microsoft.com/v2/?meetingjoin=true#/l/meetup-join/{THREAD_IN_PATH}/0?context={CONTEXT}"
LAUNCHER_MEETUP_TARGET = f"/_#/l/meetup-join/{THREAD_IN_PATH}/0?context={CONTEXT}&anon=true"

# (link, platform, meeting_id, passcode, join_url, normalized_link)
ACCEPTED = [
    # Microsoft Teams: the web client follows the whole link, so it is kept as it is.
    pytest.param(*same(MEETUP, TEAMS, THREAD), id="teams-meetup-join"),
    pytest.param(
        *same(f'https://teams.microsoft.com/l/meetup-join/{THREAD_IN_PATH}/1700000000000?context={{"Tid":"72f9","Oid":"d1e2"}}', TEAMS, THREAD),
        id="teams-meetup-join-raw-context",
    ),
    pytest.param(*same(f"https://teams.microsoft.com/l/meetup-join/{THREAD_IN_PATH}/0", TEAMS, THREAD), id="teams-meetup-join-no-context"),
    pytest.param(*same("https://teams.microsoft.com/meet/2345678901234?p=AbCdEfGh12", TEAMS, "2345678901234", "AbCdEfGh12"), id="teams-meet-passcode"),
    pytest.param(*same("https://teams.microsoft.com/meet/2345678901234", TEAMS, "2345678901234"), id="teams-meet-no-passcode"),
    pytest.param(*same("https://teams.live.com/meet/9365867052786?p=xYz123Qw", TEAMS, "9365867052786", "xYz123Qw"), id="teams-live"),
    pytest.param(*same(LAUNCH_BY_CONVERSATION, TEAMS, THREAD), id="teams-light-meetings-conversation"),
    pytest.param(*same(LAUNCH_BY_THREAD, TEAMS, THREAD), id="teams-light-meetings-thread-urlsafe"),
    pytest.param(
        *joined(LAUNCH_BY_MEETING_URL, TEAMS, THREAD, "Pass123", f"{MEETUP}&p=Pass123"),
        id="teams-light-meetings-meeting-url",
    ),
    pytest.param(*same(LAUNCH_PERCENT_JSON, TEAMS, THREAD, "Outer9"), id="teams-light-meetings-percent-json"),
    pytest.param(*same(V2_FRAGMENT, TEAMS, THREAD), id="teams-v2-fragment"),
    pytest.param(*same(f"https://gov.teams.microsoft.us/l/meetup-join/{THREAD_IN_PATH}/0", TEAMS, THREAD), id="teams-gcc-high"),
    pytest.param(*same(meetup("teams.cloud.microsoft"), TEAMS, THREAD), id="teams-cloud-microsoft"),
    pytest.param(*same("https://eu.teams.cloud.microsoft/meet/2345678901234?p=Cl1", TEAMS, "2345678901234", "Cl1"), id="teams-cloud-microsoft-subdomain"),
    # Light-meetings coords naming thread, tenant and organizer: the bot opens the meetup-join
    # address they make (teams.live.com meetings on teams.microsoft.com); the link is shown as given.
    pytest.param(*joined(LAUNCH_FULL, TEAMS, THREAD, None, MEETUP), id="teams-light-meetings-full-coords"),
    pytest.param(
        *joined(launch(coords({**MEETING, "messageId": "1700000000000"}), "&p=Ab%2B1"), TEAMS, THREAD, "Ab+1", meetup("teams.microsoft.com", "1700000000000", "Ab%2B1")),
        id="teams-light-meetings-full-coords-message-passcode",
    ),
    pytest.param(
        *joined(launch(coords({**MEETING, "messageId": 1700000000000}, urlsafe=True)), TEAMS, THREAD, None, meetup("teams.microsoft.com", "1700000000000")),
        id="teams-light-meetings-message-number",
    ),
    pytest.param(
        *joined(launch(coords({"threadId": THREAD, "tenantId": TENANT, "organizerId": ORGANIZER}, percent_json=True)), TEAMS, THREAD, None, MEETUP),
        id="teams-light-meetings-thread-id-full",
    ),
    pytest.param(*joined(launch(coords(MEETING), host="teams.live.com"), TEAMS, THREAD, None, MEETUP), id="teams-light-meetings-live-host"),
    pytest.param(
        *joined(launch(coords(MEETING), host="gov.teams.microsoft.us"), TEAMS, THREAD, None, meetup("gov.teams.microsoft.us")),
        id="teams-light-meetings-gov-host",
    ),
    pytest.param(
        *joined(launch(coords(MEETING), "&p=Q1", host="teams.cloud.microsoft"), TEAMS, THREAD, "Q1", meetup("teams.cloud.microsoft", passcode="Q1")),
        id="teams-light-meetings-cloud-host",
    ),
    pytest.param(*same(launch(coords({"conversationId": THREAD, "organizerId": ORGANIZER})), TEAMS, THREAD), id="teams-light-meetings-no-tenant"),
    pytest.param(*same(launch(coords({**MEETING, "tenantId": ""})), TEAMS, THREAD), id="teams-light-meetings-empty-tenant"),
    pytest.param(*same(launch(coords({**MEETING, "organizerId": None}), "&p=Nn1"), TEAMS, THREAD, "Nn1"), id="teams-light-meetings-null-organizer"),
    # A nested meetingUrl is opened at its own address, passcode included.
    pytest.param(
        *joined(launch(coords({**MEETING, "messageId": "5", "meetingUrl": MEETUP})), TEAMS, THREAD, None, MEETUP),
        id="teams-light-meetings-meeting-url-wins",
    ),
    pytest.param(
        *joined(launch(coords({"meetingUrl": MEETUP}), "&p=Out1"), TEAMS, THREAD, "Out1", f"{MEETUP}&p=Out1"),
        id="teams-light-meetings-meeting-url-outer-passcode",
    ),
    pytest.param(
        *joined(launch(coords({"meetingUrl": "https://teams.live.com/meet/9365867052786"}), "&p=xYz1"), TEAMS, "9365867052786", "xYz1", "https://teams.live.com/meet/9365867052786?p=xYz1"),
        id="teams-light-meetings-meeting-url-meet",
    ),
    pytest.param(
        *joined(launch(coords({"meetingUrl": V2_IN_MEETING_URL}), "&p=V2p"), TEAMS, THREAD, "V2p", f"https://teams.microsoft.com/v2/?meetingjoin=true&p=V2p#/l/meetup-join/{THREAD_IN_PATH}/0?context={CONTEXT}"),
        id="teams-light-meetings-meeting-url-v2-fragment",
    ),
    # dl/launcher links: the in-app address in url= becomes the meeting's own address.
    pytest.param(*joined(launcher(LAUNCHER_MEETUP_TARGET), TEAMS, THREAD, None, MEETUP), id="teams-launcher-meetup"),
    pytest.param(
        *joined(launcher(f"/_#/l/meetup-join/{THREAD}/1700000000000?context={RAW_CONTEXT}&anon=true", "teams.live.com", encode=False), TEAMS, THREAD, None, meetup("teams.microsoft.com", "1700000000000")),
        id="teams-launcher-meetup-raw-live",
    ),
    pytest.param(
        *joined(launcher(f"/_#/l/meetup-join/{THREAD_IN_PATH}/0?context={quote(RAW_CONTEXT, safe='')}&p=In1", "dod.teams.microsoft.us"), TEAMS, THREAD, "In1", meetup("dod.teams.microsoft.us", passcode="In1")),
        id="teams-launcher-meetup-dod-passcode",
    ),
    pytest.param(
        *joined(launcher("/_#/meet/9365867052786?p=xYz123Qw&anon=true&type=meet", "teams.live.com"), TEAMS, "9365867052786", "xYz123Qw", "https://teams.live.com/meet/9365867052786?p=xYz123Qw"),
        id="teams-launcher-meet-live",
    ),
    pytest.param(
        *joined(launcher("/_#/meet/2345678901234?p=a%2Bb", "teams.cloud.microsoft"), TEAMS, "2345678901234", "a+b", "https://teams.cloud.microsoft/meet/2345678901234?p=a%2Bb"),
        id="teams-launcher-meet-cloud",
    ),
    pytest.param(
        *joined("https://teams.microsoft.com/dl/launcher/launcher.html?url=/_#/meet/2345678901234?p=Raw1&anon=true", TEAMS, "2345678901234", "Raw1", "https://teams.microsoft.com/meet/2345678901234?p=Raw1"),
        id="teams-launcher-meet-raw",
    ),
    pytest.param(
        *joined(launcher("/_#/meet/2345678901234"), TEAMS, "2345678901234", None, "https://teams.microsoft.com/meet/2345678901234"),
        id="teams-launcher-meet-no-passcode",
    ),
    pytest.param(*same("https://dod.teams.microsoft.us/meet/2345678901234?p=Dod1", TEAMS, "2345678901234", "Dod1"), id="teams-dod"),
    pytest.param(
        "HTTPS://Teams.Microsoft.COM:443/meet/2345678901234?p=Ab1", TEAMS, "2345678901234", "Ab1",
        "https://teams.microsoft.com/meet/2345678901234?p=Ab1", "https://teams.microsoft.com/meet/2345678901234?p=Ab1",
        id="teams-uppercase-host-default-port",
    ),
    # Zoom: the bot opens the web client; the canonical link keeps the host the user gave.
    pytest.param(
        "https://us02web.zoom.us/j/81234567890?pwd=aBcDeFgH12345.1", ZOOM, "81234567890", "aBcDeFgH12345.1",
        "https://app.zoom.us/wc/81234567890/join?pwd=aBcDeFgH12345.1", "https://us02web.zoom.us/j/81234567890?pwd=aBcDeFgH12345.1",
        id="zoom-j-pwd",
    ),
    pytest.param(
        "https://zoom.us/j/123456789", ZOOM, "123456789", None,
        "https://app.zoom.us/wc/123456789/join", "https://zoom.us/j/123456789",
        id="zoom-j-nine-digits-no-pwd",
    ),
    pytest.param(
        "https://acme.zoom.us/j/1234567890/?pwd=Xy9&uname=Bob#success", ZOOM, "1234567890", "Xy9",
        "https://app.zoom.us/wc/1234567890/join?pwd=Xy9", "https://acme.zoom.us/j/1234567890?pwd=Xy9",
        id="zoom-vanity-extra-query-fragment",
    ),
    pytest.param(
        "https://zoom.us/j/123456789?pwd=ab%2Bcd", ZOOM, "123456789", "ab+cd",
        "https://app.zoom.us/wc/123456789/join?pwd=ab%2Bcd", "https://zoom.us/j/123456789?pwd=ab%2Bcd",
        id="zoom-encoded-pwd",
    ),
    pytest.param(
        "https://zoom.us/w/98765432101?pwd=Web1", ZOOM, "98765432101", "Web1",
        "https://app.zoom.us/wc/98765432101/join?pwd=Web1", "https://zoom.us/w/98765432101?pwd=Web1",
        id="zoom-webinar",
    ),
    pytest.param(*same("https://zoom.us/my/jane.doe", ZOOM, "jane.doe"), id="zoom-personal"),
    pytest.param(*same("https://acme.zoom.us/my/jane.doe?pwd=Pm1", ZOOM, "jane.doe", "Pm1"), id="zoom-personal-pwd"),
    pytest.param(
        "https://app.zoom.us/wc/81234567890/join?pwd=Wc1&fromPWA=1", ZOOM, "81234567890", "Wc1",
        "https://app.zoom.us/wc/81234567890/join?pwd=Wc1", "https://app.zoom.us/wc/81234567890/join?pwd=Wc1",
        id="zoom-web-client",
    ),
    pytest.param(
        "https://zoom.us/wc/join/81234567890", ZOOM, "81234567890", None,
        "https://app.zoom.us/wc/81234567890/join", "https://zoom.us/wc/81234567890/join",
        id="zoom-web-client-old-order",
    ),
    pytest.param(
        "https://zoomgov.com/j/1612345678?pwd=Gov1", ZOOM, "1612345678", "Gov1",
        "https://app.zoomgov.com/wc/1612345678/join?pwd=Gov1", "https://zoomgov.com/j/1612345678?pwd=Gov1",
        id="zoomgov",
    ),
    pytest.param(
        "https://agency.zoomgov.com/j/1612345678", ZOOM, "1612345678", None,
        "https://app.zoomgov.com/wc/1612345678/join", "https://agency.zoomgov.com/j/1612345678",
        id="zoomgov-subdomain",
    ),
    pytest.param(*same("https://events.zoom.us/ev/AkBc123~xYz-9", ZOOM, "AkBc123~xYz-9"), id="zoom-events"),
    pytest.param(*same("https://events.zoom.us/e/view/ev123?pwd=Ev1", ZOOM, "ev123", "Ev1"), id="zoom-events-view"),
    # The registrant token tk travels with the passcode; zoom.com hosts are shown as zoom.us.
    pytest.param(
        "https://us02web.zoom.us/j/81234567890?tk=Ab-c_D.e&pwd=Pw1&uname=Bob", ZOOM, "81234567890", "Pw1",
        "https://app.zoom.us/wc/81234567890/join?pwd=Pw1&tk=Ab-c_D.e", "https://us02web.zoom.us/j/81234567890?pwd=Pw1&tk=Ab-c_D.e",
        id="zoom-registrant-token",
    ),
    pytest.param(
        "https://zoom.us/w/98765432101?tk=a%2Bb%3D", ZOOM, "98765432101", None,
        "https://app.zoom.us/wc/98765432101/join?tk=a%2Bb%3D", "https://zoom.us/w/98765432101?tk=a%2Bb%3D",
        id="zoom-registrant-token-only",
    ),
    pytest.param(
        "https://zoomgov.com/j/1612345678?pwd=Gov1&tk=GovTok", ZOOM, "1612345678", "Gov1",
        "https://app.zoomgov.com/wc/1612345678/join?pwd=Gov1&tk=GovTok", "https://zoomgov.com/j/1612345678?pwd=Gov1&tk=GovTok",
        id="zoomgov-registrant-token",
    ),
    pytest.param(*same("https://zoom.us/my/jane.doe?pwd=Pm1&tk=Tk1", ZOOM, "jane.doe", "Pm1"), id="zoom-personal-token"),
    pytest.param(
        "https://zoom.com/j/123456789", ZOOM, "123456789", None,
        "https://app.zoom.us/wc/123456789/join", "https://zoom.us/j/123456789",
        id="zoom-com",
    ),
    pytest.param(
        "https://US05web.Zoom.com/j/81234567890?pwd=abc.1&tk=Tk-2", ZOOM, "81234567890", "abc.1",
        "https://app.zoom.us/wc/81234567890/join?pwd=abc.1&tk=Tk-2", "https://us05web.zoom.us/j/81234567890?pwd=abc.1&tk=Tk-2",
        id="zoom-com-subdomain",
    ),
    pytest.param(
        "https://app.zoom.com/wc/81234567890/join?pwd=Wc1", ZOOM, "81234567890", "Wc1",
        "https://app.zoom.us/wc/81234567890/join?pwd=Wc1", "https://app.zoom.us/wc/81234567890/join?pwd=Wc1",
        id="zoom-com-web-client",
    ),
    pytest.param(
        "https://zoom.com/my/jane.doe", ZOOM, "jane.doe", None,
        "https://zoom.us/my/jane.doe", "https://zoom.us/my/jane.doe",
        id="zoom-com-personal",
    ),
    # Google Meet: one canonical form, query dropped, code lowercase; the bot opens it in English.
    pytest.param(
        "https://meet.google.com/abc-defg-hij", MEET, "abc-defg-hij", None,
        "https://meet.google.com/abc-defg-hij?hl=en", "https://meet.google.com/abc-defg-hij",
        id="meet",
    ),
    pytest.param(
        "https://meet.google.com/ABC-DeFg-HIJ?authuser=1", MEET, "abc-defg-hij", None,
        "https://meet.google.com/abc-defg-hij?hl=en", "https://meet.google.com/abc-defg-hij",
        id="meet-uppercase-authuser",
    ),
    pytest.param(
        "https://meet.google.com/abc-defg-hij/?hs=122&authuser=0#x", MEET, "abc-defg-hij", None,
        "https://meet.google.com/abc-defg-hij?hl=en", "https://meet.google.com/abc-defg-hij",
        id="meet-hs-trailing-slash",
    ),
    pytest.param(
        "https://meet.google.com/abc-defg-hij?hl=de", MEET, "abc-defg-hij", None,
        "https://meet.google.com/abc-defg-hij?hl=en", "https://meet.google.com/abc-defg-hij",
        id="meet-other-language",
    ),
    pytest.param(
        "https://meet.google.com/lookup/abc-defg-hij", MEET, "abc-defg-hij", None,
        "https://meet.google.com/abc-defg-hij?hl=en", "https://meet.google.com/abc-defg-hij",
        id="meet-lookup-code",
    ),
    pytest.param(
        "https://meet.google.com/lookup/teamstandup2?authuser=0", MEET, "teamstandup2", None,
        "https://meet.google.com/lookup/teamstandup2?hl=en", "https://meet.google.com/lookup/teamstandup2",
        id="meet-lookup-nickname",
    ),
    # Webex: the link is the web client, minus any fragment.
    pytest.param(*same("https://acme.webex.com/meet/jane.doe", WEBEX, "jane.doe"), id="webex-personal-room"),
    pytest.param(*same(f"https://acme.webex.com/acme/j.php?MTID={MTID}", WEBEX, MTID), id="webex-jphp"),
    pytest.param(
        *same(f"https://acme.my.webex.com/acme.my/j.php?MTID={MTID}&pwd=Secret1", WEBEX, MTID, "Secret1"),
        id="webex-my-site-pwd",
    ),
    pytest.param(
        *same(f"https://acme.webex.com/wbxmjs/joinservice/sites/acme/meeting/download/0123456789abcdef0123456789abcdef?siteurl=acme&MTID={MTID}", WEBEX, "0123456789abcdef0123456789abcdef"),
        id="webex-joinservice",
    ),
    pytest.param(
        *same(f"https://acme.webex.com/webappng/sites/acme/meeting/info/7b8e9f10a1b2c3d4?MTID={MTID}&password=Pw2", WEBEX, "7b8e9f10a1b2c3d4", "Pw2"),
        id="webex-webappng",
    ),
    pytest.param(
        "https://ACME.webex.com/meet/jane.doe#top", WEBEX, "jane.doe", None,
        "https://acme.webex.com/meet/jane.doe", "https://acme.webex.com/meet/jane.doe",
        id="webex-uppercase-host-fragment",
    ),
    pytest.param(
        "  \thttps://zoom.us/j/123456789\n ", ZOOM, "123456789", None,
        "https://app.zoom.us/wc/123456789/join", "https://zoom.us/j/123456789",
        id="surrounding-whitespace",
    ),
]


@pytest.mark.parametrize("link, platform, meeting_id, passcode, join_url, normalized", ACCEPTED)
def test_accepted_link(link, platform, meeting_id, passcode, join_url, normalized):
    parsed = parse_meeting_link(link)
    assert parsed == MeetingLink(platform, meeting_id, passcode, join_url, normalized)
    assert detect_platform(link) == platform


INVALID, UNSUPPORTED = InvalidMeetingLink, UnsupportedPlatform
NOT_HTTPS = "valid HTTPS URL"
NO_ID = "has no meeting id"
BROKEN_COORDS = "coordinates cannot be read"
NOT_A_MEETING = "launcher link does not lead to a Teams meeting"
TOKEN = "registration token"

# (link, error, words the message must hold)
REJECTED = [
    pytest.param("", INVALID, "empty", id="empty"),
    pytest.param("   \n", INVALID, "empty", id="blank"),
    pytest.param(None, INVALID, NOT_HTTPS, id="none"),
    pytest.param(12345, INVALID, NOT_HTTPS, id="not-text"),
    pytest.param("http://zoom.us/j/123456789", INVALID, NOT_HTTPS, id="http"),
    pytest.param("ftp://zoom.us/j/123456789", INVALID, NOT_HTTPS, id="ftp"),
    pytest.param("javascript:alert(1)//zoom.us/j/123456789", INVALID, NOT_HTTPS, id="javascript"),
    pytest.param("zoom.us/j/123456789", INVALID, NOT_HTTPS, id="no-scheme"),
    pytest.param("https:zoom.us/j/123456789", INVALID, NOT_HTTPS, id="no-slashes"),
    pytest.param("https://", INVALID, NOT_HTTPS, id="scheme-only"),
    pytest.param("https:///j/123456789", INVALID, NOT_HTTPS, id="no-host"),
    pytest.param("https://zoom.us\\@evil.example/j/123456789", INVALID, NOT_HTTPS, id="backslash"),
    pytest.param("https://zoom.us@evil.example/j/123456789", INVALID, "user name or password", id="credentials-host"),
    pytest.param("https://user:secret@zoom.us/j/123456789", INVALID, "user name or password", id="credentials-user"),
    pytest.param("https://teams.microsoft.com.evil.example/l/meetup-join/x/0", UNSUPPORTED, "Unsupported meeting platform", id="lookalike-suffix"),
    pytest.param("https://evil.example/teams.microsoft.com", UNSUPPORTED, "Unsupported", id="lookalike-path"),
    pytest.param("https://evil.example/?next=https://zoom.us/j/123456789", UNSUPPORTED, "Unsupported", id="lookalike-query"),
    pytest.param("https://evil.example#https://meet.google.com/abc-defg-hij", UNSUPPORTED, "Unsupported", id="lookalike-fragment"),
    pytest.param("https://notzoom.us/j/123456789", UNSUPPORTED, "Unsupported", id="lookalike-glued"),
    pytest.param("https://zoom.us.evil.example/j/123456789", UNSUPPORTED, "Unsupported", id="lookalike-zoom"),
    pytest.param("https://meet.google.com.evil.example/abc-defg-hij", UNSUPPORTED, "Unsupported", id="lookalike-meet"),
    pytest.param("https://google.com/abc-defg-hij", UNSUPPORTED, "Unsupported", id="google-not-meet"),
    pytest.param("https://webex.com.evil.example/meet/jane", UNSUPPORTED, "Unsupported", id="lookalike-webex"),
    pytest.param("https://microsoft.com/meet/2345678901234", UNSUPPORTED, "Unsupported", id="microsoft-not-teams"),
    pytest.param("https://cloud.microsoft/meet/2345678901234", UNSUPPORTED, "Unsupported", id="cloud-microsoft-not-teams"),
    pytest.param("https://outlook.cloud.microsoft/meet/2345678901234", UNSUPPORTED, "Unsupported", id="outlook-cloud-not-teams"),
    pytest.param("https://notteams.cloud.microsoft/meet/2345678901234", UNSUPPORTED, "Unsupported", id="lookalike-teams-cloud-glued"),
    pytest.param("https://teams.cloud.microsoft.evil.example/meet/2345678901234", UNSUPPORTED, "Unsupported", id="lookalike-teams-cloud"),
    pytest.param("https://zoom.com.evil.example/j/123456789", UNSUPPORTED, "Unsupported", id="lookalike-zoom-com"),
    pytest.param("https://notzoom.com/j/123456789", UNSUPPORTED, "Unsupported", id="lookalike-zoom-com-glued"),
    pytest.param("https://zoom.co/j/123456789", UNSUPPORTED, "Unsupported", id="zoom-co"),
    pytest.param("https://example.com/j/123456789", UNSUPPORTED, "Unsupported", id="other-site"),
    pytest.param("https://1.2.3.4/j/123456789", UNSUPPORTED, "Unsupported", id="ipv4"),
    pytest.param("https://[::1]/j/123456789", UNSUPPORTED, "Unsupported", id="ipv6"),
    pytest.param("https://[zoom.us]/j/123456789", INVALID, "malformed host", id="bad-ipv6"),
    pytest.param("https://z\u043e\u043em.us/j/123456789", INVALID, "ASCII", id="cyrillic-lookalike"),
    pytest.param("https://zoom\uff0eus/j/123456789", INVALID, "ASCII", id="fullwidth-dot"),
    pytest.param("https://xn--zm-jlca.us/j/123456789", INVALID, "internationalized", id="punycode"),
    pytest.param("https://xn--80ak6aa92e.zoom.us/j/123456789", INVALID, "internationalized", id="punycode-subdomain"),
    pytest.param("https://zoom%2eus/j/123456789", INVALID, "malformed host", id="encoded-host"),
    pytest.param("https://zoom..us/j/123456789", INVALID, "malformed host", id="empty-label"),
    pytest.param("https://zoom.us./j/123456789", INVALID, "malformed host", id="trailing-dot"),
    pytest.param("https://zoom.us:8443/j/123456789", INVALID, "port", id="odd-port"),
    pytest.param("https://zoom.us:80/j/123456789", INVALID, "port", id="port-80"),
    pytest.param("https://zoom.us:/j/123456789", INVALID, NOT_HTTPS, id="empty-port"),
    pytest.param("https://zoom.us:443:443/j/123456789", INVALID, NOT_HTTPS, id="double-port"),
    pytest.param("https://zoom.us:abc/j/123456789", INVALID, NOT_HTTPS, id="word-port"),
    pytest.param("https://zoom.us/j/123 456 789", INVALID, "spaces or control", id="inner-space"),
    pytest.param("https://zoom.us/j/123456789\n?pwd=x", INVALID, "spaces or control", id="inner-newline"),
    pytest.param("https://zoom.us/j/12345\t6789", INVALID, "spaces or control", id="inner-tab"),
    pytest.param("https://zoom.us/j/123456789\x00", INVALID, "spaces or control", id="nul"),
    pytest.param("https://zoom.us\u200b/j/123456789", INVALID, "spaces or control", id="zero-width"),
    pytest.param("https://evil.example\u202e/su.mooz", INVALID, "spaces or control", id="bidi-override"),
    pytest.param("https://zoom.us/j/123456789?pwd=" + "a" * MAX_LINK_LENGTH, INVALID, "too long", id="too-long"),
    # Zoom
    pytest.param("https://zoom.us", INVALID, "This Zoom link has no meeting id", id="zoom-bare"),
    pytest.param("https://zoom.us/", INVALID, "This Zoom link has no meeting id", id="zoom-root"),
    pytest.param("https://zoom.us/j/", INVALID, "This Zoom link has no meeting id", id="zoom-j-empty"),
    pytest.param("https://zoom.us/j?pwd=abc", INVALID, "This Zoom link has no meeting id", id="zoom-j-no-slash"),
    pytest.param("https://zoom.us/pricing", INVALID, "This Zoom link has no meeting id", id="zoom-other-page"),
    pytest.param("https://zoom.us/j/12345678", INVALID, "9 to 11 digits", id="zoom-id-short"),
    pytest.param("https://zoom.us/j/123456789012", INVALID, "9 to 11 digits", id="zoom-id-long"),
    pytest.param("https://zoom.us/j/12345678a", INVALID, "9 to 11 digits", id="zoom-id-letter"),
    pytest.param("https://zoom.us/j/\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669", INVALID, "9 to 11 digits", id="zoom-id-arabic-digits"),
    pytest.param("https://zoom.us/j/123456789/extra", INVALID, "This Zoom link has no meeting id", id="zoom-extra-segment"),
    pytest.param("https://zoom.us/my/", INVALID, "This Zoom link has no meeting id", id="zoom-my-empty"),
    pytest.param("https://zoom.us/my/..", INVALID, "malformed", id="zoom-my-dots"),
    pytest.param("https://zoom.us/j/123456789?pwd=a%20b", INVALID, "passcode", id="zoom-pwd-space"),
    pytest.param("https://zoom.us/j/123456789?pwd=%00", INVALID, "passcode", id="zoom-pwd-nul"),
    pytest.param("https://zoom.us/j/123456789?pwd=%E2%80%8B", INVALID, "passcode", id="zoom-pwd-zero-width"),
    pytest.param("https://zoom.us/j/123456789?pwd=" + "a" * 257, INVALID, "passcode is too long", id="zoom-pwd-too-long"),
    pytest.param("https://events.zoom.us/", INVALID, "no event id", id="zoom-events-root"),
    pytest.param("https://zoom.com/", INVALID, "This Zoom link has no meeting id", id="zoom-com-root"),
    pytest.param("https://us05web.zoom.com/j/12345678", INVALID, "9 to 11 digits", id="zoom-com-id-short"),
    pytest.param("https://zoom.us/j/123456789?tk=a%20b", INVALID, TOKEN, id="zoom-tk-space"),
    pytest.param("https://zoom.us/j/123456789?pwd=ok&tk=%00", INVALID, TOKEN, id="zoom-tk-nul"),
    pytest.param("https://zoom.us/j/123456789?tk=%C3%A9", INVALID, TOKEN, id="zoom-tk-non-ascii"),
    pytest.param("https://zoom.us/j/123456789?tk=" + "a" * 513, INVALID, "registration token is too long", id="zoom-tk-too-long"),
    pytest.param("https://zoom.us/my/jane.doe?tk=%0A", INVALID, TOKEN, id="zoom-personal-tk-newline"),
    # Google Meet
    pytest.param("https://meet.google.com/", INVALID, "no meeting code", id="meet-root"),
    pytest.param("https://meet.google.com/lookup/", INVALID, "no meeting code", id="meet-lookup-empty"),
    pytest.param("https://meet.google.com/abc-defg-hi", INVALID, "abc-defg-hij", id="meet-short-code"),
    pytest.param("https://meet.google.com/abc-defg-hijk", INVALID, "abc-defg-hij", id="meet-long-code"),
    pytest.param("https://meet.google.com/abc-d3fg-hij", INVALID, "abc-defg-hij", id="meet-digit-code"),
    pytest.param("https://meet.google.com/new", INVALID, "abc-defg-hij", id="meet-new"),
    pytest.param("https://meet.google.com/abc-defg-hij/extra", INVALID, "no meeting code", id="meet-extra-segment"),
    pytest.param("https://meet.google.com/lookup/bad.nick", INVALID, "abc-defg-hij", id="meet-lookup-bad-nickname"),
    # Microsoft Teams
    pytest.param("https://teams.microsoft.com/", INVALID, NO_ID, id="teams-root"),
    pytest.param("https://teams.microsoft.com/l/meetup-join/", INVALID, NO_ID, id="teams-meetup-empty"),
    pytest.param("https://teams.microsoft.com/l/meetup-join//0", INVALID, NO_ID, id="teams-meetup-empty-thread"),
    pytest.param("https://teams.microsoft.com/l/meetup-join/19%3ameeting%00x/0", INVALID, "malformed", id="teams-thread-nul"),
    pytest.param("https://teams.microsoft.com/l/meetup-join/19%3a%20x/0", INVALID, "malformed", id="teams-thread-space"),
    pytest.param("https://teams.microsoft.com/l/channel/19%3aabc%40thread.tacv2/General", INVALID, NO_ID, id="teams-channel"),
    pytest.param("https://teams.microsoft.com/meet/", INVALID, NO_ID, id="teams-meet-empty"),
    pytest.param("https://teams.microsoft.com/meet/12?p=x", INVALID, "malformed", id="teams-meet-short"),
    pytest.param("https://teams.microsoft.com/meet/2345678901234?p=%20", INVALID, "passcode", id="teams-bad-passcode"),
    pytest.param("https://teams.microsoft.com/v2/?meetingjoin=true", INVALID, NO_ID, id="teams-v2-no-fragment"),
    pytest.param("https://teams.microsoft.com/v2/?meetingjoin=true#/l/channel/x", INVALID, NO_ID, id="teams-v2-other-fragment"),
    pytest.param("https://teams.microsoft.com/light-meetings/launch?agent=web", INVALID, NO_ID, id="teams-launch-no-coords"),
    pytest.param(launch("!!!not-base64!!!"), INVALID, BROKEN_COORDS, id="teams-coords-not-base64"),
    pytest.param(launch(coords("not json at all")), INVALID, BROKEN_COORDS, id="teams-coords-not-json"),
    pytest.param(launch(quote(base64.b64encode(b"\xff\xfe{}").decode(), safe="")), INVALID, BROKEN_COORDS, id="teams-coords-not-utf8"),
    pytest.param(launch(coords([THREAD])), INVALID, BROKEN_COORDS, id="teams-coords-list"),
    pytest.param(launch(coords({"tenantId": "t1"})), INVALID, BROKEN_COORDS, id="teams-coords-no-meeting"),
    pytest.param(launch(coords({"conversationId": 19})), INVALID, BROKEN_COORDS, id="teams-coords-id-not-text"),
    pytest.param(launch(coords({"threadId": "has space"})), INVALID, BROKEN_COORDS, id="teams-coords-bad-thread"),
    pytest.param(launch(coords({"meetingUrl": "https://evil.example/l/meetup-join/x/0"})), INVALID, BROKEN_COORDS, id="teams-coords-url-elsewhere"),
    pytest.param(launch(coords({"meetingUrl": "https://zoom.us/j/123456789"})), INVALID, BROKEN_COORDS, id="teams-coords-url-zoom"),
    pytest.param(launch(coords({"meetingUrl": LAUNCH_BY_CONVERSATION})), INVALID, BROKEN_COORDS, id="teams-coords-url-nested-launch"),
    pytest.param(launch(coords("[" * 600 + "]" * 600)), INVALID, BROKEN_COORDS, id="teams-coords-deeply-nested"),
    pytest.param(launch(coords('{"conversationId": "19:x@thread.v2"')), INVALID, BROKEN_COORDS, id="teams-coords-truncated-json"),
    pytest.param(launch(coords({**MEETING, "tenantId": 'a","Oid":"x'})), INVALID, BROKEN_COORDS, id="teams-coords-tenant-injects-json"),
    pytest.param(launch(coords({**MEETING, "tenantId": "a/../b"})), INVALID, BROKEN_COORDS, id="teams-coords-tenant-slash"),
    pytest.param(launch(coords({**MEETING, "organizerId": 7})), INVALID, BROKEN_COORDS, id="teams-coords-organizer-not-text"),
    pytest.param(launch(coords({**MEETING, "organizerId": "o" * 129})), INVALID, BROKEN_COORDS, id="teams-coords-organizer-too-long"),
    pytest.param(launch(coords({**MEETING, "messageId": "0?x=1"})), INVALID, BROKEN_COORDS, id="teams-coords-message-not-digits"),
    pytest.param(launch(coords({**MEETING, "messageId": -1})), INVALID, BROKEN_COORDS, id="teams-coords-message-negative"),
    pytest.param(launch(coords({**MEETING, "messageId": True})), INVALID, BROKEN_COORDS, id="teams-coords-message-bool"),
    pytest.param(launch(coords({**MEETING, "messageId": None})), INVALID, BROKEN_COORDS, id="teams-coords-message-null"),
    pytest.param(launch(coords({**MEETING, "meetingUrl": "https://evil.example/l/meetup-join/x/0"})), INVALID, BROKEN_COORDS, id="teams-coords-full-url-elsewhere"),
    pytest.param(launch(coords({"meetingUrl": 5})), INVALID, BROKEN_COORDS, id="teams-coords-url-not-text"),
    pytest.param(launch(coords({"meetingUrl": launcher(LAUNCHER_MEETUP_TARGET)})), INVALID, BROKEN_COORDS, id="teams-coords-url-nested-launcher"),
    pytest.param(launch(coords({"meetingUrl": MEETUP}), "&p=%20"), INVALID, "passcode", id="teams-coords-url-bad-outer-passcode"),
    # Launcher links: only /_#/l/meetup-join/... with its context and /_#/meet/... are followed.
    pytest.param("https://teams.microsoft.com/dl/launcher/launcher.html", INVALID, NO_ID, id="teams-launcher-no-url"),
    pytest.param("https://teams.microsoft.com/dl/launcher/launcher.html?type=meet&url=", INVALID, NO_ID, id="teams-launcher-empty-url"),
    pytest.param(launcher("https://evil.example/l/meetup-join/x/0"), INVALID, NOT_A_MEETING, id="teams-launcher-other-host"),
    pytest.param(launcher("//evil.example/_#/meet/2345678901234"), INVALID, NOT_A_MEETING, id="teams-launcher-protocol-relative"),
    pytest.param(launcher("https://teams.microsoft.com/meet/2345678901234"), INVALID, NOT_A_MEETING, id="teams-launcher-absolute-teams"),
    pytest.param(launcher("/meet/2345678901234"), INVALID, NOT_A_MEETING, id="teams-launcher-no-hash"),
    pytest.param(launcher("/_/meet/2345678901234"), INVALID, NOT_A_MEETING, id="teams-launcher-no-hash-after-underscore"),
    pytest.param(launcher("/_#/l/channel/19%3aabc%40thread.tacv2/General"), INVALID, NOT_A_MEETING, id="teams-launcher-channel"),
    pytest.param(launcher("/_#/light-meetings/launch?coords=e30"), INVALID, NOT_A_MEETING, id="teams-launcher-nested-launch"),
    pytest.param(launcher(f"/_#/l/meetup-join/{THREAD_IN_PATH}/0"), INVALID, NOT_A_MEETING, id="teams-launcher-meetup-no-context"),
    pytest.param(launcher(f"/_#/l/meetup-join/{THREAD_IN_PATH}/0?context=%7b%22Tid%22%3a%22t1%22%7d"), INVALID, NOT_A_MEETING, id="teams-launcher-meetup-no-organizer"),
    pytest.param(launcher(f"/_#/l/meetup-join/{THREAD_IN_PATH}/0?context=not-json"), INVALID, NOT_A_MEETING, id="teams-launcher-meetup-context-not-json"),
    pytest.param(launcher(f"/_#/l/meetup-join/{THREAD_IN_PATH}/0?context={quote(json.dumps({'Tid': 't<1>', 'Oid': 'o'}), safe='')}"), INVALID, NOT_A_MEETING, id="teams-launcher-meetup-bad-tenant"),
    pytest.param(launcher(f"/_#/l/meetup-join/{THREAD_IN_PATH}/x1?context={CONTEXT}"), INVALID, NOT_A_MEETING, id="teams-launcher-meetup-bad-message"),
    pytest.param(launcher(f"/_#/l/meetup-join/{THREAD_IN_PATH}?context={CONTEXT}"), INVALID, NOT_A_MEETING, id="teams-launcher-meetup-no-message"),
    pytest.param(launcher(f"/_#/l/meetup-join/19%3a%20x/0?context={CONTEXT}"), INVALID, "malformed", id="teams-launcher-meetup-bad-thread"),
    pytest.param(launcher("/_#/meet/2345678901234 ?p=x"), INVALID, NOT_A_MEETING, id="teams-launcher-space"),
    pytest.param(launcher("/_#/meet/2345678901234?p=x\n"), INVALID, NOT_A_MEETING, id="teams-launcher-newline"),
    pytest.param(launcher("/_#/meet/2345678901234\\x"), INVALID, NOT_A_MEETING, id="teams-launcher-backslash"),
    pytest.param(launcher("/_#/meet/2345678901234#/meet/9999999999"), INVALID, NOT_A_MEETING, id="teams-launcher-second-hash"),
    pytest.param(launcher("/_#/meet/12?p=x"), INVALID, "malformed", id="teams-launcher-meet-short"),
    pytest.param(launcher("/_#/meet/2345678901234?p=%20"), INVALID, "passcode", id="teams-launcher-meet-bad-passcode"),
    pytest.param("https://teams.microsoft.com/dl/launcher/launcher.html?url=/_#/l/channel/x", INVALID, NOT_A_MEETING, id="teams-launcher-raw-channel"),
    # Webex
    pytest.param("https://acme.webex.com/", INVALID, "This Webex link has no meeting id", id="webex-root"),
    pytest.param("https://acme.webex.com/meet/", INVALID, "This Webex link has no meeting id", id="webex-meet-empty"),
    pytest.param("https://acme.webex.com/acme/j.php", INVALID, "This Webex link has no meeting id", id="webex-jphp-no-mtid"),
    pytest.param("https://acme.webex.com/acme/j.php?MTID=", INVALID, "This Webex link has no meeting id", id="webex-jphp-empty-mtid"),
    pytest.param("https://acme.webex.com/acme/j.php?MTID=m%3Cscript%3E", INVALID, "malformed", id="webex-jphp-bad-mtid"),
    pytest.param("https://acme.webex.com/wbxmjs/joinservice/sites/acme/meeting/download/", INVALID, "This Webex link has no meeting id", id="webex-joinservice-empty"),
    pytest.param("https://acme.webex.com/webappng/sites/acme/meeting/", INVALID, "This Webex link has no meeting id", id="webex-webappng-empty"),
    pytest.param("https://webex.com/meet/jane.doe", INVALID, "site name", id="webex-no-site"),
]


@pytest.mark.parametrize("link, error, words", REJECTED)
def test_rejected_link(link, error, words):
    with pytest.raises(error) as caught:
        parse_meeting_link(link)
    assert type(caught.value) is error
    assert caught.value.code == ("INVALID_MEETING_LINK" if error is INVALID else "UNSUPPORTED_PLATFORM")
    assert caught.value.caller_error
    assert caught.value.details["field"] == "meeting_link"
    assert words in caught.value.message
    assert detect_platform(link) is None


def test_a_teams_meeting_address_over_the_length_cap_is_refused():
    thread = "19:" + "@" * 509
    payload = {"conversationId": thread, "tenantId": "t" * 128, "organizerId": "o" * 128}
    link = launch(coords(payload), "&p=" + "+" * 256)
    assert len(link) <= MAX_LINK_LENGTH
    with pytest.raises(InvalidMeetingLink) as caught:
        parse_meeting_link(link)
    assert "meeting address is too long" in caught.value.message
    # The same meeting with a short passcode fits, and opens at its meetup-join address.
    parsed = parse_meeting_link(launch(coords(payload), "&p=P1"))
    assert len(parsed.join_url) <= MAX_LINK_LENGTH and "/l/meetup-join/19%3a%40%40" in parsed.join_url


def test_link_at_the_length_cap_is_accepted():
    link = f"{MEETUP}&padding="
    link += "a" * (MAX_LINK_LENGTH - len(link))
    assert len(link) == MAX_LINK_LENGTH
    assert parse_meeting_link(link).join_url == link


def test_to_dict_holds_every_field():
    parsed = parse_meeting_link("https://zoom.us/j/123456789?pwd=Zz1")
    assert parsed.to_dict() == {
        "platform": "zoom",
        "meeting_id": "123456789",
        "passcode": "Zz1",
        "join_url": "https://app.zoom.us/wc/123456789/join?pwd=Zz1",
        "normalized_link": "https://zoom.us/j/123456789?pwd=Zz1",
    }


def test_platform_hosts_cover_every_platform_with_bare_domains():
    assert set(PLATFORM_HOSTS) == {p.value for p in Platform}
    for domains in PLATFORM_HOSTS.values():
        for domain in domains:
            assert domain == domain.lower() and "." in domain and not domain.startswith(".")


def test_errors_render_the_documented_envelope():
    from app.api.errors import envelope

    with pytest.raises(InvalidMeetingLink) as caught:
        parse_meeting_link("http://zoom.us/j/123456789")
    error = envelope(caught.value, "trace")["error"]
    assert error["code"] == "INVALID_MEETING_LINK" and error["status"] == 422
    assert error["type"] == "client_error"
    assert error["message"] == "Meeting link must be a valid HTTPS URL"
    assert error["details"] == {"field": "meeting_link"}


# --- properties ------------------------------------------------------------------------

BOUNDED = settings(max_examples=300, deadline=None)
ACCEPTED_LINKS = [param.values[0] for param in ACCEPTED]
URL_CHARS = st.sampled_from(list("/?#@:.%&=\\[]-_~+") + ["xn--", "..", "%2e", "%40", "\u0430", "\u200b", " ", "\n"])


def host_of_platform(url: str, platform: str) -> bool:
    """Reads the host with the standard library, independently of the parser under test."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme != "https" or parts.username is not None or parts.port not in (None, 443):
        return False
    return any(host == domain or host.endswith("." + domain) for domain in PLATFORM_HOSTS[platform])


def parse_or_none(text: object) -> MeetingLink | None:
    """Parses, letting anything but the two documented errors fail the test."""
    try:
        return parse_meeting_link(text)  # type: ignore[arg-type]
    except (InvalidMeetingLink, UnsupportedPlatform) as error:
        assert error.details["field"] == "meeting_link"
        assert error.message
        return None


def assert_safe(parsed: MeetingLink) -> None:
    """An accepted link can only ever send the bot to the platform's own hosts."""
    assert parsed.platform in PLATFORM_HOSTS
    assert parsed.meeting_id
    for url in (parsed.join_url, parsed.normalized_link):
        assert host_of_platform(url, parsed.platform), url
        assert not any(char.isspace() for char in url)


@BOUNDED
@given(st.one_of(st.text(max_size=200), st.builds("https://{}".format, st.text(max_size=200))))
def test_arbitrary_text_only_raises_the_documented_errors(text):
    parsed = parse_or_none(text)
    if parsed is not None:
        assert_safe(parsed)
    assert detect_platform(text) == (parsed.platform if parsed else None)


@st.composite
def mutated_links(draw):
    link = draw(st.sampled_from(ACCEPTED_LINKS))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(link)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(st.one_of(URL_CHARS, st.characters()))
        if action == "insert":
            link = link[:at] + piece + link[at:]
        elif action == "delete":
            link = link[:at] + link[at + 1 :]
        else:
            link = link[:at] + piece + link[at + 1 :]
    return link


@BOUNDED
@given(mutated_links())
def test_mutated_links_only_raise_the_documented_errors(link):
    parsed = parse_or_none(link)
    if parsed is not None:
        assert_safe(parsed)


def passcodes():
    return st.one_of(st.none(), st.from_regex(r"[A-Za-z0-9.+_-]{1,32}", fullmatch=True))


def with_pwd(link: str, key: str, passcode: str | None) -> str:
    return link if passcode is None else f"{link}?{key}={quote(passcode, safe='')}"


def tokens():
    return st.one_of(st.none(), st.from_regex(r"[A-Za-z0-9._~+=-]{1,64}", fullmatch=True))


@st.composite
def zoom_cases(draw):
    """(link, meeting number, passcode, registrant token, host the canonical link shows)."""
    host = draw(st.sampled_from([
        "zoom.us", "us02web.zoom.us", "acme.zoom.us", "zoomgov.com", "agency.zoomgov.com",
        "zoom.com", "us05web.zoom.com", "acme.zoom.com",
    ]))
    number = draw(st.from_regex(r"[0-9]{9,11}", fullmatch=True))
    path = draw(st.sampled_from([f"/j/{number}", f"/w/{number}", f"/wc/{number}/join", f"/wc/join/{number}"]))
    passcode, token = draw(passcodes()), draw(tokens())
    pairs = [(key, value) for key, value in (("pwd", passcode), ("tk", token)) if value is not None]
    pairs = draw(st.permutations(pairs))
    query = "&".join(f"{key}={quote(value, safe='')}" for key, value in pairs)
    link = f"https://{host}{path}" + (f"?{query}" if query else "")
    shown_host = host.removesuffix("zoom.com") + "zoom.us" if host.endswith("zoom.com") else host
    return link, number, passcode, token, shown_host


def zoom_links():
    return zoom_cases().map(lambda case: case[:3])


@st.composite
def meet_links(draw):
    code = draw(st.from_regex(r"[a-zA-Z]{3}-[a-zA-Z]{4}-[a-zA-Z]{3}", fullmatch=True))
    prefix = draw(st.sampled_from(["", "lookup/"]))
    query = draw(st.sampled_from(["", "?authuser=0", "?hs=122&authuser=1", "?hl=fr"]))
    return f"https://meet.google.com/{prefix}{code}{query}", code.lower(), None


TEAMS_HOSTS = [
    "teams.microsoft.com", "teams.live.com", "gov.teams.microsoft.us", "dod.teams.microsoft.us",
    "teams.cloud.microsoft", "eu.teams.cloud.microsoft",
]
PARTY_IDS = st.one_of(st.uuids().map(str), st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,40}", fullmatch=True))


@st.composite
def teams_cases(draw):
    """(link, meeting id, passcode, host of the join URL, its shape: "link", "meetup" or "meet")."""
    host = draw(st.sampled_from(TEAMS_HOSTS))
    meetup_host = "teams.microsoft.com" if host == "teams.live.com" else host
    passcode = draw(passcodes())
    p_query = "" if passcode is None else f"p={quote(passcode, safe='')}"
    kind = draw(st.sampled_from(["meet", "meetup", "coords", "launcher-meetup", "launcher-meet"]))
    if kind in ("meet", "launcher-meet"):
        meeting_id = draw(st.from_regex(r"[0-9]{9,15}", fullmatch=True))
        if kind == "meet":
            return with_pwd(f"https://{host}/meet/{meeting_id}", "p", passcode), meeting_id, passcode, host, "link"
        target = f"/_#/meet/{meeting_id}" + (f"?{p_query}&anon=true" if p_query else "")
        # Unencoded, the launcher's own parameters would run into a target without a query.
        encode = "?" not in target or draw(st.booleans())
        return launcher(target, host, encode=encode), meeting_id, passcode, host, "meet"
    thread = draw(st.from_regex(r"19:meeting_[A-Za-z0-9]{8,48}@thread\.v2", fullmatch=True))
    tenant, organizer = draw(PARTY_IDS), draw(PARTY_IDS)
    message = draw(st.from_regex(r"[0-9]{1,13}", fullmatch=True))
    if kind == "meetup":
        link = f"https://{host}/l/meetup-join/{quote(thread, safe='')}/0?context={CONTEXT}"
        return (link if passcode is None else f"{link}&{p_query}"), thread, passcode, host, "link"
    if kind == "coords":
        payload = {"conversationId": thread, "tenantId": tenant, "organizerId": organizer, "messageId": message}
        dropped = draw(st.sets(st.sampled_from(["tenantId", "organizerId", "messageId"])))
        payload = {key: value for key, value in payload.items() if key not in dropped}
        link = launch(coords(payload, urlsafe=draw(st.booleans())), f"&{p_query}" if p_query else "", host=host)
        shape = "link" if {"tenantId", "organizerId"} & dropped else "meetup"
        return link, thread, passcode, (host if shape == "link" else meetup_host), shape
    context = quote(json.dumps({"Tid": tenant, "Oid": organizer}), safe="")
    target = f"/_#/l/meetup-join/{quote(thread, safe='')}/{message}?context={context}&anon=true"
    target += f"&{p_query}" if p_query else ""
    return launcher(target, host, encode=draw(st.booleans())), thread, passcode, meetup_host, "meetup"


def teams_links():
    return teams_cases().map(lambda case: case[:3])


@st.composite
def webex_links(draw):
    site = draw(st.from_regex(r"[a-z][a-z0-9]{1,15}", fullmatch=True))
    meeting_id = draw(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}", fullmatch=True))
    path = draw(st.sampled_from([
        f"/meet/{meeting_id}",
        f"/wbxmjs/joinservice/sites/{site}/meeting/download/{meeting_id}",
        f"/webappng/sites/{site}/meeting/info/{meeting_id}",
    ]))
    passcode = draw(passcodes())
    return with_pwd(f"https://{site}.webex.com{path}", "pwd", passcode), meeting_id, passcode


@BOUNDED
@given(st.one_of(zoom_links(), meet_links(), teams_links(), webex_links()))
def test_valid_links_round_trip(case):
    link, meeting_id, passcode = case
    parsed = parse_meeting_link(link)
    assert (parsed.meeting_id, parsed.passcode) == (meeting_id, passcode)
    assert_safe(parsed)
    for again in (parse_meeting_link(parsed.normalized_link), parse_meeting_link(parsed.join_url)):
        assert (again.platform, again.meeting_id, again.passcode) == (parsed.platform, meeting_id, passcode)
    assert parse_meeting_link(parsed.normalized_link).normalized_link == parsed.normalized_link


@BOUNDED
@given(zoom_cases())
def test_zoom_links_keep_passcode_and_token_and_show_zoom_us(case):
    link, _, passcode, token, shown_host = case
    parsed = parse_meeting_link(link)
    assert urlsplit(parsed.normalized_link).hostname == shown_host
    assert urlsplit(parsed.join_url).hostname in ("app.zoom.us", "app.zoomgov.com")
    for url in (parsed.join_url, parsed.normalized_link):
        query = parse_qs(urlsplit(url).query)
        assert query.get("pwd") == (None if passcode is None else [passcode])
        assert query.get("tk") == (None if token is None else [token])
    assert parse_meeting_link(parsed.join_url).join_url == parsed.join_url


@BOUNDED
@given(meet_links())
def test_meet_join_urls_ask_for_english(case):
    parsed = parse_meeting_link(case[0])
    assert parsed.join_url == f"{parsed.normalized_link}?hl=en"
    assert parse_meeting_link(parsed.join_url) == parsed


@BOUNDED
@given(teams_cases())
def test_teams_wrappers_open_the_meeting_itself(case):
    link, meeting_id, passcode, join_host, shape = case
    parsed = parse_meeting_link(link)
    assert parsed.normalized_link == link  # stored and shown as the user gave it
    join = urlsplit(parsed.join_url)
    assert join.hostname == join_host
    if shape == "link":
        assert parsed.join_url == link
    elif shape == "meet":
        assert join.path == f"/meet/{meeting_id}"
        assert parse_qs(join.query).get("p") == (None if passcode is None else [passcode])
    else:
        assert join.path.startswith(f"/l/meetup-join/{quote(meeting_id, safe='').replace('%3A', '%3a')}/")
        context = json.loads(parse_qs(join.query)["context"][0])
        assert set(context) == {"Tid", "Oid"}
        assert parse_qs(join.query).get("p") == (None if passcode is None else [passcode])
    # The address the bot opens is itself an accepted link, opened as it is.
    assert parse_meeting_link(parsed.join_url).join_url == parsed.join_url
