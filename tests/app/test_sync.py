"""Sync between two real Meeting Buddy API servers on two loopback ports (each with its own
SQLite store), and the `meeting-buddy sync` command. Sessions are driven by
tests/api_helpers.ScriptRunner, which stands in for the bot pipeline."""
from __future__ import annotations

import json

import httpx
import pytest

from app import cli
from app.sync import STATE_FILE
from tests.api_helpers import (
    MEET_LINK,
    TEAMS_LINK,
    TOKEN,
    ZOOM_LINK,
    Gates,
    LiveServer,
    run_sync,
    start_session,
)


def snapshot(srv: LiveServer) -> dict:
    store = srv.store
    return {s.session_id: (s.to_dict(), store.session_origin(s.session_id),
                           [t.to_dict() for t in store.transcripts(s.session_id)])
            for s in store.all_sessions()}


@pytest.fixture
def a(tmp_path):
    with LiveServer(tmp_path / "a", gates=Gates(open_all=True)) as srv:
        yield srv


@pytest.fixture
def b(tmp_path):
    with LiveServer(tmp_path / "b", gates=Gates(open_all=True)) as srv:
        yield srv


def test_a_pushes_to_b_and_pulls_b_and_a_second_sync_changes_nothing(a, b):
    a_ids = [start_session(a, TEAMS_LINK), start_session(a, MEET_LINK)]
    a_running = start_session(a, ZOOM_LINK, stop=False)  # unfinished: not pushed yet
    b_ids = [start_session(b, ZOOM_LINK), start_session(b, MEET_LINK)]
    b_running = start_session(b, TEAMS_LINK, stop=False)

    report = run_sync(a, b.url)
    assert sorted(report.pushed) == sorted(a_ids) and report.queued == []
    assert sorted(report.pulled) == sorted(b_ids + [b_running])
    assert report.rejected == {} and report.offline is False

    # B holds exact copies of A's finished sessions and transcripts, marked as A's
    for sid in a_ids:
        assert b.store.get_session(sid) == a.store.get_session(sid)
        assert b.store.transcripts(sid) == a.store.transcripts(sid)
        assert b.store.session_origin(sid) == (True, "buddy-a")
    assert b.store.get_session(a_running) is None
    # A holds B's sessions as read-only copies from B's API
    for sid in b_ids + [b_running]:
        assert a.store.get_session(sid) == b.store.get_session(sid)
        assert [t.text for t in a.store.transcripts(sid)] == [t.text for t in b.store.transcripts(sid)]
        assert a.store.session_origin(sid) == (True, b.api)
    # own sessions never come back as copies
    assert not a.store.session_origin(a_ids[0])[0] and not b.store.session_origin(b_ids[0])[0]

    before = (snapshot(a), snapshot(b))
    again = run_sync(a, b.url)
    assert (again.pushed, again.pulled, again.rejected) == ([], [], {})
    assert (snapshot(a), snapshot(b)) == before

    # the copy of B's running session is read-only here, but can be exported
    response = httpx.post(f"{a.api}/sessions/{b_running}/stop", headers=a.headers)
    assert response.status_code == 409 and response.json()["error"]["code"] == "SESSION_READ_ONLY"
    export = httpx.get(f"{a.api}/sessions/{b_running}/transcripts/export", params={"format": "txt"},
                       headers=a.headers)
    assert export.status_code == 200 and "hello everyone" in export.text

    # B's session finishes there (newer), A's running one finishes here: both travel
    httpx.post(f"{b.api}/sessions/{b_running}/stop", headers=b.headers, timeout=15)
    httpx.post(f"{a.api}/sessions/{a_running}/stop", headers=a.headers, timeout=15)
    third = run_sync(a, b.url)
    assert third.pulled == [b_running] and third.pushed == [a_running]
    assert a.store.get_session(b_running).status == "completed"
    assert a.store.get_session(b_running) == b.store.get_session(b_running)
    assert b.store.get_session(a_running) == a.store.get_session(a_running)


def test_pushes_wait_in_a_queue_while_the_remote_is_unreachable(a, b):
    sid = start_session(a, TEAMS_LINK)
    b.stop_http()  # B's computer goes offline
    offline = run_sync(a, b.url)
    assert offline.offline is True and offline.queued == [sid] and offline.pushed == []
    state = json.loads((a.root / STATE_FILE).read_text())
    assert state[b.api]["queue"] == [sid]  # kept on disk for the next run
    assert b.store.get_session(sid) is None

    b.call(b.restart_server())  # back, on the same address
    back = run_sync(a, b.url)
    assert back.pushed == [sid] and back.queued == [] and not back.offline
    assert b.store.get_session(sid) == a.store.get_session(sid)
    assert json.loads((a.root / STATE_FILE).read_text())[b.api]["queue"] == []


def test_a_refused_push_is_reported_and_not_retried_until_the_session_changes(a, tmp_path):
    sid = start_session(a, TEAMS_LINK)
    with LiveServer(tmp_path / "small", max_import_body_bytes=1500) as small:  # a long transcript
        first = run_sync(a, small.url)
        assert list(first.rejected) == [sid] and first.rejected[sid].startswith("PAYLOAD_TOO_LARGE")
        assert first.pushed == [] and small.store.get_session(sid) is None
        second = run_sync(a, small.url)
        assert second.rejected == {} and second.pushed == []  # settled until it changes


def test_the_sync_command_pushes_and_reports(b, isolated_dirs, monkeypatch, capsys):
    # a finished session in this computer's own data folder
    with LiveServer(isolated_dirs, gates=Gates(open_all=True)) as here:
        sid = start_session(here, MEET_LINK)

    assert cli.main(["sync", "--api-url", b.url, "--token", TOKEN]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["pushed"] == [sid] and report["offline"] is False
    assert b.store.session_origin(sid)[0] is True
    assert cli.main(["sync", "--api-url", b.url, "--token", TOKEN]) == 0
    assert json.loads(capsys.readouterr().out)["pushed"] == []

    assert cli.main(["sync", "--api-url", b.url, "--token", "wrong"]) == 2
    assert "INVALID_API_KEY" in capsys.readouterr().err
