"""`meeting-buddy notes` as a user runs it: a real process over the data folder. The endpoint
is the OpenAI-compatible stand-in of notes_standins.py (a rule over real HTTP, since no
remote model can be reached here); the key comes from the secrets store."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from app.secrets import set_openai_key
from app.settings import Settings, save_settings
from app.store import Store
from tests.app.notes_meeting import BUDGET_MEETING, long_meeting, stored_meeting
from tests.app.notes_standins import StandIn
from tests.terminal import run_on_terminal

KEY = "sk-cli-9d7e6f"


@pytest.fixture
def recorded(isolated_dirs, monkeypatch):
    # The key must reach the command's own process: both keep it in the secrets file, whatever
    # keyring this machine's session (or an earlier test) offers.
    import keyring
    from keyring.backends import fail

    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    store = Store(isolated_dirs)
    sid = stored_meeting(store, BUDGET_MEETING)
    yield store, sid
    store.close()


def notes(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", "notes", *args], capture_output=True, text=True, timeout=120)


def test_notes_json_prints_the_stored_notes(recorded):
    store, sid = recorded
    set_openai_key(KEY)
    with StandIn(key=KEY) as endpoint:
        save_settings(Settings(openai_url=f"{endpoint.url}/v1", openai_model="gpt-4o-mini"))
        out = notes(sid, "--backend", "openai", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["session_id"] == sid and data["backend"] == "openai" and data["model"] == "gpt-4o-mini"
    said = {seg.transcript_id: seg.text for seg in store.transcripts(sid)}
    assert [said[item["transcript_id"]] for item in data["action_items"]] == [
        "Alice will send the final budget to finance by Friday.", "I will book the booth for the trade show next week."]
    assert data == store.notes(sid).to_dict()
    assert out.stderr == "" and KEY not in out.stdout  # no terminal: no progress bar


def test_notes_as_text_and_clear_errors(recorded):
    _store, sid = recorded
    with StandIn() as ollama:
        save_settings(Settings(notes_backend="ollama", ollama_url=ollama.url, ollama_model="llama3.2"))
        out = notes(sid)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("## Meeting notes") and "- [ ] Alice will send the final budget" in out.stdout

    missing = notes("mbsess_missing")
    assert missing.returncode != 0 and "not found" in missing.stderr
    save_settings(Settings(notes_backend="ollama", ollama_url="http://127.0.0.1:9", ollama_model="llama3.2"))
    down = notes(sid)
    assert down.returncode == 1 and "did not answer" in down.stderr and "Traceback" not in down.stderr


def test_a_terminal_shows_progress_and_ctrl_c_cancels_keeping_the_notes(isolated_dirs):
    store = Store(isolated_dirs)
    sid = stored_meeting(store, long_meeting(chunks=3, lines_per_chunk=120))  # several model calls
    with StandIn() as ollama:
        save_settings(Settings(notes_backend="ollama", ollama_url=ollama.url, ollama_model="llama3.2"))
        code, drawn, stdout = run_on_terminal("notes", sid)
    assert code == 0, drawn
    assert "Making meeting notes" in drawn and "100%" in drawn
    before = store.notes(sid)
    assert before is not None and stdout.startswith("## Meeting notes")

    with StandIn(delay_s=0.2) as slow:
        save_settings(Settings(notes_backend="ollama", ollama_url=slow.url, ollama_model="llama3.2"))
        process = subprocess.Popen([sys.executable, "-m", "app", "notes", sid], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not slow.requests:
            assert time.monotonic() < deadline and process.poll() is None, process.communicate()
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "cancelled; the notes are unchanged" in stderr and stdout == ""
    assert store.notes(sid) == before
    store.close()
