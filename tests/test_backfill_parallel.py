"""Reading and writing in parallel gives what doing it one step at a time gives: `index_agents` with forked
helpers builds the same indexes (the same sources in the same order, the same counts and skips) and saves
the same caches as without them, even when a helper dies; and `backfill.run` with workers writes the same
bytes as without."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fixtures_openclaw import REPO

from memory_syncd import backfill, config, report
from memory_syncd.read.ingest import AgentIndex
from memory_syncd.read.store_rows import StoreChunk
from memory_syncd.scope import Target, resolve

sys.path.insert(0, str(REPO / "bench"))
import corpus  # bench/ is not a package


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    state = tmp_path_factory.mktemp("openclaw")
    corpus.generate(state, size_mb=3, days=6, agents=3, seed=5)
    return state


def target_in(history: Path, state_dir: Path) -> Target:
    env = {"OPENCLAW_STATE_DIR": str(history), "HOME": str(state_dir / "home"), "TZ": "UTC"}
    cfg = config.load(None, env, {"timezone": corpus.TIMEZONE, "state_dir": str(state_dir)})
    return resolve(cfg, env)


def snapshot(indexes: list[AgentIndex]) -> list[Any]:
    return [(idx.agent.id, list(idx.sources), json.dumps(idx.to_json(), sort_keys=True), dict(idx.skipped()))
            for idx in indexes]


def caches(state_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (state_dir / "cache").glob("*.json")}


def sequentially(history: Path, state_dir: Path) -> list[AgentIndex]:
    """`index_agents` with no helper at all, for what the helpers' reading must equal."""
    with pytest.MonkeyPatch.context() as m:
        m.setattr(report, "_plan", lambda *a: None)
        return report.index_agents(target_in(history, state_dir))


def die_after_taking_one(target: Target, indexes: list[AgentIndex], plan: report.Plan, next_item: Any,
                         conn: Any) -> None:
    """A helper (`report._helper`'s stand-in) that dies holding an item: nobody else reads it before the refresh."""
    for _ in report._take(next_item, len(plan.work)):
        os._exit(3)
    os._exit(3)


def test_helpers_build_the_same_indexes_and_caches(history: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report, "_HELPER_MIN_BYTES", 0)
    target = target_in(history, tmp_path / "a")
    assert len(target.agents) == 3
    readers = min(len(os.sched_getaffinity(0)), 3)
    plan = report._plan([AgentIndex(a, target.zone.key, 1 << 20) for a in target.agents])
    assert (plan.readers if plan else 0) == (readers if readers > 1 else 0)  # this process and one per other core
    assert sorted({i for i, _ in plan.work}) == [0, 1, 2] if plan else readers < 2
    parallel = report.index_agents(target)
    sequential = sequentially(history, tmp_path / "b")
    assert snapshot(parallel) == snapshot(sequential)
    assert caches(tmp_path / "a") == caches(tmp_path / "b") and len(caches(tmp_path / "a")) == 3
    again = report.index_agents(target)  # from the caches the helpers saved: nothing is read again
    assert snapshot(again) == snapshot(parallel)


def test_a_helper_that_dies_costs_only_time(history: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report, "_HELPER_MIN_BYTES", 0)
    monkeypatch.setattr(report, "_helper", die_after_taking_one)
    got = report.index_agents(target_in(history, tmp_path / "a"))
    expected = sequentially(history, tmp_path / "b")
    assert snapshot(got) == snapshot(expected)


def test_little_to_read_needs_no_helper(history: Path, tmp_path: Path) -> None:
    target = target_in(history, tmp_path)
    assert report._plan([AgentIndex(a, target.zone.key, 1 << 20) for a in target.agents]) is None  # 3 MB in all


def test_workers_write_the_same_bytes(history: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    written = []
    for workers in (1, 2):
        monkeypatch.setattr(backfill, "_workers", lambda days, n=workers: n)
        target = target_in(history, tmp_path / str(workers))
        memory = tmp_path / str(workers) / "memory"
        target = replace(target, agents=tuple(replace(a, memory_dir=memory / a.id) for a in target.agents))
        for a in target.agents:
            a.memory_dir.mkdir(parents=True)
        results = backfill.run(target, report.index_agents(target), backfill.Selection(all=True, force=True),
                               today=date(2100, 1, 1))
        assert len(results) >= 8 and all(r.action == "created" for r in results)
        written.append({p.relative_to(memory): p.read_bytes() for p in memory.rglob("*.md")})
    assert written[0] == written[1]


def test_workers_follow_the_cores_this_process_may_use() -> None:
    """Under `taskset`, a cgroup cpuset or systemd's `CPUAffinity=`, one allowed core means one process, however
    many the machine has."""
    if not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs sched_setaffinity and two usable cores to tell the allowed cores from the machine's")
    allowed = os.sched_getaffinity(0)
    assert backfill._workers(100) >= 2
    try:
        os.sched_setaffinity(0, {min(allowed)})
        assert backfill._workers(100) == 1
    finally:
        os.sched_setaffinity(0, allowed)


@pytest.fixture(scope="module")
def store_history(history: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same history, each agent's transcripts in an OpenClaw 2026.9 store (compressed rows and all)."""
    import bench_store

    root = tmp_path_factory.mktemp("stores") / "openclaw"
    bench_store.build_store(history, root, "openclaw")
    return root


def test_helpers_share_out_a_store_in_runs_of_sessions(store_history: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one core: nothing is shared out")
    monkeypatch.setattr(report, "_HELPER_MIN_BYTES", 0)
    target = target_in(store_history, tmp_path / "a")
    plan = report._plan([AgentIndex(a, target.zone.key, 1 << 20) for a in target.agents])
    assert plan is not None
    chunks = [k for _, k in plan.work if isinstance(k, StoreChunk)]
    assert len(chunks) > 3 and len({(c.db, c.index) for c in chunks}) == len(chunks)
    parallel = report.index_agents(target)
    sequential = sequentially(store_history, tmp_path / "b")
    assert snapshot(parallel) == snapshot(sequential)  # the same models, in the same order, and the same spans
    assert caches(tmp_path / "a") == caches(tmp_path / "b")
    assert all(not k.startswith("chunk:") for idx in parallel for k in idx.sources)


def test_a_store_chunk_whose_helper_died_is_read_by_the_refresh(store_history: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report, "_HELPER_MIN_BYTES", 0)
    monkeypatch.setattr(report, "_helper", die_after_taking_one)
    got = report.index_agents(target_in(store_history, tmp_path / "a"))
    expected = sequentially(store_history, tmp_path / "b")
    # The sessions it had are read after the others: the same days, counts and switches, in another order.
    assert [(i.days(), i.skipped()) for i in got] == [(i.days(), i.skipped()) for i in expected]
    assert ([report.transitions(target_in(store_history, tmp_path / "a"), got)]
            == [report.transitions(target_in(store_history, tmp_path / "b"), expected)])
