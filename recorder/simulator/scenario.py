"""Simulator scenarios: what happens in a simulated meeting, read from JSON data files.

Times are seconds after the bot is admitted (the lobby wait counts from the join click).
A scenario names who is present, who joins or leaves when, who says what in which voice,
and how the meeting treats the bot (admitted, denied, kept in the lobby, removed, ended).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recorder.simulator.hostile import FORGED_VOICE, HostileOptions, hostile_options
from recorder.simulator.platform_options import (
    PlatformOptions,
    meet_options,
    teams_options,
    webex_options,
    zoom_options,
)

SCENARIO_DIR = Path(__file__).resolve().parents[2] / "resources" / "simulator" / "scenarios"

# How the meeting page treats an anonymous browser before any pre-join form.
ACCESS_MODES = ("open", "sign_in_required", "blocked", "invalid_meeting", "never_loads")
# What the host does with the bot's request to join.
LOBBY_OUTCOMES = ("admitted", "denied", "never")

_ID_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
_NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
# espeak-ng voice names with an optional variant: en-us, en+f3, en-gb+m3.
_VOICE_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,31}(\+[A-Za-z0-9_-]{1,16})?")
MAX_TEXT = 500
MAX_TITLE = 200
NETWORK_CUT_S = 10.0  # how long a network cut lasts unless the scenario says
_REQUIRED: Any = object()


class ScenarioError(ValueError):
    """A scenario file or object that cannot be used, with the field that is wrong."""


@dataclass(frozen=True)
class Participant:
    id: str
    name: str
    voice: str
    joins_at: float = 0.0  # 0: already in the meeting when the bot is admitted
    leaves_at: float | None = None

    def present_at(self, t: float) -> bool:
        return self.joins_at <= t and (self.leaves_at is None or t < self.leaves_at)


@dataclass(frozen=True)
class Utterance:
    at: float
    who: str
    text: str


@dataclass(frozen=True)
class Lobby:
    wait_s: float = 0.0
    outcome: str = "admitted"


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str = ""
    # The meeting's title, shown in the call where each web client shows it (a scheduled
    # meeting's subject); None: an ad-hoc meeting without one.
    title: str | None = None
    access: str = "open"
    lobby: Lobby = Lobby()
    participants: tuple[Participant, ...] = ()
    speech: tuple[Utterance, ...] = ()
    # The whole speech list starts again after this many seconds, until the meeting ends.
    speech_repeat_every_s: float | None = None
    meeting_ends_at: float | None = None
    bot_removed_at: float | None = None
    # The bot's connection drops this many seconds after admission, for `network_cut_s`:
    # the page shows the platform's reconnecting banner and no audio arrives meanwhile.
    network_cut_at: float | None = None
    network_cut_s: float = NETWORK_CUT_S
    # How hard each web client is on the bot (recorder/simulator/platform_options.py).
    platforms: PlatformOptions = PlatformOptions()
    # The page attacks the bot once it is admitted (recorder/simulator/hostile.py); None: never.
    hostile: HostileOptions | None = None

    def participant(self, participant_id: str) -> Participant:
        for person in self.participants:
            if person.id == participant_id:
                return person
        raise KeyError(participant_id)

    def voices_and_texts(self) -> list[tuple[str, str]]:
        """Each distinct (voice, text) the meeting speaks, in order of first use."""
        seen: dict[tuple[str, str], None] = {}
        for line in self.speech:
            seen.setdefault((self.participant(line.who).voice, line.text), None)
        if self.hostile is not None:
            seen.setdefault(self.forged_voice_and_text(), None)
        return list(seen)

    def forged_voice_and_text(self) -> tuple[str, str]:
        """What a hostile page's forged audio says, and in which voice."""
        if self.hostile is None:
            raise ValueError(f"scenario {self.name!r} has no hostile page")
        return FORGED_VOICE, self.hostile.forged_speech


def builtin_scenario_names() -> list[str]:
    return sorted(path.stem for path in SCENARIO_DIR.glob("*.json"))


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A built-in scenario by name (`default`, `denied`, ...) or a scenario JSON file by path."""
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or text.endswith(".json") or "/" in text:
        path = Path(name_or_path)
        name = path.stem
    else:
        if not _NAME_RE.fullmatch(text):
            raise ScenarioError(f"Scenario name {text!r} is not valid (lowercase letters, digits, - and _)")
        path = SCENARIO_DIR / f"{text}.json"
        name = text
        if not path.is_file():
            known = ", ".join(builtin_scenario_names())
            raise ScenarioError(f"Unknown scenario {text!r}; built-in scenarios: {known}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"Scenario file {path} cannot be read: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"Scenario file {path} is not valid JSON: {exc}") from None
    try:
        return scenario_from_dict(data, name=name)
    except ScenarioError as exc:
        raise ScenarioError(f"Scenario file {path}: {exc}") from None


def scenario_from_dict(data: Any, *, name: str) -> Scenario:
    """Validates the JSON form of a scenario; every problem names its field."""
    if not _NAME_RE.fullmatch(name):
        raise ScenarioError(f"name: {name!r} is not valid (lowercase letters, digits, - and _)")
    fields = _Fields(data, "scenario")
    fields.check_keys(
        {"description", "title", "access", "lobby", "participants", "speech", "speech_repeat_every_s",
         "meeting_ends_at", "bot_removed_at", "network_cut", "teams", "zoom", "google_meet", "webex",
         "hostile"}
    )
    access = fields.choice("access", ACCESS_MODES, default="open")
    lobby_fields = _Fields(fields.get("lobby", {}), "lobby")
    lobby_fields.check_keys({"wait_s", "outcome"})
    lobby = Lobby(
        wait_s=lobby_fields.seconds("wait_s", default=0.0),
        outcome=lobby_fields.choice("outcome", LOBBY_OUTCOMES, default="admitted"),
    )
    participants = tuple(
        _participant(item, f"participants[{index}]")
        for index, item in enumerate(fields.list("participants"))
    )
    ids = [person.id for person in participants]
    for duplicate in sorted({pid for pid in ids if ids.count(pid) > 1}):
        raise ScenarioError(f"participants: id {duplicate!r} is used more than once")
    people = {person.id: person for person in participants}
    speech = tuple(
        _utterance(item, f"speech[{index}]", people) for index, item in enumerate(fields.list("speech"))
    )
    repeat = fields.seconds("speech_repeat_every_s", default=None)
    if repeat is not None:
        if repeat <= 0:
            raise ScenarioError("speech_repeat_every_s: must be greater than 0")
        if speech and repeat <= max(line.at for line in speech):
            raise ScenarioError("speech_repeat_every_s: must be longer than the last utterance's start")
        for person in participants:
            if person.leaves_at is not None and any(line.who == person.id for line in speech):
                raise ScenarioError(
                    f"speech_repeat_every_s: {person.id!r} speaks in a repeating list but leaves at "
                    f"{person.leaves_at} s"
                )
    cut_at, cut_s = None, NETWORK_CUT_S
    if fields.get("network_cut") is not None:
        cut = _Fields(fields.get("network_cut"), "network_cut")
        cut.check_keys({"at", "seconds"})
        cut_at = cut.seconds("at")
        cut_s = cut.seconds("seconds", default=NETWORK_CUT_S)
        if cut_s <= 0:
            raise ScenarioError("network_cut.seconds: must be greater than 0")
    hostile = None
    if fields.get("hostile") is not None:
        hostile = hostile_options(_Fields(fields.get("hostile"), "hostile"), set(people))
    return Scenario(
        name=name,
        description=fields.text("description", default="", limit=1000, allow_empty=True),
        title=fields.text("title", limit=MAX_TITLE) if fields.has("title") else None,
        access=access,
        lobby=lobby,
        participants=participants,
        speech=tuple(sorted(speech, key=lambda line: line.at)),
        speech_repeat_every_s=repeat,
        meeting_ends_at=fields.seconds("meeting_ends_at", default=None),
        bot_removed_at=fields.seconds("bot_removed_at", default=None),
        network_cut_at=cut_at,
        network_cut_s=cut_s,
        platforms=PlatformOptions(
            teams=teams_options(_Fields(fields.get("teams", {}), "teams")),
            zoom=zoom_options(_Fields(fields.get("zoom", {}), "zoom")),
            google_meet=meet_options(_Fields(fields.get("google_meet", {}), "google_meet")),
            webex=webex_options(_Fields(fields.get("webex", {}), "webex")),
        ),
        hostile=hostile,
    )


def _participant(item: Any, where: str) -> Participant:
    fields = _Fields(item, where)
    fields.check_keys({"id", "name", "voice", "joins_at", "leaves_at"})
    pid = fields.text("id")
    if not _ID_RE.fullmatch(pid):
        raise ScenarioError(f"{where}.id: {pid!r} is not valid (lowercase letters, digits, - and _)")
    voice = fields.text("voice")
    if not _VOICE_RE.fullmatch(voice):
        raise ScenarioError(f"{where}.voice: {voice!r} is not an espeak-ng voice name such as en-us or en+f3")
    joins_at = fields.seconds("joins_at", default=0.0)
    leaves_at = fields.seconds("leaves_at", default=None)
    if leaves_at is not None and leaves_at <= joins_at:
        raise ScenarioError(f"{where}.leaves_at: must be later than joins_at ({joins_at} s)")
    return Participant(pid, fields.text("name", limit=80), voice, joins_at, leaves_at)


def _utterance(item: Any, where: str, people: dict[str, Participant]) -> Utterance:
    fields = _Fields(item, where)
    fields.check_keys({"at", "who", "text"})
    at = fields.seconds("at")
    who = fields.text("who")
    person = people.get(who)
    if person is None:
        raise ScenarioError(f"{where}.who: unknown participant {who!r}")
    if not person.present_at(at):
        raise ScenarioError(f"{where}.at: {who!r} is not in the meeting at {at} s")
    return Utterance(at, who, fields.text("text", limit=MAX_TEXT))


class _Fields:
    """Typed reads from one JSON object, with errors that name the field."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise ScenarioError(f"{where}: must be an object")
        self.data = data
        self.where = where

    def check_keys(self, allowed: set[str]) -> None:
        unknown = sorted(set(self.data) - allowed)
        if unknown:
            raise ScenarioError(
                f"{self.where}: unknown field {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})"
            )

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str) -> Any:
        return self.data.get(key)

    def error(self, key: str, message: str) -> ScenarioError:
        return ScenarioError(f"{self.where}.{key}: {message}")

    def flag(self, key: str, *, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, "must be true or false")
        return value

    def _required(self, key: str) -> Any:
        if key not in self.data:
            raise ScenarioError(f"{self.where}.{key}: is required")
        return self.data[key]

    def text(self, key: str, *, default: str | None = None, limit: int = 64, allow_empty: bool = False) -> str:
        value = self.data.get(key, default) if default is not None else self._required(key)
        if not isinstance(value, str) or (not allow_empty and not value.strip()):
            raise ScenarioError(f"{self.where}.{key}: must be a {'' if allow_empty else 'non-empty '}string")
        if len(value) > limit:
            raise ScenarioError(f"{self.where}.{key}: longer than {limit} characters")
        return value.strip()

    def choice(self, key: str, choices: tuple[str, ...], *, default: str) -> str:
        value = self.data.get(key, default)
        if value not in choices:
            raise ScenarioError(f"{self.where}.{key}: {value!r} is not one of {', '.join(choices)}")
        return value

    def seconds(self, key: str, *, default: float | None = _REQUIRED) -> Any:
        value = self._required(key) if default is _REQUIRED else self.data.get(key, default)
        if value is None and default is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 86400:
            raise ScenarioError(f"{self.where}.{key}: must be a number of seconds from 0 to 86400")
        return float(value)

    def list(self, key: str) -> list[Any]:
        value = self.data.get(key, [])
        if not isinstance(value, list):
            raise ScenarioError(f"{self.where}.{key}: must be a list")
        return value
