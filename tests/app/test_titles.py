"""What a session is called (app.titles): the title given to it, else a readable name taken
from its meeting link, never a raw meeting id such as a Teams thread id."""
from __future__ import annotations

import pytest

from app.models import LOCAL_PLATFORM, LOCAL_RECORDING_LINK, Session
from app.titles import MAX_TITLE, custom_title, link_title, session_title
from tests.api_helpers import TEAMS_LINK

SIM_TEAMS = ("https://teams.microsoft.com/l/meetup-join/19%3ameeting_sim%40thread.v2/0"
             "?context=%7b%22Tid%22%3a%22t%22%7d")


@pytest.mark.parametrize("platform,link,name", [
    ("teams", TEAMS_LINK, "Teams meeting · NjA1YTk0"),
    ("teams", SIM_TEAMS, "Teams meeting · sim"),
    ("teams", "https://teams.microsoft.com/meet/23456789012345?p=abcdef", "Teams meeting · 23456789012345"),
    ("zoom", "https://us02web.zoom.us/j/81234567890?pwd=secret", "Zoom meeting · 812 3456 7890"),
    ("zoom", "https://zoom.us/j/1234567890", "Zoom meeting · 123 456 7890"),
    ("zoom", "https://zoom.us/j/123456789", "Zoom meeting · 123 456 789"),
    ("zoom", "https://zoom.us/my/jane.doe.personal.room", "Zoom meeting · jane.doe.person…"),
    ("google_meet", "https://meet.google.com/abc-defg-hij", "Google Meet · abc-defg-hij"),
    ("webex", "https://acme.webex.com/meet/jsmith", "Webex meeting · jsmith"),
    (LOCAL_PLATFORM, LOCAL_RECORDING_LINK, "Recording of this computer"),
    ("teams", "not a link at all", "Teams meeting"),  # an odd copy from elsewhere: no id at all
])
def test_the_name_taken_from_the_link(platform, link, name):
    assert link_title(platform, link) == name
    assert session_title(Session.create(meeting_link=link, platform=platform)) == name


def test_a_teams_thread_id_is_never_shown():
    for link in (TEAMS_LINK, SIM_TEAMS):
        title = session_title(Session.create(meeting_link=link, platform="teams"))
        assert "19:" not in title and "@thread" not in title and "meeting_" not in title


def test_a_given_title_wins_and_is_cleaned_when_read():
    session = Session.create(meeting_link=SIM_TEAMS, platform="teams")
    session.metadata["title"] = "Quarterly \u202ereview\u200b\x00"
    assert session_title(session) == custom_title(session) == "Quarterly review"
    # a copy imported from elsewhere may hold anything under the key
    for odd, shown in ((12345, "12345"), ("x" * 5000, "x" * (MAX_TITLE - 1) + "\u2026"),
                       ("\u202e", "Teams meeting · sim"), (None, "Teams meeting · sim")):
        session.metadata["title"] = odd
        assert session_title(session) == shown
