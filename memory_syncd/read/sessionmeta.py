"""What OpenClaw knows about each session beyond its transcript: its session key and channel.

Owns reading `sessions.json` (JSONL era: session key -> entry with `sessionId`, `lastChannel`, `origin`)
into `SessionMeta` per session id. The SQLite store's `session_windows` / `session_nodes` give the same
facts for current installs (see `store.session_meta`). Read-only; a missing or broken file yields {}.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from memory_syncd import safeio
from memory_syncd.errors import Refused

log = logging.getLogger(__name__)
MAX_BYTES = 256 * 1024 * 1024  # real installs with years of sessions keep sessions.json in the tens of MiB


@dataclass(frozen=True, slots=True)
class SessionMeta:
    """A session's key (`agent:main:telegram:direct:42`, `agent:main:cron:<job>:run:<id>`, …) and channel."""

    key: str = ""
    channel: str = ""


def from_sessions_json(sessions_dir: Path) -> dict[str, SessionMeta]:
    """sessionId -> key and channel (telegram, discord, webchat, …) from OpenClaw's `sessions.json`."""
    path = os.path.join(sessions_dir, "sessions.json")
    try:
        raw = safeio.read(path, limit=MAX_BYTES, follow=True)
        data = json.loads(raw) if raw is not None else {}
    except Refused as e:
        log.warning("not reading %s", e)
        return {}
    except (ValueError, RecursionError):  # half-written, or nested past any real entry
        return {}
    out: dict[str, SessionMeta] = {}
    if not isinstance(data, dict):
        return out
    for key, entry in data.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("sessionId"), str):
            continue
        origin = entry.get("origin")
        if not isinstance(origin, dict):
            origin = {}
        channel = next((v for v in (entry.get("lastChannel"), origin.get("provider"), origin.get("surface"))
                        if isinstance(v, str) and v), "")
        out[entry["sessionId"]] = SessionMeta(str(key), channel)
    return out
