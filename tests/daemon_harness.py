"""Shared helpers for the daemon fault-matrix tests (tests/test_daemon_*.py).

Each test drives the real daemon: `python -m memory_syncd run` as a subprocess, with HOME, the XDG dirs,
OPENCLAW_STATE_DIR, MEMORY_SYNCD_STATE_DIR and --state-dir all inside the test's tmp_path (conftest's
autouse fixture has already pointed HOME and XDG there; the harness passes that environment on). Faults are
applied from outside: file operations, signals, kill -9, SIGSTOP/SIGCONT.

Waiting is always a polling loop with a timeout (`wait_until`), never a fixed long sleep. The timeouts are
generous: these tests check that things happen, the benchmarks check how fast.

Ground truth is what the test wrote: `Messages` makes unique OpenClaw message records stamped "now", so
they land on today (the daemon runs with --timezone UTC).
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from fixtures_openclaw import assistant, dumps, header, user

from memory_syncd.daemon import control
from memory_syncd.errors import DaemonNotRunning

REPO = Path(__file__).resolve().parent.parent
T = TypeVar("T")

# Small timers so every fault is noticed within a second or two.
FAST = {
    "debounce_seconds": 0.05,
    "max_delay_seconds": 0.5,
    "reconcile_seconds": 1.0,
    "checkpoint_seconds": 0.2,
    "poll_seconds": 0.5,
}
AUTO = re.compile(r"\*Auto-generated from (\d+) session messages\*")


def wait_until(pred: Callable[[], T | None], timeout: float = 10.0, what: str = "condition",
               interval: float = 0.05) -> T:
    """Poll `pred` until it returns something truthy; return that. Fail with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what} (last: {value!r})")
        time.sleep(interval)


def now_ms() -> int:
    return int(time.time() * 1000)


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def away_from_midnight(margin: float = 120.0) -> None:
    """Tests count "today's" messages; if UTC midnight is near, wait until it has passed."""
    now = datetime.now(UTC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    left = (midnight - now).total_seconds()
    if left < margin:
        time.sleep(left + 1)


class Messages:
    """Unique user/assistant records stamped now. `written` counts every message line produced."""

    def __init__(self, tag: str = "m") -> None:
        self.tag = tag
        self.written = 0

    def header(self, sid: str) -> bytes:
        return dumps(header(sid, now_ms())) + b"\n"

    def one(self, text: str = "") -> bytes:
        i = self.written
        self.written += 1
        t = now_ms()
        body = text or f"{self.tag} message {i}: we decided to ship step {i}."
        rec = user(t, body) if i % 2 == 0 else assistant(t, body)
        return dumps(rec) + b"\n"

    def lines(self, n: int) -> bytes:
        return b"".join(self.one() for _ in range(n))


def append(path: Path, data: bytes) -> None:
    with open(path, "ab") as f:
        f.write(data)


class Harness:
    """One test's daemon world: sessions, memory and state dirs in tmp_path, and the processes started."""

    def __init__(self, tmp_path: Path) -> None:
        # conftest's autouse fixture has moved HOME into a temp dir; the daemon inherits that environment.
        assert Path(os.environ["HOME"]) != Path(pwd.getpwuid(os.getuid()).pw_dir), "HOME is the real home"
        away_from_midnight()
        self.root = tmp_path
        self.sessions = tmp_path / "sessions"
        self.memory = tmp_path / "memory"
        self.state = tmp_path / "state"
        self.config = tmp_path / "config.toml"
        self.procs: list[subprocess.Popen[bytes]] = []
        self.state_from_config = False  # True: no --state-dir or $MEMORY_SYNCD_STATE_DIR; the config says
        self.logs: list[Path] = []
        self.proc: subprocess.Popen[bytes] | None = None
        self.write_config()

    # -- set-up --

    def write_config(self, extra: str = "", **daemon: float) -> None:
        values = {**FAST, **daemon}
        body = "[daemon]\n" + "".join(f"{k} = {v}\n" for k, v in values.items())
        self.config.write_text(extra + "\n" + body)

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ)  # already isolated by conftest (HOME, XDG_*, no NOTIFY_SOCKET, TZ=UTC)
        env["OPENCLAW_STATE_DIR"] = str(self.root / "openclaw")
        if not self.state_from_config:
            env["MEMORY_SYNCD_STATE_DIR"] = str(self.state)
        env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
        env["PYTHONUNBUFFERED"] = "1"
        env.update(extra or {})
        return env

    def args(self, discovery: bool = False) -> list[str]:
        out = ["--config", str(self.config), "--timezone", "UTC"]
        if not self.state_from_config:
            out += ["--state-dir", str(self.state)]
        if not discovery:
            out += ["--sessions-dir", str(self.sessions), "--memory-dir", str(self.memory)]
        return out

    # -- processes --

    def spawn(self, *extra: str, env: dict[str, str] | None = None, discovery: bool = False,
              command: str = "run") -> subprocess.Popen[bytes]:
        log = self.root / f"daemon-{len(self.logs)}.log"
        self.logs.append(log)
        with open(log, "wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "memory_syncd", command, *self.args(discovery),
                                     *extra], stdout=out, stderr=subprocess.STDOUT, env=self.env(env),
                                    cwd=self.root, start_new_session=True)
        self.procs.append(proc)
        return proc

    def start(self, *extra: str, env: dict[str, str] | None = None, discovery: bool = False,
              wait: bool = True) -> subprocess.Popen[bytes]:
        """Start the daemon; with `wait`, return once it answers status and has caught up."""
        self.proc = self.spawn(*extra, env=env, discovery=discovery)
        if wait:
            self.wait_ready()
        return self.proc

    def wait_ready(self, timeout: float = 20.0) -> dict[str, Any]:
        proc = self.proc
        assert proc is not None

        def ready() -> dict[str, Any] | None:
            if proc.poll() is not None:
                raise AssertionError(f"daemon exited with {proc.returncode}:\n{self.log_text()}")
            s = self.status()
            return s if s and s.get("caught_up") and s.get("pid") == proc.pid else None

        return wait_until(ready, timeout, "the daemon to catch up")

    def status(self) -> dict[str, Any] | None:
        """The daemon's status over the control socket, or None if nothing answers."""
        try:
            return control.request(self.state, {"cmd": "status"}, timeout=2.0)
        except DaemonNotRunning:
            return None

    def must_status(self) -> dict[str, Any]:
        s = self.status()
        assert s is not None, f"daemon not answering:\n{self.log_text()}"
        return s

    def send(self, sig: int) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, sig)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        assert self.proc is not None
        os.kill(self.proc.pid, sig)
        rc = self.proc.wait(timeout=timeout)
        self.proc = None
        return rc

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = None

    def close(self) -> None:
        """Teardown: no daemon outlives its test, whatever happened."""
        for p in self.procs:
            if p.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(p.pid, signal.SIGCONT)  # a SIGSTOPped one must still die
                    os.kill(p.pid, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    p.wait(timeout=10)

    def log_text(self, last: int = 4000) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-last:]}" for p in self.logs if p.exists())

    def cli(self, *args: str, env: dict[str, str] | None = None,
            timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
        """A one-shot `memory-syncd` command in a fresh interpreter, with the daemon's environment."""
        return subprocess.run([sys.executable, "-m", "memory_syncd", *args], capture_output=True, text=True,
                              env=self.env(env), cwd=self.root, timeout=timeout, check=False)

    # -- what the daemon produced --

    def memory_file(self) -> Path:
        return self.memory / f"{today()}.md"

    def auto_count(self) -> int | None:
        """N from `*Auto-generated from N session messages*` in today's memory file (None if absent)."""
        try:
            text = self.memory_file().read_text(errors="replace")
        except FileNotFoundError:
            return None
        found = AUTO.findall(text)
        assert len(found) <= 1, f"more than one generated block:\n{text}"
        return int(found[0]) if found else None

    def wait_count(self, n: int, timeout: float = 15.0) -> dict[str, Any]:
        """Wait until status and today's memory file both say `n` messages; return that status."""

        def both() -> dict[str, Any] | None:
            s = self.status()
            return s if s and s.get("messages_today") == n and self.auto_count() == n else None

        try:
            return wait_until(both, timeout, f"{n} messages in status and memory file")
        except AssertionError as e:
            s = self.status()
            raise AssertionError(f"{e}; status says {s and s.get('messages_today')}, file says "
                                 f"{self.auto_count()}\n{self.log_text()}") from None

    def checkpoint(self) -> dict[str, Any]:
        files = sorted((self.state / "checkpoint").glob("*.json"))
        assert len(files) == 1, files
        value = json.loads(files[0].read_bytes())
        assert isinstance(value, dict)
        return value

    def checkpoint_offsets(self) -> dict[str, tuple[int, bool]]:
        """Checkpointed (offset, skipping) per file name."""
        return {Path(s["path"]).name: (s["offset"], s["skipping"]) for s in self.checkpoint()["sources"].values()}


class Notifications(threading.Thread):
    """An sd_notify receiver: the AF_UNIX datagram socket systemd would listen on."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.2)
        self.got: list[tuple[float, str]] = []
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            self.got.append((time.monotonic(), data.decode()))

    def times(self, line: str) -> list[float]:
        return [t for t, msg in list(self.got) if line in msg.split("\n")]

    def close(self) -> None:
        self.halt.set()
        self.join(timeout=2)
        self.sock.close()


# The harnesses of the test running now: a failed test's report shows their daemons' logs (conftest).
OPEN: list[Harness] = []


@contextlib.contextmanager
def harness(tmp_path: Path) -> Iterator[Harness]:
    h = Harness(tmp_path)
    OPEN.append(h)
    try:
        yield h
    except BaseException:  # used in a test's body (not a fixture): the captured output shows the logs
        print(h.log_text())
        raise
    finally:
        OPEN.remove(h)
        h.close()
