"""`meeting-buddy refine` as a user runs it: a real process over the data folder, real
faster-whisper on real Ogg/Opus segment files of espeak-ng speech. The session is recorded
beforehand by the scripted runner of tests/fakes.py (the bot's stand-in)."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from app.folder_lock import DataFolderLock
from app.refine import transcript_revision
from app.store import Store
from tests.app.test_refine import LINES, record, recorded_steps
from tests.fakes import JOINING, say, status
from tests.recorder.test_transcriber import conversation, recall
from tests.terminal import run_on_terminal


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    return conversation(LINES, tmp_path_factory.mktemp("speech"))


@pytest.fixture
def recorded(isolated_dirs, speech):
    store = Store(isolated_dirs)
    _manager, session = record(store, recorded_steps(speech))
    yield store, session.session_id
    store.close()


def refine(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", "refine", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_refine_prints_the_session_and_its_new_transcript(recorded, speech):
    store, sid = recorded
    out = refine(sid, "--model", "tiny.en", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["session"]["metadata"]["transcript_revision"] == "refined:tiny.en"
    assert recall(speech.script, " ".join(t["text"] for t in data["transcripts"])) >= 0.8
    assert [t.text for t in store.transcripts(sid)] == [t["text"] for t in data["transcripts"]]
    assert out.stderr == ""  # no terminal: no progress bar

    back = refine(sid, "--restore")
    assert back.returncode == 0, back.stderr
    assert "live transcript" in back.stdout
    assert transcript_revision(store.get_session(sid)) == "live"
    assert "good morning every one" in " ".join(t.text for t in store.transcripts(sid))


def test_by_default_the_setting_chooses_the_model_and_a_terminal_shows_progress(recorded):
    """auto: the best installed model fast enough (base, where tiny.en and base are installed)."""
    store, sid = recorded
    code, drawn, stdout = run_on_terminal("refine", sid)
    assert code == 0, drawn
    assert "Improving the transcript" in drawn and "100%" in drawn
    assert "improved with base" in stdout
    assert transcript_revision(store.get_session(sid)) == "refined:base"


def test_ctrl_c_cancels_and_leaves_the_transcript_unchanged(recorded):
    store, sid = recorded
    before = [(t.transcript_id, t.text) for t in store.transcripts(sid)]
    process = subprocess.Popen([sys.executable, "-m", "app", "refine", sid, "--model", "base"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not any("Improving the transcript with" in e.message for e in store.logs(sid)):
        assert time.monotonic() < deadline and process.poll() is None, process.communicate()
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "cancelled; the transcript is unchanged" in stderr and stdout == ""
    assert [(t.transcript_id, t.text) for t in store.transcripts(sid)] == before
    assert store.transcript_revisions(sid) == [] and transcript_revision(store.get_session(sid)) == "live"


def test_refusals_are_one_line_and_non_zero(isolated_dirs, recorded):
    store, sid = recorded
    out = refine("mbsess_nothere")
    assert out.returncode == 2 and "SESSION_NOT_FOUND" in out.stderr and "Traceback" not in out.stderr
    assert refine(sid, "--restore", "refined:base").returncode == 2
    _manager, silent = record(store, [status(JOINING), say("nothing recorded", 1.0, 2.0)])
    out = refine(silent.session_id)
    assert out.returncode == 2 and "REFINE_UNAVAILABLE" in out.stderr and "no recorded audio" in out.stderr
    lock = DataFolderLock(isolated_dirs)
    assert lock.acquire()
    try:
        out = refine(sid)
        assert out.returncode == 1 and "improve the transcript there" in out.stderr
    finally:
        lock.release()
