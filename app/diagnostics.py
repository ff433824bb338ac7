"""Diagnostics bundles: what the bot saw when a join failed or a meeting page showed a screen
its selector pack does not know, saved in the session's folder for the user to send to the
maintainers — the real services cannot be tested from here, users' meetings can.

`<session folder>/diagnostics/NN-<when>/`: screenshot.png, page.html (scripts and typed values
removed), landmarks.json (every landmark of the pack and the matcher that hit, or null) and
log.txt (the session log so far). Passcodes, tokens and other secrets are removed from the
HTML, the addresses and the log before anything is written.
"""
from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from app.errors import StorageError
from app.models import LogEntry
from app.timeutil import iso_now
from recorder.bot.diagnostics import PageDiagnostics

FOLDER = "diagnostics"
REDACTED = "REDACTED"

# Query and fragment parameters that carry secrets in meeting links and web clients.
_SECRET_PARAMS = ("pwd", "p", "passcode", "password", "tk", "token", "access_token", "id_token",
                  "refresh_token", "auth", "authorization", "code", "sig", "signature", "key", "apikey",
                  "api_key", "secret", "session", "sessionid", "ticket", "jwt")
_PARAM = re.compile(r"(?i)(?<![A-Za-z0-9_])(" + "|".join(_SECRET_PARAMS) + r")(=|%3D)([^&#\s\"'<>]+)")
# JSON in the page, in an attribute (&quot;) or inside a script string (\").
_QUOTE = r'(?:"|&quot;|\\")'
_JSON_SECRET = re.compile(r"(?i)(" + _QUOTE + "(?:" + "|".join(_SECRET_PARAMS) + ")" + _QUOTE + r"\s*:\s*"
                          + _QUOTE + r")((?:(?!" + _QUOTE + r").)*)(" + _QUOTE + ")")
_AUTH_SCHEME = re.compile(r"(?i)\b((?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]+")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b")
# Meeting ids and tokens in addresses are long random runs; long CSS names are not
# (lower-case words joined by - or _), and the packs need them intact in page.html.
_LONG_RUN = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{40,}(?![A-Za-z0-9_-])")
_WORDS = re.compile(r"[a-z]+(?:[-_]+[a-z0-9]+)*")


def _random_run(match: re.Match[str]) -> str:
    run = match.group(0)
    looks_random = any(c.isdigit() for c in run) and not _WORDS.fullmatch(run)
    return REDACTED if looks_random else run


def scrub(text: str) -> str:
    """`text` with passcodes, tokens and similar secrets replaced by REDACTED."""
    text = _PARAM.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = _JSON_SECRET.sub(lambda m: f"{m.group(1)}{REDACTED}{m.group(3)}", text)
    text = _AUTH_SCHEME.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    text = _JWT.sub(REDACTED, text)
    return _LONG_RUN.sub(_random_run, text)


def write_bundle(session_folder: Path, diagnostics: PageDiagnostics, log: Iterable[LogEntry]) -> Path:
    """Write one bundle into the session's folder; returns its folder."""
    root = session_folder / FOLDER
    try:
        root.mkdir(parents=True, exist_ok=True)
        number = 1 + max((_number(entry) for entry in root.iterdir() if entry.is_dir()), default=0)
        taken_at = iso_now()
        bundle = root / f"{number:02d}-{taken_at[:19].replace(':', '').replace('-', '')}"
        bundle.mkdir()
        if diagnostics.screenshot_png:
            (bundle / "screenshot.png").write_bytes(diagnostics.screenshot_png)
        (bundle / "page.html").write_text(scrub(diagnostics.html), "utf-8")
        (bundle / "landmarks.json").write_text(json.dumps(summary(diagnostics, taken_at), indent=2,
                                                          ensure_ascii=False), "utf-8")
        (bundle / "log.txt").write_text("".join(f"{e.timestamp} {e.level:7} {scrub(e.message)}\n" for e in log),
                                        "utf-8")
    except OSError as exc:
        raise StorageError(f"Cannot write diagnostics into the session folder: {exc.strerror}") from exc
    return bundle


def summary(diagnostics: PageDiagnostics, taken_at: str) -> dict[str, Any]:
    return {
        "reason": scrub(diagnostics.reason),
        "taken_at": taken_at,
        "url": scrub(diagnostics.url),
        "title": scrub(diagnostics.title),
        "landmarks": diagnostics.landmarks,
        "unmatched": sorted(k for k, v in diagnostics.landmarks.items() if v is None),
        # How many, not who: the bundle is made to be sent to someone outside the meeting.
        "participant_count": len(diagnostics.participants),
    }


def _number(bundle: Path) -> int:
    """A bundle's sequence number (its name starts with it); 0 for a foreign folder."""
    digits = bundle.name.partition("-")[0]
    return int(digits) if digits.isdigit() else 0


def bundles(session_folder: Path) -> list[Path]:
    """The session's bundles, oldest first."""
    root = session_folder / FOLDER
    try:
        found = [entry for entry in root.iterdir() if entry.is_dir() and (entry / "landmarks.json").is_file()]
    except OSError:   # no diagnostics (yet), or the folder is gone
        return []
    return sorted(found, key=lambda bundle: (_number(bundle), bundle.name))


def read_summaries(session_folder: Path) -> list[dict[str, Any]]:
    """Each bundle's landmarks.json with its folder name ("bundle"), oldest first, in the
    shape `summary` writes (a damaged or foreign file gives empty fields, never an error)."""
    found = []
    for bundle in bundles(session_folder):
        try:
            data = json.loads((bundle / "landmarks.json").read_text("utf-8"))
        except (OSError, ValueError):
            data = {}
        found.append({"bundle": bundle.name, **_summary_fields(data if isinstance(data, dict) else {})})
    return found


def _summary_fields(data: dict[str, Any]) -> dict[str, Any]:
    raw, people = data.get("landmarks"), data.get("participant_count")
    landmarks = {str(k): None if v is None else str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
    return {
        **{key: str(data.get(key) or "") for key in ("reason", "taken_at", "url", "title")},
        "landmarks": landmarks,
        "unmatched": sorted(k for k, v in landmarks.items() if v is None),
        "participant_count": people if isinstance(people, int) and not isinstance(people, bool) else 0,
    }


def zip_bundles(session_folder: Path) -> bytes:
    """Every bundle of the session in one zip file (folders named as on disk)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for bundle in bundles(session_folder):
            for path in sorted(bundle.iterdir()):
                if path.is_file():
                    archive.write(path, f"{bundle.name}/{path.name}")
    return out.getvalue()
