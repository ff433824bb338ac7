"""Meeting notes with the shipped small model (gemma-3-270m, Q4_K_M) on this machine's cores:
a made-up meeting transcript of an hour (quick: 10 minutes; smoke: one minute), stored as a
session, turned into notes by the local back-end the app uses (map-reduce over chunks that
fit the model's context, JSON-schema-constrained answers).

Figures: `notes_seconds_per_meeting_hour` (wall seconds of making the notes, model loaded,
per hour of meeting; at most 600 on 2 cores: an hour's notes within ten minutes),
`notes_model_load_seconds`, and `notes_linked_items` (the share of action items whose
transcript line exists: always 1 by construction, checked here on the real model's output).
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

from app.models import LOCAL_PLATFORM, LOCAL_RECORDING_LINK, Session, Status, TranscriptSegment
from app.notes.backends import LocalBackend
from app.notes.engine import make_notes
from app.notes.local_models import SMALL
from app.store import Store
from bench.figures import BenchResult, Figure, Mode, at_least, at_most

SECONDS_PER_LINE = 8.0  # about 20 spoken words
TOPICS = ("the budget", "the hiring plan", "the release date", "the customer survey", "the office move",
          "the security review")
PEOPLE = ("Alice", "Bob", "Carol", "Dan")


def meeting_lines(seconds: float) -> list[tuple[str, str]]:
    """A meeting of `seconds`: each topic gets discussion, a decision, a commitment with a
    deadline and a question, in turn, by four speakers."""
    lines: list[tuple[str, str]] = []
    count = int(seconds / SECONDS_PER_LINE)
    for n in range(count):
        topic, who = TOPICS[(n // 12) % len(TOPICS)], PEOPLE[n % len(PEOPLE)]
        beat = n % 12
        if beat == 4:
            text = f"We agreed to move forward with {topic} as proposed and review it next month."
        elif beat == 7:
            text = f"I will prepare a short written summary of {topic} for everyone by Friday."
        elif beat == 10:
            text = f"Do we know who has the final say on {topic} if the numbers change again?"
        else:
            text = (f"On {topic}, point {n}: the figures we have so far look reasonable, and I think the team "
                    "can live with the current plan.")
        lines.append((who, text))
    return lines


def stored_session(store: Store, lines: list[tuple[str, str]]) -> str:
    session = Session.create(meeting_link=LOCAL_RECORDING_LINK, platform=LOCAL_PLATFORM)
    session.transition(Status.LEAVING)
    session.transition(Status.COMPLETED, end_reason="STOP_REQUESTED")
    store.save_session(session)
    for n, (who, text) in enumerate(lines):
        store.add_transcript(TranscriptSegment.create(session.session_id, text, n * SECONDS_PER_LINE,
                                                      (n + 1) * SECONDS_PER_LINE - 0.5, speaker=who))
    return session.session_id


def measure(mode: Mode) -> BenchResult:
    seconds = mode.pick(full=3600.0, quick=600.0, smoke=60.0)
    lines = meeting_lines(seconds)
    with tempfile.TemporaryDirectory(prefix="mb-bench-notes-") as tmp:
        store = Store(Path(tmp))
        try:
            sid = stored_session(store, lines)
            segments = store.transcripts(sid)
            load0 = time.perf_counter()
            backend = LocalBackend(SMALL)
            load = time.perf_counter() - load0
            calls: list[float] = []
            wall0, cpu0 = time.perf_counter(), time.process_time()
            notes = make_notes(sid, segments, backend, progress=calls.append)
            wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        finally:
            store.close()
    ids = {seg.transcript_id for seg in segments}
    linked = sum(item.transcript_id in ids for item in notes.action_items)
    per_hour = wall * 3600.0 / seconds
    figures = [
        Figure("notes_seconds_per_meeting_hour", "s/h", [per_hour], at_most(median=600.0),
               f"notes of a {seconds / 60:.0f}-minute transcript ({len(lines)} lines) in {wall:.1f} s, "
               "model loaded; 600: an hour's notes within ten minutes"),
        Figure("notes_model_load_seconds", "s", [load], at_most(median=10.0), "checksum and load of the small model"),
        Figure("notes_linked_items", "share", [linked / len(notes.action_items) if notes.action_items else 1.0],
               at_least(median=1.0), "action items whose transcript line exists"),
    ]
    details = {"meeting_seconds": seconds, "lines": len(lines), "model": backend.model,
               "model_calls": len(calls), "wall_seconds": round(wall, 2), "cpu_seconds": round(cpu, 2),
               "summary": notes.summary, "decisions": notes.decisions, "open_questions": notes.open_questions,
               "action_items": [item.to_dict() for item in notes.action_items]}
    return BenchResult(figures, details)
