"""Deciding which words of a streaming transcription are stable enough to commit.

Whisper re-transcribes the growing utterance buffer on every pass, and the words near the
end of the buffer change as more audio arrives. A word is committed once two consecutive
passes agree on it and on every word before it (local agreement). Committed words are
never taken back, so a later pass must not repeat them: words lying mostly before the end
of the last committed word are ignored, and a repeat of the last committed words at the
seam is dropped (word timestamps of two passes differ, so time alone cannot tell).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

_SEAM_WINDOW = 1.0  # seconds: a repeat is only looked for right after the committed words
_MAX_REPEAT = 5  # words


@dataclass(frozen=True)
class Word:
    text: str  # as whisper wrote it, with its leading space and punctuation
    start: float  # session seconds
    end: float
    probability: float

    @property
    def key(self) -> str:
        """The word for comparisons: case and punctuation do not make two passes disagree."""
        letters = "".join(ch for ch in self.text.lower() if ch.isalnum())
        return letters or self.text.strip()


def _keys(words: list[Word]) -> list[str]:
    return [word.key for word in words]


class LocalAgreement:
    """Commits the longest common word prefix of the last two hypotheses of one utterance."""

    def __init__(self) -> None:
        self.uncommitted: list[Word] = []  # the latest pass's words after the committed ones
        self._committed_tail: list[Word] = []  # the last committed words, to spot repeats
        self.last_committed_end = -math.inf

    def insert(self, hypothesis: list[Word]) -> list[Word]:
        """Takes a new pass over the buffer; returns the words it newly commits."""
        new = self._new_words(hypothesis)
        agreed = 0
        for current, previous in zip(new, self.uncommitted):
            if current.key != previous.key:
                break
            agreed += 1
        self.uncommitted = new[agreed:]
        return self._commit(new[:agreed])

    def commit_all(self, hypothesis: list[Word]) -> list[Word]:
        """Takes the last pass of an utterance: everything it says past the committed words."""
        self.uncommitted = []
        return self._commit(self._new_words(hypothesis))

    def commit_until(self, time: float) -> list[Word]:
        """Commits the uncommitted words that end by `time` (a buffer that must be cut)."""
        count = 0
        while count < len(self.uncommitted) and self.uncommitted[count].end <= time:
            count += 1
        committed, self.uncommitted = self.uncommitted[:count], self.uncommitted[count:]
        return self._commit(committed)

    def reopen(self, kept: list[Word]) -> None:
        """Takes back every commit after `kept` (the words already shown as final), so a
        better pass over the same audio can decide them again."""
        self.uncommitted = []
        self._committed_tail = kept[-_MAX_REPEAT:]
        self.last_committed_end = kept[-1].end if kept else -math.inf

    def end_utterance(self) -> None:
        """The speaker paused: the next audio is new, so nothing in it can repeat the seam."""
        self.uncommitted = []
        self._committed_tail = []

    def _new_words(self, hypothesis: list[Word]) -> list[Word]:
        new = [w for w in hypothesis if (w.start + w.end) / 2 > self.last_committed_end]
        if new and self._committed_tail and new[0].start - self.last_committed_end < _SEAM_WINDOW:
            tail_keys = _keys(self._committed_tail)
            for size in range(min(_MAX_REPEAT, len(tail_keys), len(new)), 0, -1):
                if tail_keys[-size:] == _keys(new[:size]):
                    return new[size:]
        return new

    def _commit(self, words: list[Word]) -> list[Word]:
        if words:
            self._committed_tail = (self._committed_tail + words)[-_MAX_REPEAT:]
            self.last_committed_end = max(self.last_committed_end, words[-1].end)
        return words
