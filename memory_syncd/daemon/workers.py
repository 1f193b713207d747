"""The daemon's start-up catch-up over a big history, read in helper processes: both ends of it.

Why: reading gigabytes of transcripts lifts the heap to its high-water mark (the parser's buffers, big tool
results), and glibc keeps most of that in the daemon's RSS for good, fragmented, long after the index has
shrunk to what it keeps. A helper process reads instead and saves the agent's checkpoint; the daemon then
loads that checkpoint as it would after a restart, so its RSS is what it keeps. With more than one core,
the agents are dealt out to one helper per core, so the catch-up also takes about half as long on two.

Contract: a helper gets the agents, zone, line cap and state dir (pickled on stdin), brings each agent's
checkpoint up to date exactly as the daemon would in process (`AgentIndex.refresh`), saves it, and prints
the `RefreshReport` of each agent it saved (pickled on stdout). Anything that goes wrong in a helper — it
cannot start, dies, or cannot save — only means the daemon reads those agents itself. A helper whose
daemon dies exits within PARENT_CHECK_SECONDS (it watches its parent), and `run` kills the helpers when
the daemon is asked to stop.

Small catch-ups stay in process: below `worker_catch_up_mb` to read, starting an interpreter costs more than
it saves.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from memory_syncd.read import cache
from memory_syncd.read.ingest import AgentIndex
from memory_syncd.read.parse import DayClock
from memory_syncd.read.sources import Agent
from memory_syncd.read.state import RefreshReport
from memory_syncd.report import cores, deal
from memory_syncd.scope import Target

log = logging.getLogger(__name__)

POLL_SECONDS = 0.2  # how often the daemon looks at its helpers (and at a stop request) while they read
PARENT_CHECK_SECONDS = 0.2  # how often a helper checks that its daemon is still there


@dataclass(frozen=True)
class Job:
    """What one helper reads: these agents, into their checkpoints under `state_dir`."""

    agents: tuple[Agent, ...]
    zone: ZoneInfo
    max_line: int
    state_dir: Path


def shares(sizes: Sequence[int], most: int) -> list[list[int]]:
    """The agents (by position) each helper reads: the ones with anything to read, dealt out (`deal`) to at
    most `most` helpers, and at least one."""
    todo = [i for i, size in enumerate(sizes) if size]
    dealt = deal([sizes[i] for i in todo], max(1, min(most, len(todo))))
    return [[todo[j] for j in share] for share in dealt if share]


def to_read(idx: AgentIndex) -> int:
    """About how many bytes a catch-up of `idx` reads. A SQLite store read before counts nothing: `stale`
    can only tell that it changed, not by how much, and a few new rows do not make a helper worth it."""
    return sum(size for key, size in idx.stale().items() if not (key.startswith("sqlite:") and key in idx.sources))


def run(jobs: Sequence[Job], stopping: threading.Event,
        progress: Callable[[], None] = lambda: None) -> dict[str, RefreshReport]:
    """Run one helper per job and wait for them all, or for `stopping` (then the helpers still reading are
    killed, and what the others finished is kept). Returns the report of every agent a helper brought up to
    date and saved; the others are the caller's to read. `progress` is called while some helper uses CPU
    (one stuck in a hung read does not), so the daemon can tell a long catch-up from a stuck one."""
    procs: list[subprocess.Popen[bytes]] = []
    pending: dict[int, bytes | None] = {}  # the job still to send (None once sent: `communicate` keeps it)
    for job in jobs:
        try:
            spec = pickle.dumps(job)
        except (pickle.PicklingError, TypeError, AttributeError) as e:  # a zone read from a file, say
            log.info("reading in process: the catch-up cannot be handed to a helper (%s)", e)
            break
        try:
            # -P: nothing is imported from the daemon's working directory. The daemon's pid on the command
            # line: one that died while the helper started is noticed too.
            proc = subprocess.Popen([sys.executable, "-P", "-m", __name__, str(os.getpid())],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True)
        except (OSError, ValueError, TypeError) as e:  # no interpreter to run (an embedded Python, say)
            log.warning("cannot start a catch-up helper (%s); reading in process", e)
            break
        procs.append(proc)
        pending[len(procs) - 1] = spec
    done: dict[str, RefreshReport] = {}
    cpu: dict[int, int] = {}
    try:
        while pending and not stopping.is_set():
            for i, job_bytes in list(pending.items()):
                try:
                    out, _ = procs[i].communicate(job_bytes, timeout=POLL_SECONDS / len(pending))
                except subprocess.TimeoutExpired:
                    pending[i] = None
                    continue
                del pending[i]
                done.update(_outcomes(procs[i], out, stopping))
            if _busy(procs, cpu):
                progress()
        for i in list(pending):  # stopping: keep what helpers that already ended saved
            if procs[i].poll() is not None:
                out, _ = procs[i].communicate(None)
                done.update(_outcomes(procs[i], out, stopping))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return done


def _busy(procs: Sequence[subprocess.Popen[bytes]], cpu: dict[int, int]) -> bool:
    """Did some helper use CPU since the last look (always True where /proc cannot tell)?"""
    busy = False
    for proc in procs:
        try:
            fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return True
        ticks = int(fields[11]) + int(fields[12])  # utime + stime
        busy |= ticks != cpu.get(proc.pid)
        cpu[proc.pid] = ticks
    return busy


def catch_up(target: Target, indexes: Sequence[AgentIndex], stopping: threading.Event,
             progress: Callable[[], None] = lambda: None) -> Iterator[tuple[AgentIndex, RefreshReport]]:
    """Have helpers read `indexes` (when there is at least `worker_catch_up_mb` to read), then yield a fresh
    index for each agent they saved, loaded from its checkpoint, with the helper's report. One at a time: the
    caller drops the old index before the next is loaded."""
    sizes = [to_read(idx) for idx in indexes]
    if not sum(sizes) or sum(sizes) < target.cfg.daemon.worker_catch_up_mb * 1e6:
        return
    jobs = [Job(tuple(indexes[i].agent for i in share), target.zone, target.cfg.max_line_bytes, target.state_dir)
            for share in shares(sizes, cores())]
    log.info("catching up on %.0f MB in %d helper process(es)", sum(sizes) / 1e6, len(jobs))
    done = run(jobs, stopping, progress)
    adopted = 0
    for old in indexes:
        report = done.get(old.agent.id)
        if report is None:
            continue
        idx = AgentIndex(old.agent, old.timezone, old.max_line, keep_vanished=old.keep_vanished)
        if cache.load(idx, cache.cache_path(target.state_dir, idx.agent, "checkpoint")):
            adopted += 1
            yield idx, report
    log.info("helpers read %d of %d agent(s)", adopted, len(indexes))


def _outcomes(proc: subprocess.Popen[bytes], out: bytes, stopping: threading.Event) -> dict[str, RefreshReport]:
    if proc.returncode != 0:
        if not stopping.is_set():  # else a signal meant for the whole service, say
            log.warning("a catch-up helper ended with code %s; reading its agents in process", proc.returncode)
        return {}
    try:
        got: dict[str, RefreshReport] = pickle.loads(out)
    except Exception as e:  # a helper that printed something else: its agents are read in process
        log.warning("a catch-up helper's answer is unreadable (%s); reading its agents in process", e)
        return {}
    return got


def _read(job: Job) -> dict[str, RefreshReport]:
    """In a helper: bring each agent's checkpoint up to date; the reports of those saved."""
    out: dict[str, RefreshReport] = {}
    for agent in job.agents:
        path = cache.cache_path(job.state_dir, agent, "checkpoint")
        try:
            idx = AgentIndex(agent, job.zone.key, job.max_line, keep_vanished=True)
            cache.load(idx, path)
            report = idx.refresh(DayClock(job.zone))
        except Exception as e:  # the daemon reads this agent itself, and reports what went wrong
            log.warning("catch-up helper: reading agent %s failed: %s", agent.id, e)
            continue
        problem = cache.save(idx, path)
        if problem:  # the daemon reads this agent itself, and says so
            log.warning("catch-up helper: cannot write checkpoint %s: %s", path, problem)
        else:
            out[agent.id] = report
    return out


def _watch_parent(parent: int) -> None:
    while True:
        if os.getppid() != parent:
            os._exit(3)  # the daemon is gone: what this helper reads would go nowhere
        time.sleep(PARENT_CHECK_SECONDS)


def main() -> int:
    # The daemon ends its helpers itself (or they notice it is gone): a signal meant for the whole service or
    # terminal (systemd's stop, Ctrl-C) must not cut a checkpoint write short or print tracebacks.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(format="memory-syncd helper: %(levelname)s: %(message)s", level=logging.WARNING)
    parent = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else os.getppid()
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    job: Any = pickle.load(sys.stdin.buffer)
    if not isinstance(job, Job):
        return 2
    answer = pickle.dumps(_read(job))
    sys.stdout.buffer.write(answer)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    # Run from the module under its own name: what the daemon pickled names memory_syncd.daemon.workers'
    # classes, which a `__main__` copy of this module would not be.
    from memory_syncd.daemon.workers import main as _main

    sys.exit(_main())
