"""`memory-syncd compare`: days with messages against memory bytes, through the CLI."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import zstandard
from fixtures_openclaw import (
    BERLIN,
    S_3F,
    S_8B,
    S_C7,
    append,
    assistant,
    compare_json,
    conversation,
    day_counts,
    index,
    invoke,
    jsonl,
    ms,
    refresh,
    run_module,
    sample,
    user,
    write,
)

from memory_syncd import statefile
from memory_syncd.read.cache import cache_path
from memory_syncd.read.sources import Agent
from memory_syncd.report import status_of


def memory(home: Path) -> Path:
    return home / ".openclaw" / "workspace" / "memory"


def test_samples_json(openclaw_home: Path) -> None:
    report = compare_json()
    assert set(report) >= {"timezone", "coverage", "days", "skipped"}
    assert report["timezone"] == "Europe/Berlin"
    assert report["days"] == [
        {"date": "2026-04-13", "agent": "main", "messages": 18, "memory_bytes": 0, "status": "missing"},
        {"date": "2026-04-14", "agent": "main", "messages": 12, "memory_bytes": 0, "status": "missing"},
        {"date": "2026-04-15", "agent": "main", "messages": 5, "memory_bytes": 0, "status": "missing"},
        {"date": "2026-04-17", "agent": "work", "messages": 9, "memory_bytes": 0, "status": "missing"},
    ]
    assert report["coverage"] == 0.0
    assert report["skipped"] == {}


def test_statuses_and_coverage(openclaw_home: Path) -> None:
    mem = memory(openclaw_home.parent)
    write(mem / "2026-04-13.md", b"x" * 80)
    write(mem / "2026-04-13-backup-refactor.md", b"y" * 20)  # 100 B / 18 messages: covered
    write(mem / "2026-04-14.md", b"x" * 59)  # 59 / 12 < 5: sparse
    write(mem / "2026-04-15-0710.md", b"x" * 25)  # slugged only, 25 / 5 = 5: covered
    write(mem / "2026-04-16.md", b"x" * 999)  # no messages that day: not listed
    write(mem / "notes.md", b"x" * 999)
    write(mem / "2026-04-14.md.bak", b"x" * 999)
    (mem / "2026-04-17.md").mkdir()
    report = compare_json("--agent", "main")
    assert [(d["date"], d["memory_bytes"], d["status"]) for d in report["days"]] == [
        ("2026-04-13", 100, "covered"), ("2026-04-14", 59, "sparse"), ("2026-04-15", 25, "covered")]
    assert report["coverage"] == 66.7


def test_status_rule() -> None:
    assert status_of(10, 0, 5.0) == "missing"
    assert status_of(10, 49, 5.0) == "sparse"
    assert status_of(10, 50, 5.0) == "covered"
    assert status_of(0, 1, 5.0) == "covered"


def test_text_output(openclaw_home: Path) -> None:
    write(memory(openclaw_home.parent) / "2026-04-13.md", b"x" * 500)
    result = invoke("compare")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "time zone Europe/Berlin; coverage 25% (1 of 4 days covered)"
    assert lines[2].split() == ["2026-04-13", "main", "18", "500B", "covered"]
    assert lines[5].split() == ["2026-04-17", "work", "9", "0B", "missing"]
    assert result.stderr == ""


def test_today_only_with_include_today(openclaw_home: Path) -> None:
    now = datetime.now(BERLIN)
    start = max(now - timedelta(minutes=5), now.replace(hour=0, minute=0, second=0, microsecond=0))
    t = int(start.timestamp() * 1000)
    write(openclaw_home / "agents" / "main" / "sessions" / "today.jsonl",
          jsonl(conversation("today", t, 1, step_ms=1000)))
    today = now.date().isoformat()
    assert today not in day_counts(compare_json())
    assert day_counts(compare_json("--include-today"))[today] == 2


def test_future_days_are_not_listed(openclaw_home: Path) -> None:
    later = ms("2199-01-01T12:00:00+01:00")
    write(openclaw_home / "agents" / "main" / "sessions" / "future.jsonl", jsonl(conversation("f", later, 1)))
    assert "2199-01-01" not in day_counts(compare_json("--include-today"))


def test_no_days_is_full_coverage(isolated_env: Path) -> None:
    (isolated_env / ".openclaw" / "agents" / "main" / "sessions").mkdir(parents=True)
    assert compare_json() == {"timezone": "UTC", "coverage": 100.0, "days": [], "skipped": {}}


def test_unique_counting_across_sources(openclaw_home: Path) -> None:
    sessions = openclaw_home / "agents" / "main" / "sessions"
    write(sessions / f"{S_3F}.checkpoint.0b6c7e2a-1f3d-4e5a-9b8c-7d6e5f4a3b2c.jsonl", sample(S_3F))
    write(sessions / f"{S_3F}.jsonl.reset.2026-04-13T08-00-00.000Z", sample(S_3F))
    write(sessions / f"{S_8B}.jsonl.deleted.2026-04-16T04-00-00.000Z.zst", zstandard.ZstdCompressor().compress(
        sample(S_8B)))
    lines = sample(S_8B).splitlines(keepends=True)
    copies = b"".join(lines[-4:]).replace(b'"type":"message","id":"', b'"type":"message","id":"c')
    append(sessions / f"{S_8B}.jsonl", copies)  # rewrite copies: new entry ids, same messages
    report = compare_json("--agent", "main")
    assert day_counts(report) == {"2026-04-13": 18, "2026-04-14": 12, "2026-04-15": 5}
    assert report["skipped"] == {"not a transcript": 1}


def test_skipped_inputs_are_reported(openclaw_home: Path) -> None:
    sessions = openclaw_home / "agents" / "work" / "sessions"
    append(sessions / f"{S_C7}.jsonl", b"garbage\n" + b"[" * 100_000 + b"\n" +
           b'{"type":"message","message":{"role":"user","timestamp":-1}}\n{"type":"mess')
    (sessions / "dir.jsonl").mkdir()
    write(sessions / "x.jsonl.bak-1-2", b"")
    result = invoke("compare", "--json")
    report = json.loads(result.stdout)
    assert report["skipped"] == {"malformed": 2, "bad_timestamp": 1, "partial last line": 1,
                                 "not a regular file": 1, "not a transcript": 1}
    assert result.stderr == ("skipped: 1 bad_timestamp, 2 malformed, 1 not a regular file, 1 not a transcript, "
                             "1 partial last line\n")
    assert day_counts(report, "work") == {"2026-04-17": 9}


def test_zst_archives_without_zstandard_are_skipped_and_reported(openclaw_home: Path, tmp_path: Path) -> None:
    sessions = openclaw_home / "agents" / "main" / "sessions"
    (sessions / f"{S_8B}.jsonl").rename(tmp_path / "away.jsonl")
    write(sessions / f"{S_8B}.jsonl.deleted.2026-04-16T04-00-00.000Z.zst",
          zstandard.ZstdCompressor().compress(sample(S_8B)))
    with_zstd = run_module(["compare", "--json", "--agent", "main"])
    assert with_zstd.returncode == 0, with_zstd.stderr
    assert day_counts(json.loads(with_zstd.stdout)) == {"2026-04-13": 18, "2026-04-14": 12, "2026-04-15": 5}
    without = run_module(["compare", "--json", "--agent", "main"], prelude="sys.modules['zstandard'] = None")
    assert without.returncode == 0, without.stderr
    report = json.loads(without.stdout)
    assert day_counts(report) == {"2026-04-13": 18}
    assert report["skipped"] == {"zst archive (install zstandard to read)": 1}
    assert without.stderr == "skipped: 1 zst archive (install zstandard to read)\n"


def test_warm_run_opens_nothing_and_appends_read_only_new_bytes(openclaw_home: Path) -> None:
    first = compare_json()
    state_dir = openclaw_home.parent / ".local" / "state" / "memory-syncd"
    agent = Agent("main", openclaw_home / "agents" / "main" / "sessions", Path("unused"),
                  openclaw_home / "agents" / "main" / "agent" / "openclaw-agent.sqlite")
    cache = cache_path(state_dir, agent)
    saved_at = cache.stat().st_mtime_ns
    assert compare_json() == first
    assert cache.stat().st_mtime_ns == saved_at  # nothing was read, so nothing to save

    warm = index(agent.sessions_dir)
    assert warm.load_json(statefile.read_json(cache))
    report = refresh(warm)
    assert (report.opened, report.read_bytes) == (0, 0)

    extra = jsonl([user(ms("2026-04-15T11:00:00+02:00"), "later"), assistant(ms("2026-04-15T11:00:09+02:00"), "ok")])
    append(agent.sessions_dir / f"{S_8B}.jsonl", extra)
    report = refresh(warm)
    assert (report.opened, report.read_bytes) == (1, len(extra))
    assert day_counts(compare_json(), "main")["2026-04-15"] == 7


def test_cache_survives_damage(openclaw_home: Path) -> None:
    first = compare_json()
    state_dir = openclaw_home.parent / ".local" / "state" / "memory-syncd"
    for cache in (state_dir / "cache").iterdir():
        if cache.name.startswith("main-"):
            cache.write_text(json.dumps({
                "schema": 1, "timezone": "Europe/Berlin", "max_line": 64 * 1024 * 1024,
                "sessions_dir": str(openclaw_home / "agents" / "main" / "sessions"),
                "sources": {"1:2": {"path": "p", "kind": "jsonl"}}}))
        else:
            cache.write_text("{not json")
    assert compare_json() == first


def test_state_dir_flag(openclaw_home: Path, tmp_path: Path) -> None:
    compare_json("--state-dir", str(tmp_path / "st"))
    assert len(list((tmp_path / "st" / "cache").iterdir())) == 2


def test_unwritable_state_dir_still_compares(openclaw_home: Path, tmp_path: Path,
                                             caplog: pytest.LogCaptureFixture) -> None:
    blocker = write(tmp_path / "file", b"")
    result = invoke("compare", "--json", "--state-dir", str(blocker / "st"))
    assert result.exit_code == 0
    assert day_counts(json.loads(result.stdout), "work") == {"2026-04-17": 9}
    assert "cannot save cache" in caplog.text
