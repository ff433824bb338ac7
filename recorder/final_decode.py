"""The final pass over an utterance: whisper decoded to the end of the speech, never showing
less than the partial it replaces.

Whisper now and then ends its text early: after the first words of an utterance it predicts
the end of the text and the rest of the speech gets none (seen with the multilingual base
model on German, and more often the longer the utterance, as when a session catches up and
partials have paused). Whisper's own 30-second windows would not read that audio again
either. Here the decode goes on from the last word while a good part of the speech is left,
with the words so far as the prompt.

What the partials showed stays when the final still ends short of it: the words after the
final's last one are kept as they were shown, so a final never takes back words the reader
has seen.
"""
from __future__ import annotations

from collections.abc import Callable

from recorder.local_agreement import Word
from recorder.transcript_text import LEAD_IN
from recorder.utterance_stream import SPEECH_TAIL, BufferView

MISSING_SPEECH = 1.0  # seconds of speech after the last word that call for another decode
MAX_CONTINUATIONS = 2
SHOWN_MARGIN = 0.1  # seconds: a shown word centred this close after the last word is that word, retimed

DecodeFn = Callable[[BufferView, "str | None"], list[Word]]


def _midpoint(word: Word) -> float:
    return (word.start + word.end) / 2


def decode_through(decode: DecodeFn, view: BufferView, context: str | None) -> list[Word]:
    """Decodes `view`, then the speech after the last word while enough of it is left."""
    words = decode(view, context)
    for _ in range(MAX_CONTINUATIONS):
        if not words or view.end - words[-1].end < SPEECH_TAIL + MISSING_SPEECH:
            break
        covered = words[-1].end
        # a second of lead-in: whisper garbles the very first word of its audio
        start = max(view.start, covered - LEAD_IN)
        offset = round((start - view.start) * len(view.audio) / max(view.end - view.start, 1e-9))
        rest = BufferView(view.audio[offset:], start, view.end)
        prompt = " ".join(part for part in (context, "".join(w.text for w in words).strip()) if part)
        more = [w for w in decode(rest, prompt) if _midpoint(w) > covered]
        if not more:
            break
        words = words + more
    return words


def keep_shown(final: list[Word], shown: list[Word]) -> list[Word]:
    """The final's words, followed by the shown words it does not reach."""
    reach = final[-1].end + SHOWN_MARGIN if final else -float("inf")
    beyond = [w for w in shown if _midpoint(w) > reach]
    return final + beyond
