"""Voices told apart in the after-meeting pass: who said each line, by the sound of the voice.

- "Record this computer": the system sound ("others") may hold several people. Its lines
  are grouped by voice and named "Speaker 1", "Speaker 2", ... in order of first appearance;
  the microphone's lines stay "you".
- A bot session: the meeting page's speaking indicator names the speaker. Each voice takes
  the name the indicator gives most of its lines; where the indicator shows nobody or is
  ambiguous (two people shown for much of the line) the voice decides, elsewhere the
  indicator stays, and each stretch where the two disagree is logged once.

Lines are grouped within the session only; nothing about a voice is kept after the pass.
"""
from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from app.export import format_timestamp
from app.models import LOCAL_PLATFORM, Session

if TYPE_CHECKING:
    from app.sessions import SessionManager
    from recorder.offline_transcription import AudioPart
    from recorder.speakers import SpeakerTimeline
    from recorder.transcript_text import TranscriptResult

OTHERS = "others"  # the system-sound channel of a device mix
VOICE_NAME = "Speaker {number}"
CLEAR_SHARE = 2 / 3  # the indicator is clear on a line when one name holds this share of its shown time


@dataclass(frozen=True)
class _Verdict:
    indicator: str | None  # the name shown, when it was clear
    voice: str  # the name the voice takes


def told_apart(manager: SessionManager, session: Session, parts: list[AudioPart],
               results: list[TranscriptResult], timeline: SpeakerTimeline | None,
               cancelled: threading.Event | None = None) -> list[TranscriptResult]:
    """`results` with speakers decided by voice as the module says; unchanged (and the reason
    logged) when the voice encoder is not installed."""
    from recorder.voices.clustering import label_voices
    from recorder.voices.encoder import VoiceEncoder
    from recorder.voices.recording import span_voices
    from recorder.voices.weights import VoiceModelError

    device = session.platform == LOCAL_PLATFORM
    chosen = [i for i, r in enumerate(results) if r.speaker == OTHERS] if device else list(range(len(results)))
    if not chosen:
        return results
    try:
        encoder = VoiceEncoder.load()
    except VoiceModelError as exc:
        manager.log(session.session_id, "warning", f"Voices are not told apart: {exc.message}")
        return results
    voices = span_voices(parts, [(results[i].start_time, results[i].end_time) for i in chosen], encoder, cancelled)
    labels = label_voices(voices.embeddings, voices.reliable)
    if device:
        names = {i: VOICE_NAME.format(number=label + 1) for i, label in zip(chosen, labels)}
        manager.log(session.session_id, "info", f"Voices told apart in the system sound: {max(labels) + 1}")
    else:
        names = _cross_check(manager, session.session_id, [results[i] for i in chosen], labels, timeline)
        names = {chosen[k]: name for k, name in names.items()}
    return [replace(r, speaker=names[i]) if i in names else r for i, r in enumerate(results)]


def _cross_check(manager: SessionManager, session_id: str, lines: Sequence[TranscriptResult],
                 labels: list[int], timeline: SpeakerTimeline | None) -> dict[int, str]:
    """The speaker of each line of a bot session: the indicator's where it is clear, the
    voice's elsewhere; disagreements logged once per stretch."""
    shown = [_clear_name(timeline, line) for line in lines]
    votes: dict[int, Counter[str]] = {}
    for label, name in zip(labels, shown):
        if name is not None:
            votes.setdefault(label, Counter())[name] += 1
    voice_names: dict[int, str] = {}
    unnamed = 0
    for label in sorted(set(labels)):
        if label in votes:
            voice_names[label] = votes[label].most_common(1)[0][0]
        else:
            unnamed += 1
            voice_names[label] = VOICE_NAME.format(number=unnamed)
    verdicts = [_Verdict(name, voice_names[label]) for name, label in zip(shown, labels)]
    _log_disagreements(manager, session_id, lines, verdicts)
    return {k: verdict.indicator or verdict.voice for k, verdict in enumerate(verdicts)}


def _clear_name(timeline: SpeakerTimeline | None, line: TranscriptResult) -> str | None:
    """The name the indicator showed over the line when one name clearly dominates; None
    when it showed nobody or two people alike."""
    shares = timeline.shares(line.start_time, line.end_time) if timeline is not None else {}
    if not shares:
        return None
    name = max(shares, key=shares.__getitem__)
    total = sum(shares.values())
    return name if total <= 0 or shares[name] >= CLEAR_SHARE * total else None


def _log_disagreements(manager: SessionManager, session_id: str, lines: Sequence[TranscriptResult],
                       verdicts: list[_Verdict]) -> None:
    """One log entry per stretch of consecutive lines where indicator and voice name
    different people (or the indicator was unclear and the voice decided otherwise); lines
    the indicator showed nobody for are no disagreement."""
    stretch: list[int] = []

    def flush() -> None:
        if stretch:
            first, last = lines[stretch[0]], lines[stretch[-1]]
            verdict = verdicts[stretch[0]]
            when = f"{format_timestamp(first.start_time, '.')}-{format_timestamp(last.end_time, '.')}"
            if verdict.indicator is not None:
                text = (f"{when}: the speaking indicator showed {verdict.indicator} but the voice is "
                        f"{verdict.voice}'s; the indicator is kept")
            else:
                text = f"{when}: the speaking indicator was unclear; the voice says {verdict.voice}"
            manager.log(session_id, "info", text, start_time=first.start_time, end_time=last.end_time,
                        indicator=verdict.indicator, voice=verdict.voice)
            stretch.clear()

    for index, (line, verdict) in enumerate(zip(lines, verdicts)):
        unclear = verdict.indicator is None and line.speaker is not None  # shown, but not clearly
        differs = (verdict.indicator or (line.speaker if unclear else verdict.voice)) != verdict.voice
        if not differs or (stretch and verdicts[stretch[-1]] != verdict):
            flush()
        if differs:
            stretch.append(index)
    flush()
