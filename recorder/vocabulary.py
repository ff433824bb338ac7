"""Names and terms whisper should spell right: products, people, customers, jargon.

Whisper writes what it has seen in its training text; an invented product name comes out
as common words that sound alike ("Zorblax Quintara" as "more black squintards"). Given in
the prompt, the spelling is there to copy. The terms go after the earlier text of the
meeting: whisper cuts an overlong prompt from its start, and the words nearest the audio
sway it most. A plain list ending in a full stop works better than faster-whisper's
`hotwords`, which, next to a prompt of earlier text, now and then makes whisper recite the
list after the speech (measured with tiny.en on espeak-ng speech).
"""
from __future__ import annotations

import re
from collections.abc import Iterable

MAX_TERMS = 40
MAX_TERM_CHARS = 60
_SEPARATORS = re.compile(r"[,;\n]")


class VocabularyError(ValueError):
    """A vocabulary that is neither a list of strings nor a string."""


def clean_vocabulary(value: object, *, strict: bool = False) -> tuple[str, ...]:
    """The terms of a vocabulary given as a list of strings or as one string separated by
    commas, semicolons or new lines: trimmed, printable, each once (ignoring case), at most
    MAX_TERMS of at most MAX_TERM_CHARS characters. Longer terms and the terms after the
    first MAX_TERMS are left out, or, when `strict`, refused (VocabularyError)."""
    if value is None:
        return ()
    if isinstance(value, str):
        items: Iterable[object] = split_terms(value)
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        raise VocabularyError(f"a vocabulary is a list of terms, not {type(value).__name__}")
    terms: list[str] = []
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, str):
            raise VocabularyError(f"a vocabulary term is text, not {type(item).__name__}")
        term = " ".join("".join(ch for ch in item if ch.isprintable()).split()).strip(" ,;.")
        if strict and len(term) > MAX_TERM_CHARS:
            raise VocabularyError(f"a vocabulary term has at most {MAX_TERM_CHARS} characters: {term[:20]}…")
        if term and term.casefold() not in seen and len(term) <= MAX_TERM_CHARS:
            seen.add(term.casefold())
            terms.append(term)
    if strict and len(terms) > MAX_TERMS:
        raise VocabularyError(f"a vocabulary has at most {MAX_TERMS} terms")
    return tuple(terms[:MAX_TERMS])


def split_terms(text: str) -> list[str]:
    """A vocabulary typed as text: terms separated by commas, semicolons or new lines."""
    return [term for term in _SEPARATORS.split(text) if term.strip()]


def merge_vocabularies(*vocabularies: Iterable[str]) -> tuple[str, ...]:
    """The terms of several vocabularies in order, each once."""
    return clean_vocabulary([term for vocabulary in vocabularies for term in vocabulary])


def whisper_prompt(context: str | None, vocabulary: Iterable[str] = ()) -> str | None:
    """The initial prompt of a whisper pass: the earlier text, then the vocabulary."""
    terms = ", ".join(vocabulary)
    parts = [part for part in ((context or "").strip(), f"{terms}." if terms else "") if part]
    return " ".join(parts) or None
