"""`meeting-buddy record`: this computer's audio through real PulseAudio (a null sink stands
in for the sound card), real sounddevice capture, faster-whisper and segment files — and a
SIGKILL in the middle, then a restart."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from app.composition import build_core
from app.settings import Settings, save_settings
from app.store import DB_NAME, Store
from recorder.segments import probe_segments
from tests.fixtures_audio import make_speech_wav

SPEECH = "The quarterly report is ready. Please review the budget numbers before Friday."


@pytest.fixture(autouse=True)
def sound_server():
    if not os.environ.get("PULSE_SERVER"):
        pytest.fail("PULSE_SERVER is not set: run the suite with scripts/test.sh, which starts "
                    "PulseAudio with the null sink these tests record from")


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z']+", text.lower()))


def record(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "app", "record", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def play_into_sink(wav) -> subprocess.Popen:
    return subprocess.Popen(["paplay", "--device=mb_sink", str(wav)])


def wait_until_recording(root, proc: subprocess.Popen, timeout: float = 60) -> None:
    """Capture has started once the session says `recording` (its first audio arrived)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"record exited early: {proc.communicate()[1]}")
        if (root / DB_NAME).exists():
            store = Store(root)
            page = store.list_sessions()
            store.close()
            if page.data and page.data[0].status == "recording":
                return
        time.sleep(0.1)
    proc.kill()
    pytest.fail("the recording never started")


def test_records_system_audio_and_transcribes_it(tmp_path, isolated_dirs):
    wav = make_speech_wav(SPEECH, tmp_path / "speech.wav")
    proc = record("--system", "mb_sink.monitor", "--duration", "12")
    wait_until_recording(isolated_dirs, proc)
    play_into_sink(wav).wait(timeout=30)
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 0, err
    session = json.loads(out)
    assert session["status"] == "completed" and session["platform"] == "local"
    assert session["metadata"]["end_reason"] == "MAX_DURATION"
    store = Store(isolated_dirs)
    finals = store.transcripts(session["session_id"])
    heard = " ".join(t.text for t in finals)
    assert len(words(SPEECH) & words(heard)) >= 0.7 * len(words(SPEECH)), heard
    assert {t.speaker for t in finals} == {"others"}
    audio = [f for f in probe_segments(isolated_dirs / session["output_directory"]) if f.kind == "audio"]
    assert audio and abs(sum(f.duration_seconds for f in audio) - 12) < 2.5
    assert session["audio_file_count"] == len(audio)


def test_sigkill_mid_recording_then_restart_keeps_everything_before_the_kill(tmp_path, isolated_dirs):
    save_settings(Settings(segment_seconds=10))
    wav = make_speech_wav(SPEECH, tmp_path / "speech.wav")
    proc = record("--system", "mb_sink.monitor", "--duration", "120")
    wait_until_recording(isolated_dirs, proc)
    play_into_sink(wav).wait(timeout=30)
    # Kill once the speech is transcribed and the first segment has rotated.
    store = Store(isolated_dirs)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        page = store.list_sessions()
        if page.data and store.transcripts(page.data[0].session_id) and page.data[0].segment_count and page.data[0].segment_count >= 2:
            break
        time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("the recording never produced a transcript and a second segment")
    killed_at = time.monotonic()
    session_id = page.data[0].session_id
    time.sleep(1.5)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    elapsed = page.data[0].total_duration_seconds + (time.monotonic() - killed_at)
    store.close()

    # The next start recovers the session and keeps what was recorded.
    core = build_core(Settings(segment_seconds=10), own=True)
    reopened, manager = core.store, core.manager
    session = manager.get(session_id)
    assert session.status == "failed" and session.error_code == "INTERRUPTED"
    heard = " ".join(t.text for t in reopened.transcripts(session_id))
    assert len(words(SPEECH) & words(heard)) >= 0.5 * len(words(SPEECH)), heard
    segments = probe_segments(manager.output_dir(session))
    audio = sorted((f for f in segments if f.kind == "audio"), key=lambda f: f.index)
    assert len(audio) >= 2
    # Segments rotate every 10 s of session time (the first starts when capture does): the
    # closed ones decode to their end, the open one up to shortly before the kill.
    assert all(f.error is None for f in audio), audio
    assert all(f.duration_seconds > 5 for f in audio[:-1]), [(f.index, f.duration_seconds) for f in audio]
    recorded = sum(f.duration_seconds for f in audio)
    assert recorded > elapsed - 3.5, (recorded, elapsed)  # at most ~2 s lost, plus start-up
    core.close()


def test_bad_devices_are_clear_errors(isolated_dirs):
    none = subprocess.run([sys.executable, "-m", "app", "record", "--duration", "1"],
                          capture_output=True, text=True, timeout=60)
    assert none.returncode == 2 and "choose what to record" in none.stderr
    missing = subprocess.run([sys.executable, "-m", "app", "record", "--system", "no-such-device",
                              "--duration", "3"], capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1, missing.stderr
    session = json.loads(missing.stdout)
    assert session["status"] == "failed" and session["error_code"] == "AUDIO_CAPTURE_FAILED"
    assert "Traceback" not in missing.stderr
