"""SQLite store: migrations, persistence, crash recovery, corruption, path safety."""
from __future__ import annotations

import sqlite3

import pytest

from app.errors import StorageError, ValidationError
from app.models import LogEntry, ParticipantEvent, Session, Status, TranscriptSegment
from app.paths import inside_root, recording_dir, validate_id
from app.store import DB_NAME, MIGRATIONS, Store


def make_session(platform="teams", status=None) -> Session:
    s = Session.create(meeting_link="https://teams.microsoft.com/meet/123?p=x", platform=platform)
    if status:
        s.status = Status(status)
    return s


def test_migrates_an_empty_file(isolated_dirs):
    isolated_dirs.mkdir(parents=True)
    (isolated_dirs / DB_NAME).touch()  # an empty file is a valid, schema-less database
    store = Store(isolated_dirs)
    assert store.schema_version == len(MIGRATIONS)
    conn = sqlite3.connect(isolated_dirs / DB_NAME)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"sessions", "transcripts", "participant_events", "session_logs"} <= tables


def test_reopening_keeps_data_and_version(isolated_dirs):
    store = Store(isolated_dirs)
    s = make_session()
    store.save_session(s)
    store.close()
    again = Store(isolated_dirs)
    assert again.get_session(s.session_id) == s
    assert again.schema_version == len(MIGRATIONS)


def test_a_first_version_database_gains_transcript_revisions_and_keeps_its_data(isolated_dirs):
    isolated_dirs.mkdir(parents=True)
    conn = sqlite3.connect(isolated_dirs / DB_NAME)
    conn.executescript(f"BEGIN; {MIGRATIONS[0]}; PRAGMA user_version = 1; COMMIT;")
    conn.close()
    s = make_session(status="completed")
    old = Store(isolated_dirs)
    assert old.schema_version == len(MIGRATIONS) >= 2
    old.save_session(s)
    old.add_transcript(TranscriptSegment.create(s.session_id, "kept", 0.0, 1.0))
    assert old.transcript_revisions(s.session_id) == [] and old.speaker_changes(s.session_id) == []


def test_processes_opening_a_new_data_folder_at_once_migrate_it_once(isolated_dirs):
    import threading

    stores, errors = [], []

    def open_store() -> None:
        try:
            stores.append(Store(isolated_dirs))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and all(store.recovered_from is None for store in stores)
    assert {store.schema_version for store in stores} == {len(MIGRATIONS)}
    assert not list(isolated_dirs.glob("*.corrupt-*"))


def test_newer_schema_is_refused(isolated_dirs):
    Store(isolated_dirs).close()
    conn = sqlite3.connect(isolated_dirs / DB_NAME)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    conn.close()
    with pytest.raises(StorageError, match="newer"):
        Store(isolated_dirs)


def test_corrupted_database_is_kept_aside_and_replaced(isolated_dirs):
    isolated_dirs.mkdir(parents=True)
    (isolated_dirs / DB_NAME).write_bytes(b"this is not a database" * 500)
    store = Store(isolated_dirs)
    assert store.recovered_from is not None and store.recovered_from.exists()
    assert store.recovered_from.read_bytes().startswith(b"this is not a database")
    store.save_session(make_session())
    assert store.list_sessions().total_count == 1


def test_list_filters_pages_and_orders_newest_first(store):
    sessions = []
    for i in range(5):
        s = make_session(platform="zoom" if i % 2 else "teams")
        s.created_at = f"2026-01-0{i + 1}T10:00:00.000Z"
        store.save_session(s)
        sessions.append(s)
    page = store.list_sessions(limit=2)
    assert [s.session_id for s in page.data] == [sessions[4].session_id, sessions[3].session_id]
    assert page.total_count == 5 and page.has_more
    last = store.list_sessions(limit=2, offset=4)
    assert len(last.data) == 1 and not last.has_more
    assert store.list_sessions(platform="zoom").total_count == 2
    assert store.list_sessions(status="completed").total_count == 0


def test_search_finds_transcript_text_and_escapes_wildcards(store):
    s = make_session()
    store.save_session(s)
    store.add_transcript(TranscriptSegment.create(s.session_id, "the budget for 100% growth", 0, 1))
    store.save_session(make_session())
    assert [x.session_id for x in store.list_sessions(search="budget").data] == [s.session_id]
    assert store.list_sessions(search="100%").total_count == 1
    assert store.list_sessions(search="%").total_count == 1  # literal, not a wildcard


def test_children_are_ordered_and_deleted_with_the_session(store):
    s = make_session()
    store.save_session(s)
    store.add_transcript(TranscriptSegment.create(s.session_id, "second", 5, 6))
    store.add_transcript(TranscriptSegment.create(s.session_id, "first", 1, 2, speaker="Bob"))
    store.add_participant_event(ParticipantEvent(s.session_id, "Bob", "joined"))
    store.add_log(LogEntry(s.session_id, "warning", "queue full", details={"dropped": 3}))
    assert [t.text for t in store.transcripts(s.session_id)] == ["first", "second"]
    assert store.participant_events(s.session_id)[0].participant_name == "Bob"
    assert store.logs(s.session_id)[0].details == {"dropped": 3}
    assert store.delete_session(s.session_id)
    assert store.transcripts(s.session_id) == [] and store.logs(s.session_id) == []


def test_children_need_an_existing_session(store):
    with pytest.raises(sqlite3.IntegrityError):
        store.add_transcript(TranscriptSegment.create("mbsess_missing", "x", 0, 1))


def test_unwritable_data_folder_is_a_storage_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StorageError):
        Store(blocker / "data")


@pytest.mark.parametrize("bad", ["", "../etc", "a/b", "a\\b", ".hidden", "x" * 200, "mbsess_\n",
                                 "é"])
def test_ids_are_validated_before_touching_paths(bad):
    with pytest.raises(ValidationError):
        validate_id(bad)


def test_paths_stay_inside_the_root(tmp_path):
    assert recording_dir(tmp_path, "local", "mbsess_abc") == (tmp_path / "recordings/local/mbsess_abc").resolve()
    with pytest.raises(StorageError):
        inside_root(tmp_path, "../outside")
    with pytest.raises(StorageError):
        inside_root(tmp_path, "/etc/passwd")


def test_non_terminal_listing_ignores_remote_mirrors(store):
    local = make_session(status=Status.RECORDING)
    remote = make_session(status=Status.RECORDING)
    store.save_session(local)
    store.save_session(remote, is_remote=True, remote_origin="https://api.example")
    assert [s.session_id for s in store.non_terminal_sessions()] == [local.session_id]
    assert store.session_origin(remote.session_id) == (True, "https://api.example")
