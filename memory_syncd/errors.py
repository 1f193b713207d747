"""The small error vocabulary users see, and the exit statuses it maps to.

Every error meant for a user derives from `MemorySyncError` and carries a message that names the file and
the fix. `cli.main` turns them into one line on stderr and an exit status; real bugs keep their traceback.

Exit statuses (the whole list; `memory-syncd --help` shows it too):

* 0 — done.
* 1 — something could not be done this time: a day that could not be written, a source that cannot be
  read, another daemon already running (`MemorySyncError`, `SourceError`, `AlreadyRunning`,
  `WriteConflict`, `LLMUnavailable`).
* 2 — wrong flags or arguments (`UsageError`, and Click's own usage errors).
* 3 — `status`: the daemon is not running (`DaemonNotRunning`).
* 78 — configuration or environment to fix by hand (EX_CONFIG; the systemd unit does not restart on it):
  an invalid config file or value, an unknown time zone, a refused file or dir — a symlink where none may
  be, a FIFO or device, a foreign owner, open to others, too big (`ConfigError`, `Refused`).
* 130 — interrupted (Ctrl-C).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

EXIT_STATUSES: dict[int, str] = {
    0: "done",
    1: "something could not be done this time (a day not written, a source unreadable, already running)",
    2: "wrong flags or arguments",
    3: "status: the daemon is not running",
    78: "configuration or environment to fix by hand (bad config value, unknown zone, a refused file or dir)",
    130: "interrupted",
}


class MemorySyncError(Exception):
    """Base for errors whose message is fit for a user. `exit_code` is what the CLI exits with."""

    exit_code = 1


class UsageError(MemorySyncError):
    """A flag or argument the user gave is wrong (bad date, conflicting options)."""

    exit_code = 2


class ConfigError(MemorySyncError):
    """A setting is unreadable or invalid. Lists every problem at once, each with its key path. `what`
    names where the settings came from ("config" for memory-syncd's own file)."""

    exit_code = 78  # EX_CONFIG: service managers are told not to restart on it

    def __init__(self, path: Path | None, problems: Sequence[str], what: str = "config") -> None:
        self.path = path
        self.problems = list(problems)
        where = f"{what} {path}" if path else what
        super().__init__(f"{where}: " + "; ".join(self.problems))


class Refused(MemorySyncError):
    """A file or dir that memory-syncd will not use as it is: a symlink where none may be, a FIFO, device or
    dir in place of a file, a file that is too big, or one owned by someone else or open to others.
    `reason` is one of REASONS; the message names the path and the fix."""

    exit_code = 78  # restarting cannot help: someone has to move or fix the file
    REASONS = ("symlink", "not_regular", "not_dir", "too_big", "foreign", "exposed", "unreadable")

    def __init__(self, path: Path | str, reason: str, detail: str) -> None:
        assert reason in self.REASONS, reason
        self.path = Path(path)
        self.reason = reason
        self.detail = detail
        super().__init__(f"{path}: {detail}")


class SourceError(MemorySyncError):
    """A transcript source (sessions dir, SQLite store, OpenClaw state dir) cannot be used."""


class DaemonNotRunning(MemorySyncError):
    """The control socket does not answer."""

    exit_code = 3


class AlreadyRunning(MemorySyncError):
    """Another daemon holds the state dir's lock."""


class LLMUnavailable(MemorySyncError):
    """The LLM summary cannot be made: package, key or service missing."""


class WriteConflict(MemorySyncError):
    """A memory file kept changing under us; nothing was written."""
