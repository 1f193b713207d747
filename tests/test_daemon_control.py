"""The daemon's contract with the outside: one instance per state dir, a private control socket, `status`,
signals (SIGHUP reload), sd_notify, and sharing today's memory file with an agent that appends to it."""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import json
import os
import platform
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from daemon_harness import Harness, Messages, Notifications, append, harness, wait_until

HELPERS = Path(__file__).resolve().parent / "helpers"


@pytest.fixture
def d(tmp_path: Path) -> Iterator[Harness]:
    with harness(tmp_path) as h:
        h.sessions.mkdir()
        yield h


def test_single_instance_and_stale_lock_after_kill9(d: Harness) -> None:
    first = d.start()
    t0 = time.monotonic()
    second = d.spawn()
    rc = second.wait(timeout=20)
    elapsed = time.monotonic() - t0
    assert rc == 1
    assert f"already running (pid {first.pid})" in d.logs[-1].read_text()
    assert elapsed < 5, f"the second instance took {elapsed:.1f}s to give up"
    assert d.must_status()["pid"] == first.pid  # the first is untouched
    d.kill9()
    # The lock file still names the dead pid and its socket is still there: neither may block a restart.
    assert (d.state / "daemon.lock").read_text().strip() == str(first.pid)
    assert (d.state / "run" / "control.sock").exists()
    third = d.start()
    assert d.must_status()["pid"] == third.pid != first.pid


def _mode(p: Path) -> int:
    return stat.S_IMODE(os.lstat(p).st_mode)


def test_socket_and_state_dir_permissions(d: Harness) -> None:
    d.state.mkdir(mode=0o755)
    os.chmod(d.state, 0o755)  # as a careless install might leave it: tightened, never a refusal to start
    (d.state / "run").mkdir(mode=0o755)
    os.chmod(d.state / "run", 0o755)
    m = Messages()
    append(d.sessions / "s1.jsonl", m.header("s1") + m.lines(1))
    d.start()
    d.wait_count(1)
    sock = d.state / "run" / "control.sock"
    assert stat.S_ISSOCK(os.lstat(sock).st_mode)
    assert _mode(sock) == 0o600
    assert _mode(d.state / "run") == 0o700
    assert _mode(d.state) == 0o700
    assert _mode(d.state / "daemon.lock") == 0o600
    assert _mode(d.state / "checkpoint") == 0o700
    for f in (d.state / "checkpoint").iterdir():
        assert _mode(f) == 0o600, f


def test_socket_private_even_under_umask_0(d: Harness) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import os, sys; os.umask(0); os.execv(sys.executable, "
                             "[sys.executable, '-m', 'memory_syncd', 'run', *sys.argv[1:]])", *d.args()],
                            env=d.env(), cwd=d.root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    d.procs.append(proc)
    d.proc = proc
    d.wait_ready()
    assert _mode(d.state / "run" / "control.sock") == 0o600
    assert _mode(d.state) == 0o700


STATUS_TYPES = {"running": bool, "pid": int, "started_at": str, "files": int, "messages_today": int,
                "errors": int}
NULLABLE = {"last_write": str, "last_error": str, "next_summary": str}


def test_status_command_running_and_not_running(d: Harness) -> None:
    r = d.cli("status", "--json", "--state-dir", str(d.state))
    assert r.returncode == 3
    assert json.loads(r.stdout) == {"running": False}
    assert "memory-syncd run" in r.stderr and r.stderr.count("\n") == 1
    r = d.cli("status", "--state-dir", str(d.state))
    assert r.returncode == 3 and "not running" in r.stderr and "memory-syncd run" in r.stderr

    m = Messages()
    append(d.sessions / "s1.jsonl", m.header("s1") + m.lines(2))
    proc = d.start()
    d.wait_count(2)
    r = d.cli("status", "--json", "--state-dir", str(d.state))
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    for key, typ in STATUS_TYPES.items():
        assert isinstance(s[key], typ), (key, s.get(key))
    for key, typ in NULLABLE.items():
        assert key in s and (s[key] is None or isinstance(s[key], typ)), (key, s.get(key))
    assert s["running"] is True and s["pid"] == proc.pid and s["messages_today"] == 2
    assert s["last_write"] is not None
    datetime.fromisoformat(s["started_at"])
    datetime.fromisoformat(s["last_write"])
    r = d.cli("status", "--state-dir", str(d.state))
    assert r.returncode == 0 and f"running (pid {proc.pid})" in r.stdout

    d.kill9()  # a stale socket file is left: still "not running", not a hang or a traceback
    r = d.cli("status", "--json", "--state-dir", str(d.state))
    assert r.returncode == 3 and json.loads(r.stdout) == {"running": False}
    assert "Traceback" not in r.stderr


def test_sighup_reloads_and_a_bad_config_keeps_the_old_one(d: Harness) -> None:
    m = Messages()
    path = d.sessions / "s1.jsonl"
    append(path, m.header("s1") + m.lines(2))
    proc = d.start()
    d.wait_count(2)
    separate = d.memory / f"{d.memory_file().stem}-memory-sync.md"
    d.write_config('write_mode = "separate"\n')
    d.send(signal.SIGHUP)
    wait_until(lambda: "config reloaded" in d.log_text(), what="the reload")
    append(path, m.lines(1))
    wait_until(lambda: separate.exists() and "from 3 session messages" in separate.read_text(),
               what="the block in the separate file")

    errors = d.must_status()["errors"]
    d.write_config('write_mode = "inline"\n', bogus_seconds=1)  # an unknown key: the whole file is refused
    d.send(signal.SIGHUP)
    s = wait_until(lambda: (s := d.must_status())["errors"] > errors and s, what="the reload error")
    assert "daemon.bogus_seconds" in s["last_error"] and "keeping the old config" in s["last_error"]
    append(path, m.lines(1))
    wait_until(lambda: "from 4 session messages" in separate.read_text(), what="the old config still in use")
    assert d.auto_count() == 2  # the inline block was not touched: write_mode is still "separate"
    assert d.must_status()["pid"] == proc.pid

    # Back to inline: the reload alone rewrites today's block where it now belongs.
    d.write_config('write_mode = "inline"\n', reconcile_seconds=3600)
    d.send(signal.SIGHUP)
    d.wait_count(4)
    append(path, m.lines(1))
    s = d.wait_count(5)
    # Interval jobs follow the new config too: the next reconcile scan is an hour away now.
    assert datetime.fromisoformat(s["next_jobs"]["reconcile"]) > datetime.now(UTC) + timedelta(minutes=30)
    assert d.stop() == 0


def test_status_finds_the_daemon_while_its_config_file_has_an_error(d: Harness) -> None:
    # Right after a bad edit (a reload refused it) is when `status` is needed: it still finds the daemon at
    # the state dir the file names, and warns about the file.
    d.state_from_config = True
    d.write_config(f'state_dir = "{d.state}"\n')
    proc = d.start()
    d.write_config(f'state_dir = "{d.state}"\nwrite_mode = "separat"\n')
    d.send(signal.SIGHUP)
    wait_until(lambda: d.must_status()["errors"], what="the reload error")
    r = d.cli("status", "--config", str(d.config))
    assert r.returncode == 0 and f"running (pid {proc.pid})" in r.stdout, r.stderr
    assert "warning" in r.stderr and str(d.config) in r.stderr and "write_mode" in r.stderr
    assert "0 messages; last write none yet" in r.stdout  # nothing today: no "None" from the JSON
    assert re.search(r"errors 1; last: \d{4}-\d\d-\d\dT[\d:]+\+00:00 config reload failed", r.stdout), r.stdout
    r = d.cli("status", "--json", "--config", str(d.config))
    assert r.returncode == 0 and json.loads(r.stdout)["pid"] == proc.pid
    # Unreadable: only the defaults are left. No daemon there does not mean none runs: a config error.
    d.config.write_text("state_dir = [ not toml\n")
    r = d.cli("status", "--config", str(d.config))
    assert r.returncode == 78 and "not valid TOML" in r.stderr and "no daemon answers in" in r.stderr, r.stderr
    assert "not running" not in r.stderr and "Traceback" not in r.stderr
    r = d.cli("status", "--config", str(d.config), "--state-dir", str(d.state))  # the way out it names
    assert r.returncode == 0 and f"running (pid {proc.pid})" in r.stdout and "warning" in r.stderr
    assert d.stop() == 0


def _signal_a_thread_but_main(pid: int, sig: int) -> None:
    """Send `sig` to one of `pid`'s threads other than its main one (tgkill: Python has no call for it).
    Threads come and go (the scheduler's, say): one that ended since the listing is passed over."""
    nr = {"x86_64": 234, "aarch64": 131}.get(platform.machine())
    if nr is None:
        pytest.skip(f"tgkill's syscall number on {platform.machine()} is not known to this test")
    libc = ctypes.CDLL(None, use_errno=True)
    for t in sorted(Path(f"/proc/{pid}/task").iterdir(), key=lambda t: int(t.name)):
        if int(t.name) != pid and libc.syscall(nr, pid, int(t.name), sig) == 0:
            return
    raise AssertionError(f"no thread of {pid} but its main one took signal {sig}")


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc to pick a thread")
def test_a_signal_the_kernel_hands_to_another_thread_still_wakes_the_daemon(d: Harness) -> None:
    # A process signal goes to any thread that does not block it. Only the main thread runs Python's
    # handlers, and it sleeps up to HEALTH_IDLE_SECONDS (20 s) when idle: the C-level handler must wake it.
    proc = d.start()
    d.write_config('write_mode = "separate"\n')
    time.sleep(0.5)  # the main thread back asleep after the catch-up
    reloads = d.log_text().count("config reloaded")
    sent = time.monotonic()
    _signal_a_thread_but_main(proc.pid, signal.SIGHUP)
    wait_until(lambda: d.log_text().count("config reloaded") > reloads, timeout=15, what="the reload")
    assert time.monotonic() - sent < 3.0  # not at the next health check
    time.sleep(0.5)  # asleep again: a SIGTERM must wake it too
    _signal_a_thread_but_main(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=3) == 0
    d.proc = None


def test_a_reload_that_moves_the_state_dir_is_refused(d: Harness) -> None:
    # The lock and the control socket stay where the daemon started: checkpoints must not go elsewhere.
    d.state_from_config = True
    m = Messages()
    path = d.sessions / "s1.jsonl"
    append(path, m.header("s1") + m.lines(2))
    d.write_config(f'state_dir = "{d.state}"\n')
    proc = d.start()
    d.wait_count(2)
    reloads = d.log_text().count("config reloaded")
    d.write_config(f'state_dir = "{d.sessions}/../{d.state.name}"\n')  # the same dir, spelled otherwise
    d.send(signal.SIGHUP)
    wait_until(lambda: d.log_text().count("config reloaded") > reloads, what="the reload")
    errors = d.must_status()["errors"]
    assert errors == 0
    moved = d.root / "moved-state"
    d.write_config(f'state_dir = "{moved}"\nwrite_mode = "separate"\n')
    d.send(signal.SIGHUP)
    s = wait_until(lambda: (s := d.must_status())["errors"] > errors and s, what="the reload error")
    assert "state_dir" in s["last_error"] and "restart the daemon" in s["last_error"]
    append(path, m.lines(1))
    d.wait_count(3)  # still inline: nothing of the refused config applies
    assert not moved.exists()
    assert (d.state / "checkpoint").is_dir() and s["pid"] == proc.pid
    assert d.stop() == 0


def test_a_storm_of_sighups_while_the_main_thread_is_busy_leaves_it_working(d: Harness) -> None:
    # A signal's handler runs in the main thread wherever it was interrupted: inside a lock that thread
    # held, or inside the previous handler. Handlers that took a lock (Event.set) deadlocked it there, and
    # from then on no reload, no watch check, and no SIGTERM got through.
    m = Messages()
    append(d.sessions / "s1.jsonl", m.header("s1") + m.lines(2))
    proc = d.start()
    d.wait_count(2)
    d.write_config('write_mode = "inline"\n', bogus_seconds=1)  # refused: each reload is quick
    done = threading.Event()

    def churn() -> None:  # directory events: the main thread checks the watch again and again
        for i in itertools.count():
            if done.is_set():
                return
            sub = d.sessions / f"dir{i % 5}"
            with contextlib.suppress(OSError):
                sub.mkdir()
                sub.rmdir()

    busy = threading.Thread(target=churn)
    busy.start()
    sent = 0
    try:
        end = time.monotonic() + 3
        while time.monotonic() < end:
            d.send(signal.SIGHUP)
            sent += 1
            time.sleep(0.0002 * (sent % 7))
    finally:
        done.set()
        busy.join()
    d.write_config('write_mode = "separate"\n')
    reloads = d.log_text().count("config reloaded")
    d.send(signal.SIGHUP)
    wait_until(lambda: d.log_text().count("config reloaded") > reloads, what=f"a reload after {sent} SIGHUPs")
    separate = d.memory / f"{d.memory_file().stem}-memory-sync.md"
    append(d.sessions / "s1.jsonl", m.lines(1))
    wait_until(lambda: separate.exists() and "from 3 session messages" in separate.read_text(),
               what="the block in the separate file")
    assert d.must_status()["pid"] == proc.pid
    assert d.stop() == 0


def test_sd_notify_ready_watchdog_and_stopping(d: Harness) -> None:
    m = Messages()
    for i in range(4):  # some catch-up work (READY=1 does not wait for it: test_daemon_helpers)
        append(d.sessions / f"s{i}.jsonl", m.header(f"s{i}") + m.lines(150))
    n = Notifications(d.root / "notify.sock")
    n.start()
    try:
        d.start(env={"NOTIFY_SOCKET": str(d.root / "notify.sock"), "WATCHDOG_USEC": "1000000"}, wait=False)
        wait_until(lambda: n.times("READY=1"), timeout=20, what="READY=1")
        s = d.wait_ready()
        assert s["messages_today"] == m.written
        ready = n.times("READY=1")[0]
        wait_until(lambda: len([t for t in n.times("WATCHDOG=1") if t > ready]) >= 4, what="watchdog pings")
        pings = [t for t in n.times("WATCHDOG=1") if t > ready]
        gaps = [b - a for a, b in itertools.pairwise(pings)]
        assert max(gaps) < 1.0, gaps  # every WATCHDOG_USEC / 2, well within WATCHDOG_USEC
        assert any(msg.startswith("STATUS=") or "\nSTATUS=" in msg for _, msg in n.got)
        assert d.stop() == 0
        wait_until(lambda: n.times("STOPPING=1"), timeout=2, what="STOPPING=1")
        assert len(n.times("READY=1")) == 1
    finally:
        n.close()


def test_sd_notify_no_pings_for_another_watchdog_pid(d: Harness) -> None:
    n = Notifications(d.root / "notify.sock")
    n.start()
    try:
        d.start(env={"NOTIFY_SOCKET": str(d.root / "notify.sock"), "WATCHDOG_USEC": "400000", "WATCHDOG_PID": "1"})
        wait_until(lambda: n.times("READY=1"), what="READY=1")
        time.sleep(1.0)  # five ping intervals
        assert n.times("WATCHDOG=1") == []
    finally:
        n.close()


@pytest.mark.parametrize("mode", ["reopen", "held"])
def test_agent_appending_to_the_memory_file_loses_nothing(d: Harness, mode: str) -> None:
    """The agent appends numbered lines to today's memory file (closing after each line, or holding its
    descriptor for batches) while the daemon keeps rewriting its block there."""
    d.write_config(max_delay_seconds=0.1)  # a rewrite at least every 0.1 s while messages stream in
    m = Messages()
    path = d.sessions / "s1.jsonl"
    append(path, m.header("s1") + m.lines(1))
    d.start()
    d.wait_count(1)
    day = d.memory_file()
    stop = d.root / "stop-appender"
    agent = subprocess.Popen([sys.executable, str(HELPERS / "appender.py"), str(day), str(stop), "--mode", mode,
                              "--interval", "0.004", "--label", "agent note"], stdout=subprocess.PIPE, text=True)
    counts_seen: set[int] = set()
    try:
        assert agent.stdout is not None and agent.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 4.0
        while time.monotonic() < deadline:
            append(path, m.one())
            time.sleep(0.03)
            c = d.auto_count()
            if c is not None:
                counts_seen.add(c)
        d.wait_count(m.written)
    finally:
        stop.touch()
        try:
            out, _ = agent.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            agent.kill()
            raise
    written = int(out.split()[-1])
    data = day.read_bytes()
    numbers = Counter(int(x) for x in re.findall(rb"^agent note (\d{6})$", data, re.MULTILINE))
    missing = [i for i in range(written) if i not in numbers]
    assert not missing, f"{len(missing)} of {written} agent lines lost"
    assert all(c == 1 for c in numbers.values()), "duplicated agent lines"
    assert data.count(b"<!-- memory-syncd:begin -->") == 1 and data.count(b"<!-- memory-syncd:end -->") == 1
    assert len(counts_seen) >= 10, f"the block was rewritten only {len(counts_seen)} times"
    assert d.auto_count() == m.written
    assert d.must_status()["errors"] == 0


def test_failed_memory_write_is_retried_without_new_messages(d: Harness) -> None:
    m = Messages()
    d.memory.mkdir()
    d.memory_file().mkdir()  # a directory where today's file should be: every write fails
    d.start()
    append(d.sessions / "s1.jsonl", m.header("s1") + m.lines(2))
    s = wait_until(lambda: (s := d.must_status())["errors"] >= 1 and s, what="the write error")
    assert str(d.memory_file()) in s["last_error"]
    shutil.rmtree(d.memory_file())
    d.wait_count(2)  # retried on its own: no new message came


def test_silent_clients_do_not_block_status(d: Harness) -> None:
    d.start()
    idle = []
    try:
        for _ in range(3):  # connect and say nothing
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.connect(str(d.state / "run" / "control.sock"))
            idle.append(c)
        r = d.cli("status", "--json", "--state-dir", str(d.state))
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["running"] is True
    finally:
        for c in idle:
            c.close()
    assert "Traceback" not in d.log_text()
