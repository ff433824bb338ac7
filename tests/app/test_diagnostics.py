"""Diagnostics bundles: what is written (and what never is: passcodes, tokens), how they are
read back, zipped and served by the API, and the setting that times them."""
from __future__ import annotations

import io
import json
import zipfile

import pytest

from app.composition import bot_runner_factory
from app.diagnostics import FOLDER, REDACTED, bundles, read_summaries, scrub, write_bundle, zip_bundles
from app.errors import ValidationError
from app.links import parse_meeting_link
from app.models import LogEntry, Session
from app.settings import LeaveTimerSettings, Settings, load_settings, save_settings
from recorder.bot.diagnostics import PageDiagnostics
from tests.api_helpers import TEAMS_LINK

JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ"
       ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
TEAMS_THREAD = "19:meeting_NjA2ZjE4ZTUtMWQ4Ny00YTA0LWJlMmEtZjYwMmRmYjI4MGQ2@thread.v2"
SECRETS = ("Secret123", "AbC123", "abcdef0123456789token", "xyz987bearer", JWT,
           "NjA2ZjE4ZTUtMWQ4Ny00YTA0LWJlMmEtZjYwMmRmYjI4MGQ2", "quotedSecret42")
# Long CSS names the packs match on are not secrets and must survive.
CSS_NAME = "gallery-video-container__video-frame--active"

PAGE = f"""<!DOCTYPE html>
<html><head><title>Join ?p=AbC123</title></head><body>
<a href="https://us02web.zoom.us/j/81234567890?pwd=Secret123&amp;uname=x">rejoin</a>
<div class="{CSS_NAME}" data-config="{{&quot;token&quot;:&quot;quotedSecret42&quot;}}">Alice</div>
<pre>{{"token": "abcdef0123456789token", "name": "kept"}}</pre>
<pre>Authorization: Bearer xyz987bearer</pre>
<span data-jwt="{JWT}">signed</span>
<a href="https://teams.microsoft.com/l/meetup-join/{TEAMS_THREAD}/0">meeting</a>
</body></html>"""


def page_diagnostics(**overrides) -> PageDiagnostics:
    values = dict(
        reason="the join failed: JOIN_DENIED",
        url="https://app.zoom.us/wc/81234567890/join?pwd=Secret123#token=abcdef0123456789token",
        title="Zoom ?p=AbC123",
        landmarks={"name_input": None, "join_buttons": "css=#joinBtn", "denied": "text=has denied your request",
                   "lobby": None},
        participants=("Alice",),
        html=PAGE,
        screenshot_png=b"\x89PNG\r\n\x1a\nfake")
    values.update(overrides)
    return PageDiagnostics(**values)


def log_entries() -> list[LogEntry]:
    return [LogEntry("mbsess_x", "info", "Opening https://zoom.us/j/81234567890?pwd=Secret123"),
            LogEntry("mbsess_x", "warning", 'page said {"token": "abcdef0123456789token"}'),
            LogEntry("mbsess_x", "info", "sent Authorization: Bearer xyz987bearer and " + JWT),
            LogEntry("mbsess_x", "error", "The host denied the request")]


def test_a_bundle_holds_no_secret_in_any_file(tmp_path):
    bundle = write_bundle(tmp_path, page_diagnostics(), log_entries())
    assert bundle.parent == tmp_path / FOLDER
    files = {path.name: path.read_bytes() for path in bundle.iterdir()}
    assert set(files) == {"screenshot.png", "page.html", "landmarks.json", "log.txt"}
    for name, data in files.items():
        for secret in SECRETS:
            assert secret.encode() not in data, f"{secret} left in {name}"
    page = files["page.html"].decode()
    assert REDACTED in page and CSS_NAME in page and '"name": "kept"' in page
    assert "pwd=REDACTED" in page and "19:REDACTED@thread.v2" in page
    log = files["log.txt"].decode().splitlines()
    assert len(log) == 4 and log[-1].endswith("The host denied the request") and "error" in log[-1]
    assert "Bearer REDACTED" in log[2]


def test_landmarks_json_lists_every_landmark_and_the_unmatched_ones(tmp_path):
    bundle = write_bundle(tmp_path, page_diagnostics(), [])
    summary = json.loads((bundle / "landmarks.json").read_text("utf-8"))
    assert summary["reason"] == "the join failed: JOIN_DENIED"
    assert summary["landmarks"]["denied"] == "text=has denied your request"
    assert summary["unmatched"] == ["lobby", "name_input"]
    assert summary["url"] == "https://app.zoom.us/wc/81234567890/join?pwd=REDACTED#token=REDACTED"
    assert summary["title"] == "Zoom ?p=REDACTED"
    assert summary["participant_count"] == 1 and summary["taken_at"].endswith("Z")
    assert not any("Alice" in p.read_text("utf-8", "replace") for p in bundle.iterdir() if p.suffix == ".json")


def test_summaries_and_zip_read_back_what_was_written(tmp_path):
    assert bundles(tmp_path) == [] and read_summaries(tmp_path) == []
    first = write_bundle(tmp_path, page_diagnostics(), log_entries())
    second = write_bundle(tmp_path, page_diagnostics(reason="an unknown screen for 30 s", screenshot_png=b""),
                          [])
    assert bundles(tmp_path) == [first, second]
    assert first.name.startswith("01-") and second.name.startswith("02-")
    assert not (second / "screenshot.png").exists()   # no picture taken, no empty file

    summaries = read_summaries(tmp_path)
    assert [s["bundle"] for s in summaries] == [first.name, second.name]
    assert summaries[1]["reason"] == "an unknown screen for 30 s"
    assert summaries[0] == {"bundle": first.name,
                            **json.loads((first / "landmarks.json").read_text("utf-8"))}

    with zipfile.ZipFile(io.BytesIO(zip_bundles(tmp_path))) as archive:
        names = sorted(archive.namelist())
        assert names == sorted(f"{b.name}/{p.name}" for b in (first, second) for p in b.iterdir())
        for name in names:
            assert archive.read(name) == (tmp_path / FOLDER / name).read_bytes()


def test_a_damaged_bundle_reads_as_empty_fields_and_numbers_keep_counting(tmp_path):
    first = write_bundle(tmp_path, page_diagnostics(), [])
    (first / "landmarks.json").write_text("{not json", "utf-8")
    second = write_bundle(tmp_path, page_diagnostics(), [])
    assert second.name.startswith("02-")
    damaged = read_summaries(tmp_path)[0]
    assert damaged["bundle"] == first.name and damaged["landmarks"] == {} and damaged["reason"] == ""
    # a removed bundle never gives its number to the next one
    for path in second.iterdir():
        path.unlink()
    second.rmdir()
    for path in first.iterdir():
        path.unlink()
    first.rmdir()
    (tmp_path / FOLDER / "07-20250101T000000").mkdir()
    assert write_bundle(tmp_path, page_diagnostics(), []).name.startswith("08-")


def test_scrub_keeps_ordinary_text():
    text = f'<p class="{CSS_NAME}">Join now</p> top=5 key="x" <a href="/meet/abc?lang=en">'
    assert scrub(text) == text


# -- the API ---------------------------------------------------------------------------------

def finished_session(server, http) -> dict:
    sid = http.post("/sessions", json={"meeting_link": TEAMS_LINK}).json()["session_id"]
    server.wait_status(sid, "recording")
    return http.post(f"/sessions/{sid}/stop").json()


def test_the_api_lists_a_sessions_bundles_and_zips_them(server, http):
    session = finished_session(server, http)
    sid = session["session_id"]
    empty = http.get(f"/sessions/{sid}/diagnostics")
    assert empty.status_code == 200 and empty.json() == {"session_id": sid, "bundles": []}

    folder = server.manager.output_dir(server.manager.get(sid))
    first = write_bundle(folder, page_diagnostics(), log_entries())
    second = write_bundle(folder, page_diagnostics(reason="an unknown screen"), [])
    answer = http.get(f"/sessions/{sid}/diagnostics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert body["session_id"] == sid and body["bundles"] == read_summaries(folder)
    assert [b["bundle"] for b in body["bundles"]] == [first.name, second.name]
    assert body["bundles"][0]["unmatched"] == ["lobby", "name_input"]
    assert "Secret123" not in answer.text

    zipped = http.get(f"/sessions/{sid}/diagnostics", params={"format": "zip"})
    assert zipped.status_code == 200 and zipped.headers["content-type"] == "application/zip"
    assert zipped.headers["content-disposition"] == f'attachment; filename="{sid}-diagnostics.zip"'
    with zipfile.ZipFile(io.BytesIO(zipped.content)) as archive:
        assert f"{first.name}/page.html" in archive.namelist()
        assert archive.read(f"{second.name}/landmarks.json") == (second / "landmarks.json").read_bytes()


def test_the_api_answers_404_for_an_unknown_session_and_422_for_a_bad_format(server, http):
    missing = http.get("/sessions/mbsess_nope/diagnostics")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "SESSION_NOT_FOUND"
    assert http.get("/sessions/mbsess_nope/diagnostics", params={"format": "zip"}).status_code == 404
    sid = finished_session(server, http)["session_id"]
    wrong = http.get(f"/sessions/{sid}/diagnostics", params={"format": "tar"})
    assert wrong.status_code == 422 and wrong.json()["error"]["details"]["field"] == "format"


# -- the setting -----------------------------------------------------------------------------

def test_the_unknown_screen_timer_is_a_validated_setting_given_to_the_bot(tmp_path):
    assert Settings().timers.unexplained_screen_s == 30.0
    assert Settings.from_dict({"timers": {"waiting_room_s": 60}}).timers.unexplained_screen_s == 30.0  # older files
    with pytest.raises(ValidationError) as err:
        Settings(timers=LeaveTimerSettings(unexplained_screen_s=0)).validate()
    assert err.value.details["field"] == "timers.unexplained_screen_s"

    settings = Settings(timers=LeaveTimerSettings(unexplained_screen_s=12))
    save_settings(settings, tmp_path / "settings.json")
    assert load_settings(tmp_path / "settings.json").timers.unexplained_screen_s == 12.0
    link = parse_meeting_link(TEAMS_LINK)
    session = Session.create(meeting_link=TEAMS_LINK, platform=link.platform)
    runner = bot_runner_factory(settings)(session, link)
    assert runner.options.unexplained_after == 12.0
