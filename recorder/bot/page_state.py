"""The page observer's report (resources/bot/page_driver.js `observe()`), typed."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from recorder.bot.roster import Participant

# A page decides what it shows: a report holds at most this many people, names this long.
MAX_PARTICIPANTS = 500
MAX_NAME_CHARS = 256


class PageStateError(ValueError):
    """The observer's report is not the documented JSON."""


@dataclass(frozen=True)
class PageState:
    url: str = ""
    title: str = ""
    online: bool = True
    flags: dict[str, str] = field(default_factory=dict)   # landmark -> matcher that hit
    name_input: str | None = None       # current value of the name field, None if absent
    email_input: str | None = None      # likewise, where a guest must give an email
    join_button: str | None = None
    interstitial: str | None = None     # a screen in the way before admission
    prompt: str | None = None           # a dialog in the way in the meeting
    mic_off: bool | None = None         # None: no microphone control on screen
    camera_off: bool | None = None
    participants: tuple[Participant, ...] = ()
    speakers: tuple[str, ...] = ()
    meeting_title: str = ""             # where the pack says the page shows it; "" if not shown

    def has(self, landmark: str) -> bool:
        return landmark in self.flags

    @classmethod
    def from_json(cls, text: str) -> PageState:
        try:
            data = json.loads(text)
            return cls(
                url=str(data.get("url", "")),
                title=str(data.get("title", "")),
                online=bool(data.get("online", True)),
                flags={str(k): str(v) for k, v in dict(data.get("flags") or {}).items()},
                name_input=_opt_str(data.get("name_input")),
                email_input=_opt_str(data.get("email_input")),
                join_button=_opt_str(data.get("join_button")),
                interstitial=_opt_str(data.get("interstitial")),
                prompt=_opt_str(data.get("prompt")),
                mic_off=_opt_bool(data.get("mic_off")),
                camera_off=_opt_bool(data.get("camera_off")),
                participants=tuple(
                    Participant(str(p["name"])[:MAX_NAME_CHARS], bool(p.get("self")), bool(p.get("bot")))
                    for p in list(data.get("participants") or ())[:MAX_PARTICIPANTS]
                    if str(p.get("name", "")).strip()),
                speakers=tuple(str(s)[:MAX_NAME_CHARS] for s in list(data.get("speakers") or ())[:MAX_PARTICIPANTS]
                               if s),
                meeting_title=" ".join(str(data.get("meeting_title") or "")[:MAX_NAME_CHARS].split()),
            )
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            raise PageStateError(f"unreadable page state: {exc}") from None


def _opt_str(value) -> str | None:
    return None if value is None else str(value)


def _opt_bool(value) -> bool | None:
    return None if value is None else bool(value)
