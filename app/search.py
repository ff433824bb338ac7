"""Full-text search across every meeting's transcript: what a query means, what a hit holds.

The index itself is SQLite FTS5 in the store (app/store.py, `Store.search`). This module turns
what a person typed into an FTS5 query, reads the date range, and turns FTS5's marked snippet
into plain text with the matched spans beside it, so no caller ever renders markup that came
from a meeting.

What a query means (the default): every word must occur in the line, in any order;
"double-quoted words" must occur together, as a phrase; a word ending in `*` matches every
word it begins (`budg*`). Anything else — `-`, `:`, `(`, `OR`, `NEAR`, a stray quote — is only
text, so no punctuation can break a search. `raw=True` hands the text to FTS5 as its own query
syntax (AND, OR, NOT, NEAR, prefixes); a query FTS5 cannot read is then a ValidationError.
Matching ignores case and accents (`cafe` finds "Café").
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timezone
from typing import Any

from app.errors import ValidationError

MAX_QUERY_CHARS = 500
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
SNIPPET_TOKENS = 24  # words of context a snippet shows around the match (FTS5 allows 64)
QUERY_FIELD = "q"  # how the API and the errors name the query

# What FTS5 puts around a matched word in a snippet; private-use characters, which the
# session manager never stores in a transcript line, so they cannot be confused with its text.
MARK_OPEN, MARK_CLOSE = "\ue000", "\ue001"
ELLIPSIS = "\u2026"

# A plain date (the whole day, UTC) or an RFC 3339 date-time with its zone, as the analytics
# date range takes them.
MOMENT_PATTERN = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
                  r"([Zz]|[+-][0-9]{2}:[0-9]{2}))?$")
_MOMENT = re.compile(MOMENT_PATTERN)
_TERM = re.compile(r'"([^"]*)"?|(\S+)')  # a quoted phrase (its closing quote optional) or a word


@dataclass(frozen=True)
class SearchHit:
    """One transcript line that matches, with where it belongs."""

    session_id: str
    transcript_id: str
    text: str                      # the whole line
    snippet: str                   # the part around the match, plain text ("…" where cut)
    highlights: tuple[tuple[int, int], ...]  # matched spans of `snippet`: [start, end) in characters
    speaker: str | None
    start_time: float              # session seconds
    end_time: float
    language_code: str
    score: float                   # relevance (bm25, sign turned: higher is better)
    session_created_at: str        # when the session started (UTC ISO 8601)
    platform: str

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["highlights"] = [list(span) for span in self.highlights]
        return data

    def marked_snippet(self, open_mark: str, close_mark: str) -> str:
        """The snippet with `open_mark`/`close_mark` around each match (for a terminal)."""
        out, at = [], 0
        for start, end in self.highlights:
            out += [self.snippet[at:start], open_mark, self.snippet[start:end], close_mark]
            at = end
        out.append(self.snippet[at:])
        return "".join(out)


@dataclass(frozen=True)
class SearchPage:
    query: str
    data: list[SearchHit]
    has_more: bool
    limit: int
    offset: int

    def to_dict(self) -> dict[str, Any]:
        return {"query": self.query, "data": [hit.to_dict() for hit in self.data],
                "has_more": self.has_more, "limit": self.limit, "offset": self.offset}


# -- the query -----------------------------------------------------------------------------------

def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _has_word(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def fts_query(text: str, *, raw: bool = False) -> str:
    """The FTS5 query for what a person typed (see the module's description)."""
    if not isinstance(text, str) or not text.strip():
        raise ValidationError("Type something to search for", field=QUERY_FIELD)
    if len(text) > MAX_QUERY_CHARS:
        raise ValidationError(f"The search is longer than {MAX_QUERY_CHARS} characters", field=QUERY_FIELD)
    text = "".join(" " if not ch.isprintable() else ch for ch in text)
    if raw:
        return text.strip()
    terms = []
    for match in _TERM.finditer(text):
        phrase, word = match.group(1), match.group(2)
        if phrase is not None:
            if _has_word(phrase):
                terms.append(_quoted(phrase.strip()))
            continue
        prefix = word.endswith("*") and _has_word(word)
        word = word.rstrip("*") if prefix else word
        if _has_word(word):
            terms.append(_quoted(word) + ("*" if prefix else ""))
    if not terms:
        raise ValidationError("The search holds no word to look for (letters or digits)", field=QUERY_FIELD)
    return " ".join(terms)


def fts_error(message: str) -> bool:
    """Whether an SQLite error message is FTS5 refusing a query (rather than a storage failure)."""
    lowered = message.lower()
    return lowered.startswith("fts5") or "syntax error" in lowered or "no such column" in lowered \
        or "unterminated string" in lowered or "unknown special query" in lowered


def query_error(text: str, message: str) -> ValidationError:
    detail = message.removeprefix("fts5: ")
    return ValidationError(f"The search {text!r} cannot be read: {detail}. Leave out the search syntax "
                           "to look for the words as they are", field=QUERY_FIELD)


# -- the date range ------------------------------------------------------------------------------

def parse_moment(value: str | None, field: str, *, end_of_day: bool) -> datetime | None:
    """A plain date (from the start of that UTC day, or to its end with `end_of_day`) or an
    ISO 8601 date-time with its zone; None stays None."""
    if value is None:
        return None
    value = value.strip()
    if not _MOMENT.match(value):
        raise ValidationError(f"{field} must be a date (2025-12-01) or a date and time with its zone "
                              f"(2025-12-01T09:00:00Z), not {value[:40]!r}", field=field)
    try:
        if len(value) == len("2025-12-01"):
            day = date.fromisoformat(value)
            return datetime.combine(day, time.max if end_of_day else time.min, timezone.utc)
        stamp = value.replace("z", "Z").replace("Z", "+00:00").replace("t", "T").replace(" ", "T")
        return datetime.fromisoformat(stamp).astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise ValidationError(f"{field} is not a real date and time: {value}", field=field) from None


def as_utc(moment: datetime | None) -> datetime | None:
    """An aware moment as it is; a naive one read as UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=timezone.utc)


def check_range(since: datetime | None, until: datetime | None, *, since_field: str = "since") -> None:
    since, until = as_utc(since), as_utc(until)
    if since is not None and until is not None and since > until:
        raise ValidationError("The start of the date range is after its end", field=since_field)


def julian_day(moment: datetime) -> float:
    """SQLite's julianday() of a moment (naive: UTC), so a range is compared as SQLite reads
    timestamps."""
    aware = as_utc(moment)
    assert aware is not None
    return aware.timestamp() / 86400.0 + 2440587.5


# -- snippets ----------------------------------------------------------------------------------------

def unmark(marked: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """FTS5's snippet, markers around each match, as plain text and the matched spans.
    Adjacent matches are joined into one span; a marker without its pair is dropped."""
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    length, opened = 0, None
    for ch in marked:
        if ch == MARK_OPEN:
            opened = length if opened is None else opened
        elif ch == MARK_CLOSE:
            if opened is not None and length > opened:
                if spans and spans[-1][1] == opened:
                    spans[-1] = (spans[-1][0], length)
                else:
                    spans.append((opened, length))
            opened = None
        else:
            out.append(ch)
            length += 1
    return "".join(out), tuple(spans)
