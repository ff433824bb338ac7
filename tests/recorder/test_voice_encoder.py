"""The voice encoder with the real weights the resemblyzer package ships, on espeak-ng voices."""
from __future__ import annotations

import hashlib
import pickle
import struct
import subprocess
import threading

import numpy as np
import pytest

from recorder.voices.clustering import cluster_voices, label_voices
from recorder.voices.encoder import EMBEDDING_SIZE, VoiceEncoder, mel_spectrogram
from recorder.voices.weights import CHECKPOINT_SHA256, VoiceModelError, checkpoint_path, load_checkpoint
from tests.recorder.test_transcriber import speak

VOICES = ("en-us+m3", "en+f2", "en+m7")
SENTENCES = (
    "Good morning everyone, today we review the quarterly budget.",
    "The marketing numbers look strong this year.",
    "I will send the agenda to the whole team before Friday.",
)


@pytest.fixture(scope="module")
def encoder() -> VoiceEncoder:
    return VoiceEncoder.load()


@pytest.fixture(scope="module")
def spoken(tmp_path_factory) -> list[tuple[int, np.ndarray]]:
    """(voice number, 16 kHz samples): every voice says every sentence."""
    folder = tmp_path_factory.mktemp("voices")
    return [(v, speak(text, voice, folder / f"{v}_{s}.wav"))
            for v, voice in enumerate(VOICES) for s, text in enumerate(SENTENCES)]


def test_one_voice_saying_different_things_is_closer_than_two_voices(encoder, spoken):
    embeddings = encoder.embed([audio for _, audio in spoken])
    assert embeddings.shape == (len(spoken), EMBEDDING_SIZE)
    assert np.allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)
    voices = np.array([v for v, _ in spoken])
    similarity = embeddings @ embeddings.T
    same = similarity[(voices[:, None] == voices[None]) & ~np.eye(len(voices), dtype=bool)]
    different = similarity[voices[:, None] != voices[None]]
    assert same.min() > different.max() + 0.05


def test_the_number_of_voices_is_estimated_and_each_line_grouped_with_its_voice(encoder, spoken):
    order = [4, 0, 8, 2, 6, 1, 5, 3, 7]  # the voices take turns
    embeddings = encoder.embed([spoken[i][1] for i in order])
    labels = cluster_voices(embeddings)
    truth = [spoken[i][0] for i in order]
    assert labels[0] == 0 and max(labels) == len(VOICES) - 1
    assert all((a == b) == (x == y) for a, x in zip(labels, truth) for b, y in zip(labels, truth))


def test_a_short_line_joins_the_voice_it_sounds_like(encoder, spoken, tmp_path):
    short = speak("Yes.", VOICES[1], tmp_path / "yes.wav")
    embeddings = encoder.embed([audio for _, audio in spoken] + [short])
    labels = label_voices(embeddings, [True] * len(spoken) + [False])
    assert labels[-1] == labels[len(SENTENCES)]  # the second voice's first line


def test_a_tone_lands_in_the_mel_channel_of_its_pitch():
    rate, seconds = 16000, 0.5
    t = np.arange(int(rate * seconds)) / rate
    low = mel_spectrogram(np.sin(2 * np.pi * 300 * t).astype(np.float32)).mean(axis=0)
    high = mel_spectrogram(np.sin(2 * np.pi * 3000 * t).astype(np.float32)).mean(axis=0)
    assert mel_spectrogram(np.zeros(rate, np.float32)).shape == (101, 40)
    assert int(np.argmax(low)) < 10 < 25 < int(np.argmax(high))


def test_altered_weights_are_refused(tmp_path):
    data = bytearray(checkpoint_path().read_bytes())
    data[-1] ^= 0xFF
    altered = tmp_path / "pretrained.pt"
    altered.write_bytes(bytes(data))
    with pytest.raises(VoiceModelError, match="not the expected file"):
        load_checkpoint(altered)


def test_a_weights_file_that_would_run_code_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (subprocess.call, (["touch", str(marker)],))

    crafted = tmp_path / "crafted.pt"
    with crafted.open("wb") as file:
        for part in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}, {"model_state": Payload()}, []):
            pickle.dump(part, file, protocol=2, fix_imports=False)
        file.write(struct.pack("<q", 0))
    with pytest.raises(VoiceModelError, match="refusing subprocess.call"):
        load_checkpoint(crafted, sha256=hashlib.sha256(crafted.read_bytes()).hexdigest())
    assert not marker.exists()


def test_the_pinned_checkpoint_is_the_installed_one():
    weights = load_checkpoint(checkpoint_path(), CHECKPOINT_SHA256)
    assert weights["lstm.weight_ih_l0"].shape == (1024, 40)
    assert weights["linear.weight"].shape == (256, 256)


def test_embedding_a_recording_stops_when_asked(encoder, tmp_path):
    from recorder.offline_transcription import TranscriptionCancelled, recorded_audio
    from recorder.voices.recording import span_voices
    from tests.app.test_refine_helpers import write_wav

    audio = speak(SENTENCES[0], VOICES[0], tmp_path / "line.wav")
    folder = tmp_path / "recording"
    folder.mkdir()
    write_wav(folder / "audio_0000.ogg", audio)  # a WAV body decodes as well as Opus
    parts = recorded_audio(folder)
    voices = span_voices(parts, [(0.0, len(audio) / 16000), (0.0, 0.5)], encoder)
    assert voices.reliable == [True, False] and voices.embeddings.shape == (2, EMBEDDING_SIZE)
    assert float(voices.embeddings[0] @ encoder.embed([audio])[0]) > 0.99  # the span is the line
    stop = threading.Event()
    stop.set()
    with pytest.raises(TranscriptionCancelled):
        span_voices(parts, [(0.0, 1.0)], encoder, stop)
