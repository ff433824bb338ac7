"""One channel's live audio: VAD state, the utterance being spoken and the text decided so far.

The audio side (windows, the utterance buffer) is written by the transcriber's VAD thread;
the text side (local agreement, committed words, final history) by the whisper passes. When
an utterance ends its audio is handed over as an `Utterance`, so the next one can begin
while the final pass over the last one still waits for a worker.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from recorder.local_agreement import LocalAgreement, Word
from recorder.streaming_vad import SAMPLE_RATE, WINDOW_SAMPLES, StreamingVad

END_SILENCE = 0.6  # seconds of silence that end an utterance
SPEECH_TAIL = 0.4  # seconds after the VAD's last speech window still given to the final pass
PREROLL = 0.4  # seconds kept before the VAD fires: it fires a little after speech begins
MIN_SPEECH = 0.25  # seconds: shorter bursts are clicks and breaths, never sent to whisper
SPEECH_THRESHOLD = 0.5  # Silero's defaults, as faster-whisper uses them
SILENCE_THRESHOLD = 0.35
PROMPT_CHARS = 200  # of the stream's earlier text, given to whisper as context


@dataclass(frozen=True)
class Utterance:
    """An ended utterance's audio, waiting for its final pass (None: too short for whisper)."""

    audio: np.ndarray | None
    start: float  # session seconds
    end: float


@dataclass(frozen=True)
class BufferView:
    """A copy of the buffer for one pass, taken while the VAD thread keeps appending."""

    audio: np.ndarray
    start: float
    end: float


class ChannelStream:
    def __init__(self, channel: str | None, max_utterance: float, start: float) -> None:
        self.channel = channel
        self.vad = StreamingVad()
        self.window_time = start  # session time of the next VAD window's first sample
        self.preroll: deque[np.ndarray] = deque(maxlen=max(1, round(PREROLL * SAMPLE_RATE / WINDOW_SAMPLES)))
        self.max_samples = int(max_utterance * SAMPLE_RATE)
        # the text side
        self.agreement = LocalAgreement()
        self.pending: list[Word] = []  # committed, waiting for a sentence end to become final
        self.last_final_end = -math.inf
        self.history: deque[Word] = deque(maxlen=PROMPT_CHARS // 2)  # final words, for the prompt
        self.shown: list[Word] = []  # the words of the partial on screen
        # between the two sides
        self.utterance_id = 0  # counts ended utterances: a cut queued for an earlier one is void
        self.version = 0  # changes when a running partial's result would come too late
        self.required_waiting = 0  # final and cut passes queued or running
        self.cut_waiting = False
        self.settled_until = start  # session time up to which every word is final
        self._clear_utterance()

    def _clear_utterance(self) -> None:
        self.speaking = False
        self.parts: list[np.ndarray] = []
        self.samples = 0
        self.start = 0.0
        # Partial passes begin here: the buffer's audio before it is final text, kept as
        # context for the final pass, which reads the utterance whole.
        self.pass_start = 0.0
        self.silence = 0
        self.speech = 0
        self.speech_end = 0.0  # session time where the last window the VAD took for speech ends
        self.new_since_pass = 0

    @property
    def end(self) -> float:
        return self.start + self.samples / SAMPLE_RATE

    def audio(self) -> np.ndarray:
        if len(self.parts) != 1:
            self.parts = [np.concatenate(self.parts) if self.parts else np.empty(0, np.float32)]
        return self.parts[0]

    def view(self, until: float | None = None, *, whole: bool = False) -> BufferView:
        """The buffer from where partial passes begin (or `whole`), up to `until`."""
        start = self.start if whole else self.pass_start
        end = self.end if until is None else min(self.end, until)
        first = min(max(0, round((start - self.start) * SAMPLE_RATE)), self.samples)
        count = max(first, round((end - self.start) * SAMPLE_RATE))
        return BufferView(self.audio()[first:count].copy(), self.start + first / SAMPLE_RATE, end)

    def add_window(self, window: np.ndarray, probability: float) -> bool:
        """Takes one VAD window; returns True when it ends an utterance."""
        time = self.window_time
        self.window_time = time + WINDOW_SAMPLES / SAMPLE_RATE
        if not self.speaking:
            self.preroll.append(window)
            if probability >= SPEECH_THRESHOLD:
                self.speaking = True
                self.parts = list(self.preroll)
                self.samples = sum(len(p) for p in self.parts)
                self.start = self.pass_start = time + WINDOW_SAMPLES / SAMPLE_RATE - self.samples / SAMPLE_RATE
                self.speech = self.new_since_pass = WINDOW_SAMPLES
                self.speech_end = self.window_time
                self.preroll.clear()
            return False
        self.parts.append(window)
        self.samples += WINDOW_SAMPLES
        self.new_since_pass += WINDOW_SAMPLES
        if probability >= SPEECH_THRESHOLD:
            self.silence = 0
            self.speech += WINDOW_SAMPLES
            self.speech_end = self.window_time
        elif probability < SILENCE_THRESHOLD:
            self.silence += WINDOW_SAMPLES
        return self.silence >= END_SILENCE * SAMPLE_RATE

    def take_utterance(self) -> Utterance:
        """Hands over the utterance that just ended, without the pause that ended it (in
        trailing silence whisper likes to invent a closing "Thank you."), and starts afresh."""
        if self.speaking and self.speech >= MIN_SPEECH * SAMPLE_RATE:
            view = self.view(self.speech_end + SPEECH_TAIL, whole=True)
            utterance = Utterance(view.audio, view.start, view.end)
        else:
            utterance = Utterance(None, self.start, self.end)
        self._clear_utterance()
        self.utterance_id += 1
        self.version += 1
        return utterance

    def prompt(self, before: float) -> str | None:
        """The final text before `before`: context for whisper, never text it should repeat."""
        text = "".join(w.text for w in self.history if w.end <= before).strip()
        return text[-PROMPT_CHARS:] or None

    def shown_after_finals(self) -> list[Word]:
        """The words on screen that no final holds yet."""
        return [w for w in self.shown if (w.start + w.end) / 2 > self.last_final_end]

    @property
    def final_audio(self) -> float:
        """Seconds of audio before `pass_start`: text already final."""
        return self.pass_start - self.start

    def advance(self, cut: float) -> None:
        """Partial passes begin at session time `cut` from now on."""
        self.pass_start = min(max(self.pass_start, cut), self.end)

    def trim(self, cut: float) -> None:
        """Drops the buffer's audio before session time `cut`."""
        count = min(max(int((cut - self.start) * SAMPLE_RATE), 0), self.samples)
        if count:
            self.parts = [self.audio()[count:]]
            self.samples -= count
            self.start += count / SAMPLE_RATE
        self.pass_start = max(self.pass_start, self.start)
