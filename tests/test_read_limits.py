"""Hostile sizes on the read side: lines that would parse into far more memory than they take, and store
rows over the cap (skipped in SQL, never fetched)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from fixtures_openclaw import (
    assistant,
    counts,
    day_counts,
    dumps,
    index,
    jsonl,
    make_store,
    ms,
    refresh,
    run_module,
    tool_result,
    user,
    write,
)

from memory_syncd.read.skim import amplifies

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


def test_a_day_with_a_big_line_reads_back_the_same_lines(tmp_path: Path) -> None:
    # a range over 1 MiB is read back a line at a time (its big line held once), a small one in one read
    recs = [user(DAY, "q"), assistant(DAY + 1, "a"), tool_result(DAY + 2, "x\u00e9\"" * 500_000),
            assistant(DAY + 3, "done")]
    data = jsonl(recs) + b"\n" + jsonl([user(DAY + 4, "again")])  # and an empty line before the last
    write(tmp_path / "sessions" / "s.jsonl", data)
    idx = index(tmp_path / "sessions")
    refresh(idx)
    assert counts(idx) == {"2026-04-13": 5}
    [day] = idx.days()
    assert [raw for _, raw in idx.day_lines(day)] == [ln for ln in data.split(b"\n") if ln]


# --- things that are not regular files where transcripts, sessions.json or the store should be ---


def _fifo(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    return path


def test_fifo_as_sessions_json_store_and_transcript_never_hangs(openclaw_home: Path) -> None:
    sessions = openclaw_home / "agents" / "main" / "sessions"
    (sessions / "sessions.json").unlink(missing_ok=True)
    _fifo(sessions / "sessions.json")
    _fifo(sessions / "fifo-session.jsonl")
    _fifo(openclaw_home / "agents" / "main" / "agent" / "openclaw-agent.sqlite")
    (openclaw_home / "agents" / "work" / "agent").mkdir(parents=True)
    (openclaw_home / "agents" / "work" / "agent" / "openclaw-agent.sqlite").symlink_to("/dev/zero")
    out = run_module(["compare", "--json"])  # a hang would end in TimeoutExpired
    assert out.returncode == 0, out.stderr
    assert day_counts(json.loads(out.stdout), "main") == {"2026-04-13": 18, "2026-04-14": 12, "2026-04-15": 5}
    assert "Traceback" not in out.stderr
    assert "not a regular file" in out.stderr
    dry = run_module(["backfill", "--all", "--dry-run", "--agent", "main"])
    assert dry.returncode == 0, dry.stderr
    assert "Traceback" not in dry.stderr


def test_fifo_day_file_in_a_dry_run_is_reported_not_read(openclaw_home: Path, tmp_path: Path) -> None:
    mem = tmp_path / "mem"
    _fifo(mem / "2026-04-13.md")
    out = run_module(["backfill", "--date", "2026-04-13", "--dry-run", "--agent", "main", "--memory-dir", str(mem)])
    assert "would-fail" in out.stdout and "2026-04-13.md" in out.stdout + out.stderr, out.stdout + out.stderr
    assert "Traceback" not in out.stderr
