"""A finished three-hour meeting with about 5000 final transcript segments, as the store
holds one: five people taking turns, sentences from the benchmark script."""
from __future__ import annotations

import random
from datetime import timedelta

from app.models import Platform, Session, Status, TranscriptSegment
from app.timeutil import iso, utc_now
from bench.speech_script import SCRIPT

PEOPLE = ("Alice Johnson", "Bob Smith", "Carol Davis", "Dmitri Petrov", "Eun-ji Park")
MEETING_LINK = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_bench%40thread.v2/0"


def long_meeting(*, hours: float = 3.0, segments: int = 5000, seed: int = 7) -> tuple[Session, list[TranscriptSegment]]:
    rng = random.Random(seed)
    seconds = hours * 3600.0
    joined = utc_now() - timedelta(seconds=seconds + 60)
    session = Session.create(meeting_link=MEETING_LINK, platform=Platform.TEAMS.value)
    session.status = Status.COMPLETED
    session.join_timestamp = iso(joined)
    session.leave_timestamp = iso(joined + timedelta(seconds=seconds))
    session.total_duration_seconds = seconds
    session.metadata["end_reason"] = "MEETING_ENDED"
    for name in PEOPLE:
        session.participant_history.append({"participant_name": name, "event": "joined",
                                            "timestamp": session.join_timestamp, "is_bot": False})
    for name in PEOPLE:
        session.participant_history.append({"participant_name": name, "event": "left",
                                            "timestamp": session.leave_timestamp, "is_bot": False})
    step = seconds / segments
    transcript = []
    speaker = PEOPLE[0]
    for i in range(segments):
        if rng.random() < 0.35:  # turns of a few sentences each
            speaker = rng.choice(PEOPLE)
        start = i * step + rng.uniform(0.0, 0.2)
        transcript.append(TranscriptSegment.create(
            session.session_id, rng.choice(SCRIPT), start, start + step * rng.uniform(0.7, 0.95),
            speaker=speaker, confidence=round(rng.uniform(0.6, 0.98), 3)))
    return session, transcript
