"""Live transcription of a session's audio with faster-whisper.

Audio arrives as chunks stamped on the session clock. A thread of the transcriber's own runs
Silero VAD over it: only speech reaches whisper, so silence cannot be turned into invented
text. Whisper passes run on the process's pass scheduler (`recorder/pass_scheduler.py`),
shared by every session: while someone talks the current utterance is re-transcribed about
every second of new speech and shown as a PARTIAL result; words become FINAL when two
consecutive passes agree on them (local agreement), when the speaker pauses (one wider pass
over the utterance), or when the utterance grows too long to keep; finals are cut at
sentence ends and at changes of the active speaker.

The live tier is bounded by lag, not by a fixed schedule: the VAD never waits for whisper,
final passes go before partials, partials are spaced out by what a pass costs on this
machine and pause while the transcript is behind, and an utterance whose final has waited
too long is left to the after-meeting pass. Whatever the live tier skips is reported as
session-time ranges, and how far behind it is, when that is more than usual.

Channels of a device mix ("you", "others") are transcribed as separate streams and
labelled with their channel; single-stream audio takes its speaker from a SpeakerTimeline.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from recorder.drops import DropCounter, LogFn
from recorder.final_decode import decode_through, keep_shown
from recorder.live_progress import BehindFn, BehindReporter, SkipLog, SkippedFn
from recorder.local_agreement import Word
from recorder.pass_scheduler import LIVE_WORKERS, PassJob, PassKind, PassScheduler, shared_scheduler
from recorder.speakers import SpeakerTimeline
from recorder.streaming_vad import SAMPLE_RATE
from recorder.transcript_text import MAX_COMPRESSION_RATIO, TranscriptResult, cut_point, ends_sentence
from recorder.transcript_text import make_result as _make_result
from recorder.transcript_text import sentences as _sentences
from recorder.transcript_text import stock_phrase as _stock_phrase
from recorder.transcript_text import words_from as _words_from
from recorder.utterance_stream import BufferView, ChannelStream, Utterance
from recorder.vocabulary import clean_vocabulary, whisper_prompt
from recorder.whisper_models import ResolvedModel, is_english, is_loaded, load_whisper, resolve_model
from recorder.whisper_window import utterance_view

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

PARTIAL_INTERVAL = 1.0  # seconds of new speech between partial passes, at the least
# Partials may take at most 1/PARTIAL_PACE of the time of the workers they may use, shared
# among the streams that want them: on a loaded machine passes cost more and come less often.
PARTIAL_PACE = 2.0
PAUSE_PARTIALS_BEHIND = 1.0  # seconds behind from which partials wait: finals come first
SHED_AFTER = 30.0  # seconds a final may wait before its utterance is left to the after-meeting pass
MAX_GAP_FILLED = 1.0  # seconds: a longer hole in the audio ends the utterance
GAP_TOLERANCE = 0.1  # seconds of timestamp jitter taken as contiguous audio
FORCED_COMMIT_MARGIN = 1.0  # seconds at the end of a full buffer never force-committed: words may be cut
OVERFULL = 2  # a full buffer whose cut is not done yet grows to at most this many times its cap
PROGRESS_TICK = 0.5  # seconds between looks at the lag while no audio arrives
# A decode that loops ("." after "." in the padding) runs until whisper's 448-token limit,
# seconds of work on a loaded core; speech needs a few tokens a second. The prompt takes up
# to 224 of the 448.
TOKENS_PER_SECOND, MIN_TOKENS, MAX_TOKENS = 8, 24, 200

# Live passes are short: on few cores one thread per pass is faster than several, in wall
# time and in CPU (bench/), and one worker per core lets concurrent sessions' passes run
# side by side on the one loaded model.
LIVE_CPU_THREADS = 1


def load_live_model(resolved: ResolvedModel, device: str = "cpu", compute_type: str = "int8") -> WhisperModel:
    """The model as live transcription uses it, shared by every session."""
    return load_whisper(resolved, device, compute_type, cpu_threads=LIVE_CPU_THREADS, workers=LIVE_WORKERS)


def live_model_loaded(resolved: ResolvedModel, device: str = "cpu", compute_type: str = "int8") -> bool:
    return is_loaded(resolved, device, compute_type, cpu_threads=LIVE_CPU_THREADS, workers=LIVE_WORKERS)


@dataclass
class PassStats:
    """Where transcription time went: whisper passes over utterances, by kind, and what the
    lag bound left out."""

    partial: int = 0  # quick passes while someone talks
    final: int = 0  # one wide pass at the end of each utterance (and cuts of a full buffer)
    redone: int = 0  # passes whose short window looped and were redone on the full window
    whisper_seconds: float = 0.0  # wall time inside whisper
    audio_seconds: float = 0.0  # audio given to whisper, summed over passes
    paused: int = 0  # partials not asked for: the transcript was behind or a final was due
    replaced: int = 0  # partials a newer request replaced before a worker was free
    late: int = 0  # partials whose utterance ended while they ran (the final decides)
    shed: int = 0  # utterances whose final waited too long: left to the after-meeting pass

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
                f"audio in {self.whisper_seconds:.1f} s; {self.paused + self.replaced} partials left out "
                f"(behind, or a newer one came first), {self.shed} utterances left to the after-meeting pass")

    def to_dict(self) -> dict[str, float]:
        return {"partial_passes": self.partial, "final_passes": self.final, "redone_full_window": self.redone,
                "whisper_seconds": round(self.whisper_seconds, 3), "audio_seconds_given": round(self.audio_seconds, 3),
                "seconds_per_pass": round(self.whisper_seconds / max(1, self.partial + self.final), 3),
                "partials_paused": self.paused, "partials_replaced": self.replaced, "partials_late": self.late,
                "utterances_shed": self.shed}


class TranscriptionError(Exception):
    """Whisper failed on a file given to transcribe_file."""


class MediaFileError(ValueError):
    """A file given to transcribe_file holds no audio that can be decoded."""


PassFn = Callable[[ChannelStream, PassJob], None]


class StreamingTranscriber:
    """Transcribes a live session; `feed` never blocks its caller.

    Results go to `on_result` from the scheduler's threads. If whisper fails, `degraded` is
    set, `error` says why, the failure is logged, and audio is still accepted (and
    discarded) so the recording goes on. `on_behind` gets the seconds the live transcript is
    behind while that is more than usual (0 when it caught up); `on_skipped` gets every
    session-time range the live transcript left out, as a whole list each time it grows.
    """

    def __init__(
        self,
        model: ResolvedModel | WhisperModel,
        *,
        language: str = "en",
        speakers: SpeakerTimeline | None = None,
        on_result: Callable[[TranscriptResult], None],
        on_log: LogFn | None = None,
        on_behind: BehindFn | None = None,
        on_skipped: SkippedFn | None = None,
        vocabulary: Iterable[str] = (),
        device: str = "cpu",
        compute_type: str = "int8",
        beam_size: int = 1,
        final_beam_size: int = 5,
        max_queue_seconds: float = 120.0,
        max_utterance_seconds: float = 15.0,
        scheduler: PassScheduler | None = None,
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
        self.vocabulary = clean_vocabulary(list(vocabulary))
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
        self._behind = BehindReporter(self._log, on_behind)
        self._skips = SkipLog(on_skipped)
        self.stats = PassStats()
        self._scheduler = scheduler or shared_scheduler()
        self._client = self._scheduler.client("transcriber")
        self._max_queue_samples = max_queue_seconds * SAMPLE_RATE
        self._max_utterance = max_utterance_seconds
        # the feed queue, between the capture thread and the VAD thread
        self._cond = threading.Condition()
        self._queue: deque[tuple[np.ndarray, float, str | None]] = deque()
        self._queued_samples = 0
        self._fed_start: float | None = None  # session time of the first accepted audio
        self._fed_end = -float("inf")  # and of the end of the last
        self._closing = False  # finish(): process what is queued, then end
        self._abandon = False  # stop(): end now
        self._silenced = False  # no more results reach on_result
        self._late_feed_logged = False
        # the streams, shared by the VAD thread and the passes
        self._state = threading.RLock()
        self._pass_done = threading.Condition(self._state)
        self._streams: dict[str | None, ChannelStream] = {}
        self._settled: dict[str | None, float] = {}  # per stream: where every word is final
        self._skip_from: float | None = None  # whisper failed: nothing after this is transcribed
        self._behind_now = 0.0
        self._thread: threading.Thread | None = None

    # --- caller side ---------------------------------------------------------------------

    def start(self) -> None:
        with self._cond:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="transcriber-vad", daemon=True)
        self._thread.start()

    def feed(self, chunk: Any) -> None:
        """Queues a chunk (.samples float32 mono 16 kHz, .start_time, .channel); never blocks."""
        samples = np.asarray(chunk.samples, dtype=np.float32)
        if samples.ndim != 1:
            raise ValueError(f"Audio chunks must be mono (1-D samples), got shape {samples.shape}")
        start = float(chunk.start_time)
        end = start + len(samples) / SAMPLE_RATE
        with self._cond:
            late = self._closing or self._abandon
            if not late:
                if self._fed_start is None:
                    self._fed_start = start
                self._fed_end = max(self._fed_end, end)
            if not late and self._queued_samples + len(samples) <= self._max_queue_samples:
                self._queue.append((samples, start, getattr(chunk, "channel", None)))
                self._queued_samples += len(samples)
                self._cond.notify()
                return
            if not late:
                self.dropped_seconds += len(samples) / SAMPLE_RATE
        if not late:
            self._drops.drop(f"transcription is {self._max_queue_samples / SAMPLE_RATE:.0f} s behind")
            self._skips.add(start, end)
        elif not self._late_feed_logged:
            self._late_feed_logged = True
            self._log("warning", "Audio arrived after transcription was finished; it is not transcribed")

    def finish(self, timeout: float | None = None) -> None:
        """Transcribes everything queued, emits the remaining finals and ends.

        If `timeout` passes first, the rest is abandoned (logged, and reported as skipped) and
        no later result is delivered.
        """
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self.start()
        deadline = None if timeout is None else time.monotonic() + timeout
        thread = self._thread
        assert thread is not None
        thread.join(timeout)
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        if thread.is_alive() or not self._client.wait_idle(left):
            self._log(
                "warning", f"Transcription did not finish within {timeout} s; the rest of the audio is not transcribed"
            )
            self._end_now()
        self._wrap_up()
        self.stats.redone = getattr(self._model, "redone", 0)
        if self.stats.partial or self.stats.final:
            self._log("info", self.stats.summary())

    @property
    def running(self) -> bool:
        """Whether the VAD thread or a pass is still at work (after stop(): until its whisper
        call returns)."""
        return (self._thread is not None and self._thread.is_alive()) or self._client.busy

    @property
    def skipped(self) -> list[tuple[float, float]]:
        """Session-time ranges the live transcript left out."""
        return self._skips.ranges

    def stop(self) -> None:
        """Abandons queued audio and pending text; returns without waiting for whisper."""
        self._end_now()
        self._wrap_up()

    def _end_now(self) -> None:
        with self._cond:
            self._abandon = self._silenced = True
            self._queue.clear()
            self._queued_samples = 0
            self._cond.notify_all()
        self._client.close()
        if self._skip_from is None:
            # dict views copied in one step: the VAD thread may be adding a stream
            self._skip_from = min(list(self._settled.values()), default=self._fed_start)

    def _wrap_up(self) -> None:
        if self._skip_from is not None:
            self._skips.add(self._skip_from, self._fed_end)
        self._client.close()
        self._behind.close()
        self._drops.flush()
        self._skips.flush()

    # --- the VAD thread ------------------------------------------------------------------

    def _run(self) -> None:
        if self._model is None:
            self._guarded(self._load_model)
        while True:
            item = None
            with self._cond:
                if not self._queue and not self._closing and not self._abandon:
                    self._cond.wait(PROGRESS_TICK)
                if self._abandon or (not self._queue and self._closing):
                    break
                if self._queue:
                    item = self._queue.popleft()
                    self._queued_samples -= len(item[0])
                backlog = self._queued_samples / SAMPLE_RATE
            if item is not None and not self.degraded:
                with self._state:
                    self._guarded(self._process, *item)
            self._note_progress(backlog)
        if not self._abandon and not self.degraded:
            with self._state:
                for stream in list(self._streams.values()):
                    self._guarded(self._end_utterance, stream)

    def _guarded(self, step: Callable[..., None], *args: Any) -> None:
        try:
            step(*args)
        except Exception as e:  # whisper, VAD or model loading: transcription ends, recording goes on
            with self._state:
                self._degrade(e)

    def _degrade(self, error: Exception) -> None:
        if self.degraded:
            return
        self.degraded = True
        self.error = f"{type(error).__name__}: {error}"
        self._log("error", f"Transcription failed ({self.error}); recording continues without a transcript")
        for stream in self._streams.values():
            if stream.pending:  # committed words are stable: keep them
                self._emit_finals(stream, stream.pending)
                stream.pending = []
        self._skip_from = min(list(self._settled.values()), default=self._fed_start)
        self._streams.clear()
        self._client.close()

    def _load_model(self) -> None:
        self._model = utterance_view(load_live_model(self._model_spec, self._device, self._compute_type))

    def _note_progress(self, backlog: float) -> None:
        self._behind_now = max(backlog, self._client.oldest_required_wait())
        self._behind.update(self._behind_now)
        self._skips.flush(force=False)

    def _process(self, samples: np.ndarray, start_time: float, channel: str | None) -> None:
        if not np.isfinite(samples).all():
            samples = np.nan_to_num(samples, nan=0.0, posinf=0.0, neginf=0.0)
        stream = self._streams.get(channel)
        if stream is None:
            stream = self._streams[channel] = ChannelStream(channel, self._max_utterance, start_time)
            self._settled[channel] = start_time
        else:
            samples = self._bridge_gap(stream, samples, start_time)
        windows, probabilities = stream.vad.process(samples)
        for window, probability in zip(windows, probabilities):
            if self._abandon:
                return
            if stream.add_window(window, float(probability)):
                self._end_utterance(stream)
            elif stream.speaking:
                self._maybe_pass(stream)
        if not stream.speaking and not stream.required_waiting:
            self._settle(stream, stream.window_time)

    def _settle(self, stream: ChannelStream, until: float) -> None:
        stream.settled_until = max(stream.settled_until, until)
        self._settled[stream.channel] = stream.settled_until

    def _bridge_gap(self, stream: ChannelStream, samples: np.ndarray, start_time: float) -> np.ndarray:
        """Audio missing between chunks (dropped, paused) keeps timestamps true: a short hole
        is filled with silence, a long one ends the utterance."""
        expected = stream.window_time + stream.vad.pending_samples / SAMPLE_RATE
        gap = start_time - expected
        if gap <= GAP_TOLERANCE:
            return samples
        if gap <= MAX_GAP_FILLED:
            return np.concatenate([np.zeros(int(gap * SAMPLE_RATE), np.float32), samples])
        self._end_utterance(stream)
        stream.vad.reset()
        stream.preroll.clear()
        stream.window_time = start_time
        return samples

    def _maybe_pass(self, stream: ChannelStream) -> None:
        """Decides, after each window of speech, whether the utterance needs a pass now."""
        if stream.samples >= stream.max_samples and stream.final_audio >= PARTIAL_INTERVAL:
            stream.trim(stream.pass_start)  # the final pass loses some context, not words
        if stream.samples >= stream.max_samples:
            if not stream.cut_waiting:
                stream.cut_waiting = True
                utterance = stream.utterance_id
                self._submit_required(stream, lambda s, job: self._cut_pass(s, utterance))
            # Far ahead of its cut (audio arriving in a burst, or other sessions' finals first):
            # the VAD waits rather than let the buffer grow; the feed queue takes up the slack.
            while stream.cut_waiting and stream.samples >= OVERFULL * stream.max_samples and not self._inactive():
                self._pass_done.wait(PROGRESS_TICK)
                self._note_progress(self._queued_samples / SAMPLE_RATE)
            return
        if stream.new_since_pass < PARTIAL_INTERVAL * SAMPLE_RATE:
            return
        if stream.new_since_pass < self._partial_interval() * SAMPLE_RATE:
            return
        stream.new_since_pass = 0
        if stream.required_waiting or self._behind_now > PAUSE_PARTIALS_BEHIND:
            self.stats.paused += 1
            return
        self._client.submit(stream.channel, PassKind.PARTIAL, lambda job: self._partial_pass(stream),
                            dropped=self._partial_replaced)

    def _partial_interval(self) -> float:
        cost = self._scheduler.partial_cost()
        share = max(1, self._scheduler.contenders()) / self._scheduler.partial_slots
        return max(PARTIAL_INTERVAL, PARTIAL_PACE * cost * share)

    def _partial_replaced(self, job: PassJob) -> None:
        self.stats.replaced += 1

    def _end_utterance(self, stream: ChannelStream) -> None:
        if not stream.speaking and not stream.pending:
            return
        utterance = stream.take_utterance()
        self._submit_required(stream, lambda s, job: self._final_pass(s, job, utterance))

    def _submit_required(self, stream: ChannelStream, step: PassFn) -> None:
        stream.required_waiting += 1
        stream.version += 1  # a partial running now would show text from before this pass
        self._client.submit(stream.channel, PassKind.REQUIRED, lambda job: self._required(stream, job, step))

    # --- passes (on the scheduler's threads) ---------------------------------------------

    def _inactive(self) -> bool:
        return self._abandon or self.degraded

    def _required(self, stream: ChannelStream, job: PassJob, step: PassFn) -> None:
        try:
            if not self._inactive():
                step(stream, job)
        except Exception as e:  # whisper failed: transcription ends, recording goes on
            with self._state:
                self._degrade(e)
        finally:
            with self._state:
                stream.required_waiting -= 1

    def _partial_pass(self, stream: ChannelStream) -> None:
        with self._state:
            if self._inactive() or not stream.speaking or stream.required_waiting:
                return
            view, version = stream.view(), stream.version
            prompt = stream.prompt(before=view.start)
        try:
            words = self._whisper(view, self._beam_size, prompt)
        except Exception as e:
            with self._state:
                self._degrade(e)
            return
        with self._state:
            if self._inactive() or stream.version != version:
                self.stats.late += 1
                return
            self._take_pass(stream, words)

    def _cut_pass(self, stream: ChannelStream, utterance: int) -> None:
        """A full buffer must be cut: everything but its last second is committed."""
        try:
            with self._state:
                if stream.utterance_id != utterance:
                    return  # the utterance ended meanwhile: its final pass covers it
                view = stream.view()
                prompt = stream.prompt(before=view.start)
            words = self._whisper(view, self._beam_size, prompt, retry=True)
            with self._state:
                if self._inactive() or stream.utterance_id != utterance:
                    return
                self._take_pass(stream, words, cut_until=view.end - FORCED_COMMIT_MARGIN)
                stream.trim(stream.pass_start)
                if stream.samples >= stream.max_samples:
                    # whisper found no words to cut at: keep only the newest audio so the buffer stays bounded
                    cut = stream.end - self._max_utterance / 3
                    self._skips.add(stream.start, cut)
                    stream.trim(cut)
        finally:
            with self._state:
                stream.cut_waiting = False
                self._pass_done.notify_all()

    def _take_pass(self, stream: ChannelStream, words: list[Word], cut_until: float | None = None) -> None:
        """One pass over a growing utterance: commit what two passes agree on, show the rest."""
        stream.pending += stream.agreement.insert(words)
        if cut_until is not None:
            stream.pending += stream.agreement.commit_until(cut_until)
            ready = len(stream.pending)
        else:
            # Final at a sentence end once the next sentence has begun; the utterance's last
            # sentence waits for the wider pass at its end.
            ready = next(
                (i + 1 for i in range(len(stream.pending) - 2, -1, -1) if ends_sentence(stream.pending[i])), 0
            )
        if ready:
            final, stream.pending = stream.pending[:ready], stream.pending[ready:]
            self._emit_finals(stream, final)
            stream.advance(cut_point(final, (stream.pending + stream.agreement.uncommitted)[:1]))
        # A pass that ends early (whisper stopped after a few words) does not take back the
        # words the previous partial showed after them.
        shown = keep_shown(stream.pending + stream.agreement.uncommitted, stream.shown_after_finals())
        stream.shown = shown
        if shown:
            self._deliver(self._result(stream, shown, partial=True))

    def _final_pass(self, stream: ChannelStream, job: PassJob, utterance: Utterance) -> None:
        with self._state:
            waited = time.monotonic() - job.submitted
            if waited > SHED_AFTER:
                self._shed(stream, utterance)
                return
            prompt = stream.prompt(before=utterance.start)
            shown = stream.shown_after_finals()
        words = None
        if utterance.audio is not None:
            view = BufferView(utterance.audio, utterance.start, utterance.end)
            words = keep_shown(decode_through(
                lambda part, context: self._whisper(part, self._final_beam_size, context, retry=True, final=True),
                view, prompt), shown)
        with self._state:
            if self._inactive():
                return
            if words is not None:
                if stream.pending:
                    # Words the quick passes agreed on but nobody has seen as final yet: the
                    # wider-beam pass over the whole utterance decides them again.
                    stream.agreement.reopen([w for w in stream.history if w.end > utterance.start])
                    stream.pending = []
                stream.pending += stream.agreement.commit_all(words)
            self._close_utterance(stream, utterance)

    def _shed(self, stream: ChannelStream, utterance: Utterance) -> None:
        """Too far behind: what two passes agreed on stays, the rest is left to the
        after-meeting pass, and the live transcript goes on with the present."""
        self.stats.shed += 1
        kept_until = stream.pending[-1].end if stream.pending else utterance.start
        self._skips.add(max(kept_until, utterance.start), utterance.end)
        self._close_utterance(stream, utterance)

    def _close_utterance(self, stream: ChannelStream, utterance: Utterance) -> None:
        if stream.pending:
            self._emit_finals(stream, stream.pending)
            stream.pending = []
        stream.agreement.end_utterance()
        stream.shown = []
        self._settle(stream, utterance.end)

    def _whisper(self, view: BufferView, beam_size: int, context: str | None, *, retry: bool = False,
                 final: bool = False) -> list[Word]:
        """Whisper over a copy of the buffer. A pass that decides final text retries a looping
        decode warmer and on the full window; a partial's is only dropped (the next comes soon)."""
        began = time.perf_counter()
        segments, _info = self._model.transcribe(
            view.audio,
            language=self.language,
            beam_size=beam_size,
            temperature=(0.0, 0.4) if retry else 0.0,
            compression_ratio_threshold=MAX_COMPRESSION_RATIO,
            word_timestamps=True,
            condition_on_previous_text=False,
            vad_filter=False,  # the stream's own VAD already gated this audio
            initial_prompt=whisper_prompt(context, self.vocabulary),
            max_new_tokens=min(MAX_TOKENS, MIN_TOKENS + round(TOKENS_PER_SECOND * (view.end - view.start))),
        )
        words = _words_from(segments, view.start, view.end)
        with self._state:
            self.stats.count(final=final, seconds=time.perf_counter() - began,
                             audio_seconds=view.end - view.start)
        return words

    # --- results -------------------------------------------------------------------------

    def _speaker(self, stream: ChannelStream, start: float, end: float) -> str | None:
        if stream.channel is not None:
            return stream.channel
        return self.speakers.speaker_for(start, end) if self.speakers is not None else None

    def _result(self, stream: ChannelStream, words: list[Word], partial: bool) -> TranscriptResult:
        speaker = self._speaker(stream, words[0].start, words[-1].end)
        return _make_result(words, self.language, speaker, partial)

    def _emit_finals(self, stream: ChannelStream, words: list[Word]) -> None:
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


def transcribe_file(path: str | Path, *, language: str = "en", model: str = "tiny.en",
                    vocabulary: Iterable[str] = ()) -> list[TranscriptResult]:
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
            initial_prompt=whisper_prompt(None, clean_vocabulary(list(vocabulary))),
        )
        words = _words_from(segments, 0.0, len(audio) / SAMPLE_RATE)
    except Exception as e:
        raise TranscriptionError(f"Transcribing {path} failed: {e}") from e
    return [_make_result(sentence, language, None, partial=False) for sentence in _sentences(words, lambda w: None)]
