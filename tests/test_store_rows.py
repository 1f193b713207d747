"""store_rows.py: every row comes back once, in seq order, with the bytes that were stored, whatever mix of
plain and compressed payloads, page boundaries, rows fetched on their own and rows over the line cap a
session holds; plain text comes out as stored bytes (UTF-16 stores and invalid UTF-8 included)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import zstandard
from fixtures_openclaw import assistant, counts, dumps, index, ms, refresh
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memory_syncd.read import store, store_rows

DAY = ms("2026-09-20T09:00:00+02:00")

CREATE = """
CREATE TABLE transcript_events (session_id TEXT NOT NULL, seq INTEGER NOT NULL, event_json TEXT,
  created_at INTEGER NOT NULL, event_zstd BLOB, event_utf8_bytes INTEGER, navigation_json TEXT,
  PRIMARY KEY (session_id, seq)) STRICT;
PRAGMA user_version = 23;
"""

# (session, seq, payload, compressed)
Event = tuple[str, int, bytes, bool]


def build(path: Path, events: list[Event], encoding: str = "UTF-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, isolation_level=None)
    con.execute(f"PRAGMA encoding = '{encoding}'")
    con.executescript(CREATE)
    z = zstandard.ZstdCompressor(level=1)
    for session, seq, payload, packed in events:
        if packed:
            con.execute("INSERT INTO transcript_events VALUES (?, ?, NULL, 0, ?, ?, '{}')",
                        (session, seq, z.compress(payload), len(payload)))
        else:
            con.execute("INSERT INTO transcript_events VALUES (?, ?, ?, 0, NULL, ?, NULL)",
                        (session, seq, payload.decode(), len(payload)))
    con.close()
    return path


def read_all(db: Path, max_bytes: int) -> list[store.Row]:
    con = store.connect(db)
    try:
        return list(store.read_new(con, store.schema(con, db), store.StoreCursor(), max_bytes))
    finally:
        con.close()


payloads = st.builds(lambda n, c: (c * n).encode(), st.integers(0, 3000), st.sampled_from("ab{é😀"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sessions=st.lists(st.lists(st.tuples(payloads, st.booleans()), max_size=12), min_size=1, max_size=3),
       page=st.integers(1, 5), inline=st.integers(1, 2500), max_bytes=st.integers(1, 4000),
       encoding=st.sampled_from(["UTF-8", "UTF-16le"]))
def test_rows_come_back_as_stored(tmp_path_factory: pytest.TempPathFactory, sessions: list[list[tuple[bytes, bool]]],
                                  page: int, inline: int, max_bytes: int, encoding: str) -> None:
    events = [(f"s{i}", seq * 3, p, packed) for i, rows in enumerate(sessions) for seq, (p, packed) in enumerate(rows)]
    db = build(tmp_path_factory.mktemp("store") / "openclaw-agent.sqlite", events, encoding)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(store_rows, "PAGE", page)  # pages cut through sessions
        mp.setattr(store_rows, "INLINE", inline)  # some rows fetched on their own
        got = read_all(db, max_bytes)
    want = sorted(events)
    assert [(r.session, r.seq) for r in got] == [(s, q) for s, q, _, _ in want]
    for row, (_, _, payload, _) in zip(got, want, strict=True):
        if len(payload) > max_bytes:
            assert (row.event, row.problem) == (None, "too_long")
        else:
            assert (row.event, row.problem) == (payload, "")


def test_read_range_and_progress(tmp_path: Path) -> None:
    events = [("s", seq, dumps(assistant(DAY + seq, f"answer {seq}")), seq % 2 == 0) for seq in range(30)]
    db = build(tmp_path / "openclaw-agent.sqlite", events)
    con = store.connect(db)
    try:
        sc = store.schema(con, db)
        rows = list(store.read_range(con, sc, "s", 5, 12, 1 << 20))
        assert [r.seq for r in rows] == list(range(5, 12))
        assert [r.event for r in rows] == [e[2] for e in events[5:12]]
        cursor = store.StoreCursor()
        assert len(list(store.read_new(con, sc, cursor, 1 << 20))) == 30
        assert cursor.seqs == {"s": (29, 30, "")}
        assert list(store.read_new(con, sc, cursor, 1 << 20)) == []
    finally:
        con.close()


def test_invalid_utf8_text_is_one_malformed_row_not_an_error(tmp_path: Path) -> None:
    db = build(tmp_path / "agent" / "openclaw-agent.sqlite",
               [("s", 1, dumps(assistant(DAY, "before")), False), ("s", 3, dumps(assistant(DAY + 2, "after")), True)])
    con = sqlite3.connect(db)
    con.execute("INSERT INTO transcript_events VALUES ('s', 2, CAST(? AS TEXT), 0, NULL, 3, NULL)", (b"{\xff}",))
    con.commit()
    con.close()
    assert [r.event for r in read_all(db, 1 << 20)][1] == b"{\xff}"  # as stored: parsing calls it malformed
    idx = index(tmp_path / "sessions", sqlite=db)
    assert not refresh(idx).errors
    assert counts(idx) == {"2026-09-20": 2}
    assert idx.skipped() == {"malformed": 1}


def test_compressed_row_without_a_recorded_size_is_capped(tmp_path: Path) -> None:
    db = build(tmp_path / "openclaw-agent.sqlite", [])
    con = sqlite3.connect(db)
    frame = zstandard.ZstdCompressor(write_content_size=False).compress(b"x" * 5000)
    con.execute("INSERT INTO transcript_events VALUES ('s', 1, NULL, 0, ?, NULL, NULL)", (frame,))
    con.commit()
    con.close()
    assert [(r.event, r.problem) for r in read_all(db, 4000)] == [(None, "too_long")]
    assert [r.event for r in read_all(db, 5000)] == [b"x" * 5000]
