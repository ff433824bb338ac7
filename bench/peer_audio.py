"""The speech the side-by-side benchmark plays, cut into parts of whole sentences. The tools
take turns part by part (ours, peer, peer, ours, ...), so that load from elsewhere on a shared
machine falls on all of them alike instead of on whichever ran while it lasted. Every part
ends with extra silence: a live tool commits its last sentence only while the stream goes on,
as a meeting does."""
from __future__ import annotations

import wave

import numpy as np

from bench.speech_script import SpeechFile, SpokenSentence


def split_speech(speech: SpeechFile, parts: int, drain: float) -> list[SpeechFile]:
    """`parts` files next to `speech`, each cut in the middle of a pause between sentences,
    with its sentences' times counted from its own start, followed by `drain` s of silence."""
    with wave.open(str(speech.path), "rb") as wav:
        params = wav.getparams()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
    rate = params.framerate
    sentences = speech.sentences
    bounds = np.linspace(0, len(sentences), parts + 1).round().astype(int)
    cuts = [0.0] + [(sentences[i - 1].end + sentences[i].start) / 2 for i in bounds[1:-1]] + [len(samples) / rate]
    files = []
    for part, (first, last) in enumerate(zip(bounds[:-1], bounds[1:])):
        start, end = cuts[part], cuts[part + 1]
        silence = np.zeros(round(drain * rate), np.int16)
        audio = np.concatenate([samples[round(start * rate): round(end * rate)], silence])
        path = speech.path.with_name(f"{speech.path.stem}-part{part + 1}.wav")
        with wave.open(str(path), "wb") as wav:
            wav.setparams(params)
            wav.writeframes(audio.tobytes())
        files.append(SpeechFile(path, len(audio) / rate, tuple(
            SpokenSentence(s.text, s.start - start, s.end - start) for s in sentences[first:last])))
    return files
