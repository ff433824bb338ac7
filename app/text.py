"""Text hygiene shared by every writer and reader of user and page text: what is stored
(`clean_untrusted`, applied as the SessionManager writes) and what is shown or exported
(`clean_text`)."""
from __future__ import annotations

import re
import unicodedata

# Control, format (bidi overrides, zero-width), surrogate, private-use and unassigned.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
# Characters XML 1.0 (DOCX) cannot hold, and that would corrupt a subtitle or text file.
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_LONE_SURROGATES = re.compile("[\ud800-\udfff]")


def clean_untrusted(text: object, limit: int) -> str:
    """Text that came from a meeting page (names, page messages) or a user (a title) made
    safe to store and show: half surrogate pairs (SQLite and UTF-8 refuse them), control and
    format characters (terminal escapes, NUL, bidi overrides, zero-width marks) removed,
    whitespace collapsed, and at most `limit` characters (an ellipsis marks a cut)."""
    value = text if isinstance(text, str) else str(text)
    value = unicodedata.normalize("NFC", value.encode("utf-8", "replace").decode("utf-8"))
    value = "".join(" " if ch in "\t\n\r" else ch for ch in value if ch in "\t\n\r"
                    or unicodedata.category(ch) not in _UNSAFE_CATEGORIES)
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "\u2026"


def clean_text(text: str | None) -> str:
    """One line of displayable text: control characters dropped, invalid code points
    replaced, whitespace runs (newlines included) collapsed to single spaces."""
    if not text:
        return ""
    text = _LONE_SURROGATES.sub("\ufffd", _CONTROL_CHARS.sub("", text))
    return " ".join(text.split())
