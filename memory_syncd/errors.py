"""The small error vocabulary users see.

Every error meant for a user derives from `MemorySyncError` and carries a message that names the file and
the fix. `cli.main` turns them into one line on stderr and an exit code; real bugs keep their traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class MemorySyncError(Exception):
    """Base for errors whose message is fit for a user. `exit_code` is what the CLI exits with."""

    exit_code = 1


class UsageError(MemorySyncError):
    """A flag or argument the user gave is wrong (bad date, conflicting options)."""

    exit_code = 2


class ConfigError(MemorySyncError):
    """The config file is unreadable or invalid. Lists every problem at once, each with its key path."""

    exit_code = 78  # EX_CONFIG: service managers are told not to restart on it

    def __init__(self, path: Path | None, problems: Sequence[str]) -> None:
        self.path = path
        self.problems = list(problems)
        where = f"config {path}" if path else "config"
        super().__init__(f"{where}: " + "; ".join(self.problems))


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
