"""What tests and the demo see of live simulator pages: the events each page reports back
(the bot's name and mic/camera state at join, admission, speech, leaving) and the commands
sent to it (admit, deny, remove the bot, end the meeting, everyone leaves)."""
from __future__ import annotations

import collections
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

COMMANDS = ("admit", "deny", "remove_bot", "end_meeting", "everyone_leaves")
MAX_EVENTS = 10_000
_EVENT_TYPE_RE = re.compile(r"[a-z][a-z0-9_]{0,39}")


class UnknownCommand(ValueError):
    """A command the simulator pages do not understand."""


class BadPageEvent(ValueError):
    """A page event with no known page or an invalid type or payload."""


@dataclass(frozen=True)
class PageSession:
    page_id: str
    platform: str  # an app.models.Platform value
    meeting_id: str | None
    scenario: str
    href: str
    opened_at: float  # time.monotonic()


@dataclass(frozen=True)
class SimEvent:
    page_id: str
    platform: str
    type: str
    data: dict[str, Any] = field(default_factory=dict)
    time: float = 0.0  # time.monotonic() when the server received it


class SimulatorControl:
    """Thread-safe: the server threads write, a test or the demo reads and commands."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._pages: dict[str, PageSession] = {}
        self._events: collections.deque[SimEvent] = collections.deque(maxlen=MAX_EVENTS)
        self._commands: dict[str, list[str]] = {}

    # --- written by the server -------------------------------------------------------

    def open_page(self, platform: str, meeting_id: str | None, scenario: str, href: str) -> PageSession:
        page = PageSession(secrets.token_hex(8), platform, meeting_id, scenario, href, time.monotonic())
        with self._changed:
            self._pages[page.page_id] = page
            self._commands[page.page_id] = []
            self._changed.notify_all()
        return page

    def record(self, page_id: str, event_type: str, data: Any) -> SimEvent:
        if not isinstance(event_type, str) or not _EVENT_TYPE_RE.fullmatch(event_type):
            raise BadPageEvent(f"event type {event_type!r} is not valid")
        if not isinstance(data, dict):
            raise BadPageEvent("event data must be an object")
        with self._changed:
            page = self._pages.get(page_id)
            if page is None:
                raise BadPageEvent(f"no simulator page {page_id!r}")
            event = SimEvent(page_id, page.platform, event_type, dict(data), time.monotonic())
            self._events.append(event)
            self._changed.notify_all()
        return event

    def note(self, event_type: str, data: dict[str, Any]) -> SimEvent:
        """An event that belongs to no page (e.g. a desktop-app link that reached the system)."""
        with self._changed:
            event = SimEvent("", "", event_type, dict(data), time.monotonic())
            self._events.append(event)
            self._changed.notify_all()
        return event

    def take_commands(self, page_id: str) -> list[str]:
        with self._changed:
            pending = self._commands.get(page_id)
            if pending is None:
                raise BadPageEvent(f"no simulator page {page_id!r}")
            self._commands[page_id] = []
        return pending

    # --- read and driven by tests and the demo ---------------------------------------

    def pages(self) -> list[PageSession]:
        with self._changed:
            return sorted(self._pages.values(), key=lambda page: page.opened_at)

    def pages_for(self, meeting_id: str) -> list[PageSession]:
        """Every page load of one meeting, oldest first (a reload is a new page)."""
        return [page for page in self.pages() if page.meeting_id == meeting_id]

    def events(self, event_type: str | None = None, page_id: str | None = None) -> list[SimEvent]:
        with self._changed:
            return [event for event in self._events if _matches(event, event_type, page_id)]

    def last_event(self, event_type: str, page_id: str | None = None) -> SimEvent | None:
        found = self.events(event_type, page_id)
        return found[-1] if found else None

    def wait_for_event(
        self,
        event_type: str,
        timeout: float = 10.0,
        page_id: str | None = None,
        where: Callable[[SimEvent], bool] | None = None,
    ) -> SimEvent:
        """Blocks until a matching event arrives (or has arrived); for callers not on a Qt loop."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for event in self._events:
                    if _matches(event, event_type, page_id) and (where is None or where(event)):
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no simulator event {event_type!r} within {timeout} s")
                self._changed.wait(left)

    def send(self, command: str, page_id: str | None = None) -> int:
        """Queues a command for one page, or for every page; returns how many pages get it."""
        if command not in COMMANDS:
            raise UnknownCommand(f"unknown simulator command {command!r} (known: {', '.join(COMMANDS)})")
        with self._changed:
            targets = [page_id] if page_id is not None else list(self._commands)
            for target in targets:
                if target not in self._commands:
                    raise BadPageEvent(f"no simulator page {target!r}")
                self._commands[target].append(command)
        return len(targets)

    def admit(self, page_id: str | None = None) -> int:
        return self.send("admit", page_id)

    def deny(self, page_id: str | None = None) -> int:
        return self.send("deny", page_id)

    def remove_bot(self, page_id: str | None = None) -> int:
        return self.send("remove_bot", page_id)

    def end_meeting(self, page_id: str | None = None) -> int:
        return self.send("end_meeting", page_id)

    def everyone_leaves(self, page_id: str | None = None) -> int:
        return self.send("everyone_leaves", page_id)


def _matches(event: SimEvent, event_type: str | None, page_id: str | None) -> bool:
    return (event_type is None or event.type == event_type) and (page_id is None or event.page_id == page_id)
