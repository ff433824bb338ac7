"""A spoken meeting with known timing: each sentence of a fixed script is rendered by
espeak-ng, trimmed to its sound, and joined with pauses, so where every sentence starts and
ends in the file is known exactly."""
from __future__ import annotations

import itertools
import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

WORDS_PER_MINUTE = 150  # as the meeting simulator speaks
VOICES = ("en-us+f3", "en-gb+m3", "en-us+f4", "en-us+m3")
PAUSES = (1.2, 1.6, 2.0, 1.4)  # seconds between sentences, in turn
LEAD_IN, TAIL = 1.0, 2.0  # seconds of silence before the first and after the last sentence
LOUD = 300  # int16 amplitude that counts as sound when trimming espeak's silence

SCRIPT = (
    "Good morning everyone and thank you for joining the weekly planning meeting.",
    "Let us start with a quick review of what we finished last week.",
    "The new onboarding flow went live on Tuesday without any major problems.",
    "Support tickets about password resets dropped by almost half since then.",
    "The mobile team is still waiting for the final designs of the settings page.",
    "We expect those designs to arrive before the end of this week.",
    "Next, I would like to talk about the budget for the coming quarter.",
    "Travel costs went down by ten percent compared to the previous quarter.",
    "The hardware order for the new office will arrive at the end of the month.",
    "We still need to decide how many laptops to order for the new hires.",
    "I suggest we order twelve laptops and keep two of them as spares.",
    "That sounds reasonable to me as long as the delivery date holds.",
    "Can someone check whether the supplier can deliver before the first of June?",
    "I will call them this afternoon and send a summary to the whole team.",
    "Moving on, the customer feedback from last month was mostly positive.",
    "Most customers asked for a faster export and a dark theme.",
    "A few people reported that the search results load too slowly.",
    "We should measure the search speed before we promise anything.",
    "The data team can prepare a small report on search times by Friday.",
    "Please include the slowest queries and the time of day they happened.",
    "Another topic is the security review that is planned for next month.",
    "The external auditors will need access to the test environment.",
    "We have to create separate accounts for them with limited rights.",
    "I can prepare those accounts together with the operations team.",
    "Let us also remember the holiday schedule for the summer.",
    "Please enter your vacation days in the shared calendar by the end of May.",
    "We need at least two people on call during every week of the summer.",
    "The marketing team asked for a short demo of the new reporting features.",
    "I think we can record a video instead of doing a live presentation.",
    "A recorded demo can also be shared with customers later.",
    "Who would like to prepare the script for that demo video?",
    "I can write a first draft and share it with everyone on Thursday.",
    "Great, then let us look at the open bugs from the last release.",
    "There are seven open bugs and three of them are marked as critical.",
    "The most serious one causes the app to crash when the network drops.",
    "A fix is ready and it is waiting for a second code review.",
    "The other two critical bugs affect only a small number of users.",
    "We should still fix them before the next release goes out.",
    "The next release is planned for the middle of next month.",
    "If the fixes take longer, we can move the release by one week.",
    "I would rather keep the date and leave out one of the smaller features.",
    "That is a fair point, and we can decide that next Monday.",
    "Before we finish, does anyone have questions about the new process?",
    "I have one question about how we track time spent on support.",
    "Please use the support category in the time tracking tool for now.",
    "We will review the categories again at the end of the quarter.",
    "Thank you, that answers my question.",
    "All right, I will send the notes and the action items after the meeting.",
    "Thanks everyone for your time and have a good rest of the day.",
    "See you all next week at the same time.",
)


class SpeechSynthesisError(RuntimeError):
    """espeak-ng is missing or could not render a sentence."""


@dataclass(frozen=True)
class SpokenSentence:
    text: str
    start: float  # seconds into the file where its sound begins
    end: float  # and where it ends
    voice: str = ""  # the espeak-ng voice that says it


@dataclass(frozen=True)
class SpeechFile:
    path: Path
    duration: float
    sentences: tuple[SpokenSentence, ...]

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.sentences)


def _render(text: str, voice: str, folder: Path) -> tuple[np.ndarray, int]:
    """int16 samples of one sentence, trimmed to its sound, and their rate."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise SpeechSynthesisError("espeak-ng is not installed; the benchmarks need it for speech")
    path = folder / "sentence.wav"
    result = subprocess.run([espeak, "-v", voice, "-s", str(WORDS_PER_MINUTE), "-w", str(path), "--", text],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SpeechSynthesisError(f"espeak-ng could not say {text[:40]!r}: {result.stderr.strip()}")
    with wave.open(str(path), "rb") as wav:
        rate = wav.getframerate()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > LOUD)
    if not loud.size:
        raise SpeechSynthesisError(f"espeak-ng rendered silence for {text[:40]!r}")
    return samples[loud[0]: loud[-1] + 1], rate


def build_speech_file(path: Path, seconds: float, voices: tuple[str, ...] = VOICES) -> SpeechFile:
    """A WAV file of at least `seconds` of meeting speech (the script, repeated if needed),
    the sentences said by `voices` in turn."""
    parts: list[np.ndarray] = []
    sentences: list[SpokenSentence] = []
    rate = 0
    position = 0
    with tempfile.TemporaryDirectory(prefix="mb-bench-speech-") as tmp:
        lines = zip(itertools.cycle(SCRIPT), itertools.cycle(voices), itertools.cycle(PAUSES))
        pause = LEAD_IN
        for text, voice, next_pause in lines:
            samples, rate = _render(text, voice, Path(tmp))
            silence = np.zeros(round(pause * rate), np.int16)
            parts += [silence, samples]
            start = position + len(silence)
            position = start + len(samples)
            sentences.append(SpokenSentence(text, start / rate, position / rate, voice))
            pause = next_pause
            if position / rate >= seconds:
                break
    parts.append(np.zeros(round(TAIL * rate), np.int16))
    audio = np.concatenate(parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(audio.tobytes())
    return SpeechFile(path, len(audio) / rate, tuple(sentences))
