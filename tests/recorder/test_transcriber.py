"""Live transcription with real faster-whisper models on espeak-ng speech.

Speech is synthesized at test time with espeak-ng (two voices for two speakers) and fed to
the transcriber as session-clock chunks, faster than real time unless a test says otherwise.
"""
from __future__ import annotations

import re
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import av
import numpy as np
import pytest
from faster_whisper import decode_audio

from recorder.audio.base import AudioChunk
from recorder.local_agreement import LocalAgreement, Word
from recorder.pass_scheduler import PassScheduler
from recorder.speakers import SpeakerTimeline
from recorder.transcriber import (
    MediaFileError,
    StreamingTranscriber,
    TranscriptResult,
    transcribe_file,
)
from recorder.whisper_models import load_whisper, resolve_model
from recorder.whisper_window import UtteranceWhisper, encoder_frames

RATE = 16000
CONVERSATION = [
    ("Alice", "en-us", "Good morning everyone. Today we will review the quarterly budget and the hiring plan."),
    ("Carol", "en+f3", "Thanks Alice. The marketing numbers look strong this year, but travel costs went up."),
    ("Alice", "en-us", "Let us schedule a follow up meeting next Tuesday afternoon."),
]


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def recall(spoken: str, heard: str) -> float:
    """Share of the spoken words that were transcribed, counting repeats."""
    heard_counts = Counter(words(heard))
    spoken_counts = Counter(words(spoken))
    return sum(min(n, heard_counts[w]) for w, n in spoken_counts.items()) / sum(spoken_counts.values())


def seam_repeats(finals: list[TranscriptResult]) -> list[list[str]]:
    """Word sequences that end one final and start the next: a commit that repeated words."""
    repeats = []
    for before, after in zip(finals, finals[1:]):
        tail, head = words(before.text), words(after.text)
        repeats += [tail[-n:] for n in range(1, 4) if len(tail) >= n and tail[-n:] == head[:n]]
    return repeats


def speak(text: str, voice: str, path: Path) -> np.ndarray:
    subprocess.run(["espeak-ng", "-w", str(path), "-s", "150", "-v", voice, text], check=True, capture_output=True)
    return decode_audio(str(path), sampling_rate=RATE)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), np.float32)


@dataclass
class Speech:
    audio: np.ndarray
    script: str
    spans: list[tuple[str, float, float]]  # speaker, start, end in session seconds

    @property
    def duration(self) -> float:
        return len(self.audio) / RATE


def conversation(lines, folder: Path, pause: float = 1.5, lead: float = 0.5) -> Speech:
    parts, spans, t = [silence(lead)], [], lead
    for i, (speaker, voice, text) in enumerate(lines):
        audio = speak(text, voice, folder / f"line{i}.wav")
        parts += [audio, silence(pause)]
        spans.append((speaker, t, t + len(audio) / RATE))
        t += len(audio) / RATE + pause
    return Speech(np.concatenate(parts), " ".join(text for _, _, text in lines), spans)


@dataclass
class Run:
    results: list[tuple[float, TranscriptResult]] = field(default_factory=list)  # (wall seconds, result)
    logs: list[tuple[str, str]] = field(default_factory=list)
    feed_seconds: list[float] = field(default_factory=list)  # how long each feed() call took
    fed_at: float = 0.0  # wall seconds when the last chunk was fed
    finished_at: float = 0.0
    transcriber: StreamingTranscriber | None = None

    @property
    def finals(self) -> list[TranscriptResult]:
        return [r for _, r in self.results if not r.is_partial]

    @property
    def partials(self) -> list[TranscriptResult]:
        return [r for _, r in self.results if r.is_partial]

    @property
    def final_text(self) -> str:
        return " ".join(r.text for r in self.finals)


def stream(transcriber_args: dict, audio: np.ndarray, *, speed: float | None, chunk: float = 0.1,
           channel: str | None = None, start: float = 0.0) -> Run:
    """Feeds `audio` in chunks at `speed` times real time (None: as fast as possible), then finishes."""
    run = Run()
    began = time.monotonic()
    transcriber = StreamingTranscriber(
        **transcriber_args,
        on_result=lambda r: run.results.append((time.monotonic() - began, r)),
        on_log=lambda level, message: run.logs.append((level, message)),
    )
    transcriber.start()
    step = int(chunk * RATE)
    for i in range(0, len(audio), step):
        t = time.monotonic()
        transcriber.feed(AudioChunk(audio[i:i + step], start + i / RATE, channel))
        run.feed_seconds.append(time.monotonic() - t)
        if speed:
            time.sleep(max(0.0, began + (i + step) / RATE / speed - time.monotonic()))
    run.fed_at = time.monotonic() - began
    transcriber.finish(timeout=120)
    run.finished_at = time.monotonic() - began
    run.transcriber = transcriber
    return run


@pytest.fixture(scope="module")
def tiny_en():
    return load_whisper(resolve_model("tiny.en"))


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> Speech:
    return conversation(CONVERSATION, tmp_path_factory.mktemp("speech"))


@pytest.fixture(scope="module")
def meeting(tiny_en, speech) -> tuple[Speech, Run]:
    """The conversation streamed at three times real time, with the bot's speaker changes."""
    timeline = SpeakerTimeline()
    for speaker, start, end in speech.spans:
        timeline.set_speaker(start, speaker)
        timeline.set_speaker(end, None)
    run = stream({"model": tiny_en, "speakers": timeline}, speech.audio, speed=3.0)
    print(f"conversation: {speech.duration:.1f} s of audio, finished after {run.finished_at:.1f} s; "
          f"recall {recall(speech.script, run.final_text):.2f}; {len(run.partials)} partials, {len(run.finals)} finals")
    return speech, run


# --- the streamed conversation -----------------------------------------------------------------

def test_finals_hold_the_spoken_words(meeting):
    speech, run = meeting
    assert recall(speech.script, run.final_text) >= 0.8, run.final_text


def test_partials_come_first_and_finals_carry_confidence(meeting):
    _, run = meeting
    first_final = next(i for i, (_, r) in enumerate(run.results) if not r.is_partial)
    assert first_final > 0 and run.results[0][1].is_partial
    assert all(r.confidence is None for r in run.partials)
    assert all(0 < r.confidence <= 1 for r in run.finals)
    assert all(r.language_code == "en" for _, r in run.results)


def test_final_timestamps_are_ordered_and_inside_the_audio(meeting):
    speech, run = meeting
    previous_end = 0.0
    for r in run.finals:
        assert previous_end <= r.start_time <= r.end_time <= speech.duration, r
        previous_end = r.end_time


def test_no_word_is_committed_twice(meeting):
    speech, run = meeting
    assert not seam_repeats(run.finals), run.final_text
    assert len(words(run.final_text)) <= len(words(speech.script)) + 2, run.final_text


def test_speaker_changes_label_the_sentences(meeting):
    speech, run = meeting
    for r in run.finals:
        middle = (r.start_time + r.end_time) / 2
        speaker = next(s for s, start, end in speech.spans if start - 0.5 <= middle <= end + 0.5)
        assert r.speaker == speaker, r
    assert {r.speaker for r in run.finals} == {"Alice", "Carol"}


def test_feed_returns_at_once_while_whisper_works(meeting):
    _, run = meeting
    # each whisper pass takes about a second here: a feed that waited for one would show it
    # (the median, so a feed delayed by a busy machine's scheduler does not count)
    assert float(np.median(run.feed_seconds)) < 0.05 and max(run.feed_seconds) < 0.5


# --- pacing, flushing, channels ------------------------------------------------------------------

def test_real_time_speech_shows_partials_while_talking_and_finish_flushes(tiny_en, tmp_path):
    text = ("Please send the slides to the whole team before Friday. We will go through them together "
            "on Monday morning.")
    audio = speak(text, "en-us", tmp_path / "line.wav")  # ends without a pause: no VAD end
    run = stream({"model": tiny_en}, np.concatenate([silence(0.3), audio]), speed=1.0)
    assert any(t < run.fed_at for t, r in run.results if r.is_partial), "no partial while the speaker talked"
    assert run.finals and recall(text, run.final_text) >= 0.75, run.final_text
    last_final_at = max(t for t, r in run.results if not r.is_partial)
    assert run.fed_at < last_final_at <= run.finished_at  # finish() flushed the unfinished utterance
    final_words = set(words(run.final_text))
    shown_before = set(words(" ".join(r.text for t, r in run.results if r.is_partial)))
    assert len(final_words & shown_before) >= 0.5 * len(final_words)


def test_channels_of_a_device_mix_are_transcribed_apart(tiny_en, tmp_path):
    you = "I will send the report to the team today. It covers the budget and the hiring plan."
    others = "Thank you, we will read it this afternoon. Then we can talk about it on Friday."
    mine = np.concatenate([silence(0.3), speak(you, "en-us", tmp_path / "you.wav"), silence(1.0)])
    theirs = np.concatenate([silence(0.8), speak(others, "en+f3", tmp_path / "others.wav"), silence(1.0)])
    results: list[TranscriptResult] = []
    transcriber = StreamingTranscriber(tiny_en, on_result=results.append)
    transcriber.start()
    step = int(0.1 * RATE)
    for i in range(0, max(len(mine), len(theirs)), step):  # both channels cover the same time
        for channel, audio in (("you", mine), ("others", theirs)):
            if i < len(audio):
                transcriber.feed(AudioChunk(audio[i:i + step], i / RATE, channel))
    transcriber.finish(timeout=120)
    finals = {c: " ".join(r.text for r in results if not r.is_partial and r.speaker == c) for c in ("you", "others")}
    assert recall(you, finals["you"]) >= 0.7, finals
    assert recall(others, finals["others"]) >= 0.7, finals
    assert {r.speaker for r in results} == {"you", "others"}


def test_long_unbroken_speech_is_committed_in_pieces_without_losing_words(tiny_en, tmp_path):
    text = ("We looked at the sales report for the last three months, and we think the team should hire "
            "two more people for the support desk before the summer, because the number of tickets grew "
            "by a third since January, and most of them came from the new customers in Europe")
    audio = np.concatenate([silence(0.3), speak(text, "en-us", tmp_path / "long.wav"), silence(1.0)])
    # at about the speaker's pace: audio that arrives all at once needs no cut (its final covers it)
    run = stream({"model": tiny_en, "max_utterance_seconds": 5.0}, audio, speed=1.5, chunk=0.5)
    assert len(run.finals) >= 2, run.finals  # the buffer was cut before the speaker paused
    assert recall(text, run.final_text) >= 0.75, run.final_text
    assert not seam_repeats(run.finals), run.final_text
    assert len(words(run.final_text)) <= len(words(text)) + 2, run.final_text
    assert all(a.end_time <= b.start_time for a, b in zip(run.finals, run.finals[1:]))


def test_silence_and_noise_produce_no_text(tiny_en):
    rng = np.random.default_rng(7)
    quiet = np.concatenate([silence(2.0), (0.003 * rng.standard_normal(3 * RATE)).astype(np.float32)])
    run = stream({"model": tiny_en}, quiet, speed=None)
    assert run.results == []
    assert not run.transcriber.degraded


def test_timestamps_follow_the_session_clock_across_a_gap(tiny_en, tmp_path):
    first = "Welcome to the meeting. Today we talk about the new office."
    second = "Welcome back after the break. Let us look at the budget now."
    before = np.concatenate([speak(first, "en-us", tmp_path / "a.wav"), silence(0.3)])
    after = np.concatenate([speak(second, "en-us", tmp_path / "b.wav"), silence(1.0)])
    resumed = len(before) / RATE + 20.0  # capture paused for 20 s
    results: list[TranscriptResult] = []
    transcriber = StreamingTranscriber(tiny_en, on_result=results.append)
    transcriber.start()
    transcriber.feed(AudioChunk(before, 0.0, None))
    transcriber.feed(AudioChunk(after, resumed, None))
    transcriber.finish(timeout=60)
    finals = [r for r in results if not r.is_partial]
    early = " ".join(r.text for r in finals if r.end_time <= len(before) / RATE)
    late = [r for r in finals if r.start_time >= resumed - 0.5]
    assert recall(first, early) >= 0.7 and recall(second, " ".join(r.text for r in late)) >= 0.7, finals
    assert all(r.end_time <= resumed + len(after) / RATE for r in late)


# --- failures and overload ---------------------------------------------------------------------

class FailingAfterFirstPass:
    """Simulates a runtime failure (a GPU lost, memory exhausted) in the middle of a session:
    the real model answers the first call, then every call raises."""

    def __init__(self, model):
        self.model = model.model
        self._real = model
        self.calls = 0
        self.calls_after_failure = 0
        self.failed = threading.Event()

    def transcribe(self, *args, **kwargs):
        if self.failed.is_set():
            self.calls_after_failure += 1
        self.calls += 1
        if self.calls > 1:
            self.failed.set()
            raise RuntimeError("CUDA failed with error out of memory")
        return self._real.transcribe(*args, **kwargs)


def test_a_failing_model_degrades_and_audio_is_still_accepted(tiny_en, speech):
    model = FailingAfterFirstPass(tiny_en)
    results, logs = [], []
    transcriber = StreamingTranscriber(model, on_result=results.append, on_log=lambda *entry: logs.append(entry))
    transcriber.start()
    step = int(0.1 * RATE)
    for i in range(0, len(speech.audio), step):
        transcriber.feed(AudioChunk(speech.audio[i:i + step], i / RATE, None))
    deadline = time.monotonic() + 30
    while not transcriber.degraded and time.monotonic() < deadline:
        time.sleep(0.05)
    assert transcriber.degraded and "out of memory" in transcriber.error
    assert any(level == "error" and "out of memory" in message for level, message in logs)
    for i in range(0, 3 * RATE, step):  # the recording goes on after the failure
        transcriber.feed(AudioChunk(speech.audio[i:i + step], speech.duration + i / RATE, None))
    started = time.monotonic()
    transcriber.finish(timeout=30)
    assert time.monotonic() - started < 5
    # a pass already running on the other worker may still end; nothing starts after the failure
    assert model.calls_after_failure <= 1
    # what was not transcribed is reported for the after-meeting pass, up to the last audio
    assert transcriber.skipped and transcriber.skipped[-1][1] == pytest.approx(speech.duration + 3.0, abs=0.1)


def test_a_model_that_cannot_load_degrades_at_start(tmp_path):
    folder = tmp_path / "damaged"
    folder.mkdir()
    for f in resolve_model("tiny.en").path.iterdir():
        if f.name == "model.bin":
            (folder / f.name).write_bytes(b"not a model" * 100)
        else:
            (folder / f.name).symlink_to(f)
    logs = []
    transcriber = StreamingTranscriber(resolve_model(str(folder)), on_result=lambda r: None,
                                       on_log=lambda *entry: logs.append(entry))
    transcriber.start()
    transcriber.feed(AudioChunk(silence(1.0), 0.0, None))
    transcriber.finish(timeout=30)
    assert transcriber.degraded and "could not be loaded" in transcriber.error
    assert logs and logs[0][0] == "error"


def test_stop_abandons_at_once_and_delivers_nothing_more(tiny_en, speech):
    results = []
    transcriber = StreamingTranscriber(tiny_en, on_result=results.append)
    transcriber.start()
    transcriber.feed(AudioChunk(speech.audio, 0.0, None))
    deadline = time.monotonic() + 30
    while not results and time.monotonic() < deadline:
        time.sleep(0.02)
    started = time.monotonic()
    transcriber.stop()
    assert time.monotonic() - started < 0.1
    delivered = len(results)
    while transcriber.running and time.monotonic() - started < 10:  # the whisper call in progress ends
        time.sleep(0.02)
    assert not transcriber.running
    assert len(results) == delivered


def test_finish_with_a_timeout_gives_up_and_says_so(tiny_en, speech):
    results, logs = [], []
    transcriber = StreamingTranscriber(tiny_en, on_result=results.append, on_log=lambda *entry: logs.append(entry))
    transcriber.start()
    for i in range(0, len(speech.audio), RATE):
        transcriber.feed(AudioChunk(speech.audio[i:i + RATE], i / RATE, None))
    started = time.monotonic()
    transcriber.finish(timeout=0.5)
    assert time.monotonic() - started < 1.0
    assert any(level == "warning" and "did not finish" in message for level, message in logs)
    delivered = len(results)
    while transcriber.running and time.monotonic() - started < 10:
        time.sleep(0.02)
    assert not transcriber.running
    assert len(results) == delivered


def test_a_full_queue_drops_and_counts_audio_without_blocking(tiny_en, speech):
    logs = []
    transcriber = StreamingTranscriber(tiny_en, on_result=lambda r: None,
                                       on_log=lambda *entry: logs.append(entry), max_queue_seconds=3.0)
    step = int(0.5 * RATE)
    started = time.monotonic()
    for i in range(0, 10 * RATE, step):  # the worker is not started yet: nothing drains the queue
        transcriber.feed(AudioChunk(speech.audio[i:i + step], i / RATE, None))
    assert time.monotonic() - started < 0.5
    assert transcriber.dropped_seconds == pytest.approx(7.0)
    assert any(level == "warning" and "Dropped" in message for level, message in logs)
    assert transcriber.skipped == [(3.0, 10.0)]  # the after-meeting pass covers them
    transcriber.finish(timeout=60)
    assert not transcriber.degraded
    transcriber.feed(AudioChunk(speech.audio[:step], 10.0, None))
    assert logs[-1] == ("warning", "Audio arrived after transcription was finished; it is not transcribed")


def test_a_stereo_chunk_is_refused_with_a_reason(tiny_en):
    transcriber = StreamingTranscriber(tiny_en, on_result=lambda r: None)
    with pytest.raises(ValueError, match="mono"):
        transcriber.feed(AudioChunk(np.zeros((2, 1600), np.float32), 0.0, None))


def test_a_failing_subscriber_is_logged_and_transcription_goes_on(tiny_en, tmp_path):
    text = "The budget meeting starts at noon."
    audio = np.concatenate([speak(text, "en-us", tmp_path / "s.wav"), silence(1.0)])
    delivered, logs = [], []

    def subscriber(result):
        delivered.append(result)
        if len(delivered) == 1:
            raise KeyError("closed store")

    transcriber = StreamingTranscriber(tiny_en, on_result=subscriber, on_log=lambda *entry: logs.append(entry))
    transcriber.start()
    transcriber.feed(AudioChunk(audio, 0.0, None))
    transcriber.finish(timeout=60)
    assert any(level == "error" and "closed store" in message for level, message in logs)
    assert not transcriber.degraded and any(not r.is_partial for r in delivered)


def test_english_only_model_refuses_another_language(tiny_en):
    with pytest.raises(ValueError, match="English-only"):
        StreamingTranscriber(tiny_en, language="de", on_result=lambda r: None)


# --- other languages and files -----------------------------------------------------------------

def test_german_is_transcribed_by_the_multilingual_base_model(tmp_path):
    # Several sentences: one word more or less (int8 kernels differ between CPUs) moves the
    # recall of a short sentence by a sixth, of this passage by a twentieth.
    text = ("Guten Morgen, das ist ein Test. Wir sprechen heute über das neue Projekt. "
            "Am Freitag treffen wir uns wieder im Büro.")
    resolved = resolve_model("tiny.en", "de")
    assert resolved.name == "base" and resolved.multilingual and resolved.note
    audio = np.concatenate([silence(0.3), speak(text, "de", tmp_path / "de.wav"), silence(1.0)])
    run = stream({"model": resolved, "language": "de"}, audio, speed=None)
    assert recall(text, run.final_text) >= 0.7, run.final_text
    assert all(r.language_code == "de" for r in run.finals)


GERMAN = ("Guten Morgen, das ist ein Test.", "Wir sprechen heute über das neue Projekt.",
          "Am Freitag treffen wir uns wieder im Büro.")


def heard_words(script: str, text: str) -> int:
    """How many of the words in `text` the script has (counting repeats)."""
    spoken = Counter(words(script))
    return sum(min(n, spoken[w]) for w, n in Counter(words(text)).items())


def replaced_partials(results: list[TranscriptResult]) -> list[tuple[TranscriptResult, list[TranscriptResult]]]:
    """Each run of finals with the partial it replaced on screen, where that partial lies
    within the finals' time span (so both say the same words)."""
    pairs, shown, batch = [], None, []
    for result in [*results, None]:
        if result is not None and not result.is_partial:
            batch.append(result)
            continue
        if batch and shown is not None and batch[0].start_time - 0.5 <= shown.start_time \
                and shown.end_time <= batch[-1].end_time + 0.5:
            pairs.append((shown, batch))
        shown, batch = result, []
    return pairs


def test_a_final_is_never_worse_than_the_partial_it_replaces(tmp_path):
    speech = conversation([("A", "de", line) for line in GERMAN], tmp_path, pause=1.2)
    run = stream({"model": resolve_model("tiny.en", "de"), "language": "de"}, speech.audio, speed=1.0)
    pairs = replaced_partials([r for _, r in run.results])
    assert len(pairs) >= 2, run.results  # one per utterance at least
    for shown, finals in pairs:
        final_text = " ".join(r.text for r in finals)
        assert heard_words(speech.script, final_text) >= heard_words(speech.script, shown.text), (shown, finals)
    assert recall(speech.script, run.final_text) >= 0.7, run.final_text


VOCABULARY_SCRIPT = [
    ("Alice", "en-us", "We will ship Zorblax Quintara to the first customers next week."),
    ("Alice", "en-us", "The new dashboard of Zorblax Quintara shows every open ticket."),
    ("Alice", "en-us", "Please ask the Zorblax Quintara team about the license."),
]


def invented_name(text: str) -> int:
    return " ".join(words(text)).count("zorblax quintara")


def test_an_invented_name_is_recognised_with_the_vocabulary_and_not_without_it(tiny_en, tmp_path):
    speech = conversation(VOCABULARY_SCRIPT, tmp_path, pause=1.2)
    plain = stream({"model": tiny_en}, speech.audio, speed=None)
    given = stream({"model": tiny_en, "vocabulary": ["Zorblax Quintara", "Velmora"]}, speech.audio, speed=None)
    assert invented_name(plain.final_text) == 0, plain.final_text
    assert invented_name(given.final_text) >= 2, given.final_text
    assert recall(speech.script, given.final_text) >= recall(speech.script, plain.final_text) - 0.1
    path = tmp_path / "vocabulary.wav"
    with av.open(str(path), "w") as container:  # the file tier takes the same vocabulary
        out = container.add_stream("pcm_s16le", rate=RATE, layout="mono")
        frame = av.AudioFrame.from_ndarray((speech.audio * 32767).astype(np.int16).reshape(1, -1),
                                           format="s16", layout="mono")
        frame.sample_rate = RATE
        for packet in [*out.encode(frame), *out.encode(None)]:
            container.mux(packet)
    assert invented_name(" ".join(r.text for r in transcribe_file(path))) == 0
    assert invented_name(" ".join(r.text for r in transcribe_file(path, vocabulary=["Zorblax Quintara"]))) >= 2


class SlowModel:
    """The real model on a machine too busy to keep up: every pass takes `delay` longer."""

    def __init__(self, model, delay: float):
        self.model = model.model
        self._real = model
        self.delay = delay

    def transcribe(self, *args, **kwargs):
        time.sleep(self.delay)
        return self._real.transcribe(*args, **kwargs)


def test_far_behind_partials_pause_late_finals_are_left_to_the_after_meeting_pass(tiny_en, speech, monkeypatch):
    import recorder.transcriber as transcriber_module

    monkeypatch.setattr(transcriber_module, "SHED_AFTER", 3.0)  # seconds a final may wait
    scheduler = PassScheduler(1)
    behind, skipped = [], []
    try:
        run = stream({"model": SlowModel(tiny_en, 4.0), "scheduler": scheduler, "on_behind": behind.append,
                      "on_skipped": skipped.append}, speech.audio, speed=2.0)
    finally:
        scheduler.stop()
    stats = run.transcriber.stats
    assert max(behind) >= 4 and behind[-1] == 0.0, behind
    assert any("behind" in message for _, message in run.logs) and stats.paused + stats.replaced > 0
    assert stats.shed >= 1 and skipped and skipped[-1] == run.transcriber.skipped
    # a line is never lost: each is in a final or in a range left to the after-meeting pass
    for speaker, start, end in speech.spans:
        in_final = any(r.start_time < end and r.end_time > start for r in run.finals)
        in_skipped = any(a < end and b > start for a, b in run.transcriber.skipped)
        assert in_final or in_skipped, (speaker, start, end, run.finals, run.transcriber.skipped)


def test_transcribe_file_reads_a_compressed_recording(speech, tmp_path):
    path = tmp_path / "meeting.ogg"
    with av.open(str(path), "w") as container:
        out = container.add_stream("libopus", rate=48000, layout="mono")
        frame = av.AudioFrame.from_ndarray(speech.audio.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = RATE
        resampler = av.AudioResampler(format="s16", layout="mono", rate=48000)
        for resampled in resampler.resample(frame) + resampler.resample(None):
            for packet in out.encode(resampled):
                container.mux(packet)
        for packet in out.encode(None):
            container.mux(packet)
    results = transcribe_file(path)
    assert results and all(not r.is_partial and 0 < r.confidence <= 1 for r in results)
    assert recall(speech.script, " ".join(r.text for r in results)) >= 0.8
    assert all(0 <= r.start_time <= r.end_time <= speech.duration + 0.1 for r in results)


def test_transcribe_file_names_an_unreadable_file(tmp_path):
    path = tmp_path / "notes.mp3"
    path.write_text("this is not audio")
    with pytest.raises(MediaFileError, match="notes.mp3"):
        transcribe_file(path)


# --- the parts: speaker timeline and local agreement ---------------------------------------------

def test_speaker_timeline_picks_the_largest_overlap():
    timeline = SpeakerTimeline()
    timeline.set_speaker(10.0, "Bob")
    timeline.set_speaker(0.0, "Ann")  # arrives late, still sorted in
    timeline.set_speaker(12.0, None)
    assert timeline.speaker_for(-5.0, -1.0) is None
    assert timeline.speaker_for(9.5, 11.5) == "Bob"
    assert timeline.speaker_for(9.0, 10.5) == "Ann"
    assert timeline.speaker_for(11.0, 20.0) == "Bob"  # nobody after 12 s; Bob had the most
    assert timeline.speaker_for(13.0, 20.0) is None
    assert timeline.speaker_for(5.0, 5.0) == "Ann"


def test_speaker_timeline_takes_changes_from_another_thread():
    timeline = SpeakerTimeline()
    writer = threading.Thread(target=lambda: [timeline.set_speaker(i * 0.1, f"p{i % 3}") for i in range(3000)])
    writer.start()
    while writer.is_alive():
        timeline.speaker_for(0.0, 300.0)
    writer.join()
    assert timeline.speaker_for(100.0, 100.05) == "p1"


def w(text: str, start: float) -> Word:
    return Word(" " + text, start, start + 0.3, 0.9)


def test_local_agreement_commits_the_common_prefix_once():
    agreement = LocalAgreement()
    assert agreement.insert([w("good", 0.0), w("morning", 0.4), w("ever", 0.8)]) == []
    committed = agreement.insert([w("Good", 0.0), w("morning,", 0.4), w("everyone.", 0.8), w("To", 1.4)])
    assert [x.text for x in committed] == [" Good", " morning,"]  # the newer pass's spelling
    again = agreement.insert([w("good", 0.0), w("morning", 0.4), w("everyone.", 0.8), w("Today", 1.4)])
    assert [x.text for x in again] == [" everyone."]
    assert [x.text for x in agreement.uncommitted] == [" Today"]


def test_local_agreement_drops_a_repeat_at_the_seam():
    agreement = LocalAgreement()
    agreement.commit_all([w("we", 1.0), w("will", 1.4)])
    # timestamps of a new pass shifted: the repeated words start after the committed end
    assert [x.text for x in agreement.commit_all([w("will", 1.65), w("review", 2.0)])] == [" review"]


def test_committed_words_not_yet_final_can_be_decided_again():
    agreement = LocalAgreement()
    agreement.commit_all([w("Hello", 0.0), w("all.", 0.4)])  # shown as final
    agreement.insert([w("The", 1.0), w("normal", 1.4), w("team", 1.8)])
    assert [x.key for x in agreement.insert([w("The", 1.0), w("normal", 1.4), w("team", 1.8)])] == [
        "the", "normal", "team"]  # the quick passes agreed on a mishearing
    agreement.reopen([w("Hello", 0.0), w("all.", 0.4)])
    better = agreement.commit_all([w("all.", 0.45), w("The", 1.0), w("mobile", 1.4), w("team", 1.8)])
    assert [x.key for x in better] == ["the", "mobile", "team"]  # the final's seam repeat is dropped


def test_decodes_whisper_itself_would_reject_are_dropped():
    from types import SimpleNamespace

    from recorder.transcript_text import hallucinated as _hallucinated
    from recorder.transcript_text import words_from as _words_from

    word = SimpleNamespace(word=" video", start=0.0, end=0.5, probability=0.9)
    loop = SimpleNamespace(compression_ratio=3.1, no_speech_prob=0.1, avg_logprob=-0.2, words=[word])
    silence = SimpleNamespace(compression_ratio=1.2, no_speech_prob=0.9, avg_logprob=-1.4, words=[word])
    speech = SimpleNamespace(compression_ratio=1.3, no_speech_prob=0.1, avg_logprob=-0.3, words=[word])
    assert _hallucinated(loop) and _hallucinated(silence) and not _hallucinated(speech)
    assert [w.text for w in _words_from([loop, silence, speech], 10.0, 20.0)] == [" video"]
    # "thanks for watching" written after the speech: its words have no length, piled up at the end
    outro = SimpleNamespace(compression_ratio=1.4, no_speech_prob=0.8, avg_logprob=-0.99, words=[
        SimpleNamespace(word=w, start=9.98, end=9.98, probability=0.6) for w in (" Thanks", " for", " watching.")])
    assert not _hallucinated(outro)
    assert [w.text for w in _words_from([speech, outro], 10.0, 20.0)] == [" video"]


def test_whispers_stock_phrases_are_kept_only_when_said_with_confidence():
    from recorder.transcriber import _stock_phrase

    def final(text: str, confidence: float) -> TranscriptResult:
        return TranscriptResult(text, 1.0, 2.0, False, confidence, "en", None)

    assert _stock_phrase(final("Thank you.", 0.5)) and _stock_phrase(final(" thanks for watching!", 0.3))
    assert not _stock_phrase(final("Thank you.", 0.93))  # someone really said it
    assert not _stock_phrase(final("Thank you, that answers my question.", 0.4))


# --- utterance windows ---------------------------------------------------------------------------

def test_a_short_utterance_is_encoded_without_thirty_seconds_of_padding(tiny_en, tmp_path):
    text = "Welcome to the meeting. We start with the budget."
    audio = np.concatenate([speak(text, "en-us", tmp_path / "a.wav"), silence(0.5)])
    view = UtteranceWhisper(tiny_en)
    shapes = []
    full_encode = view._full_encode
    view._full_encode = lambda model, features: shapes.append(features.shape) or full_encode(model, features)
    segments, _ = view.transcribe(audio, language="en", beam_size=5, word_timestamps=True)
    assert shapes == [(80, encoder_frames(len(audio) / RATE))] and shapes[0][-1] <= 1000
    # the shared model itself still encodes whole 30 s windows (files, other sessions)
    plain, _ = tiny_en.transcribe(audio, language="en")
    windowed, whole = recall(text, " ".join(s.text for s in segments)), recall(text, " ".join(s.text for s in plain))
    assert whole >= 0.75 and windowed >= whole - 0.15, (segments, plain)
    assert encoder_frames(2.0) == 500 and encoder_frames(29.0) == encoder_frames(60.0) == 3000


def test_a_decode_that_repeats_itself_is_done_again_on_the_full_window(tiny_en):
    """Whisper's own looping test decides; the decode is stubbed to loop only on a short window."""
    view = UtteranceWhisper(tiny_en)
    seen = []

    def decode(audio, **options):
        seen.append((view._frames, options["temperature"]))
        looping = view._frames < 3000
        return iter([SimpleNamespace(text=" again" * 40, compression_ratio=9.0 if looping else 1.2)]), None

    view._view.transcribe = decode
    segments, _ = view.transcribe(silence(2.0), temperature=(0.0, 0.4), compression_ratio_threshold=2.4)
    assert seen == [(encoder_frames(2.0), 0.0), (3000, (0.0, 0.4))]
    assert segments[0].compression_ratio == 1.2


def test_the_passes_behind_a_transcript_are_counted_and_logged(tiny_en, tmp_path):
    audio = np.concatenate([speak("We will ship the new release on Friday morning.", "en-us", tmp_path / "a.wav"),
                            silence(1.0)])
    run = stream({"model": tiny_en}, audio, speed=2.0)
    stats = run.transcriber.stats
    assert stats.final == 1 and stats.partial >= 1 and stats.whisper_seconds > 0
    assert stats.audio_seconds >= len(audio) / RATE - 1.5  # the final pass alone covers the speech
    assert ("info", stats.summary()) in run.logs and "1 final" in stats.summary()
    assert stats.to_dict()["final_passes"] == 1


def test_a_session_about_to_record_has_its_live_model_loaded_ahead():
    from recorder.pipeline import PipelineConfig, load_ahead
    from recorder.transcriber import live_model_loaded

    config = PipelineConfig(model="tiny.en", language="en")
    load_ahead(config)
    assert live_model_loaded(resolve_model("tiny.en", "en"))
    assert load_ahead(config) is False   # loaded once per process: the next session finds it
    assert load_ahead(PipelineConfig(transcription_enabled=False, model="no-such-model")) is False
    # A model that cannot be had is left for the pipeline's start, which says why in the log.
    assert load_ahead(PipelineConfig(model="no-such-model")) is False
