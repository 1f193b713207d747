"""Hostile sizes on the read side: lines that would parse into far more memory than they take, and store
rows over the cap (skipped in SQL, never fetched)."""

from __future__ import annotations

from pathlib import Path

from fixtures_openclaw import assistant, counts, dumps, index, jsonl, make_store, ms, refresh, user, write

from memory_syncd.ingest import amplifies

DAY = ms("2026-04-13T09:00:00+02:00")


def test_amplifies() -> None:
    assert amplifies(b"[" + b"{}," * 1_000_000 + b"{}]")
    assert not amplifies(b"{}," * 1000)  # small lines are always parsed
    text = ("word " * 400_000).encode()  # a big tool result of prose
    assert not amplifies(b'{"content":"' + text + b'"}')


def test_container_bomb_line_is_counted_not_parsed(tmp_path: Path) -> None:
    bomb = b'{"type":"message","message":{"role":"user","content":[' + b"{}," * 1_500_000 + b"{}]}}\n"
    write(tmp_path / "sessions" / "s.jsonl", bomb + jsonl([user(DAY, "fine"), assistant(DAY + 1, "ok")]))
    idx = index(tmp_path / "sessions")
    refresh(idx)
    assert counts(idx) == {"2026-04-13": 2}
    assert idx.skipped() == {"malformed": 1}
    assert all(not raw.startswith(b'{"type":"message","message":{"role":"user","content":[{}')
               for _, raw in idx.day_lines(next(iter(idx.days()))))


def test_container_bomb_row_in_the_store(tmp_path: Path) -> None:
    bomb = b'{"type":"message","message":{"role":"user","content":[' + b"[]," * 1_500_000 + b"[]]}}"
    db = make_store(tmp_path / "agent" / "openclaw-agent.sqlite", [("s", 1, bomb), ("s", 2, dumps(user(DAY, "q")))])
    idx = index(tmp_path / "sessions", sqlite=db)
    refresh(idx)
    assert counts(idx) == {"2026-04-13": 1}
    assert idx.skipped() == {"malformed": 1}


def test_store_row_over_the_cap_is_not_fetched(tmp_path: Path) -> None:
    big = dumps(assistant(DAY, "x" * 3_000_000))
    db = make_store(tmp_path / "agent" / "openclaw-agent.sqlite", [("s", 1, big), ("s", 2, dumps(user(DAY, "q")))])
    idx = index(tmp_path / "sessions", sqlite=db, max_line=1024 * 1024)
    report = refresh(idx)
    assert counts(idx) == {"2026-04-13": 1}
    assert idx.skipped() == {"too_long": 1}
    assert report.read_bytes == len(dumps(user(DAY, "q")))  # the big row's bytes never came out of SQLite
