"""The after-meeting pass ("refine") per installed model: a meeting script rendered by espeak-ng
is recorded into Ogg/Opus segment files as a session records it, then transcribed again by
the pass the app runs (recorder.offline_transcription) and, for comparison, by plain
faster-whisper (`transcribe_file`, what `meeting-buddy transcribe` runs) on the same
recorded audio with the same model.

Figures: `refine_rtf_<model>` (wall seconds per audio second on this machine's cores; the
rule that picks the refine model wants at most 1/3 on 2 cores: an hour within 20 minutes),
`refine_wer_vs_offline_<model>` and the headline `refine_wer_vs_offline`, the worst of them
(refined WER / `transcribe` WER; at most 1.02).
"""
from __future__ import annotations

import tempfile
import time
import wave
from pathlib import Path

import numpy as np

from bench.figures import BenchResult, Figure, Mode, at_most
from bench.speech_script import build_speech_file
from bench.wer import word_error_rate
from recorder.audio.base import SAMPLE_RATE, AudioChunk
from recorder.offline_transcription import _decode, load_refine_model, recorded_audio, transcribe_recording
from recorder.refine_models import DEADLINE_RTF
from recorder.segments import SegmentWriter
from recorder.transcriber import transcribe_file
from recorder.whisper_models import ModelNotAvailable, resolve_model

MODELS = ("tiny.en", "base")  # the models the project installs
START = 2.0  # session seconds where the recording's audio begins, as after a bot's join


def record(speech: Path, folder: Path, segment_seconds: float) -> tuple[list, np.ndarray]:
    """The speech written as a session writes it; returns the parts and the recorded audio."""
    from faster_whisper import decode_audio

    audio = decode_audio(str(speech), sampling_rate=SAMPLE_RATE)
    writer = SegmentWriter(folder, rotate_seconds=segment_seconds, video=False)
    step = SAMPLE_RATE // 10
    for offset in range(0, len(audio), step):
        writer.write_audio(AudioChunk(audio[offset:offset + step], START + offset / SAMPLE_RATE))
    writer.close()
    parts = recorded_audio(folder, start=START, segment_seconds=segment_seconds)
    return parts, np.concatenate([_decode(part.path) for part in parts])


def write_wav(path: Path, audio: np.ndarray) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes((np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16).tobytes())
    return path


def measure(mode: Mode) -> BenchResult:
    seconds = mode.pick(full=300, quick=45, smoke=6)
    segment_seconds = mode.pick(full=120.0, quick=20.0, smoke=5.0)
    figures: list[Figure] = []
    details: dict = {"models": {}}
    ratios: list[float] = []
    with tempfile.TemporaryDirectory(prefix="mb-bench-refine-") as tmp:
        speech = build_speech_file(Path(tmp) / "speech.wav", seconds)
        parts, recorded = record(speech.path, Path(tmp) / "recording", segment_seconds)
        recording_wav = write_wav(Path(tmp) / "recording.wav", recorded)
        audio_seconds = len(recorded) / SAMPLE_RATE
        details.update(audio_seconds=round(audio_seconds, 3), segment_files=len(parts),
                       sentences=len(speech.sentences))
        for name in MODELS:
            try:
                resolved = resolve_model(name)
            except ModelNotAvailable as exc:
                details["models"][name] = {"skipped": exc.message}
                continue
            whisper = load_refine_model(resolved)  # loaded before timing, as a warm app has it
            wall0, cpu0 = time.perf_counter(), time.process_time()
            refined = transcribe_recording(parts, whisper)
            wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
            offline = transcribe_file(recording_wav, model=name)
            wer_refined = word_error_rate(speech.text, " ".join(r.text for r in refined))
            wer_offline = word_error_rate(speech.text, " ".join(r.text for r in offline))
            ratio = wer_refined / wer_offline if wer_offline else (1.0 if wer_refined == 0 else 99.0)
            ratios.append(ratio)
            figures += [
                Figure(f"refine_rtf_{name}", "wall s/audio s", [wall / audio_seconds], at_most(median=DEADLINE_RTF),
                       f"the pass over {audio_seconds:.0f} s in {len(parts)} segment files, model loaded; "
                       "1/3: an hour within 20 minutes"),
                Figure(f"refine_wer_vs_offline_{name}", "x", [ratio], at_most(median=1.02),
                       f"refined WER {wer_refined:.4f} / transcribe WER {wer_offline:.4f} on the recorded audio"),
            ]
            details["models"][name] = {
                "wall_seconds": round(wall, 3), "cpu_seconds": round(cpu, 3),
                "cpu_rtf": round(cpu / audio_seconds, 4), "wer_refined": round(wer_refined, 4),
                "wer_transcribe": round(wer_offline, 4),
                "wer_transcribe_source_wav": round(word_error_rate(
                    speech.text, " ".join(r.text for r in transcribe_file(speech.path, model=name))), 4),
                "refined_text": " ".join(r.text for r in refined),
            }
    if ratios:
        figures.append(Figure("refine_wer_vs_offline", "x", [max(ratios)], at_most(median=1.02),
                              f"the worst refine_wer_vs_offline_<model> of {', '.join(details['models'])}"))
    return BenchResult(figures, details)
