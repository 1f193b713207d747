"""The start-up catch-up in helper processes (`memory_syncd.daemon.workers`): the same index as reading in
process, READY=1 before the catch-up ends, and no helper outliving its daemon (SIGTERM or kill -9)."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from daemon_harness import Harness, Messages, Notifications, append, harness, now_ms, wait_until
from fixtures_openclaw import assistant, dumps, header, user

from memory_syncd import present
from memory_syncd.daemon import workers
from memory_syncd.daemon.workers import shares
from memory_syncd.read import cache
from memory_syncd.read.ingest import AgentIndex
from memory_syncd.read.parse import DayClock
from memory_syncd.read.sources import Agent

DAY_MS = 86_400_000


@pytest.fixture
def d(tmp_path: Path) -> Iterator[Harness]:
    with harness(tmp_path) as h:
        h.sessions.mkdir()
        yield h


def history(sessions: Path, files: int, per_file: int) -> int:
    """Transcripts of the last ten days before today (the catch-up reads them, but writes only today)."""
    total = 0
    for f in range(files):
        start = now_ms() - (10 - f % 9) * DAY_MS
        lines = [dumps(header(f"h{f}", start))]
        for i in range(per_file):
            body = f"file {f} message {i}: we looked at item {i * 7 % 101} and chose plan {i % 13}."
            rec = user(start + i * 10, body) if i % 2 == 0 else assistant(start + i * 10, body)
            lines.append(dumps(rec))
        (sessions / f"h{f}.jsonl").write_bytes(b"\n".join(lines) + b"\n")
        total += per_file
    return total


def helpers_of(pid: int) -> list[int]:
    """The catch-up helper processes whose parent is `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid and b"memory_syncd.daemon.workers" in cmdline:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def sources(h: Harness) -> dict[str, object]:
    """The checkpoint's sources, keyed by file name, without what depends on when it was written."""
    saved = h.checkpoint()
    return {Path(s["path"]).name: s for s in saved["sources"].values()} | {"retired": saved.get("retired")}


def test_catch_up_in_a_helper_gives_the_in_process_index(tmp_path: Path) -> None:
    (tmp_path / "helper").mkdir()
    (tmp_path / "inline").mkdir()
    with harness(tmp_path / "helper") as a, harness(tmp_path / "inline") as b:
        a.sessions.mkdir()
        history(a.sessions, 6, 400)
        m = Messages()
        append(a.sessions / "today.jsonl", m.header("today") + m.lines(50))
        b.sessions = a.sessions  # the same transcripts, two state dirs
        a.write_config(worker_catch_up_mb=0)  # always in helpers
        b.write_config(worker_catch_up_mb=1e6)  # never
        a.start()
        b.start()
        sa, sb = a.must_status(), b.must_status()
        assert "helpers read 1 of 1 agent(s)" in a.log_text(), a.log_text()
        assert sa["errors"] == 0, sa
        assert "helper process" not in b.log_text()
        assert sa["messages_today"] == sb["messages_today"] == m.written
        assert sa["files"] == sb["files"] == 7
        assert sa["bytes_read"] == sb["bytes_read"] > 0
        a.wait_count(m.written)
        b.wait_count(m.written)
        assert sources(a) == sources(b)
        # After the catch-up the daemon goes on as ever: new messages reach the file.
        append(a.sessions / "today.jsonl", m.lines(3))
        a.wait_count(m.written)
        assert a.stop() == 0 and b.stop() == 0


def test_ready_comes_before_a_long_catch_up_ends(d: Harness) -> None:
    history(d.sessions, 8, 25_000)
    d.write_config(worker_catch_up_mb=0)
    n = Notifications(d.root / "notify.sock")
    n.start()
    try:
        d.start(env={"NOTIFY_SOCKET": str(d.root / "notify.sock")}, wait=False)
        assert d.proc is not None
        wait_until(lambda: n.times("READY=1"), timeout=20, what="READY=1")
        s = d.must_status()
        assert s["pid"] == d.proc.pid
        assert not s["caught_up"]  # READY=1 came with about 2 s of reading still to do
        assert "still catching up" in present.status(s)
        d.wait_ready(timeout=120)
        wait_until(lambda: any("STATUS=watching" in msg for _, msg in n.got), what="STATUS=watching")
        assert d.stop() == 0
    finally:
        n.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_no_helper_outlives_its_daemon(d: Harness, sig: int) -> None:
    total = history(d.sessions, 8, 25_000)
    d.write_config(worker_catch_up_mb=0)
    proc = d.start(wait=False)
    seen = wait_until(lambda: helpers_of(proc.pid), timeout=20, what="a catch-up helper", interval=0.01)
    stopped = time.monotonic()
    os.kill(proc.pid, sig)
    rc = proc.wait(timeout=10)
    d.proc = None
    if sig == signal.SIGTERM:
        assert rc == 0
        assert time.monotonic() - stopped < 3.0
    # Well before they would have finished (about 2 s of reading): they noticed their daemon is gone.
    wait_until(lambda: not any(alive(p) for p in seen), timeout=1.2, what="the helpers to end", interval=0.01)
    # A restart catches up in full, counting nothing twice.
    d.write_config()
    d.start()
    d.wait_ready(timeout=120)
    assert len(d.checkpoint()["sources"]) == 8
    out = d.cli("compare", "--json", *d.args())
    assert out.returncode == 0, out.stderr
    assert sum(day["messages"] for day in json.loads(out.stdout)["days"]) == total
    assert d.stop() == 0


def test_agents_are_dealt_biggest_first_to_the_least_loaded_helper() -> None:
    assert shares([5, 1, 4, 0, 3], 2) == [[0, 1], [2, 4]]  # 6 and 7: the agent with nothing to read is left
    assert shares([10, 10, 10], 1) == [[0, 1, 2]]  # one core: one helper, still out of the daemon's heap
    assert shares([7], 4) == [[0]]
    assert shares([0, 0], 2) == []


def test_several_helpers_and_one_that_cannot_save(tmp_path: Path) -> None:
    """Three agents dealt to two helpers (each reads its share while the daemon waits on both); one agent's
    checkpoint cannot be written, so no report comes for it and the daemon reads it itself."""
    zone = ZoneInfo("UTC")
    agents = []
    for name in ("a1", "a2", "a3"):
        sessions = tmp_path / name / "sessions"
        sessions.mkdir(parents=True)
        history(sessions, 3, 200)
        agents.append(Agent(name, sessions, tmp_path / name / "memory"))
    state = tmp_path / "state"
    blocked = cache.cache_path(state, agents[2], "checkpoint")
    blocked.mkdir(parents=True)  # a directory where the checkpoint file should go
    jobs = [workers.Job((agents[0], agents[2]), zone, 1 << 20, state), workers.Job((agents[1],), zone, 1 << 20, state)]
    done = workers.run(jobs, threading.Event())
    assert sorted(done) == ["a1", "a2"]
    for agent in agents[:2]:
        saved = AgentIndex(agent, "UTC", 1 << 20, keep_vanished=True)
        assert cache.load(saved, cache.cache_path(state, agent, "checkpoint"))
        plain = AgentIndex(agent, "UTC", 1 << 20, keep_vanished=True)
        report = plain.refresh(DayClock(zone))
        assert saved.days() == plain.days()
        assert done[agent.id].read_bytes == report.read_bytes > 0
        assert done[agent.id].changed_days == report.changed_days


def test_a_stop_keeps_what_finished_helpers_saved(tmp_path: Path) -> None:
    """Stopping while helpers read: the one still reading is killed, and the report of the one that had
    finished is kept (the daemon adopts its checkpoint instead of reading that agent again next time)."""
    zone = ZoneInfo("UTC")
    quick = Agent("quick", tmp_path / "quick" / "sessions", tmp_path / "quick" / "memory")
    slow = Agent("slow", tmp_path / "slow" / "sessions", tmp_path / "slow" / "memory")
    for agent, files, per_file in ((quick, 1, 50), (slow, 8, 25_000)):
        agent.sessions_dir.mkdir(parents=True)
        history(agent.sessions_dir, files, per_file)
    state = tmp_path / "state"
    stopping = threading.Event()

    def progress() -> None:  # one helper left (the quick one has ended): stop
        if len(helpers_of(os.getpid())) == 1:
            stopping.set()

    jobs = [workers.Job((quick,), zone, 1 << 26, state), workers.Job((slow,), zone, 1 << 26, state)]
    done = workers.run(jobs, stopping, progress)
    assert stopping.is_set()
    assert sorted(done) == ["quick"]
    assert cache.load(AgentIndex(quick, "UTC", 1 << 26, keep_vanished=True),
                      cache.cache_path(state, quick, "checkpoint"))
    assert not cache.cache_path(state, slow, "checkpoint").exists()
    assert helpers_of(os.getpid()) == []
