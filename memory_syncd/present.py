"""How results look on a terminal: plain functions from result values to text or JSON-ready values.

Kept apart from `cli.py` so the commands stay a parse-call-print sequence, and so the text the README and
SKILL.md show is produced in one place.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # only types: `compare` must not pay for importing the write side
    from datetime import date

    from memory_syncd.report import Comparison, TransitionRow
    from memory_syncd.summarize import Outcome
    from memory_syncd.write.writer import DayResult


def comparison(result: Comparison) -> str:
    covered = sum(d.status == "covered" for d in result.days)
    lines = [f"time zone {result.timezone}; coverage {result.coverage:g}% "
             f"({covered} of {len(result.days)} days covered)"]
    if result.days:
        lines.append(f"{'date':<12}{'agent':<12}{'messages':>9}{'memory':>10}  status")
        for d in result.days:
            lines.append(f"{d.date.isoformat():<12}{d.agent:<12}{d.messages:>9}{d.memory_bytes:>9}B  {d.status}")
    return "\n".join(lines)


def skipped(counts: Mapping[str, int]) -> str | None:
    """One stderr line for what was passed over, or None."""
    if not counts:
        return None
    return "skipped: " + ", ".join(f"{n} {why}" for why, n in sorted(counts.items()))


def transitions(rows: Iterable[TransitionRow]) -> str:
    lines = [f"{r.time.isoformat(timespec='seconds')}  {r.session}  {r.from_model} -> {r.to_model}" for r in rows]
    return "\n".join(lines) if lines else "no model transitions"


def backfill_json(results: Iterable[DayResult]) -> list[dict[str, Any]]:
    return [{"agent": r.agent, "date": r.day.isoformat(), "messages": r.messages, "before": r.before,
             "action": r.action, "path": str(r.path) if r.path else None, "bytes": r.bytes,
             "note": r.note or None} for r in results]


def backfill(results: list[DayResult], dry_run: bool) -> str:
    lines = []
    for r in results:
        where = f"  {r.path}" if r.path else ""
        lines.append(f"{r.day.isoformat()}  {r.agent:<10} {r.messages:>6} msgs  {r.before:<8} -> {r.action}{where}")
        if r.note:
            lines.append(f"  {r.note}")
    written = sum(r.action in ("created", "updated") for r in results)
    lines.append(f"{len(results)} days considered, {written} written" + (" (dry run)" if dry_run else ""))
    return "\n".join(lines)


def summary_written(day: date, agent: str, outcome: Outcome, written: DayResult | None) -> str:
    how = "unchanged input, kept the stored summary" if outcome.skipped else f"{outcome.requests} request(s)"
    return (f"{day.isoformat()}  {agent}: summary {how}; {written.action if written else ''} "
            f"{written.path if written else ''}")


def status(reply: Mapping[str, Any]) -> str:
    """The daemon's `status` reply (its JSON, as the control socket delivers it) for a terminal."""
    from memory_syncd.daemon.status import Status, iso  # a plain value module: no threads, no watchdog

    s = Status.from_json(reply)
    lines = [f"running (pid {s.pid}) since {iso(s.started_at)}, up {s.uptime} s"
             + ("" if s.caught_up else "; still catching up on what changed while it was down")]
    note = f" ({s.watch_note})" if s.watch_note else ""
    lines.append(f"watching {len(s.agents)} agent(s), {s.files} files; watch mode {s.watch_mode}{note}")
    lag = s.last_write_lag_seconds
    lines.append(f"today {s.today}: {s.messages_today} messages; last write {iso(s.last_write) or 'none yet'}"
                 + (f" ({lag} s behind the newest message)" if lag is not None else ""))
    lines.append(f"errors {s.errors}" + (f"; last: {s.last_error}" if s.last_error else ""))
    lines.append(f"summaries {s.summary}")
    last = s.last_summary
    if last is not None:
        outcome = "ok" if last.ok else f"failed: {last.error}"
        lines.append(f"last summary: {last.day} ({last.agent}) at {iso(last.at)}: {outcome}")
    shown = [f"{k} {iso(v)}" for k, v in sorted(s.next_jobs.items()) if k in ("midnight", "nightly", "flush")]
    if shown:
        lines.append("next: " + ", ".join(shown))
    return "\n".join(lines)


def exit_statuses() -> str:
    """The exit-status table for `--help` (Click keeps a paragraph that starts with \\b as it is)."""
    from memory_syncd.errors import EXIT_STATUSES

    return "\b\nExit statuses:\n" + "\n".join(f"  {code:>3}  {text}" for code, text in EXIT_STATUSES.items())


class progress_bar:
    """A Click progress bar on a terminal; silence elsewhere (pipes, CI, --json)."""

    def __init__(self) -> None:
        self._bar: Any = None

    def __enter__(self) -> Callable[[int, int, str], None] | None:
        if not sys.stderr.isatty():
            return None
        return self.update

    def update(self, done: int, total: int, label: str) -> None:
        if self._bar is None and total:
            self._bar = click.progressbar(length=total, label="writing", file=sys.stderr)
            self._bar.__enter__()
        if self._bar is not None:
            self._bar.update(done - self._bar.pos)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
