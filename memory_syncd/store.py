"""Reading OpenClaw's per-agent SQLite store (`openclaw-agent.sqlite`, table `transcript_events`).

Owns every query we run against it. The store is OpenClaw's, live and in WAL mode, so:
- it is opened read-only (`mode=ro` URI) and never written;
- reads are keyset pages, each its own short implicit transaction, so we never pin the WAL;
- new rows are found by rowid (inserts, and rewrites that delete and re-insert, get new rowids); if the
  table has no rowid, per-session `max(seq)` stands in, and a session whose rows shrank is re-read whole.
Each `event_json` holds one JSONL record, byte for byte, so the JSONL parser reads it unchanged.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from memory_syncd.errors import SourceError

PAGE = 500


@dataclass
class StoreCursor:
    """How far the store has been read: by rowid, or per session by seq when there is no rowid."""

    rowid: int = 0
    seqs: dict[str, tuple[int, int]] = field(default_factory=dict)  # session -> (max seq, row count)

    def to_json(self) -> dict[str, object]:
        return {"rowid": self.rowid, "seqs": {k: list(v) for k, v in self.seqs.items()}}

    @classmethod
    def from_json(cls, v: dict[str, object]) -> StoreCursor:
        seqs = v.get("seqs", {})
        rowid = v.get("rowid", 0)
        return cls(int(rowid) if isinstance(rowid, int) else 0,
                   {str(k): (int(a), int(b)) for k, (a, b) in seqs.items()} if isinstance(seqs, dict) else {})


@dataclass(frozen=True, slots=True)
class Row:
    session: str
    seq: int
    event: bytes


def connect(path: Path) -> sqlite3.Connection:
    try:
        con = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=5.0,
                              isolation_level=None, check_same_thread=False)
        con.execute("PRAGMA query_only = ON")
        con.execute("SELECT 1 FROM transcript_events LIMIT 1").fetchall()
    except sqlite3.Error as e:
        raise SourceError(f"cannot read SQLite store {path}: {e}") from e
    return con


def read_new(con: sqlite3.Connection, cursor: StoreCursor) -> Iterator[Row]:
    """Yield rows not yet seen, advancing `cursor` page by page."""
    try:
        yield from _by_rowid(con, cursor)
    except sqlite3.OperationalError as e:
        if "rowid" not in str(e):
            raise
        yield from _by_session(con, cursor)


def _by_rowid(con: sqlite3.Connection, cursor: StoreCursor) -> Iterator[Row]:
    while True:
        page = con.execute(
            "SELECT rowid, session_id, seq, event_json FROM transcript_events WHERE rowid > ? "
            "ORDER BY rowid LIMIT ?", (cursor.rowid, PAGE)).fetchall()
        for rowid, session, seq, event in page:
            cursor.rowid = rowid
            yield Row(str(session), int(seq), _bytes(event))
        if len(page) < PAGE:
            return


def _by_session(con: sqlite3.Connection, cursor: StoreCursor) -> Iterator[Row]:
    stats = con.execute("SELECT session_id, max(seq), count(*) FROM transcript_events GROUP BY session_id").fetchall()
    for session, max_seq, count in stats:
        last, seen = cursor.seqs.get(session, (-1, 0))
        if max_seq < last or (max_seq == last and count != seen):
            last = -1  # the session was rewritten: read it again (message keys make that idempotent)
        elif max_seq == last:
            continue
        while True:
            page = con.execute(
                "SELECT seq, event_json FROM transcript_events WHERE session_id = ? AND seq > ? "
                "ORDER BY seq LIMIT ?", (session, last, PAGE)).fetchall()
            for seq, event in page:
                last = int(seq)
                yield Row(str(session), last, _bytes(event))
            if len(page) < PAGE:
                break
        cursor.seqs[session] = (int(max_seq), int(count))


def read_range(con: sqlite3.Connection, session: str, first: int, end: int) -> Iterator[Row]:
    """Rows of one session with first <= seq < end (for rendering one day)."""
    last = first - 1
    while True:
        page = con.execute(
            "SELECT seq, event_json FROM transcript_events WHERE session_id = ? AND seq > ? AND seq < ? "
            "ORDER BY seq LIMIT ?", (session, last, end, PAGE)).fetchall()
        for seq, event in page:
            last = int(seq)
            yield Row(session, last, _bytes(event))
        if len(page) < PAGE:
            return


def _bytes(v: object) -> bytes:
    if isinstance(v, bytes):
        return v
    return str(v).encode("utf-8", "surrogatepass")
