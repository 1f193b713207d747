"""When the nightly summary is due: a pure decision, kept apart from the scheduler that asks for it.

APScheduler's cron fires at the configured local time, but it can miss a slot (the machine slept, the
daemon was down) or fire twice (a fall-back DST hour). So the daemon asks `due()` both from the cron job
and from a catch-up timer and at start-up, and the per-day record in the state dir decides: a day is
summarized once it has a successful record made after the day ended, and never again by the nightly path
(a summary asked for while the day was still going, by `summarize --date` or `backfill --today
--summarize`, does not cover its end: the nightly path makes the final one).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

CATCH_UP_DAYS = 3  # after a longer absence, older days are left to `backfill --summarize`
MAX_ATTEMPTS = 3
RETRY_SECONDS = 3600.0


def due(now: datetime, slot: time, days_with_messages: Iterable[date],
        record: Callable[[date], dict[str, Any] | None]) -> list[date]:
    """Days (oldest first) whose summary should be made now.

    `now` is local time. The previous day becomes due once today's slot has passed; up to CATCH_UP_DAYS
    days back are caught up. A day with a successful record made after its end is done; a failed one is
    retried after RETRY_SECONDS, at most MAX_ATTEMPTS times. A record made before the day ended counts
    as none."""
    today = now.date()
    newest = today - timedelta(days=1) if now.time() >= slot else today - timedelta(days=2)
    window = {newest - timedelta(days=i) for i in range(CATCH_UP_DAYS)}
    out = []
    for day in sorted(set(days_with_messages) & window):
        rec = record(day)
        if rec is None or float(rec.get("at", 0) or 0) < day_end(day, now.tzinfo):
            out.append(day)
            continue
        if rec.get("text"):
            continue
        attempts = int(rec.get("attempts", 1) or 1)
        if attempts < MAX_ATTEMPTS and now.timestamp() - float(rec.get("at", 0) or 0) >= RETRY_SECONDS:
            out.append(day)
    return out


def day_end(day: date, zone: tzinfo | None) -> float:
    """The epoch time at which local `day` is over."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=zone).timestamp()
