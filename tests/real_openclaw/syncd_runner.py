"""memory-syncd as a user runs it, pointed at a test's OpenClaw home.

Owns the memory-syncd side of the real-OpenClaw tests: one-shot commands (`compare --json`, `backfill`,
`transitions --json`, `status --json`) and the daemon (`run`) as subprocesses of `python -m memory_syncd`,
with HOME, the XDG dirs, OPENCLAW_STATE_DIR, MEMORY_SYNCD_STATE_DIR and MEMORY_SYNCD_CONFIG all inside the
test's temporary folder; reading the managed block of a memory file; and `AnswerWatch`, which measures how
long after `openclaw agent` returns an answer shows up in the memory file.

Nothing here imports memory-syncd: the tests see it from the outside only.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

REPO = Path(__file__).resolve().parents[2]
BEGIN = "<!-- memory-syncd:begin -->"
END = "<!-- memory-syncd:end -->"
DAY_FILE = re.compile(r"^\d{4}-\d{2}-\d{2}\.md$")
T = TypeVar("T")
AGENTLESS = frozenset({"status"})  # commands that take no --agent
AUTO = re.compile(r"\*Auto-generated from (\d+) session messages\*")


def managed_block(text: str) -> str:
    """The text between memory-syncd's markers ('' when there is no block)."""
    start = text.find(BEGIN)
    end = text.find(END, start + 1)
    return text[start + len(BEGIN):end] if start >= 0 and end > start else ""


class Syncd:
    """memory-syncd for one OpenClaw state dir. Its own state and config live under `root`."""

    def __init__(self, openclaw_state: Path, home: Path, root: Path, agent: str = "main") -> None:
        self.openclaw_state = openclaw_state
        self.home = home
        self.root = root
        self.agent = agent
        self.state = root / "syncd-state"
        self.config = root / "syncd-config.toml"
        root.mkdir(parents=True, exist_ok=True)
        self.config.write_text("# defaults for everything\n")
        self.daemon: subprocess.Popen[bytes] | None = None
        self.daemon_log = root / "daemon.log"

    def env(self) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_STATE_HOME": str(self.home / ".local" / "state"),
            "XDG_RUNTIME_DIR": str(self.home / "run"),
            "OPENCLAW_STATE_DIR": str(self.openclaw_state),
            "MEMORY_SYNCD_STATE_DIR": str(self.state),
            "MEMORY_SYNCD_CONFIG": str(self.config),
            "PYTHONPATH": str(REPO),
            "PYTHONUNBUFFERED": "1",
            "TZ": "UTC",
            "LANG": "C.UTF-8",
        }

    def cli(self, *args: str, check: bool = True, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        """`memory-syncd <command> --agent <id> <args…>` in a fresh interpreter (`status`, which asks the
        daemon and takes no agent, without `--agent`)."""
        cmd, *rest = args
        scope = [] if cmd in AGENTLESS else ["--agent", self.agent]
        argv = [sys.executable, "-m", "memory_syncd", cmd, *scope, *rest]
        proc = subprocess.run(argv, env=self.env(), cwd=self.root, capture_output=True, text=True, timeout=timeout,
                              check=False, stdin=subprocess.DEVNULL)
        if check and proc.returncode != 0:
            raise AssertionError(f"`memory-syncd {' '.join(args)}` exited {proc.returncode}\nstdout:\n"
                                 f"{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}")
        return proc

    def json(self, *args: str) -> Any:
        proc = self.cli(*args)
        try:
            return json.loads(proc.stdout)
        except ValueError as e:
            raise AssertionError(f"`memory-syncd {' '.join(args)}` printed no JSON ({e}):\n{proc.stdout[-2000:]}"
                                 f"\nstderr:\n{proc.stderr[-2000:]}") from None

    # --- the daemon ---

    def start_daemon(self, timeout: float = 60.0) -> None:
        """Start `memory-syncd run --agent <id>`; return once it answers `status`."""
        with open(self.daemon_log, "wb") as log:
            self.daemon = subprocess.Popen([sys.executable, "-m", "memory_syncd", "run", "--agent", self.agent],
                                           env=self.env(), cwd=self.root, stdout=log, stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.daemon.poll() is not None:
                raise AssertionError(f"memory-syncd run exited with {self.daemon.returncode}:\n{self.log_tail()}")
            if self.status() is not None:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"memory-syncd run did not answer status in {timeout:g} s:\n{self.log_tail()}")
            time.sleep(0.2)

    def status(self) -> dict[str, Any] | None:
        """`status --json` of a running daemon; None while it does not answer yet (exit 3, or 1). A usage
        error (exit 2) is a bug in how the test calls it, not a slow daemon: it fails at once."""
        proc = self.cli("status", "--json", check=False, timeout=30)
        if proc.returncode == 2:
            raise AssertionError(f"`memory-syncd status --json` rejected its arguments:\n{proc.stderr[-2000:]}")
        if proc.returncode != 0:
            return None
        try:
            value = json.loads(proc.stdout)
        except ValueError:
            return None
        return value if isinstance(value, dict) and value.get("pid") else None

    def stop_daemon(self, timeout: float = 30.0) -> int | None:
        proc = self.daemon
        if proc is None:
            return None
        self.daemon = None
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGTERM)
            try:
                return proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGKILL)
                return proc.wait(timeout=10)
        return proc.returncode

    def log_tail(self, n: int = 4000) -> str:
        return self.daemon_log.read_text(errors="replace")[-n:] if self.daemon_log.exists() else "(no daemon log)"


@dataclass(frozen=True)
class Failed:
    """A memory-syncd command that failed while a scenario was built; the tests that need it report it."""

    error: str


def attempt(fn: Callable[[], T]) -> T | Failed:
    try:
        return fn()
    except (AssertionError, subprocess.TimeoutExpired) as e:
        return Failed(str(e))


def ok(value: T | Failed) -> T:
    """The command's result, or this test fails with the command's error."""
    if isinstance(value, Failed):
        raise AssertionError(value.error)
    return value


def day_blocks(memory_dir: Path) -> dict[str, str]:
    """Day (YYYY-MM-DD) -> the managed block of memory/<day>.md, for every day file there."""
    out: dict[str, str] = {}
    if not memory_dir.is_dir():
        return out
    for p in memory_dir.iterdir():
        if DAY_FILE.match(p.name):
            with contextlib.suppress(OSError):
                out[p.name[:-3]] = managed_block(p.read_text(errors="replace"))
    return out


@dataclass
class Sample:
    token: str
    returned: float  # monotonic time `openclaw agent` returned
    seen: float | None = None  # first time the token was in a managed block

    @property
    def latency(self) -> float | None:
        return None if self.seen is None else max(0.0, self.seen - self.returned)


@dataclass
class AnswerWatch:
    """Polls the memory dir every `interval` s and notes when each expected answer token first appears in
    a managed block (the block of any day file: a turn near midnight may land on the next day)."""

    memory_dir: Path
    interval: float = 0.02
    samples: list[Sample] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _thread: threading.Thread | None = None

    def start(self) -> AnswerWatch:
        self._thread = threading.Thread(target=self._run, name="answer-watch", daemon=True)
        self._thread.start()
        return self

    def expect(self, token: str) -> Sample:
        """Call right after `openclaw agent` returned with an answer containing `token`."""
        s = Sample(token, time.monotonic())
        with self._lock:
            self.samples.append(s)
        return s

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                pending = [s for s in self.samples if s.seen is None]
            if pending:
                now = time.monotonic()
                text = "\n".join(day_blocks(self.memory_dir).values())
                for s in pending:
                    if s.token in text:
                        s.seen = now
            time.sleep(self.interval)

    def settle(self, timeout: float) -> None:
        """Wait up to `timeout` s for answers not seen yet (a slow daemon still gets measured)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if all(s.seen is not None for s in self.samples):
                    return
            time.sleep(0.05)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def report(self) -> str:
        return ", ".join(f"{s.token}: " + ("never" if s.latency is None else f"{s.latency:.2f}s") for s in self.samples)


def p95(values: list[float]) -> float:
    """The nearest-rank 95th percentile (with 5 samples: the largest)."""
    ordered = sorted(values)
    rank = max(1, -(-95 * len(ordered) // 100))
    return ordered[rank - 1]
