"""Benchmark of the daemon (`memory-syncd run`) as a real subprocess on a realistic corpus. Prints figures;
asserts nothing.

    python bench/bench_daemon.py [--size-mb 500] [--reuse] [--quick] [--samples 50] [--starts 3] [--keep]
    python bench/bench_daemon.py --reuse --hide-anthropic --env MALLOC_ARENA_MAX=2    # a what-if run

Every daemon runs as `memory-syncd run --config C --state-dir S --timezone UTC`, with HOME=<tmp>,
OPENCLAW_STATE_DIR=<a working copy of the corpus>, MEMORY_SYNCD_STATE_DIR=S, NOTIFY_SOCKET=<ours> and a
config file that sets every `[daemon]` key to its built-in default (read from `memory_syncd.config`). The
working copy hard-links the transcripts of a corpus made by bench/corpus.py (cached in bench/out/, which git
ignores) and copies everything else, with openclaw.json pointing the workspaces into the copy, so the
daemon's memory files and the transcript we append to never touch the cached corpus.

What it measures (each target, from the brief and shared/docs/reliability.md section 8, is listed with
"meets" or "MISSES" at the end; nothing fails when one is missed):

1. append -> memory file latency: a new session file for agent `main` gets one message line at a time
   (`message.timestamp` = now, written with a single O_APPEND write). The clock starts just before the
   write and stops when `<workspace>/memory/<today UTC>.md` says `Auto-generated from N session messages`
   with N including that message (an inotify watch on the memory dir, backed by a 50 ms poll). Samples are
   0.6-1.6 s apart after each is seen, so the 0.5 s debounce resets every time, and they drift across the
   5 s checkpoint and 30 s reconcile timers. The first samples (warm-up) are dropped. Printed beside it:
   the part above the debounce (the daemon's own work) and the daemon's CPU time per append (utime+stime
   over the whole sampling run, idle gaps and 5 s checkpoints included).
2. the same with a tiny history (a 2 MB corpus), and big/tiny ratios: of the p95s (the target), of the
   p50s above the debounce, and of the CPU per append (the debounce hides growth the CPU figure shows).
3. cold catch-up on the big corpus (`--starts` times, each on an empty state dir, page cache warm, until
   `status` says `caught_up`), with the time until the control socket answers and until READY=1 arrives on
   NOTIFY_SOCKET, and the socket status latency while catching up ("under ingest load"); after the rest,
   graceful stops and warm restarts (same state dir: the checkpoint) timed the same way.
4. idle CPU over a minute (utime + stime of all threads from /proc/<pid>/stat) and wake-ups per second
   (context switches summed over /proc/<pid>/task/*/status).
5. memory of the daemon with the big history: VmRSS and VmHWM after the cold catch-up, after the latency
   run and idle minute, and after a warm restart.
6. `status` latency: `memory-syncd status --json` as a subprocess (with the bytecode cache an installed
   package has, PYTHONPYCACHEPREFIX=bench/out/pycache; a few without it too) and as a raw request on
   `<S>/run/control.sock`.
7. warm `compare --json` as a subprocess, answered by the daemon over its socket (issue 14: within 1.3x of
   `memory-syncd --version`, medians, interleaved runs); and after the daemon stopped, with the CLI's own
   warm cache (within 2x).

The machine (CPU, cores, Python, library versions), the load average before and after, and the package's
commit (plus how many of its files differ from it) are printed first: other work on the machine shows up
in these figures, and the package may be changing under the benchmark.

What-if flags change only the daemons' environment, never the package: `--env KEY=VALUE` (for example a
glibc malloc tunable) and `--hide-anthropic` (a failing `anthropic` module first on PYTHONPATH, as on an
install without the llm extra).

Every daemon started here is stopped at the end (SIGTERM, then SIGKILL), also on Ctrl-C or SIGTERM, and
gets PR_SET_PDEATHSIG so it dies with this script even if this script is killed outright. `--quick` is a
smoke run: a 20 MB corpus, 12 samples, one start, a 10 s idle window, 20 status calls. Results are saved to
bench/out/bench_daemon-last.json; the working copies are deleted unless `--keep`.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import ctypes
import json
import math
import os
import platform
import random
import re
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
PYCACHE = OUT / "pycache"
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402  (bench/ is not a package)
import targets  # noqa: E402

ENV_KEYS_TO_DROP = ("OPENCLAW_CONFIG_PATH", "OPENCLAW_HOME", "MEMORY_SYNCD_CONFIG", "MEMORY_SYNCD_STATE_DIR",
                    "MEMORY_SYNCD_TIMEZONE", "PYTHONDONTWRITEBYTECODE", "NOTIFY_SOCKET", "WATCHDOG_USEC",
                    "WATCHDOG_PID", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "TZ")
COUNT = re.compile(rb"\*Auto-generated from (\d+) session messages\*")
CLK_TCK = os.sysconf("SC_CLK_TCK")
TINY_MB, TINY_DAYS = 2.0, 7  # the small history of figure 2 (same agents and seed as the big one)
WARMUP = 3  # latency samples dropped at the start of each run (first imports, first flush)


# --- machine and corpus ---


def machine() -> dict[str, str]:
    model = platform.processor() or "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    mem = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    try:
        import orjson

        orjson_version = orjson.__version__
    except ImportError:
        orjson_version = "not installed"
    versions = []
    for mod in ("watchdog", "apscheduler"):
        try:
            from importlib.metadata import version

            versions.append(f"{mod} {version(mod)}")
        except Exception:
            versions.append(f"{mod} ?")
    return {"cpu": model, "cores": f"{os.cpu_count()} ({usable} usable)", "memory": mem,
            "python": f"{platform.python_implementation()} {platform.python_version()}",
            "libraries": f"orjson {orjson_version}, " + ", ".join(versions), "os": platform.platform()}


def corpus_dir(size_mb: float, days: int, agents: int, seed: int) -> Path:
    return OUT / f"corpus-{size_mb:g}mb-{days}d-{agents}a-s{seed}"  # the naming bench_compare.py uses


def ensure_corpus(size_mb: float, days: int, agents: int, seed: int, reuse: bool) -> tuple[Path, dict[str, Any]]:
    path = corpus_dir(size_mb, days, agents, seed)
    meta = path / ".corpus.json"
    if reuse and meta.exists():
        stats = json.loads(meta.read_text())
        wanted = {"size_mb": size_mb, "days": days, "agents": agents, "seed": seed}
        if stats.get("generator_version") == corpus.GENERATOR_VERSION and \
                all(stats["params"].get(k) == v for k, v in wanted.items()):
            log(f"reusing corpus {path}")
            return path, stats
    log(f"generating corpus {path} ({size_mb:g} MB) ...")
    return path, corpus.generate(path, size_mb, days, agents, seed)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --- the working copy: the corpus as the daemon sees it, safe to write into ---


@dataclass
class Work:
    root: Path  # everything below is inside it
    openclaw: Path  # OPENCLAW_STATE_DIR
    home: Path
    config: Path
    transcript_bytes: int
    transcript_files: int

    def memory_dir(self, agent_dir: str = "workspace") -> Path:
        return self.openclaw / agent_dir / "memory"


def daemon_defaults() -> dict[str, float]:
    from memory_syncd.config import DaemonConfig

    d = DaemonConfig()
    return {f.name: getattr(d, f.name) for f in fields(d)}


def make_work(src: Path, label: str) -> Work:
    """A copy of the corpus `src` under bench/out/: transcripts hard-linked (read only by the daemon),
    the rest copied, openclaw.json rewritten to point at the copy's workspaces."""
    root = Path(tempfile.mkdtemp(prefix=f"daemon-{label}-", dir=OUT))
    dst = root / "oc"
    src = src.resolve()
    files = size = 0

    def copy(s: str, d: str) -> None:
        nonlocal files, size
        p = Path(s)
        if p.parent.name == "sessions" and ".jsonl" in p.name:
            os.link(s, d)  # never written to: we append only to a file of our own
            if ".checkpoint." not in p.name:
                files += 1
                size += p.stat().st_size
        else:
            shutil.copy2(s, d)

    shutil.copytree(src, dst, copy_function=copy, symlinks=True)
    conf = (dst / "openclaw.json").read_text().replace(str(src), str(dst))
    (dst / "openclaw.json").write_text(conf)
    home = root / "home"
    home.mkdir()
    config = root / "config.toml"
    config.write_text("# every [daemon] key at its built-in default (memory_syncd.config.DaemonConfig)\n[daemon]\n"
                      + "".join(f"{k} = {v!r}\n" for k, v in daemon_defaults().items()))
    return Work(root, dst, home, config, size, files)


def warm_page_cache(work: Work) -> None:
    for p in (work.openclaw / "agents").glob("*/sessions/*"):
        if p.is_file():
            with open(p, "rb") as f:
                while f.read(1 << 24):
                    pass


# --- /proc readings ---


def cpu_ticks(pid: int) -> int:
    """utime + stime of the whole process (all threads), in clock ticks."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    rest = raw[raw.rindex(")") + 2:].split()  # fields from 3 (state) on
    return int(rest[11]) + int(rest[12])  # fields 14 and 15


def ctx_switches(pid: int) -> int:
    """Voluntary + involuntary context switches summed over the live threads."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            for line in (task / "status").read_text().splitlines():
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    total += int(line.split()[1])
    return total


def mem_kib(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key = line.split(":", 1)[0]
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "Threads"):
            out[key] = int(line.split()[1])
    return out


def fmt_mem(m: dict[str, int]) -> str:
    return (f"VmRSS {m['VmRSS'] / 1024:6.1f} MiB (anon {m['RssAnon'] / 1024:.1f}), VmHWM {m['VmHWM'] / 1024:6.1f} MiB, "
            f"{m['Threads']} threads")


# --- the daemon process ---

LIVE: dict[int, subprocess.Popen[bytes]] = {}


def _stop_all() -> None:
    for proc in list(LIVE.values()):
        stop_process(proc, timeout=5.0)


def _pdeathsig() -> None:  # runs in the child between fork and exec: only an async-signal-safe syscall
    with contextlib.suppress(Exception):
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> float | None:
    """SIGTERM, wait up to `timeout`, then SIGKILL; the seconds a graceful stop took (None if killed)."""
    LIVE.pop(proc.pid, None)
    if proc.poll() is not None:
        return 0.0
    t0 = time.perf_counter()
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
        return time.perf_counter() - t0
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None


def cli_command() -> list[str]:
    script = Path(sys.executable).with_name("memory-syncd")
    return [str(script)] if script.exists() else [sys.executable, "-m", "memory_syncd"]


DAEMON_ENV: dict[str, str] = {}  # --env KEY=VALUE: added to the daemons' environment (what-if runs)


def hide_module(name: str) -> str:
    """A directory holding a module `name` that fails to import, to put first on PYTHONPATH."""
    shadow = Path(tempfile.gettempdir()) / f"memory-syncd-bench-no-{name}"
    shadow.mkdir(exist_ok=True)
    (shadow / f"{name}.py").write_text(f'raise ImportError("{name} hidden by bench_daemon.py")\n')
    return str(shadow)


def base_env(work: Work, state: Path, *, bytecode: bool = True, daemon: bool = False) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS_TO_DROP}
    env.update(HOME=str(work.home), OPENCLAW_STATE_DIR=str(work.openclaw), MEMORY_SYNCD_STATE_DIR=str(state))
    if daemon:
        for k, v in DAEMON_ENV.items():
            if k == "PYTHONPATH":
                v = os.pathsep.join(filter(None, [v, env.get("PYTHONPATH", "")]))
            env[k] = v
    if bytecode:
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def socket_request(state: Path, req: dict[str, Any], timeout: float = 5.0) -> dict[str, Any]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(str(state / "run" / "control.sock"))
        s.sendall(json.dumps(req).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    reply: dict[str, Any] = json.loads(data)
    return reply


@dataclass
class Start:
    """How one start went, in seconds from Popen."""

    socket: float | None = None  # the control socket first answered
    ready: float | None = None  # READY=1 arrived on NOTIFY_SOCKET
    caught_up: float | None = None  # status said caught_up
    status_ms: list[float] = field(default_factory=list)  # socket status latencies while catching up
    status_failures: int = 0
    status: dict[str, Any] = field(default_factory=dict)  # the first caught-up status
    stopped: float | None = None  # how long the graceful stop after it took (None: not stopped here, or killed)


class Daemon:
    def __init__(self, work: Work, state: Path, name: str) -> None:
        self.work, self.state, self.name = work, state, name
        self.log_path = work.root / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 600.0, poll: float = 0.025) -> Start:
        """Start and wait until caught up, polling status on the socket every `poll` seconds."""
        notify_path = self.work.root / "notify.sock"
        with contextlib.suppress(FileNotFoundError):
            notify_path.unlink()
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(str(notify_path))
        env = base_env(self.work, self.state, daemon=True)
        env["NOTIFY_SOCKET"] = str(notify_path)
        cmd = [*cli_command(), "run", "--config", str(self.work.config), "--state-dir", str(self.state),
               "--timezone", "UTC"]
        out = Start()
        with open(self.log_path, "ab") as logf:
            t0 = time.perf_counter()
            self.proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                                         preexec_fn=_pdeathsig)  # no threads of ours run: safe
        LIVE[self.proc.pid] = self.proc
        try:
            while True:
                now = time.perf_counter() - t0
                if now > timeout:
                    raise SystemExit(f"{self.name}: not caught up after {timeout:.0f} s; see {self.log_path}")
                if self.proc.poll() is not None:
                    raise SystemExit(f"{self.name}: exited with {self.proc.returncode}; see {self.log_path}:\n"
                                     + self.log_path.read_text(errors="replace")[-3000:])
                readable, _, _ = select.select([notify], [], [], poll)
                if readable:
                    msg = notify.recv(4096)
                    if b"READY=1" in msg and out.ready is None:
                        out.ready = time.perf_counter() - t0
                    continue
                a = time.perf_counter()
                try:
                    st = socket_request(self.state, {"cmd": "status"}, timeout=10.0)
                except (OSError, ValueError):
                    if out.socket is not None:
                        out.status_failures += 1
                    continue
                b = time.perf_counter()
                if out.socket is None:
                    out.socket = b - t0
                if st.get("caught_up"):
                    out.caught_up = b - t0
                    out.status = st
                    break
                out.status_ms.append((b - a) * 1000)
            # READY=1 is sent just after caught_up is published: give it a moment
            deadline = time.perf_counter() + 2.0
            while out.ready is None and time.perf_counter() < deadline:
                if select.select([notify], [], [], 0.05)[0] and b"READY=1" in notify.recv(4096):
                    out.ready = time.perf_counter() - t0
        finally:
            notify.close()
        return out

    def status(self) -> dict[str, Any]:
        return socket_request(self.state, {"cmd": "status"})

    def stop(self) -> float | None:
        if self.proc is None:
            return None
        took = stop_process(self.proc)
        self.proc = None
        return took


# --- the memory file and the transcript we append to ---


class DirWatch:
    """inotify on one directory (ctypes; no dependency), so a rewrite of the memory file is seen at once.
    Without inotify, `wait` just sleeps for its timeout and the caller's re-check is a poll."""

    IN_MODIFY, IN_CLOSE_WRITE, IN_MOVED_TO, IN_CREATE = 0x2, 0x8, 0x80, 0x100

    def __init__(self, path: Path) -> None:
        self.fd = -1
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
            if fd >= 0 and libc.inotify_add_watch(fd, os.fsencode(path), self.IN_MODIFY | self.IN_CLOSE_WRITE
                                                  | self.IN_MOVED_TO | self.IN_CREATE) >= 0:
                self.fd = fd
            elif fd >= 0:
                os.close(fd)
        except (OSError, AttributeError):
            self.fd = -1

    def drain(self) -> None:
        if self.fd >= 0:
            with contextlib.suppress(BlockingIOError):
                while os.read(self.fd, 65536):
                    pass

    def wait(self, timeout: float) -> None:
        if self.fd < 0:
            time.sleep(timeout)
            return
        if select.select([self.fd], [], [], timeout)[0]:
            self.drain()

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def memory_count(path: Path) -> int | None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    m = COUNT.search(data)
    return int(m.group(1)) if m else None


def iso_ms(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


class Transcript:
    """A session of agent `main` started today, written the way OpenClaw writes (one line per entry)."""

    def __init__(self, sessions_dir: Path, rng: random.Random) -> None:
        self.rng = rng
        self.id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        self.path = sessions_dir / f"{self.id}.jsonl"
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
        self.parent: str | None = None
        self.n = 0
        now = int(time.time() * 1000)
        self._write({"type": "session", "version": 3, "id": self.id, "timestamp": iso_ms(now),
                     "cwd": "/home/maya/.openclaw/workspace"})
        self._write({"type": "model_change", "id": self._eid(), "parentId": None, "timestamp": iso_ms(now),
                     "provider": "anthropic", "modelId": "claude-opus-4-6"})

    def _eid(self) -> str:
        return f"{self.rng.getrandbits(32):08x}"

    def _write(self, entry: dict[str, Any]) -> None:
        os.write(self.fd, json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")

    def message_line(self) -> bytes:
        """The next message (user and assistant turns alternate), unique by its text."""
        self.n += 1
        now = int(time.time() * 1000)
        words = corpus._WORDS
        text = f"[{self.n} {self.rng.getrandbits(64):016x}] " + " ".join(
            self.rng.choices(words, k=self.rng.randint(40, 200)))
        if self.n % 2:
            msg: dict[str, Any] = {"role": "user", "content": [{"type": "text", "text": text}], "timestamp": now}
        else:
            msg = {"role": "assistant", "content": [{"type": "text", "text": text}], "api": "anthropic-messages",
                   "provider": "anthropic", "model": "claude-opus-4-6",
                   "usage": {"input": 2682, "output": 189, "cacheRead": 322, "cacheWrite": 1767, "totalTokens": 4960,
                             "cost": {"input": 0.0134, "output": 0.0047, "cacheRead": 0.0002, "cacheWrite": 0.011,
                                      "total": 0.0293}},
                   "stopReason": "stop", "timestamp": now}
        eid = self._eid()
        entry = {"type": "message", "id": eid, "parentId": self.parent, "timestamp": iso_ms(now), "message": msg}
        self.parent = eid
        return json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"

    def append(self, line: bytes) -> None:
        os.write(self.fd, line)  # one write: the daemon never sees half a line (and would wait if it did)

    def close(self) -> None:
        os.close(self.fd)


@dataclass
class Latency:
    samples: list[float] = field(default_factory=list)  # seconds, warm-up dropped
    timeouts: int = 0
    cpu_per_append: float = 0.0  # the daemon's CPU seconds over the whole run / appends (idle gaps included)
    note: str = ""


def measure_latency(work: Work, pid: int, samples: int, seed: int, timeout: float = 30.0) -> Latency:
    """Append `samples` messages one at a time; time each until the memory file counts it."""
    rng = random.Random(seed)
    mem_dir = work.memory_dir()
    mem_dir.mkdir(exist_ok=True)
    watch = DirWatch(mem_dir)
    day = datetime.now(UTC).date()
    mem_file = mem_dir / f"{day.isoformat()}.md"
    out = Latency()
    if watch.fd < 0:
        out.note = "no inotify: 50 ms polling"
    tr = Transcript(work.openclaw / "agents" / "main" / "sessions", rng)
    base = memory_count(mem_file) or 0  # the daemon is caught up: today's block (if any) is current
    ticks0 = cpu_ticks(pid)
    appends = 0
    try:
        for i in range(WARMUP + samples):
            if datetime.now(UTC).date() != day:
                out.note = (out.note + "; " if out.note else "") + f"stopped at UTC midnight after {i} samples"
                break
            line = tr.message_line()
            watch.drain()
            t0 = time.perf_counter()
            tr.append(line)
            appends += 1
            want = base + 1  # every message is unique: each append adds exactly one
            took: float | None = None
            while True:
                got = memory_count(mem_file)
                if got is not None and got >= want:
                    took = time.perf_counter() - t0
                    break
                if time.perf_counter() - t0 > timeout:
                    break
                watch.wait(0.05)
            if took is None:
                out.timeouts += 1
                base = memory_count(mem_file) or base
            else:
                base = want
                if i >= WARMUP:
                    out.samples.append(took)
            time.sleep(rng.uniform(0.6, 1.6))  # > debounce: every sample starts from a quiet daemon
    finally:
        tr.close()
        watch.close()
    out.cpu_per_append = (cpu_ticks(pid) - ticks0) / CLK_TCK / max(1, appends)
    return out


# --- status latency ---


def measure_status(work: Work, state: Path, calls: int) -> dict[str, list[float]]:
    cmd = [*cli_command(), "status", "--json", "--state-dir", str(state)]
    env = base_env(work, state)
    subprocess.run(cmd, env=env, capture_output=True, check=True)  # fills the bytecode cache
    out: dict[str, list[float]] = {"socket": [], "cli": [], "cli_nopyc": []}
    for _ in range(calls):
        t0 = time.perf_counter()
        socket_request(state, {"cmd": "status"})
        out["socket"].append((time.perf_counter() - t0) * 1000)
    for _ in range(calls):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, check=False)
        out["cli"].append((time.perf_counter() - t0) * 1000)
        if proc.returncode != 0:
            raise SystemExit(f"status failed ({proc.returncode}): {proc.stderr.decode(errors='replace')}")
        json.loads(proc.stdout)
    env_nopyc = base_env(work, state, bytecode=False)
    for _ in range(max(5, calls // 5)):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env_nopyc, capture_output=True, check=True)
        out["cli_nopyc"].append((time.perf_counter() - t0) * 1000)
    return out


def measure_compare(work: Work, state: Path, calls: int, *, daemon: bool) -> dict[str, list[float]]:
    """`compare --json` as a subprocess (the daemon's view: same config, state dir and zone) and
    `--version` as a subprocess, interleaved so that both see the same machine load. With `daemon`, every
    compare must have been answered by the daemon (checked with -v); without, the CLI's own cache is warm
    (one run first)."""
    version = [*cli_command(), "--version"]
    cmd = [*cli_command(), "-v", "compare", "--json", "--config", str(work.config), "--state-dir", str(state),
           "--timezone", "UTC"]
    env = base_env(work, state)
    subprocess.run(cmd, env=env, capture_output=True, check=True)  # bytecode cache; the CLI cache without daemon
    out: dict[str, list[float]] = {"compare": [], "version": []}
    for _ in range(calls):
        for key, argv in (("version", version), ("compare", cmd)):
            t0 = time.perf_counter()
            proc = subprocess.run(argv, env=env, capture_output=True, check=False)
            out[key].append((time.perf_counter() - t0) * 1000)
            if proc.returncode != 0:
                raise SystemExit(f"{argv[1:3]} failed ({proc.returncode}): {proc.stderr.decode(errors='replace')}")
            if key == "compare" and daemon and b"answered by the daemon" not in proc.stderr:
                raise SystemExit("compare was not answered by the daemon: " + proc.stderr.decode(errors="replace"))
    return out


def compare_rows(rep: Report, label: str, runs: dict[str, list[float]], target: float) -> None:
    ratio = statistics.median(runs["compare"]) / statistics.median(runs["version"])
    rep.row(f"  compare --json ({label})", dist(runs["compare"], "ms") + "; `--version`: " +
            dist(runs["version"], "ms"))
    rep.check(f"warm compare {label} / --version (medians)", f"{ratio:.2f}x", f"<= {target:g}x", ratio <= target)


# --- idle ---


@dataclass
class Idle:
    seconds: float
    cpu_percent: float
    wakeups_per_s: float
    cpu_seconds: float


def measure_idle(pid: int, seconds: float) -> Idle:
    t0, c0, w0 = time.monotonic(), cpu_ticks(pid), ctx_switches(pid)
    time.sleep(seconds)
    t1, c1, w1 = time.monotonic(), cpu_ticks(pid), ctx_switches(pid)
    cpu = (c1 - c0) / CLK_TCK
    return Idle(t1 - t0, 100 * cpu / (t1 - t0), (w1 - w0) / (t1 - t0), cpu)


# --- statistics and printing ---


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))]


def dist(values: list[float], unit: str = "s", scale: float = 1.0) -> str:
    if not values:
        return "no samples"
    v = [x * scale for x in values]
    return (f"p50 {pct(v, 0.5):.3f} {unit}, p95 {pct(v, 0.95):.3f} {unit}, max {max(v):.3f} {unit} "
            f"(min {min(v):.3f}, mean {statistics.fmean(v):.3f}; n={len(v)})")


def secs(x: float | None) -> str:
    return f"{x:.2f} s" if x is not None else "n/a"


@contextlib.contextmanager
def cleanup_on_signals() -> Iterator[None]:
    def bail(signum: int, frame: object) -> None:
        raise SystemExit(f"interrupted by signal {signum}")

    old = signal.signal(signal.SIGTERM, bail)
    atexit.register(_stop_all)
    try:
        yield
    finally:
        _stop_all()
        signal.signal(signal.SIGTERM, old)


# --- the run ---


@dataclass
class Report:
    rows: list[tuple[str, str]] = field(default_factory=list)
    checks: list[tuple[str, str, str, bool]] = field(default_factory=list)  # (figure, value, target, met)
    data: dict[str, Any] = field(default_factory=dict)  # saved as JSON

    def row(self, key: str, value: str) -> None:
        self.rows.append((key, value))

    def check(self, figure: str, value: str, target: str, met: bool) -> None:
        self.checks.append((figure, value, target, met))


def starts(d_factory: Callable[[int], Daemon], n: int,
           keep_last: bool) -> tuple[list[Start], list[dict[str, int]], Daemon]:
    """Start `n` daemons one after another (each stopped before the next), measuring each; the last one is
    left running if `keep_last`."""
    runs, mems = [], []
    d = d_factory(0)
    for k in range(n):
        d = d_factory(k)
        runs.append(d.start())
        mems.append(mem_kib(d.pid))
        if k < n - 1 or not keep_last:
            runs[-1].stopped = d.stop()
    return runs, mems, d


def times(runs: list[Start], attr: str) -> str:
    v = [getattr(r, attr) for r in runs if getattr(r, attr) is not None]
    if not v:
        return "n/a"
    if len(v) == 1:
        return f"{v[0]:.2f} s"
    return f"{min(v):.2f} s (median {statistics.median(v):.2f}, max {max(v):.2f}; n={len(v)})"


def lat_row(lat: Latency, debounce: float) -> str:
    above = [x - debounce for x in lat.samples]
    extra = "; ".join(filter(None, [f"{lat.timeouts} timed out (30 s)" if lat.timeouts else "", lat.note]))
    return (dist(lat.samples) + f"; above the {debounce:g} s debounce: p50 {pct(above, 0.5) * 1000:.1f} ms, "
            f"p95 {pct(above, 0.95) * 1000:.1f} ms; daemon CPU {lat.cpu_per_append * 1000:.1f} ms per append"
            + (f"; {extra}" if extra else "")) if lat.samples else "no samples"


def run_history(label: str, src: Path, a: argparse.Namespace, rep: Report, big: bool) -> Latency:
    """One corpus. Tiny: a cold start and the latency samples. Big: cold starts (the last keeps running),
    status latency, latency samples, the idle window, a graceful stop, warm restarts."""
    work = make_work(src, label)
    debounce = daemon_defaults()["debounce_seconds"]
    try:
        mb = work.transcript_bytes / 1e6
        warm_page_cache(work)
        n = a.starts if big else 1
        log(f"{label}: {n} cold start(s) on {mb:.0f} MB ...")
        cold, cold_mem, d = starts(lambda k: Daemon(work, work.root / f"state{k}", f"{label}-cold{k}"), n, True)
        state = d.state
        last = cold[-1]
        rep.data[f"{label}_cold"] = [{"socket": r.socket, "ready": r.ready, "caught_up": r.caught_up} for r in cold]
        rep.row(f"{label} history", f"{mb:.1f} MB in {work.transcript_files} transcript files "
                                    f"({last.status.get('files')} sources, agents {last.status.get('agents')})")
        if big:
            best = min(r.caught_up for r in cold if r.caught_up)
            # the control socket comes up just before the engine thread starts: from then on it is ingestion
            ingest = min(r.caught_up - r.socket for r in cold if r.caught_up and r.socket)
            rate = mb / ingest
            rss = [m["VmRSS"] / 1024 for m in cold_mem]
            hwm = [m["VmHWM"] / 1024 for m in cold_mem]
            during = [x for r in cold for x in r.status_ms]
            rep.data["cold_mem_kib"] = cold_mem
            rep.data["status_during_catchup_ms"] = during
            rep.row("  cold start: caught_up", f"{times(cold, 'caught_up')}; best {mb / best:.0f} MB/s end to end, "
                                               f"{rate:.0f} MB/s from the socket's first answer")
            rep.row("  cold start: socket answers", times(cold, "socket"))
            rep.row("  cold start: READY=1", times(cold, "ready") + " (the catch-up goes on after it)")
            rep.row("  status (socket) during catch-up", dist(during, "ms") +
                    f"; {sum(r.status_failures for r in cold)} failed")
            rep.row("  memory after cold catch-up", fmt_mem(cold_mem[-1]) +
                    (f"; over {n} starts VmRSS {min(rss):.0f}-{max(rss):.0f}, VmHWM {min(hwm):.0f}-{max(hwm):.0f} MiB"
                     if n > 1 else ""))
            rep.check("cold catch-up throughput", f"{rate:.0f} MB/s", ">= 20 MB/s (goal 6)", rate >= 20)
            rep.check("cold catch-up time (start -> caught up)", f"{best:.1f} s", "reported", True)
            ready = [r.ready for r in cold if r.ready is not None]
            if ready:
                rep.check("start -> READY=1", f"{statistics.median(ready):.2f} s", "<= 2 s (goal 10)",
                          statistics.median(ready) <= 2)
            if during:
                rep.check("status p95 during catch-up (socket)", f"{pct(during, 0.95):.1f} ms", "<= 200 ms (goal 18)",
                          pct(during, 0.95) <= 200)
            rep.check("VmRSS after cold catch-up", f"{statistics.median(rss):.0f} MiB", "<= 100 MB",
                      statistics.median(rss) <= 100 / 1.048576)
            rep.check("VmHWM (peak) during cold catch-up", f"{statistics.median(hwm):.0f} MiB", "<= 100 MB",
                      statistics.median(hwm) <= 100 / 1.048576)
            log(f"{label}: status latency ...")
            st = measure_status(work, state, a.status_calls)
            rep.data["status_ms"] = st
            rep.row("  status, raw socket request", dist(st["socket"], "ms"))
            rep.row("  status, CLI subprocess", dist(st["cli"], "ms"))
            rep.row("  status, CLI without .pyc", dist(st["cli_nopyc"], "ms"))
            for key, name in (("socket", "status p95, raw socket"), ("cli", "status p95, CLI subprocess")):
                rep.check(name, f"{pct(st[key], 0.95):.1f} ms", "<= 200 ms", pct(st[key], 0.95) <= 200)
            log(f"{label}: compare answered by the daemon ...")
            runs = measure_compare(work, state, max(10, a.status_calls // 4), daemon=True)
            rep.data["compare_daemon_ms"] = runs
            compare_rows(rep, "answered by the daemon", runs, 1.3)
        log(f"{label}: {a.samples} append -> memory file samples ...")
        lat = measure_latency(work, d.pid, a.samples, a.seed)
        rep.data[f"{label}_latency_s"] = lat.samples
        rep.data[f"{label}_cpu_per_append_s"] = lat.cpu_per_append
        rep.row("  append -> memory file", lat_row(lat, debounce))
        if lat.samples:
            rep.check(f"append latency p95 ({label} history)", f"{pct(lat.samples, 0.95):.3f} s",
                      "<= 1 s (issue 14)", pct(lat.samples, 0.95) <= 1)
        if big:
            time.sleep(daemon_defaults()["checkpoint_seconds"] + 1.5)  # let the last checkpoint happen first
            log(f"{label}: idle for {a.idle_seconds:g} s ...")
            idle = measure_idle(d.pid, a.idle_seconds)
            mem_idle = mem_kib(d.pid)
            rep.data["idle"] = idle.__dict__
            rep.data["mem_after_idle_kib"] = mem_idle
            rep.row(f"  idle over {idle.seconds:.0f} s", f"{idle.cpu_percent:.3f}% of one core ({idle.cpu_seconds:.2f} "
                                                      f"CPU s); {idle.wakeups_per_s:.1f} context switches/s")
            rep.row("  memory after samples + idle", fmt_mem(mem_idle))
            rep.check("idle CPU", f"{idle.cpu_percent:.3f}%", "<= 0.5% of one core", idle.cpu_percent <= 0.5)
            rep.check("idle CPU (reliability goal 5)", f"{idle.cpu_percent:.3f}%", "<= 0.1%", idle.cpu_percent <= 0.1)
            rep.check("idle CPU (issue 14)", f"{idle.cpu_percent:.3f}%", "<= 0.05%", idle.cpu_percent <= 0.05)
            rep.check("idle wake-ups", f"{idle.wakeups_per_s:.2f}/s", "<= 1/s (goal 5, issue 14)",
                      idle.wakeups_per_s <= 1)
            rep.check("VmRSS after samples + idle", f"{mem_idle['VmRSS'] / 1024:.0f} MiB", "<= 100 MB",
                      mem_idle["VmRSS"] / 1024 <= 100 / 1.048576)
            if a.label == "scale":  # issue 14 asks <= 100 MiB of a 5 GB history, < 80 MiB otherwise
                rep.check("steady VmRSS (issue 14, 5 GB history)", f"{mem_idle['VmRSS'] / 1024:.0f} MiB",
                          "<= 100 MiB", mem_idle["VmRSS"] / 1024 <= 100)
            else:
                rep.check("steady VmRSS (issue 14)", f"{mem_idle['VmRSS'] / 1024:.0f} MiB", "< 80 MiB",
                          mem_idle["VmRSS"] / 1024 < 80)
        cold[-1].stopped = d.stop()
        if not big:
            rep.row("  graceful stop (SIGTERM)", secs(cold[-1].stopped))
        if big:
            log(f"{label}: compare with no daemon running ...")
            runs = measure_compare(work, state, max(10, a.status_calls // 4), daemon=False)
            rep.data["compare_no_daemon_ms"] = runs
            compare_rows(rep, "with no daemon (its own cache)", runs, 2.0)
        if big:
            log(f"{label}: {n} warm restart(s) ...")
            warm, warm_mem, _ = starts(lambda k: Daemon(work, state, f"{label}-warm{k}"), n, False)
            stops = [r.stopped for r in cold + warm]
            done = [x for x in stops if x is not None]
            rep.row("  graceful stop (SIGTERM), idle", times(cold + warm, "stopped") +
                    (f"; {len(stops) - len(done)} had to be killed" if len(done) < len(stops) else ""))
            rep.check("graceful stop, idle (max)", secs(max(done) if done else None), "<= 2 s (goal 11)",
                      len(done) == len(stops) and max(done) <= 2)
            rep.data[f"{label}_warm"] = [{"socket": r.socket, "ready": r.ready, "caught_up": r.caught_up} for r in warm]
            rep.data["warm_mem_kib"] = warm_mem
            rep.row("  warm restart: caught_up", times(warm, "caught_up"))
            rep.row("  warm restart: socket answers", times(warm, "socket"))
            rep.row("  memory after warm restart", fmt_mem(warm_mem[-1]))
            saved = [p for p in state.glob("*/*.json") if p.parent.name in ("checkpoint", "cache")]
            size = sum(p.stat().st_size for p in saved) / 1e6
            rep.row("  checkpoint files", f"{size:.1f} MB in "
                                          f"{sorted({p.parent.name + '/' for p in saved})} of the state dir")
            rep.check("checkpoint + cache size", f"{size:.1f} MB", "reported", True)
        return lat
    finally:
        _stop_all()
        if a.keep:
            log(f"kept {work.root}")
        else:
            shutil.rmtree(work.root, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size-mb", type=float, default=None, help="big corpus size (default 500; 20 with --quick)")
    p.add_argument("--days", type=int, default=None, help="days in the big corpus (default 60; 10 with --quick)")
    p.add_argument("--agents", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--reuse", action="store_true", help="reuse corpora with the same parameters in bench/out/")
    p.add_argument("--quick", action="store_true", help="smoke run: 20 MB, 12 samples, 10 s idle, 20 status calls")
    p.add_argument("--samples", type=int, default=None, help="latency samples per history (default 50)")
    p.add_argument("--idle-seconds", type=float, default=None, help="idle CPU window (default 60)")
    p.add_argument("--status-calls", type=int, default=None, help="status calls of each kind (default 100)")
    p.add_argument("--starts", type=int, default=None, help="cold starts and warm restarts on the big corpus "
                                                            "(default 3; 1 with --quick)")
    p.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                   help="what-if: add to the daemons' environment (e.g. MALLOC_ARENA_MAX=2)")
    p.add_argument("--hide-anthropic", action="store_true",
                   help="what-if: daemons cannot import the anthropic SDK (summaries are off without a key anyway)")
    p.add_argument("--keep", action="store_true", help="keep the working copies, state dirs and daemon logs")
    p.add_argument("--label", default="", help="name its targets are recorded under (default: daemon, "
                                               "daemon-quick with --quick); bench_all.py uses 'scale'")
    a = p.parse_args(argv)
    q = a.quick
    a.size_mb = a.size_mb if a.size_mb is not None else (20.0 if q else 500.0)
    a.days = a.days if a.days is not None else (10 if q else 60)
    a.samples = a.samples if a.samples is not None else (12 if q else 50)
    a.idle_seconds = a.idle_seconds if a.idle_seconds is not None else (10.0 if q else 60.0)
    a.status_calls = a.status_calls if a.status_calls is not None else (20 if q else 100)
    a.starts = a.starts if a.starts is not None else (1 if q else 3)
    if not sys.platform.startswith("linux"):
        raise SystemExit("this benchmark reads /proc: Linux only")
    for kv in a.env:
        key, sep, value = kv.partition("=")
        if not sep or not key:
            raise SystemExit(f"--env wants KEY=VALUE, got {kv!r}")
        DAEMON_ENV[key] = value
    if a.hide_anthropic:
        DAEMON_ENV["PYTHONPATH"] = os.pathsep.join(filter(None, [hide_module("anthropic"),
                                                                 DAEMON_ENV.get("PYTHONPATH", "")]))
    OUT.mkdir(exist_ok=True)
    PYCACHE.mkdir(exist_ok=True)

    big_src, _ = ensure_corpus(a.size_mb, a.days, a.agents, a.seed, a.reuse)
    tiny_src, _ = ensure_corpus(TINY_MB, TINY_DAYS, a.agents, a.seed, a.reuse)
    rep = Report()
    rep.row("machine", "")
    for k, v in machine().items():
        rep.row(f"  {k}", v)
    rep.row("  load average at start", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    rep.row("package", targets.package_state())
    rep.row("daemon config", ", ".join(f"{k}={v:g}" for k, v in daemon_defaults().items()) + "; --timezone UTC")
    if DAEMON_ENV:
        rep.row("what-if daemon env", " ".join(f"{k}={v}" for k, v in DAEMON_ENV.items()))
    rep.data["params"] = {k: v for k, v in vars(a).items()}
    with cleanup_on_signals():
        tiny = run_history("tiny", tiny_src, a, rep, big=False)
        big = run_history("big", big_src, a, rep, big=True)
    rep.row("  load average at end", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    debounce = daemon_defaults()["debounce_seconds"]
    if tiny.samples and big.samples:
        ratio = pct(big.samples, 0.95) / pct(tiny.samples, 0.95)
        above = (pct(big.samples, 0.5) - debounce) / max(1e-9, pct(tiny.samples, 0.5) - debounce)
        cpu = big.cpu_per_append / tiny.cpu_per_append if tiny.cpu_per_append else float("nan")
        rep.row("big / tiny history", f"append latency p95 ratio {ratio:.2f}; p50 above the debounce ratio "
                                      f"{above:.2f}; daemon CPU per append ratio {cpu:.2f}")
        rep.check("append latency p95, big / tiny", f"{ratio:.2f}", "<= 1.2 (issue 14)", ratio <= 1.2)
    width = max(len(k) for k, _ in rep.rows) + 2
    print()
    for k, v in rep.rows:
        print(f"{k:<{width}}{v}")
    print("\ntargets")
    w1 = max(len(c[0]) for c in rep.checks) + 2
    w2 = max(len(c[1]) for c in rep.checks) + 2
    for figure, value, target, met in rep.checks:
        print(f"  {figure:<{w1}}{value:<{w2}}{target:<22}{'meets' if met else 'MISSES'}")
    saved = OUT / "bench_daemon-last.json"
    rep.data["table"] = {k.strip(): v for k, v in rep.rows if v}
    rep.data["targets"] = [{"figure": f, "value": v, "target": t, "met": m} for f, v, t, m in rep.checks]
    targets.record(a.label or ("daemon-quick" if a.quick else "daemon"), rep.checks,
                   note=f"{a.size_mb:g} MB, {a.days} days, {a.agents} agents")
    saved.write_text(json.dumps(rep.data, indent=1, default=str))
    log(f"results saved to {saved}")


if __name__ == "__main__":
    main()
