"""Live transcription through the recording pipeline alone (no bot): a speech file of known
sentences played in real time into RecordingPipeline with tiny.en, then the same file
through plain faster-whisper (`transcribe_file`).

Figures: lag from the end of each sentence to its final (a sentence that never gets one
counts with the time it had waited when the run ended), from its start to its first text,
compute per audio second live and offline, the word error rate of both, and how often
invented names come out spelled right with a vocabulary and without (bench/vocabulary_hits.py).
"""
from __future__ import annotations

import bisect
import statistics
import tempfile
import time
from pathlib import Path

from bench.figures import BenchResult, Figure, Mode, at_most
from bench.lag import Heard, Utterance, measure_lags
from bench.recording import MODEL, PipelineRun, run_pipeline
from bench.speech_script import SpeechFile, build_speech_file
from bench.vocabulary_hits import measure_hits
from bench.wer import word_error_rate
from recorder.transcriber import load_live_model, transcribe_file
from recorder.whisper_models import resolve_model


def utterances(run: PipelineRun, speech: SpeechFile) -> list[Utterance]:
    origin = run.fed[0].start  # session time of the file's first sample
    base = run.clock.started_at
    ends = [chunk.end for chunk in run.fed]

    def fed_at(session_time: float) -> float:
        """When the chunk holding `session_time` reached the pipeline."""
        return run.fed[min(bisect.bisect_left(ends, session_time), len(ends) - 1)].at

    return [Utterance(s.text, base + origin + s.start, base + origin + s.end,
                      fed_at(origin + s.start + 1e-3), fed_at(origin + s.end))
            for s in speech.sentences]


def heard(run: PipelineRun) -> list[Heard]:
    base = run.clock.started_at
    return [Heard(r.text, base + r.start_time, base + r.end_time, r.is_partial, arrived)
            for r, arrived in run.results]


def live_text(run: PipelineRun) -> str:
    finals = sorted((r for r, _ in run.results if not r.is_partial), key=lambda r: r.start_time)
    return " ".join(r.text for r in finals)


def measure(mode: Mode) -> BenchResult:
    seconds = mode.pick(full=300, quick=48, smoke=6)
    offline_runs = mode.pick(full=3, quick=2, smoke=1)
    model = load_live_model(resolve_model(MODEL))  # loaded before anything is timed, as a warm app has it
    with tempfile.TemporaryDirectory(prefix="mb-bench-pipeline-") as tmp:
        speech = build_speech_file(Path(tmp) / "speech.wav", seconds)
        run = run_pipeline(speech.path, Path(tmp) / "recording", transcribe=True, screen=False)
        lags = measure_lags(utterances(run, speech), heard(run), taken_at=time.monotonic())
        offline_cpu, offline_text = [], ""
        for _ in range(offline_runs):
            cpu0 = time.process_time()
            offline_text = " ".join(r.text for r in transcribe_file(speech.path, model=MODEL))
            offline_cpu.append(time.process_time() - cpu0)

    with_terms, without_terms = measure_hits(model)
    live_rtf = run.cpu_seconds / speech.duration
    offline_rtf = [cpu / speech.duration for cpu in offline_cpu]
    offline_median = statistics.median(offline_rtf)
    wer_live = word_error_rate(speech.text, live_text(run))
    wer_offline = word_error_rate(speech.text, offline_text)
    sentences = f"{len(speech.sentences)} sentences, {speech.duration:.0f} s of espeak-ng speech"
    missed = (f"; {len(lags.missed)} sentence(s) never got a final, counted with the time they had waited"
              if lags.missed else "")
    figures = [
        Figure("transcript_lag_s", "s", lags.final_lags, at_most(median=2.0, p95=4.0),
               f"pipeline alone, per sentence: its last sound fed -> its final ({sentences}{missed})",
               {"transcript_lag_p50_s": "median", "transcript_lag_p95_s": "p95"}),
        Figure("partial_lag_s", "s", lags.first_text_lags, (),
               "per sentence: its first sound fed -> the first text covering it",
               {"partial_lag_p50_s": "median"}),
        Figure("transcribe_rtf", "cpu s/audio s", [live_rtf], (),
               "live pipeline (VAD, whisper passes, Opus segments): process CPU / audio seconds, 1 run"),
        Figure("offline_rtf", "cpu s/audio s", offline_rtf, (),
               f"transcribe_file on the same audio: process CPU / audio seconds, {offline_runs} run(s)"),
        Figure("live_vs_offline_compute", "x", [live_rtf / offline_median], at_most(median=2.0),
               "transcribe_rtf / median offline_rtf"),
        Figure("wer_live", "ratio", [wer_live], (), "live finals against the script"),
        Figure("wer_offline", "ratio", [wer_offline], (), "transcribe_file against the script"),
        Figure("wer_live_vs_offline", "x", [wer_live / wer_offline if wer_offline else
                                            (1.0 if wer_live == 0 else 99.0)], at_most(median=1.10),
               "wer_live / wer_offline (1.10 = live 10% worse)"),
        Figure("vocabulary_hit_rate", "ratio", [with_terms.rate], (),
               f"live finals spelling each of {with_terms.terms} invented names right, the names given as "
               "the vocabulary"),
        Figure("vocabulary_hit_rate_without", "ratio", [without_terms.rate], (),
               "the same without the vocabulary"),
    ]
    details = {
        "audio_seconds": round(speech.duration, 3),
        "live_cpu_seconds": round(run.cpu_seconds, 3),
        "live_wall_seconds": round(run.wall_seconds, 3),
        "finish_seconds": round(run.finish_seconds, 3),
        "offline_cpu_seconds": [round(c, 3) for c in offline_cpu],
        "whisper_passes": run.transcription,
        "results": {"finals": sum(not r.is_partial for r, _ in run.results),
                    "partials": sum(r.is_partial for r, _ in run.results)},
        "lag": lags.to_dict(),
        "warnings": [m for level, m in run.logs if level != "info"],
        "live_text": live_text(run),
        "offline_text": offline_text,
        "vocabulary_text": {"with": with_terms.text, "without": without_terms.text},
    }
    return BenchResult(figures, details)
