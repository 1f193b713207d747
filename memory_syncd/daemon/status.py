"""What the running daemon says about itself: the `Status` value and the vocabulary it reports in.

The engine publishes a `Status` after every batch (a new frozen value, swapped in whole, so readers on
other threads never see half of one); the daemon adds what the watcher, the scheduler and the nightly
runner know when a client asks; the control socket sends `to_json()`, and the CLI reads it back with
`from_json()`. The JSON keys are a public interface (`status --json`, the README, doctor): change them
only on purpose.

Imports nothing from the daemon, nor any third-party package, so the CLI can read a status cheaply.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any


class WatchMode(StrEnum):
    STARTING = "starting"  # no observer built yet
    INOTIFY = "inotify"  # file events from Linux's inotify
    NATIVE = "native"  # file events from the platform's own API (FSEvents, kqueue)
    POLLING = "polling"  # inotify limits reached: a stat scan every poll_seconds
    DEGRADED = "degraded"  # file events kept going missing: polling, and no sd_notify watchdog pings

    @property
    def polls(self) -> bool:
        return self in (WatchMode.POLLING, WatchMode.DEGRADED)


@dataclass(frozen=True)
class SummaryOutcome:
    """The last nightly summary the daemon asked for."""

    agent: str
    day: date
    at: datetime
    ok: bool
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"agent": self.agent, "day": self.day.isoformat(), "at": iso(self.at), "ok": self.ok,
                "error": self.error}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> SummaryOutcome | None:
        day, at = _date(d.get("day")), _time(d.get("at"))
        if day is None or at is None:
            return None
        return cls(str(d.get("agent", "")), day, at, bool(d.get("ok")), _str(d.get("error")))


@dataclass(frozen=True)
class Status:
    """One moment of the daemon. Every field has a default so that a reply from another version of the
    daemon (missing keys, extra keys) still reads."""

    pid: int = 0
    started_at: datetime | None = None
    uptime: float = 0.0  # seconds
    caught_up: bool = False  # the start-up catch-up is done (READY=1 comes before it)
    agents: tuple[str, ...] = ()
    files: int = 0  # transcript sources tracked
    today: date | None = None
    messages_today: int = 0
    last_write: datetime | None = None
    last_write_lag_seconds: float | None = None  # that write's distance behind the newest message
    newest_message: datetime | None = None
    errors: int = 0
    last_error: str | None = None
    missed_events: int = 0  # reads a scan found that no file event had announced
    bytes_read: int = 0  # since start
    resets: int = 0  # files found truncated, replaced or rewritten
    skipped: Mapping[str, int] = field(default_factory=dict)  # lines passed over, by reason
    timezone: str = ""
    summary: str = ""  # "on", or "off: <why>"
    last_summary: SummaryOutcome | None = None
    watch_mode: WatchMode = WatchMode.STARTING
    watch_note: str | None = None  # why the mode is what it is (polling, degraded)
    observer_rebuilds: int = 0
    next_jobs: Mapping[str, datetime | None] = field(default_factory=dict)  # job id -> next run
    running: bool = True

    @property
    def next_summary(self) -> datetime | None:
        return self.next_jobs.get("nightly")

    def to_json(self) -> dict[str, Any]:
        return {
            "running": self.running,
            "pid": self.pid,
            "started_at": iso(self.started_at),
            "uptime": self.uptime,
            "caught_up": self.caught_up,
            "agents": list(self.agents),
            "files": self.files,
            "today": self.today.isoformat() if self.today else None,
            "messages_today": self.messages_today,
            "last_write": iso(self.last_write),
            "last_write_lag_seconds": self.last_write_lag_seconds,
            "newest_message": iso(self.newest_message),
            "errors": self.errors,
            "last_error": self.last_error,
            "missed_events": self.missed_events,
            "bytes_read": self.bytes_read,
            "resets": self.resets,
            "skipped": dict(self.skipped),
            "timezone": self.timezone,
            "summary": self.summary,
            "last_summary": self.last_summary.to_json() if self.last_summary else None,
            "watch_mode": str(self.watch_mode),
            "watch_note": self.watch_note,
            "observer_rebuilds": self.observer_rebuilds,
            "next_jobs": {k: iso(v) for k, v in self.next_jobs.items()},
            "next_summary": iso(self.next_summary),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Status:
        """Read a reply leniently: a missing or mistyped value becomes the default, unknown keys are ignored."""
        try:
            mode = WatchMode(str(d.get("watch_mode")))
        except ValueError:
            mode = WatchMode.STARTING
        last = d.get("last_summary")
        jobs = d.get("next_jobs")
        skipped = d.get("skipped")
        agents = d.get("agents")
        return cls(
            running=d.get("running") is not False,
            pid=_int(d.get("pid")),
            started_at=_time(d.get("started_at")),
            uptime=_float(d.get("uptime")) or 0.0,
            caught_up=d.get("caught_up") is True,
            agents=tuple(str(a) for a in agents) if isinstance(agents, list) else (),
            files=_int(d.get("files")),
            today=_date(d.get("today")),
            messages_today=_int(d.get("messages_today")),
            last_write=_time(d.get("last_write")),
            last_write_lag_seconds=_float(d.get("last_write_lag_seconds")),
            newest_message=_time(d.get("newest_message")),
            errors=_int(d.get("errors")),
            last_error=_str(d.get("last_error")),
            missed_events=_int(d.get("missed_events")),
            bytes_read=_int(d.get("bytes_read")),
            resets=_int(d.get("resets")),
            skipped={str(k): _int(v) for k, v in skipped.items()} if isinstance(skipped, Mapping) else {},
            timezone=str(d.get("timezone") or ""),
            summary=str(d.get("summary") or ""),
            last_summary=SummaryOutcome.from_json(last) if isinstance(last, Mapping) else None,
            watch_mode=mode,
            watch_note=_str(d.get("watch_note")),
            observer_rebuilds=_int(d.get("observer_rebuilds")),
            next_jobs={str(k): _time(v) for k, v in jobs.items()} if isinstance(jobs, Mapping) else {},
        )


def iso(t: datetime | None) -> str | None:
    """How the status writes a time: ISO 8601 to the second, with its offset."""
    return t.isoformat(timespec="seconds") if t is not None else None


def _time(v: object) -> datetime | None:
    try:
        return datetime.fromisoformat(v) if isinstance(v, str) else None
    except ValueError:
        return None


def _date(v: object) -> date | None:
    try:
        return date.fromisoformat(v) if isinstance(v, str) else None
    except ValueError:
        return None


def _int(v: object) -> int:
    return v if isinstance(v, int) and not isinstance(v, bool) else 0


def _float(v: object) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def _str(v: object) -> str | None:
    return v if isinstance(v, str) else None
