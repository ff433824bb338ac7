"""A data folder chosen in Settings is the one every entry point uses: the command line
(`sessions`, `record`, `serve`, `sync`), the window, and the composition root behind them.
The platform default (here $MEETING_BUDDY_DATA_DIR) stays untouched."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from app.composition import build_core
from app.models import Session, Status, TranscriptSegment
from app.settings import Settings, load_settings, save_settings
from app.store import DB_NAME, Store
from tests.api_helpers import TOKEN, LiveServer

REPO = Path(__file__).resolve().parents[2]
LINK = "https://meet.google.com/abc-defg-hij"


@pytest.fixture
def chosen(tmp_path, isolated_dirs) -> Path:
    """Settings name a data folder other than the default, holding one finished session."""
    folder = tmp_path / "chosen data"
    save_settings(Settings(data_dir=str(folder)))
    with build_core(load_settings(), own=True) as core:
        session = Session.create(meeting_link=LINK, platform="google_meet")
        session.status = Status.COMPLETED
        session.metadata["end_reason"] = "MEETING_ENDED"
        core.store.save_session(session)
        core.store.add_transcript(TranscriptSegment.create(session.session_id, "Hello from the chosen folder.",
                                                           0.0, 2.0, speaker="Alice", confidence=0.9))
    return folder


def only_session_id(folder: Path) -> str:
    store = Store(folder)
    try:
        [session] = store.list_sessions().data
    finally:
        store.close()
    return session.session_id


def cli(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=REPO, env=dict(os.environ),
                          capture_output=True, text=True, timeout=120, **kw)


def test_the_sessions_commands_read_and_delete_in_the_chosen_folder(chosen, isolated_dirs, tmp_path):
    sid = only_session_id(chosen)
    listed = json.loads(cli("sessions", "list").stdout)
    assert [s["session_id"] for s in listed["data"]] == [sid]
    assert json.loads(cli("sessions", "show", sid).stdout)["session_id"] == sid
    assert [t["text"] for t in json.loads(cli("sessions", "transcripts", sid).stdout)] == [
        "Hello from the chosen folder."]
    exported = cli("sessions", "export", sid, "-f", "txt", "-o", str(tmp_path / "out.txt"))
    assert exported.returncode == 0, exported.stderr
    assert "Hello from the chosen folder." in (tmp_path / "out.txt").read_text()

    deleted = cli("sessions", "delete", sid)
    assert deleted.returncode == 0, deleted.stderr
    assert json.loads(cli("sessions", "list").stdout)["total_count"] == 0
    assert not (isolated_dirs / DB_NAME).exists()  # the default folder was never opened


def test_record_writes_into_the_chosen_folder(chosen, isolated_dirs):
    if not os.environ.get("PULSE_SERVER"):
        pytest.fail("PULSE_SERVER is not set: run the suite with scripts/test.sh")
    done = cli("record", "--system", "mb_sink.monitor", "--duration", "2", "--no-transcription")
    assert done.returncode == 0, done.stderr
    session = json.loads(done.stdout)
    assert (chosen / session["output_directory"]).is_dir()
    assert json.loads(cli("sessions", "list").stdout)["total_count"] == 2
    assert not (isolated_dirs / DB_NAME).exists()


def test_serve_answers_from_the_chosen_folder(chosen, tmp_path):
    sid = only_session_id(chosen)
    token_file = tmp_path / "token"
    token_file.write_text("a-token-from-a-file\n")
    proc = subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", "0", "--token-file", str(token_file)],
                            cwd=REPO, env=dict(os.environ), stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stderr:
            if "listening on" in line:
                url = line.split("listening on ")[1].split()[0]
                break
        else:
            pytest.fail("serve did not start")
        answer = httpx.get(url + "/sessions", headers={"Authorization": "Bearer a-token-from-a-file"})
        assert answer.status_code == 200
        assert [s["session_id"] for s in answer.json()["data"]] == [sid]
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0


def test_sync_pushes_from_the_chosen_folder(chosen, tmp_path):
    sid = only_session_id(chosen)
    with LiveServer(tmp_path / "remote") as remote:
        result = cli("sync", "--api-url", remote.url, "--token", TOKEN)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["pushed"] == [sid]
        assert remote.store.get_session(sid) is not None


def test_the_window_opens_the_chosen_folder(chosen, qtbot):
    from ui.application import Application

    app = Application()
    try:
        assert app.root == chosen.resolve() and app.owns_data_folder
        assert [s.session_id for s in app.store.list_sessions().data] == [only_session_id(chosen)]
    finally:
        app.core.close()
