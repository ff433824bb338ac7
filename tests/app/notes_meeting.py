"""A finished meeting stored the way a recording leaves it (a completed session and its final
transcript lines), for the meeting notes tests."""
from __future__ import annotations

from app.models import LOCAL_PLATFORM, LOCAL_RECORDING_LINK, Session, Status, TranscriptSegment
from app.store import Store

BUDGET_MEETING = [
    ("Alice", "Good morning everyone, let's go over the marketing budget for next quarter."),
    ("Bob", "The draft budget is forty thousand dollars, ten percent more than last quarter."),
    ("Carol", "Most of the increase goes to the trade show in March."),
    ("Bob", "We agreed to keep the trade show and cut the print advertising instead."),
    ("Alice", "Alice will send the final budget to finance by Friday."),
    ("Carol", "I will book the booth for the trade show next week."),
    ("Bob", "Who approves spending above the budget?"),
    ("Alice", "Let's meet again on Monday to review the numbers."),
]


def stored_meeting(store: Store, lines: list[tuple[str, str]], *, seconds_per_line: float = 6.0) -> str:
    """A completed session holding `lines` (speaker, text) as its transcript; its id."""
    session = Session.create(meeting_link=LOCAL_RECORDING_LINK, platform=LOCAL_PLATFORM)
    session.transition(Status.LEAVING)
    session.transition(Status.COMPLETED, end_reason="STOP_REQUESTED")
    store.save_session(session)
    for number, (speaker, text) in enumerate(lines):
        start = number * seconds_per_line
        store.add_transcript(TranscriptSegment.create(session.session_id, text, start, start + seconds_per_line - 0.5,
                                                      speaker=speaker))
    return session.session_id


def long_meeting(chunks: int, lines_per_chunk: int = 40) -> list[tuple[str, str]]:
    """A meeting long enough to need several chunks; each stretch has one commitment."""
    lines = []
    for part in range(chunks):
        for n in range(lines_per_chunk):
            if n == lines_per_chunk // 2:
                lines.append(("Dana", f"I will write up topic {part} for the team by Friday."))
            else:
                lines.append(("Erik", f"On topic {part}, point {n}: the numbers look steady and the plan holds."))
    return lines
