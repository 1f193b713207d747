"""store.py against the 2026.9 schema generation: compressed rows, progress that survives deletes and
VACUUM, rewrite watermarks, archived (deleted) sessions, session keys, branches, journal modes.

The schema below holds the columns and tables OpenClaw 2026.9.6 creates that we read (user_version 23,
STRICT, ordinary rowids); the integration tests in tests/real_openclaw/ check the same against the real CLI.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import zstandard
from fixtures_openclaw import assistant, conversation, counts, dumps, header, index, jsonl, ms, refresh, user, write

from memory_syncd.read import store
from memory_syncd.read.ingest import AgentIndex
from memory_syncd.read.sessionmeta import SessionMeta

DAY1 = ms("2026-09-20T09:00:00+02:00")
DAY2 = ms("2026-09-21T09:00:00+02:00")
GEN = "0123456789abcdef0123456789abcdef"

SCHEMA_2026_9 = """
CREATE TABLE schema_meta (meta_key TEXT NOT NULL PRIMARY KEY, role TEXT NOT NULL, schema_version INTEGER NOT NULL,
  agent_id TEXT, app_version TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL) STRICT;
CREATE TABLE session_nodes (session_key TEXT NOT NULL PRIMARY KEY, current_session_id TEXT NOT NULL,
  entry_json TEXT NOT NULL, updated_at INTEGER NOT NULL) STRICT;
CREATE TABLE session_windows (session_id TEXT NOT NULL PRIMARY KEY, session_key TEXT NOT NULL,
  previous_session_id TEXT, reason TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
  channel TEXT, model TEXT) STRICT;
CREATE TABLE transcript_events (session_id TEXT NOT NULL, seq INTEGER NOT NULL, event_json TEXT,
  created_at INTEGER NOT NULL, event_zstd BLOB, event_utf8_bytes INTEGER, navigation_json TEXT,
  PRIMARY KEY (session_id, seq),
  CHECK ((event_json IS NOT NULL AND event_zstd IS NULL) OR (event_json IS NULL AND event_zstd IS NOT NULL
         AND event_utf8_bytes IS NOT NULL))) STRICT;
CREATE TABLE session_transcript_archives (session_id TEXT NOT NULL, generation TEXT NOT NULL,
  session_key TEXT NOT NULL, reason TEXT NOT NULL, encoding TEXT NOT NULL, archive_blob BLOB NOT NULL,
  archive_sha256 TEXT NOT NULL, archive_name TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL,
  published_at INTEGER, PRIMARY KEY (session_id, generation)) STRICT;
CREATE TABLE transcript_rewrite_watermarks (session_id TEXT NOT NULL PRIMARY KEY, generation TEXT NOT NULL,
  updated_at INTEGER NOT NULL) STRICT;
CREATE TABLE session_transcript_index_state (session_id TEXT NOT NULL PRIMARY KEY, indexed_seq INTEGER NOT NULL,
  leaf_event_id TEXT, needs_rebuild INTEGER NOT NULL DEFAULT 0, active_event_count INTEGER NOT NULL DEFAULT 0,
  active_message_count INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL) STRICT;
CREATE TABLE session_transcript_active_events (session_id TEXT NOT NULL, active_position INTEGER NOT NULL,
  event_seq INTEGER NOT NULL, message_position INTEGER, context_eligible INTEGER,
  PRIMARY KEY (session_id, active_position)) STRICT;
PRAGMA user_version = 23;
"""

# The first SQLite releases: event_json only, and a `sessions` table for keys.
SCHEMA_FIRST = """
CREATE TABLE sessions (session_id TEXT PRIMARY KEY, session_key TEXT, updated_at INTEGER);
CREATE TABLE transcript_events (session_id TEXT NOT NULL, seq INTEGER NOT NULL, event_json TEXT NOT NULL,
  created_at INTEGER NOT NULL, PRIMARY KEY (session_id, seq));
PRAGMA user_version = 12;
"""


COLS = "(session_id, seq, event_json, created_at, event_zstd, event_utf8_bytes)"


class Store:
    """A store OpenClaw-style: compresses events of 1 KiB and more, as transcript-payload.ts does."""

    def __init__(self, path: Path, schema: str = SCHEMA_2026_9, journal: str = "WAL") -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.con = sqlite3.connect(path, isolation_level=None)
        self.con.execute(f"PRAGMA journal_mode={journal}")
        self.con.executescript(schema)
        self.compressed = "event_zstd" in {r[1] for r in self.con.execute("PRAGMA table_info(transcript_events)")}

    def add(self, session: str, records: list[dict[str, Any]], *, key: str = "", first_seq: int | None = None,
            channel: str | None = None) -> None:
        seq = first_seq if first_seq is not None else self.next_seq(session)
        if self.compressed:
            self.con.execute("INSERT OR IGNORE INTO session_windows VALUES (?, ?, NULL, 'initial', 0, 0, ?, NULL)",
                             (session, key or f"agent:main:explicit:{session}", channel))
        elif key:
            self.con.execute("INSERT OR IGNORE INTO sessions VALUES (?, ?, 0)", (session, key))
        for rec in records:
            raw = dumps(rec)
            if self.compressed and len(raw) >= 1024:
                self.con.execute(f"INSERT INTO transcript_events {COLS} VALUES (?, ?, NULL, 0, ?, ?)",
                                 (session, seq, zstandard.ZstdCompressor(level=1).compress(raw), len(raw)))
            elif self.compressed:
                self.con.execute(f"INSERT INTO transcript_events {COLS} VALUES (?, ?, ?, 0, NULL, ?)",
                                 (session, seq, raw.decode(), len(raw)))
            else:
                self.con.execute("INSERT INTO transcript_events VALUES (?, ?, ?, 0)", (session, seq, raw.decode()))
            seq += 1

    def next_seq(self, session: str) -> int:
        row = self.con.execute("SELECT max(seq) FROM transcript_events WHERE session_id = ?", (session,)).fetchone()
        return 0 if row[0] is None else int(row[0]) + 1

    def delete_session(self, session: str, sessions_dir: Path | None = None) -> bytes:
        """What `openclaw sessions delete` does: archive the whole transcript as zstd JSONL, then drop the rows."""
        rows = store.connect(self.path)
        try:
            sc = store.schema(rows, self.path)
            events = [r.event for r in store.read_range(rows, sc, session, 0, 1 << 40, 1 << 30)]
        finally:
            rows.close()
        blob = zstandard.ZstdCompressor().compress(b"".join(e + b"\n" for e in events if e))
        name = f"{session}.jsonl.deleted.2026-09-22T10-00-00.000Z.{GEN}.zst"
        self.con.execute("INSERT INTO session_transcript_archives VALUES (?, ?, ?, 'deleted', 'zstd', ?, ?, ?, 0, 0)",
                         (session, GEN, f"agent:main:explicit:{session}", blob, "a" * 64, name))
        self.con.execute("DELETE FROM transcript_events WHERE session_id = ?", (session,))
        self.con.execute("DELETE FROM session_windows WHERE session_id = ?", (session,))
        if sessions_dir is not None:
            write(sessions_dir / name, blob)
        return blob


def long_answer(at: int, tag: str) -> dict[str, Any]:
    return assistant(at, f"{tag}: " + "a long answer that compresses well. " * 60)


@pytest.fixture
def db(tmp_path: Path) -> Store:
    return Store(tmp_path / "agent" / "openclaw-agent.sqlite")


def idx_of(tmp_path: Path, s: Store, **kw: Any) -> AgentIndex:
    return index(tmp_path / "sessions", sqlite=s.path, **kw)


def test_compressed_rows_are_decoded_and_counted(tmp_path: Path, db: Store) -> None:
    db.add("s1", [header("s1", DAY1), user(DAY1, "q"), long_answer(DAY1 + 1, "ZEBRA"), user(DAY1 + 2, "q2"),
                  assistant(DAY1 + 3, "short")])
    assert db.con.execute("SELECT count(*) FROM transcript_events WHERE event_zstd IS NOT NULL").fetchone()[0] == 1
    idx = idx_of(tmp_path, db)
    report = refresh(idx)
    assert counts(idx) == {"2026-09-20": 4}
    assert not idx.skipped() and not report.errors
    texts = b"".join(raw for _, raw in idx.day_lines(next(iter(idx.days()))))
    assert b"ZEBRA: a long answer" in texts


def test_undecodable_compressed_row_is_counted_once_and_reading_goes_on(tmp_path: Path, db: Store) -> None:
    db.add("s1", [user(DAY1, "q"), assistant(DAY1 + 1, "fine")])
    junk = b"\x28\xb5\x2f\xfd junk"  # a zstd magic number and then garbage
    db.con.execute(f"INSERT INTO transcript_events {COLS} VALUES ('s1', 9, NULL, 0, ?, 5000)", (junk,))
    # a frame that decodes to more than event_utf8_bytes says: it is not what OpenClaw wrote
    big = zstandard.ZstdCompressor().compress(dumps(long_answer(DAY1 + 2, "X")))
    db.con.execute(f"INSERT INTO transcript_events {COLS} VALUES ('s1', 10, NULL, 0, ?, 100)", (big,))
    db.add("s1", [assistant(DAY1 + 3, "after")])
    idx = idx_of(tmp_path, db)
    assert not refresh(idx).errors
    assert counts(idx) == {"2026-09-20": 3}
    assert idx.skipped() == {"undecodable compressed row": 2}
    db.add("s1", [assistant(DAY1 + 4, "later")])
    refresh(idx)
    assert idx.skipped() == {"undecodable compressed row": 2}  # not again on the next read


def test_oversize_rows_are_skipped_without_fetching_them(tmp_path: Path, db: Store) -> None:
    db.add("s1", [user(DAY1, "q"), long_answer(DAY1 + 1, "BIG"), assistant(DAY1 + 2, "ok")])
    idx = idx_of(tmp_path, db, max_line=1024)
    report = refresh(idx)
    assert counts(idx) == {"2026-09-20": 2}
    assert idx.skipped() == {"too_long": 1} and report.too_long == 1


def test_first_generation_schema_reads_with_keys(tmp_path: Path) -> None:
    s = Store(tmp_path / "agent" / "openclaw-agent.sqlite", SCHEMA_FIRST)
    s.add("s1", [header("s1", DAY1), user(DAY1, "q"), long_answer(DAY1 + 1, "A")], key="agent:main:telegram:direct:7")
    idx = idx_of(tmp_path, s)
    refresh(idx)
    assert counts(idx) == {"2026-09-20": 2}
    assert idx.session_meta()["s1"] == SessionMeta("agent:main:telegram:direct:7", "")


def test_newer_schema_version_warns_once_and_reads_known_columns(tmp_path: Path, db: Store,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    db.con.execute("ALTER TABLE transcript_events ADD COLUMN event_cbor BLOB")
    db.con.execute("PRAGMA user_version = 31")
    db.add("s1", [user(DAY1, "q"), long_answer(DAY1 + 1, "A")])
    idx = idx_of(tmp_path, db)
    with caplog.at_level(logging.WARNING):
        refresh(idx)
        db.add("s1", [assistant(DAY1 + 5, "more")])
        refresh(idx)
    assert counts(idx) == {"2026-09-20": 3}
    warnings = [r.getMessage() for r in caplog.records if "schema version 31" in r.getMessage()]
    assert len(warnings) == 1 and "newer than the newest known (23)" in warnings[0]


def test_progress_survives_deletes_rowid_reuse_and_vacuum(tmp_path: Path, db: Store) -> None:
    db.add("old", conversation("old", DAY1, 20, tag="old-"))
    db.add("s2", conversation("s2", DAY1, 5, tag="s2-"))
    idx = idx_of(tmp_path, db)
    refresh(idx)
    assert counts(idx) == {"2026-09-20": 50}
    db.con.execute("DELETE FROM transcript_events WHERE session_id = 'old'")  # OpenClaw deletes a session...
    db.con.execute("VACUUM")  # ...and vacuums: rowids are renumbered and reused
    db.add("new", conversation("new", DAY2, 3, tag="new-"))
    report = refresh(idx)
    assert counts(idx) == {"2026-09-20": 50, "2026-09-21": 6}  # past days never drop, new rows all read
    assert report.read_bytes == sum(len(dumps(r)) for r in conversation("new", DAY2, 3, tag="new-"))


def test_rewrite_watermark_rereads_the_session_without_double_counting(tmp_path: Path, db: Store) -> None:
    recs = conversation("s1", DAY1, 4, tag="r-")
    db.add("s1", recs)
    idx = idx_of(tmp_path, db)
    refresh(idx)
    # a rewrite: rows copied with new seqs, the old ones removed, a new generation recorded
    db.con.execute("DELETE FROM transcript_events WHERE session_id = 's1'")
    db.add("s1", recs, first_seq=100)
    db.con.execute("INSERT OR REPLACE INTO transcript_rewrite_watermarks VALUES ('s1', 'g2', 0)")
    report = refresh(idx)
    assert report.read_bytes > 0
    assert counts(idx) == {"2026-09-20": 8}


def test_deleted_session_stays_in_its_day(tmp_path: Path, db: Store) -> None:
    db.add("gone", [header("gone", DAY1), user(DAY1, "to be deleted"), long_answer(DAY1 + 1, "KEEPME")])
    db.add("s2", [user(DAY2, "other")])
    live = idx_of(tmp_path, db)
    refresh(live)
    db.delete_session("gone", tmp_path / "sessions")
    refresh(live)
    assert counts(live) == {"2026-09-20": 2, "2026-09-21": 1}
    fresh = idx_of(tmp_path, db)  # a first run after the delete: the archive row and file hold it
    refresh(fresh)
    assert counts(fresh) == {"2026-09-20": 2, "2026-09-21": 1}
    texts = b"".join(raw for _, raw in fresh.day_lines(next(iter(fresh.days()))))
    assert b"KEEPME" in texts
    assert fresh.session_meta()["gone"].key == "agent:main:explicit:gone"


def test_deleted_session_from_the_archive_row_alone(tmp_path: Path, db: Store) -> None:
    db.add("gone", [user(DAY1, "q"), long_answer(DAY1 + 1, "ROWONLY")])
    db.delete_session("gone")  # the published file may be missing: the row is canonical
    idx = idx_of(tmp_path, db)
    refresh(idx)
    assert counts(idx) == {"2026-09-20": 2}
    assert b"ROWONLY" in b"".join(raw for _, raw in idx.day_lines(next(iter(idx.days()))))
    assert refresh(idx).read_bytes == 0  # an archive is read once


def test_archive_file_named_with_generation_is_read(tmp_path: Path) -> None:
    recs = [header("f1", DAY1), user(DAY1, "q"), assistant(DAY1 + 1, "a")]
    write(tmp_path / "sessions" / f"f1.jsonl.deleted.2026-09-22T10-00-00.000Z.{GEN}.zst",
          zstandard.ZstdCompressor().compress(jsonl(recs)))
    write(tmp_path / "sessions" / "f2.jsonl.deleted.1767225600", jsonl([user(DAY2, "epoch-named")]))
    idx = index(tmp_path / "sessions")
    refresh(idx)
    assert counts(idx) == {"2026-09-20": 2, "2026-09-21": 1}


def test_session_keys_and_channels_from_windows(tmp_path: Path, db: Store) -> None:
    db.add("c1", [user(DAY1, "[cron:j1 nightly] run")], key="agent:main:cron:j1", channel=None)
    db.add("t1", [user(DAY1, "hi")], key="agent:main:telegram:direct:42", channel="telegram")
    idx = idx_of(tmp_path, db)
    refresh(idx)
    meta = idx.session_meta()
    assert meta["c1"] == SessionMeta("agent:main:cron:j1", "")
    assert meta["t1"] == SessionMeta("agent:main:telegram:direct:42", "telegram")


def test_rewound_branch_is_counted_but_not_rendered(tmp_path: Path, db: Store) -> None:
    db.add("b", [header("b", DAY1), user(DAY1, "first try"), assistant(DAY1 + 1, "REWOUND answer"),
                 user(DAY1 + 2, "second try"), assistant(DAY1 + 3, "ACTIVE answer")])
    # seqs 0..4; the active branch skips the rewound exchange (1, 2)
    for pos, seq in enumerate([0, 3, 4]):
        db.con.execute("INSERT INTO session_transcript_active_events VALUES ('b', ?, ?, NULL, 1)", (pos, seq))
    db.con.execute("INSERT INTO session_transcript_index_state VALUES ('b', 4, NULL, 0, 3, 2, 0)")
    db.add("b", [user(DAY1 + 4, "not indexed yet"), assistant(DAY1 + 5, "NEWEST answer")])
    idx = idx_of(tmp_path, db)
    refresh(idx)
    assert counts(idx) == {"2026-09-20": 6}
    texts = b"".join(raw for _, raw in idx.day_lines(next(iter(idx.days()))))
    assert b"ACTIVE answer" in texts and b"NEWEST answer" in texts
    assert b"REWOUND answer" not in texts


def test_rollback_journal_mode_store(tmp_path: Path) -> None:
    s = Store(tmp_path / "agent" / "openclaw-agent.sqlite", journal="DELETE")
    s.add("s1", [user(DAY1, "q"), long_answer(DAY1 + 1, "J")])
    idx = idx_of(tmp_path, s)
    refresh(idx)
    s.add("s1", [user(DAY1 + 2, "q2")])
    refresh(idx)
    assert counts(idx) == {"2026-09-20": 3}
    assert not Path(f"{s.path}-wal").exists()


def test_unchanged_store_is_not_queried(tmp_path: Path, db: Store) -> None:
    db.add("s1", [user(DAY1, "q")])
    idx = idx_of(tmp_path, db)
    refresh(idx)
    state = idx.sources[f"sqlite:{db.path}"]
    sig = state.ident
    assert sig == store.signature(db.path)
    refresh(idx)
    assert state.ident == sig
    db.add("s1", [assistant(DAY1 + 1, "a")])
    assert store.signature(db.path) != sig


def test_reader_holds_no_transaction_between_refreshes(tmp_path: Path, db: Store) -> None:
    db.add("s1", conversation("s1", DAY1, 50, tag="w-"))
    idx = idx_of(tmp_path, db)
    refresh(idx)
    wal = Path(f"{db.path}-wal")
    assert wal.stat().st_size > 0
    busy, log_frames, checkpointed = db.con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    assert busy == 0 and log_frames == checkpointed
    assert wal.stat().st_size == 0


def _append_bad_row(db: Store, session: str) -> None:
    db.con.execute("INSERT INTO transcript_events (session_id, seq, event_json, created_at, event_utf8_bytes) "
                   "VALUES (?, ?, '{not json', 0, 9)", (session, db.next_seq(session)))


def test_a_row_added_while_a_refresh_reads_is_read_once(tmp_path: Path, db: Store,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """OpenClaw writes while a refresh is reading the store: a row added to a session not read yet is left
    for the next refresh, which reads it; nothing is read twice (a message would count once anyway, a
    skipped row would count twice)."""
    for n in range(3):
        db.add(f"s{n}", conversation(f"s{n}", DAY1 + n * 1000, 3, tag=f"s{n}-"))
    idx = idx_of(tmp_path, db)
    real = store.read_new

    def racing(*args: Any, **kw: Any) -> Any:
        rows = real(*args, **kw)
        yield next(rows)
        _append_bad_row(db, "s2")  # s2 is read after s0
        db.add("s2", [user(DAY1 + 99_000, "written while the store was read")])
        yield from rows

    monkeypatch.setattr(store, "read_new", racing)
    refresh(idx)
    monkeypatch.setattr(store, "read_new", real)
    refresh(idx)
    assert dict(idx.skipped()) == {"malformed": 1}
    assert counts(idx) == {"2026-09-20": 19}


def test_a_row_added_between_sharing_out_and_reading_a_chunk_is_read_once(tmp_path: Path, db: Store) -> None:
    """The same when the store is shared out: chunks are planned before the helpers read them."""
    import pickle

    from memory_syncd.read.parse import DayClock

    for n in range(4):
        db.add(f"s{n}", conversation(f"s{n}", DAY1 + n * 1000, 3, tag=f"s{n}-"))
    idx = idx_of(tmp_path, db)
    clock = DayClock(ZoneInfo(idx.timezone))
    chunks = [c for _, c in idx.store_chunks(idx.stale()[f"sqlite:{db.path}"], 1)]
    assert len(chunks) > 1
    _append_bad_row(db, "s1")
    db.add("s1", [user(DAY1 + 99_000, "written between planning and reading")])
    for chunk in chunks:  # each read by a copy of the index, as a forked helper would
        copy = pickle.loads(pickle.dumps(idx))
        idx.adopt(copy.read_files([chunk], clock))
    refresh(idx)
    assert dict(idx.skipped()) == {"malformed": 1}
    assert counts(idx) == {"2026-09-20": 25}


def test_copy_taken_mid_write_yields_every_committed_row(tmp_path: Path, db: Store) -> None:
    db.add("s1", conversation("s1", DAY1, 10, tag="c-"))
    db.con.execute("BEGIN")
    db.add("s1", [user(DAY2, "uncommitted")])
    copy = tmp_path / "copy" / "agent" / "openclaw-agent.sqlite"
    copy.parent.mkdir(parents=True)
    for suffix in ("", "-wal"):
        copy.with_name(copy.name + suffix).write_bytes(Path(f"{db.path}{suffix}").read_bytes())
    db.con.execute("COMMIT")
    idx = index(tmp_path / "copy" / "sessions", sqlite=copy)
    refresh(idx)
    assert counts(idx) == {"2026-09-20": 20}


def test_describe(tmp_path: Path, db: Store) -> None:
    db.con.execute("INSERT INTO schema_meta VALUES ('primary', 'agent', 23, 'main', '2026.9.6', 0, 0)")
    info = store.describe(db.path)
    assert (info.user_version, info.journal_mode, info.has_transcripts, info.error) == (23, "wal", True, "")
    assert info.app_version == "2026.9.6"
    bad = write(tmp_path / "bad.sqlite", b"not a database" * 100)
    assert store.describe(bad).error


def test_store_without_transcript_tables_is_info_only(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "agent" / "openclaw-agent.sqlite"
    path.parent.mkdir(parents=True)
    sqlite3.connect(path).execute("CREATE TABLE auth_profile_store(k TEXT)").connection.close()
    idx = index(tmp_path / "sessions", sqlite=path)
    with caplog.at_level(logging.INFO):
        report = refresh(idx)
    assert not report.errors
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_session_meta_is_read_again_only_when_a_source_changed(tmp_path: Path, db: Store) -> None:
    db.add("t1", [user(DAY1, "hi")], key="agent:main:telegram:direct:42", channel="telegram")
    idx = idx_of(tmp_path, db)
    refresh(idx)
    first = idx.session_meta()
    assert idx.session_meta() is first  # nothing changed: the same answer, nothing read
    write(tmp_path / "sessions" / "sessions.json", b'{"agent:main:main": {"sessionId": "j1", "lastChannel": "slack"}}')
    assert idx.session_meta()["j1"] == SessionMeta("agent:main:main", "slack")
    db.add("t2", [user(DAY1 + 5, "again")], key="agent:main:discord:group:7", channel="discord")
    assert idx.session_meta()["t2"] == SessionMeta("agent:main:discord:group:7", "discord")
