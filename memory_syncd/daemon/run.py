"""`memory-syncd run`: composition of the engine, the watcher, the scheduler, the control socket and
signals. Owns the process lifecycle and nothing else.

Threads: the engine (owns all state and its own timing: the debounced flush, write retries), watchdog's
observer (posts "changed"), APScheduler's pool (posts "rescan" and "finalize"; pings the service
manager's watchdog), the control server (serves the published status and asks the engine for answers),
the nightly summary worker, and the main thread, which sleeps until a signal, the engine or the watcher
wakes it: it announces READY=1 once the engine has loaded its checkpoints (the start-up catch-up goes on
after it; on a big history it runs in helper processes, see workers.py), applies config reloads and
checks the watch.

Watch health (main thread): the watcher is given the directories the engine wants watched and checked
(dead threads, deleted or replaced dirs, dirs that appeared) and rebuilt — at once when the engine wants
other dirs or a directory event came, every HEALTH_SECONDS while a wanted dir is missing, and every
HEALTH_IDLE_SECONDS otherwise. An idle daemon so wakes well under once a second. File events that went
missing although it looked fine also rebuild it, and if they keep going missing it is abandoned for
polling ("degraded": no sd_notify watchdog pings, so a service manager restarts us). Polling, for that or
for inotify limits, is a stat scan every poll_seconds.

Scheduling notes: APScheduler's default misfire grace (1 s) silently drops a job the machine slept
through, and its sleeps do not count suspended time; so jobs here get generous grace, coalesce, and the
engine itself notices a new day on every loop rather than trusting the midnight job alone.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from memory_syncd.config import parse_clock
from memory_syncd.daemon import control, nightly, queries
from memory_syncd.daemon.engine import Engine, Req, ReqKind
from memory_syncd.daemon.process import InstanceLock, Wakeup, limit_malloc_arenas, notify, watchdog_usec
from memory_syncd.daemon.status import Status, WatchMode
from memory_syncd.daemon.watch import Watch, Watcher
from memory_syncd.errors import MemorySyncError, Refused
from memory_syncd.scope import Target
from memory_syncd.statefile import private_dir

log = logging.getLogger(__name__)

HEALTH_SECONDS = 2.0  # while a wanted dir is missing: how quickly it gets watched once it appears
HEALTH_IDLE_SECONDS = 20.0  # otherwise: how long a dead observer thread may go unnoticed (reconcile covers it)
# The reconcile scan (a stat of every transcript) may use 1/SCAN_SHARE of a core, half the idle budget of
# 0.05% (the other half is wake-ups and the health job): at a 5 GB history it costs 20-40 ms, so it then
# runs every 80-160 s instead of every reconcile_seconds. Scans cheaper than SCAN_FLOOR (any small history)
# keep the configured interval. A missed event costs latency, never data.
SCAN_SHARE = 4000
SCAN_FLOOR = 0.01
START_WAIT = 0.05  # until READY=1 is out, how often the main thread looks at the engine's `ready`
STALL_SECONDS = 30.0  # an engine loop older than this is unhealthy: no watchdog ping
# While catching up the engine's heartbeat comes from reading (each agent read in process, helpers that use
# CPU): this long without one means a read hangs (a dead network mount, say), and a restart is the way out.
CATCH_UP_STALL_SECONDS = 300.0
MISS_LIMIT = 3  # missed-event findings within MISS_WINDOW_SCANS reconcile intervals before polling
MISS_WINDOW_SCANS = 10


class Daemon:
    """The running daemon: builds the parts, runs them until SIGTERM or SIGINT, and stops them in order."""

    def __init__(self, target: Target, *, discovering: bool, reload: Callable[[], Target]) -> None:
        self.target = target
        self.reload_target = reload
        # Set by the signal handlers, which take no lock (see Wakeup): plain attributes.
        self.stop_signal: int | None = None
        self.reload_wanted = False
        self.health_event = threading.Event()  # check the watch now: the wanted dirs changed or a dir event came
        self.wake = Wakeup()  # the main thread has something to look at (set after the flag it is for)
        self.engine = Engine(target, discovering=discovering, watch_news=self._poke_health)
        self.watcher = Watcher(lambda agent: self.engine.post(Req(ReqKind.CHANGED, agent)), self._poke_health)
        self.scheduler = BackgroundScheduler(timezone=target.zone, job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": 3600})
        self.nightly = nightly.Runner(self.engine, target.cfg.llm)
        self.watchdog_usec = watchdog_usec(os.environ)
        self._wall = time.time()
        self._mono = time.monotonic()
        self._watch_list: tuple[Watch, ...] = ()
        self._misses_seen = 0
        self._reconcile_every = target.cfg.daemon.reconcile_seconds
        self._miss_times: list[float] = []

    # -- lifecycle --

    def run(self) -> int:
        self._install_signals()  # first: an early SIGHUP's default action would kill us
        limit_malloc_arenas()
        try:
            state = private_dir(self.target.state_dir)
        except OSError as e:  # the daemon cannot do without it: a configuration problem, not a crash
            raise Refused(self.target.state_dir, "unreadable", f"cannot be created: {e.strerror or e}; fix that "
                                                                 "or choose another --state-dir") from e
        lock = InstanceLock(state)
        server = None
        try:
            server = control.Server(state, self._handle)
            server.start()
            engine_thread = threading.Thread(target=self._run_engine, name="engine", daemon=True)
            engine_thread.start()
            self._start_scheduler()
            announced = caught_up = False
            next_health = 0.0
            while self.stop_signal is None:
                if not announced and self.engine.ready.is_set():
                    announced = True
                    self._ready()  # starts watching, so the health check is not due yet
                    next_health = self._next_health()
                if announced and not caught_up and self.engine.caught_up:
                    caught_up = True
                    self._caught_up()
                if self.reload_wanted:
                    self.reload_wanted = False  # before reading the config: a SIGHUP from now on reloads again
                    self._reload()
                if not engine_thread.is_alive():
                    log.error("engine thread ended unexpectedly")
                    return 1
                if announced and (self.health_event.is_set() or time.monotonic() >= next_health):
                    self.health_event.clear()
                    self._guarded_health()
                    next_health = self._next_health()
                if not announced:  # wake the moment the engine is ready (signals: within START_WAIT)
                    self.engine.ready.wait(START_WAIT)
                    continue
                # Sleep until a flag's setter wakes us (each sets its flag first, then `wake`) or the next
                # health check is due.
                self.wake.wait(max(0.0, next_health - time.monotonic()))
            log.info("signal %d: stopping", self.stop_signal)
            notify("STOPPING=1")
            self.engine.stopping.set()
            self.engine.post(Req(ReqKind.STOP))
            engine_thread.join(timeout=10)
            return 0
        finally:
            with contextlib.suppress(Exception):
                self.scheduler.shutdown(wait=False)
            self.watcher.stop()
            if server is not None:
                server.stop()
            lock.release()
            self.wake.close()

    def _install_signals(self) -> None:
        # A handler runs in the main thread wherever it was interrupted, also inside a lock it holds (an
        # Event's, logging's) or inside another handler: so it only sets an attribute and writes a byte.
        # Taking a lock there deadlocked the daemon under a burst of SIGHUPs.
        def stop(signum: int, frame: object) -> None:
            self.stop_signal = signum
            self.wake.set()

        def reload(signum: int, frame: object) -> None:
            self.reload_wanted = True
            self.wake.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGHUP, reload)
        self.wake.catch_signals()

    def _run_engine(self) -> None:
        try:
            self.engine.run()
        finally:
            self.wake.set()  # an engine that ended, normally or not, is the main thread's business

    def _poke_health(self) -> None:
        """Have the main thread check the watch now (from the engine or the observer's thread)."""
        self.health_event.set()
        self.wake.set()

    def _start_scheduler(self) -> None:
        d = self.target.cfg.daemon
        self.scheduler.add_job(self._reconcile, "interval", seconds=d.reconcile_seconds, id="reconcile")
        self.scheduler.add_job(self._midnight, "cron", hour=0, minute=0, second=5, id="midnight",
                               misfire_grace_time=None)
        self._schedule_nightly()
        if self.watchdog_usec:
            self.scheduler.add_job(self._ping, "interval", seconds=max(0.5, self.watchdog_usec / 2e6), id="watchdog")
        self.scheduler.start()

    def _ready(self) -> None:
        """The engine has loaded its checkpoints: start watching, tell the service manager (the catch-up
        goes on after READY=1), and ask for a nightly summary missed while the daemon was down (the engine
        starts it once caught up)."""
        self._guarded_health()
        agents = len(self.engine.status.agents)
        if self.engine.caught_up:
            notify(f"READY=1\nSTATUS=watching {agents} agent(s)")
        else:
            notify(f"READY=1\nSTATUS=catching up on {agents} agent(s)")
        log.info("ready; watching %d agent(s)", agents)
        if self.nightly.send is not None:
            self._nightly()
        else:
            log.info("nightly summaries off: %s", self.nightly.off)

    def _caught_up(self) -> None:
        agents = len(self.engine.status.agents)
        notify(f"STATUS=watching {agents} agent(s)")
        log.info("caught up; watching %d agent(s)", agents)

    def _nightly(self) -> None:
        self.engine.post(Req(ReqKind.CALL, fn=self.nightly.start))

    def _schedule_nightly(self) -> None:
        """(Re)add the nightly jobs for the current LLM settings; none when summaries are off."""
        for job in ("nightly", "summary-catch-up"):
            if self.scheduler.get_job(job) is not None:
                self.scheduler.remove_job(job)
        if self.nightly.send is None:
            return
        slot = parse_clock(self.target.cfg.llm.nightly_time)
        self.scheduler.add_job(self._nightly, "cron", hour=slot.hour, minute=slot.minute, id="nightly",
                               misfire_grace_time=None)
        # Catch-up: a slot slept through or missed while down is made up within five minutes.
        self.scheduler.add_job(self._nightly, "interval", seconds=300, id="summary-catch-up")

    def _reload(self) -> None:
        try:
            target = self.reload_target()
        except MemorySyncError as e:
            self._reload_failed(str(e))
            return
        if os.path.realpath(target.state_dir) != os.path.realpath(self.target.state_dir):  # another spelling is fine
            # The instance lock and the control socket stay where the daemon started: checkpoints written
            # elsewhere would split its state, and `status` would look for it in the new dir.
            self._reload_failed(f"state_dir: {target.state_dir} differs from {self.target.state_dir}, the "
                                "state dir this daemon runs in; restart the daemon to move it")
            return
        old = self.target.cfg.daemon
        self.target = target
        self.engine.post(Req(ReqKind.CALL, fn=lambda: self.engine.set_target(target)))
        new = target.cfg.daemon
        # Interval jobs keep the interval they were added with: re-add those whose interval changed.
        if new.reconcile_seconds != old.reconcile_seconds:
            self._reconcile_every = new.reconcile_seconds
            self.scheduler.reschedule_job("reconcile", trigger="interval", seconds=new.reconcile_seconds)
        if new.poll_seconds != old.poll_seconds and self.scheduler.get_job("poll") is not None:
            self.scheduler.reschedule_job("poll", trigger="interval", seconds=new.poll_seconds)
        self.nightly.configure(target.cfg.llm)  # a new model, key or nightly time applies from now on
        self._schedule_nightly()
        log.info("config reloaded")

    def _reload_failed(self, why: str) -> None:
        msg = f"config reload failed, keeping the old config: {why}"
        log.error("%s", msg)
        stamped = f"{datetime.now(UTC).isoformat(timespec='seconds')} {msg}"  # as the engine's own errors are
        self.engine.post(Req(ReqKind.CALL, fn=functools.partial(self.engine.note_error, stamped)))

    # -- jobs (scheduler threads: they only post requests and read published values) --

    def _reconcile(self) -> None:
        self.engine.post(Req(ReqKind.RESCAN))
        cost = self.engine.scan_seconds  # of the scan before this one
        spacing = max(self.target.cfg.daemon.reconcile_seconds, SCAN_SHARE * cost if cost > SCAN_FLOOR else 0.0)
        if abs(spacing - self._reconcile_every) > 0.2 * self._reconcile_every:
            self._reconcile_every = spacing
            with contextlib.suppress(Exception):  # a scheduler shutting down
                self.scheduler.reschedule_job("reconcile", trigger="interval", seconds=spacing)

    def _poll(self) -> None:  # polling instead of file events: the scan is the watcher, never skipped
        self.engine.post(Req(ReqKind.RESCAN))

    def _midnight(self) -> None:
        yesterday = datetime.now(self.target.zone).date() - timedelta(days=1)
        self.engine.post(Req(ReqKind.FINALIZE, day=yesterday))

    def _next_health(self) -> float:
        return time.monotonic() + (HEALTH_SECONDS if self.watcher.missing else HEALTH_IDLE_SECONDS)

    def _guarded_health(self) -> None:
        try:
            self._health()
        except Exception as e:  # the daemon still runs (the stat scans read everything); health tries again
            log.exception("checking the watcher failed")
            self.engine.post(Req(ReqKind.CALL, fn=functools.partial(self.engine.note_error,
                                                                   f"checking the watcher failed: {e}")))

    def _health(self) -> None:
        """Main thread only (the Watcher is not thread-safe)."""
        self._check_watcher()
        # A jump between wall and monotonic time means the machine slept or the clock moved.
        wall, mono = time.time(), time.monotonic()
        if abs((wall - self._wall) - (mono - self._mono)) > 30:
            log.info("clock jump or resume detected; catching up")
            self.scheduler.wakeup()
            self.engine.post(Req(ReqKind.RESCAN))
        self._wall, self._mono = wall, mono

    def _check_watcher(self) -> None:
        wanted = self.engine.watches
        if wanted != self._watch_list:
            self._watch_list = wanted
            self.watcher.watch(wanted)
        else:
            self.watcher.check()
        self._check_misses()
        if self.watcher.mode.polls and self.scheduler.get_job("poll") is None:
            # Without file events the stat scan is the watcher: run it every poll_seconds.
            self.scheduler.add_job(self._poll, "interval", seconds=self.target.cfg.daemon.poll_seconds,
                                   id="poll", replace_existing=True)
            self.engine.post(Req(ReqKind.RESCAN))

    def _check_misses(self) -> None:
        """Events the observer missed although it looked alive: rebuild it; if misses recur within
        MISS_WINDOW_SCANS reconcile intervals MISS_LIMIT times, stop trusting file events at all."""
        misses = self.engine.missed_events
        if misses <= self._misses_seen or self.watcher.mode.polls:
            self._misses_seen = misses
            return
        self._misses_seen = misses
        now = time.monotonic()
        window = MISS_WINDOW_SCANS * self.target.cfg.daemon.reconcile_seconds
        self._miss_times = [t for t in self._miss_times if now - t < window] + [now]
        if len(self._miss_times) >= MISS_LIMIT:
            self.watcher.degrade("file events keep going missing; polling instead")
        else:
            log.info("file events went missing; rebuilding the observer")
            self.watcher.rebuild()

    def healthy(self) -> bool:
        limit = STALL_SECONDS if self.engine.caught_up else CATCH_UP_STALL_SECONDS
        stalled = time.monotonic() - self.engine.beat > limit
        return not stalled and self.watcher.mode is not WatchMode.DEGRADED

    def _ping(self) -> None:
        if self.healthy():
            doing = "" if self.engine.caught_up else "catching up; "
            notify(f"WATCHDOG=1\nSTATUS={doing}{self.engine.status.messages_today} messages today; "
                   f"watch {self.watcher.mode}")

    # -- control (the server's threads) --

    def status(self) -> Status:
        """The engine's published status, with what the watcher, the scheduler and the nightly runner know."""
        jobs: dict[str, datetime | None] = {}
        with contextlib.suppress(Exception):  # the scheduler may not be started yet, or be shutting down
            jobs = {job.id: job.next_run_time for job in self.scheduler.get_jobs()}
        s = self.engine.status
        # The engine publishes when it acts, not on a clock: the uptime is taken now.
        return replace(s, uptime=round(time.time() - self.engine.started_at, 1),
                       watch_mode=self.watcher.mode, watch_note=self.watcher.reason or None,
                       observer_rebuilds=self.watcher.rebuilds, next_jobs={**jobs, **s.next_jobs},
                       summary="on" if self.nightly.send is not None else f"off: {self.nightly.off}",
                       last_summary=self.nightly.last)

    def _on_engine(self, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """Run `fn` on the engine thread and wait for its reply, at most queries.ANSWER_SECONDS."""
        reply: Future[dict[str, Any]] = Future()

        def call() -> None:
            try:
                reply.set_result(fn())
            except Exception as e:  # the client gets a refusal (and reads the transcripts itself)
                log.exception("answering a query failed")
                reply.set_result(queries.refusal(f"failed: {e}"))

        self.engine.post(Req(ReqKind.CALL, fn=call))
        try:
            return reply.result(timeout=queries.ANSWER_SECONDS)
        except FutureTimeout:
            return queries.refusal("busy")

    def _handle(self, req: dict[str, Any]) -> dict[str, Any]:
        cmd = req.get("cmd")
        if cmd == "status":
            return self.status().to_json()
        if cmd == "ping":
            return {"ok": True}
        if cmd == "compare":
            return queries.answer(self.engine, req, self._on_engine, events=not self.watcher.mode.polls
                                  and self.watcher.mode is not WatchMode.STARTING)
        return {"ok": False, "error": f"unknown command {cmd!r}"}
