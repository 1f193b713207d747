"""Benchmark: the same transcripts read from JSONL files and from an OpenClaw 2026.9-shaped SQLite store.

    python bench/bench_store.py [--size-mb 300] [--reuse] [--repeat 3]

Takes the corpus of bench/corpus.py, and builds a second state dir in which every agent's transcripts live
in `agents/<id>/agent/openclaw-agent.sqlite` instead: one `transcript_events` row per JSONL line, seq in
file order, and — as OpenClaw's transcript-payload.ts does — every event of 1 KiB or more whose zstd frame
(level 1) is at least 10% smaller stored compressed (`event_json` NULL, `event_zstd`, `event_utf8_bytes`).
Then times a cold `compare` (in process, empty state dir, page cache warm) over each, checks both give the
same counts, and prints the ratio. Target (issue 14, not asserted): SQLite within 1.2x of JSONL.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import zstandard

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402  (bench/ is not a package)

from memory_syncd import config, report  # noqa: E402
from memory_syncd.read.sources import Kind, list_sessions  # noqa: E402
from memory_syncd.scope import resolve  # noqa: E402

SCHEMA = """
CREATE TABLE session_windows (session_id TEXT NOT NULL PRIMARY KEY, session_key TEXT NOT NULL,
  previous_session_id TEXT, reason TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
  channel TEXT, model TEXT) STRICT;
CREATE TABLE transcript_events (session_id TEXT NOT NULL, seq INTEGER NOT NULL, event_json TEXT,
  created_at INTEGER NOT NULL, event_zstd BLOB, event_utf8_bytes INTEGER, navigation_json TEXT,
  PRIMARY KEY (session_id, seq)) STRICT;
PRAGMA user_version = 23;
"""
MIN_COMPRESS = 1024


def build_store(src: Path, dst: Path) -> tuple[int, int]:
    """Copy the corpus at `src` to `dst` with each agent's transcripts moved into its SQLite store;
    return (rows, compressed rows)."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("sessions"))
    z = zstandard.ZstdCompressor(level=1)
    rows = packed = 0
    for agent_dir in sorted((src / "agents").iterdir()):
        db = dst / "agents" / agent_dir.name / "agent" / "openclaw-agent.sqlite"
        db.parent.mkdir(parents=True, exist_ok=True)
        (dst / "agents" / agent_dir.name / "sessions").mkdir(exist_ok=True)
        con = sqlite3.connect(db)
        con.execute("PRAGMA journal_mode=WAL")
        con.executescript(SCHEMA)
        for i, (path, kind) in enumerate(list_sessions(agent_dir / "sessions").files):
            if kind is not Kind.JSONL:
                continue
            sid = f"s{i:05d}-{path.name.split('.jsonl')[0]}"
            con.execute("INSERT INTO session_windows VALUES (?, ?, NULL, 'initial', 0, 0, NULL, NULL)",
                        (sid, f"agent:{agent_dir.name}:explicit:{sid}"))
            batch = []
            with open(path, "rb") as f:
                for seq, line in enumerate(f):
                    line = line.rstrip(b"\n")
                    if not line:
                        continue
                    rows += 1
                    frame = z.compress(line) if len(line) >= MIN_COMPRESS else b""
                    if frame and len(frame) <= len(line) * 0.9:
                        packed += 1
                        batch.append((sid, seq, None, 0, frame, len(line)))
                    else:
                        batch.append((sid, seq, line.decode("utf-8", "surrogatepass"), 0, None, len(line)))
            con.executemany("INSERT INTO transcript_events VALUES (?, ?, ?, ?, ?, ?, NULL)", batch)
            con.commit()
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.close()
    return rows, packed


def cold_compare(state_root: Path) -> tuple[float, dict[str, int]]:
    env = {"HOME": str(state_root.parent), "OPENCLAW_STATE_DIR": str(state_root), "OPENCLAW_HOME": str(state_root)}
    with tempfile.TemporaryDirectory() as state:
        cfg = config.load(None, env, {"timezone": corpus.TIMEZONE, "state_dir": state})
        target = resolve(cfg, env)
        start = time.perf_counter()
        indexes = report.index_agents(target)
        result = report.compare(target, indexes, include_today=True, today=corpus.END_DAY)
        took = time.perf_counter() - start
    return took, {f"{d.agent} {d.date}": d.messages for d in result.days}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size-mb", type=float, default=300.0)
    p.add_argument("--days", type=int, default=60)
    p.add_argument("--agents", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--reuse", action="store_true", help="reuse a corpus and store with the same parameters")
    args = p.parse_args()
    name = f"corpus-{args.size_mb:g}mb-{args.days}d-{args.agents}a-s{args.seed}"
    jsonl = OUT / name
    if not (args.reuse and (jsonl / ".corpus.json").exists()):
        print(f"generating corpus {jsonl} ({args.size_mb:g} MB) ...", flush=True)
        shutil.rmtree(jsonl, ignore_errors=True)
        corpus.generate(jsonl, args.size_mb, args.days, args.agents, args.seed)
    sqlite_root = OUT / f"{name}-sqlite"
    if not (args.reuse and sqlite_root.exists()):
        shutil.rmtree(sqlite_root, ignore_errors=True)
        start = time.perf_counter()
        rows, packed = build_store(jsonl, sqlite_root)
        print(f"built the store: {rows} rows, {packed} compressed ({packed / rows:.0%}), "
              f"in {time.perf_counter() - start:.1f} s")
    size = sum(f.stat().st_size for f in sqlite_root.rglob("openclaw-agent.sqlite"))
    print(f"store files: {size / 1e6:.0f} MB; transcripts: "
          f"{sum(f.stat().st_size for f in jsonl.rglob('*.jsonl*')) / 1e6:.0f} MB")
    cold_compare(jsonl)  # warm the page cache for both
    cold_compare(sqlite_root)
    j_times, s_times = [], []
    for _ in range(args.repeat):
        t, j_counts = cold_compare(jsonl)
        j_times.append(t)
        t, s_counts = cold_compare(sqlite_root)
        s_times.append(t)
    same = "same counts" if j_counts == s_counts else f"COUNTS DIFFER ({len(j_counts)} vs {len(s_counts)} days)"
    j, s = min(j_times), min(s_times)
    print(f"cold compare, JSONL:  {j:.3f} s (median {statistics.median(j_times):.3f})")
    print(f"cold compare, SQLite: {s:.3f} s (median {statistics.median(s_times):.3f})")
    print(f"SQLite / JSONL: {s / j:.2f}x (target <= 1.2x); {same}; {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
