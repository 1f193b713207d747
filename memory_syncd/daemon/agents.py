"""Which agents the daemon serves right now, and the clean-up an agent's memory dir gets when it is taken on.

Pure look-ups for the engine (which owns the indexes and calls these on its own thread): discovery
re-reads `openclaw.json`, so the engine asks only at start, on the reconcile tick and when a state dir
changes, never on every transcript event.
"""

from __future__ import annotations

import os
from pathlib import Path

from memory_syncd.daemon.watch import Watch
from memory_syncd.errors import MemorySyncError
from memory_syncd.read.discover import discover, state_roots
from memory_syncd.read.sources import Agent
from memory_syncd.scope import Target
from memory_syncd.write import memfile

NEW_AGENTS = ""  # the `agent` of a "changed" request from a watched state dir (not from one agent's dirs)


def watches(agents: list[Agent], roots: list[Path]) -> tuple[Watch, ...]:
    """What the daemon watches: each agent's sessions dir and SQLite store dir; and each state dir (its
    openclaw.json) and its agents/, so that a new agent, or a workspace moved in the config, is seen at once
    rather than at the next reconcile scan."""
    out = [Watch(a.id, p) for a in agents for p in (a.sessions_dir, a.sqlite.parent if a.sqlite else None) if p]
    out += [Watch(NEW_AGENTS, p) for root in roots for p in (root, root / "agents")]
    return tuple(out)


def discovered(target: Target) -> tuple[list[Path], list[Agent]]:
    """The OpenClaw state dirs (watched for new agents) and the agents found in them now.

    Filtered, not `select`ed: an agent named with --agent that does not exist yet is waited for (picked up
    when it appears), not an error on every scan. A --memory-dir given on the command line wins over the
    workspace in the config."""
    roots = state_roots(os.environ, target.cfg.openclaw_state_dir)
    wanted = {w.lower() for w in target.cfg.agents}
    fixed = {a.id: a for a in target.agents} if target.memory_dir is not None else {}
    found = [fixed.get(a.id, a) for a in discover(os.environ, target.cfg.openclaw_state_dir)
             if not wanted or a.id in wanted]
    return roots, found


def sweep(memory_dir: Path) -> str | None:
    """Remove the temp files a killed memory-file write left behind (kept as conflict copies when they hold
    lines the target lacks; memfile.sweep, under the writer lock as it requires). Returns what went wrong."""
    if not memory_dir.is_dir():
        return None
    try:
        with memfile.writer_lock(memory_dir, timeout=5.0):
            memfile.sweep(memory_dir)
    except (MemorySyncError, OSError) as e:
        return f"cannot clean up {memory_dir}: {e}"
    return None
