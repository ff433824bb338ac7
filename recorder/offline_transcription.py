"""The after-meeting pass: a recording's audio segment files transcribed again, offline.

Live transcription decides every word within seconds of hearing it, on a short utterance;
afterwards whisper can read the whole recording the way it was trained to: 30-second windows
in a row, each decoded with the text before it as context, with its own VAD skipping the
silence. The files are decoded one after the other and placed on the session clock (where
the recording began and how long each file covers are facts the caller kept), so the
results carry the same times as the live transcript and speakers can be taken from the
session's speaker timeline.

A long meeting is not held in memory at once: the audio is cut into blocks of at most ten
minutes, each ending at the quietest moment of its last half minute, and each block gets
the previous one's last words as its prompt. Progress is reported after every whisper
window, and a cancel request is honoured between windows.
"""
from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import av
import numpy as np

from recorder.errors import MediaError
from recorder.speakers import SpeakerTimeline
from recorder.streaming_vad import SAMPLE_RATE
from recorder.transcript_text import TranscriptResult, make_result, sentences, stock_phrase, words_from
from recorder.vocabulary import whisper_prompt
from recorder.whisper_models import ResolvedModel, load_whisper

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

ProgressFn = Callable[[float], None]
"""Share of the recording transcribed so far, 0 to 1."""

BLOCK_SECONDS = 600.0  # audio handed to whisper at once: bounds memory on long meetings
CUT_SEARCH_SECONDS = 30.0  # a block ends at the quietest moment of its last this many seconds
PROMPT_CHARS = 200  # of a block's text, given to the next block as context
BEAM_SIZE = 5
MIN_TURN_WORDS = 3  # a speaker change inside a sentence splits it only between turns this long
_AUDIO_FILE = re.compile(r"^audio_(\d{4,})\.ogg$")
_FRAME = SAMPLE_RATE // 10  # loudness is judged per 0.1 s when looking for a quiet cut


class NoRecordedAudio(MediaError):
    """The recording folder holds no audio that decodes."""


class TranscriptionCancelled(Exception):
    """The caller asked to stop; nothing was returned."""


@dataclass(frozen=True)
class AudioPart:
    path: Path
    start: float | None  # session seconds of its first sample; None: right after the previous part


def recorded_audio(directory: str | Path, *, start: float | None = None,
                   segment_seconds: float | None = None) -> list[AudioPart]:
    """The recording's audio files in order, each placed on the session clock.

    The segment writer starts the first file at the first recorded sample (`start`) and every
    later file at a multiple of `segment_seconds`, numbering files by period. Without those
    facts (recordings made before they were kept) the files are taken to follow one another
    from session time 0.
    """
    folder = Path(directory)
    found = sorted((int(m.group(1)), folder / name) for name in _names(folder)
                   if (m := _AUDIO_FILE.match(name)))
    if not found:
        raise NoRecordedAudio(f"No recorded audio in {folder}")
    if start is None or not segment_seconds:
        return [AudioPart(path, 0.0 if i == 0 else None) for i, (_, path) in enumerate(found)]
    period = round(segment_seconds * SAMPLE_RATE)
    first_period = max(0, round(start * SAMPLE_RATE)) // period
    first_index = found[0][0]
    return [AudioPart(path, max(0.0, start) if index == first_index
                      else (first_period + index - first_index) * period / SAMPLE_RATE)
            for index, path in found]


def _names(folder: Path) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError as exc:
        raise NoRecordedAudio(f"The recording folder {folder} cannot be read: {exc.strerror}") from exc


def load_refine_model(resolved: ResolvedModel, device: str = "cpu", compute_type: str = "int8") -> WhisperModel:
    """The model as the after-meeting pass uses it: one call at a time on every core."""
    return load_whisper(resolved, device, compute_type, cpu_threads=max(1, min(os.cpu_count() or 1, 8)))


def transcribe_recording(
    parts: list[AudioPart],
    model: ResolvedModel | WhisperModel,
    *,
    language: str = "en",
    speakers: SpeakerTimeline | None = None,
    device: str = "cpu",
    compute_type: str = "int8",
    progress: ProgressFn | None = None,
    cancelled: threading.Event | None = None,
    vocabulary: Iterable[str] = (),
) -> list[TranscriptResult]:
    """Final sentences of the whole recording on the session clock, speakers from `speakers`,
    with `vocabulary` (names and terms to spell right) in each block's prompt.

    Raises TranscriptionCancelled when `cancelled` is set, NoRecordedAudio when nothing decodes.
    """
    whisper = load_refine_model(model, device, compute_type) if isinstance(model, ResolvedModel) else model
    language = language.split("-")[0].strip().lower() or "en"
    stop = cancelled or threading.Event()
    report = progress or (lambda share: None)
    origin, total = _extent(parts)
    terms = tuple(vocabulary)
    words: list[Any] = []
    context: str | None = None  # the previous block's last words
    for block_start, samples in recording_blocks(parts, stop):
        end = block_start + len(samples) / SAMPLE_RATE
        segments, _info = whisper.transcribe(
            samples, language=language, beam_size=BEAM_SIZE, word_timestamps=True,
            condition_on_previous_text=True, vad_filter=True, initial_prompt=whisper_prompt(context, terms))
        block_words = []
        for segment in segments:  # each step decodes one window: the place to stop
            if stop.is_set():
                raise TranscriptionCancelled()
            block_words += words_from([segment], block_start, end)
            report(_share(block_start + segment.end - origin, total))
        if stop.is_set():
            raise TranscriptionCancelled()
        words += block_words
        context = "".join(w.text for w in block_words).strip()[-PROMPT_CHARS:] or context
        report(_share(end - origin, total))

    results = []
    for sentence in sentences(words, lambda word: None):
        for turn in _turns(sentence, speakers):
            speaker = speakers.speaker_for(turn[0].start, turn[-1].end) if speakers is not None else None
            result = make_result(turn, language, speaker, partial=False)
            if any(ch.isalnum() for ch in result.text) and not stock_phrase(result):
                results.append(result)
    report(1.0)
    return results


def _turns(sentence: list[Any], speakers: SpeakerTimeline | None) -> list[list[Any]]:
    """A sentence split where the speaker changes, unless a side would keep fewer than
    MIN_TURN_WORDS words: word times and speaker indicators both lag a little, so a change
    at a sentence's edge is the timeline's jitter, not a second voice."""
    if speakers is None:
        return [sentence]
    runs: list[tuple[str | None, list[Any]]] = []
    for word in sentence:
        name = speakers.speaker_for(word.start, word.end)
        if runs and runs[-1][0] == name:
            runs[-1][1].append(word)
        else:
            runs.append((name, [word]))
    turns: list[list[Any]] = []
    for _name, run in runs:
        if turns and (len(run) < MIN_TURN_WORDS or len(turns[-1]) < MIN_TURN_WORDS):
            turns[-1] += run
        else:
            turns.append(list(run))
    return turns


def _share(done: float, total: float) -> float:
    return min(max(done / total, 0.0), 1.0) if total > 0 else 0.0


def _extent(parts: list[AudioPart]) -> tuple[float, float]:
    """(session time where the audio begins, its length) as the containers tell it, for progress."""
    origin = parts[0].start or 0.0
    end = origin
    for part in parts:
        end = (part.start if part.start is not None else end) + container_seconds(part.path)
    return origin, end - origin


def container_seconds(path: Path) -> float:
    """How long a file plays as its container tells (cheap: nothing is decoded); 0 when it
    cannot be read."""
    try:
        with av.open(str(path)) as container:
            return max(0.0, (container.duration or 0) / av.time_base)
    except (av.FFmpegError, OSError):
        return 0.0


def _decode(path: Path) -> np.ndarray:
    """16 kHz mono samples of what decodes: a file cut short by a crash gives what it holds,
    one that does not open at all gives nothing (its time is then filled with silence)."""
    parts: list[np.ndarray] = []
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    try:
        with av.open(str(path)) as container:
            try:
                for frame in container.decode(audio=0):
                    parts += [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
            except (av.FFmpegError, EOFError):
                pass  # the damaged tail: keep what came before it
            parts += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    except (av.FFmpegError, OSError, IndexError):
        pass
    return np.concatenate(parts).astype(np.float32, copy=False) if parts else np.zeros(0, np.float32)


def recording_blocks(parts: list[AudioPart], stop: threading.Event) -> Iterator[tuple[float, np.ndarray]]:
    """(session time, samples) of consecutive blocks of the recording, each at most
    BLOCK_SECONDS long and cut where it is quietest; missing audio is silence. Raises
    NoRecordedAudio when no file decodes."""
    block = round(BLOCK_SECONDS * SAMPLE_RATE)
    search = round(CUT_SEARCH_SECONDS * SAMPLE_RATE)
    buffer = np.zeros(0, np.float32)
    buffer_start = parts[0].start or 0.0
    decoded = 0
    for part in parts:
        if stop.is_set():
            raise TranscriptionCancelled()
        samples = _decode(part.path)
        decoded += len(samples)
        if part.start is not None:
            # A file shorter than its period leaves a hole; decoder padding makes an overlap.
            offset = round((part.start - buffer_start) * SAMPLE_RATE) - len(buffer)
            samples = np.concatenate([np.zeros(offset, np.float32), samples]) if offset > 0 else samples[-offset:]
        buffer = np.concatenate([buffer, samples])
        while len(buffer) > block:
            cut = _quietest(buffer, block - search, block)
            yield buffer_start, buffer[:cut]
            buffer, buffer_start = buffer[cut:], buffer_start + cut / SAMPLE_RATE
    if not decoded:
        raise NoRecordedAudio("None of the recording's audio files could be decoded")
    if len(buffer):
        yield buffer_start, buffer


def _quietest(samples: np.ndarray, low: int, high: int) -> int:
    """Sample index in [low, high] at the middle of the quietest half second there."""
    frames = (high - low) // _FRAME
    if frames < 5:
        return high
    energy = (samples[low: low + frames * _FRAME].reshape(frames, _FRAME) ** 2).mean(axis=1)
    smoothed = np.convolve(energy, np.ones(5) / 5, mode="valid")
    return low + (int(np.argmin(smoothed)) + 2) * _FRAME + _FRAME // 2
