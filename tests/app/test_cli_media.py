"""`transcribe` and `demo` as a user runs them: real processes, real models, the simulator."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.fixtures_audio import make_speech_wav


def run_cli(*args, env=None, timeout=180):
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True,
                          env=env or dict(os.environ), timeout=timeout)


def test_transcribe_prints_subtitles_of_a_file(tmp_path):
    wav = make_speech_wav("The project deadline moved to next Wednesday.", tmp_path / "a.wav")
    out = run_cli("transcribe", str(wav), "--format", "srt")
    assert out.returncode == 0, out.stderr
    assert re.match(r"1\n00:00:\d\d,\d{3} --> 00:00:\d\d,\d{3}\n", out.stdout)
    assert {"deadline", "wednesday"} <= set(re.findall(r"[a-z]+", out.stdout.lower()))


def test_transcribe_bad_inputs_are_one_line_errors(tmp_path):
    missing = run_cli("transcribe", str(tmp_path / "nope.wav"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(b"not audio at all" * 100)
    bad = run_cli("transcribe", str(junk))
    assert bad.returncode == 2 and "cannot read" in bad.stderr and "Traceback" not in bad.stderr


def test_demo_headless_runs_a_whole_session_with_its_own_display(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}  # --headless starts Xvfb
    out_file = tmp_path / "demo.json"
    out = run_cli("demo", "--headless", "--platform", "zoom", "--json-out", str(out_file),
                  env=env, timeout=240)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out_file.read_text())
    assert json.loads(out.stdout) == result
    session = result["session"]
    assert session["status"] == "completed" and session["platform"] == "zoom"
    assert session["metadata"]["end_reason"] == "MEETING_ENDED"
    assert len(result["transcripts"]) >= 3
    assert {t["speaker"] for t in result["transcripts"]} >= {"Alice Johnson", "Bob Smith"}
    for line in ("status: joining", "status: active", "status: recording", "status: completed"):
        assert line in out.stderr


def test_debug_prints_where_the_diagnostics_of_a_failed_join_were_saved():
    out = run_cli("demo", "--headless", "--debug", "--platform", "google_meet", "--scenario", "denied",
                  timeout=180)
    assert out.returncode == 1, out.stderr[-3000:]
    session = json.loads(out.stdout)["session"]
    assert session["status"] == "failed" and session["error_code"] == "JOIN_DENIED"
    printed = re.findall(r"^diagnostics saved: (.+)$", out.stderr, re.MULTILINE)
    assert len(printed) == len(session["metadata"]["diagnostics"]) == 1
    bundle = Path(printed[0])
    assert bundle.is_absolute() and bundle.as_posix().endswith(session["metadata"]["diagnostics"][0])
    assert {"landmarks.json", "page.html", "log.txt", "screenshot.png"} <= {p.name for p in bundle.iterdir()}
