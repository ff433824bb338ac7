"""How the bot's stay in a meeting ended: one typed value shared by the monitor (which
decides), the bot (which reports it) and the session runner (which turns it into the
session's final status).

Codes are the bot's vocabulary (docs/PLATFORMS.md, "Outcomes"): an end reason when the
stay ended normally (MEETING_ENDED, LEFT_ALONE, …), an error code when it did not
(JOIN_DENIED, BOT_REMOVED, …).
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Ending(str, Enum):
    COMPLETED = "completed"     # the recording ended on normal terms
    FAILED = "failed"           # the bot could not join, or its stay was cut short

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Outcome:
    ending: Ending
    code: str                   # an end reason (completed) or an error code (failed)
    message: str                # one sentence for the user
    leave_first: bool = False   # the bot is in the meeting or its lobby: click leave first

    @property
    def completed(self) -> bool:
        return self.ending is Ending.COMPLETED


def completed(code: str, message: str, leave_first: bool = True) -> Outcome:
    return Outcome(Ending.COMPLETED, code, message, leave_first)


def failed(code: str, message: str, leave_first: bool = False) -> Outcome:
    return Outcome(Ending.FAILED, code, message, leave_first)
