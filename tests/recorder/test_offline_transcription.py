"""The after-meeting pass's recorder side: segment files placed on the session clock, long
recordings cut into blocks at quiet moments, speakers by turns, the facts a session keeps
while recording (where the audio begins, which channel of a mix speaks), and the rule that
picks the model. Real Ogg/Opus files, real faster-whisper (tiny.en) on espeak-ng speech."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from recorder import offline_transcription as offline
from recorder.audio.base import AudioChunk, AudioSource
from recorder.audio.tap import TappedAudioSource
from recorder.channel_activity import ChannelActivity
from recorder.clock import SessionClock
from recorder.local_agreement import Word
from recorder.offline_transcription import (
    AudioPart,
    NoRecordedAudio,
    TranscriptionCancelled,
    recorded_audio,
    transcribe_recording,
)
from recorder.refine_models import DEADLINE_RTF, choose_refine_model, expected_rtf
from recorder.segments import SegmentWriter
from recorder.speakers import SpeakerTimeline
from recorder.whisper_models import ModelState, load_whisper, resolve_model
from tests.recorder.test_transcriber import CONVERSATION, conversation, recall

RATE = 16000


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    return conversation(CONVERSATION, tmp_path_factory.mktemp("speech"))


@pytest.fixture(scope="module")
def tiny_en():
    return load_whisper(resolve_model("tiny.en"), cpu_threads=2)


def write_recording(folder, audio: np.ndarray, *, start: float, rotate: float) -> list[AudioPart]:
    writer = SegmentWriter(folder, rotate_seconds=rotate, video=False)
    for offset in range(0, len(audio), 1600):
        writer.write_audio(AudioChunk(audio[offset:offset + 1600], start + offset / RATE))
    writer.close()
    return recorded_audio(folder, start=start, segment_seconds=rotate)


def joined(parts: list[AudioPart]) -> tuple[float, np.ndarray]:
    blocks = list(offline.recording_blocks(parts, threading.Event()))
    return blocks[0][0], np.concatenate([samples for _, samples in blocks])


def test_segment_files_are_placed_where_the_writer_began_them(tmp_path):
    tone = (0.2 * np.sin(2 * np.pi * 300 * np.arange(int(30 * RATE)) / RATE)).astype(np.float32)
    parts = write_recording(tmp_path, tone, start=3.25, rotate=10.0)
    assert [(p.path.name, p.start) for p in parts] == [("audio_0001.ogg", 3.25), ("audio_0002.ogg", 10.0),
                                                       ("audio_0003.ogg", 20.0), ("audio_0004.ogg", 30.0)]
    start, audio = joined(parts)
    assert start == 3.25
    assert abs(len(audio) - len(tone)) <= RATE // 100  # within 10 ms over four files


def test_a_missing_file_leaves_silence_and_keeps_later_times(tmp_path):
    burst = np.zeros(int(30 * RATE), np.float32)
    burst[int(25 * RATE):int(26 * RATE)] = 0.3  # one loud second at recording time 25 s
    parts = write_recording(tmp_path, burst, start=0.0, rotate=10.0)
    (tmp_path / "audio_0002.ogg").unlink()
    start, audio = joined(recorded_audio(tmp_path, start=0.0, segment_seconds=10.0))
    loud = np.flatnonzero(np.abs(audio) > 0.1)
    assert start == 0.0 and abs(loud[0] / RATE - 25.0) < 0.05
    assert len(parts) == 3


def test_recordings_without_kept_facts_are_read_back_to_back(tmp_path):
    parts = write_recording(tmp_path, np.full(int(12 * RATE), 0.1, np.float32), start=4.0, rotate=5.0)
    legacy = recorded_audio(tmp_path)
    assert [p.start for p in legacy] == [0.0, None, None, None]
    start, audio = joined(legacy)
    assert start == 0.0 and abs(len(audio) / RATE - 12.0) < 0.05 and len(parts) == 4


def test_a_folder_without_audio_that_decodes_is_refused(tmp_path):
    with pytest.raises(NoRecordedAudio):
        recorded_audio(tmp_path)
    (tmp_path / "audio_0001.ogg").write_bytes(b"OggS" + bytes(60))
    with pytest.raises(NoRecordedAudio):
        joined(recorded_audio(tmp_path))


def test_long_recordings_are_cut_at_quiet_moments_and_keep_their_words(tmp_path, speech, tiny_en, monkeypatch):
    """Blocks of 12 s (instead of ten minutes) cut the conversation: every cut falls where
    nobody speaks, and no word is lost at a cut."""
    monkeypatch.setattr(offline, "BLOCK_SECONDS", 12.0)
    monkeypatch.setattr(offline, "CUT_SEARCH_SECONDS", 5.0)
    parts = write_recording(tmp_path, speech.audio, start=1.0, rotate=300.0)
    blocks = list(offline.recording_blocks(parts, threading.Event()))
    assert len(blocks) >= 2 and all(len(samples) <= 12 * RATE for _, samples in blocks)
    for block_start, _ in blocks[1:]:
        at = round((block_start - 1.0) * RATE)
        around = speech.audio[at - RATE // 10: at + RATE // 10]
        assert np.sqrt(np.mean(around ** 2)) < 0.005, f"a block starts at {block_start:.2f} s, in speech"
    results = transcribe_recording(parts, tiny_en)
    assert recall(speech.script, " ".join(r.text for r in results)) >= 0.8
    assert all(1.0 <= r.start_time <= r.end_time <= 1.0 + speech.duration + 0.5 for r in results)


def test_progress_rises_to_the_end_and_a_cancel_stops_between_windows(tmp_path, speech, tiny_en):
    parts = write_recording(tmp_path, speech.audio, start=0.0, rotate=300.0)
    shares: list[float] = []
    transcribe_recording(parts, tiny_en, progress=shares.append)
    assert shares == sorted(shares) and shares[-1] == 1.0 and shares[0] < 1.0
    cancel = threading.Event()
    with pytest.raises(TranscriptionCancelled):
        transcribe_recording(parts, tiny_en, progress=lambda share: cancel.set(), cancelled=cancel)


def w(text: str, start: float) -> Word:
    return Word(text, start, start + 0.3, 0.9)


def test_a_sentence_is_split_between_speakers_only_where_both_say_enough():
    timeline = SpeakerTimeline()
    timeline.set_speaker(0.0, "Alice")
    timeline.set_speaker(2.0, "Bob")
    words = [w(" I", 1.8), w(" think", 2.2), w(" so", 2.6), w(" too,", 3.0), w(" really.", 3.4)]
    assert [len(t) for t in offline._turns(words, timeline)] == [5]  # "I" leaked from the change
    long = [w(" We", 0.2), w(" agree", 0.6), w(" on", 1.0), w(" this", 1.4), *words[1:]]
    assert [[x.text for x in t] for t in offline._turns(long, timeline)] == [
        [" We", " agree", " on", " this"], [" think", " so", " too,", " really."]]
    assert offline._turns(words, None) == [words]


def chunk(channel: str, start: float, level: float, seconds: float = 0.1) -> AudioChunk:
    return AudioChunk(np.full(int(seconds * RATE), level, np.float32), start, channel)


def test_the_louder_channel_of_a_mix_is_kept_as_the_speaker():
    changes: list[tuple[float, str]] = []
    activity = ChannelActivity(lambda time, name: changes.append((time, name)))
    for step in range(60):  # 6 s: you speak, a pause, others speak; each channel hears the other faintly
        t = step * 0.1
        you, others = (0.2, 0.01) if t < 2 else (0.001, 0.001) if t < 3.5 else (0.02, 0.3)
        activity.add(chunk("you", t, you))
        activity.add(chunk("others", t, others))
    activity.flush()
    assert changes == [(0.0, "you"), (3.5, "others")]


def test_a_tapped_source_passes_every_chunk_on_and_survives_its_observer():
    class Chunks(AudioSource):
        def __init__(self) -> None:
            super().__init__(queue_size=10)

        def start(self, clock: SessionClock) -> None:
            for i in range(3):
                self._offer(chunk("you", i * 0.1, 0.1))
            self._finish()

        def stop(self) -> None:
            pass

    seen: list[float] = []
    logs: list[tuple[str, str]] = []

    def observe(c: AudioChunk) -> None:
        seen.append(c.start_time)
        raise RuntimeError("broken observer")

    tapped = TappedAudioSource(Chunks(), observe)
    tapped.on_log = lambda level, message: logs.append((level, message))
    tapped.start(SessionClock())
    read = []
    while (c := tapped.read(timeout=1)) is not None:
        read.append(c.start_time)
    assert read == seen == [0.0, 0.1, 0.2] and tapped.finished
    assert len(logs) == 1 and "broken observer" in logs[0][1]


def states(*names: str) -> list[ModelState]:
    return [ModelState(name, True, "package", not name.endswith(".en")) for name in names]


def test_the_refine_model_is_the_best_installed_one_fast_enough():
    assert choose_refine_model("en", states("tiny.en", "base")) == "base"
    assert choose_refine_model("en", states("tiny.en")) == "tiny.en"
    assert choose_refine_model("de", states("tiny.en", "base")) == "base"
    assert choose_refine_model("en", states("tiny.en", "base", "medium.en")) == "base"  # too slow on 2 cores
    assert expected_rtf("tiny.en") < expected_rtf("base") <= DEADLINE_RTF < expected_rtf("medium.en")
    assert choose_refine_model("en", []) == "tiny.en" and choose_refine_model("fr", []) == "base"


def test_each_block_is_prompted_with_the_previous_words_and_the_vocabulary(tmp_path, speech, tiny_en, monkeypatch):
    """The prompt of every block: the end of the block before it, then the names to spell."""
    monkeypatch.setattr(offline, "BLOCK_SECONDS", 12.0)
    monkeypatch.setattr(offline, "CUT_SEARCH_SECONDS", 5.0)
    parts = write_recording(tmp_path, speech.audio, start=0.0, rotate=300.0)
    prompts: list[str | None] = []

    class Recording:
        def transcribe(self, audio, **options):
            prompts.append(options["initial_prompt"])
            return tiny_en.transcribe(audio, **options)

    results = transcribe_recording(parts, Recording(), vocabulary=("Quintara", "Zorblax"))  # type: ignore[arg-type]
    assert len(prompts) >= 2 and prompts[0] == "Quintara, Zorblax."
    first_block_words = prompts[1].removesuffix(" Quintara, Zorblax.")
    assert first_block_words and first_block_words in " ".join(r.text for r in results)
