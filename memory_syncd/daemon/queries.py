"""`compare` answered by the running daemon from the index it already holds, both ends of it.

The CLI (`compare`) sends what it resolved — the agents with their dirs, the zone, the limits that change
counts — and the day it calls today. The daemon answers only if its own view is the same (same agents and
dirs, same zone and limits, caught up); otherwise, or when no daemon answers in time, the CLI reads the
transcripts itself. Either way the output is the same: the daemon answers from an index that file events
keep current (while it polls instead, it first reads whatever grew, as the reconcile scan does), and
leaves out what only it keeps — the messages of transcripts that have since vanished — since a one-shot run
never sees those. Each agent's days are added up once per change of its index, not once per question.

The answer is computed on the engine thread (the only owner of the indexes); the control server's thread
waits for it at most ANSWER_SECONDS.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from memory_syncd import report
from memory_syncd.errors import DaemonNotRunning, MemorySyncError
from memory_syncd.read.index import Day, days_of
from memory_syncd.read.sources import Agent
from memory_syncd.scope import Target

if TYPE_CHECKING:
    from memory_syncd.daemon.engine import Engine

log = logging.getLogger(__name__)

VERSION = 1  # of the request and reply below; a daemon of another version is simply not asked
ANSWER_SECONDS = 2.0  # under the control server's CLIENT_DEADLINE: a busy daemon is not waited for


def compare(target: Target, *, include_today: bool, today: date, use_daemon: bool = True,
            progress: report.Progress | None = None) -> report.Comparison:
    """The comparison of days and memory files: from the daemon when one runs for this state dir with the
    same view, else by reading the transcripts here."""
    if use_daemon:
        answer = _ask(target, include_today=include_today, today=today)
        if answer is not None:
            return answer
    indexes = report.index_agents(target, progress=progress)
    return report.compare(target, indexes, include_today=include_today, today=today)


def view(zone: str, max_line: int, sparse: float, agents: list[Agent]) -> dict[str, Any]:
    """What must match between the CLI and the daemon for the daemon's answer to be the CLI's."""
    return {"zone": zone, "max_line_bytes": max_line, "sparse": sparse,
            "agents": sorted([str(v) for v in dataclasses.astuple(a)] for a in agents)}


def _ask(target: Target, *, include_today: bool, today: date) -> report.Comparison | None:
    from memory_syncd.daemon import control

    cfg = target.cfg
    req = {"cmd": "compare", "v": VERSION, "include_today": include_today, "today": today.isoformat(),
           "view": view(target.zone.key, cfg.max_line_bytes, cfg.sparse_bytes_per_message, list(target.agents))}
    try:
        reply = control.request(target.state_dir, req, timeout=ANSWER_SECONDS + 1.0)
    except DaemonNotRunning:
        return None
    except MemorySyncError as e:  # a socket we must not trust: read here, and say why once
        log.warning("not asking the daemon: %s", e)
        return None
    comparison = reply.get("comparison")
    if reply.get("v") != VERSION or not isinstance(comparison, dict):
        log.info("the daemon did not answer compare (%s); reading the transcripts here", reply.get("why"))
        return None
    try:
        result = report.Comparison.from_json(comparison)
    except (KeyError, TypeError, ValueError):
        log.warning("the daemon's compare reply was unreadable; reading the transcripts here")
        return None
    log.info("answered by the daemon from its index")
    return result


# -- the daemon's side --


def answer(engine: Engine, req: dict[str, Any], run: Callable[[Callable[[], dict[str, Any]]], dict[str, Any]],
           *, events: bool) -> dict[str, Any]:
    """The reply to a compare request; `run` runs a function on the engine thread and returns its result
    (or a refusal when the engine does not get to it in time). With `events` (file events arrive), the
    index is current as it is; without (polling), the agents are read again first."""
    if req.get("v") != VERSION:
        return refusal(f"request version {req.get('v')!r}, this daemon speaks {VERSION}")
    try:
        today = date.fromisoformat(str(req["today"]))
        include_today = bool(req["include_today"])
        wanted = req["view"]
        ids = {str(a[0]) for a in wanted["agents"]}
    except (KeyError, TypeError, ValueError, IndexError):
        return refusal("malformed compare request")
    if not engine.caught_up:  # the engine thread is busy with the catch-up: do not queue a call behind it
        return refusal("still catching up")
    return run(lambda: _on_engine(engine, wanted, ids, include_today=include_today, today=today, events=events))


# agent -> (which index at which generation, its days without vanished transcripts, its skip counts)
_days: dict[str, tuple[tuple[int, int], dict[date, Day], Counter[str]]] = {}


def _on_engine(engine: Engine, wanted: Any, ids: set[str], *, include_today: bool, today: date, events: bool
               ) -> dict[str, Any]:
    cfg = engine.target.cfg
    agents = [engine.indexes[i].agent for i in ids if i in engine.indexes]
    if view(engine.target.zone.key, cfg.max_line_bytes, cfg.sparse_bytes_per_message, agents) != wanted:
        return refusal("this daemon serves other agents, dirs or settings")
    if not events:
        engine.refresh(ids)
    rows: list[report.AgentDays] = []
    for agent in sorted(agents, key=lambda a: a.id):
        idx = engine.indexes[agent.id]
        key = (id(idx), engine.generation[agent.id])
        kept = _days.get(agent.id)
        if kept is None or kept[0] != key:
            # Without the retired keys: what vanished transcripts held counts in the daemon's own files only.
            kept = _days[agent.id] = (key, days_of(s.summary for s in idx.sources.values()), idx.skipped())
        rows.append((agent, kept[1], kept[2]))
    result = report.compare_days(engine.target, rows, include_today=include_today, today=today)
    return {"v": VERSION, "comparison": result.to_json()}


def refusal(why: str) -> dict[str, Any]:
    return {"v": VERSION, "comparison": None, "why": why}
