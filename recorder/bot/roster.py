"""Who is in the meeting and who is speaking, from the page observer's reports.

The observer reports the names on screen at each tick; the roster turns those snapshots
into joined/left events and counts the people who are not bots (the bot itself, other
recorders and note takers), which is what "everyone left" is about.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache

from recorder.bot.assets import BOT_SCRIPTS, read_text


@dataclass(frozen=True)
class Participant:
    name: str
    is_self: bool = False
    is_bot: bool = False          # the platform marks it as an app/bot


@lru_cache(maxsize=1)
def _bot_name_patterns() -> tuple[re.Pattern[str], ...]:
    data = json.loads(read_text(BOT_SCRIPTS / "bot_names.json"))
    return tuple(re.compile(p, re.IGNORECASE) for p in data["patterns"])


def looks_like_bot(name: str) -> bool:
    return any(p.search(name) for p in _bot_name_patterns())


class Roster:
    def __init__(self, bot_name: str) -> None:
        self._bot_name = bot_name.strip().casefold()
        self._present: dict[str, bool] = {}   # name -> is_bot
        self.humans_seen = False               # a person other than a bot was ever present

    def is_bot(self, p: Participant) -> bool:
        return p.is_self or p.is_bot or p.name.casefold() == self._bot_name or looks_like_bot(p.name)

    def update(self, participants: list[Participant]) -> tuple[list[tuple[str, bool]], list[str]]:
        """Apply one snapshot; returns (joined as (name, is_bot), left names)."""
        now = {p.name: self.is_bot(p) for p in participants}
        joined = [(name, bot) for name, bot in now.items() if name not in self._present]
        left = [name for name in self._present if name not in now]
        self._present = now
        if self.humans_present:
            self.humans_seen = True
        return joined, left

    @property
    def humans_present(self) -> int:
        return sum(1 for bot in self._present.values() if not bot)


UNCHANGED = object()


class SpeakerTracker:
    """Reduces the set of speaking tiles to one current speaker, kept while they speak."""

    def __init__(self) -> None:
        self.current: str | None = None

    def update(self, speaking: list[str]) -> object:
        """Returns the new speaker (a name or None) on a change, else `UNCHANGED`."""
        if self.current in speaking:
            return UNCHANGED
        new = speaking[0] if speaking else None
        if new == self.current:
            return UNCHANGED
        self.current = new
        return new
