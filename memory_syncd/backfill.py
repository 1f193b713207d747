"""`memory-syncd backfill`: which days to write, and writing them (through `write.writer`, the write path
the daemon uses too), in parallel when there are many.

Day choice: `--today` and `--date` always write the named day; `--since`/`--until` and `--all`
fill only missing and sparse days unless `force` (covered: at least `sparse_bytes_per_message` bytes of
memory per message). Today is left out of those (it is still being written) unless `--until` names it or a
later day. A dry run reads but writes nothing, and says which days would stay unchanged.
"""

from __future__ import annotations

import gc
import multiprocessing
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

from memory_syncd import summarize
from memory_syncd.config import Config
from memory_syncd.errors import LLMUnavailable, MemorySyncError, UsageError
from memory_syncd.read.ingest import AgentIndex
from memory_syncd.report import cores, few_collections, status_of
from memory_syncd.scope import Target
from memory_syncd.write import memfile, writer
from memory_syncd.write.writer import Action

Progress = Callable[[int, int, str], None]  # (done, total, label)


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


def choose(v: writer.AgentView, sel: Selection, today: date, cfg: Config) -> list[tuple[date, int, str]]:
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
        send: summarize.Send | None = None, progress: Progress | None = None) -> list[writer.DayResult]:
    """Write (or with `dry_run`, only plan) the selected days of every agent; with `send`, summarize each
    day written first (a failed summary is reported and the day is written without it).

    Days are independent once the index exists: with several days to write and no LLM requests to make,
    they are rendered and written by forked workers, one per core, busiest first (results come back in plan
    order)."""
    with few_collections():
        return _run(target, indexes, sel, today=today, dry_run=dry_run, send=send, progress=progress)


def _run(target: Target, indexes: list[AgentIndex], sel: Selection, *, today: date, dry_run: bool,
         send: summarize.Send | None, progress: Progress | None) -> list[writer.DayResult]:
    views = [writer.view(target, idx) for idx in indexes]
    plan = [(v, d, n, status) for v in views for d, n, status in choose(v, sel, today, target.cfg)]
    job = _Job(target, plan, sel, dry_run, send)
    workers = _workers(len(plan)) if send is None else 1
    results: list[writer.DayResult] = []
    if workers > 1:
        global _JOB
        _JOB = job  # forked workers inherit it: the index is shared, not pickled
        # Workers only read the index: kept out of their garbage collections, its pages are never written
        # (so never copied) by a worker, and the collections have less to walk.
        gc.freeze()
        # The busiest days first, so that the last ones to finish are short and both cores stay busy to the end
        order = sorted(range(len(plan)), key=lambda i: -plan[i][2])
        done: dict[int, writer.DayResult] = {}
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                for i, r in zip(order, pool.imap(_work, order), strict=True):
                    done[i] = r
                    if progress:
                        progress(len(done), len(plan), f"{r.agent} {r.day.isoformat()}")
        finally:
            gc.unfreeze()
            _JOB = None
        results = [done[i] for i in range(len(plan))]
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
    plan: list[tuple[writer.AgentView, date, int, str]]
    sel: Selection
    dry_run: bool
    send: summarize.Send | None

    def one(self, i: int) -> writer.DayResult:
        v, day, n, status = self.plan[i]
        agent = v.idx.agent.id
        if n == 0:
            return writer.DayResult(agent, day, 0, status, Action.NO_MESSAGES, None)
        if status == "covered" and not (self.sel.force or self.sel.today or self.sel.on):
            return writer.DayResult(agent, day, n, status, Action.SKIPPED_COVERED, None)
        note = ""
        if self.send is not None and not self.dry_run:
            try:
                summarize.summarize_day(self.target, v, day, self.send)
            except LLMUnavailable as e:
                note = f"summary failed: {e}"
        try:
            r = writer.write_day(self.target, v, day, status=status, dry_run=self.dry_run)
        except MemorySyncError as e:  # one day that cannot be written does not stop the others
            r = writer.DayResult(agent, day, n, status, Action.FAILED, None, note=str(e))
        return replace(r, note=note) if note and r.action != Action.FAILED else r


_JOB: _Job | None = None
_MIN_DAYS_PER_WORKER = 4  # below this, starting a worker costs more than the days it takes


def _workers(days: int) -> int:
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(cores(), 4, days // _MIN_DAYS_PER_WORKER))  # the cores this process may use, not the machine's


def _work(i: int) -> writer.DayResult:
    assert _JOB is not None
    return _JOB.one(i)


