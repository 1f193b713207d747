"""The engine in-process, for what cannot be provoked from outside the daemon: telling a lost file event
from one that is merely late. (The end-to-end path — a watch that delivers nothing, detected and degraded
to polling — is in test_daemon_watch.py.)"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_harness import Messages, append, wait_until

from memory_syncd import config
from memory_syncd.daemon.engine import EVENT_GRACE, Engine, Req
from memory_syncd.scope import resolve


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    sessions = tmp_path / "sessions"
    sessions.mkdir()
    cfg = config.load(None, os.environ, {"timezone": "UTC", "state_dir": str(tmp_path / "state")})
    target = resolve(cfg, os.environ, sessions_dir=sessions, memory_dir=tmp_path / "memory")
    e = Engine(target, discovering=False)
    thread = threading.Thread(target=e.run, daemon=True)
    thread.start()
    wait_until(lambda: e.caught_up, what="catch-up")
    try:
        yield e
    finally:
        e.post(Req("stop"))
        thread.join(timeout=10)


def test_scan_finding_unannounced_data_counts_a_miss_only_without_a_late_event(engine: Engine) -> None:
    path = engine.target.agents[0].sessions_dir / "s1.jsonl"
    m = Messages()
    append(path, m.header("s1") + m.lines(2))
    engine.post(Req("rescan"))  # the scan reads it; no event came: a suspect, not yet a miss
    wait_until(lambda: engine.status.get("messages_today") == 2, what="the scan")
    assert engine.missed_events == 0
    engine.post(Req("changed", "main"))  # ... the event arrives late, within the grace: not missed
    time.sleep(EVENT_GRACE + 0.5)
    assert engine.missed_events == 0

    append(path, m.lines(1))
    engine.post(Req("rescan"))  # and this time no event ever comes
    wait_until(lambda: engine.missed_events == 1, timeout=EVENT_GRACE + 3, what="the miss")
    assert engine.status["messages_today"] == 3
