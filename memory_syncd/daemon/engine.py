"""The daemon's engine: the one thread that owns the agents' indexes, everything that touches them, and
its own timing.

Everything else — the watchdog handler, the scheduler's jobs, the control socket — talks to the engine
only by `post()`ing a request onto its queue, and reads only what the engine publishes after each batch:
`status` (a frozen `Status`) and `watches` (the directories it wants watched), each swapped in whole. No
locks guard the index because no other thread ever sees it.

Timing: the loop waits on its queue until the nearest of its own deadlines — the debounced flush of
today's file, the retry of a failed write, a pending checkpoint, the late-event grace, local midnight —
and at least every IDLE_SECONDS (the heartbeat `beat`), so an idle engine barely wakes.

Invariants:
- A lost file event costs latency, never data: the rescan request stats every source and reads whatever
  grew, and counts such reads as missed events.
- Progress is checkpointed (offsets and per-day keys, atomically) after ingestion, so a restart resumes
  without a rescan; replaying from an older checkpoint never double counts (key sets).
- Start-up: checkpoints are loaded, the status published and `ready` set (READY=1); then the catch-up
  reads what grew meanwhile (a big one in helper processes, see `workers`) and writes today once.
- Only today and yesterday are rewritten automatically, and at start the days that grew while the daemon
  was down (from the newest its checkpoint held). A day whose write fails stays pending and is retried
  with backoff, without waiting for a new message.
- A scan that finds data no file event announced only counts as a missed event if no event follows
  within EVENT_GRACE (an event may trail its write); the daemon's health check acts on real misses.
- At start, what killed writes left behind is cleaned: checkpoint temp files, and memory-dir temp files
  (memfile.sweep, under the writer lock).
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from memory_syncd import statefile
from memory_syncd.daemon import agents, workers
from memory_syncd.daemon.pending import Pending
from memory_syncd.daemon.process import release_memory
from memory_syncd.daemon.status import Status
from memory_syncd.daemon.watch import Watch
from memory_syncd.read import cache
from memory_syncd.read.index import newest_day
from memory_syncd.read.ingest import AgentIndex
from memory_syncd.read.parse import DayClock
from memory_syncd.read.state import RefreshReport
from memory_syncd.scope import Target

log = logging.getLogger(__name__)

BIG_READ = 8 << 20  # after reading this much at once, hand the parser's freed memory back to the OS
EVENT_GRACE = 1.0  # seconds an event may trail the write it announces before we call it missed
IDLE_SECONDS = 20.0  # the longest the loop waits: how stale `beat` may get (well under STALL_SECONDS)


class ReqKind(StrEnum):
    CHANGED = "changed"  # file events for `agent` (agents.NEW_AGENTS: in a state dir, so maybe a new agent)
    RESCAN = "rescan"  # stat every source: the reconcile tick, polling, a wake-up
    FINALIZE = "finalize"  # write `day` now (midnight, a new nightly summary)
    CALL = "call"  # run `fn` on the engine thread
    STOP = "stop"  # write what is pending, checkpoint, end the loop


@dataclass(frozen=True)
class Req:
    kind: ReqKind
    agent: str = ""
    day: date | None = None
    fn: Callable[[], None] | None = None


class Engine:
    def __init__(self, target: Target, *, discovering: bool,
                 watch_news: Callable[[], None] = lambda: None) -> None:
        self.target = target
        # Called on the engine thread when the watch needs a look: `watches` changed, or events went missing.
        self.watch_news = watch_news
        self.discovering = discovering  # agents come from discovery (so new ones may appear)
        self.queue: queue.Queue[Req] = queue.Queue()
        self.indexes: dict[str, AgentIndex] = {}
        self.roots: list[Path] = []  # OpenClaw state dirs found by discovery: watched for new agents
        self.clock = DayClock(target.zone)
        self.started_at = time.time()
        self.caught_up = False
        # Set once the checkpoints are loaded and the status and watches published: the daemon is ready
        # (READY=1) while the catch-up goes on, so a big history never holds up the service manager.
        self.ready = threading.Event()
        self.stopping = threading.Event()  # set by the daemon before STOP: ends a catch-up early
        self.beat = time.monotonic()
        self.errors = 0
        self.last_error: str | None = None
        self.missed_events = 0
        self._skipped: dict[str, Counter[str]] = {}  # per agent, as of its last refresh
        self.generation: Counter[str] = Counter()  # per agent: bumped whenever its index changes
        self.scan_seconds = 0.0  # CPU time of the last full stat scan (the daemon spaces them by it)
        self.bytes_read = 0  # since start: 0 after a restart over unchanged files means nothing was re-read
        self.resets = 0  # files found truncated, replaced or rewritten (re-read from byte 0)
        self.newest_ms = 0
        self.pending = Pending()  # the days still to write, and when
        # During the start-up catch-up, per agent with a checkpoint: from which day on a day it changed is written
        # (the newest the checkpoint held, at most yesterday), as no later event would mark days that grew while
        # we were down. A first start (no checkpoint) writes today only, as it always did.
        self._resume: dict[str, date] | None = None
        self.today = self._today()
        self._events: set[str] = set()
        # Agents a scan found unannounced bytes for, and when. Their event may just be late (written a
        # moment before the scan): only if none comes within EVENT_GRACE was it really missed.
        self._suspects: dict[str, float] = {}
        self._unsaved: set[str] = set()  # agents whose index moved since their last checkpoint
        self._last_checkpoint = 0.0
        self.status = Status()
        self.watches: tuple[Watch, ...] = ()
        self._publish()

    # -- called from other threads --

    def post(self, req: Req) -> None:
        self.queue.put(req)

    # -- the engine thread --

    def run(self) -> None:
        self._load_checkpoints()
        self._publish()
        self.ready.set()
        self._guard(self._catch_up)
        self.caught_up = not self.stopping.is_set()
        self.beat = time.monotonic()
        self._publish()
        self.watch_news()  # the daemon announces the end of the catch-up
        while True:
            batch = self._next_batch()
            if any(r.kind is ReqKind.STOP for r in batch):
                self._guard(self._flush)
                # Cut short, the catch-up leaves the indexes as loaded: saving them all would undo what
                # helpers saved meanwhile.
                self._checkpoint(force=self.caught_up)
                self._publish()
                return
            if batch:
                self._handle(batch)
            self._tick()

    def _next_batch(self) -> list[Req]:
        """Whatever is queued, waiting for it no longer than until the nearest deadline ([] if none came)."""
        wait = min(IDLE_SECONDS, self._next_deadline() - time.monotonic())
        try:
            batch = [self.queue.get(timeout=max(0.0, wait))]
        except queue.Empty:
            return []
        while True:
            try:
                batch.append(self.queue.get_nowait())
            except queue.Empty:
                return batch

    def _next_deadline(self) -> float:
        """The earliest monotonic time `_tick` has something to do (inf if nothing is pending)."""
        now = time.monotonic()
        times = self.pending.deadlines()
        times += [since + EVENT_GRACE for since in self._suspects.values()]
        if self._unsaved:
            times.append(self._last_checkpoint + self.target.cfg.daemon.checkpoint_seconds)
        midnight = datetime.combine(self.today + timedelta(days=1), datetime.min.time(), self.target.zone)
        times.append(now + max(0.0, midnight.timestamp() - time.time()))
        return min(times)

    def _tick(self) -> None:
        """After every batch and every wait: the deadlines that have passed, the day change, the late-event
        grace, the checkpoint, the published status."""
        self.beat = now = time.monotonic()
        for agent, since in list(self._suspects.items()):
            if now - since >= EVENT_GRACE:
                del self._suspects[agent]
                self.missed_events += 1
                self.watch_news()
                log.info("file events for agent %s went missing: a scan found data no event announced", agent)
        today = self._today()
        if today != self.today:
            # Midnight (or a wake-up after it): yesterday gets its final version.
            self.pending.add(self.today)
            self.today = today
            self._guard(self._flush)
        elif self.pending.due(now):
            self._guard(self._flush)
        if self._unsaved and now - self._last_checkpoint >= self.target.cfg.daemon.checkpoint_seconds:
            self._checkpoint()
        self._publish()

    def _handle(self, batch: list[Req]) -> None:
        changed = {r.agent for r in batch if r.kind is ReqKind.CHANGED}
        self._events |= changed
        for agent in changed:
            self._suspects.pop(agent, None)
        if any(r.kind is ReqKind.RESCAN for r in batch):
            started = time.thread_time()
            self._guard(lambda: self._ingest(None, reconcile=True))
            self.scan_seconds = time.thread_time() - started
        elif agents.NEW_AGENTS in changed:  # something appeared in a state dir's agents/: look for new agents now
            self._guard(lambda: self._ingest(None, reconcile=False))
        elif changed:
            self._guard(lambda: self._ingest(changed, reconcile=False))
        for r in batch:
            if r.kind is ReqKind.FINALIZE and r.day is not None:
                self.pending.add(r.day)
            if r.kind is ReqKind.CALL and r.fn is not None:
                self._guard(r.fn)
        if any(r.kind is ReqKind.FINALIZE for r in batch):
            self._guard(self._flush)

    def note_error(self, msg: str) -> None:
        """Count an error and show it in status (engine thread only)."""
        self.errors += 1
        self.last_error = msg

    def _guard(self, fn: Callable[[], object]) -> None:
        try:
            fn()
        except Exception as e:  # one failing step is logged and counted; the engine goes on
            log.exception("engine step failed")
            self.note_error(f"{datetime.now(UTC).isoformat(timespec='seconds')} {e}")

    def _error(self, msg: str) -> None:
        """Count and show an expected failure (no traceback: the message says it all)."""
        log.error("%s", msg)
        self.note_error(f"{datetime.now(UTC).isoformat(timespec='seconds')} {msg}")

    def _today(self) -> date:
        return datetime.now(self.target.zone).date()

    # -- ingestion --

    def _agents(self, *, rediscover: bool = True) -> list[AgentIndex]:
        """The agent indexes; with `rediscover`, first look for agents that appeared or whose workspace moved
        (at start, on the reconcile tick and when a state dir changes, not on every transcript event)."""
        found = list(self.target.agents)
        if self.discovering and (rediscover or not self.indexes):
            self.roots, found = agents.discovered(self.target)
        for a in found:
            idx = self.indexes.get(a.id)
            if idx is None:
                idx = AgentIndex(a, self.target.zone.key, self.target.cfg.max_line_bytes, keep_vanished=True)
                cache.load(idx, cache.cache_path(self.target.state_dir, a, "checkpoint"))
                self.indexes[a.id] = idx
                problem = agents.sweep(a.memory_dir)
                if problem:
                    self._error(problem)
            elif idx.agent.memory_dir != a.memory_dir:  # openclaw.json moved its workspace
                log.info("agent %s now writes to %s", a.id, a.memory_dir)
                idx.agent = replace(idx.agent, memory_dir=a.memory_dir)
        return list(self.indexes.values())

    def _load_checkpoints(self) -> None:
        saved = self.target.state_dir / "checkpoint"
        if statefile.sweep_temp(saved):
            log.info("removed temp files a killed checkpoint write left in %s", saved)
        self._guard(self._agents)

    def _catch_up(self) -> None:
        yesterday = self.today - timedelta(days=1)
        newest = {a: newest_day(s.summary for s in idx.sources.values()) for a, idx in self.indexes.items()}
        self._resume = {a: min(day, yesterday) for a, day in newest.items() if day is not None}
        try:
            helped: set[str] = set()
            self._guard(lambda: self._catch_up_in_helpers(helped))
            if self.stopping.is_set():
                return
            self._ingest(None, reconcile=False, live=False)
        finally:
            self._resume = None
        self.pending.add(self.today)
        self._flush()
        # Every checkpoint is saved once (paths may have changed with nothing to read), but helpers saved theirs.
        self._unsaved |= set(self.indexes) - helped
        self._checkpoint()
        release_memory()

    def _catch_up_in_helpers(self, helped: set[str]) -> None:
        """Adopt what helper processes read of a big catch-up (see `workers`), adding the agents to `helped`;
        what they leave, and anything that grew meanwhile, the in-process catch-up reads. Their errors are
        not counted here: what failed is read again in process, which reports it."""

        def alive() -> None:  # a helper is working: the catch-up is long, not stuck (see Daemon.healthy)
            self.beat = time.monotonic()

        for idx, report in workers.catch_up(self.target, self._agents(), self.stopping, alive):
            self.indexes[idx.agent.id] = idx
            self.generation[idx.agent.id] += 1
            self._took(idx, replace(report, errors=[]), reconcile=False, live=False)
            self._unsaved.discard(idx.agent.id)
            helped.add(idx.agent.id)
        release_memory()

    def _ingest(self, only: set[str] | None, *, reconcile: bool, live: bool = True) -> None:
        for idx in self._agents(rediscover=only is None):
            if only is not None and idx.agent.id not in only:
                continue
            sources = set(idx.sources)
            report = idx.refresh(self.clock)
            if sources != idx.sources.keys():  # a transcript appeared or vanished
                self.generation[idx.agent.id] += 1
            if report.read_bytes > BIG_READ:
                release_memory()
            self._took(idx, report, reconcile=reconcile, live=live)
            self.beat = time.monotonic()  # a long catch-up, agent by agent, is not a stall
        self._events.clear()

    def _took(self, idx: AgentIndex, report: RefreshReport, *, reconcile: bool, live: bool) -> None:
        """Account for what a refresh of `idx` read: counters, errors, what to save, write and suspect."""
        self._skipped[idx.agent.id] = idx.skipped()  # it only changes when the agent is read
        self.bytes_read += report.read_bytes
        self.resets += report.resets
        for err in report.errors:
            self.note_error(err)
        if not report.read_bytes and not report.changed_days:
            return
        self._unsaved.add(idx.agent.id)
        self.generation[idx.agent.id] += 1
        if reconcile and idx.agent.id not in self._events and report.read_bytes:
            self._suspects.setdefault(idx.agent.id, time.monotonic())
            log.debug("scan found %d unannounced bytes for agent %s", report.read_bytes, idx.agent.id)
        self._note_newest(idx, report.changed_days)
        if live:
            recent = {d for d in report.changed_days if d >= self.today - timedelta(days=1)}
            if recent:
                d = self.target.cfg.daemon
                self.pending.changed(recent, d.debounce_seconds, d.max_delay_seconds)
        elif self._resume is not None:  # the start-up catch-up: the days that grew while the daemon was down
            since = self._resume.get(idx.agent.id, self.today)
            for day in report.changed_days:
                if since <= day <= self.today:
                    self.pending.add(day)

    def refresh(self, agents: set[str]) -> None:
        """Read whatever grew in these agents' sources now (engine thread; a query wants current counts)."""
        self._guard(lambda: self._ingest(agents, reconcile=True))

    def _note_newest(self, idx: AgentIndex, days: set[date]) -> None:
        for d in days:
            for s in idx.sources.values():
                part = s.summary.days.get(d)
                if part is not None and part.last_ms > self.newest_ms:
                    self.newest_ms = part.last_ms

    # -- writing --

    def _flush(self) -> None:
        self.pending.write(self.target, self.indexes.values(), self.newest_ms, self._error)

    def _checkpoint(self, force: bool = False) -> None:
        if not (self._unsaved or force):
            return
        for idx in self.indexes.values():
            if not force and idx.agent.id not in self._unsaved:
                continue  # a big history has several agents; one of them is usually the busy one
            path = cache.cache_path(self.target.state_dir, idx.agent, "checkpoint")
            problem = cache.save(idx, path)
            if problem:
                self.note_error(f"cannot write checkpoint {path}: {problem}")
        self._unsaved.clear()
        self._last_checkpoint = time.monotonic()

    def set_target(self, target: Target) -> None:
        """Adopt a reloaded config (called on the engine thread through a `call` request)."""
        rebuild = (target.zone.key != self.target.zone.key
                   or target.cfg.max_line_bytes != self.target.cfg.max_line_bytes)
        self.target = target
        if rebuild:  # day buckets depend on the zone, skipped lines on the cap: read everything again
            self.clock = DayClock(target.zone)
            self.indexes.clear()
            self.today = self._today()
            self._guard(lambda: self._catch_up_in_helpers(set()))
            self._ingest(None, reconcile=False, live=False)
        # Today's block is rewritten under the new settings (write mode, budget, zone) right away.
        self.pending.add(self.today)
        self._flush()
        self._publish()

    # -- what other threads may read --

    def _publish(self) -> None:
        msgs = files = 0
        skipped: Counter[str] = Counter()
        for idx in self.indexes.values():
            files += len(idx.sources)
            skipped.update(self._skipped.get(idx.agent.id) or idx.skipped())
            msgs += idx.day_count(self.today)
        now = time.time()
        p = self.pending
        flush = {} if p.at is None else {"flush": _local(now + p.at - time.monotonic())}
        self.status = Status(
            pid=os.getpid(), started_at=_local(self.started_at), uptime=round(now - self.started_at, 1),
            caught_up=self.caught_up, agents=tuple(sorted(self.indexes)), files=files, today=self.today,
            messages_today=msgs, last_write=_local(p.last_write) if p.last_write else None,
            last_write_lag_seconds=round(p.last_write_lag, 3) if p.last_write_lag is not None else None,
            newest_message=_local(self.newest_ms / 1000) if self.newest_ms else None, errors=self.errors,
            last_error=self.last_error, missed_events=self.missed_events, bytes_read=self.bytes_read,
            resets=self.resets, skipped=dict(skipped), timezone=self.target.zone.key, next_jobs=flush)
        watches = agents.watches([idx.agent for idx in self.indexes.values()], self.roots)
        if watches != self.watches:
            self.watches = watches
            self.watch_news()


def _local(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC).astimezone()
