"""Live transcription of a session's audio with faster-whisper, in a worker thread of its own.

Audio arrives as chunks stamped on the session clock. Silero VAD finds where someone
speaks; only speech reaches whisper, so silence cannot be turned into invented text.
While someone talks the current utterance is re-transcribed about every second of new
audio and shown as a PARTIAL result. Words become FINAL when two consecutive passes agree
on them (local agreement), when the speaker pauses, or when the utterance grows too long to
keep; finals are cut at sentence ends and at changes of the active speaker.

Channels of a device mix ("you", "others") are transcribed as separate streams and
labelled with their channel; single-stream audio takes its speaker from a SpeakerTimeline.
"""
from __future__ import annotations

import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from recorder.drops import DropCounter, LogFn
from recorder.local_agreement import LocalAgreement, Word
from recorder.speakers import SpeakerTimeline
from recorder.streaming_vad import SAMPLE_RATE, WINDOW_SAMPLES, StreamingVad
from recorder.whisper_models import ResolvedModel, is_english, load_whisper, resolve_model
from recorder.whisper_window import utterance_view

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

PARTIAL_INTERVAL = 1.0  # seconds of new speech between passes while keeping up
END_SILENCE = 0.6  # seconds of silence that end an utterance
SPEECH_TAIL = 0.4  # seconds after the VAD's last speech window still given to the final pass
PREROLL = 0.4  # seconds kept before the VAD fires: it fires a little after speech begins
MIN_SPEECH = 0.25  # seconds: shorter bursts are clicks and breaths, never sent to whisper
SPEECH_THRESHOLD = 0.5  # Silero's defaults, as faster-whisper uses them
SILENCE_THRESHOLD = 0.35
MAX_GAP_FILLED = 1.0  # seconds: a longer hole in the audio ends the utterance
GAP_TOLERANCE = 0.1  # seconds of timestamp jitter taken as contiguous audio
FORCED_COMMIT_MARGIN = 1.0  # seconds at the end of a full buffer never force-committed: words may be cut
BEHIND_WARNING = 5.0  # seconds of queued audio before the log says transcription is behind
PROMPT_CHARS = 200  # of the stream's earlier text, given to whisper as context
LEAD_IN = 1.0  # seconds of final words kept at the start of a cut buffer
_SENTENCE_ENDS = (".", "?", "!", "。", "？", "！")


@dataclass
class TranscriptResult:
    text: str
    start_time: float  # session seconds
    end_time: float
    is_partial: bool
    confidence: float | None  # 0-1 for finals, None for partials
    language_code: str
    speaker: str | None


# Live passes are short: on few cores one thread per pass is faster than several, in wall
# time and in CPU (bench/), and one worker per core lets concurrent sessions' passes run
# side by side on the one loaded model.
LIVE_CPU_THREADS = 1


def load_live_model(resolved: ResolvedModel, device: str = "cpu", compute_type: str = "int8") -> WhisperModel:
    """The model as live transcription uses it, shared by every session."""
    return load_whisper(resolved, device, compute_type, cpu_threads=LIVE_CPU_THREADS,
                        workers=max(1, min(4, os.cpu_count() or 1)))


@dataclass
class PassStats:
    """Where transcription time went: whisper passes over utterances, by kind."""

    partial: int = 0  # quick passes while someone talks
    final: int = 0  # one wide pass at the end of each utterance
    redone: int = 0  # passes whose short window looped and were redone on the full window
    whisper_seconds: float = 0.0  # wall time inside whisper
    audio_seconds: float = 0.0  # audio given to whisper, summed over passes

    def count(self, *, final: bool, seconds: float, audio_seconds: float) -> None:
        if final:
            self.final += 1
        else:
            self.partial += 1
        self.whisper_seconds += seconds
        self.audio_seconds += audio_seconds

    def summary(self) -> str:
        passes = self.partial + self.final
        return (f"Transcription made {passes} whisper passes ({self.partial} partial, {self.final} final, "
                f"{self.redone} redone on a full window) over {self.audio_seconds:.0f} s of buffered "
                f"audio in {self.whisper_seconds:.1f} s")

    def to_dict(self) -> dict[str, float]:
        return {"partial_passes": self.partial, "final_passes": self.final, "redone_full_window": self.redone,
                "whisper_seconds": round(self.whisper_seconds, 3), "audio_seconds_given": round(self.audio_seconds, 3),
                "seconds_per_pass": round(self.whisper_seconds / max(1, self.partial + self.final), 3)}


class TranscriptionError(Exception):
    """Whisper failed on a file given to transcribe_file."""


class MediaFileError(ValueError):
    """A file given to transcribe_file holds no audio that can be decoded."""


def _ends_sentence(word: Word) -> bool:
    text = word.text.strip()
    return text.endswith(_SENTENCE_ENDS) and not text.endswith("...")


def _confidence(words: list[Word]) -> float:
    mean = sum(w.probability for w in words) / len(words)
    return round(min(max(mean, 0.001), 1.0), 3)


def _make_result(words: list[Word], language: str, speaker: str | None, partial: bool) -> TranscriptResult:
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


def _hallucinated(segment: Any) -> bool:
    if getattr(segment, "compression_ratio", 0.0) > MAX_COMPRESSION_RATIO:
        return True
    return (getattr(segment, "no_speech_prob", 0.0) > NO_SPEECH_PROB
            and getattr(segment, "avg_logprob", 0.0) < MIN_AVG_LOGPROB)


# What whisper says in near-silence by habit (its training subtitles end this way). Said
# for real, such a line comes with confidence; guessed, it does not.
_STOCK_PHRASES = frozenset({"thank you", "thanks for watching", "thank you for watching", "bye", "you"})
STOCK_PHRASE_MIN_CONFIDENCE = 0.6


def _stock_phrase(result: TranscriptResult) -> bool:
    text = " ".join("".join(ch for ch in word if ch.isalnum()) for word in result.text.lower().split())
    return text in _STOCK_PHRASES and (result.confidence or 0.0) < STOCK_PHRASE_MIN_CONFIDENCE


def _words_from(segments: Any, offset: float, limit: float) -> list[Word]:
    words = []
    for segment in segments:
        if _hallucinated(segment):
            continue
        for w in segment.words or []:
            if w.word.strip():
                start = min(max(offset + w.start, offset), limit)
                words.append(Word(w.word, start, min(max(offset + w.end, start), limit), w.probability))
    return words


def _sentences(words: list[Word], speaker_of: Callable[[Word], str | None]) -> Iterator[list[Word]]:
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
        if _ends_sentence(word):
            yield group
            group, current = [], None
    if group:
        yield group


def _cut_point(final: list[Word], following: list[Word]) -> float:
    """Where a buffer whose text up to `final` is final can start.

    Whisper garbles or drops words at the very start of its audio, so about a second of
    final words stays as a lead-in (the agreement filters their repeat); the cut falls on a
    word start, never inside a word and never after a word that is not final yet.
    """
    cut = final[-1].end - LEAD_IN
    word_start = next((w.start for w in reversed(final) if w.start <= cut), final[0].start)
    return min([word_start] + [w.start for w in following])


class _Stream:
    """One channel's audio: VAD state, the current utterance buffer and its hypotheses."""

    def __init__(self, channel: str | None, max_utterance: float) -> None:
        self.channel = channel
        self.vad = StreamingVad()
        self.window_time: float | None = None  # session time of the next VAD window's first sample
        self.preroll: deque[np.ndarray] = deque(maxlen=max(1, round(PREROLL * SAMPLE_RATE / WINDOW_SAMPLES)))
        self.max_samples = int(max_utterance * SAMPLE_RATE)
        self.agreement = LocalAgreement()
        self.pending: list[Word] = []  # committed, waiting for a sentence end to become final
        self.last_final_end = -math.inf
        self.history: deque[Word] = deque(maxlen=PROMPT_CHARS // 2)  # final words, for the prompt
        self._clear_utterance()

    def _clear_utterance(self) -> None:
        self.speaking = False
        self.parts: list[np.ndarray] = []
        self.samples = 0
        self.start = 0.0
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

    def add_window(self, window: np.ndarray, probability: float) -> bool:
        """Takes one VAD window; returns True when it ends an utterance."""
        time = self.window_time
        assert time is not None
        self.window_time = time + WINDOW_SAMPLES / SAMPLE_RATE
        if not self.speaking:
            self.preroll.append(window)
            if probability >= SPEECH_THRESHOLD:
                self.speaking = True
                self.parts = list(self.preroll)
                self.samples = sum(len(p) for p in self.parts)
                self.start = time + WINDOW_SAMPLES / SAMPLE_RATE - self.samples / SAMPLE_RATE
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

    def prompt(self) -> str | None:
        """The final text before the buffer: context for whisper, never text it should repeat."""
        text = "".join(w.text for w in self.history if w.end <= self.start).strip()
        return text[-PROMPT_CHARS:] or None

    def end_utterance(self) -> None:
        self.agreement.end_utterance()
        self._clear_utterance()

    def trim(self, cut: float) -> None:
        """Drops the buffer's audio before session time `cut`."""
        count = min(max(int((cut - self.start) * SAMPLE_RATE), 0), self.samples)
        if count:
            self.parts = [self.audio()[count:]]
            self.samples -= count
            self.start += count / SAMPLE_RATE


class StreamingTranscriber:
    """Transcribes a live session in a worker thread; `feed` never blocks its caller.

    Results go to `on_result` from the worker thread. If whisper fails, `degraded` is set,
    `error` says why, the failure is logged, and audio is still accepted (and discarded) so
    the recording goes on.
    """

    def __init__(
        self,
        model: ResolvedModel | WhisperModel,
        *,
        language: str = "en",
        speakers: SpeakerTimeline | None = None,
        on_result: Callable[[TranscriptResult], None],
        on_log: LogFn | None = None,
        device: str = "cpu",
        compute_type: str = "int8",
        beam_size: int = 1,
        final_beam_size: int = 5,
        max_queue_seconds: float = 120.0,
        max_utterance_seconds: float = 15.0,
    ) -> None:
        if isinstance(model, ResolvedModel):
            multilingual = model.multilingual
        else:
            multilingual = getattr(getattr(model, "model", None), "is_multilingual", True)
        if not multilingual and not is_english(language):
            raise ValueError(f"An English-only model cannot transcribe language '{language}'")
        if max_utterance_seconds <= FORCED_COMMIT_MARGIN + PARTIAL_INTERVAL:
            raise ValueError(f"max_utterance_seconds must exceed {FORCED_COMMIT_MARGIN + PARTIAL_INTERVAL} s")
        self.language = language
        self.speakers = speakers
        self.degraded = False
        self.error: str | None = None
        self.dropped_seconds = 0.0
        self._model_spec = model
        self._model: Any = None if isinstance(model, ResolvedModel) else utterance_view(model)
        self._device, self._compute_type = device, compute_type
        self._beam_size, self._final_beam_size = beam_size, final_beam_size
        self._on_result = on_result
        self._log: LogFn = on_log or (lambda level, message: None)
        self._drops = DropCounter("audio chunks awaiting transcription", self._log)
        self.stats = PassStats()
        self._max_queue_samples = max_queue_seconds * SAMPLE_RATE
        self._max_utterance = max_utterance_seconds
        self._cond = threading.Condition()
        self._queue: deque[tuple[np.ndarray, float, str | None]] = deque()
        self._queued_samples = 0
        self._closing = False  # finish(): process what is queued, then end
        self._abandon = False  # stop(): end now
        self._silenced = False  # no more results reach on_result
        self._late_feed_logged = False
        self._behind = False
        self._streams: dict[str | None, _Stream] = {}
        self._thread: threading.Thread | None = None

    # --- caller side ---------------------------------------------------------------------

    def start(self) -> None:
        with self._cond:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="transcriber", daemon=True)
        self._thread.start()

    def feed(self, chunk: Any) -> None:
        """Queues a chunk (.samples float32 mono 16 kHz, .start_time, .channel); never blocks."""
        samples = np.asarray(chunk.samples, dtype=np.float32)
        if samples.ndim != 1:
            raise ValueError(f"Audio chunks must be mono (1-D samples), got shape {samples.shape}")
        with self._cond:
            late = self._closing or self._abandon
            if not late and self._queued_samples + len(samples) <= self._max_queue_samples:
                self._queue.append((samples, float(chunk.start_time), getattr(chunk, "channel", None)))
                self._queued_samples += len(samples)
                self._cond.notify()
                return
            if not late:
                self.dropped_seconds += len(samples) / SAMPLE_RATE
        if not late:
            self._drops.drop(f"transcription is {self._max_queue_samples / SAMPLE_RATE:.0f} s behind")
        elif not self._late_feed_logged:
            self._late_feed_logged = True
            self._log("warning", "Audio arrived after transcription was finished; it is not transcribed")

    def finish(self, timeout: float | None = None) -> None:
        """Transcribes everything queued, emits the remaining finals and ends the worker.

        If `timeout` passes first, the rest is abandoned (and logged) and no later result is
        delivered.
        """
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self.start()
        thread = self._thread
        assert thread is not None
        thread.join(timeout)
        if thread.is_alive():
            self._log(
                "warning", f"Transcription did not finish within {timeout} s; the rest of the audio is not transcribed"
            )
            self._end_now()
        self._drops.flush()
        self.stats.redone = getattr(self._model, "redone", 0)
        if self.stats.partial or self.stats.final:
            self._log("info", self.stats.summary())

    @property
    def running(self) -> bool:
        """Whether the worker thread is still alive (after stop(): until its whisper call returns)."""
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        """Abandons queued audio and pending text; returns without waiting for whisper."""
        self._end_now()
        self._drops.flush()

    def _end_now(self) -> None:
        with self._cond:
            self._abandon = self._silenced = True
            self._queue.clear()
            self._queued_samples = 0
            self._cond.notify_all()

    # --- worker side ---------------------------------------------------------------------

    def _run(self) -> None:
        if self._model is None:
            self._guarded(self._load_model)
        while True:
            with self._cond:
                while not self._queue and not self._closing and not self._abandon:
                    self._cond.wait()
                if self._abandon or not self._queue:
                    break
                samples, start_time, channel = self._queue.popleft()
                self._queued_samples -= len(samples)
                backlog = self._queued_samples / SAMPLE_RATE
            if not self.degraded:
                self._guarded(self._process, samples, start_time, channel, backlog)
        if not self._abandon and not self.degraded:
            for stream in list(self._streams.values()):
                self._guarded(self._close_utterance, stream)

    def _guarded(self, step: Callable[..., None], *args: Any) -> None:
        try:
            step(*args)
        except Exception as e:  # whisper, VAD or model loading: transcription ends, recording goes on
            self._degrade(e)

    def _degrade(self, error: Exception) -> None:
        self.degraded = True
        self.error = f"{type(error).__name__}: {error}"
        self._log("error", f"Transcription failed ({self.error}); recording continues without a transcript")
        for stream in self._streams.values():
            if stream.pending:  # committed words are stable: keep them
                self._emit_finals(stream, stream.pending)
                stream.pending = []
        self._streams.clear()

    def _load_model(self) -> None:
        self._model = utterance_view(load_live_model(self._model_spec, self._device, self._compute_type))

    def _process(self, samples: np.ndarray, start_time: float, channel: str | None, backlog: float) -> None:
        self._report_lag(backlog)
        if not np.isfinite(samples).all():
            samples = np.nan_to_num(samples, nan=0.0, posinf=0.0, neginf=0.0)
        stream = self._streams.get(channel)
        if stream is None:
            stream = self._streams[channel] = _Stream(channel, self._max_utterance)
        if stream.window_time is None:
            stream.window_time = start_time
        else:
            samples = self._bridge_gap(stream, samples, start_time)
        step = max(PARTIAL_INTERVAL, backlog)  # behind: fewer passes over longer windows
        windows, probabilities = stream.vad.process(samples)
        for window, probability in zip(windows, probabilities):
            if self._abandon:
                return
            if stream.add_window(window, float(probability)):
                self._close_utterance(stream)
            elif stream.speaking and stream.samples >= stream.max_samples:
                self._pass(stream, full=True)
            elif stream.speaking and stream.new_since_pass >= step * SAMPLE_RATE:
                self._pass(stream, full=False)

    def _bridge_gap(self, stream: _Stream, samples: np.ndarray, start_time: float) -> np.ndarray:
        """Audio missing between chunks (dropped, paused) keeps timestamps true: a short hole
        is filled with silence, a long one ends the utterance."""
        assert stream.window_time is not None
        expected = stream.window_time + stream.vad.pending_samples / SAMPLE_RATE
        gap = start_time - expected
        if gap <= GAP_TOLERANCE:
            return samples
        if gap <= MAX_GAP_FILLED:
            return np.concatenate([np.zeros(int(gap * SAMPLE_RATE), np.float32), samples])
        self._close_utterance(stream)
        stream.vad.reset()
        stream.preroll.clear()
        stream.window_time = start_time
        return samples

    def _report_lag(self, backlog: float) -> None:
        if backlog >= BEHIND_WARNING and not self._behind:
            self._behind = True
            self._log("warning", f"Transcription is {backlog:.0f} s behind the audio; catching up with longer windows")
        elif backlog < PARTIAL_INTERVAL and self._behind:
            self._behind = False
            self._log("info", "Transcription caught up with the audio")

    def _transcribe(self, stream: _Stream, beam_size: int, until: float | None = None) -> list[Word]:
        """Whisper over the utterance buffer, or over its audio before session time `until`
        (the final pass)."""
        end = stream.end if until is None else min(stream.end, until)
        began = time.perf_counter()
        segments, _info = self._model.transcribe(
            stream.audio()[: max(0, round((end - stream.start) * SAMPLE_RATE))],
            language=self.language,
            beam_size=beam_size,
            # A looping decode (compression ratio over the threshold) is retried warmer once.
            temperature=(0.0, 0.4),
            compression_ratio_threshold=MAX_COMPRESSION_RATIO,
            word_timestamps=True,
            condition_on_previous_text=False,
            vad_filter=False,  # the stream's own VAD already gated this audio
            initial_prompt=stream.prompt(),
        )
        stream.new_since_pass = 0
        self.stats.count(final=until is not None, seconds=time.perf_counter() - began,
                         audio_seconds=end - stream.start)
        return _words_from(segments, stream.start, end)

    def _pass(self, stream: _Stream, full: bool) -> None:
        """One pass over a growing utterance: commit what two passes agree on, show the rest.

        A full buffer must be cut: everything but its last second is committed then.
        """
        stream.pending += stream.agreement.insert(self._transcribe(stream, self._beam_size))
        if full:
            stream.pending += stream.agreement.commit_until(stream.end - FORCED_COMMIT_MARGIN)
            ready = len(stream.pending)
        else:
            # Final at a sentence end once the next sentence has begun; the utterance's last
            # sentence waits for the wider pass at its end.
            ready = next(
                (i + 1 for i in range(len(stream.pending) - 2, -1, -1) if _ends_sentence(stream.pending[i])), 0
            )
        if ready:
            final, stream.pending = stream.pending[:ready], stream.pending[ready:]
            self._emit_finals(stream, final)
            stream.trim(_cut_point(final, (stream.pending + stream.agreement.uncommitted)[:1]))
        if full and stream.samples >= stream.max_samples:
            # whisper found no words to cut at: keep only the newest audio so the buffer stays bounded
            stream.trim(stream.end - self._max_utterance / 3)
        shown = stream.pending + stream.agreement.uncommitted
        if shown:
            self._deliver(self._result(stream, shown, partial=True))

    def _close_utterance(self, stream: _Stream) -> None:
        if stream.speaking and stream.speech >= MIN_SPEECH * SAMPLE_RATE:
            # The pause that ended the utterance is left out: in trailing silence whisper
            # likes to invent a closing "Thank you."
            words = self._transcribe(stream, self._final_beam_size, until=stream.speech_end + SPEECH_TAIL)
            if stream.pending:
                # Words the quick passes agreed on but nobody has seen as final yet: the
                # wider-beam pass over the whole utterance decides them again.
                stream.agreement.reopen([w for w in stream.history if w.end > stream.start])
                stream.pending = []
            stream.pending += stream.agreement.commit_all(words)
        if stream.pending:
            self._emit_finals(stream, stream.pending)
            stream.pending = []
        stream.end_utterance()

    def _speaker(self, stream: _Stream, start: float, end: float) -> str | None:
        if stream.channel is not None:
            return stream.channel
        return self.speakers.speaker_for(start, end) if self.speakers is not None else None

    def _result(self, stream: _Stream, words: list[Word], partial: bool) -> TranscriptResult:
        speaker = self._speaker(stream, words[0].start, words[-1].end)
        return _make_result(words, self.language, speaker, partial)

    def _emit_finals(self, stream: _Stream, words: list[Word]) -> None:
        stream.history.extend(words)
        for sentence in _sentences(words, lambda w: self._speaker(stream, w.start, w.end)):
            result = self._result(stream, sentence, partial=False)
            if _stock_phrase(result):
                continue
            # word times of separate passes can overlap slightly: finals never go back in time
            result.start_time = max(result.start_time, stream.last_final_end)
            result.end_time = max(result.end_time, result.start_time)
            stream.last_final_end = result.end_time
            self._deliver(result)

    def _deliver(self, result: TranscriptResult) -> None:
        if self._silenced or not any(ch.isalnum() for ch in result.text):
            return  # nothing said: whisper sometimes ends a pass on a lone "."
        try:
            self._on_result(result)
        except Exception as e:  # a failing subscriber must not end transcription
            self._log("error", f"A transcript subscriber failed: {type(e).__name__}: {e}")


def transcribe_file(path: str | Path, *, language: str = "en", model: str = "tiny.en") -> list[TranscriptResult]:
    """Final segments of any audio or video file PyAV can read, with faster-whisper's own VAD."""
    from faster_whisper import decode_audio

    resolved = resolve_model(model, language)
    try:
        audio = decode_audio(str(path), sampling_rate=SAMPLE_RATE)
    except Exception as e:  # PyAV raises its own error types per container and codec
        raise MediaFileError(f"No audio could be read from {path}: {e}") from e
    whisper = load_whisper(resolved)
    try:
        segments, _info = whisper.transcribe(
            audio, language=language, beam_size=5, word_timestamps=True,
            condition_on_previous_text=False, vad_filter=True,
        )
        words = _words_from(segments, 0.0, len(audio) / SAMPLE_RATE)
    except Exception as e:
        raise TranscriptionError(f"Transcribing {path} failed: {e}") from e
    return [_make_result(sentence, language, None, partial=False) for sentence in _sentences(words, lambda w: None)]
