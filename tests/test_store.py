"""store.py and the SQLite era: read-only access to a live WAL store, keyset pages, WITHOUT ROWID tables,
installs mid-migration that hold a session both in the store and as JSONL."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from fixtures_openclaw import (
    S_3F,
    add_rows,
    assistant,
    compare_json,
    conversation,
    counts,
    digest,
    dumps,
    index,
    invoke,
    jsonl,
    make_store,
    ms,
    refresh,
    sample,
    store_rows,
    write,
)

from memory_syncd import statefile
from memory_syncd.errors import SourceError
from memory_syncd.read import store
from memory_syncd.read.cache import cache_path
from memory_syncd.read.index import transitions_of
from memory_syncd.read.sources import Agent

DAY1 = ms("2026-04-13T09:00:00+02:00")
DAY2 = ms("2026-04-14T09:00:00+02:00")


def sessions_of(n_sessions: int, turns: int, start: int = DAY1, prefix: str = "sess") -> list[tuple[str, int, bytes]]:
    rows = []
    for i in range(n_sessions):
        sid = f"{prefix}-{i:04d}"
        rows += store_rows(sid, conversation(sid, start + i * 1000, turns, step_ms=10, tag=f"{i}-"))
    return rows


def test_reads_every_row_in_pages(tmp_path: Path) -> None:
    rows = sessions_of(3, 300)  # 3 x 601 rows: several pages of 500, pages cut through sessions
    db = make_store(tmp_path / "agent" / "openclaw-agent.sqlite", rows)
    idx = index(tmp_path / "sessions", sqlite=db)
    report = refresh(idx)
    assert counts(idx) == {"2026-04-13": 1800}
    assert report.read_bytes == sum(len(e) for _, _, e in rows)
    assert not report.errors


def test_new_rows_only_on_the_next_refresh(tmp_path: Path) -> None:
    db = make_store(tmp_path / "openclaw-agent.sqlite", sessions_of(2, 300))
    idx = index(tmp_path / "sessions", sqlite=db)
    refresh(idx)
    assert refresh(idx).read_bytes == 0
    new = store_rows("sess-0000", conversation("sess-0000", DAY2, 350, step_ms=10, tag="late-")[1:], 10_000)
    con = sqlite3.connect(db)
    add_rows(con, new)
    con.close()
    report = refresh(idx)
    assert report.read_bytes == sum(len(e) for _, _, e in new)
    assert counts(idx) == {"2026-04-13": 1200, "2026-04-14": 700}


def test_store_file_is_never_modified(tmp_path: Path) -> None:
    db = make_store(tmp_path / "openclaw-agent.sqlite", sessions_of(2, 10))
    writer = sqlite3.connect(db)  # OpenClaw, running: commits sit in the WAL
    add_rows(writer, sessions_of(1, 5, DAY2, "live")[1:])
    wal = Path(f"{db}-wal")
    before = digest(db), digest(wal)
    idx = index(tmp_path / "sessions", sqlite=db)
    refresh(idx)
    list(idx.day_lines(next(iter(idx.days()))))
    assert counts(idx) == {"2026-04-13": 40, "2026-04-14": 10}
    assert (digest(db), digest(wal)) == before
    con = store.connect(db)
    with pytest.raises(sqlite3.OperationalError):
        con.execute("DELETE FROM transcript_events")
    con.close()
    writer.close()


def test_reading_while_another_connection_holds_a_write_transaction(tmp_path: Path) -> None:
    db = make_store(tmp_path / "openclaw-agent.sqlite", sessions_of(1, 10))
    writer = sqlite3.connect(db, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.executemany("INSERT INTO transcript_events VALUES (?, ?, ?, 0)",
                       [(s, q, e.decode()) for s, q, e in sessions_of(1, 3, DAY2, "live")[1:]])
    idx = index(tmp_path / "sessions", sqlite=db)
    report = refresh(idx)
    assert not report.errors
    assert counts(idx) == {"2026-04-13": 20}  # committed rows only
    writer.execute("COMMIT")
    writer.close()
    refresh(idx)
    assert counts(idx) == {"2026-04-13": 20, "2026-04-14": 6}


def test_without_rowid_table(tmp_path: Path) -> None:
    db = make_store(tmp_path / "openclaw-agent.sqlite", sessions_of(2, 300), without_rowid=True)
    idx = index(tmp_path / "sessions", sqlite=db)
    refresh(idx)
    assert counts(idx) == {"2026-04-13": 1200}
    assert refresh(idx).read_bytes == 0
    con = sqlite3.connect(db)
    add_rows(con, store_rows("sess-0001", [assistant(DAY2, "later")], 5000))
    con.close()
    report = refresh(idx)
    assert report.read_bytes == len(dumps(assistant(DAY2, "later")))
    assert counts(idx) == {"2026-04-13": 1200, "2026-04-14": 1}


@pytest.mark.parametrize("rewrite", [
    "DELETE FROM transcript_events WHERE seq = 3",  # fewer rows, same last seq
    "DELETE FROM transcript_events WHERE seq > 8",  # shorter
])
def test_without_rowid_rewritten_session_is_read_again(tmp_path: Path, rewrite: str) -> None:
    db = make_store(tmp_path / "openclaw-agent.sqlite", sessions_of(1, 5), without_rowid=True)
    idx = index(tmp_path / "sessions", sqlite=db)
    refresh(idx)
    con = sqlite3.connect(db)
    con.execute(rewrite)
    con.commit()
    con.close()
    report = refresh(idx)
    assert report.read_bytes > 0  # the session is read again
    assert counts(idx) == {"2026-04-13": 10}  # never double (keys of deleted rows are kept)


def test_rows_that_are_not_records_are_skipped(tmp_path: Path) -> None:
    rows: list[tuple[str, int, bytes | str]] = [("s", 1, "not json"), ("s", 2, "[1]"), ("s", 3, "{\"a\":"),
                                               ("s", 4, dumps(assistant(DAY1, "fine")))]
    db = make_store(tmp_path / "openclaw-agent.sqlite", rows)
    con = sqlite3.connect(db)
    con.execute("INSERT INTO transcript_events VALUES ('s', 5, NULL, 0)")
    con.execute("INSERT INTO transcript_events VALUES ('s', 6, 42, 0)")
    con.execute("INSERT INTO transcript_events VALUES ('s', 7, ?, 0)", (dumps(assistant(DAY1 + 1, "blob")),))
    con.execute("INSERT INTO transcript_events VALUES ('s', 8, ?, 0)", (b"\xff\xfe",))
    con.commit()
    con.close()
    idx = index(tmp_path / "sessions", sqlite=db)
    refresh(idx)
    assert counts(idx) == {"2026-04-13": 2}
    assert idx.skipped() == {"malformed": 6}


def test_over_long_rows_are_skipped(tmp_path: Path) -> None:
    big = dumps(assistant(DAY1, "x" * 5000))
    db = make_store(tmp_path / "openclaw-agent.sqlite", [("s", 1, big), ("s", 2, dumps(assistant(DAY1, "ok")))])
    idx = index(tmp_path / "sessions", sqlite=db, max_line=2048)
    refresh(idx)
    assert counts(idx) == {"2026-04-13": 1}
    assert idx.skipped() == {"too_long": 1}


@pytest.mark.parametrize("content", [b"this is not a database at all" * 100])
def test_unusable_store_is_an_error_not_a_crash(tmp_path: Path, content: bytes) -> None:
    db = write(tmp_path / "agent" / "openclaw-agent.sqlite", content)
    write(tmp_path / "sessions" / f"{S_3F}.jsonl", sample(S_3F))
    idx = index(tmp_path / "sessions", sqlite=db)
    report = refresh(idx)
    assert len(report.errors) == 1 and "cannot read SQLite store" in report.errors[0]
    assert counts(idx) == {"2026-04-13": 18}


def test_store_without_the_table_is_an_error(tmp_path: Path) -> None:
    db = tmp_path / "openclaw-agent.sqlite"
    sqlite3.connect(db).execute("CREATE TABLE other(x)").connection.close()
    with pytest.raises(SourceError, match="transcript_events"):
        store.connect(db)


def test_empty_store_file_is_not_an_error(tmp_path: Path) -> None:
    """A 0-byte store is an empty database (OpenClaw creating it): nothing to read, nothing to report."""
    db = write(tmp_path / "agent" / "openclaw-agent.sqlite", b"")
    write(tmp_path / "sessions" / f"{S_3F}.jsonl", sample(S_3F))
    idx = index(tmp_path / "sessions", sqlite=db)
    assert not refresh(idx).errors
    assert counts(idx) == {"2026-04-13": 18}


def test_store_cursor_round_trips() -> None:
    c = store.StoreCursor({"a": (5, 6, "gen-1")})
    assert store.StoreCursor.from_json(json.loads(json.dumps(c.to_json()))) == c
    assert store.StoreCursor.from_json({}) == store.StoreCursor()


def test_read_range(tmp_path: Path) -> None:
    db = make_store(tmp_path / "openclaw-agent.sqlite", sessions_of(1, 600))
    con = store.connect(db)
    try:
        rows = list(store.read_range(con, store.schema(con, db), "sess-0000", 2, 1102, 1 << 20))
    finally:
        con.close()
    assert [r.seq for r in rows] == list(range(2, 1102))


# --- mid-migration: the same session in the store and as JSONL ---


def test_session_in_store_and_jsonl_counts_once(tmp_path: Path) -> None:
    records = [json.loads(line) for line in sample(S_3F).splitlines()]
    db = make_store(tmp_path / "agent" / "openclaw-agent.sqlite", store_rows(S_3F, records))
    sessions = tmp_path / "sessions"
    write(sessions / f"{S_3F}.jsonl", sample(S_3F))
    write(sessions / "session-sqlite-import-archive" / f"{S_3F}.jsonl", sample(S_3F))
    idx = index(sessions, sqlite=db)
    refresh(idx)
    assert counts(idx) == {"2026-04-13": 18}
    summaries = [s.summary for s in idx.sources.values()]
    assert len(summaries) == 3
    assert [(t.session, t.from_model, t.to_model) for t in transitions_of(summaries)] == [
        (S_3F, "anthropic/claude-opus-4-6", "openai-codex/gpt-5.3-codex")]


def test_day_lines_read_back_from_the_store(tmp_path: Path) -> None:
    records = conversation("s1", DAY1, 3) + conversation("s1", DAY2, 2, tag="b-")[1:]
    db = make_store(tmp_path / "openclaw-agent.sqlite", store_rows("s1", records))
    idx = index(tmp_path / "sessions", sqlite=db)
    refresh(idx)
    day2 = sorted(idx.days())[1]
    lines = list(idx.day_lines(day2))
    assert [json.loads(raw)["message"]["content"][0]["text"] for _, raw in lines] == [
        "b-question 0", "b-answer 0", "b-question 1", "b-answer 1"]
    assert {s for s, _ in lines} == {"s1"}


# --- through the CLI ---


def sqlite_home(home: Path, rows: list[tuple[str, int, bytes]]) -> Path:
    root = home / ".openclaw"
    (root / "agents" / "main" / "sessions").mkdir(parents=True)
    (root / "openclaw.json").write_text("{agents: {defaults: {userTimezone: 'Europe/Berlin'}}}")
    return make_store(root / "agents" / "main" / "agent" / "openclaw-agent.sqlite", rows)


def test_compare_reads_the_discovered_store(isolated_env: Path) -> None:
    records = [json.loads(line) for line in sample(S_3F).splitlines()]
    db = sqlite_home(isolated_env, store_rows(S_3F, records))
    before = digest(db)
    report = compare_json()
    assert [(d["date"], d["messages"]) for d in report["days"]] == [("2026-04-13", 18)]
    result = invoke("transitions", "--json")
    assert json.loads(result.stdout) == [{"time": "2026-04-13T09:41:02+02:00", "session": S_3F,
                                          "from": "anthropic/claude-opus-4-6", "to": "openai-codex/gpt-5.3-codex"}]
    assert digest(db) == before


def test_store_progress_is_kept_between_runs(isolated_env: Path) -> None:
    """New rows read on a later run are remembered, so the run after that reads nothing."""
    db = sqlite_home(isolated_env, sessions_of(1, 5))
    compare_json()
    con = sqlite3.connect(db)
    add_rows(con, store_rows("sess-0000", conversation("x", DAY2, 2)[1:], 100))
    con.close()
    assert compare_json()["days"][-1]["messages"] == 4
    agent = Agent("main", isolated_env / ".openclaw" / "agents" / "main" / "sessions", Path("unused"), db)
    saved = statefile.read_json(cache_path(isolated_env / ".local" / "state" / "memory-syncd", agent))
    assert saved is not None
    idx = index(agent.sessions_dir, sqlite=db)
    assert idx.load_json(saved)
    assert refresh(idx).read_bytes == 0


def test_jsonl_and_store_mixed_through_the_cli(isolated_env: Path) -> None:
    records = [json.loads(line) for line in sample(S_3F).splitlines()]
    db = sqlite_home(isolated_env, store_rows(S_3F, records) + sessions_of(1, 2, DAY2))
    write(db.parent.parent / "sessions" / f"{S_3F}.jsonl.reset.2026-04-13T08-00-00.000Z", sample(S_3F))
    write(db.parent.parent / "sessions" / "other.jsonl", jsonl(conversation("other", DAY2 + 10, 1)))
    report = compare_json()
    assert [(d["date"], d["messages"]) for d in report["days"]] == [("2026-04-13", 18), ("2026-04-14", 6)]


def test_sessions_dir_flag_reads_the_store_beside_it(isolated_env: Path, tmp_path: Path) -> None:
    db = sqlite_home(isolated_env, sessions_of(1, 3))
    report = compare_json("--sessions-dir", str(db.parent.parent / "sessions"), "--memory-dir", str(tmp_path / "m"))
    assert [(d["date"], d["messages"]) for d in report["days"]] == [("2026-04-13", 6)]
