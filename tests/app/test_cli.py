"""The command line as a user runs it: a real `meeting-buddy` process, JSON and exit codes."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from app.models import Session, Status, TranscriptSegment
from app.store import Store

TEAMS = ("https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0"
         "?context=%7b%22Tid%22%3a%22t%22%7d")


def run_cli(*args, env_dir=None, input=None):
    env = dict(os.environ)
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True,
                          env=env, timeout=60, input=input)


def test_help_lists_the_commands():
    out = run_cli("--help")
    assert out.returncode == 0
    for command in ("link-info", "sessions", "packs"):
        assert command in out.stdout


def test_link_info_prints_one_json_object():
    out = run_cli("link-info", TEAMS)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) == {"platform", "meeting_id", "passcode", "join_url", "normalized_link"}
    assert data["platform"] == "teams"


@pytest.mark.parametrize("link,code", [
    ("http://teams.microsoft.com/meet/123", "INVALID_MEETING_LINK"),
    ("https://example.com/meeting/1", "UNSUPPORTED_PLATFORM"),
    ("not a link", "INVALID_MEETING_LINK"),
])
def test_link_info_prints_the_error_envelope_and_exits_2(link, code):
    out = run_cli("link-info", link)
    assert out.returncode == 2
    envelope = json.loads(out.stdout)
    assert envelope["success"] is False
    assert envelope["error"]["code"] == code
    assert envelope["error"]["status"] == 422 and envelope["error"]["type"] == "client_error"
    assert envelope["error"]["details"]["field"] == "meeting_link"
    assert "Traceback" not in out.stderr


@pytest.fixture
def recorded(isolated_dirs):
    store = Store(isolated_dirs)
    session = Session.create(meeting_link=TEAMS, platform="teams")
    for status in (Status.JOINING, Status.ACTIVE, Status.RECORDING, Status.LEAVING):
        session.transition(status)
    session.transition(Status.COMPLETED, end_reason="MEETING_ENDED")
    store.save_session(session)
    store.add_transcript(TranscriptSegment.create(session.session_id, "Good morning team.", 1, 2.5,
                                                  speaker="Alice", confidence=0.9))
    store.add_transcript(TranscriptSegment.create(session.session_id, "Morning!", 3, 3.8,
                                                  speaker="Bob", confidence=0.8))
    store.close()
    return session


def test_sessions_list_show_transcripts(recorded):
    listed = run_cli("sessions", "list")
    assert listed.returncode == 0, listed.stderr
    page = json.loads(listed.stdout)
    assert page["total_count"] == 1 and page["has_more"] is False
    assert page["data"][0]["session_id"] == recorded.session_id
    assert json.loads(run_cli("sessions", "list", "--status", "failed").stdout)["total_count"] == 0
    shown = json.loads(run_cli("sessions", "show", recorded.session_id).stdout)
    assert shown == recorded.to_dict()
    texts = [t["text"] for t in json.loads(run_cli("sessions", "transcripts", recorded.session_id).stdout)]
    assert texts == ["Good morning team.", "Morning!"]


@pytest.mark.parametrize("fmt", ["txt", "srt", "vtt", "json", "md", "docx"])
def test_sessions_export_every_format(recorded, tmp_path, fmt):
    out = run_cli("sessions", "export", recorded.session_id, "--format", fmt, "-o", str(tmp_path))
    assert out.returncode == 0, out.stderr
    path = tmp_path / out.stdout.strip().split("/")[-1]
    assert path.exists() and path.suffix == f".{fmt}"
    data = path.read_bytes()
    if fmt == "docx":
        assert data[:2] == b"PK"
    else:
        assert "Good morning team." in data.decode("utf-8")


def test_sessions_delete_then_show_is_not_found(recorded, isolated_dirs):
    folder = isolated_dirs / recorded.output_directory
    folder.mkdir(parents=True)
    (folder / "audio_0001.ogg").write_bytes(b"x")
    out = run_cli("sessions", "delete", recorded.session_id)
    assert out.returncode == 0, out.stderr
    assert not folder.exists()
    gone = run_cli("sessions", "show", recorded.session_id)
    assert gone.returncode == 2
    assert gone.stderr.strip() == (f"meeting-buddy: error: SESSION_NOT_FOUND: Session "
                                   f"'{recorded.session_id}' not found")


@pytest.mark.parametrize("args,needle", [
    (("sessions", "show", "../../etc/passwd"), "VALIDATION_ERROR"),
    (("sessions", "list", "--status", "bogus"), "--status must be one of"),
    (("sessions", "list", "--limit", "0"), "--limit"),
    (("sessions", "export", "mbsess_x", "--format", "pdf"), "invalid choice"),
    (("no-such-command",), "invalid choice"),
])
def test_bad_input_is_one_line_and_non_zero(args, needle):
    out = run_cli(*args)
    assert out.returncode == 2
    assert needle in out.stderr
    assert "Traceback" not in out.stderr


def test_unwritable_export_target_is_a_clear_error(recorded, tmp_path):
    target = tmp_path / "missing-dir" / "x.txt"
    out = run_cli("sessions", "export", recorded.session_id, "--format", "txt", "-o", str(target))
    assert out.returncode == 1
    assert "cannot write" in out.stderr and "Traceback" not in out.stderr


def test_sessions_rename_prints_the_renamed_session_and_keeps_it(recorded):
    out = run_cli("sessions", "rename", recorded.session_id, "  Sprint\u202e review\x1b  ")
    assert out.returncode == 0, out.stderr
    renamed = json.loads(out.stdout)
    assert renamed["session_id"] == recorded.session_id and renamed["metadata"]["title"] == "Sprint review"
    shown = json.loads(run_cli("sessions", "show", recorded.session_id).stdout)
    assert shown["metadata"]["title"] == "Sprint review"
    cleared = json.loads(run_cli("sessions", "rename", recorded.session_id, "").stdout)
    assert "title" not in cleared["metadata"]


def test_sessions_rename_errors_are_one_line(recorded, isolated_dirs):
    missing = run_cli("sessions", "rename", "mbsess_nope", "x")
    assert missing.returncode == 2 and "SESSION_NOT_FOUND" in missing.stderr and "Traceback" not in missing.stderr
    usage = run_cli("sessions", "rename", recorded.session_id)
    assert usage.returncode == 2 and "title" in usage.stderr


def test_a_running_session_of_the_open_app_is_renamed_there(isolated_dirs):
    from app.folder_lock import DataFolderLock

    store = Store(isolated_dirs)
    session = Session.create(meeting_link=TEAMS, platform="teams")
    session.transition(Status.JOINING)
    store.save_session(session)
    store.close()
    lock = DataFolderLock(isolated_dirs)
    assert lock.acquire()  # the window holds the data folder
    try:
        out = run_cli("sessions", "rename", session.session_id, "Mine")
    finally:
        lock.release()
    assert out.returncode == 1 and "rename it there" in out.stderr
    assert "title" not in json.loads(run_cli("sessions", "show", session.session_id).stdout)["metadata"]


def test_sessions_analytics_prints_talk_time_as_the_api_does(recorded):
    out = run_cli("sessions", "analytics", recorded.session_id)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {
        "session_id": recorded.session_id, "total_talk_time_seconds": 2.3, "speech_seconds": 2.3,
        "overlap_seconds": 0.0,
        "speakers": [{"speaker": "Alice", "talk_time_seconds": 1.5, "percentage": 65.2, "segment_count": 1},
                     {"speaker": "Bob", "talk_time_seconds": 0.8, "percentage": 34.8, "segment_count": 1}],
        "timeline": [{"speaker": "Alice", "start_time": 1.0, "end_time": 2.5},
                     {"speaker": "Bob", "start_time": 3.0, "end_time": 3.8}]}
