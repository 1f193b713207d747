"""Benchmark of `memory-syncd backfill --all` against the original tool's approach of rescanning every
transcript file for every day.

    python bench/bench_backfill.py [--size-mb 300] [--days 60] [--reuse] [--repeat 3]

Both sides write every agent-day with messages (`--all --force`) into a fresh copy of the corpus's memory
dirs (the corpus itself is never written), with the page cache warm:

- ours, cold: what `memory-syncd backfill --all --force` runs, in process and on an empty state dir:
  `report.index_agents` (one pass over every transcript, cache saved) then `backfill.run`, which renders each
  day from the byte ranges the index recorded for it;
- ours, warm: the same on the state dir a cold run left (what a second run, or one after `compare`, costs);
- seed: the approach of the original skill (shared/seed/memory-sync-task.md): one scan to find the days
  with messages, then for each day, open and parse every transcript file of every agent fully (the same
  files and the same parser, `parse.parse_line` with orjson), keep that day's messages and render them
  with our own `content.build` and `render.render`, and write them with our `memfile.write_block`. Only
  the rescanning differs; model switches are derived from the same scans, so both sides write the same
  bytes, which is checked.

Targets (not asserted): ours at least 30x faster than the seed approach (issue 14). Figures are the best of
`--repeat` runs for ours (median beside it) and of `--seed-repeat` runs for the seed approach (slow).
The corpus comes from bench/corpus.py into bench/out/ (git-ignored); `--reuse` keeps a matching one.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
sys.path.insert(0, str(HERE))

import bench_compare  # noqa: E402  (bench/ is not a package)
import corpus  # noqa: E402
import targets  # noqa: E402

from memory_syncd import (  # noqa: E402
    backfill,
    config,
    report,
)
from memory_syncd.content import assemble as content  # noqa: E402
from memory_syncd.content import render  # noqa: E402
from memory_syncd.read.index import ModelObs, SourceDays, observation, transitions_of  # noqa: E402
from memory_syncd.read.parse import DayClock, Header, Message, ModelSeen, Note, parse_line  # noqa: E402
from memory_syncd.read.sessionmeta import from_sessions_json  # noqa: E402
from memory_syncd.read.sources import Kind, list_sessions  # noqa: E402
from memory_syncd.scope import Target, resolve  # noqa: E402
from memory_syncd.write import memfile, writer  # noqa: E402

TODAY = corpus.END_DAY.toordinal() + 1  # the day after the corpus ends: every corpus day is in the past

Timing = tuple[float, float]  # (best, median) seconds


@contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=OUT))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def make_target(corpus_path: Path, state: Path, memory_root: Path) -> Target:
    """The corpus's agents, with their memory dirs copied under `memory_root` (so nothing in the corpus is
    written) and memory-syncd's state in `state`."""
    env = dict(os.environ, OPENCLAW_STATE_DIR=str(corpus_path), HOME=str(memory_root / "home"))
    for key in ("MEMORY_SYNCD_CONFIG", "MEMORY_SYNCD_STATE_DIR", "MEMORY_SYNCD_TIMEZONE", "OPENCLAW_HOME"):
        env.pop(key, None)
    cfg = config.load(None, env, {"timezone": corpus.TIMEZONE, "state_dir": str(state)})
    target = resolve(cfg, env)
    agents = []
    for a in target.agents:
        copy = memory_root / a.id / "memory"
        if a.memory_dir.is_dir():
            shutil.copytree(a.memory_dir, copy)
        else:
            copy.parent.mkdir(parents=True)
        agents.append(replace(a, memory_dir=copy))
    return replace(target, agents=tuple(agents))


# --- ours ---


def ours(target: Target) -> tuple[list[writer.DayResult], float]:
    """`backfill --all --force`, as the CLI runs it; also how long indexing took."""
    t0 = time.perf_counter()
    indexes = report.index_agents(target)
    indexed = time.perf_counter() - t0
    sel = backfill.Selection(all=True, force=True)
    return backfill.run(target, indexes, sel, today=date.fromordinal(TODAY)), indexed


# --- the seed's approach ---


def transcripts(target: Target) -> list[tuple[str, list[Path]]]:
    """Every agent's transcript files: the same listing `index_agents` reads."""
    return [(a.id, [p for p, kind in list_sessions(a.sessions_dir).files if kind is Kind.JSONL])
            for a in target.agents]


def scan(files: list[Path], clock: DayClock, day: date | None) -> tuple[set[date], list[tuple[str, bytes]],
                                                                          set[int], list[ModelObs]]:
    """Parse every line of every file: the days seen, and for `day` its lines (with their session), its
    message keys and every model observation (switches need the history before the day)."""
    days: set[date] = set()
    lines: list[tuple[str, bytes]] = []
    keys: set[int] = set()
    models: list[ModelObs] = []
    for path in files:
        session = ""
        notes: list[tuple[str, bytes]] = []  # the day's snapshots and notes: kept if the file has a message then
        has_day = False
        with open(path, "rb") as f:
            for raw in f:
                raw = raw.rstrip(b"\n")
                rec = parse_line(raw)
                if isinstance(rec, Header):
                    session = rec.session_id
                elif isinstance(rec, Message | ModelSeen | Note):
                    obs = observation(rec, session)
                    if obs is not None:
                        models.append(obs)
                    d = clock.day(rec.ts_ms)
                    if not isinstance(rec, Message):
                        if d == day:
                            notes.append((session, raw))
                        continue
                    days.add(d)
                    if d == day:
                        has_day = True
                        lines.append((session, raw))
                        keys.add(rec.key)
        if has_day:
            lines += notes
    return days, lines, keys, models


def seed(target: Target) -> tuple[int, int]:
    """For each day with messages (found by one scan), rescan every transcript of every agent, render that
    day and write it; return the number of agent-days written and of full scans made."""
    clock = DayClock(target.zone)
    listing = transcripts(target)
    all_days: set[date] = set()
    for _, files in listing:
        all_days |= scan(files, clock, None)[0]
    written = 0
    for day in sorted(all_days):
        for agent_id, files in listing:
            agent = next(a for a in target.agents if a.id == agent_id)
            _, lines, keys, models = scan(files, clock, day)
            if not keys:
                continue
            switches = [(t.ts_ms, t.session, t.from_model, t.to_model)
                        for t in transitions_of([SourceDays(models=models)]) if clock.day(t.ts_ms) == day]
            snap = content.build(agent_id, day, target.zone, lines, len(keys),
                                 from_sessions_json(agent.sessions_dir), switches)
            block = render.render(snap, target.cfg.max_memory_file_bytes)
            path = memfile.target_path(agent.memory_dir, day, target.cfg.write_mode)
            with memfile.writer_lock(agent.memory_dir, timeout=30):
                memfile.write_block(path, block, title=render.title(day.isoformat()))
            written += 1
    return written, len(all_days) + 1


# --- measuring ---


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    t0 = time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, value


def summary(times: list[float]) -> Timing:
    return min(times), statistics.median(times)


def same_files(a: Path, b: Path) -> str:
    """'identical' if the two memory roots hold the same files with the same bytes."""
    fa = {p.relative_to(a): p.read_bytes() for p in a.rglob("*.md")}
    fb = {p.relative_to(b): p.read_bytes() for p in b.rglob("*.md")}
    if fa == fb:
        return f"identical ({len(fa)} memory files)"
    diff = sorted(k for k in set(fa) | set(fb) if fa.get(k) != fb.get(k))
    return f"DIFFERENT in {len(diff)} files, e.g. {diff[0]}"


def measure(corpus_path: Path, repeat: int, seed_repeat: int) -> dict[str, Any]:
    cold: list[float] = []
    warm: list[float] = []
    seeded: list[float] = []
    indexing: list[float] = []
    notes: list[str] = []
    with scratch("backfill-") as work:
        for i in range(repeat):
            state = work / f"state-{i}"
            target = make_target(corpus_path, state, work / f"ours-{i}")
            t, value = timed(partial(ours, target))
            cold.append(t)
            assert isinstance(value, tuple)
            results, indexed = value
            indexing.append(indexed)
            if i == 0:
                written = sum(r.action in ("created", "updated") for r in results)
                sizes = [r.bytes for r in results]
                notes.append(f"{len(results)} agent-days, {written} written; block bytes mean "
                             f"{statistics.mean(sizes):.0f}, max {max(sizes)}")
            target = make_target(corpus_path, state, work / f"ours-warm-{i}")
            t, _ = timed(partial(ours, target))
            warm.append(t)
        for i in range(seed_repeat):
            mem = work / f"seed-{i}"
            target = make_target(corpus_path, work / "seed-state", mem)
            t, value = timed(partial(seed, target))
            seeded.append(t)
            assert isinstance(value, tuple)
            n, scans = value
            if i == 0:
                notes.append(f"seed approach wrote {n} agent-days in {scans} full scans; output vs ours: "
                             f"{same_files(work / 'ours-0', mem)}")
    return {"cold": summary(cold), "warm": summary(warm), "seed": summary(seeded), "indexing": summary(indexing),
            "days": len(results), "notes": notes}


def fmt(t: Timing) -> str:
    return f"{t[0]:8.3f} s  (median {t[1]:.3f})"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size-mb", type=float, default=300.0, help="corpus transcript size (10^6 bytes)")
    p.add_argument("--days", type=int, default=60)
    p.add_argument("--agents", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--reuse", action="store_true", help="reuse a corpus with the same parameters in bench/out/")
    p.add_argument("--repeat", type=int, default=3, help="runs of ours, cold and warm")
    p.add_argument("--seed-repeat", type=int, default=1, help="runs of the seed approach (slow)")
    a = p.parse_args(argv)
    OUT.mkdir(exist_ok=True)
    path, stats = bench_compare.ensure_corpus(a.size_mb, a.days, a.agents, a.seed, a.reuse)
    files = bench_compare.transcript_files(path)
    mb = sum(f.stat().st_size for f in files) / 1e6
    bench_compare.floor_loop(files, None)  # warm the page cache
    m = measure(path, a.repeat, a.seed_repeat)
    rows = [
        ("machine", ""),
        *((f"  {k}", v) for k, v in bench_compare.machine().items()),
        ("corpus", str(path)),
        ("  transcripts", f"{len(files)} files, {mb:.1f} MB, {stats['lines']} lines; {a.days} days "
                          f"of history, {a.agents} agents"),
        ("  messages", f"{stats['messages']} distinct + {stats['rewrite_copies']} rewrite copies; "
                       f"{sum(len(d) for d in stats['days'].values())} agent-days with messages"),
        ("  runs", "; ".join(m["notes"])),
        ("timings (page cache warm)", ""),
        (f"  ours, cold (best of {a.repeat})", fmt(m["cold"])),
        ("    of which indexing", f"{fmt(m['indexing'])}; writing the days "
                                  f"{(m['cold'][0] - m['indexing'][0]) / m['days'] * 1000:.1f} ms per agent-day"),
        (f"  ours, warm (best of {a.repeat})", fmt(m["warm"])),
        (f"  seed approach (best of {a.seed_repeat})", fmt(m["seed"])),
        ("ratios", ""),
        ("  seed / ours cold", f"{m['seed'][0] / m['cold'][0]:.1f}x   (target >= 30x)"),
        ("  seed / ours warm", f"{m['seed'][0] / m['warm'][0]:.1f}x"),
    ]
    width = max(len(k) for k, _ in rows) + 2
    for k, v in rows:
        print(f"{k:<{width}}{v}")
    cold, warm = m["seed"][0] / m["cold"][0], m["seed"][0] / m["warm"][0]
    same = any(n.startswith("identical") or " identical" in n for n in m["notes"])
    targets.record("backfill", [
        ("backfill --all, seed's rescan / ours, cold", f"{cold:.1f}x", ">= 30x, same bytes", cold >= 30 and same),
        ("  the same, warm (index cached)", f"{warm:.1f}x", ">= 30x, same bytes", warm >= 30 and same),
    ], note=f"{mb:.0f} MB, {a.days} days, {a.agents} agents; " + "; ".join(m["notes"]))
    saved = OUT / "bench_backfill-last.json"
    saved.write_text(json.dumps({k.strip(): v for k, v in rows if v}, indent=1))
    print(f"(table saved to {saved})", file=sys.stderr)


if __name__ == "__main__":
    main()
