"""Renaming a speaker renames every line of theirs: the manager on a real store (kept
revisions, search and exports follow), the `meeting-buddy speakers rename` command as a real
process, and the API over real HTTP."""
from __future__ import annotations

import json

import httpx
import pytest

from app.errors import RefineUnavailable, SessionReadOnly, ValidationError
from app.export import export_transcript
from app.models import Session, Status, TranscriptSegment
from app.sessions import SessionManager
from app.store import Store
from tests.api_helpers import LiveServer
from tests.app.test_api_server import assert_envelope
from tests.app.test_cli import TEAMS, run_cli
from tests.fakes import ACTIVE, JOINING, RECORDING, say, scripted, status

LINES = [("Speaker 1", "Good morning team."), ("you", "Morning!"), ("Speaker 1", "The budget looks fine."),
         ("Speaker 2", "I agree with that.")]


def finished(store: Store, *, terminal: bool = True) -> Session:
    session = Session.create(meeting_link=TEAMS, platform="teams")
    for step in (Status.JOINING, Status.ACTIVE, Status.RECORDING):
        session.transition(step)
    if terminal:
        session.transition(Status.LEAVING)
        session.transition(Status.COMPLETED, end_reason="MEETING_ENDED")
    store.save_session(session)
    for index, (speaker, text) in enumerate(LINES):
        store.add_transcript(TranscriptSegment.create(session.session_id, text, index * 2.0, index * 2.0 + 1.5,
                                                      speaker=speaker))
    return session


def speakers(store: Store, session_id: str) -> list[str | None]:
    return [t.speaker for t in store.transcripts(session_id)]


def test_every_line_of_the_speaker_follows_the_new_name(store):
    session = finished(store)
    sid = session.session_id
    store.add_speaker_change(sid, 0.0, "Speaker 1")
    manager = SessionManager(store)
    manager.replace_transcript(sid, store.transcripts(sid), "refined:tiny.en")  # the live one is kept too

    assert manager.rename_speaker(sid, "Speaker 1", "  Dana\u202e  Lee ") == 2
    assert speakers(store, sid) == ["Dana Lee", "you", "Dana Lee", "Speaker 2"]
    assert [t.speaker for t in store.revision_transcripts(sid, "live")] == speakers(store, sid)
    assert store.speaker_changes(sid) == [(0.0, "Dana Lee")]  # a later pass names them so too
    assert [hit.text for hit in store.search("budget", speaker="dana lee").data] == ["The budget looks fine."]
    assert "Dana Lee:\nThe budget looks fine." in export_transcript(manager.get(sid), store.transcripts(sid),
                                                                   "txt").decode()
    assert any("renamed to \u201cDana Lee\u201d (2 lines)" in e.message for e in store.logs(sid))
    assert manager.rename_speaker(sid, "Speaker 2", "Dana Lee") == 1  # two voices that were one person
    assert speakers(store, sid) == ["Dana Lee", "you", "Dana Lee", "Dana Lee"]


@pytest.mark.parametrize("old,new,field", [("Speaker 9", "Dana", "from"), ("Speaker 1", " \u200b ", "to"),
                                           ("Speaker 1", "x" * 201, "to")])
def test_a_bad_rename_says_why_and_changes_nothing(store, old, new, field):
    session = finished(store)
    with pytest.raises(ValidationError) as caught:
        SessionManager(store).rename_speaker(session.session_id, old, new)
    assert caught.value.details["field"] == field
    assert speakers(store, session.session_id) == [speaker for speaker, _ in LINES]


def test_a_running_session_and_a_copy_are_not_renamed_here(store):
    running = finished(store, terminal=False)
    with pytest.raises(RefineUnavailable):
        SessionManager(store).rename_speaker(running.session_id, "Speaker 1", "Dana")
    copy = finished(store)
    store.save_session(copy, is_remote=True, remote_origin="https://other.example:8787")
    with pytest.raises(SessionReadOnly):
        SessionManager(store).rename_speaker(copy.session_id, "Speaker 1", "Dana")


def test_the_command_renames_a_speaker(isolated_dirs):
    store = Store(isolated_dirs)
    sid = finished(store).session_id
    store.close()
    out = run_cli("speakers", "rename", sid, "Speaker 2", "Erin")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"session_id": sid, "from": "Speaker 2", "to": "Erin", "lines": 1}
    lines = json.loads(run_cli("sessions", "transcripts", sid).stdout)
    assert [line["speaker"] for line in lines] == ["Speaker 1", "you", "Speaker 1", "Erin"]
    failed = run_cli("speakers", "rename", sid, "Nobody", "Erin")
    assert failed.returncode == 2 and "VALIDATION_ERROR: Session" in failed.stderr and "“Nobody”" in failed.stderr


def test_the_api_renames_a_speaker(tmp_path):
    steps = [status(JOINING), status(ACTIVE), status(RECORDING), say("good morning team", 1.0, 2.0, speaker="Speaker 1"),
             say("morning", 3.0, 4.0, speaker="you"), say("the budget looks fine", 5.0, 6.0, speaker="Speaker 1")]
    with LiveServer(tmp_path / "server", runner_factory=scripted(*steps, end_by_itself=True)) as server, \
            httpx.Client(base_url=server.api, headers=server.headers, timeout=30) as http:
        sid = http.post("/sessions", json={"meeting_link": "https://meet.google.com/abc-defg-hij"}).json()["session_id"]
        server.wait_status(sid, "completed")
        answer = http.post(f"/sessions/{sid}/speakers/rename", json={"from": "Speaker 1", "to": "Dana"})
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"session_id": sid, "from": "Speaker 1", "to": "Dana", "lines": 2}
        assert [t["speaker"] for t in http.get(f"/sessions/{sid}/transcripts").json()] == ["Dana", "you", "Dana"]
        assert_envelope(http.post(f"/sessions/{sid}/speakers/rename", json={"from": "Nobody", "to": "Dana"}),
                        422, "VALIDATION_ERROR", field="from")
        assert_envelope(http.post("/sessions/nope/speakers/rename", json={"from": "Dana", "to": "Erin"}),
                        404, "SESSION_NOT_FOUND")
