"""The command line: parse flags, call one core function, print. Nothing else lives here.

Every user-facing failure is a `MemorySyncError` (or a Click usage problem) and becomes exactly one line on
stderr in `main`, with the error's exit code; real bugs keep their traceback.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from memory_syncd import __version__, config, sync
from memory_syncd.errors import LLMUnavailable, MemorySyncError, UsageError
from memory_syncd.target import Target, resolve

if TYPE_CHECKING:
    from memory_syncd.backfill import Summaries

F = TypeVar("F", bound=Callable[..., Any])


def common_options(f: F) -> F:
    """Options every command accepts after its name."""
    opts = [
        click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
                     help="Config file (default: $MEMORY_SYNCD_CONFIG, else ~/.config/memory-syncd/config.toml)."),
        click.option("--agent", "agents", multiple=True, help="Only this agent (repeatable)."),
        click.option("--sessions-dir", type=click.Path(path_type=Path), default=None,
                     help="Read this sessions dir instead of discovering agents (needs --memory-dir)."),
        click.option("--memory-dir", type=click.Path(path_type=Path), default=None,
                     help="Write and compare against this memory dir."),
        click.option("--timezone", default=None, help="IANA zone that decides which day a message belongs to."),
        click.option("--state-dir", type=click.Path(path_type=Path), default=None,
                     help="memory-syncd's own state dir (default: $XDG_STATE_HOME/memory-syncd)."),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def load_target(kw: dict[str, Any], *, wait: bool = False) -> Target:
    """Config and agents from the common options (removed from `kw`)."""
    overrides = {
        "timezone": kw.pop("timezone"),
        "state_dir": str(kw["state_dir"]) if kw.get("state_dir") else None,
        "agents": tuple(a.lower() for a in kw.pop("agents")) or None,
    }
    kw.pop("state_dir")
    cfg = config.load(kw.pop("config_path"), os.environ, overrides)
    return resolve(cfg, os.environ, sessions_dir=kw.pop("sessions_dir"), memory_dir=kw.pop("memory_dir"),
                   wait_for_sources=wait)


def parse_day(value: str | None, flag: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{flag}: expected a date as YYYY-MM-DD, got {value!r}") from None


def today_in(target: Target) -> date:
    return datetime.now(target.zone).date()


def progress_printer() -> Callable[[str], None] | None:
    if not sys.stderr.isatty():
        return None
    return lambda text: click.echo(text, err=True)


def print_json(value: object) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="memory-syncd")
@click.option("-v", "--verbose", is_flag=True, help="Log what is being done to stderr.")
def cli(verbose: bool) -> None:
    """Keep an OpenClaw agent's daily memory files in step with its session transcripts."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="memory-syncd: %(levelname)s: %(message)s", stream=sys.stderr)


@cli.command()
@common_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--include-today", is_flag=True, help="List today too (it is still being written).")
def compare(as_json: bool, include_today: bool, **kw: Any) -> None:
    """Which days have sessions but missing or sparse memory.

    Example: memory-syncd compare --json
    """
    target = load_target(kw)
    indexes = sync.index_agents(target, progress=progress_printer())
    result = sync.compare(target, indexes, include_today=include_today, today=today_in(target))
    if as_json:
        print_json(result.to_json())
    else:
        click.echo(render_comparison(result))
    report_skipped(result.skipped)


def render_comparison(result: sync.Comparison) -> str:
    covered = sum(d.status == "covered" for d in result.days)
    lines = [f"time zone {result.timezone}; coverage {result.coverage:g}% "
             f"({covered} of {len(result.days)} days covered)"]
    if result.days:
        lines.append(f"{'date':<12}{'agent':<12}{'messages':>9}{'memory':>10}  status")
        for d in result.days:
            lines.append(f"{d.date.isoformat():<12}{d.agent:<12}{d.messages:>9}{d.memory_bytes:>9}B  {d.status}")
    return "\n".join(lines)


def report_skipped(skipped: dict[str, int]) -> None:
    if skipped:
        parts = ", ".join(f"{n} {why}" for why, n in sorted(skipped.items()))
        click.echo(f"skipped: {parts}", err=True)


@cli.command()
@common_options
@click.option("--date", "on", default=None, metavar="YYYY-MM-DD", help="Only this day.")
@click.option("--since", default=None, metavar="YYYY-MM-DD", help="This day and later.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def transitions(on: str | None, since: str | None, as_json: bool, **kw: Any) -> None:
    """Where the answering model changed within a session.

    Example: memory-syncd transitions --since 2026-04-01
    """
    if on and since:
        raise UsageError("--date and --since cannot be combined")
    day, start = parse_day(on, "--date"), parse_day(since, "--since")
    target = load_target(kw)
    indexes = sync.index_agents(target, progress=progress_printer())
    rows = sync.transitions(target, indexes, since=day or start, until=day)
    if as_json:
        print_json([r.to_json() for r in rows])
        return
    if not rows:
        click.echo("no model transitions")
    for r in rows:
        click.echo(f"{r.time.isoformat(timespec='seconds')}  {r.session}  {r.from_model} -> {r.to_model}")


@cli.command()
@common_options
@click.option("--today", is_flag=True, help="Write today's block.")
@click.option("--date", "on", default=None, metavar="YYYY-MM-DD", help="Write this day's block.")
@click.option("--since", default=None, metavar="YYYY-MM-DD", help="Fill missing and sparse days from this day on.")
@click.option("--until", default=None, metavar="YYYY-MM-DD", help="With --since or --all: last day to fill.")
@click.option("--all", "every", is_flag=True, help="Fill every missing and sparse day.")
@click.option("--force", is_flag=True, help="Also write days that are already covered.")
@click.option("--dry-run", is_flag=True, help="Show what would be written; write nothing.")
@click.option("--summarize", is_flag=True, help="Add an LLM narrative to each day written (needs the llm extra).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def backfill(today: bool, on: str | None, since: str | None, until: str | None, every: bool, force: bool,
             dry_run: bool, summarize: bool, as_json: bool, **kw: Any) -> None:
    """Write memory files for days that have sessions but missing or thin memory.

    Example: memory-syncd backfill --all --dry-run
    """
    modes = sum(bool(x) for x in (today, on, since, every))
    if modes != 1:
        raise UsageError("choose exactly one of --today, --date D, --since D, --all")
    if until and not (since or every):
        raise UsageError("--until goes with --since or --all")
    from memory_syncd.backfill import Selection
    from memory_syncd.backfill import run as run_backfill

    sel = Selection(today=today, on=parse_day(on, "--date"), since=parse_day(since, "--since"),
                    until=parse_day(until, "--until"), all=every, force=force)
    target = load_target(kw)
    summaries = summary_source(target, summarize, dry_run)
    indexes = sync.index_agents(target, save=not dry_run, progress=progress_printer())
    with progress_bar() as bar:
        results = run_backfill(target, indexes, sel, today=today_in(target), dry_run=dry_run,
                               summaries=summaries, progress=bar)
    if as_json:
        print_json([{"agent": r.agent, "date": r.day.isoformat(), "messages": r.messages, "before": r.before,
                     "action": r.action, "path": str(r.path) if r.path else None, "bytes": r.bytes}
                    for r in results])
        return
    for r in results:
        where = f"  {r.path}" if r.path else ""
        click.echo(f"{r.day.isoformat()}  {r.agent:<10} {r.messages:>6} msgs  {r.before:<8} -> {r.action}{where}")
    written = sum(r.action in ("created", "updated") for r in results)
    click.echo(f"{len(results)} days considered, {written} written" + (" (dry run)" if dry_run else ""))


def summary_source(target: Target, wanted: bool, dry_run: bool) -> Summaries | None:
    if not wanted:
        return None
    raise LLMUnavailable("--summarize is not available yet in this version")


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


@cli.command("redact")
@click.option("--report", is_flag=True, help="Print counts per secret kind to stderr.")
def redact_cmd(report: bool) -> None:
    """Copy stdin to stdout with secrets replaced by [REDACTED-<KIND>].

    Example: cat notes.md | memory-syncd redact --report
    """
    from memory_syncd.redact import redact_report

    data = sys.stdin.buffer.read().decode("utf-8", "surrogateescape")
    text, counts = redact_report(data)
    sys.stdout.buffer.write(text.encode("utf-8", "surrogateescape"))
    sys.stdout.flush()
    if report:
        if counts:
            for kind, n in sorted(counts.items()):
                click.echo(f"{kind}\t{n}", err=True)
        else:
            click.echo("no secrets found", err=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning user errors into one line on stderr."""
    try:
        cli.main(args=argv, prog_name="memory-syncd", standalone_mode=False)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.exceptions.Abort:
        click.echo("memory-syncd: aborted", err=True)
        sys.exit(130)
    except click.ClickException as e:
        cmd = f" {e.ctx.command.name}" if getattr(e, "ctx", None) and e.ctx and e.ctx.command.name != "cli" else ""
        click.echo(f"memory-syncd{cmd}: {e.format_message()}", err=True)
        sys.exit(e.exit_code)
    except MemorySyncError as e:
        click.echo(f"memory-syncd: {e}", err=True)
        sys.exit(e.exit_code)
    except BrokenPipeError:
        sys.stderr.close()  # `| head` closed the pipe: nothing left to say
        sys.exit(0)
    except KeyboardInterrupt:
        sys.exit(130)
