"""The live transcript rows of OpenClaw's SQLite store: which rows are new, in what order, and their payloads.

Owns the progress cursor, the paged queries over `transcript_events` and the decoding of a row's payload
(plain `event_json` or a zstd `event_zstd` frame). `store` owns the connection and the schema lookup.

Progress is kept per session as (last seq, row count, rewrite generation), never by rowid: OpenClaw deletes
sessions (rowids are reused) and runs incremental vacuum (rowids are renumbered). A session whose last seq
went down, whose row count changed while its last seq stayed, or whose rewrite watermark moved is read again
whole; message keys make that idempotent. (Rows that go below the last seq while others are added after it
are not noticed: OpenClaw's rewrites move the watermark, and its deletes take whole sessions.) A session is
read up to the last seq its plan saw, so a row added meanwhile waits for the next read.

Rows are fetched in pages of PAGE rows (each page its own short statement, so no read transaction stays
open while the caller works on a page). A page brings the payloads of ordinary rows along; a row bigger than
INLINE is fetched on its own when its turn comes, so a page never holds more than PAGE x INLINE bytes, and a
row over the line cap is recognised by its recorded length and never leaves SQLite at all.

This is the hot path of a cold `compare` over a store, so the per-row work is kept small: plain payloads
come out of SQLite as bytes (no UTF-8 decode and re-encode), one statement gives everything a row needs,
and a row is a plain tuple.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from memory_syncd.read.store import Schema

PAGE = 500  # rows per page
INLINE = 256 * 1024  # rows stored bigger than this are fetched one by one, not with their page
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


_Done = tuple[int, int, str] | None  # a session's cursor entry once its last page is read


class Row(NamedTuple):
    """One transcript row. A tuple, not a dataclass: one is made for every row of a cold read."""

    session: str
    seq: int
    event: bytes | None  # None: over the size cap (skipped in SQL), a NULL payload, or an undecodable frame
    problem: str = ""  # why `event` is None: "too_long", "malformed" or "undecodable compressed row"


class Read(NamedTuple):
    """One session to read: its rows after seq `after`, and its cursor entry once they are read."""

    session: str
    after: int
    done: tuple[int, int, str]
    rows: int  # about how many rows that is (what sharing the reading out weighs sessions by)


def plan(con: sqlite3.Connection, sc: Schema, cursor: StoreCursor) -> list[Read]:
    """The sessions with rows not yet seen, in the order `read_new` reads them (by session id)."""
    generations: dict[str, str] = {}
    if "transcript_rewrite_watermarks" in sc.tables:
        generations = {str(s): str(g) for s, g in
                       con.execute("SELECT session_id, generation FROM transcript_rewrite_watermarks")}
    stats = con.execute("SELECT session_id, max(seq), count(*) FROM transcript_events GROUP BY session_id "
                        "ORDER BY session_id").fetchall()
    reads: list[Read] = []
    for session, max_seq, count in stats:
        session = str(session)
        gen = generations.get(session, "")
        last, seen, old_gen = cursor.seqs.get(session, (-1, 0, ""))
        if max_seq < last or gen != old_gen or (max_seq == last and count != seen):
            last, seen = -1, 0  # rewritten, shortened or renumbered: read it again (message keys make that idempotent)
        elif max_seq == last:
            continue
        reads.append(Read(session, last, (int(max_seq), int(count), gen), max(int(count) - seen, 1)))
    return reads


@dataclass(frozen=True)
class StoreChunk:
    """A run of a store's sessions with rows to read, next to each other in the order a refresh reads them, for
    one of the processes that share the reading out (`AgentIndex.store_chunks`, `read_files`). A store's
    chunks are put together in `index` order, which gives what one refresh reading the store would have given."""

    db: str
    index: int
    reads: tuple[Read, ...]

    @property
    def key(self) -> str:
        return f"chunk:{self.db}:{self.index:06d}"


def cut(reads: list[Read], size: int, chunk_bytes: int) -> list[tuple[int, tuple[Read, ...]]]:
    """`reads` cut into runs of about `chunk_bytes` each, in order, with the bytes of each (`size` in all, shared
    out by rows), for processes that share the reading out."""
    total = sum(r.rows for r in reads) or 1
    runs: list[tuple[int, tuple[Read, ...]]] = []
    run: list[Read] = []
    got = 0
    for r in reads:
        run.append(r)
        got += r.rows
        if got * size >= chunk_bytes * total or r is reads[-1]:
            runs.append((size * got // total, tuple(run)))
            run, got = [], 0
    return runs


def read_new(con: sqlite3.Connection, sc: Schema, cursor: StoreCursor, max_bytes: int,
             reads: list[Read] | None = None) -> Iterator[Row]:
    """Yield the rows not yet seen (or those of `reads`, from `plan`), session by session, advancing `cursor` as
    each session is finished."""
    if reads is None:
        reads = plan(con, sc, cursor)
    page_sql, one_sql = _queries(sc, max_bytes)
    # Up to the last seq the plan saw, which the cursor then records: a row OpenClaw adds meanwhile is left for
    # the next read, not read now and again then (its message would count once, a skip twice).
    pages = _pages(con, page_sql, [(r.session, (r.session, r.after, r.done[0] + 1), r.done) for r in reads])
    for session, page, done in pages:
        yield from _emit(con, one_sql, session, page, max_bytes)
        if done is not None:
            cursor.seqs[session] = done


def read_range(con: sqlite3.Connection, sc: Schema, session: str, first: int, end: int,
               max_bytes: int) -> Iterator[Row]:
    """Rows of one session with first <= seq < end (for rendering one day)."""
    page_sql, one_sql = _queries(sc, max_bytes)
    for _, page, _ in _pages(con, page_sql, [(session, (session, first - 1, end), None)]):
        yield from _emit(con, one_sql, session, page, max_bytes)


def _queries(sc: Schema, max_bytes: int) -> tuple[str, str]:
    """(page query, single-row query) for this schema. The page query takes (session, after, end): the rows
    with after < seq < end.

    A page row is (seq, fetch, text, frame, decoded size): `fetch` is 0 when the payload came along, 1 when
    the row is over the line cap, 2 when it is too big for a page and must be fetched on its own."""
    cols = sc.events
    text = "CAST(event_json AS BLOB)" if sc.utf8 else "event_json"  # bytes as stored: nothing to decode
    frame = "event_zstd" if sc.compressed else "NULL"
    recorded = "event_utf8_bytes" if "event_utf8_bytes" in cols else "NULL"
    # The decoded size decides the line cap: OpenClaw records it (`event_utf8_bytes`), else the text's own.
    size = f"coalesce({recorded}, length(CAST(event_json AS BLOB)))"
    # The stored size decides whether the payload comes with its page; `length` of a blob reads no data.
    stored = f"coalesce(length({frame}), {size})"
    fetch = f"CASE WHEN {size} > {int(max_bytes)} THEN 1 WHEN {stored} > {INLINE} THEN 2 ELSE 0 END"
    page = (f"SELECT seq, {fetch}, CASE WHEN {fetch} = 0 THEN {text} END, CASE WHEN {fetch} = 0 THEN {frame} END, "
            f"{recorded} FROM transcript_events WHERE session_id = ? AND seq > ? AND seq < ? "
            f"ORDER BY seq LIMIT {PAGE}")
    one = f"SELECT {text}, {frame}, {recorded} FROM transcript_events WHERE session_id = ? AND seq = ?"
    return page, one


# (seq, fetch, text, frame, decoded size) per row, as the page query gives them
Page = list[tuple[int, int, object, object, object]]


def _pages(con: sqlite3.Connection, page_sql: str, reads: list[tuple[str, tuple[str | int, ...], _Done]]
           ) -> Iterator[tuple[str, Page, _Done]]:
    """(session, page, its `done` on the session's last page, else None) for each session to read; `reads`
    holds (session, page query arguments, done)."""
    for session, args, done in reads:
        while True:
            page: Page = con.execute(page_sql, args).fetchall()
            full = len(page) == PAGE
            yield session, page, None if full else done
            if not full:
                break
            args = (args[0], page[-1][0], *args[2:])


def _emit(con: sqlite3.Connection, one_sql: str, session: str, page: Page, max_bytes: int) -> Iterator[Row]:
    """The rows of a page. A row too big for a page is fetched when its turn comes, so no more than one of
    them is held at a time."""
    new = tuple.__new__
    for seq, fetch, text, frame, size in page:
        if text is not None:
            yield new(Row, (session, seq, text if type(text) is bytes else _bytes(text), ""))
        elif frame is not None:
            yield _unpacked(session, seq, frame, size, max_bytes)
        elif fetch == 1:
            yield new(Row, (session, seq, None, "too_long"))
        elif fetch == 2:
            text, frame, size = con.execute(one_sql, (session, seq)).fetchone() or (None, None, None)
            yield Row(session, seq, _bytes(text)) if text is not None else _unpacked(session, seq, frame, size,
                                                                                     max_bytes)
        else:
            yield new(Row, (session, seq, None, "malformed"))  # a NULL payload


def _unpacked(session: str, seq: int, frame: object, size: object, max_bytes: int) -> Row:
    """The row of a compressed payload (or of one that was NULL when fetched on its own)."""
    if not isinstance(frame, bytes):
        return Row(session, seq, None, "malformed")
    data = decompress(frame, size if isinstance(size, int) else None, max_bytes)
    if data is None:
        return Row(session, seq, None, "undecodable compressed row")
    if len(data) > max_bytes:
        return Row(session, seq, None, "too_long")
    return Row(session, seq, data)


def decompress(frame: bytes, size: int | None, limit: int = 1 << 62) -> bytes | None:
    """One zstd frame, decoded to exactly `size` bytes (the length OpenClaw recorded), or (no size recorded)
    to at most `limit` + 1 bytes; None if broken or not of the recorded size."""
    import zstandard

    d = _decompressor()
    try:
        if size is not None and size >= 0:
            out: bytes = d.decompress(frame, max_output_size=size)
            return out if len(out) == size else None
        with d.stream_reader(frame) as r:
            data: bytes = r.read(limit + 1)
            return data
    except zstandard.ZstdError:
        return None


def _decompressor() -> Any:
    d = getattr(_local, "zstd", None)
    if d is None:  # making a decompressor costs more than decoding a typical answer: one per thread
        import zstandard

        d = _local.zstd = zstandard.ZstdDecompressor()
    return d


def _bytes(v: object) -> bytes:
    if isinstance(v, bytes):
        return v
    return str(v).encode("utf-8", "surrogatepass")
