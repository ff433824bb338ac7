"""The languages Whisper transcribes, with names for the pickers.

The codes are faster-whisper's (a test keeps this list equal to its tokenizer's); they are
listed here so the window opens without importing the transcription engine.
"""
from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QLocale

WHISPER_LANGUAGES = (
    "af", "am", "ar", "as", "az", "ba", "be", "bg", "bn", "bo", "br", "bs", "ca", "cs", "cy",
    "da", "de", "el", "en", "es", "et", "eu", "fa", "fi", "fo", "fr", "gl", "gu", "ha", "haw",
    "he", "hi", "hr", "ht", "hu", "hy", "id", "is", "it", "ja", "jw", "ka", "kk", "km", "kn",
    "ko", "la", "lb", "ln", "lo", "lt", "lv", "mg", "mi", "mk", "ml", "mn", "mr", "ms", "mt",
    "my", "ne", "nl", "nn", "no", "oc", "pa", "pl", "ps", "pt", "ro", "ru", "sa", "sd", "si",
    "sk", "sl", "sn", "so", "sq", "sr", "su", "sv", "sw", "ta", "te", "tg", "th", "tk", "tl",
    "tr", "tt", "uk", "ur", "uz", "vi", "yi", "yo", "zh", "yue",
)

# Whisper keeps the retired code "jw" for Javanese (ISO 639-1: "jv").
_QLOCALE_CODES = {"jw": "jv"}


def language_name(code: str) -> str:
    locale = QLocale(_QLOCALE_CODES.get(code, code))
    if locale.language() == QLocale.Language.C:
        return code
    return QLocale.languageToString(locale.language())


@lru_cache(maxsize=1)
def language_choices() -> tuple[tuple[str, str], ...]:
    """(label, code) pairs sorted by name, e.g. ("German (de)", "de")."""
    return tuple(sorted(((f"{language_name(c)} ({c})", c) for c in WHISPER_LANGUAGES),
                        key=lambda item: item[0].casefold()))
