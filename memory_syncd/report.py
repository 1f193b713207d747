"""The one-shot queries: index the agents (from their saved cache), then compare days with memory files
or list model transitions. The daemon drives the same `AgentIndex` incrementally.

`index_agents` reuses per-source results kept in the state dir (keyed by file identity, size and mtime),
so a second run on unchanged data opens no transcript at all.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from memory_syncd.read import cache
from memory_syncd.read.index import transitions_of
from memory_syncd.read.ingest import AgentIndex
from memory_syncd.read.parse import DayClock
from memory_syncd.scope import Target
from memory_syncd.write import memfile

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


def index_agents(target: Target, *, use_cache: bool = True, save: bool = True,
                 progress: Progress | None = None) -> list[AgentIndex]:
    """Bring each agent's index up to date, starting from the cached state, and save it back (unless
    `save` is false: a dry run writes nothing anywhere)."""
    out = []
    for agent in target.agents:
        idx = AgentIndex(agent, target.zone.key, target.cfg.max_line_bytes)
        path = cache.cache_path(target.state_dir, agent)
        if use_cache:
            cache.load(idx, path)
        if progress:
            progress(f"reading transcripts of agent {agent.id}")
        report = idx.refresh(DayClock(target.zone))
        for err in report.errors:
            log.warning("%s", err)
        # read_bytes too: the SQLite store is read without opening a file, and its cursor must be kept
        if use_cache and save and (report.opened or report.read_bytes or not path.exists()):
            problem = cache.save(idx, path)
            if problem:
                log.warning("cannot save cache %s: %s", path, problem)  # costs speed next time, nothing else
        out.append(idx)
    return out


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


def status_of(messages: int, size: int, sparse_bytes_per_message: float) -> str:
    if size == 0:
        return "missing"
    return "sparse" if size < sparse_bytes_per_message * messages else "covered"


def compare(target: Target, indexes: list[AgentIndex], *, include_today: bool, today: date) -> Comparison:
    rows: list[DayStatus] = []
    skipped: Counter[str] = Counter()
    for idx in indexes:
        sizes = memfile.memory_bytes(idx.agent.memory_dir)
        skipped.update(idx.skipped())
        for day, info in idx.days().items():
            if day > today or (day == today and not include_today):
                continue
            size = sizes.get(day, 0)
            rows.append(DayStatus(idx.agent.id, day, info.messages, size,
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
