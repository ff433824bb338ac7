"""What the simulated service remembers about each meeting across page loads.

A page load is its own meeting timeline (it starts when that page's bot is admitted), but
some things belong to the meeting itself, as on the real services: when the Zoom host
starts it (a page shown before that must be reloaded to see it, docs/PLATFORMS.md Zoom
"Behaviours"), and whether Teams has already sent this meeting's join to the
lightExperience=false address (once per meeting; the join must then be started again,
docs/PLATFORMS.md Teams "Behaviours").
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass
class MeetingVisit:
    """What one page load learns about its meeting."""

    load_index: int                 # 1 for the meeting's first page load, 2 for the next ...
    seconds_since_first_load: float
    host_started: bool              # Zoom: the host has started the meeting
    light_redirect: bool            # Teams: this pre-join page is the one sent to lightExperience=false
    join_retried: bool              # Teams: a join page loaded again after that redirect


@dataclass
class _Meeting:
    first_load: float
    loads: int = 0
    light_redirected: bool = False
    retried: bool = False


class MeetingBook:
    """Thread-safe: server threads note visits as pages open."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._meetings: dict[tuple[str, str], _Meeting] = {}

    def visit(self, platform: str, meeting_key: str, *, host_starts_after_s: float | None,
              light_redirect_wanted: bool, is_light_prejoin: bool, is_light_disabled: bool) -> MeetingVisit:
        now = time.monotonic()
        with self._lock:
            meeting = self._meetings.setdefault((platform, meeting_key), _Meeting(first_load=now))
            meeting.loads += 1
            elapsed = now - meeting.first_load
            redirect = light_redirect_wanted and is_light_prejoin and not meeting.light_redirected
            if redirect:
                meeting.light_redirected = True
            retried = meeting.light_redirected and not redirect and not is_light_disabled and not meeting.retried
            if retried:
                meeting.retried = True
        return MeetingVisit(
            load_index=meeting.loads,
            seconds_since_first_load=round(elapsed, 3),
            host_started=host_starts_after_s is not None and elapsed >= host_starts_after_s,
            light_redirect=redirect,
            join_retried=retried,
        )
