"""SQLite store for sessions, final transcript segments (with their FTS5 full-text index),
participant events, session logs, speaker changes and kept transcript revisions.

WAL mode, foreign keys on, schema versioned with `PRAGMA user_version`. The whole Session
object is kept as JSON (every contract field survives as written) beside indexed columns for
the queries lists and analytics need. Only the SessionManager writes session rows.
"""
from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from app.errors import StorageError, ValidationError
from app.models import LogEntry, ParticipantEvent, Session, Status, TranscriptSegment
from app.notes.models import MeetingNotes
from app.search import (
    DEFAULT_LIMIT,
    ELLIPSIS,
    MARK_CLOSE,
    MARK_OPEN,
    MAX_LIMIT,
    SNIPPET_TOKENS,
    SearchHit,
    SearchPage,
    check_range,
    fts_error,
    fts_query,
    julian_day,
    query_error,
    unmark,
)
from app.timeutil import iso_now

log = logging.getLogger(__name__)

DB_NAME = "meeting-buddy.sqlite3"

# Each entry moves the schema from version i to i+1. Never edit a shipped step; append.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE sessions (
        session_id TEXT PRIMARY KEY,
        organization_id TEXT NOT NULL,
        platform TEXT NOT NULL,
        status TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        is_remote INTEGER NOT NULL DEFAULT 0,
        remote_origin TEXT,
        data TEXT NOT NULL
    );
    CREATE INDEX sessions_created ON sessions(created_at DESC);
    CREATE INDEX sessions_status ON sessions(status);
    CREATE TABLE transcripts (
        transcript_id TEXT PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions(session_id) ON DELETE CASCADE,
        text TEXT NOT NULL,
        start_time REAL NOT NULL,
        end_time REAL NOT NULL,
        speaker TEXT,
        confidence REAL,
        language_code TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX transcripts_session ON transcripts(session_id, start_time);
    CREATE TABLE participant_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL REFERENCES sessions(session_id) ON DELETE CASCADE,
        participant_name TEXT NOT NULL,
        event TEXT NOT NULL CHECK (event IN ('joined', 'left')),
        is_bot INTEGER NOT NULL DEFAULT 0,
        timestamp TEXT NOT NULL
    );
    CREATE INDEX participant_events_session ON participant_events(session_id, id);
    CREATE TABLE session_logs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL REFERENCES sessions(session_id) ON DELETE CASCADE,
        level TEXT NOT NULL CHECK (level IN ('info', 'warning', 'error')),
        message TEXT NOT NULL,
        details TEXT NOT NULL DEFAULT '{}',
        timestamp TEXT NOT NULL
    );
    CREATE INDEX session_logs_session ON session_logs(session_id, id);
    """,
    # The after-meeting pass replaces a transcript: what it replaced is kept as a revision
    # (its segments as they were, ids included, as a JSON array) so it can be restored. Who
    # spoke when is kept for that pass too.
    """
    CREATE TABLE transcript_revisions (
        session_id TEXT NOT NULL REFERENCES sessions(session_id) ON DELETE CASCADE,
        label TEXT NOT NULL,
        created_at TEXT NOT NULL,
        segment_count INTEGER NOT NULL,
        segments TEXT NOT NULL,
        PRIMARY KEY (session_id, label)
    );
    CREATE TABLE speaker_changes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL REFERENCES sessions(session_id) ON DELETE CASCADE,
        time REAL NOT NULL,
        speaker TEXT
    );
    CREATE INDEX speaker_changes_session ON speaker_changes(session_id, time);
    """,
    # Full-text search across every meeting (app/search.py). The transcripts table is rebuilt
    # with an integer key (a plain rowid may change on VACUUM) that the FTS5 index refers to;
    # the index holds no copy of the text (external content) and triggers keep it in step with
    # every insert, update and delete, those of the refine pass's replacement and of a deleted
    # session's cascade included. The transcripts table only ever holds the current transcript
    # (kept revisions are JSON in transcript_revisions), so that is what is indexed. The rebuild
    # at the end indexes the lines an existing database already holds.
    """
    CREATE TABLE transcripts_keyed (
        id INTEGER PRIMARY KEY,
        transcript_id TEXT NOT NULL UNIQUE,
        session_id TEXT NOT NULL REFERENCES sessions(session_id) ON DELETE CASCADE,
        text TEXT NOT NULL,
        start_time REAL NOT NULL,
        end_time REAL NOT NULL,
        speaker TEXT,
        confidence REAL,
        language_code TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    INSERT INTO transcripts_keyed (transcript_id, session_id, text, start_time, end_time, speaker,
                                   confidence, language_code, created_at)
        SELECT transcript_id, session_id, text, start_time, end_time, speaker, confidence,
               language_code, created_at
        FROM transcripts ORDER BY rowid;
    DROP TABLE transcripts;
    ALTER TABLE transcripts_keyed RENAME TO transcripts;
    CREATE INDEX transcripts_session ON transcripts(session_id, start_time);
    CREATE VIRTUAL TABLE transcripts_fts USING fts5(
        text, content='transcripts', content_rowid='id', tokenize='unicode61 remove_diacritics 2');
    CREATE TRIGGER transcripts_fts_insert AFTER INSERT ON transcripts BEGIN
        INSERT INTO transcripts_fts (rowid, text) VALUES (new.id, new.text);
    END;
    CREATE TRIGGER transcripts_fts_delete AFTER DELETE ON transcripts BEGIN
        INSERT INTO transcripts_fts (transcripts_fts, rowid, text) VALUES ('delete', old.id, old.text);
    END;
    CREATE TRIGGER transcripts_fts_update AFTER UPDATE OF id, text ON transcripts BEGIN
        INSERT INTO transcripts_fts (transcripts_fts, rowid, text) VALUES ('delete', old.id, old.text);
        INSERT INTO transcripts_fts (rowid, text) VALUES (new.id, new.text);
    END;
    INSERT INTO transcripts_fts (transcripts_fts) VALUES ('rebuild');
    """,
    # Meeting notes (app/notes/): one row per session, the MeetingNotes as a JSON document.
    """
    CREATE TABLE meeting_notes (
        session_id TEXT PRIMARY KEY REFERENCES sessions(session_id) ON DELETE CASCADE,
        updated_at TEXT NOT NULL,
        data TEXT NOT NULL
    );
    """,
)
SEARCH_SCHEMA = 3  # the first schema with the full-text index

LIVE_REVISION = "live"  # the transcript written while the session ran

# Sessions of this computer that have not ended (the placeholders take _TERMINAL).
_TERMINAL = (Status.COMPLETED.value, Status.FAILED.value)
_LIVE_HERE = "status NOT IN (?, ?) AND is_remote = 0"


def _statements(script: str) -> Iterator[str]:
    """The statements of a migration script, one at a time (a trigger's body keeps its own
    semicolons)."""
    pending = ""
    for part in script.split(";"):
        pending += part + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \t\r\n;"):
                yield pending
            pending = ""


def _require_fts5(conn: sqlite3.Connection) -> None:
    """The search index needs SQLite's FTS5; a build without it is told so in words (rather
    than the migration failing like a damaged file)."""
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.fts5_probe USING fts5(text)")
        conn.execute("DROP TABLE temp.fts5_probe")
    except sqlite3.OperationalError as exc:
        raise StorageError(f"This Python's SQLite {sqlite3.sqlite_version} lacks the FTS5 full-text "
                           f"extension that Meeting Buddy's search needs ({exc})") from exc


@dataclass(frozen=True)
class SessionPage:
    data: list[Session]
    total_count: int
    has_more: bool


@dataclass(frozen=True)
class TranscriptRevision:
    label: str  # "live" or "refined:<model>"
    created_at: str
    segment_count: int


class Store:
    """Thread-safe access to the database (one connection, serialized by a lock)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"Cannot create the data folder {self.root}: {exc.strerror}") from exc
        self.path = self.root / DB_NAME
        self.recovered_from: Path | None = None
        self._lock = threading.RLock()
        self._conn = self._open()
        # Searches read through a connection of their own (WAL lets it read beside the
        # writer), so a search run off the GUI thread never holds up a transcript line's write.
        self._search_lock = threading.Lock()
        self._search_conn: sqlite3.Connection | None = None
        self._closed = False

    # -- opening, migrations, corruption -------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        try:
            conn = self._connect()
            conn.execute("PRAGMA quick_check").fetchone()
            self._migrate(conn)
            return conn
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                raise StorageError(f"The database {self.path} is locked by another process") from exc
            # A damaged file is moved aside, never deleted, and a fresh store takes its place.
            backup = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}")
            try:
                conn.close()
            except Exception:
                pass
            for suffix in ("", "-wal", "-shm"):
                src = Path(str(self.path) + suffix)
                if src.exists():
                    src.rename(Path(str(backup) + suffix))
            log.error("Database %s was unreadable (%s); kept it as %s and started a fresh one",
                      self.path, exc, backup)
            self.recovered_from = backup
            conn = self._connect()
            self._migrate(conn)
            return conn
        except OSError as exc:
            raise StorageError(f"Cannot open the database {self.path}: {exc}") from exc

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
        except sqlite3.OperationalError as exc:
            raise StorageError(f"Cannot open the database {self.path}: {exc}") from exc
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    @staticmethod
    def _migrate(conn: sqlite3.Connection) -> None:
        # The version is read under the write lock: two processes opening a new data folder at
        # once (the app starting while a command reads) migrate it once, not twice.
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > len(MIGRATIONS):
                raise StorageError(
                    f"The database was written by a newer Meeting Buddy (schema {version}); "
                    "update the application")
            if version < SEARCH_SCHEMA:
                _require_fts5(conn)
            for target, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in _statements(script):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {target}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    @property
    def schema_version(self) -> int:
        with self._lock:
            return self._conn.execute("PRAGMA user_version").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._conn.close()
        with self._search_lock:
            self._closed = True
            if self._search_conn is not None:
                self._search_conn.close()
                self._search_conn = None

    def _write(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        with self._lock:
            try:
                return self._conn.execute(sql, tuple(params))
            except sqlite3.OperationalError as exc:
                raise StorageError(f"Cannot write to the database: {exc}") from exc

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One all-or-nothing write; an interruption (Ctrl+C included) rolls it back."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise StorageError(f"Cannot write to the database: {exc}") from exc
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException as exc:
                self._conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError):
                    raise StorageError(f"Cannot write to the database: {exc}") from exc
                raise

    # -- sessions ------------------------------------------------------------------------

    def save_session(self, session: Session, *, is_remote: bool = False,
                     remote_origin: str | None = None) -> None:
        self._write(
            """INSERT INTO sessions (session_id, organization_id, platform, status, created_at,
                   updated_at, is_remote, remote_origin, data)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT(session_id) DO UPDATE SET
                   organization_id=excluded.organization_id, platform=excluded.platform,
                   status=excluded.status, created_at=excluded.created_at,
                   updated_at=excluded.updated_at, is_remote=excluded.is_remote,
                   remote_origin=excluded.remote_origin, data=excluded.data""",
            (session.session_id, session.organization_id, session.platform, session.status.value,
             session.created_at, session.updated_at, int(is_remote), remote_origin,
             json.dumps(session.to_dict())),
        )

    def get_session(self, session_id: str) -> Session | None:
        with self._lock:
            row = self._conn.execute("SELECT data FROM sessions WHERE session_id = ?",
                                     (session_id,)).fetchone()
        return Session.from_dict(json.loads(row["data"]), copy_values=False) if row else None

    def session_origin(self, session_id: str) -> tuple[bool, str | None]:
        with self._lock:
            row = self._conn.execute(
                "SELECT is_remote, remote_origin FROM sessions WHERE session_id = ?",
                (session_id,)).fetchone()
        return (bool(row["is_remote"]), row["remote_origin"]) if row else (False, None)

    def list_sessions(self, *, status: str | None = None, platform: str | None = None,
                      limit: int = 20, offset: int = 0, search: str | None = None,
                      include_remote: bool = True) -> SessionPage:
        where, params = [], []
        if status:
            where.append("status = ?")
            params.append(status)
        if platform:
            where.append("platform = ?")
            params.append(platform)
        if not include_remote:
            where.append("is_remote = 0")
        if search:
            where.append("(data LIKE ? ESCAPE '\\' OR session_id IN "
                         "(SELECT session_id FROM transcripts WHERE text LIKE ? ESCAPE '\\'))")
            pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            params += [pattern, pattern]
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        with self._lock:
            total = self._conn.execute(f"SELECT COUNT(*) FROM sessions {clause}", params).fetchone()[0]
            rows = self._conn.execute(
                f"SELECT data FROM sessions {clause} ORDER BY created_at DESC, session_id DESC "
                "LIMIT ? OFFSET ?", [*params, limit, offset]).fetchall()
        data = [Session.from_dict(json.loads(r["data"]), copy_values=False) for r in rows]
        return SessionPage(data, total, offset + len(data) < total)

    def all_sessions(self) -> list[Session]:
        with self._lock:
            rows = self._conn.execute("SELECT data FROM sessions ORDER BY created_at").fetchall()
        return [Session.from_dict(json.loads(r["data"]), copy_values=False) for r in rows]

    def has_live_sessions(self) -> bool:
        """Whether a session of this computer has not ended (cheaper than listing them)."""
        with self._lock:
            return self._conn.execute(f"SELECT 1 FROM sessions WHERE {_LIVE_HERE} LIMIT 1",
                                      _TERMINAL).fetchone() is not None

    def non_terminal_sessions(self) -> list[Session]:
        with self._lock:
            rows = self._conn.execute(f"SELECT data FROM sessions WHERE {_LIVE_HERE}", _TERMINAL).fetchall()
        return [Session.from_dict(json.loads(r["data"]), copy_values=False) for r in rows]

    def delete_session(self, session_id: str) -> bool:
        return self._write("DELETE FROM sessions WHERE session_id = ?", (session_id,)).rowcount > 0

    # -- transcripts ---------------------------------------------------------------------

    def add_transcript(self, seg: TranscriptSegment) -> None:
        # An upsert, not INSERT OR REPLACE: a replacing delete fires no trigger, and the search
        # index's triggers must see every change.
        self._write(
            """INSERT INTO transcripts (transcript_id, session_id, text, start_time,
                   end_time, speaker, confidence, language_code, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT(transcript_id) DO UPDATE SET
                   session_id=excluded.session_id, text=excluded.text,
                   start_time=excluded.start_time, end_time=excluded.end_time,
                   speaker=excluded.speaker, confidence=excluded.confidence,
                   language_code=excluded.language_code, created_at=excluded.created_at""",
            (seg.transcript_id, seg.session_id, seg.text, seg.start_time, seg.end_time,
             seg.speaker, seg.confidence, seg.language_code, seg.created_at))

    def import_session(self, session: Session, segments: Iterable[TranscriptSegment], *,
                       origin: str) -> None:
        """A remote copy and its transcripts, written in one transaction."""
        segments = list(segments)
        with self._transaction() as conn:
            ids = [s.transcript_id for s in segments]
            for start in range(0, len(ids), 500):
                batch = ids[start:start + 500]
                clash = conn.execute(
                    f"SELECT transcript_id FROM transcripts WHERE transcript_id IN "
                    f"({','.join('?' * len(batch))}) AND session_id <> ?",
                    [*batch, session.session_id]).fetchone()
                if clash:
                    raise ValidationError(
                        f"Transcript {clash[0]!r} belongs to another session",
                        field="transcripts")
            self.save_session(session, is_remote=True, remote_origin=origin)
            conn.execute("DELETE FROM transcripts WHERE session_id = ?", (session.session_id,))
            for seg in segments:
                self.add_transcript(seg)

    def transcripts(self, session_id: str, *, offset: int = 0, limit: int = -1) -> list[TranscriptSegment]:
        """A session's final segments in spoken order; `offset`/`limit` page through them
        (limit -1: all)."""
        with self._lock:
            rows = self._conn.execute(
                """SELECT transcript_id, session_id, text, start_time, end_time, speaker,
                          confidence, language_code, created_at
                   FROM transcripts WHERE session_id = ? ORDER BY start_time, created_at, transcript_id
                   LIMIT ? OFFSET ?""",
                (session_id, limit, offset)).fetchall()
        return [TranscriptSegment(**dict(r)) for r in rows]

    def iter_transcripts(self, session_id: str, page: int = 100) -> Iterator[TranscriptSegment]:
        """The same segments, read a page at a time as they are consumed."""
        offset = 0
        while batch := self.transcripts(session_id, offset=offset, limit=page):
            yield from batch
            offset += len(batch)

    # -- full-text search (app/search.py) -----------------------------------------------

    def search(self, query: str, *, speaker: str | None = None, since: datetime | None = None,
               until: datetime | None = None, limit: int = DEFAULT_LIMIT, offset: int = 0,
               raw: bool = False) -> SearchPage:
        """Transcript lines of every session that match `query`, best first (bm25), each with a
        snippet around the match. `speaker` keeps one speaker's lines (case does not matter);
        `since`/`until` keep sessions started (created_at) in that range, both ends included.
        ValidationError for a query with nothing to look for, or (with `raw`) one FTS5 cannot
        read."""
        match = fts_query(query, raw=raw)
        if not 1 <= limit <= MAX_LIMIT:
            raise ValidationError(f"limit must be 1 to {MAX_LIMIT}", field="limit")
        if offset < 0:
            raise ValidationError("offset must not be negative", field="offset")
        check_range(since, until)
        where, joins = ["transcripts_fts MATCH ?1"], []
        params: list[str | float] = [match]
        if speaker is not None and speaker.strip():
            joins.append("CROSS JOIN transcripts AS t ON t.id = transcripts_fts.rowid")
            where.append(f"t.speaker = ?{len(params) + 1} COLLATE NOCASE")
            params.append(speaker.strip())
        if since is not None or until is not None:
            if not joins:
                joins.append("CROSS JOIN transcripts AS t ON t.id = transcripts_fts.rowid")
            joins.append("CROSS JOIN sessions AS s ON s.session_id = t.session_id")
            for moment, op in ((since, ">="), (until, "<=")):
                if moment is not None:
                    where.append(f"julianday(s.created_at) {op} ?{len(params) + 1}")
                    params.append(julian_day(moment))
        # The page is ranked first, over the index (and what the filters need) alone; only its
        # lines are then read in full, with their snippets. CROSS JOIN keeps the index driving.
        sql = f"""WITH ranked AS MATERIALIZED (
                      SELECT transcripts_fts.rowid AS id, bm25(transcripts_fts) AS score
                      FROM transcripts_fts {" ".join(joins)}
                      WHERE {" AND ".join(where)}
                      ORDER BY score, id LIMIT ?{len(params) + 1} OFFSET ?{len(params) + 2})
                  SELECT t.transcript_id, t.session_id, t.text, t.start_time, t.end_time, t.speaker,
                         t.language_code, s.created_at AS session_created_at, s.platform, ranked.score,
                         snippet(transcripts_fts, 0, ?{len(params) + 3}, ?{len(params) + 4},
                                 ?{len(params) + 5}, {SNIPPET_TOKENS}) AS snippet
                  FROM ranked
                  CROSS JOIN transcripts_fts ON transcripts_fts.rowid = ranked.id
                  CROSS JOIN transcripts AS t ON t.id = ranked.id
                  CROSS JOIN sessions AS s ON s.session_id = t.session_id
                  WHERE transcripts_fts MATCH ?1
                  ORDER BY ranked.score, ranked.id"""
        args = [*params, limit + 1, offset, MARK_OPEN, MARK_CLOSE, ELLIPSIS]
        with self._search_lock:
            try:
                rows = self._reader().execute(sql, args).fetchall()
            except sqlite3.OperationalError as exc:
                if fts_error(str(exc)):
                    raise query_error(query, str(exc)) from None
                raise StorageError(f"Cannot read the database: {exc}") from exc
        hits = []
        for row in rows[:limit]:
            snippet, spans = unmark(row["snippet"] or row["text"])
            hits.append(SearchHit(
                session_id=row["session_id"], transcript_id=row["transcript_id"], text=row["text"],
                snippet=snippet, highlights=spans, speaker=row["speaker"], start_time=row["start_time"],
                end_time=row["end_time"], language_code=row["language_code"], score=-row["score"],
                session_created_at=row["session_created_at"], platform=row["platform"]))
        return SearchPage(query, hits, len(rows) > limit, limit, offset)

    def _reader(self) -> sqlite3.Connection:
        if self._closed:
            raise StorageError(f"The database {self.path} is closed")
        if self._search_conn is None:
            try:
                conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
            except sqlite3.OperationalError as exc:
                raise StorageError(f"Cannot open the database {self.path}: {exc}") from exc
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA query_only=ON")
            self._search_conn = conn
        return self._search_conn

    def search_index_count(self) -> int:
        """How many lines the full-text index holds (every current transcript line)."""
        with self._lock:
            return self._conn.execute("SELECT COUNT(*) FROM transcripts_fts_docsize").fetchone()[0]

    # -- transcript revisions ------------------------------------------------------------

    def transcript_revisions(self, session_id: str) -> list[TranscriptRevision]:
        """The transcripts kept for a session, the live one first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT label, created_at, segment_count FROM transcript_revisions WHERE session_id = ? "
                "ORDER BY label <> ?, created_at", (session_id, LIVE_REVISION)).fetchall()
        return [TranscriptRevision(r["label"], r["created_at"], r["segment_count"]) for r in rows]

    def revision_transcripts(self, session_id: str, label: str) -> list[TranscriptSegment]:
        """The segments of a kept revision in spoken order ([] when none is kept)."""
        with self._lock:
            row = self._conn.execute("SELECT segments FROM transcript_revisions WHERE session_id = ? AND label = ?",
                                     (session_id, label)).fetchone()
        return [TranscriptSegment(**segment) for segment in json.loads(row["segments"])] if row else []

    def replace_transcript(self, session: Session, segments: Iterable[TranscriptSegment], *,
                           label: str, outgoing: str) -> None:
        """In one transaction: the current transcript (revision `outgoing`) is kept unless it
        is kept already, `segments` become the transcript and revision `label` (replacing
        any earlier non-live revision: the live one and the newest replacement are what is
        kept), and `session` is saved."""
        sid = session.session_id
        with self._transaction() as conn:
            if not self._has_revision(sid, outgoing):
                self._keep_revision(sid, outgoing)
            conn.execute("DELETE FROM transcript_revisions WHERE session_id = ? AND label <> ?",
                         (sid, LIVE_REVISION))
            conn.execute("DELETE FROM transcripts WHERE session_id = ?", (sid,))
            for seg in segments:
                self.add_transcript(seg)
            self._keep_revision(sid, label)
            self.save_session(session)

    def restore_transcript(self, session: Session, label: str) -> int:
        """In one transaction: revision `label` becomes the transcript again and `session` is
        saved. Returns its number of segments; ValidationError when no such revision is kept."""
        sid = session.session_id
        with self._transaction() as conn:
            if not self._has_revision(sid, label):
                raise ValidationError(f"Session {sid} keeps no transcript revision {label!r}",
                                      field="revision")
            segments = self.revision_transcripts(sid, label)
            conn.execute("DELETE FROM transcripts WHERE session_id = ?", (sid,))
            for seg in segments:
                self.add_transcript(seg)
            self.save_session(session)
        return len(segments)

    def rename_speaker(self, session_id: str, old: str, new: str) -> int:
        """In one transaction: every line of speaker `old` (in the transcript and in every kept
        revision) and the speaker changes kept for the after-meeting pass name `new`. Returns
        how many lines of the current transcript changed."""
        with self._transaction() as conn:
            changed = conn.execute("UPDATE transcripts SET speaker = ? WHERE session_id = ? AND speaker = ?",
                                   (new, session_id, old)).rowcount
            conn.execute("UPDATE speaker_changes SET speaker = ? WHERE session_id = ? AND speaker = ?",
                         (new, session_id, old))
            rows = conn.execute("SELECT label, segments FROM transcript_revisions WHERE session_id = ?",
                                (session_id,)).fetchall()
            for row in rows:
                segments = json.loads(row["segments"])
                if any(seg.get("speaker") == old for seg in segments):
                    for seg in segments:
                        seg["speaker"] = new if seg.get("speaker") == old else seg.get("speaker")
                    conn.execute("UPDATE transcript_revisions SET segments = ? WHERE session_id = ? AND label = ?",
                                 (json.dumps(segments), session_id, row["label"]))
        return changed

    def _has_revision(self, session_id: str, label: str) -> bool:
        return self._conn.execute("SELECT 1 FROM transcript_revisions WHERE session_id = ? AND label = ?",
                                  (session_id, label)).fetchone() is not None

    def _keep_revision(self, session_id: str, label: str) -> None:
        """Keeps the session's transcript as it is now as revision `label`."""
        segments = [seg.to_dict() for seg in self.transcripts(session_id)]
        self._conn.execute(
            "INSERT INTO transcript_revisions (session_id, label, created_at, segment_count, segments) "
            "VALUES (?, ?, ?, ?, ?)", (session_id, label, iso_now(), len(segments), json.dumps(segments)))

    # -- meeting notes ---------------------------------------------------------------------

    def save_notes(self, notes: MeetingNotes) -> None:
        self._write("INSERT INTO meeting_notes (session_id, updated_at, data) VALUES (?, ?, ?) "
                    "ON CONFLICT(session_id) DO UPDATE SET updated_at=excluded.updated_at, data=excluded.data",
                    (notes.session_id, iso_now(), json.dumps(notes.to_dict())))

    def notes(self, session_id: str) -> MeetingNotes | None:
        """The session's meeting notes, None when it has none."""
        with self._lock:
            row = self._conn.execute("SELECT data FROM meeting_notes WHERE session_id = ?",
                                     (session_id,)).fetchone()
        return MeetingNotes.from_dict(json.loads(row["data"])) if row else None

    # -- who spoke when --------------------------------------------------------------------

    def add_speaker_change(self, session_id: str, time: float, speaker: str | None) -> None:
        self._write("INSERT INTO speaker_changes (session_id, time, speaker) VALUES (?, ?, ?)",
                    (session_id, time, speaker))

    def speaker_changes(self, session_id: str) -> list[tuple[float, str | None]]:
        """(session seconds, speaker or None for nobody) in the order they happened."""
        with self._lock:
            rows = self._conn.execute("SELECT time, speaker FROM speaker_changes WHERE session_id = ? "
                                      "ORDER BY time, id", (session_id,)).fetchall()
        return [(r["time"], r["speaker"]) for r in rows]

    # -- participants and logs -----------------------------------------------------------

    def add_participant_event(self, ev: ParticipantEvent) -> None:
        self._write(
            "INSERT INTO participant_events (session_id, participant_name, event, is_bot, timestamp)"
            " VALUES (?, ?, ?, ?, ?)",
            (ev.session_id, ev.participant_name, ev.event, int(ev.is_bot), ev.timestamp))

    def participant_events(self, session_id: str) -> list[ParticipantEvent]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT session_id, participant_name, event, is_bot, timestamp "
                "FROM participant_events WHERE session_id = ? ORDER BY id", (session_id,)).fetchall()
        return [ParticipantEvent(r["session_id"], r["participant_name"], r["event"],
                                 r["timestamp"], bool(r["is_bot"])) for r in rows]

    def add_log(self, entry: LogEntry) -> None:
        self._write(
            "INSERT INTO session_logs (session_id, level, message, details, timestamp)"
            " VALUES (?, ?, ?, ?, ?)",
            (entry.session_id, entry.level, entry.message, json.dumps(entry.details),
             entry.timestamp))

    def logs(self, session_id: str) -> list[LogEntry]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT session_id, level, message, details, timestamp FROM session_logs "
                "WHERE session_id = ? ORDER BY id", (session_id,)).fetchall()
        return [LogEntry(r["session_id"], r["level"], r["message"], r["timestamp"],
                         json.loads(r["details"])) for r in rows]
