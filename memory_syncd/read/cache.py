"""The saved form of an agent's index: the one-shot commands' cache and the daemon's checkpoint.

Owns where they live and how they are loaded and saved. A saved index made for other settings (zone, line
cap, schema) or damaged is ignored and rebuilt from the transcripts; a failed save costs speed, nothing else.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from memory_syncd import statefile
from memory_syncd.errors import MemorySyncError
from memory_syncd.read.ingest import AgentIndex
from memory_syncd.read.sources import Agent

log = logging.getLogger(__name__)


def cache_path(state_dir: Path, agent: Agent, kind: str = "cache") -> Path:
    """Where an agent's saved index lives: `cache/` for one-shot commands, `checkpoint/` for the daemon.

    They are kept apart because the daemon keeps the keys of vanished transcripts (a day's count never
    drops while it runs) and the one-shot commands report what is on disk now; sharing one file would
    let either overwrite the other's view."""
    digest = hashlib.blake2b(str(agent.sessions_dir).encode(), digest_size=6).hexdigest()
    return state_dir / kind / f"{agent.id}-{digest}.json"


def load(idx: AgentIndex, path: Path) -> bool:
    """Adopt the index saved at `path`, if there is one made for the same settings; return whether it was."""
    saved = statefile.read_json(path)
    if not isinstance(saved, dict):
        return False
    if not idx.load_json(saved):
        log.info("saved index %s was made with other settings; rebuilding", path)
        return False
    return True


def save(idx: AgentIndex, path: Path) -> str | None:
    """Write `idx` to `path`; return why it could not be written (the OS's words), or None."""
    try:
        statefile.private_dir(path.parent)
        statefile.write_json(path, idx.to_json())
    except (OSError, MemorySyncError) as e:  # MemorySyncError: a refused (replaced) state subdir
        return str(e)
    return None
