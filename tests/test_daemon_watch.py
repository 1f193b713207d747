"""The watcher's failure modes, against the real daemon: a sessions dir that is missing at start or is
deleted and recreated while running, agents that disappear, and inotify limits.

Most tests set the reconcile scan to an hour, so what they see was found by the watcher and its health
check, not by the periodic stat scan that would paper over a dead watch.

The inotify limits (ENOSPC on inotify_add_watch, EMFILE on inotify_init) cannot be reached honestly
without changing machine-wide sysctls or using up the user's inotify instances, which would break other
programs. Instead an LD_PRELOAD shim makes those libc calls fail with the kernel's errno in the daemon
process only (watchdog binds them through the global symbol namespace, so the shim is what it calls).
"""

from __future__ import annotations

import errno
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from daemon_harness import Harness, Messages, Notifications, append, harness, wait_until
from watchdog.events import DirDeletedEvent

from memory_syncd.daemon.watch import Watch, Watcher


@pytest.fixture
def d(tmp_path: Path) -> Iterator[Harness]:
    with harness(tmp_path) as h:
        yield h


def test_sessions_dir_missing_at_start_then_created(d: Harness) -> None:
    d.write_config(reconcile_seconds=3600)
    m = Messages()
    d.start()
    s = d.must_status()
    assert s["files"] == 0 and s["messages_today"] == 0 and s["errors"] == 0
    d.sessions.mkdir()
    append(d.sessions / "s1.jsonl", m.header("s1") + m.lines(3))
    d.wait_count(3)
    append(d.sessions / "s1.jsonl", m.lines(1))  # and it is watched now: events, not scans
    s = d.wait_count(4)
    assert s["watch_mode"] == "inotify"


def test_sessions_dir_deleted_and_recreated_while_running(d: Harness) -> None:
    d.write_config(reconcile_seconds=3600)
    m = Messages()
    d.sessions.mkdir()
    append(d.sessions / "s1.jsonl", m.header("s1") + m.lines(2))
    d.start()
    d.wait_count(2)
    for round_ in range(2):
        shutil.rmtree(d.sessions)
        wait_until(lambda: d.must_status()["files"] == 0, what="the files to be gone")
        d.sessions.mkdir()
        append(d.sessions / f"new{round_}.jsonl", m.header(f"new{round_}") + m.lines(3))
        d.wait_count(m.written)  # what the deleted files held still counts today
        append(d.sessions / f"new{round_}.jsonl", m.lines(1))
        d.wait_count(m.written)
    s = d.must_status()
    assert s["observer_rebuilds"] >= 2
    assert s["errors"] == 0


def _openclaw(root: Path, agents: list[str]) -> None:
    for a in agents:
        (root / "agents" / a / "sessions").mkdir(parents=True)
        (root / "ws" / ("" if a == "main" else a)).mkdir(parents=True, exist_ok=True)  # workspaces exist
    (root / "openclaw.json").write_text(f'{{agents: {{defaults: {{workspace: "{root / "ws"}"}}}}}}\n')


def test_discovery_agent_appears_later(d: Harness) -> None:
    root = d.root / "openclaw"
    root.mkdir()
    m = Messages()
    d.start(discovery=True)
    assert d.must_status()["agents"] == []
    _openclaw(root, ["main"])
    d.memory = root / "ws" / "memory"  # main's workspace, from openclaw.json
    append(root / "agents" / "main" / "sessions" / "s1.jsonl", m.header("s1") + m.lines(2))
    s = d.wait_count(2)
    assert s["agents"] == ["main"] and s["errors"] == 0


def test_discovery_new_agent_is_read_from_file_events_not_the_reconcile_scan(d: Harness) -> None:
    """An agent OpenClaw creates after the daemon started is seen through the watched state dir at once,
    well before the (here 10-minute) reconcile scan."""
    root = d.root / "openclaw"
    root.mkdir()
    d.write_config(reconcile_seconds=600)
    m = Messages()
    d.start(discovery=True)
    assert d.must_status()["agents"] == []
    _openclaw(root, ["main"])
    d.memory = root / "ws" / "memory"
    append(root / "agents" / "main" / "sessions" / "s1.jsonl", m.header("s1") + m.lines(2))
    s = d.wait_count(2, timeout=8.0)
    assert s["agents"] == ["main"] and s["errors"] == 0
    append(root / "agents" / "main" / "sessions" / "s1.jsonl", m.lines(2))
    s = d.wait_count(4, timeout=8.0)
    assert s["missed_events"] == 0


def test_discovery_one_agent_vanishing_does_not_stop_the_others(d: Harness) -> None:
    root = d.root / "openclaw"
    _openclaw(root, ["main", "work"])
    m, w = Messages("main"), Messages("work")
    append(root / "agents" / "main" / "sessions" / "s1.jsonl", m.header("s1") + m.lines(2))
    append(root / "agents" / "work" / "sessions" / "w1.jsonl", w.header("w1") + w.lines(3))
    d.memory = root / "ws" / "memory"
    d.start("--agent", "main", "--agent", "work", discovery=True)
    wait_until(lambda: d.must_status()["messages_today"] == 5, what="both agents read")
    assert (root / "ws" / "work" / "memory").is_dir()
    shutil.rmtree(root / "agents" / "work")
    append(root / "agents" / "main" / "sessions" / "s1.jsonl", m.lines(2))
    wait_until(lambda: d.auto_count() == 4, what="main's new messages in its memory file")
    s = d.must_status()
    assert s["errors"] == 0, s["last_error"]


SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#ifdef BLIND_WATCH
/* The watch "succeeds" but on another, quiet directory: a watch that looks alive and delivers nothing. */
int inotify_add_watch(int fd, const char *path, uint32_t mask) {
    int (*real)(int, const char *, uint32_t) = (int (*)(int, const char *, uint32_t))dlsym(RTLD_NEXT,
                                                                                       "inotify_add_watch");
    const char *quiet = getenv("SHIM_QUIET_DIR");
    return real(fd, quiet ? quiet : path, mask);
}
#endif
#ifdef FAIL_ADD_WATCH
int inotify_add_watch(int fd, const char *path, uint32_t mask) { errno = ENOSPC; return -1; }
#endif
#ifdef FAIL_INIT
int inotify_init(void) { errno = EMFILE; return -1; }
int inotify_init1(int flags) { errno = EMFILE; return -1; }
#endif
"""


def _shim(tmp_path: Path, define: str) -> Path:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to build the LD_PRELOAD shim")
    src = tmp_path / "shim.c"
    src.write_text(SHIM)
    out = tmp_path / f"shim-{define}.so"
    subprocess.run([cc, "-shared", "-fPIC", f"-D{define}", "-o", str(out), str(src), "-ldl"], check=True)
    return out


@pytest.mark.parametrize(("define", "err"), [("FAIL_ADD_WATCH", errno.ENOSPC), ("FAIL_INIT", errno.EMFILE)])
def test_inotify_limits_fall_back_to_polling(d: Harness, define: str, err: int) -> None:
    shim = _shim(d.root, define)
    d.write_config(reconcile_seconds=3600)
    m = Messages()
    d.sessions.mkdir()
    d.start(env={"LD_PRELOAD": str(shim)})
    s = wait_until(lambda: (s := d.must_status())["watch_mode"] == "polling" and s, what="polling mode")
    assert "max_user_watches" in s["watch_note"]
    assert "fs.inotify" in d.log_text()
    # The stat scan takes over on the configured poll interval (the reconcile scan is an hour away).
    wait_until(lambda: "poll" in d.must_status()["next_jobs"], what="the poll job")
    append(d.sessions / "s1.jsonl", m.header("s1") + m.lines(3))
    d.wait_count(3)
    append(d.sessions / "s1.jsonl", m.lines(2))
    s = d.wait_count(5)
    assert s["errors"] == 0, s["last_error"]
    assert d.proc is not None and d.proc.poll() is None


def test_watcher_degrade_in_process(tmp_path: Path) -> None:
    """`degrade` (events keep going missing although the observer looks alive) cannot be provoked from
    outside without a kernel that drops events; it is checked here on the Watcher itself."""
    seen: list[str] = []
    lock = threading.Lock()

    def notify(agent: str) -> None:
        with lock:
            seen.append(agent)

    sessions = tmp_path / "s"
    sessions.mkdir()
    w = Watcher(notify)
    try:
        w.watch([Watch("main", sessions)])
        assert w.mode == "inotify"
        (sessions / "a.jsonl").write_text("{}\n")
        wait_until(lambda: "main" in seen, what="an event")
        w.degrade("events keep going missing")
        assert w.mode == "degraded" and w.reason == "events keep going missing"
        w.check()  # stays degraded: no observer again
        assert w.mode == "degraded"
        seen.clear()
        (sessions / "b.jsonl").write_text("{}\n")
        with pytest.raises(AssertionError):
            wait_until(lambda: seen, timeout=0.5, what="no event")
    finally:
        w.stop()



def test_silent_watch_is_detected_and_degrades_to_polling(d: Harness) -> None:
    """A watch that looks healthy but delivers nothing (what a dropped watch, a lost event queue or a
    watchdog bug look like from inside): the reconcile scan finds data no event announced, the observer
    is rebuilt, and when that does not help the daemon polls and stops its sd_notify watchdog pings."""
    shim = _shim(d.root, "BLIND_WATCH")
    quiet = d.root / "quiet"
    quiet.mkdir()
    d.write_config(reconcile_seconds=0.5)
    d.sessions.mkdir()
    m = Messages()
    path = d.sessions / "s1.jsonl"
    append(path, m.header("s1") + m.lines(1))
    n = Notifications(d.root / "notify.sock")
    n.start()
    try:
        d.start(env={"LD_PRELOAD": str(shim), "SHIM_QUIET_DIR": str(quiet), "NOTIFY_SOCKET": str(n.path),
                     "WATCHDOG_USEC": "1000000"})

        def degraded() -> dict[str, Any] | None:
            append(path, m.one())
            s = d.must_status()
            return s if s["watch_mode"] == "degraded" else None

        s = wait_until(degraded, timeout=30, what="degraded mode", interval=0.2)
        assert "missing" in s["watch_note"] and s["missed_events"] >= 3 and s["observer_rebuilds"] >= 2
        s = d.wait_count(m.written)  # nothing lost on the way
        assert s["errors"] == 0
        since = time.monotonic()
        append(path, m.lines(2))
        d.wait_count(m.written)  # polling carries the data now
        time.sleep(max(0.0, 1.2 - (time.monotonic() - since)))
        assert not [t for t in n.times("WATCHDOG=1") if t > since + 0.6], "still pinging while degraded"
        assert n.times("WATCHDOG=1"), "never pinged while healthy"
    finally:
        n.close()

def test_watcher_awaits_a_missing_dir_through_its_ancestor(tmp_path: Path) -> None:
    """A wanted dir that is not there is not polled for: its nearest existing ancestor is watched, and
    only an entry on the way to it asks for a check. (The daemon then checks the watch every
    HEALTH_IDLE_SECONDS instead of every HEALTH_SECONDS, so an idle daemon barely wakes.)"""
    pokes: list[float] = []
    seen: list[str] = []
    w = Watcher(seen.append, lambda: pokes.append(time.monotonic()))
    agent = tmp_path / "agents" / "main"
    sessions = agent / "sessions"
    try:
        w.watch([Watch("main", sessions)])
        assert w.mode == "inotify" and not w.missing, "awaited through tmp_path, so not 'missing'"
        assert seen == ["main"], "a missing dir's agent is read once at the build (its files may have gone)"
        (tmp_path / "unrelated").mkdir()
        (tmp_path / "notes.txt").write_text("x")
        with pytest.raises(AssertionError):
            wait_until(lambda: pokes, timeout=0.5, what="no poke for entries off the way")
        agent.mkdir(parents=True)
        wait_until(lambda: pokes, what="a poke for agents/")
        w.check()  # the ancestor moved one level down: rebuilt to await from agents/main
        pokes.clear()
        sessions.mkdir()
        wait_until(lambda: pokes, what="a poke for sessions/")
        w.check()
        assert not w.missing and w.rebuilds == 2
        seen.clear()
        (sessions / "s1.jsonl").write_text("{}\n")
        wait_until(lambda: "main" in seen, what="an event from the dir now watched")
        pokes.clear()
        shutil.rmtree(sessions)
        wait_until(lambda: pokes, what="a poke when the watched dir is deleted")
    finally:
        w.stop()


def test_watcher_rebuilds_when_its_dir_is_deleted_even_if_a_new_one_has_its_inode(tmp_path: Path) -> None:
    """A sessions dir deleted and made again at once can get the same inode number back (ext4 hands freed
    ones out again), so the check cannot tell it from the dir the dead watch was on; the deletion itself has
    to count. The deletion event is put through the observer here while the dir stays: exactly what the
    check sees when the new dir has the old inode and the emitter has not yet exited."""
    pokes: list[int] = []
    seen: list[str] = []
    w = Watcher(seen.append, lambda: pokes.append(1))
    sessions = tmp_path / "s"
    sessions.mkdir()
    try:
        w.watch([Watch("main", sessions)])
        observer: Any = w._observer
        for emitter in observer.emitters:
            emitter.queue_event(DirDeletedEvent(str(sessions)))  # inotify's IN_DELETE_SELF, as watchdog reports it
        wait_until(lambda: pokes, what="a poke for the deleted dir")
        w.check()
        assert w.rebuilds == 1, "the watch on the deleted dir was kept"
        seen.clear()
        (sessions / "a.jsonl").write_text("{}\n")
        wait_until(lambda: "main" in seen, what="an event from the dir watched again")
    finally:
        w.stop()
