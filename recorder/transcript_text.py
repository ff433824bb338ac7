"""Whisper's words turned into transcript lines: decodes whisper itself would reject left out,
words placed on the session clock, lines cut at sentence ends and speaker changes."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from recorder.local_agreement import Word

_SENTENCE_ENDS = (".", "?", "!", "。", "？", "！")
LEAD_IN = 1.0  # seconds of final words kept at the start of a cut buffer


@dataclass
class TranscriptResult:
    text: str
    start_time: float  # session seconds
    end_time: float
    is_partial: bool
    confidence: float | None  # 0-1 for finals, None for partials
    language_code: str
    speaker: str | None


def ends_sentence(word: Word) -> bool:
    text = word.text.strip()
    return text.endswith(_SENTENCE_ENDS) and not text.endswith("...")


def _confidence(words: list[Word]) -> float:
    mean = sum(w.probability for w in words) / len(words)
    return round(min(max(mean, 0.001), 1.0), 3)


def make_result(words: list[Word], language: str, speaker: str | None, partial: bool) -> TranscriptResult:
    return TranscriptResult(
        text="".join(w.text for w in words).strip(),
        start_time=round(words[0].start, 3),
        end_time=round(words[-1].end, 3),
        is_partial=partial,
        confidence=None if partial else _confidence(words),
        language_code=language,
        speaker=speaker,
    )


# Whisper's own criteria for a failed decode: text this repetitive is a loop, and a segment
# the model thinks is silence with low confidence is made up.
MAX_COMPRESSION_RATIO = 2.4
NO_SPEECH_PROB = 0.6
MIN_AVG_LOGPROB = -1.0


def hallucinated(segment: Any) -> bool:
    if getattr(segment, "compression_ratio", 0.0) > MAX_COMPRESSION_RATIO:
        return True
    return (getattr(segment, "no_speech_prob", 0.0) > NO_SPEECH_PROB
            and getattr(segment, "avg_logprob", 0.0) < MIN_AVG_LOGPROB)


# What whisper says in near-silence by habit (its training subtitles end this way). Said
# for real, such a line comes with confidence; guessed, it does not.
_STOCK_PHRASES = frozenset({"thank you", "thanks for watching", "thank you for watching", "bye", "you"})
STOCK_PHRASE_MIN_CONFIDENCE = 0.6


def stock_phrase(result: TranscriptResult) -> bool:
    text = " ".join("".join(ch for ch in word if ch.isalnum()) for word in result.text.lower().split())
    return text in _STOCK_PHRASES and (result.confidence or 0.0) < STOCK_PHRASE_MIN_CONFIDENCE


# Text whisper writes after the speech (a video's "thanks for watching" in the padding) has
# no audio to align to: its words come out with no length, piled up at the end.
SQUEEZED_WORD = 0.02  # seconds: a word this short has no sound of its own
AT_THE_END = 0.15  # seconds before the end of the audio


def beyond_the_audio(segment: Any, offset: float, limit: float) -> bool:
    """Whether most of a segment's words are squeezed into the very end of the audio."""
    words = segment.words or []
    squeezed = sum(1 for w in words if w.end - w.start < SQUEEZED_WORD and offset + w.end > limit - AT_THE_END)
    return squeezed > len(words) / 2


def words_from(segments: Any, offset: float, limit: float) -> list[Word]:
    words = []
    for segment in segments:
        if hallucinated(segment) or beyond_the_audio(segment, offset, limit):
            continue
        for w in segment.words or []:
            # a word of punctuation alone is a decode running on in silence (". . .")
            if any(ch.isalnum() for ch in w.word):
                start = min(max(offset + w.start, offset), limit)
                words.append(Word(w.word, start, min(max(offset + w.end, start), limit), w.probability))
    return words


def sentences(words: list[Word], speaker_of: Callable[[Word], str | None]) -> Iterator[list[Word]]:
    """Splits words at sentence ends and where the active speaker changes."""
    group: list[Word] = []
    current = None
    for word in words:
        speaker = speaker_of(word)
        if group and speaker is not None and current is not None and speaker != current:
            yield group
            group = []
        current = speaker if speaker is not None else current
        group.append(word)
        if ends_sentence(word):
            yield group
            group, current = [], None
    if group:
        yield group


def cut_point(final: list[Word], following: list[Word]) -> float:
    """Where a buffer whose text up to `final` is final can start.

    Whisper garbles or drops words at the very start of its audio, so about a second of
    final words stays as a lead-in (the agreement filters their repeat); the cut falls on a
    word start, never inside a word and never after a word that is not final yet.
    """
    cut = final[-1].end - LEAD_IN
    word_start = next((w.start for w in reversed(final) if w.start <= cut), final[0].start)
    return min([word_start] + [w.start for w in following])
