"""The days the daemon has still to write, when it writes them, and the writing itself.

Owns the write timing: a change moves the deadline to `debounce_seconds` after it, but never later than
`max_delay_seconds` after the first change not yet written, so a burst is one write and a steady stream
still gets written. A day whose write fails stays pending and is retried with backoff (1 s, doubling to a
minute), even if no new message comes to trigger it. Engine thread only, like everything the engine holds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import date

from memory_syncd.errors import MemorySyncError
from memory_syncd.read.ingest import AgentIndex
from memory_syncd.scope import Target
from memory_syncd.write import writer

log = logging.getLogger(__name__)

RETRY_FIRST = 1.0  # seconds until the first retry of a failed write
RETRY_MOST = 60.0  # the longest wait between retries
LOCK_SECONDS = 10.0  # how long a write waits for the memory file's lock (an agent or a one-shot command)


class Pending:
    """The days waiting to be written, their deadlines, and what the last write did."""

    def __init__(self) -> None:
        self.days: set[date] = set()
        self.since: float | None = None  # the first change not yet written (monotonic)
        self.at: float | None = None  # the debounced write
        self.retry_at: float | None = None  # the next try of a failed write
        self._retry_delay = 0.0
        self.last_write: float | None = None  # wall time
        self.last_write_lag: float | None = None  # that write's distance behind the newest message, seconds

    def add(self, day: date) -> None:
        """Write `day` with the next write (midnight, a reload, a new summary: no deadline of its own)."""
        self.days.add(day)

    def changed(self, days: Iterable[date], debounce: float, max_delay: float) -> None:
        """New messages on `days`: write them once things are quiet (see the module docstring)."""
        self.days.update(days)
        now = time.monotonic()
        if self.since is None:
            self.since = now
        self.at = min(now + debounce, self.since + max_delay)

    def deadlines(self) -> list[float]:
        return [t for t in (self.at, self.retry_at) if t is not None]

    def due(self, now: float) -> bool:
        return any(now >= t for t in self.deadlines())

    def write(self, target: Target, indexes: Iterable[AgentIndex], newest_ms: int,
              error: Callable[[str], None]) -> None:
        """Write the pending days of every agent now; `error` hears of each failure."""
        days, self.days = self.days, set()
        self.since = self.at = None
        failed: set[date] = set()
        indexes = list(indexes)
        for day in sorted(days):
            for idx in indexes:
                try:
                    v = writer.view(target, idx, only=day)
                    if day not in v.days:
                        continue
                    writer.write_day(target, v, day, lock_timeout=LOCK_SECONDS)
                except (MemorySyncError, OSError) as e:
                    failed.add(day)
                    error(f"cannot write {day} of agent {idx.agent.id}: {e}")
                    continue
                except Exception:  # a bug or hostile input: the day stays pending and is retried, not dropped
                    failed.add(day)
                    error(f"cannot write {day} of agent {idx.agent.id}: unexpected error (see the log)")
                    log.exception("writing %s of agent %s failed", day, idx.agent.id)
                    continue
                self.last_write = time.time()
                if newest_ms:
                    self.last_write_lag = max(0.0, self.last_write - newest_ms / 1000)
        if failed:
            self.days |= failed
            self._retry_delay = min(RETRY_MOST, self._retry_delay * 2) if self._retry_delay else RETRY_FIRST
            self.retry_at = time.monotonic() + self._retry_delay
        else:
            self._retry_delay, self.retry_at = 0.0, None
