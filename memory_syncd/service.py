"""Rendering and installing memory-syncd as an always-on user service: a systemd user unit or a launchd agent.

Owns the step from the committed templates (`systemd/memory-syncd.service`,
`launchd/io.memorysyncd.daemon.plist`) to an installed, running service: filling in this installation's
absolute executable and config path, writing the file where the service manager looks, and driving
`systemctl --user` or `launchctl`. It owns neither the daemon nor the config.

Invariants:
- Rendering is pure: the same executable, config and home give the same bytes.
- Writes are atomic (temp file, fsync, rename, fsync of the directory) and skipped when the bytes would not
  change; parent directories are created.
- Every service-manager command goes through the `run` seam (by default `subprocess.run`), and any failure
  becomes one `MemorySyncError` line naming the command and what to do next.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal, Protocol
from xml.sax.saxutils import escape as xml_escape

from memory_syncd import safeio, statefile
from memory_syncd.errors import MemorySyncError, UsageError

Kind = Literal["systemd", "launchd"]
KINDS: tuple[Kind, ...] = ("systemd", "launchd")
UNIT_NAME = "memory-syncd.service"
LABEL = "io.memorysyncd.daemon"
PLIST_NAME = f"{LABEL}.plist"

# Directories a LaunchAgent's PATH gets after the executable's own: Homebrew (Apple silicon, then Intel)
# before the system's, because agents start with only /usr/bin:/bin:/usr/sbin:/sbin.
_LAUNCHD_PATH = ("/opt/homebrew/bin", "/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin")
_TEMPLATE_FILES: dict[Kind, tuple[str, str]] = {
    "systemd": ("systemd", UNIT_NAME),
    "launchd": ("launchd", PLIST_NAME),
}
_NO_SERVICE = "start the daemon in the foreground with `memory-syncd run` instead"


class Runner(Protocol):
    """What `install`/`uninstall` call to run a command; `subprocess.run` fits."""

    def __call__(
        self, args: list[str], *, capture_output: bool, text: bool, check: bool
    ) -> subprocess.CompletedProcess[str]: ...


def detect_platform(platform: str | None = None) -> Kind:
    """Return the service manager for `platform` (default `sys.platform`): launchd on macOS, else systemd.

    Raise `UsageError` on Windows, which has neither.
    """
    platform = sys.platform if platform is None else platform
    if platform == "darwin":
        return "launchd"
    if platform.startswith(("win", "cygwin", "msys")):
        raise UsageError(f"no supported service manager on {platform}; {_NO_SERVICE}")
    return "systemd"


def resolve_exe() -> list[str]:
    """Return the argv prefix that starts this installation's memory-syncd, with an absolute path first.

    Prefer the `memory-syncd` script next to `sys.executable` (the same venv), then the one on PATH, else
    `<sys.executable> -m memory_syncd`. Symlinks are kept: resolving a venv's python would leave the venv.
    """
    beside = Path(os.path.abspath(sys.executable)).parent / "memory-syncd"
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    found = shutil.which("memory-syncd")
    if found:
        return [os.path.abspath(found)]
    return [os.path.abspath(sys.executable), "-m", "memory_syncd"]


def target_path(kind: Kind, home: Path, env: Mapping[str, str] | None = None) -> Path:
    """Return where the service manager looks for our file.

    systemd: `$XDG_CONFIG_HOME/systemd/user/memory-syncd.service`, with `home/.config` when XDG_CONFIG_HOME
    is unset or relative (as the XDG spec says); `env` defaults to `os.environ`, read at call time.
    launchd: `home/Library/LaunchAgents/io.memorysyncd.daemon.plist`.
    """
    _check_kind(kind)
    if kind == "launchd":
        return home / "Library" / "LaunchAgents" / PLIST_NAME
    xdg = (os.environ if env is None else env).get("XDG_CONFIG_HOME", "")
    config_home = Path(xdg) if os.path.isabs(xdg) else home / ".config"
    return config_home / "systemd" / "user" / UNIT_NAME


def log_path(home: Path) -> Path:
    """Return the file a LaunchAgent's stdout and stderr go to."""
    return home / "Library" / "Logs" / "memory-syncd" / "memory-syncd.log"


SHIPPED_EXEC = "%h/.local/bin/memory-syncd run"  # the shipped unit's command: pipx's and uv's default place


def render(kind: Kind, *, home: Path, exe: str | Path | Sequence[str], config: Path) -> str:
    """Return the unit (systemd) or plist (launchd) text for this executable and config.

    Relative paths are made absolute against the current directory. Raise `UsageError` for an argument
    the file cannot hold (a newline) or a relative executable.
    """
    _check_kind(kind)
    argv = _argv(exe)
    conf = str(Path(config).expanduser().absolute())
    for value in (*argv, conf, str(home)):
        if "\n" in value or "\r" in value or "\0" in value:
            raise UsageError(f"cannot put {value!r} in a service file: it contains a line break or NUL")
    text = _template(kind)
    if kind == "systemd":
        exec_start = " ".join(map(_systemd_quote, argv)) + " run --config " + _systemd_quote(conf)
        return _fill(text, {f"ExecStart={SHIPPED_EXEC}": f"ExecStart={exec_start}"})
    exe_xml = "\n    ".join(f"<string>{xml_escape(arg)}</string>" for arg in argv)
    dirs = dict.fromkeys((os.path.dirname(argv[0]), *_LAUNCHD_PATH))  # ordered, without duplicates
    return _fill(
        text,
        {
            "<string>@EXEC@</string>": exe_xml,
            "@CONFIG@": xml_escape(conf),
            "@LOGFILE@": xml_escape(str(log_path(home.absolute()))),
            "@PATH@": xml_escape(":".join(dirs)),
        },
    )


def install(
    kind: Kind,
    *,
    home: Path,
    exe: str | Path | Sequence[str],
    config: Path,
    start: bool,
    run: Runner = subprocess.run,
) -> list[str]:
    """Write the rendered service file where the manager looks and, if `start`, enable and start it.

    Return the actions done, one human-readable line each, ending with how to check the service.
    Raise `UsageError` if the executable does not exist, or if `start` and the config file does not (the
    daemon treats a missing named config as a config error); `MemorySyncError` if a command fails.
    """
    text = render(kind, home=home, exe=exe, config=config)
    argv0 = _argv(exe)[0]
    if not (os.path.isfile(argv0) and os.access(argv0, os.X_OK)):
        raise UsageError(f"executable {argv0} does not exist or is not executable; reinstall memory-syncd")
    conf = Path(config).expanduser().absolute()
    if start and not conf.exists():
        raise UsageError(
            f"config {conf} does not exist, and `memory-syncd run --config` stops on a missing file (exit 78): "
            "create it first (an empty file means all defaults), or install with --no-start"
        )
    path = target_path(kind, home)
    existed = path.exists()
    changed = write_atomic(path, text)
    actions = [f"{'wrote' if changed else 'unchanged'} {path}"]
    if not conf.exists():
        actions.append(f"note: config {conf} does not exist yet; create it before starting the service")
    if kind == "systemd":
        commands = [_systemctl("daemon-reload"), _systemctl("enable", "--now", UNIT_NAME)]
        check = "systemctl --user status memory-syncd"
    else:
        logs = log_path(home.absolute()).parent
        if not logs.is_dir():  # launchd does not start a job whose log directory is missing
            logs.mkdir(parents=True)
            actions.append(f"created {logs}")
        commands = [
            ["launchctl", "enable", _service_target()],
            ["launchctl", "bootstrap", _domain(), str(path)],
        ]
        check = f"launchctl print {_service_target()}"
    if not start:
        how = " && ".join(map(shlex.join, commands))
        return [*actions, f"not started; to start it: {how}", f"check it with: {check}"]
    if kind == "systemd" and changed and existed:
        commands.insert(1, _systemctl("try-restart", UNIT_NAME))  # a running daemon keeps the old unit
    if kind == "launchd" and _launchd_loaded(run):
        commands.insert(0, ["launchctl", "bootout", _service_target()])  # bootstrap refuses a loaded job
    actions += [_run(kind, run, cmd) for cmd in commands]
    if kind == "systemd" and _linger_off(run):
        actions.append(
            "note: lingering is off, so the daemon stops when you log out; "
            "keep it running with: loginctl enable-linger $USER"
        )
    return [*actions, f"check it with: {check}"]


def uninstall(kind: Kind, *, home: Path, stop: bool = True, run: Runner = subprocess.run) -> list[str]:
    """Stop and disable the service (unless `stop` is False), then remove its file. A missing file is fine.

    Return the actions done. Raise `MemorySyncError` if a command fails. launchd logs are kept.
    """
    path = target_path(kind, home)
    actions: list[str] = []
    if stop and kind == "launchd" and _launchd_loaded(run):  # a loaded job outlives its deleted plist
        actions.append(_run(kind, run, ["launchctl", "bootout", _service_target()]))
    if not path.exists():
        return [*actions, f"nothing to remove at {path}"]
    if stop and kind == "systemd":
        actions.append(_run(kind, run, _systemctl("disable", "--now", UNIT_NAME)))
    path.unlink(missing_ok=True)
    actions.append(f"removed {path}")
    if stop and kind == "systemd":
        actions.append(_run(kind, run, _systemctl("daemon-reload")))
    if kind == "launchd":
        actions.append(f"logs kept in {log_path(home.absolute()).parent}")
    return actions


def write_atomic(path: Path, text: str) -> bool:
    """Replace `path` with `text` (mode 0644) atomically, creating parent dirs. Return False if unchanged."""
    data = text.encode("utf-8")
    if safeio.read(path, limit=1 << 20, follow=True) == data:  # a FIFO or device there is refused, not read
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    # Service files are not secret, and launchd refuses a plist that is group- or world-writable.
    statefile.write_bytes(path, data, mode=0o644)
    return True


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise UsageError(f"unknown service manager {kind!r}; use one of: {', '.join(KINDS)}")


def _argv(exe: str | Path | Sequence[str]) -> list[str]:
    argv = [str(exe)] if isinstance(exe, str | Path) else [str(arg) for arg in exe]
    if not argv or not os.path.isabs(argv[0]):
        raise UsageError(f"the service needs an absolute path to memory-syncd, got {argv[:1]}")
    return argv


def _template(kind: Kind) -> str:
    """Read the committed template: from the source tree, else from a wheel's data files."""
    subdir, name = _TEMPLATE_FILES[kind]
    candidates = [
        Path(__file__).resolve().parent.parent / subdir / name,
        Path(sys.prefix) / "share" / "memory-syncd" / subdir / name,
    ]
    for candidate in candidates:
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    looked = ", ".join(map(str, candidates))
    raise MemorySyncError(f"service template {name} not found (looked in {looked}); reinstall memory-syncd")


def _fill(template: str, values: Mapping[str, str]) -> str:
    for placeholder, value in values.items():
        if placeholder not in template:  # a template edit dropped it: fail loudly, not half-rendered
            raise MemorySyncError(f"service template lacks {placeholder}; reinstall memory-syncd")
        template = template.replace(placeholder, value)
    return template


def _systemd_quote(arg: str) -> str:
    """Quote one ExecStart argument: `%` starts a specifier and `$` a variable, so both are doubled."""
    arg = arg.replace("%", "%%").replace("$", "$$")
    if arg and not any(c.isspace() or c in "\"'\\;" for c in arg):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _systemctl(*args: str) -> list[str]:
    return ["systemctl", "--user", *args]


def _domain() -> str:
    return f"gui/{os.getuid()}"


def _service_target() -> str:
    return f"{_domain()}/{LABEL}"


def _launchd_loaded(run: Runner) -> bool:
    """True if launchd knows our job; `launchctl print` exits non-zero (113) for an unknown one."""
    cmd = ["launchctl", "print", _service_target()]
    try:
        return run(cmd, capture_output=True, text=True, check=False).returncode == 0
    except FileNotFoundError as exc:
        raise MemorySyncError(f"launchctl not found: launchd runs only on macOS; {_NO_SERVICE}") from exc


def _linger_off(run: Runner) -> bool:
    """True only if loginctl positively says lingering is off; any failure to ask counts as unknown."""
    cmd = ["loginctl", "show-user", str(os.getuid()), "--property=Linger", "--value"]
    try:
        proc = run(cmd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        return False
    return proc.returncode == 0 and proc.stdout.strip() == "no"


def _run(kind: Kind, run: Runner, cmd: list[str]) -> str:
    """Run a service-manager command and return its action line; raise MemorySyncError if it fails."""
    try:
        proc = run(cmd, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        where = "systemd (Linux)" if kind == "systemd" else "launchd (macOS)"
        raise MemorySyncError(f"{cmd[0]} not found: this system does not run {where}; {_NO_SERVICE}") from exc
    if proc.returncode == 0:
        return f"ran: {shlex.join(cmd)}"
    why = _reason(proc.stderr or proc.stdout or "")
    if kind == "systemd" and ("Failed to connect to bus" in why or "not been booted with systemd" in why):
        raise MemorySyncError(
            f"systemctl --user is not available ({why}): no user service manager is running for you; "
            "log in to a session that has one or run `loginctl enable-linger $USER`; "
            f"or use --no-start to leave systemctl out and {_NO_SERVICE}"
        )
    if kind == "systemd":
        fix = "see `systemctl --user status memory-syncd` and `journalctl --user -u memory-syncd`"
    else:
        fix = "check the plist with `plutil -lint` and the log in ~/Library/Logs/memory-syncd"
    raise MemorySyncError(f"`{shlex.join(cmd)}` failed (exit {proc.returncode}: {why}); {fix}")


def _reason(output: str) -> str:
    """The informative line of a failed command's output: the first that says what failed, else the last.

    systemctl and launchctl end with advice lines ("See ... for details", "Try re-running ... as root").
    """
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    said = [line for line in lines if "fail" in line.lower() or "error" in line.lower()]
    if said:
        return said[0]
    return lines[-1] if lines else "no output"
