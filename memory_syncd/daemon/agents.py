"""Which agents the daemon serves right now, and the clean-up an agent's memory dir gets when it is taken on.

Pure look-ups for the engine (which owns the indexes and calls these on its own thread): discovery
re-reads `openclaw.json`, so the engine asks only at start, on the reconcile tick and when a state dir
changes, never on every transcript event.
"""

from __future__ import annotations

import os
from pathlib import Path

from memory_syncd.errors import MemorySyncError
from memory_syncd.read.discover import discover, state_roots
from memory_syncd.read.sources import Agent
from memory_syncd.scope import Target
from memory_syncd.write import memfile


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
