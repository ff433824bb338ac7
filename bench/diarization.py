"""Voices told apart: the meeting script said by four espeak-ng voices taking turns, mixed
into one channel and recorded into Ogg/Opus segment files as a session records it; each
sentence's stretch of the recording is embedded by the voice encoder (recorder/voices) and
the embeddings are clustered, the number of speakers estimated, as the after-meeting pass
does.

Figures: `diarization_accuracy`, the share of sentences whose voice group is the one of
their speaker (each group counted as the speaker most of its sentences belong to, one group
per speaker), `diarization_speakers_found` (groups found / speakers who spoke) and
`voice_encoder_rtf` (wall seconds per audio second of the embedded sentences, weights loaded).
"""
from __future__ import annotations

import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.figures import BenchResult, Figure, Mode, at_least, at_most
from bench.refine import record
from bench.speech_script import build_speech_file
from recorder.voices.clustering import label_voices
from recorder.voices.encoder import VoiceEncoder
from recorder.voices.recording import span_voices

VOICES = ("en-us+m3", "en+f2", "en+m7", "en+f4")
START = 2.0  # session seconds where the recording's audio begins (bench.refine's)


def right_share(groups: list[int], speakers: list[str]) -> float:
    """Share of items whose group stands for their speaker: groups are matched to speakers
    greedily by how many items they share, one group per speaker."""
    pairs = Counter(zip(groups, speakers))
    taken_groups: set[int] = set()
    taken_speakers: set[str] = set()
    right = 0
    for (group, speaker), count in pairs.most_common():
        if group not in taken_groups and speaker not in taken_speakers:
            taken_groups.add(group)
            taken_speakers.add(speaker)
            right += count
    return right / len(groups) if groups else 0.0


def measure(mode: Mode) -> BenchResult:
    seconds = mode.pick(full=300, quick=60, smoke=10)
    encoder = VoiceEncoder.load()
    with tempfile.TemporaryDirectory(prefix="mb-bench-diarization-") as tmp:
        speech = build_speech_file(Path(tmp) / "speech.wav", seconds, VOICES)
        parts, _recorded = record(speech.path, Path(tmp) / "recording", 60.0)
        spans = [(START + s.start, START + s.end) for s in speech.sentences]
        wall0 = time.perf_counter()
        voices = span_voices(parts, spans, encoder)
        wall = time.perf_counter() - wall0
    groups = label_voices(voices.embeddings, voices.reliable)
    speakers = [s.voice for s in speech.sentences]
    share = right_share(groups, speakers)
    spoken = sum(end - start for start, end in spans)
    found, present = max(groups) + 1, len(set(speakers))
    figures = [
        Figure("diarization_accuracy", "share", [share], at_least(median=0.9),
               f"{len(spans)} sentences of {present} espeak-ng voices in one channel, grouped by voice"),
        Figure("diarization_speakers_found", "x", [found / present], at_most(median=1.5),
               f"{found} voice groups found for {present} speakers"),
        Figure("voice_encoder_rtf", "wall s/audio s", [wall / spoken], at_most(median=0.2),
               f"cutting and embedding {spoken:.0f} s of speech from the segment files"),
    ]
    details = {"voices": list(VOICES), "sentences": len(spans), "speech_seconds": round(spoken, 2),
               "groups": groups, "speakers": speakers, "embed_wall_seconds": round(wall, 3)}
    return BenchResult(figures, details)
