"""The pipeline as plain functions for the one-shot commands: index the agents, then compare days with
memory files or list model transitions. The daemon drives the same `AgentIndex` incrementally.

`index_agents` reuses per-source results kept in the state dir (keyed by file identity, size and mtime),
so a second run on unchanged data opens no transcript at all.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from memory_syncd import statefile
from memory_syncd.errors import MemorySyncError
from memory_syncd.index import transitions_of
from memory_syncd.ingest import AgentIndex
from memory_syncd.parse import DayClock
from memory_syncd.sources import Agent
from memory_syncd.target import Target

log = logging.getLogger(__name__)

MEMORY_FILE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:-[^/]+)?\.md$")

Progress = Callable[[str], None]


def cache_path(state_dir: Path, agent: Agent, kind: str = "cache") -> Path:
    """Where an agent's saved index lives: `cache/` for one-shot commands, `checkpoint/` for the daemon.

    They are kept apart because the daemon keeps the keys of vanished transcripts (a day's count never
    drops while it runs) and the one-shot commands report what is on disk now; sharing one file would
    let either overwrite the other's view."""
    digest = hashlib.blake2b(str(agent.sessions_dir).encode(), digest_size=6).hexdigest()
    return state_dir / kind / f"{agent.id}-{digest}.json"


def index_agents(target: Target, *, use_cache: bool = True, save: bool = True,
                 progress: Progress | None = None) -> list[AgentIndex]:
    """Bring each agent's index up to date, starting from the cached state, and save it back (unless
    `save` is false: a dry run writes nothing anywhere)."""
    out = []
    for agent in target.agents:
        idx = AgentIndex(agent, target.zone.key, target.cfg.max_line_bytes)
        path = cache_path(target.state_dir, agent)
        if use_cache:
            saved = statefile.read_json(path)
            if isinstance(saved, dict) and not idx.load_json(saved):
                log.info("cache %s was made with other settings; rebuilding", path)
        if progress:
            progress(f"reading transcripts of agent {agent.id}")
        report = idx.refresh(DayClock(target.zone))
        for err in report.errors:
            log.warning("%s", err)
        # read_bytes too: the SQLite store is read without opening a file, and its cursor must be kept
        if use_cache and save and (report.opened or report.read_bytes or not path.exists()):
            try:
                statefile.private_dir(path.parent)
                statefile.write_json(path, idx.to_json())
            except (OSError, MemorySyncError) as e:
                log.warning("cannot save cache %s: %s", path, e)  # costs speed next time, nothing else
        out.append(idx)
    return out


def memory_bytes(memory_dir: Path) -> dict[date, int]:
    """Bytes of memory per day: `YYYY-MM-DD.md` plus its slugged `YYYY-MM-DD-<slug>.md` companions."""
    out: Counter[date] = Counter()
    try:
        entries = list(os.scandir(memory_dir))
    except (FileNotFoundError, NotADirectoryError):
        return {}
    for e in entries:
        m = MEMORY_FILE.match(e.name)
        if not m:
            continue
        try:
            day = date.fromisoformat(m.group(1))
            if e.is_file():
                out[day] += e.stat().st_size
        except (ValueError, OSError):
            continue
    return dict(out)


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
        sizes = memory_bytes(idx.agent.memory_dir)
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
