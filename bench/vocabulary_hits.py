"""How often live transcription spells invented names right, with the vocabulary and without.

Sentences that each hold one invented product, company or person name are rendered by
espeak-ng in the benchmark speech's voices, joined with pauses and fed to a
StreamingTranscriber with tiny.en, once with the names as its vocabulary and once without.
A hit is the name, spelled as given, in the finals (case and punctuation aside).
"""
from __future__ import annotations

import itertools
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from faster_whisper import decode_audio

from bench.speech_script import VOICES, WORDS_PER_MINUTE, SpeechSynthesisError
from recorder.audio.base import SAMPLE_RATE, AudioChunk
from recorder.transcriber import StreamingTranscriber, TranscriptResult

PAUSE_S = 1.5  # between sentences: each is an utterance of its own
TERMS_AND_SENTENCES = (
    ("Zorblax Quintara", "We will ship Zorblax Quintara to the first customers next week."),
    ("Velmora", "The Velmora dashboard shows every open ticket."),
    ("Trexolin", "Please ask Trexolin support about the license."),
    ("Quibbleton", "Our meeting with Quibbleton moved to Friday."),
    ("Drunvik", "Drunvik signed the contract this morning."),
    ("Pellucor", "The Pellucor release is planned for May."),
    ("Skarnello", "Skarnello and the sales team will meet on Monday."),
    ("Orvantis", "We moved the Orvantis servers to the new data center."),
)


@dataclass(frozen=True)
class VocabularyRun:
    hits: int
    terms: int
    text: str

    @property
    def rate(self) -> float:
        return self.hits / self.terms


def _normalized(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def _speech(folder: Path) -> np.ndarray:
    parts = [np.zeros(SAMPLE_RATE // 2, np.float32)]
    for i, ((_term, sentence), voice) in enumerate(zip(TERMS_AND_SENTENCES, itertools.cycle(VOICES))):
        wav = folder / f"term{i}.wav"
        done = subprocess.run(["espeak-ng", "-v", voice, "-s", str(WORDS_PER_MINUTE), "-w", str(wav), "--", sentence],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SpeechSynthesisError(f"espeak-ng could not say {sentence!r}: {done.stderr.strip()}")
        parts += [decode_audio(str(wav), sampling_rate=SAMPLE_RATE), np.zeros(round(PAUSE_S * SAMPLE_RATE), np.float32)]
    return np.concatenate(parts)


def _transcribe(model: object, audio: np.ndarray, vocabulary: tuple[str, ...]) -> str:
    finals: list[TranscriptResult] = []
    transcriber = StreamingTranscriber(model, on_result=lambda r: finals.append(r) if not r.is_partial else None,
                                       vocabulary=vocabulary)
    transcriber.start()
    step = SAMPLE_RATE // 10
    for i in range(0, len(audio), step):
        transcriber.feed(AudioChunk(audio[i:i + step], i / SAMPLE_RATE, None))
    transcriber.finish(timeout=300)
    return " ".join(r.text for r in sorted(finals, key=lambda r: r.start_time))


def measure_hits(model: object) -> tuple[VocabularyRun, VocabularyRun]:
    """(with the vocabulary, without it)."""
    terms = tuple(term for term, _ in TERMS_AND_SENTENCES)
    with tempfile.TemporaryDirectory(prefix="mb-bench-vocabulary-") as tmp:
        audio = _speech(Path(tmp))
    runs = []
    for vocabulary in (terms, ()):
        text = _transcribe(model, audio, vocabulary)
        heard = _normalized(text)
        hits = sum(min(1, heard.count(_normalized(term))) for term in terms)
        runs.append(VocabularyRun(hits, len(terms), text))
    return runs[0], runs[1]
