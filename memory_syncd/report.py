"""The one-shot queries: index the agents (from their saved cache), then compare days with memory files
or list model transitions. The daemon drives the same `AgentIndex` incrementally.

`index_agents` reuses per-source results kept in the state dir (keyed by file identity, size and mtime),
so a second run on unchanged data opens no transcript at all. When there is much to read, the sources to
read (transcript files and runs of a store's sessions, of any agent) are shared out between this process
and forked helpers, one per spare core: each takes the next one left, biggest first, so the cores finish
together; a helper hands back the sources it read, and a refresh of each agent then finds them read. The
result is the same as reading them one after another.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import multiprocessing
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from multiprocessing.sharedctypes import Synchronized
from typing import Any

from memory_syncd.read import cache
from memory_syncd.read.index import Day, transitions_of
from memory_syncd.read.ingest import AgentIndex
from memory_syncd.read.parse import DayClock
from memory_syncd.read.sources import Agent
from memory_syncd.read.store_rows import StoreChunk
from memory_syncd.scope import Target
from memory_syncd.write import memfile

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
GC_YOUNG = 50_000  # allocations between young-generation collections while indexing or rendering (see below)
_HELPER_MIN_BYTES = 16 << 20  # less to read per helper, and forking it and handing its files back costs more
_CHUNKS = 4  # a big store is cut into about this many runs of sessions per reader, so that they end together


@contextlib.contextmanager
def few_collections() -> Iterator[None]:
    """Look for cyclic garbage less often in the `with` body: indexing and rendering make a great many
    objects and hardly any cycles, and each young-generation collection walks them all (about 2% of a
    `backfill --all`). Collections still happen, every GC_YOUNG allocations instead of every 700."""
    old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG, *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def index_agents(target: Target, *, use_cache: bool = True, save: bool = True,
                 progress: Progress | None = None) -> list[AgentIndex]:
    """Bring each agent's index up to date, starting from the cached state, and save it back (unless
    `save` is false: a dry run writes nothing anywhere)."""
    with few_collections():
        return _index_agents(target, use_cache=use_cache, save=save, progress=progress)


def _index_agents(target: Target, *, use_cache: bool, save: bool, progress: Progress | None) -> list[AgentIndex]:
    indexes = []
    for agent in target.agents:
        idx = AgentIndex(agent, target.zone.key, target.cfg.max_line_bytes)
        if use_cache:
            cache.load(idx, cache.cache_path(target.state_dir, agent))
        indexes.append(idx)
    clock = DayClock(target.zone)
    plan = _plan(indexes)
    shared = sorted({i for i, _ in plan.work}) if plan else []
    read = [False] * len(indexes)  # whether anything of an agent was read before its refresh
    if plan:
        next_item = multiprocessing.get_context("fork").Value("i", 0)  # the next item of `plan.work` to take
        helpers = _share_out(target, indexes, plan, next_item)
        if progress:
            for i in shared:
                progress(f"reading transcripts of agent {indexes[i].agent.id}")
        for j in _take(next_item, len(plan.work)):
            i, key = plan.work[j]
            indexes[i].read_files([key], clock)
            read[i] = True
        for conn, proc in helpers:
            for i in _collect(indexes, conn):
                read[i] = True
            proc.join()
    for i, idx in enumerate(indexes):  # what is left, the store, and what went wrong, in agent order
        if progress and i not in shared:
            progress(f"reading transcripts of agent {idx.agent.id}")
        report = idx.refresh(clock)
        for err in report.errors:
            log.warning("%s", err)
        path = cache.cache_path(target.state_dir, idx.agent)
        # read_bytes too: the SQLite store is read without opening a file, and its cursor must be kept
        if use_cache and save and (read[i] or report.opened or report.read_bytes or not path.exists()):
            problem = cache.save(idx, path)
            if problem:
                log.warning("cannot save cache %s: %s", path, problem)  # costs speed next time, nothing else
    return indexes


_Helper = tuple[Connection, BaseProcess]  # (where a helper sends what it read, the process)


@dataclass(frozen=True)
class Plan:
    """How reading is shared out: `readers` processes (this one and forked helpers) take the items of `work`
    one at a time, biggest first, each the next one not yet taken, until none is left; so they end about
    together however wrong the sizes guessed. An item is (agent, a source key of `stale` or a store chunk)."""

    readers: int
    work: list[tuple[int, str | StoreChunk]]


def _plan(indexes: list[AgentIndex]) -> Plan | None:
    """The sources with something to read, when helpers are worth it: none with one core, without fork, with
    other threads running (forking them is unsafe), or with little to read. The files' states are made here,
    before any fork, so the index keeps a refresh's order. A store is one source: a big one is cut into runs
    of its sessions, so that it too is shared out."""
    if "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() > 1:
        return None
    stale = [(size, i, key) for i, idx in enumerate(indexes) for key, size in idx.stale().items()]
    total = sum(f[0] for f in stale)
    readers = min(cores(), total // max(_HELPER_MIN_BYTES, 1))
    if readers < 2:
        return None
    items: list[tuple[int, int, str | StoreChunk]] = []
    for size, i, key in stale:
        cut = indexes[i].store_chunks(size, total // (readers * _CHUNKS)) if key.startswith("sqlite:") else []
        items += [(n, i, chunk) for n, chunk in cut] if cut else [(size, i, key)]
    if min(readers, len(items)) < 2:
        return None
    items.sort(key=lambda item: -item[0])  # stable: equal sizes keep the listing's order
    return Plan(min(readers, len(items)), [(i, key) for _, i, key in items])


def _take(next_item: Synchronized[int], count: int) -> Iterator[int]:
    """The items (by position) this reader takes, each the next one no reader has taken yet."""
    while True:
        with next_item.get_lock():
            j = next_item.value
            next_item.value = j + 1
        if j >= count:
            return
        yield j


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def deal(sizes: Sequence[int], readers: int) -> list[list[int]]:
    """Work items (by position) dealt out to `readers`, biggest first, each to whichever reader has the least
    so far (ties: the first reader, the first item), so that they finish together."""
    loads = [0] * readers
    out: list[list[int]] = [[] for _ in range(readers)]
    for j in sorted(range(len(sizes)), key=lambda j: (-sizes[j], j)):
        r = min(range(readers), key=lambda k: (loads[k], k))
        loads[r] += sizes[j]
        out[r].append(j)
    return out


def _share_out(target: Target, indexes: list[AgentIndex], plan: Plan, next_item: Synchronized[int]) -> list[_Helper]:
    """Start the forked helpers of `plan`."""
    ctx = multiprocessing.get_context("fork")
    helpers: list[_Helper] = []
    for _ in range(plan.readers - 1):
        ours, theirs = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_helper, args=(target, indexes, plan, next_item, theirs), daemon=True)
        proc.start()
        theirs.close()
        helpers.append((ours, proc))
    return helpers


def _helper(target: Target, indexes: list[AgentIndex], plan: Plan, next_item: Synchronized[int],
            conn: Connection) -> None:
    """In a forked helper: read items of `plan` while there are any, and send back their states."""
    clock = DayClock(target.zone)
    try:
        got: dict[int, dict[str, Any]] = {}
        for j in _take(next_item, len(plan.work)):
            i, key = plan.work[j]
            got.setdefault(i, {}).update(indexes[i].read_files([key], clock))
        conn.send(got)
    except BaseException as e:  # the parent's refresh reads these sources itself
        log.debug("index helper failed: %s", e)
    finally:
        conn.close()


def _collect(indexes: list[AgentIndex], conn: Connection) -> list[int]:
    """Adopt the sources a helper read; return the agents it sent. What it did not send (it failed or
    died) is still to be read, and the refresh reads it."""
    try:
        got: dict[int, dict[str, Any]] = conn.recv()
    except (EOFError, OSError):
        got = {}
    finally:
        conn.close()
    for i, states in got.items():
        indexes[i].adopt(states)
    return list(got)


@dataclass(frozen=True)
class DayStatus:
    agent: str
    date: date
    messages: int
    memory_bytes: int
    status: str  # "missing", "sparse" or "covered"


@dataclass(frozen=True)
class Comparison:
    timezone: str
    coverage: float
    days: list[DayStatus]
    skipped: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {
            "timezone": self.timezone,
            "coverage": self.coverage,
            "days": [{"date": d.date.isoformat(), "agent": d.agent, "messages": d.messages,
                      "memory_bytes": d.memory_bytes, "status": d.status} for d in self.days],
            "skipped": self.skipped,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Comparison:
        """What `to_json` wrote (the daemon's answer to `compare`); KeyError, TypeError or ValueError if not."""
        days = [DayStatus(str(r["agent"]), date.fromisoformat(r["date"]), int(r["messages"]),
                          int(r["memory_bytes"]), str(r["status"])) for r in d["days"]]
        skipped = {str(k): int(v) for k, v in d.get("skipped", {}).items()}
        return cls(str(d["timezone"]), float(d["coverage"]), days, skipped)


def status_of(messages: int, size: int, sparse_bytes_per_message: float) -> str:
    if size == 0:
        return "missing"
    return "sparse" if size < sparse_bytes_per_message * messages else "covered"


def compare(target: Target, indexes: list[AgentIndex], *, include_today: bool, today: date) -> Comparison:
    return compare_days(target, [(idx.agent, idx.days(), idx.skipped()) for idx in indexes],
                        include_today=include_today, today=today)


AgentDays = tuple[Agent, Mapping[date, Day], Mapping[str, int]]  # an agent, its days, its skip counts


def compare_days(target: Target, agents: list[AgentDays], *, include_today: bool, today: date) -> Comparison:
    """`compare` from days already added up (the daemon keeps them between questions)."""
    rows: list[DayStatus] = []
    skipped: Counter[str] = Counter()
    for agent, days, skips in agents:
        sizes = memfile.memory_bytes(agent.memory_dir)
        skipped.update(skips)
        for day, info in days.items():
            if day > today or (day == today and not include_today):
                continue
            size = sizes.get(day, 0)
            rows.append(DayStatus(agent.id, day, info.messages, size,
                                  status_of(info.messages, size, target.cfg.sparse_bytes_per_message)))
    rows.sort(key=lambda r: (r.date, r.agent))
    covered = sum(r.status == "covered" for r in rows)
    coverage = round(100.0 * covered / len(rows), 1) if rows else 100.0
    return Comparison(target.zone.key, coverage, rows, dict(skipped))


@dataclass(frozen=True)
class TransitionRow:
    time: datetime
    session: str
    from_model: str
    to_model: str

    def to_json(self) -> dict[str, str]:
        return {"time": self.time.isoformat(timespec="seconds"), "session": self.session,
                "from": self.from_model, "to": self.to_model}


def transitions(target: Target, indexes: list[AgentIndex], *, since: date | None = None,
                until: date | None = None) -> list[TransitionRow]:
    """Model switches within sessions, with local times, optionally limited to [since, until]."""
    summaries = [s.summary for idx in indexes for s in idx.sources.values()]
    rows = []
    for t in transitions_of(summaries):
        when = datetime.fromtimestamp(t.ts_ms / 1000, target.zone)
        if (since and when.date() < since) or (until and when.date() > until):
            continue
        rows.append(TransitionRow(when, t.session, t.from_model, t.to_model))
    return rows
