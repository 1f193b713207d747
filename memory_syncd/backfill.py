"""The write side as plain functions: choose days, render each from its transcripts, write its block.

Shared by `memory-syncd backfill` and the daemon (which calls `write_day` for today and for yesterday at
midnight). Day choice: `--today` and `--date` always write the named day; `--since`/`--until` and `--all`
fill only missing and sparse days unless `force` (covered: at least `sparse_bytes_per_message` bytes of
memory per message). Today is left out of those (it is still being written) unless `--until` names it or a
later day. A dry run reads but writes nothing, and says which days would stay unchanged.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

from memory_syncd import safeio, summarize
from memory_syncd.config import Config
from memory_syncd.content import assemble as content
from memory_syncd.content import render
from memory_syncd.errors import LLMUnavailable, MemorySyncError, Refused, UsageError
from memory_syncd.read.index import Day, SourceSummary, transitions_of
from memory_syncd.read.ingest import AgentIndex
from memory_syncd.read.sessionmeta import SessionMeta
from memory_syncd.report import status_of
from memory_syncd.scope import Target
from memory_syncd.write import memfile

Progress = Callable[[int, int, str], None]  # (done, total, label)
MAX_DAY_FILE = 64 * 1024 * 1024  # a memory file bigger than this is not one the agent wrote


@dataclass(frozen=True)
class Selection:
    today: bool = False
    on: date | None = None
    since: date | None = None
    until: date | None = None
    all: bool = False
    force: bool = False

    def __post_init__(self) -> None:
        """Raise UsageError for a range that holds no day, before any transcript is read."""
        if self.since and self.until and self.until < self.since:
            raise UsageError(f"--until {self.until.isoformat()} is before --since {self.since.isoformat()}")


@dataclass(frozen=True)
class DayResult:
    agent: str
    day: date
    messages: int
    before: str  # status before: missing, sparse, covered
    action: str  # created, updated, unchanged, would-create, would-update, would-fail, skipped-covered,
    # no-messages, failed
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
        summaries = [SourceSummary(models=[m for m in s.models if m.session in active]) for s in summaries]
    switches: dict[date, list[tuple[int, str, str, str]]] = {}
    for t in transitions_of(summaries):
        day = datetime.fromtimestamp(t.ts_ms / 1000, target.zone).date()
        if only is None or day == only:
            switches.setdefault(day, []).append((t.ts_ms, t.session, t.from_model, t.to_model))
    return AgentView(idx, days, switches, idx.session_meta())


def choose(v: AgentView, sel: Selection, today: date, cfg: Config) -> list[tuple[date, int, str]]:
    """The days to write for one agent, with their message counts and status before writing."""
    sizes = memfile.memory_bytes(v.idx.agent.memory_dir)
    if sel.today or sel.on:
        wanted = today if sel.today else sel.on
        assert wanted is not None
        info = v.days.get(wanted)
        n = info.messages if info else 0
        return [(wanted, n, status_of(n, sizes.get(wanted, 0), cfg.sparse_bytes_per_message))]
    out = []
    for day, info in v.days.items():
        if day >= today and not (sel.until and sel.until >= today and day == today):
            continue
        if (sel.since and day < sel.since) or (sel.until and day > sel.until):
            continue
        status = status_of(info.messages, sizes.get(day, 0), cfg.sparse_bytes_per_message)
        out.append((day, info.messages, status))
    return out


def run(target: Target, indexes: list[AgentIndex], sel: Selection, *, today: date, dry_run: bool = False,
        send: summarize.Send | None = None, progress: Progress | None = None) -> list[DayResult]:
    """Write (or with `dry_run`, only plan) the selected days of every agent; with `send`, summarize each
    day written first (a failed summary is reported and the day is written without it).

    Days are independent once the index exists: with several days to write and no LLM requests to make,
    they are rendered and written by forked workers, one per core (results come back in plan order)."""
    views = [view(target, idx) for idx in indexes]
    plan = [(v, d, n, status) for v in views for d, n, status in choose(v, sel, today, target.cfg)]
    job = _Job(target, plan, sel, dry_run, send)
    workers = _workers(len(plan)) if send is None else 1
    results: list[DayResult] = []
    if workers > 1:
        global _JOB
        _JOB = job  # forked workers inherit it: the index is shared, not pickled
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                for i, r in enumerate(pool.imap(_work, range(len(plan)))):
                    results.append(r)
                    if progress:
                        progress(i + 1, len(plan), f"{r.agent} {r.day.isoformat()}")
        finally:
            _JOB = None
    else:
        for i in range(len(plan)):
            if progress:
                v, day = plan[i][0], plan[i][1]
                progress(i, len(plan), f"{v.idx.agent.id} {day.isoformat()}")
            results.append(job.one(i))
    if progress:
        progress(len(plan), len(plan), "done")
    return results


@dataclass(frozen=True)
class _Job:
    target: Target
    plan: list[tuple[AgentView, date, int, str]]
    sel: Selection
    dry_run: bool
    send: summarize.Send | None

    def one(self, i: int) -> DayResult:
        v, day, n, status = self.plan[i]
        agent = v.idx.agent.id
        if n == 0:
            return DayResult(agent, day, 0, status, "no-messages", None)
        if status == "covered" and not (self.sel.force or self.sel.today or self.sel.on):
            return DayResult(agent, day, n, status, "skipped-covered", None)
        note = ""
        if self.send is not None and not self.dry_run:
            try:
                summarize_day(self.target, v, day, self.send)
            except LLMUnavailable as e:
                note = f"summary failed: {e}"
        try:
            r = write_day(self.target, v, day, status=status, dry_run=self.dry_run)
        except MemorySyncError as e:  # one day that cannot be written does not stop the others
            r = DayResult(agent, day, n, status, "failed", None, note=str(e))
        return replace(r, note=note) if note and r.action != "failed" else r


_JOB: _Job | None = None
_MIN_DAYS_PER_WORKER = 4  # below this, starting a worker costs more than the days it takes


def _workers(days: int) -> int:
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(os.cpu_count() or 1, 4, days // _MIN_DAYS_PER_WORKER))


def _work(i: int) -> DayResult:
    assert _JOB is not None
    return _JOB.one(i)


def snapshot(target: Target, v: AgentView, day: date) -> content.DaySnapshot:
    """One day's redacted content, reading only that day's byte ranges."""
    info = v.days.get(day)
    return content.build(v.idx.agent.id, day, target.zone, v.idx.day_lines(day), info.messages if info else 0,
                         v.sessions, v.switches.get(day, ()))


def block_for(target: Target, v: AgentView, day: date, summary: str | None = None) -> str:
    return render.render(snapshot(target, v, day), target.cfg.max_memory_file_bytes, summary)


def summarize_day(target: Target, v: AgentView, day: date, send: summarize.Send, *,
                  force: bool = False) -> summarize.Outcome:
    """Ask the LLM for the day's narrative (skipped when its input is unchanged) and store it."""
    return summarize.summarize(snapshot(target, v, day), target.cfg.llm, send, target.state_dir, force=force)


def write_day(target: Target, v: AgentView, day: date, *, status: str = "", dry_run: bool = False,
              lock_timeout: float = 30.0) -> DayResult:
    """Render and write one day's block, with its stored LLM summary if there is one (under the memory
    dir's writer lock)."""
    agent = v.idx.agent
    summary = summarize.stored_text(target.state_dir, agent.id, day)
    block = block_for(target, v, day, summary)
    info = v.days.get(day)
    n = info.messages if info else 0
    path = memfile.target_path(agent.memory_dir, day, target.cfg.write_mode)
    if dry_run:
        try:
            planned = _planned(path, block, day)
        except Refused as e:
            return DayResult(agent.id, day, n, status, "would-fail", path, len(block.encode()), note=str(e))
        return DayResult(agent.id, day, n, status, planned, path, len(block.encode()))
    with memfile.writer_lock(agent.memory_dir, timeout=lock_timeout):
        result = memfile.write_block(path, block, title=render.title(day.isoformat()))
    return DayResult(agent.id, day, n, status, result.value, path, len(block.encode()))


def _planned(path: Path, block: str, day: date) -> str:
    """What writing `block` to `path` would do, found without writing: unchanged, would-update or would-create."""
    existing = safeio.read(path, limit=MAX_DAY_FILE)  # Refused: a link, FIFO or giant in its place
    if existing is None:
        return "would-create"
    return "unchanged" if memfile.splice(existing, block, render.title(day.isoformat())) == existing else "would-update"


def summarize_and_write(target: Target, indexes: list[AgentIndex], day: date, send: summarize.Send, *,
                        write: bool, force: bool = False) -> list[tuple[str, summarize.Outcome, DayResult | None]]:
    """`memory-syncd summarize`: the narrative of `day` for each agent with messages that day, stored and
    (with `write`) rendered into the day's block. Raise UsageError if no agent has messages that day."""
    out: list[tuple[str, summarize.Outcome, DayResult | None]] = []
    for idx in indexes:
        v = view(target, idx, only=day)
        if day not in v.days:
            continue
        outcome = summarize_day(target, v, day, send, force=force)
        out.append((idx.agent.id, outcome, write_day(target, v, day) if write else None))
    if not out:
        raise UsageError(f"no session messages on {day.isoformat()}; nothing to summarize")
    return out
