"""The command line: parse flags, call one core function, print. Nothing else lives here.

Every user-facing failure is a `MemorySyncError` (or a Click usage problem) and becomes exactly one line on
stderr in `main`, with the error's exit code; real bugs keep their traceback.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from memory_syncd import __version__, config, jsonio, present, report
from memory_syncd.errors import MemorySyncError, UsageError
from memory_syncd.scope import Target, resolve

if TYPE_CHECKING:
    from memory_syncd.summarize import Send

F = TypeVar("F", bound=Callable[..., Any])
# Readability is checked by the code that opens the file, so its error (and exit code) is ours, not Click's.
PATH = click.Path(path_type=Path, readable=False)


def common_options(f: F) -> F:
    """Options every command accepts after its name."""
    opts = [
        click.option("--config", "config_path", type=PATH, default=None,
                     help="Config file (default: $MEMORY_SYNCD_CONFIG, else ~/.config/memory-syncd/config.toml)."),
        click.option("--agent", "agents", multiple=True, help="Only this agent (repeatable)."),
        click.option("--sessions-dir", type=PATH, default=None,
                     help="Read this sessions dir instead of discovering agents (needs --memory-dir)."),
        click.option("--memory-dir", type=PATH, default=None,
                     help="Write and compare against this memory dir."),
        click.option("--timezone", default=None, help="IANA zone that decides which day a message belongs to."),
        click.option("--state-dir", type=PATH, default=None,
                     help="memory-syncd's own state dir (default: $XDG_STATE_HOME/memory-syncd)."),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def load_config(kw: dict[str, Any]) -> config.Config:
    """The config, with what the common options override (read from `kw`, left there)."""
    overrides = {"timezone": kw["timezone"], "state_dir": str(kw["state_dir"]) if kw["state_dir"] else None,
                 "agents": tuple(a.lower() for a in kw["agents"]) or None}
    return config.load(kw["config_path"], os.environ, overrides)


def load_target(kw: dict[str, Any], *, wait: bool = False) -> Target:
    """Config and agents from the common options (removed from `kw`)."""
    bad = [a for a in kw["agents"] if not config.AGENT_ID.match(a)]
    if bad:
        raise UsageError(f"--agent {config.shown(bad[0])}: not an agent id ({config.AGENT_ID_RULE})")
    cfg = load_config(kw)
    for key in ("timezone", "state_dir", "agents", "config_path"):
        del kw[key]
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
    click.echo(jsonio.encode(value, indent=True).decode())


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=present.exit_statuses())
@click.version_option(__version__, prog_name="memory-syncd")
@click.option("-v", "--verbose", is_flag=True, help="Log what is being done to stderr.")
def cli(verbose: bool) -> None:
    """Keep an OpenClaw agent's daily memory files in step with its session transcripts."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="memory-syncd: %(levelname)s: %(message)s", stream=sys.stderr)
    # APScheduler logs every job run at INFO: far too chatty for a daemon whose jobs tick every second.
    logging.getLogger("apscheduler").setLevel(logging.DEBUG if verbose else logging.WARNING)


@cli.command()
@common_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--include-today", is_flag=True, help="List today too (it is still being written).")
@click.option("--no-daemon", is_flag=True, help="Read the transcripts here even if the daemon runs.")
def compare(as_json: bool, include_today: bool, no_daemon: bool, **kw: Any) -> None:
    """Which days have sessions but missing or sparse memory (answered by the daemon when it runs).

    Example: memory-syncd compare --json
    """
    from memory_syncd.daemon import queries

    target = load_target(kw)
    result = queries.compare(target, include_today=include_today, today=today_in(target),
                             use_daemon=not no_daemon, progress=progress_printer())
    if as_json:
        print_json(result.to_json())
    else:
        click.echo(present.comparison(result))
    warn(present.skipped(result.skipped))


def warn(line: str | None) -> None:
    if line:
        click.echo(line, err=True)


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
    indexes = report.index_agents(target, progress=progress_printer())
    rows = report.transitions(target, indexes, since=day or start, until=day)
    if as_json:
        print_json([r.to_json() for r in rows])
    else:
        click.echo(present.transitions(rows))


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
    send = llm_sender(target) if summarize and not dry_run else None
    indexes = report.index_agents(target, save=not dry_run, progress=progress_printer())
    with present.progress_bar() as bar:
        results = run_backfill(target, indexes, sel, today=today_in(target), dry_run=dry_run,
                               send=send, progress=bar)
    if as_json:
        print_json(present.backfill_json(results))
    else:
        click.echo(present.backfill(results, dry_run))
    failed = sum(r.action == "failed" for r in results)
    if failed:
        raise MemorySyncError(f"{failed} day(s) could not be written (see their notes above)")


def llm_sender(target: Target) -> Send:
    from memory_syncd.summarize import anthropic_sender

    return anthropic_sender(target.cfg.llm)


@cli.command("summarize")
@common_options
@click.option("--date", "on", required=True, metavar="YYYY-MM-DD", help="The day to summarize.")
@click.option("--print", "to_stdout", is_flag=True, help="Print the narrative instead of writing it.")
@click.option("--force", is_flag=True, help="Ask again even if the day's input is unchanged.")
def summarize_cmd(on: str, to_stdout: bool, force: bool, **kw: Any) -> None:
    """Write an LLM narrative of a day into its memory block (needs the llm extra and ANTHROPIC_API_KEY).

    Example: memory-syncd summarize --date 2026-04-13 --print
    """
    from memory_syncd.summarize import summarize_and_write

    day = parse_day(on, "--date")
    assert day is not None
    target = load_target(kw)
    send = llm_sender(target)
    indexes = report.index_agents(target, progress=progress_printer())
    for agent, outcome, written in summarize_and_write(target, indexes, day, send, write=not to_stdout,
                                                       force=force):
        if to_stdout:
            click.echo(outcome.text or "")
            continue
        click.echo(present.summary_written(day, agent, outcome, written))


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


@cli.command()
@common_options
def run(**kw: Any) -> None:
    """Run the daemon in the foreground (what systemd and launchd start). Logs to stderr.

    Example: memory-syncd run --state-dir ~/.local/state/memory-syncd
    """
    from memory_syncd.daemon.run import Daemon

    if not logging.getLogger().isEnabledFor(logging.INFO):
        logging.getLogger().setLevel(logging.INFO)
    for key, value in config.env_file_values(config.default_config_path(os.environ).parent / "env").items():
        os.environ.setdefault(key, value)  # the real environment wins
    args = dict(kw)
    discovering = kw.get("sessions_dir") is None
    target = load_target(kw, wait=True)
    code = Daemon(target, discovering=discovering, reload=lambda: load_target(dict(args), wait=True)).run()
    sys.exit(code)


@cli.command()
@click.option("--config", "config_path", type=PATH, default=None,
              help="Config file (default: $MEMORY_SYNCD_CONFIG, else ~/.config/memory-syncd/config.toml).")
@click.option("--state-dir", type=PATH, default=None,
              help="The daemon's state dir (default: $XDG_STATE_HOME/memory-syncd).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status(config_path: Path | None, state_dir: Path | None, as_json: bool) -> None:
    """Show whether the daemon runs, what it watches and when it last wrote.

    Example: memory-syncd status --json
    """
    from memory_syncd.daemon import control
    from memory_syncd.errors import DaemonNotRunning

    try:
        reply, problem = control.status(config_path, state_dir, os.environ)
    except DaemonNotRunning:
        if as_json:
            print_json({"running": False})
        raise
    if problem is not None:  # the daemon runs on the config it last loaded
        click.echo(f"memory-syncd status: warning: {problem}", err=True)
    if as_json:
        print_json(reply)
    else:
        click.echo(present.status(reply))


@cli.command()
@common_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def doctor(as_json: bool, **kw: Any) -> None:
    """Check the install and say what needs fixing, one line each; exit 1 if anything must be fixed.

    Example: memory-syncd doctor --json
    """
    from memory_syncd import doctor as checks

    cfg = load_config(kw)
    report = checks.run(os.environ, cfg, timezone_flag=kw["timezone"], sessions_dir=kw["sessions_dir"],
                        memory_dir=kw["memory_dir"])
    if as_json:
        print_json(checks.to_json(report))
    else:
        click.echo(checks.render_text(report))
    sys.exit(report.exit_code)


@cli.group()
def service() -> None:
    """Install memory-syncd as a user service (systemd on Linux, launchd on macOS)."""


def _service_kind(systemd: bool, launchd: bool) -> Any:
    from memory_syncd import service as svc

    if systemd and launchd:
        raise UsageError("choose one of --systemd and --launchd")
    return "systemd" if systemd else "launchd" if launchd else svc.detect_platform()


def _service_options(f: F) -> F:
    f = click.option("--launchd", is_flag=True, help="A launchd LaunchAgent (default on macOS).")(f)
    f = click.option("--systemd", is_flag=True, help="A systemd user unit (default on Linux).")(f)
    return f


@service.command("install")
@_service_options
@click.option("--config", "config_path", type=PATH, default=None, help="Config file to run with.")
@click.option("--no-start", is_flag=True, help="Only write the file; do not enable or start the service.")
def service_install(systemd: bool, launchd: bool, config_path: Path | None, no_start: bool) -> None:
    """Write the unit/plist for this installation and enable and start it.

    Example: memory-syncd service install
    """
    from memory_syncd import service as svc

    kind = _service_kind(systemd, launchd)
    conf, created = config.ensure_file(config_path or config.default_config_path(os.environ), os.environ)
    if created:
        click.echo(f"created {conf} (all defaults; see config.example.toml)")
    for line in svc.install(kind, home=Path.home(), exe=svc.resolve_exe(), config=conf, start=not no_start):
        click.echo(line)


@service.command("uninstall")
@_service_options
@click.option("--no-start", "no_stop", is_flag=True, help="Only remove the file; do not stop the service.")
def service_uninstall(systemd: bool, launchd: bool, no_stop: bool) -> None:
    """Stop and disable the service and remove its file.

    Example: memory-syncd service uninstall
    """
    from memory_syncd import service as svc

    for line in svc.uninstall(_service_kind(systemd, launchd), home=Path.home(), stop=not no_stop):
        click.echo(line)


@service.command("print")
@_service_options
@click.option("--config", "config_path", type=PATH, default=None, help="Config file to run with.")
def service_print(systemd: bool, launchd: bool, config_path: Path | None) -> None:
    """Print the unit/plist that `service install` would write.

    Example: memory-syncd service print --systemd
    """
    from memory_syncd import service as svc

    conf = (config_path or config.default_config_path(os.environ)).expanduser().absolute()
    click.echo(svc.render(_service_kind(systemd, launchd), home=Path.home(), exe=svc.resolve_exe(), config=conf),
               nl=False)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning user errors into one line on stderr."""
    args = sys.argv[1:] if argv is None else argv
    if not args:
        click.echo("memory-syncd: missing command (try `memory-syncd --help`)", err=True)
        sys.exit(2)
    try:
        cli.main(args=args, prog_name="memory-syncd", standalone_mode=False)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.exceptions.Abort:
        click.echo("memory-syncd: aborted", err=True)
        sys.exit(130)
    except click.ClickException as e:
        ctx = getattr(e, "ctx", None)
        cmd = f" {ctx.command.name}" if ctx is not None and ctx.command.name != "cli" else ""
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
