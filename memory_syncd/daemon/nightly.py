"""The daemon's nightly summaries: which days are due (`summarize.due`, a pure decision) is asked from the
scheduler's cron job, from a catch-up timer and at start-up; the LLM requests run on a worker thread.

APScheduler's cron fires at the configured local time, but it can miss a slot (the machine slept, the
daemon was down) or fire twice (a fall-back DST hour), which is why `due` decides from the per-day records
rather than from the firing.
"""

from __future__ import annotations

import functools
import logging
import threading
from datetime import datetime
from typing import TYPE_CHECKING

from memory_syncd import summarize
from memory_syncd.config import LLMConfig, parse_clock
from memory_syncd.content.assemble import DaySnapshot
from memory_syncd.daemon.engine import Engine, Req, ReqKind
from memory_syncd.daemon.status import SummaryOutcome
from memory_syncd.errors import LLMUnavailable
from memory_syncd.write import narratives, writer

if TYPE_CHECKING:
    from memory_syncd.scope import Target

log = logging.getLogger(__name__)


class Runner:
    """The daemon's nightly summaries: due days are found and snapshotted on the engine thread (which owns
    the index), and the LLM is asked on a worker thread, one batch at a time. The worker is a daemon
    thread: on SIGTERM the process exits without waiting for the LLM, and since a summary is stored only
    once a full reply is in (atomically), nothing is left half-written."""

    def __init__(self, engine: Engine, cfg: LLMConfig) -> None:
        self.engine = engine
        self.send: summarize.Send | None = None
        self.off: str | None = None
        self.last: SummaryOutcome | None = None
        self._busy = threading.Lock()
        self.configure(cfg)

    def configure(self, cfg: LLMConfig) -> None:
        """(Re)build the sender for these settings; `off` says why there is none."""
        try:
            self.send, self.off = summarize.anthropic_sender(cfg), None
        except LLMUnavailable as e:
            self.send, self.off = None, str(e)

    def start(self) -> None:
        """On the engine thread: hand the due days to a worker, unless one is still busy."""
        send = self.send
        if send is None or not self._busy.acquire(blocking=False):
            return
        try:
            target = self.engine.target
            snaps = self._due(target)
            if snaps:
                threading.Thread(target=self._work, args=(target, send, snaps), name="summary", daemon=True).start()
                return
        except BaseException:
            self._busy.release()
            raise
        self._busy.release()

    def _due(self, target: Target) -> list[DaySnapshot]:
        now = datetime.now(target.zone)
        slot = parse_clock(target.cfg.llm.nightly_time)
        snaps = []
        for idx in self.engine.indexes.values():
            have = {d for s in idx.sources.values() for d in s.summary.days if d < now.date()}
            record = functools.partial(narratives.stored_record, target.state_dir, idx.agent.id)
            for day in summarize.due(now, slot, have, record):
                snaps.append(writer.snapshot(target, writer.view(target, idx, only=day), day))
        return snaps

    def _work(self, target: Target, send: summarize.Send, snaps: list[DaySnapshot]) -> None:
        try:
            for snap in snaps:
                error = None
                try:
                    summarize.summarize(snap, target.cfg.llm, send, target.state_dir)
                    self.engine.post(Req(ReqKind.FINALIZE, day=snap.day))  # re-render the block with it
                except LLMUnavailable as e:
                    error = str(e)
                    log.error("summary of %s (%s) failed: %s", snap.day, snap.agent, e)
                except Exception as e:  # a bug or I/O error must still reach status, not kill silently
                    error = f"{type(e).__name__}: {e}"
                    log.exception("summary of %s (%s) failed", snap.day, snap.agent)
                self.last = SummaryOutcome(snap.agent, snap.day, datetime.now(target.zone), error is None, error)
                if error is not None:
                    note = functools.partial(self.engine.note_error, f"summary failed: {error}")
                    self.engine.post(Req(ReqKind.CALL, fn=note))
        finally:
            self._busy.release()
