"""What a session is called: the title the user gave it (`metadata.title`), else a readable
name taken from its meeting link — the platform and a short meeting id, never a raw id such
as a Teams thread id ("19:meeting_…@thread.v2")."""
from __future__ import annotations

from functools import lru_cache

from app.errors import MeetingBuddyError
from app.links import parse_meeting_link
from app.models import LOCAL_PLATFORM, Platform, Session
from app.text import clean_untrusted

TITLE_KEY = "title"  # in Session.metadata
MAX_TITLE = 200
SHORT_ID = 16  # characters of a meeting id shown in a name

LINK_NAMES = {
    Platform.TEAMS.value: "Teams meeting",
    Platform.ZOOM.value: "Zoom meeting",
    Platform.GOOGLE_MEET.value: "Google Meet",
    Platform.WEBEX.value: "Webex meeting",
}
LOCAL_NAME = "Recording of this computer"


def clean_title(title: object) -> str:
    """A title as it is stored and shown: control and bidi characters removed, whitespace
    collapsed, at most MAX_TITLE characters; "" when nothing printable is left."""
    return clean_untrusted(title, MAX_TITLE) if title is not None else ""


def custom_title(session: Session) -> str | None:
    """The title given to the session, cleaned (a copy from elsewhere may hold anything)."""
    return clean_title(session.metadata.get(TITLE_KEY)) or None


def session_title(session: Session) -> str:
    """The title to show: the custom one, else the link-derived name."""
    return custom_title(session) or link_title(session.platform, session.meeting_link)


@lru_cache(maxsize=1024)
def link_title(platform: str, link: str) -> str:
    """e.g. "Teams meeting · NjA1YTk0", "Zoom meeting · 812 3456 7890", "Google Meet ·
    abc-defg-hij"; the platform's name alone when the link cannot be read."""
    if platform == LOCAL_PLATFORM:
        return LOCAL_NAME
    name = LINK_NAMES.get(platform, "Meeting")
    try:
        parsed = parse_meeting_link(link)
    except MeetingBuddyError:
        return name
    short = short_meeting_id(parsed.platform, parsed.meeting_id)
    return f"{name} · {short}" if short else name


def short_meeting_id(platform: str, meeting_id: str) -> str:
    """A meeting id as people read it: a Zoom number in groups, the core of a Teams thread
    id, anything else cut to SHORT_ID characters."""
    if platform == Platform.TEAMS.value and "@" in meeting_id:
        # 19:meeting_<id>@thread.v2: only <id> tells one meeting from another.
        core = meeting_id.split("@", 1)[0].removeprefix("19:").removeprefix("meeting_")
        return core[:8]
    if platform == Platform.ZOOM.value and meeting_id.isdigit() and 9 <= len(meeting_id) <= 11:
        middle = 4 if len(meeting_id) == 11 else 3  # as Zoom writes them: 812 3456 7890
        return f"{meeting_id[:3]} {meeting_id[3:3 + middle]} {meeting_id[3 + middle:]}"
    return meeting_id if len(meeting_id) <= SHORT_ID else meeting_id[:SHORT_ID - 1] + "…"
