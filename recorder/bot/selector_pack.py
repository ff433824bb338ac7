"""Selector packs: per-platform data telling the page driver where each landmark is.

A pack is `resources/selectors/<platform>.json`. Web clients change often, so every
landmark holds several fallback matchers, and no selector or screen text lives in code.
The matcher forms are documented in `resources/bot/page_driver.js` and
`resources/selectors/README.md`.

Evidence: every matcher names the public source that shows the real page has it
(`"source": "owner/repo path"`, see docs/PLATFORMS.md) or says it is a guess
(`"unconfirmed": true`); guesses come after every confirmed matcher of their landmark, so
they are only ever tried last.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from recorder.bot.assets import SELECTOR_PACKS

# Landmarks that are lists of matchers.
MATCHER_LISTS = (
    "frames", "interstitials", "meeting_prompts", "name_input", "email_input", "join_buttons", "lobby",
    "admitted", "denied", "sign_in", "blocked", "invalid", "not_started", "retry_join", "removed", "ended",
    "reconnecting", "leave", "leave_confirm",
)
REQUIRED = ("name_input", "join_buttons", "lobby", "admitted", "leave", "participants")
_EVIDENCE_KEYS = {"source", "unconfirmed"}
_MATCHER_KEYS = {"css", "text", "url", "title", "attr", "above", *_EVIDENCE_KEYS}
_TOGGLE_KEYS = {"turn_off", "is_off"}
_PARTICIPANT_KEYS = {"items", "name", "strip", "self", "bot", "open"}
_NAME_RULE_KEYS = {"css", "attr", *_EVIDENCE_KEYS}
_AUDIO_KEYS = {"prefer_stream", "fallback_after_s", "source"}
_TOP_KEYS = {"platform", "mic", "camera", "speaking", "participants", "guest_email", "audio", "meeting_title",
             *MATCHER_LISTS}
# "owner/repo path/to/file": where the landmark can be seen in a maintained open-source bot.
_SOURCE = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+ \S.*")


class SelectorPackError(ValueError):
    """A selector pack is missing, unreadable or malformed."""


@dataclass(frozen=True)
class SelectorPack:
    platform: str
    data: dict[str, Any]

    def url_markers(self, landmark: str) -> tuple[str, ...]:
        """The address fragments of a landmark (e.g. the sign-in page a join redirects to)."""
        return tuple(m["url"].lower() for m in self.data.get(landmark, ()) if "url" in m)

    @property
    def guest_email(self) -> str | None:
        """What to type where a platform requires a guest's email (Webex)."""
        return self.data.get("guest_email")

    @property
    def preferred_audio_stream(self) -> tuple[str, float] | None:
        """(part of the stream id to tap alone, seconds before tapping all instead), if any."""
        audio = self.data.get("audio")
        if not audio:
            return None
        return str(audio["prefer_stream"]), float(audio["fallback_after_s"])


def load_pack(platform: str) -> SelectorPack:
    if not re.fullmatch(r"[a-z_]+", platform or ""):
        raise SelectorPackError(f"unknown platform {platform!r}")
    path = SELECTOR_PACKS / f"{platform}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SelectorPackError(f"no selector pack for platform {platform!r} ({path})") from None
    except (OSError, ValueError) as exc:
        raise SelectorPackError(f"selector pack {path} cannot be read: {exc}") from None
    validate(data, str(path))
    if data["platform"] != platform:
        raise SelectorPackError(f"{path}: declares platform {data['platform']!r}, expected {platform!r}")
    return SelectorPack(platform, data)


def validate(data: Any, where: str) -> None:
    def fail(msg: str) -> None:
        raise SelectorPackError(f"{where}: {msg}")

    if not isinstance(data, dict):
        fail("a pack is a JSON object")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        fail(f"unknown keys {sorted(unknown)}")
    if not isinstance(data.get("platform"), str):
        fail("'platform' must be a string")
    for key in REQUIRED:
        if key not in data:
            fail(f"missing {key!r}")
    if "email_input" in data and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]+", str(data.get("guest_email", ""))):
        fail("'email_input' needs a 'guest_email' address to type")
    for key in MATCHER_LISTS:
        if key in data:
            _matchers(data[key], key, fail)
    if any("css" not in m for m in data.get("frames", [])):
        fail("every frame matcher needs 'css'")
    if "audio" in data:
        audio = data["audio"]
        if (not isinstance(audio, dict) or set(audio) != _AUDIO_KEYS or not isinstance(audio["prefer_stream"], str)
                or not isinstance(audio["fallback_after_s"], (int, float)) or audio["fallback_after_s"] <= 0):
            fail(f"'audio' holds {sorted(_AUDIO_KEYS)}: a stream id part, a positive number of seconds, a source")
        _evidence(audio, "audio", fail)
    for key in ("mic", "camera"):
        if key in data:
            toggle = data[key]
            if not isinstance(toggle, dict) or set(toggle) - _TOGGLE_KEYS:
                fail(f"{key!r} holds only {sorted(_TOGGLE_KEYS)}")
            for part, matchers in toggle.items():
                _matchers(matchers, f"{key}.{part}", fail)
    _participants(data["participants"], fail)
    if "meeting_title" in data:
        _title_rules(data["meeting_title"], fail)
    if "speaking" in data:
        speaking = data["speaking"]
        if not isinstance(speaking, dict) or set(speaking) != {"indicators"}:
            fail("'speaking' holds exactly 'indicators'")
        _matchers(speaking["indicators"], "speaking.indicators", fail)
        if any("css" not in m for m in speaking["indicators"]):
            fail("every speaking indicator needs 'css'")


def _evidence(entry: dict[str, Any], key: str, fail) -> bool:
    """Checks the entry's evidence; True when it is confirmed by a source."""
    if "source" in entry and "unconfirmed" in entry or not ({"source", "unconfirmed"} & set(entry)):
        fail(f"{key!r}: {entry!r} needs either a 'source' (where the real page shows it) "
             "or \"unconfirmed\": true")
    if "source" in entry:
        if not isinstance(entry["source"], str) or not _SOURCE.fullmatch(entry["source"]):
            fail(f"{key!r}: {entry!r}: 'source' is \"owner/repo path/to/file\"")
        return True
    if entry["unconfirmed"] is not True:
        fail(f"{key!r}: {entry!r}: 'unconfirmed' can only be true")
    return False


def _in_evidence_order(entries: list[dict[str, Any]], key: str, fail) -> None:
    confirmed = [_evidence(e, key, fail) for e in entries]
    if confirmed != sorted(confirmed, reverse=True):
        fail(f"{key!r}: unconfirmed matchers must come after every confirmed one")


def _strings(value: Any, key: str, fail) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        fail(f"{key!r} must be a list of non-empty strings")


def _matchers(value: Any, key: str, fail) -> None:
    if not isinstance(value, list) or not value:
        fail(f"{key!r} must be a non-empty list of matchers")
    for m in value:
        if not isinstance(m, dict) or not m or set(m) - _MATCHER_KEYS:
            fail(f"{key!r}: {m!r} is not a matcher (keys: {sorted(_MATCHER_KEYS)})")
        if not ({"css", "text", "url", "title"} & set(m)):
            fail(f"{key!r}: {m!r} needs css, text, url or title")
        if not all(isinstance(v, str) and v for k, v in m.items() if k not in ("above", "unconfirmed")):
            fail(f"{key!r}: {m!r} values must be non-empty strings")
        if "above" in m and ("attr" not in m or not isinstance(m["above"], (int, float))):
            fail(f"{key!r}: {m!r}: 'above' is a number and needs 'attr'")
    _in_evidence_order(value, key, fail)


def _title_rules(value: Any, fail) -> None:
    """Where the page shows the meeting's title: an element's text, or one of its attributes."""
    if not isinstance(value, list) or not value:
        fail("'meeting_title' must be a non-empty list of rules")
    for rule in value:
        if (not isinstance(rule, dict) or set(rule) - _NAME_RULE_KEYS or not isinstance(rule.get("css"), str)
                or not rule["css"] or "attr" in rule and not (isinstance(rule["attr"], str) and rule["attr"])):
            fail(f"meeting_title: {rule!r} holds a 'css' selector, an optional 'attr' to read, and its evidence")
    _in_evidence_order(value, "meeting_title", fail)


def _participants(value: Any, fail) -> None:
    if not isinstance(value, dict) or set(value) - _PARTICIPANT_KEYS:
        fail(f"'participants' holds only {sorted(_PARTICIPANT_KEYS)}")
    _matchers(value.get("items"), "participants.items", fail)
    if any(set(m) - {"css", *_EVIDENCE_KEYS} for m in value["items"]):
        fail("participants.items: each item is {'css': selector} with its evidence")
    rules = value.get("name")
    if not isinstance(rules, list) or not rules:
        fail("'participants.name' must be a non-empty list of name rules")
    for rule in rules:
        if not isinstance(rule, dict) or set(rule) - _NAME_RULE_KEYS or not ({"css", "attr"} & set(rule)):
            fail(f"participants.name: {rule!r} holds css and/or attr, and its evidence")
    _in_evidence_order(rules, "participants.name", fail)
    strip = value.get("strip", [])
    if not isinstance(strip, list):
        fail("'participants.strip' must be a list")
    for rule in strip:
        if not isinstance(rule, dict) or set(rule) - {"pattern", *_EVIDENCE_KEYS}:
            fail(f"participants.strip: {rule!r} holds a 'pattern' and its evidence")
        try:
            re.compile(rule["pattern"])
        except (re.error, TypeError, KeyError) as exc:
            fail(f"participants.strip: {rule!r} is not a regular expression ({exc})")
    _in_evidence_order(strip, "participants.strip", fail)
    for key in ("self", "bot", "open"):
        if key in value:
            _matchers(value[key], f"participants.{key}", fail)
