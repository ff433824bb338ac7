"""Meeting links: every accepted shape, every rejection, and properties over arbitrary input."""
from __future__ import annotations

import base64
import json
from urllib.parse import quote, urlsplit

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
CONTEXT = "%7b%22Tid%22%3a%2272f988bf-86f1-41af-91ab-2d7cd011db47%22%2c%22Oid%22%3a%22d1e2%22%7d"
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


def launch(coords_value: str, extra: str = "") -> str:
    return (
        "https://teams.microsoft.com/light-meetings/launch?agent=web&version=25010000000"
        f"&coords={coords_value}&deeplinkId=9b1c{extra}"
    )


def same(link: str, platform: str, meeting_id: str, passcode: str | None = None):
    """An accepted link whose join URL and canonical form are the link itself."""
    return link, platform, meeting_id, passcode, link, link


TEAMS, ZOOM, MEET, WEBEX = (p.value for p in Platform)
LAUNCH_BY_CONVERSATION = launch(coords({"conversationId": THREAD, "tenantId": "t1", "messageId": "0"}))
LAUNCH_BY_THREAD = launch(coords({"threadId": THREAD}, urlsafe=True))
LAUNCH_BY_MEETING_URL = launch(coords({"meetingUrl": f"{MEETUP}&p=Pass123"}))
LAUNCH_PERCENT_JSON = launch(coords({"conversationId": THREAD}, percent_json=True), "&p=Outer9")
V2_FRAGMENT = f"https://teams.microsoft.com/v2/?meetingjoin=true#/l/meetup-join/{THREAD_IN_PATH}/0?context={CONTEXT}&anon=true"

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
    pytest.param(*same(LAUNCH_BY_MEETING_URL, TEAMS, THREAD, "Pass123"), id="teams-light-meetings-meeting-url"),
    pytest.param(*same(LAUNCH_PERCENT_JSON, TEAMS, THREAD, "Outer9"), id="teams-light-meetings-percent-json"),
    pytest.param(*same(V2_FRAGMENT, TEAMS, THREAD), id="teams-v2-fragment"),
    pytest.param(*same(f"https://gov.teams.microsoft.us/l/meetup-join/{THREAD_IN_PATH}/0", TEAMS, THREAD), id="teams-gcc-high"),
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
    # Google Meet: one canonical form, query dropped, code lowercase.
    pytest.param(*same("https://meet.google.com/abc-defg-hij", MEET, "abc-defg-hij"), id="meet"),
    pytest.param(
        "https://meet.google.com/ABC-DeFg-HIJ?authuser=1", MEET, "abc-defg-hij", None,
        "https://meet.google.com/abc-defg-hij", "https://meet.google.com/abc-defg-hij",
        id="meet-uppercase-authuser",
    ),
    pytest.param(
        "https://meet.google.com/abc-defg-hij/?hs=122&authuser=0#x", MEET, "abc-defg-hij", None,
        "https://meet.google.com/abc-defg-hij", "https://meet.google.com/abc-defg-hij",
        id="meet-hs-trailing-slash",
    ),
    pytest.param(
        "https://meet.google.com/lookup/abc-defg-hij", MEET, "abc-defg-hij", None,
        "https://meet.google.com/abc-defg-hij", "https://meet.google.com/abc-defg-hij",
        id="meet-lookup-code",
    ),
    pytest.param(*same("https://meet.google.com/lookup/teamstandup2", MEET, "teamstandup2"), id="meet-lookup-nickname"),
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


@st.composite
def zoom_links(draw):
    host = draw(st.sampled_from(["zoom.us", "us02web.zoom.us", "acme.zoom.us", "zoomgov.com", "agency.zoomgov.com"]))
    number = draw(st.from_regex(r"[0-9]{9,11}", fullmatch=True))
    path = draw(st.sampled_from([f"/j/{number}", f"/w/{number}", f"/wc/{number}/join", f"/wc/join/{number}"]))
    passcode = draw(passcodes())
    return with_pwd(f"https://{host}{path}", "pwd", passcode), number, passcode


@st.composite
def meet_links(draw):
    code = draw(st.from_regex(r"[a-zA-Z]{3}-[a-zA-Z]{4}-[a-zA-Z]{3}", fullmatch=True))
    prefix = draw(st.sampled_from(["", "lookup/"]))
    query = draw(st.sampled_from(["", "?authuser=0", "?hs=122&authuser=1"]))
    return f"https://meet.google.com/{prefix}{code}{query}", code.lower(), None


@st.composite
def teams_links(draw):
    host = draw(st.sampled_from(["teams.microsoft.com", "teams.live.com", "gov.teams.microsoft.us", "dod.teams.microsoft.us"]))
    passcode = draw(passcodes())
    if draw(st.booleans()):
        meeting_id = draw(st.from_regex(r"[0-9]{9,15}", fullmatch=True))
        return with_pwd(f"https://{host}/meet/{meeting_id}", "p", passcode), meeting_id, passcode
    meeting_id = draw(st.from_regex(r"19:meeting_[A-Za-z0-9]{8,48}@thread\.v2", fullmatch=True))
    link = f"https://{host}/l/meetup-join/{quote(meeting_id, safe='')}/0?context={CONTEXT}"
    return (link if passcode is None else f"{link}&p={quote(passcode, safe='')}"), meeting_id, passcode


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
