"""Reading OpenClaw's per-agent SQLite store (`agents/<id>/agent/openclaw-agent.sqlite`).

Owns every query we run against it. The store is OpenClaw's, live, usually in WAL mode (rollback journal
on network and VM file systems), so:
- it is opened read-only (`mode=ro` URI, `query_only`) and never written;
- every read is a short implicit transaction: nothing stays open between polls, so OpenClaw's WAL
  checkpoints are never held back.

Schema generations (`PRAGMA user_version`, table columns): the first SQLite releases have `event_json`
only; 2026.9 (user_version 23) adds `event_zstd` + `event_utf8_bytes` (events of 1 KiB and more that
compress well are stored as a zstd frame with `event_json` NULL), `session_windows`, `session_nodes`,
`session_transcript_archives` (deleted/reset sessions, one zstd JSONL blob each) and the active-branch table.
Columns are looked up, not assumed, so a newer schema still reads with the columns we know.

The live transcript rows (progress per session, paged reads, payload decoding) are `store_rows`' business;
its names are re-exported here, so callers know one module.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sqlite3
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from memory_syncd.errors import SourceError
from memory_syncd.read.sessionmeta import SessionMeta
from memory_syncd.read.store_rows import Read as Read
from memory_syncd.read.store_rows import Row as Row
from memory_syncd.read.store_rows import StoreCursor as StoreCursor
from memory_syncd.read.store_rows import cut as cut
from memory_syncd.read.store_rows import decompress as decompress
from memory_syncd.read.store_rows import plan as plan
from memory_syncd.read.store_rows import read_new as read_new
from memory_syncd.read.store_rows import read_range as read_range

log = logging.getLogger(__name__)

KNOWN_VERSION = 23  # the newest `user_version` we have read (OpenClaw 2026.9.6)
_warned: set[str] = set()


@dataclass(frozen=True, slots=True)
class Archive:
    """One archived transcript generation (a deleted or reset session) kept inside the store."""

    table: str
    session: str
    generation: str
    session_key: str
    ident: str  # changes when the blob does (its sha256 where the table has one)


@dataclass(frozen=True, slots=True)
class StoreInfo:
    """What `doctor` shows about a store."""

    user_version: int | None
    journal_mode: str
    has_transcripts: bool
    error: str = ""
    app_version: str = ""  # the OpenClaw version that created it (`schema_meta`), where recorded


@dataclass(frozen=True)
class Schema:
    """The columns of the tables we read, as this store has them."""

    version: int
    events: frozenset[str]
    tables: frozenset[str]
    utf8: bool = True  # the text encoding is UTF-8 (as OpenClaw's are): text can be read as stored bytes

    @property
    def compressed(self) -> bool:
        return "event_zstd" in self.events


def columns(con: sqlite3.Connection, table: str) -> set[str]:
    """The column names of `table` as this store has them (none if it has no such table)."""
    return {r[1] for r in con.execute(f"PRAGMA table_info({table})")}


def connect(path: Path) -> sqlite3.Connection:
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO would block SQLite's open for ever
            raise SourceError(f"SQLite store {path} is not a regular file (move it away, or fix the path)")
    except OSError as e:
        raise SourceError(f"cannot read SQLite store {path}: {e.strerror or e}") from e
    try:
        con = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=5.0,
                              isolation_level=None, check_same_thread=False)
        con.execute("PRAGMA query_only = ON")
        con.execute("SELECT 1 FROM transcript_events LIMIT 1").fetchall()
    except sqlite3.Error as e:
        raise SourceError(f"cannot read SQLite store {path}: {e}") from e
    return con


def has_transcripts(path: Path) -> bool:
    """Whether the store has a transcript table at all (stores before 2026.7 hold other state only)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return True  # let `connect` say what is wrong
    except OSError:
        return True
    try:
        con = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=5.0)
        try:
            return con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'transcript_events'"
                               ).fetchone() is not None
        finally:
            con.close()
    except sqlite3.Error:
        return True  # unreadable: let `connect` report why


def schema(con: sqlite3.Connection, path: Path) -> Schema:
    version = int(con.execute("PRAGMA user_version").fetchone()[0])
    tables = frozenset(r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
    events = frozenset(columns(con, "transcript_events"))
    if version > KNOWN_VERSION and str(path) not in _warned:
        _warned.add(str(path))
        log.warning("%s: SQLite schema version %d is newer than the newest known (%d); reading the columns "
                    "it shares with that version", path, version, KNOWN_VERSION)
    utf8 = str(con.execute("PRAGMA encoding").fetchone()[0]).upper() == "UTF-8"
    return Schema(version, events, tables, utf8)


def describe(path: Path) -> StoreInfo:
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return StoreInfo(None, "", False, "not a regular file")
    except OSError as e:
        return StoreInfo(None, "", False, e.strerror or str(e))
    try:
        con = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=5.0)
        try:
            version = int(con.execute("PRAGMA user_version").fetchone()[0])
            mode = str(con.execute("PRAGMA journal_mode").fetchone()[0])
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            app = ""
            if "schema_meta" in tables:
                row = con.execute("SELECT app_version FROM schema_meta ORDER BY updated_at DESC LIMIT 1").fetchone()
                app = str(row[0] or "") if row else ""
        finally:
            con.close()
    except sqlite3.Error as e:
        return StoreInfo(None, "", False, str(e))
    return StoreInfo(version, mode, "transcript_events" in tables, app_version=app)


# --- branches ---


def inactive_seqs(con: sqlite3.Connection, sc: Schema, session: str, first: int, end: int) -> set[int]:
    """Seqs in [first, end) that OpenClaw has indexed but left off the active branch (rewound turns)."""
    if not {"session_transcript_active_events", "session_transcript_index_state"} <= sc.tables:
        return set()
    state = con.execute("SELECT indexed_seq, needs_rebuild FROM session_transcript_index_state WHERE session_id = ?",
                        (session,)).fetchone()
    if state is None or state[1]:
        return set()
    upto = min(int(state[0]), end - 1)
    if upto < first:
        return set()
    active = {int(r[0]) for r in con.execute(
        "SELECT event_seq FROM session_transcript_active_events WHERE session_id = ? AND event_seq BETWEEN ? AND ?",
        (session, first, upto))}
    if not active:
        return set()  # no branch recorded for this range: show everything
    every = {int(r[0]) for r in con.execute(
        "SELECT seq FROM transcript_events WHERE session_id = ? AND seq BETWEEN ? AND ?", (session, first, upto))}
    return every - active


# --- archived generations (deleted and reset sessions) ---

ARCHIVE_TABLES = ("session_transcript_archives", "session_transcript_cold_archives")


def archives(con: sqlite3.Connection, sc: Schema) -> list[Archive]:
    out: list[Archive] = []
    for table in ARCHIVE_TABLES:
        if table not in sc.tables:
            continue
        cols = columns(con, table)
        if not {"session_id", "archive_blob"} <= cols:
            continue
        gen = "generation" if "generation" in cols else "''"
        key = "session_key" if "session_key" in cols else "''"
        ident = "archive_sha256" if "archive_sha256" in cols else "length(archive_blob)"
        for session, generation, session_key, tag in con.execute(
                f"SELECT session_id, {gen}, {key}, {ident} FROM {table} ORDER BY session_id"):
            out.append(Archive(table, str(session), str(generation), str(session_key or ""), str(tag)))
    return out


def archive_blob(con: sqlite3.Connection, a: Archive) -> tuple[str, bytes]:
    """(encoding, blob) of one archive; ("", b"") when it has gone since it was listed."""
    cols = columns(con, a.table)
    enc = "encoding" if "encoding" in cols else "'zstd'"
    where = "session_id = ? AND generation = ?" if "generation" in cols else "session_id = ? AND ? = ''"
    row = con.execute(f"SELECT {enc}, archive_blob FROM {a.table} WHERE {where}", (a.session, a.generation)).fetchone()
    if row is None:
        return "", b""
    return str(row[0] or ""), bytes(row[1] or b"")


# --- session keys and channels ---


def session_meta(con: sqlite3.Connection, sc: Schema) -> dict[str, SessionMeta]:
    """session id -> key and channel, from `session_windows` (2026.9) or `sessions` (older), and from the
    archives of sessions that were deleted since."""
    out: dict[str, SessionMeta] = {}
    for a in archives(con, sc):
        if a.session_key:
            out[a.session] = SessionMeta(a.session_key, "")
    for table in ("sessions", "session_windows"):
        if table not in sc.tables:
            continue
        cols = columns(con, table)
        if not {"session_id", "session_key"} <= cols:
            continue
        channel = "channel" if "channel" in cols else "NULL"
        for session, key, ch in con.execute(f"SELECT session_id, session_key, {channel} FROM {table}"):
            out[str(session)] = SessionMeta(str(key or ""), str(ch or ""))
    return out


def read_session_meta(db: Path) -> dict[str, SessionMeta]:
    """`session_meta` of the store at `db`, on a connection of its own; {} (logged) if it cannot be read."""
    try:
        con = connect(db)
        try:
            return session_meta(con, schema(con, db))
        finally:
            con.close()
    except (SourceError, sqlite3.Error) as e:
        log.warning("cannot read session keys from %s: %s", db, e)
        return {}


# --- files and streams ---


def disk_bytes(db: Path) -> int:
    """The bytes of the store and its WAL on disk (SQLite removes the WAL when the last connection closes)."""
    total = 0
    for p in (str(db), f"{db}-wal"):
        with contextlib.suppress(OSError):
            total += os.stat(p).st_size
    return total


def signature(db: Path) -> str:
    """Size and mtime of the store and of its WAL and rollback journal: any commit changes one of them."""
    parts = []
    for p in (str(db), f"{db}-wal", f"{db}-journal"):
        try:
            st = os.stat(p)
        except OSError:
            parts.append("-")
            continue
        parts.append(f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}")
    return "|".join(parts)


@contextlib.contextmanager
def archive_stream(con: sqlite3.Connection, a: Archive) -> Iterator[BinaryIO | None]:
    """The JSONL of an archived generation as a stream (decompressed as it is read), or None if unusable."""
    encoding, blob = archive_blob(con, a)
    if encoding == "identity":
        yield io.BytesIO(blob)
        return
    import zstandard

    try:
        with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(blob)) as z:
            yield z
    except zstandard.ZstdError as e:
        log.warning("archive of session %s in %s is not readable: %s", a.session, a.table, e)
        yield None


def day_rows(db: Path, spans_by_session: Mapping[str, list[tuple[int, int]]],
             max_line: int) -> Iterator[tuple[str, bytes]]:
    """The day's rows of each session, leaving out turns OpenClaw rewound off the active branch."""
    con = connect(db)
    try:
        sc = schema(con, db)
        for session, spans in spans_by_session.items():
            for first, end in spans:
                hidden = inactive_seqs(con, sc, session, first, end)
                for row in read_range(con, sc, session, first, end, max_line):
                    if row.event is not None and row.seq not in hidden:
                        yield row.session, row.event
    finally:
        con.close()
