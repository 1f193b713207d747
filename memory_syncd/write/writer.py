"""The one write path: a day of one agent, from its index to the bytes of its memory file.

Owns `view` (what writing any day of an agent needs, computed once), `snapshot` (the day's redacted
content), `block_for` (its Markdown) and `write_day` (the block, with the day's stored narrative, written
under the memory dir's lock — or, in a dry run, what writing would do). `memory-syncd backfill`, `summarize`
and the daemon all write through `write_day`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path

from memory_syncd import safeio
from memory_syncd.content import assemble, render
from memory_syncd.content.snapshot import DaySnapshot
from memory_syncd.errors import Refused
from memory_syncd.read.index import Day, ModelLog, SourceDays, transitions_of
from memory_syncd.read.ingest import AgentIndex
from memory_syncd.read.sessionmeta import SessionMeta
from memory_syncd.scope import Target
from memory_syncd.write import memfile, narratives

MAX_DAY_FILE = 64 * 1024 * 1024  # a memory file bigger than this is not one the agent wrote


class Action(StrEnum):
    """What happened to a day (or, in a dry run, would)."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    WOULD_CREATE = "would-create"
    WOULD_UPDATE = "would-update"
    WOULD_FAIL = "would-fail"
    SKIPPED_COVERED = "skipped-covered"
    NO_MESSAGES = "no-messages"
    FAILED = "failed"


@dataclass(frozen=True)
class DayResult:
    agent: str
    day: date
    messages: int
    before: str  # status before: missing, sparse, covered
    action: Action
    path: Path | None
    bytes: int = 0
    note: str = ""


@dataclass(frozen=True)
class AgentView:
    """What writing any day of one agent needs, computed once per run rather than once per day."""

    idx: AgentIndex
    days: Mapping[date, Day]
    switches: Mapping[date, list[tuple[int, str, str, str]]]
    sessions: Mapping[str, SessionMeta]


def view(target: Target, idx: AgentIndex, only: date | None = None) -> AgentView:
    """Everything needed to write days of `idx`; with `only`, just that day (the daemon's cheap path)."""
    summaries = [s.summary for s in idx.sources.values()]
    if only is None:
        days = idx.days()
    else:
        n = idx.day_count(only)
        first = min((s.days[only].first_ms for s in summaries if only in s.days), default=0)
        last = max((s.days[only].last_ms for s in summaries if only in s.days), default=0)
        days = {only: Day(only, n, first, last)} if n else {}
        # Model switches of that day need only the sessions active on it (with their earlier history).
        active = {m.session for s in summaries if only in s.days for m in s.models}
        summaries = [SourceDays(models=ModelLog(m for m in s.models if m.session in active)) for s in summaries
                     if s.models.mentions(active)]
    switches: dict[date, list[tuple[int, str, str, str]]] = {}
    for t in transitions_of(summaries):
        day = datetime.fromtimestamp(t.ts_ms / 1000, target.zone).date()
        if only is None or day == only:
            switches.setdefault(day, []).append((t.ts_ms, t.session, t.from_model, t.to_model))
    return AgentView(idx, days, switches, idx.session_meta())


def snapshot(target: Target, v: AgentView, day: date) -> DaySnapshot:
    """One day's redacted content, reading only that day's byte ranges."""
    info = v.days.get(day)
    return assemble.build(v.idx.agent.id, day, target.zone, v.idx.day_lines(day), info.messages if info else 0,
                         v.sessions, v.switches.get(day, ()))


def block_for(target: Target, v: AgentView, day: date, summary: str | None = None) -> str:
    return render.render(snapshot(target, v, day), target.cfg.max_memory_file_bytes, summary)


def write_day(target: Target, v: AgentView, day: date, *, status: str = "", dry_run: bool = False,
              lock_timeout: float = 30.0) -> DayResult:
    """Render and write one day's block, with its stored LLM summary if there is one (under the memory
    dir's writer lock)."""
    agent = v.idx.agent
    summary = narratives.stored_text(target.state_dir, agent.id, day)
    block = block_for(target, v, day, summary)
    info = v.days.get(day)
    n = info.messages if info else 0
    path = memfile.target_path(agent.memory_dir, day, target.cfg.write_mode)
    if dry_run:
        try:
            planned = _planned(path, block, day)
        except Refused as e:
            return DayResult(agent.id, day, n, status, Action.WOULD_FAIL, path, len(block.encode()), note=str(e))
        return DayResult(agent.id, day, n, status, Action(planned), path, len(block.encode()))
    with memfile.writer_lock(agent.memory_dir, timeout=lock_timeout):
        result = memfile.write_block(path, block, title=render.title(day.isoformat()))
    return DayResult(agent.id, day, n, status, Action(result.value), path, len(block.encode()))


def _planned(path: Path, block: str, day: date) -> str:
    """What writing `block` to `path` would do, found without writing: unchanged, would-update or would-create."""
    existing = safeio.read(path, limit=MAX_DAY_FILE)  # Refused: a link, FIFO or giant in its place
    if existing is None:
        return "would-create"
    return "unchanged" if memfile.splice(existing, block, render.title(day.isoformat())) == existing else "would-update"


