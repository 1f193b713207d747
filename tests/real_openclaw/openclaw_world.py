"""One real OpenClaw install in a temporary home, wired to the fake model server.

Owns everything about running OpenClaw in a test: the temporary HOME, XDG dirs and OPENCLAW_STATE_DIR (the
real home directory is never touched), `openclaw.json` (two models of one OpenAI-compatible provider on
127.0.0.1, the workspace, the time zone, and the gateway on a loopback port), the environment OpenClaw runs
with, single commands (`openclaw agent --local`, gateway-backed turns, `sessions delete`, `system event`,
`cron`, raw gateway calls), and the gateway process's life. OpenClaw 2026.7 asks an operator to approve the
CLI's first request for the admin scope (`scope upgrade pending approval (requestId …)`); `admin` approves
it with `openclaw devices approve <requestId>` and runs the command again, as a user would. Every command
has a timeout and a failure names the command, its output and what the fake model server was asked.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from fake_openai import FakeOpenAI
from openclaw_install import Install

PROVIDER = "fakeai"
ALPHA = "fake-alpha"
BETA = "fake-beta"
PRIMARY = f"{PROVIDER}/{ALPHA}"
SECONDARY = f"{PROVIDER}/{BETA}"
AGENT = "main"
TURN_TIMEOUT = 180.0
T = TypeVar("T")
# OpenClaw 2026.7: "scope upgrade pending approval (requestId: <uuid>)" on stderr.
PENDING_APPROVAL = re.compile(r"pending approval \(requestId: ([0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12})\)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(pred: Callable[[], T], timeout: float, what: str, interval: float = 0.2) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


class World:
    """A temporary OpenClaw home. `root` holds home/, state/ (OPENCLAW_STATE_DIR) and workspace/."""

    def __init__(self, install: Install, root: Path, fake: FakeOpenAI, *, gateway: bool = False) -> None:
        self.install = install
        self.root = root
        self.fake = fake
        self.home = root / "home"
        self.state = root / "state"
        self.workspace = root / "workspace"
        for d in (self.home, self.state, self.workspace):
            d.mkdir(parents=True, exist_ok=True)
        self.port = free_port() if gateway else 0
        self.gateway_proc: subprocess.Popen[bytes] | None = None
        self.gateway_log = root / "gateway.log"
        self.commands: list[tuple[str, float, int]] = []  # (command, seconds, exit code)
        self.approvals: list[str] = []  # request ids approved with `openclaw devices approve`
        self.write_config()

    # --- layout ---

    @property
    def memory_dir(self) -> Path:
        return self.workspace / "memory"

    @property
    def agent_dir(self) -> Path:
        return self.state / "agents" / AGENT / "agent"

    @property
    def store(self) -> Path:
        return self.agent_dir / "openclaw-agent.sqlite"

    @property
    def wal(self) -> Path:
        return self.agent_dir / "openclaw-agent.sqlite-wal"

    @property
    def sessions_dir(self) -> Path:
        return self.state / "agents" / AGENT / "sessions"

    def config(self) -> dict[str, Any]:
        model = {"contextWindow": 128000, "maxTokens": 4096}
        conf: dict[str, Any] = {
            "models": {"providers": {PROVIDER: {
                "baseUrl": self.fake.base_url, "api": "openai-completions", "apiKey": "fake-key-for-tests",
                "models": [{"id": ALPHA, "name": "Fake Alpha", **model}, {"id": BETA, "name": "Fake Beta", **model}],
            }}},
            "agents": {"defaults": {"model": {"primary": PRIMARY}, "workspace": str(self.workspace),
                                    "userTimezone": "UTC"}},
        }
        if self.port:
            conf["gateway"] = {"mode": "local", "bind": "loopback", "port": self.port, "auth": {"mode": "none"}}
        return conf

    def write_config(self) -> None:
        (self.state / "openclaw.json").write_text(json.dumps(self.config(), indent=2))

    def env(self) -> dict[str, str]:
        """The whole environment OpenClaw runs with: nothing of the real home leaks in."""
        env = {
            "PATH": f"{self.install.bin_dir}{os.pathsep}/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.home),
            "OPENCLAW_STATE_DIR": str(self.state),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_STATE_HOME": str(self.home / ".local" / "state"),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            "XDG_DATA_HOME": str(self.home / ".local" / "share"),
            "XDG_RUNTIME_DIR": str(self.home / "run"),
            "TMPDIR": str(self.root / "tmp"),
            "TZ": "UTC",
            "LANG": "C.UTF-8",
            "NO_COLOR": "1",
            # Node's compile cache kept with the install: later runs start faster.
            "NODE_COMPILE_CACHE": str(self.install.root / "node-compile-cache"),
            "OPENCLAW_SKIP_CHANNELS": "1",
            "OPENCLAW_DISABLE_BONJOUR": "1",
            "OPENCLAW_NO_RESPAWN": "1",
        }
        (self.root / "tmp").mkdir(exist_ok=True)
        return env

    # --- commands ---

    def run(self, *args: str, timeout: float = TURN_TIMEOUT, check: bool = True) -> subprocess.CompletedProcess[str]:
        started = time.monotonic()
        try:
            proc = subprocess.run(self.install.argv(*args), env=self.env(), cwd=self.root, capture_output=True,
                                  text=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as e:
            raise AssertionError(f"`openclaw {' '.join(args)}` did not finish in {timeout:g} s; stderr tail:\n"
                                 f"{_tail(e.stderr)}\nmodel server log:\n{self.fake.describe()}"
                                 f"{self.gateway_tail()}") from None
        self.commands.append((" ".join(args)[:100], time.monotonic() - started, proc.returncode))
        if check and proc.returncode != 0:
            raise AssertionError(f"`openclaw {' '.join(args)}` exited {proc.returncode}\nstdout:\n{proc.stdout[-2000:]}"
                                 f"\nstderr:\n{proc.stderr[-3000:]}\nmodel server log:\n{self.fake.describe()}"
                                 f"{self.gateway_tail()}")
        return proc

    def agent_local(self, session_id: str, message: str, model: str | None = None) -> subprocess.CompletedProcess[str]:
        """One embedded turn (`openclaw agent --local`); it owns the state dir while it runs."""
        args = ["agent", "--local", "--session-id", session_id, "--message", message]
        if model:
            args += ["--model", model]
        return self.run(*args)

    def agent_gateway(self, session_key: str, message: str, model: str | None = None) -> dict[str, Any]:
        """One turn through the running gateway; returns its JSON reply. A turn the CLI ran embedded instead
        (it falls back when the gateway refuses, e.g. `--model` before the admin scope is approved) fails."""
        args = ["agent", "--session-key", session_key, "--message", message, "--json"]
        if model:
            args += ["--model", model]
        proc = self.run(*args)
        reply = json.loads(proc.stdout)
        assert isinstance(reply, dict) and reply.get("status") == "ok", \
            f"gateway turn failed: {proc.stdout[-2000:]}\nstderr:\n{proc.stderr[-2000:]}"
        return reply

    def admin(self, *args: str, timeout: float = TURN_TIMEOUT) -> subprocess.CompletedProcess[str]:
        """A command that needs the gateway's admin scope; an approval the gateway asks for is given once."""
        proc = self.run(*args, timeout=timeout, check=False)
        pending = PENDING_APPROVAL.search(proc.stderr + proc.stdout)
        if proc.returncode != 0 and pending:
            self.run("devices", "approve", pending[1], "--json", timeout=60)
            self.approvals.append(pending[1])
            proc = self.run(*args, timeout=timeout, check=False)
        if proc.returncode != 0:
            raise AssertionError(f"`openclaw {' '.join(args)}` exited {proc.returncode}\nstdout:\n{proc.stdout[-2000:]}"
                                 f"\nstderr:\n{proc.stderr[-3000:]}{self.gateway_tail()}")
        return proc

    def gateway_call(self, method: str, params: dict[str, Any]) -> Any:
        """`openclaw gateway call <method> --params <json> --json`: the method's JSON answer."""
        return json.loads(self.admin("gateway", "call", method, "--params", json.dumps(params), "--json").stdout)

    # --- gateway ---

    def start_gateway(self, timeout: float = 120.0) -> None:
        assert self.port, "this world was made without a gateway port"
        with open(self.gateway_log, "wb") as log:
            self.gateway_proc = subprocess.Popen(
                self.install.argv("gateway", "run", "--port", str(self.port), "--bind", "loopback", "--auth", "none"),
                env=self.env(), cwd=self.root, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)

        def healthy() -> bool:
            proc = self.gateway_proc
            assert proc is not None
            if proc.poll() is not None:
                raise AssertionError(f"the gateway exited with {proc.returncode}{self.gateway_tail()}")
            if not _port_open(self.port):
                return False
            r = self.run("health", "--json", timeout=60, check=False)
            try:
                return r.returncode == 0 and json.loads(r.stdout).get("ok") is True
            except ValueError:
                return False

        wait_for(healthy, timeout, f"the gateway on 127.0.0.1:{self.port} to report ok", interval=0.5)

    def stop_gateway(self, timeout: float = 60.0) -> int | None:
        proc = self.gateway_proc
        if proc is None:
            return None
        self.gateway_proc = None
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                return proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                return proc.wait(timeout=10)
        return proc.returncode

    def gateway_tail(self, n: int = 3000) -> str:
        if not self.gateway_log.exists():
            return ""
        return "\ngateway log tail:\n" + self.gateway_log.read_text(errors="replace")[-n:]

    # --- files ---

    def copy_store(self, dest_state: Path, *, with_wal: bool = True) -> Path:
        """Copy the store (and its -wal, never the -shm) into `dest_state`'s agent dir, with a config whose
        workspace is `dest_state/workspace`. Returns the copied store's path."""
        agent = dest_state / "agents" / AGENT / "agent"
        agent.mkdir(parents=True, exist_ok=True)
        (dest_state / "agents" / AGENT / "sessions").mkdir(exist_ok=True)
        data = self.store.read_bytes()  # main file first, then the WAL: as a backup tool would
        wal = self.wal.read_bytes() if with_wal and self.wal.exists() else None
        (agent / self.store.name).write_bytes(data)
        if wal is not None:
            (agent / self.wal.name).write_bytes(wal)
        self.write_config_copy(dest_state)
        return agent / self.store.name

    def write_config_copy(self, dest_state: Path) -> None:
        """This world's `openclaw.json` in `dest_state`, its workspace `dest_state/workspace`, no gateway."""
        conf = self.config()
        conf["agents"]["defaults"]["workspace"] = str(dest_state / "workspace")
        conf.pop("gateway", None)
        dest_state.mkdir(parents=True, exist_ok=True)
        (dest_state / "openclaw.json").write_text(json.dumps(conf, indent=2))

    def close(self) -> None:
        self.stop_gateway()

    def wipe(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _tail(data: str | bytes | None, n: int = 3000) -> str:
    if data is None:
        return ""
    if isinstance(data, bytes):
        data = data.decode(errors="replace")
    return data[-n:]
