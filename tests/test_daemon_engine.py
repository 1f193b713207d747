"""The engine in-process, for what cannot be provoked from outside the daemon: telling a lost file event
from one that is merely late, and keeping its own flush deadline with no scheduler around it. (The
end-to-end path — a watch that delivers nothing, detected and degraded to polling — is in
test_daemon_watch.py.)"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from daemon_harness import AUTO, Messages, append, away_from_midnight, now_ms, today, wait_until
from fixtures_openclaw import assistant, dumps, header, user

from memory_syncd import config
from memory_syncd.daemon.engine import EVENT_GRACE, Engine, Req, ReqKind
from memory_syncd.read.ingest import AgentIndex
from memory_syncd.read.parse import DayClock
from memory_syncd.scope import resolve


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    with running(tmp_path) as e:
        yield e


@contextlib.contextmanager
def running(tmp_path: Path, **daemon: float) -> Iterator[Engine]:
    """An engine on its own thread over `tmp_path/sessions`, caught up; `daemon` sets [daemon] keys."""
    sessions = tmp_path / "sessions"
    sessions.mkdir(exist_ok=True)  # a second run over the same history finds it there
    cfg = config.load(None, os.environ, {"timezone": "UTC", "state_dir": str(tmp_path / "state")})
    cfg = dataclasses.replace(cfg, daemon=dataclasses.replace(cfg.daemon, **daemon))
    target = resolve(cfg, os.environ, sessions_dir=sessions, memory_dir=tmp_path / "memory")
    e = Engine(target, discovering=False)
    thread = threading.Thread(target=e.run, daemon=True)
    thread.start()
    wait_until(lambda: e.caught_up, what="catch-up")
    try:
        yield e
    finally:
        e.post(Req(ReqKind.STOP))
        thread.join(timeout=10)


def test_scan_finding_unannounced_data_counts_a_miss_only_without_a_late_event(engine: Engine) -> None:
    path = engine.target.agents[0].sessions_dir / "s1.jsonl"
    m = Messages()
    append(path, m.header("s1") + m.lines(2))
    engine.post(Req(ReqKind.RESCAN))  # the scan reads it; no event came: a suspect, not yet a miss
    wait_until(lambda: engine.status.messages_today == 2, what="the scan")
    assert engine.missed_events == 0
    engine.post(Req(ReqKind.CHANGED, "main"))  # ... the event arrives late, within the grace: not missed
    time.sleep(EVENT_GRACE + 0.5)
    assert engine.missed_events == 0

    append(path, m.lines(1))
    engine.post(Req(ReqKind.RESCAN))  # and this time no event ever comes
    wait_until(lambda: engine.missed_events == 1, timeout=EVENT_GRACE + 3, what="the miss")
    assert engine.status.messages_today == 3


def _written(tmp_path: Path) -> int | None:
    """N from today's memory file's `*Auto-generated from N session messages*` (None: not written yet)."""
    try:
        found = AUTO.findall((tmp_path / "memory" / f"{today()}.md").read_text())
    except FileNotFoundError:
        return None
    return int(found[0]) if found else None


def test_the_engine_keeps_its_own_flush_deadline(tmp_path: Path) -> None:
    """No scheduler posts a flush: a change is written once `debounce_seconds` have passed without another
    one, and a steady stream (never quiet that long) no later than `max_delay_seconds` after its first
    unwritten change."""
    away_from_midnight()
    with running(tmp_path, debounce_seconds=0.4, max_delay_seconds=1.0) as engine:
        path = engine.target.agents[0].sessions_dir / "s1.jsonl"
        m = Messages()
        append(path, m.header("s1") + m.lines(1))
        start = time.monotonic()
        engine.post(Req(ReqKind.CHANGED, "main"))
        wait_until(lambda: _written(tmp_path) == 1, timeout=5, what="the debounced write", interval=0.01)
        assert time.monotonic() - start >= 0.4  # not before the quiet time

        counts = set()
        stream_end = time.monotonic() + 3.0
        while time.monotonic() < stream_end:  # a change every 0.1 s: never 0.4 s quiet
            append(path, m.one())
            engine.post(Req(ReqKind.CHANGED, "main"))
            time.sleep(0.1)
            counts.add(_written(tmp_path))
        assert len(counts - {1}) >= 1, "nothing written while the stream went on"
        wait_until(lambda: _written(tmp_path) == m.written, timeout=5, what="the last write")


def test_a_new_zone_is_read_again_through_helpers(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A reload with another zone re-reads every transcript (day buckets depend on the zone); with
    `worker_catch_up_mb = 0` helper processes do it, and the days come out as an in-process read gives them."""
    caplog.set_level(logging.INFO, logger="memory_syncd.daemon.workers")
    with running(tmp_path, worker_catch_up_mb=0) as engine:
        start = now_ms() - 3 * 86_400_000
        records = [header("s1", start)] + [(user if i % 2 == 0 else assistant)(start + i * 3_600_000, f"step {i}")
                                          for i in range(72)]
        append(engine.target.agents[0].sessions_dir / "s1.jsonl", b"".join(dumps(r) + b"\n" for r in records))
        engine.post(Req(ReqKind.CHANGED, "main"))
        wait_until(lambda: sum(d.messages for d in engine.indexes["main"].days().values()) == 72, what="reading")
        before = engine.generation["main"]
        tokyo = dataclasses.replace(engine.target, zone=ZoneInfo("Asia/Tokyo"))
        done = threading.Event()

        def reload() -> None:
            engine.set_target(tokyo)
            done.set()

        engine.post(Req(ReqKind.CALL, fn=reload))
        assert done.wait(30)
        assert "helpers read 1 of 1 agent(s)" in caplog.text
        idx = engine.indexes["main"]
        assert idx.timezone == "Asia/Tokyo" and engine.generation["main"] > before
        assert engine.errors == 0, engine.last_error
        inline = AgentIndex(idx.agent, "Asia/Tokyo", idx.max_line)
        inline.refresh(DayClock(ZoneInfo("Asia/Tokyo")))
        assert idx.days() == inline.days()


def _count_in(path: Path) -> int | None:
    try:
        found = AUTO.findall(path.read_text())
    except FileNotFoundError:
        return None
    return int(found[0]) if found else None


@pytest.mark.parametrize("days_down", [1, 2])
def test_days_that_grew_while_the_daemon_was_down_are_written_at_start(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, days_down: int) -> None:
    """The daemon stops on day D at 21:00; the agent goes on until 23:50 (and, down two days, on D+1); it
    starts again after midnight. The catch-up finishes D's file (the newest day its checkpoint held) and
    writes D+1's, not only today's: no later event would ever mark them again."""
    away_from_midnight()
    real_today = datetime.now(UTC).date()
    d = real_today - timedelta(days=days_down)

    def at(day: date, hour: int, minute: int) -> int:
        return int(datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC).timestamp() * 1000)

    memory = tmp_path / "memory"
    path = tmp_path / "sessions" / "s1.jsonl"
    monkeypatch.setattr(Engine, "_today", lambda self: d)
    with running(tmp_path) as engine:
        path.write_bytes(b"".join(dumps(r) + b"\n" for r in (
            header("s1", at(d, 21, 0)), user(at(d, 21, 0), "plan A?"), assistant(at(d, 21, 1), "plan A it is."))))
        engine.post(Req(ReqKind.CHANGED, "main"))
        wait_until(lambda: _count_in(memory / f"{d}.md") == 2, what="day D written by the first run")
    late = [(d, 23, 10), (d, 23, 50)] + [(d + timedelta(days=1), 9, 0)] * (days_down - 1)
    append(path, b"".join(dumps((user if i % 2 == 0 else assistant)(at(day, h, m), f"late {i}: ship B.")) + b"\n"
                          for i, (day, h, m) in enumerate(late)))
    monkeypatch.setattr(Engine, "_today", lambda self: real_today)
    with running(tmp_path):
        assert _count_in(memory / f"{d}.md") == 2 + 2
        if days_down == 2:
            assert _count_in(memory / f"{d + timedelta(days=1)}.md") == 1
