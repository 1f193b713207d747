"""Reading OpenClaw's per-agent SQLite store (`agents/<id>/agent/openclaw-agent.sqlite`).

Owns every query we run against it. The store is OpenClaw's, live, usually in WAL mode (rollback journal
on network and VM file systems), so:
- it is opened read-only (`mode=ro` URI, `query_only`) and never written;
- every read is a short implicit transaction: nothing stays open between polls, so OpenClaw's WAL
  checkpoints are never held back;
- progress is kept per session as (last seq, row count, rewrite generation), never by rowid: OpenClaw
  deletes sessions (rowids are reused) and runs incremental vacuum (rowids are renumbered). A session whose
  last seq went down, whose row count changed below the last seq, or whose rewrite watermark moved is read
  again whole; message keys make that idempotent.

Schema generations (`PRAGMA user_version`, table columns): the first SQLite releases have `event_json`
only; 2026.9 (user_version 23) adds `event_zstd` + `event_utf8_bytes` (events of 1 KiB and more that
compress well are stored as a zstd frame with `event_json` NULL), `session_windows`, `session_nodes`,
`session_transcript_archives` (deleted/reset sessions, one zstd JSONL blob each) and the active-branch table.
Columns are looked up, not assumed, so a newer schema still reads with the columns we know.

Rows are fetched in pages of PAGE rows whose payloads come along when they are stored in at most INLINE
bytes (bigger ones are fetched one at a time), and a row over the line cap is skipped in SQL by its stored
length, so one huge event never reaches memory.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sqlite3
import stat
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from memory_syncd.errors import SourceError
from memory_syncd.read.sessionmeta import SessionMeta

log = logging.getLogger(__name__)

PAGE = 500  # rows per page
INLINE = 256 * 1024  # rows stored bigger than this are fetched one by one, not with their page
KNOWN_VERSION = 23  # the newest `user_version` we have read (OpenClaw 2026.9.6)
_warned: set[str] = set()
_local = threading.local()


@dataclass
class StoreCursor:
    """How far each session of the store has been read: session -> (last seq, rows, rewrite generation)."""

    seqs: dict[str, tuple[int, int, str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {"seqs": {k: list(v) for k, v in self.seqs.items()}}

    @classmethod
    def from_json(cls, v: dict[str, object]) -> StoreCursor:
        seqs = v.get("seqs", {})
        if not isinstance(seqs, dict):
            return cls()
        return cls({str(k): (int(a[0]), int(a[1]), str(a[2])) for k, a in seqs.items()
                    if isinstance(a, list) and len(a) == 3})


@dataclass(frozen=True, slots=True)
class Row:
    session: str
    seq: int
    event: bytes | None  # None: over the size cap (skipped in SQL) or an undecodable compressed frame
    problem: str = ""  # why `event` is None: "too_long", "malformed" or "undecodable compressed row"


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

    @property
    def compressed(self) -> bool:
        return "event_zstd" in self.events


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
    events = frozenset(r[1] for r in con.execute("PRAGMA table_info(transcript_events)"))
    if version > KNOWN_VERSION and str(path) not in _warned:
        _warned.add(str(path))
        log.warning("%s: SQLite schema version %d is newer than the newest known (%d); reading the columns "
                    "it shares with that version", path, version, KNOWN_VERSION)
    return Schema(version, events, tables)


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


# --- live transcript rows ---


def read_new(con: sqlite3.Connection, sc: Schema, cursor: StoreCursor, max_bytes: int) -> Iterator[Row]:
    """Yield the rows not yet seen, session by session, advancing `cursor` as each session is finished."""
    generations: dict[str, str] = {}
    if "transcript_rewrite_watermarks" in sc.tables:
        generations = {str(s): str(g) for s, g in
                       con.execute("SELECT session_id, generation FROM transcript_rewrite_watermarks")}
    stats = con.execute("SELECT session_id, max(seq), count(*) FROM transcript_events GROUP BY session_id").fetchall()
    for session, max_seq, count in stats:
        session = str(session)
        gen = generations.get(session, "")
        last, seen, old_gen = cursor.seqs.get(session, (-1, 0, ""))
        if max_seq < last or gen != old_gen or (max_seq == last and count != seen):
            last = -1  # rewritten, shortened or renumbered: read it again (message keys make that idempotent)
        elif max_seq == last:
            continue
        yield from _rows(con, sc, session, last, None, max_bytes)
        cursor.seqs[session] = (int(max_seq), int(count), gen)


def read_range(con: sqlite3.Connection, sc: Schema, session: str, first: int, end: int,
               max_bytes: int) -> Iterator[Row]:
    """Rows of one session with first <= seq < end (for rendering one day)."""
    yield from _rows(con, sc, session, first - 1, end, max_bytes)


def _rows(con: sqlite3.Connection, sc: Schema, session: str, after: int, end: int | None,
          max_bytes: int) -> Iterator[Row]:
    size = ("coalesce(event_utf8_bytes, length(CAST(event_json AS BLOB)))" if "event_utf8_bytes" in sc.events
            else "length(CAST(event_json AS BLOB))")
    big = f"{size} > {int(max_bytes)}"
    if sc.compressed:
        stored = "coalesce(length(CAST(event_json AS BLOB)), 0) + coalesce(length(event_zstd), 0)"
        columns = "event_json, event_zstd, event_utf8_bytes"
    else:
        stored = "coalesce(length(CAST(event_json AS BLOB)), 0)"
        columns = "event_json, NULL, NULL"
    # A page brings the payloads of ordinary rows along (one query); a row stored bigger than INLINE is
    # fetched on its own, so a page never holds more than PAGE x INLINE bytes, and one over the line cap
    # never leaves SQLite at all.
    inline = f"NOT ({big}) AND {stored} <= {INLINE}"
    bound = "AND seq < ?" if end is not None else ""
    extra: tuple[int, ...] = (end,) if end is not None else ()
    while True:
        page = con.execute(
            f"SELECT seq, {big}, CASE WHEN {inline} THEN 1 ELSE 0 END, "
            + ", ".join(f"CASE WHEN {inline} THEN {c} END" for c in columns.split(", "))
            + f" FROM transcript_events WHERE session_id = ? AND seq > ? {bound} ORDER BY seq LIMIT ?",
            (session, after, *extra, PAGE)).fetchall()
        for seq, too_long, here, text, zstd, utf8_bytes in page:
            if not here and not too_long:
                text, zstd, utf8_bytes = con.execute(
                    f"SELECT {columns} FROM transcript_events WHERE session_id = ? AND seq = ?",
                    (session, seq)).fetchone() or (None, None, None)
            yield _row(session, int(seq), bool(too_long), text, zstd, utf8_bytes)
        if len(page) < PAGE:
            return
        after = page[-1][0]


def _row(session: str, seq: int, too_long: bool, text: object, zstd: object = None,
         utf8_bytes: object = None) -> Row:
    if too_long:
        return Row(session, seq, None, "too_long")
    if text is not None:
        return Row(session, seq, _bytes(text))
    if isinstance(zstd, bytes):
        data = decompress(zstd, utf8_bytes if isinstance(utf8_bytes, int) else None)
        return Row(session, seq, data, "" if data is not None else "undecodable compressed row")
    return Row(session, seq, None, "malformed")  # a NULL payload


def decompress(frame: bytes, size: int | None) -> bytes | None:
    """One zstd frame, decoded to at most `size` bytes (the length OpenClaw recorded); None if broken."""
    import zstandard

    d = getattr(_local, "zstd", None)
    if d is None:  # making a decompressor costs more than decoding a typical answer: one per thread
        d = _local.zstd = zstandard.ZstdDecompressor()
    try:
        if size is not None and size >= 0:
            out = d.decompress(frame, max_output_size=size)
            return out if len(out) == size else None
        with d.stream_reader(frame) as r:
            return r.read()
    except zstandard.ZstdError:
        return None


def _bytes(v: object) -> bytes:
    if isinstance(v, bytes):
        return v
    return str(v).encode("utf-8", "surrogatepass")


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
        cols = {r[1] for r in con.execute(f"PRAGMA table_info({table})")}
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
    cols = {r[1] for r in con.execute(f"PRAGMA table_info({a.table})")}
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
        cols = {r[1] for r in con.execute(f"PRAGMA table_info({table})")}
        if not {"session_id", "session_key"} <= cols:
            continue
        channel = "channel" if "channel" in cols else "NULL"
        for session, key, ch in con.execute(f"SELECT session_id, session_key, {channel} FROM {table}"):
            out[str(session)] = SessionMeta(str(key or ""), str(ch or ""))
    return out


# --- files and streams ---


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
