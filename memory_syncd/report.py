"""The one-shot queries: index the agents (from their saved cache), then compare days with memory files
or list model transitions. The daemon drives the same `AgentIndex` incrementally.

`index_agents` reuses per-source results kept in the state dir (keyed by file identity, size and mtime),
so a second run on unchanged data opens no transcript at all. When several agents have much to read, the
others are read by forked helpers while this process reads the one with the most (one helper per spare
core); a helper hands back what it found, and the result is the same as reading them one after another.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from memory_syncd.read import cache, store
from memory_syncd.read.index import Day, transitions_of
from memory_syncd.read.ingest import AgentIndex
from memory_syncd.read.parse import DayClock
from memory_syncd.read.sources import Agent, list_sessions
from memory_syncd.scope import Target
from memory_syncd.write import memfile

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
_HELPER_MIN_BYTES = 16 << 20  # below this much to read, forking a helper and handing the index back costs more


def index_agents(target: Target, *, use_cache: bool = True, save: bool = True,
                 progress: Progress | None = None) -> list[AgentIndex]:
    """Bring each agent's index up to date, starting from the cached state, and save it back (unless
    `save` is false: a dry run writes nothing anywhere)."""
    indexes = []
    for agent in target.agents:
        idx = AgentIndex(agent, target.zone.key, target.cfg.max_line_bytes)
        if use_cache:
            cache.load(idx, cache.cache_path(target.state_dir, agent))
        indexes.append(idx)
    helpers = _share_out(target, indexes, use_cache and save)
    outcomes: dict[int, _Outcome] = {}
    for i, idx in enumerate(indexes):
        if progress:
            progress(f"reading transcripts of agent {idx.agent.id}")
        if not any(i in mine for mine, _, _ in helpers):
            outcomes[i] = _refresh(target, idx, use_cache and save)
    for mine, conn, proc in helpers:
        outcomes.update(_collect(target, indexes, mine, conn, use_cache and save))
        proc.join()
    for i in range(len(indexes)):  # what went wrong, in agent order as a run without helpers says it
        errors, problem = outcomes[i]
        for err in errors:
            log.warning("%s", err)
        if problem:
            path = cache.cache_path(target.state_dir, indexes[i].agent)
            log.warning("cannot save cache %s: %s", path, problem)  # costs speed next time, nothing else
    return indexes


_Outcome = tuple[list[str], str | None]  # (read errors, why the cache could not be saved)


def _refresh(target: Target, idx: AgentIndex, save: bool) -> _Outcome:
    report = idx.refresh(DayClock(target.zone))
    path = cache.cache_path(target.state_dir, idx.agent)
    problem = None
    # read_bytes too: the SQLite store is read without opening a file, and its cursor must be kept
    if save and (report.opened or report.read_bytes or not path.exists()):
        problem = cache.save(idx, path)
    return report.errors, problem


def _unread(idx: AgentIndex) -> int:
    """About how many bytes a refresh of `idx` would read: the sizes of the sources its state does not match."""
    total = 0
    for path, _kind in list_sessions(idx.agent.sessions_dir).files:
        try:
            st = os.stat(path)
        except OSError:
            continue
        known = idx.sources.get(f"{st.st_dev}:{st.st_ino}")
        if known is None or known.size != st.st_size or known.mtime_ns != st.st_mtime_ns:
            total += st.st_size - (known.tail.offset if known is not None and known.size <= st.st_size else 0)
    db = idx.agent.sqlite
    if db is not None:
        known = idx.sources.get(f"sqlite:{db}")
        if known is None or known.ident != store.signature(db):
            for p in (str(db), f"{db}-wal"):
                with contextlib.suppress(OSError):
                    total += os.stat(p).st_size
    return total


_Helper = tuple[list[int], Connection, BaseProcess]  # (its agents, where it sends them, the process)


def _share_out(target: Target, indexes: list[AgentIndex], save: bool) -> list[_Helper]:
    """Start a forked helper for each share of `_plan` but the first (this process reads that one)."""
    ctx = multiprocessing.get_context("fork")
    helpers: list[_Helper] = []
    for mine in _plan(indexes)[1:]:
        ours, theirs = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_helper, args=(target, indexes, mine, save, theirs), daemon=True)
        proc.start()
        theirs.close()
        helpers.append((mine, ours, proc))
    return helpers


def _plan(indexes: list[AgentIndex]) -> list[list[int]]:
    """Which agents each reader reads, when helpers are worth it: the agents with much to read, dealt out
    biggest first to whichever reader has the least so far (this process first, with the biggest); the
    agents left out are read by this process. No helper with one core, without fork, with other threads
    running (forking them is unsafe), or with little to read."""
    if len(indexes) < 2 or "fork" not in multiprocessing.get_all_start_methods() \
            or threading.active_count() > 1:
        return []
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    sizes = [_unread(idx) for idx in indexes]
    big = sorted((i for i in range(len(indexes)) if sizes[i] >= _HELPER_MIN_BYTES), key=lambda i: -sizes[i])
    readers = min(cores, len(big))
    if readers < 2:
        return []
    loads = [0] * readers
    shares: list[list[int]] = [[] for _ in range(readers)]
    for i in big:
        r = min(range(readers), key=lambda k: (loads[k], k))
        loads[r] += sizes[i]
        shares[r].append(i)
    return shares


def _helper(target: Target, indexes: list[AgentIndex], mine: list[int], save: bool, conn: Connection) -> None:
    """In a forked helper: refresh (and save) the agents `mine`, and send back what they hold now."""
    out: dict[int, Any] = {}
    try:
        for i in mine:
            idx = indexes[i]
            outcome = _refresh(target, idx, save)
            out[i] = (idx.sources, idx.retired, idx.listing_skipped, outcome)
        conn.send(out)
    except BaseException as e:  # the parent reads these agents itself
        log.debug("index helper failed: %s", e)
    finally:
        conn.close()


def _collect(target: Target, indexes: list[AgentIndex], mine: list[int], conn: Connection,
             save: bool) -> dict[int, _Outcome]:
    """The helper's agents, adopted from what it sent; read here if it sent nothing (it failed or died)."""
    try:
        got: dict[int, Any] = conn.recv()
    except (EOFError, OSError):
        got = {}
    finally:
        conn.close()
    outcomes: dict[int, _Outcome] = {}
    for i in mine:
        idx = indexes[i]
        if i in got:
            idx.sources, idx.retired, idx.listing_skipped, outcomes[i] = got[i]
        else:
            outcomes[i] = _refresh(target, idx, save)
    return outcomes


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
