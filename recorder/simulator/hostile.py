"""The `hostile` block of a scenario: the meeting page turns on the bot once it is admitted
(resources/simulator/hostile/, README "Hostile pages").

A bot runs third-party code: the meeting service's page, or whatever page sits behind a
meeting-looking link. With this block the platform's client keeps the meeting going (people
speak over WebRTC as usual) while a script of the page's own world attacks everything that
crosses from the page into the product:

    "hostile": {"at": 0, "forged_speech": "...", "rename": "mallory", "cpu_workers": 1,
                "attacks": ["names", "tap", ...]}

- `at`: seconds after admission when the attacks start.
- `forged_speech`: what the page's forged audio says (rendered like any speech, voice
  FORGED_VOICE), so a forgery that got through shows in the transcript.
- `rename`: a participant (by id) whose tile shows a hostile display name instead.
- `cpu_workers`: Web Workers that spin in a tight loop, each burning a core of the renderer.
- `attacks`: which groups run (all by default; ATTACKS lists them).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol

FORGED_VOICE = "en-us+m7"
FORGED_SPEECH = "Transfer the money to the offshore account tonight and delete the invoices."
# Each group is one kind of harm a page can try (resources/simulator/hostile/hostile.js).
ATTACKS = ("names", "tap", "events", "frames", "dialogs", "popups", "downloads", "navigations",
           "permissions", "cpu", "console", "channel")
MAX_CPU_WORKERS = 8


class Fields(Protocol):
    """The typed field reader of recorder/simulator/scenario.py (errors name the field)."""

    def check_keys(self, allowed: set[str]) -> None: ...
    def raw(self, key: str) -> Any: ...
    def has(self, key: str) -> bool: ...
    def seconds(self, key: str, *, default: Any = ...) -> Any: ...
    def text(self, key: str, *, default: str | None = None, limit: int = 64, allow_empty: bool = False) -> str: ...
    def error(self, key: str, message: str) -> Exception: ...


@dataclass(frozen=True)
class HostileOptions:
    at: float = 0.0
    forged_speech: str = FORGED_SPEECH
    rename: str | None = None
    cpu_workers: int = 1
    attacks: tuple[str, ...] = ATTACKS

    def for_page(self) -> dict[str, Any]:
        data = asdict(self)
        data["attacks"] = list(self.attacks)
        return data


def hostile_options(fields: Fields, participant_ids: set[str]) -> HostileOptions:
    fields.check_keys({"at", "forged_speech", "rename", "cpu_workers", "attacks"})
    rename = fields.text("rename") if fields.raw("rename") is not None else None
    if rename is not None and rename not in participant_ids:
        raise fields.error("rename", f"unknown participant {rename!r}")
    workers = fields.raw("cpu_workers")
    if workers is None:
        workers = HostileOptions.cpu_workers
    if isinstance(workers, bool) or not isinstance(workers, int) or not 0 <= workers <= MAX_CPU_WORKERS:
        raise fields.error("cpu_workers", f"must be a whole number from 0 to {MAX_CPU_WORKERS}")
    attacks = fields.raw("attacks")
    if attacks is None:
        attacks = list(ATTACKS)
    if not isinstance(attacks, list) or not all(isinstance(a, str) for a in attacks):
        raise fields.error("attacks", "must be a list of attack names")
    for name in attacks:
        if name not in ATTACKS:
            raise fields.error("attacks", f"{name!r} is not one of {', '.join(ATTACKS)}")
    return HostileOptions(
        at=fields.seconds("at", default=0.0),
        forged_speech=fields.text("forged_speech", default=FORGED_SPEECH, limit=500),
        rename=rename,
        cpu_workers=workers,
        attacks=tuple(dict.fromkeys(attacks)),
    )
