"""The saved form of an agent's index: the one-shot commands' cache and the daemon's checkpoint.

Owns where they live and how they are loaded and saved. A saved index made for other settings (zone, line
cap, schema) or damaged is ignored and rebuilt from the transcripts; a failed save costs speed, nothing else.

Saving keeps each source's JSON from the last save and serializes again only the sources whose read state
(size, mtime, offset, cursor, identity) moved since: the daemon checkpoints every few seconds, and a history
of thousands of transcripts has one or two that change between checkpoints.
"""

from __future__ import annotations

import hashlib
import logging
import weakref
from pathlib import Path
from typing import Any

import orjson

from memory_syncd import statefile
from memory_syncd.errors import MemorySyncError
from memory_syncd.read.ingest import SCHEMA, AgentIndex, SourceState
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
        data = encode(idx)
        statefile.private_dir(path.parent)
        statefile.write_bytes(path, data)
    except (OSError, MemorySyncError) as e:  # MemorySyncError: a refused (replaced) state subdir
        return str(e)
    return None


# id(index) -> (a weak reference to it, {source key: (read state, that source's JSON)})
_saved: dict[int, tuple[weakref.ref[AgentIndex], dict[str, tuple[bytes, bytes]]]] = {}


def encode(idx: AgentIndex) -> bytes:
    """`idx.to_json()` as JSON bytes, reusing the JSON of sources whose read state has not moved."""
    ident = id(idx)
    entry = _saved.get(ident)
    if entry is None or entry[0]() is not idx:
        entry = _saved[ident] = (weakref.ref(idx, lambda _: _saved.pop(ident, None)), {})
    before = entry[1]
    kept: dict[str, tuple[bytes, bytes]] = {}
    parts = []
    for key, source in idx.sources.items():
        state = _read_state(source)
        hit = before.get(key)
        body = hit[1] if hit is not None and hit[0] == state else orjson.dumps(source.to_json())
        kept[key] = (state, body)
        parts.append(orjson.dumps(key) + b":" + body)
    entry[1].clear()
    entry[1].update(kept)
    # The rest of `AgentIndex.to_json()` (tests check the two agree byte for byte once parsed).
    head: dict[str, Any] = {"schema": SCHEMA, "agent": idx.agent.id, "timezone": idx.timezone,
                            "sessions_dir": str(idx.agent.sessions_dir), "max_line": idx.max_line,
                            "retired": {d.isoformat(): sorted(k) for d, k in idx.retired.items()}}
    return orjson.dumps(head)[:-1] + b',"sources":{' + b",".join(parts) + b"}}"


def _read_state(s: SourceState) -> bytes:
    """Everything that moves when a source is read again: an unchanged value means an unchanged summary."""
    return orjson.dumps([s.path, s.kind, s.size, s.mtime_ns, s.tail.offset, s.tail.skipping,
                         s.tail.identity.to_json() if s.tail.identity else None, s.cursor.to_json(), s.ident,
                         list(s.archive), len(s.summary.days), len(s.summary.models)])
