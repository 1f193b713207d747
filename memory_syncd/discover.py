"""Discovery: OpenClaw state dirs, their `openclaw.json`, the agents in them and each agent's workspace.

Owns the rules for where an install keeps its agents and where each agent's memory directory is (mirroring
OpenClaw's own path rules). Reads `openclaw.json` (JSON5) but never writes anything.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from memory_syncd.errors import SourceError, UsageError
from memory_syncd.sources import SQLITE_NAME, Agent

log = logging.getLogger(__name__)


def state_roots(env: Mapping[str, str], explicit: str = "") -> list[Path]:
    """OpenClaw state dirs to scan: the configured one, else $OPENCLAW_STATE_DIR, else ~/.openclaw and
    the legacy ~/.clawdbot; deduplicated by real path (the migration leaves a symlink at the old name)."""
    home = Path(env.get("OPENCLAW_HOME") or env.get("HOME") or "~").expanduser()
    if explicit:
        candidates = [Path(explicit).expanduser()]
    elif env.get("OPENCLAW_STATE_DIR"):
        candidates = [Path(env["OPENCLAW_STATE_DIR"]).expanduser()]
    else:
        candidates = [home / ".openclaw", home / ".clawdbot"]
    seen: set[str] = set()
    roots = []
    for c in candidates:
        real = os.path.realpath(c)
        if real in seen or not os.path.isdir(real):
            continue
        seen.add(real)
        roots.append(c)
    return roots


def discover(env: Mapping[str, str], explicit_root: str = "") -> list[Agent]:
    """Every agent under every state root, each with its sessions dir, store and memory dir."""
    home = Path(env.get("OPENCLAW_HOME") or env.get("HOME") or "~").expanduser()
    agents: dict[str, Agent] = {}
    for root in state_roots(env, explicit_root):
        conf = read_openclaw_config(root, env)
        defaults = _dig(conf, "agents", "defaults")
        tz = defaults.get("userTimezone") if isinstance(defaults.get("userTimezone"), str) else ""
        listed = {str(a.get("id", "")).lower(): a for a in _dig_list(conf, "agents", "list")}
        try:
            ids = sorted(p.name for p in (root / "agents").iterdir() if p.is_dir())
        except (FileNotFoundError, NotADirectoryError):
            ids = []
        except PermissionError as e:
            raise SourceError(f"cannot read {root / 'agents'}: permission denied") from e
        for agent_id in ids:
            if agent_id in agents:
                continue
            ws = _workspace(agent_id, listed.get(agent_id, {}), defaults, root, home)
            base = root / "agents" / agent_id
            agents[agent_id] = Agent(agent_id, base / "sessions", ws / "memory", base / "agent" / SQLITE_NAME,
                                     str(tz or ""))
    return list(agents.values())


def _workspace(agent_id: str, entry: Mapping[str, Any], defaults: Mapping[str, Any], root: Path,
               home: Path) -> Path:
    if isinstance(entry.get("workspace"), str):
        return _expand(entry["workspace"], home, root)
    dflt = defaults.get("workspace")
    if agent_id == "main":
        return _expand(dflt, home, root) if isinstance(dflt, str) else home / ".openclaw" / "workspace"
    if isinstance(dflt, str):
        return _expand(dflt, home, root) / agent_id
    return root / f"workspace-{agent_id}"


def _expand(p: str, home: Path, root: Path) -> Path:
    """`~/x` against the home dir; a relative path against the state dir (so a copied demo install works)."""
    if p.startswith("~/"):
        return home / p[2:]
    return root / p if not os.path.isabs(p) else Path(p)


def select(agents: list[Agent], wanted: tuple[str, ...], memory_dir: Path | None,
           *, allow_missing: bool = False) -> list[Agent]:
    """Narrow to the wanted agents and apply a `--memory-dir` redirect (which needs one agent).
    `allow_missing`: a wanted agent that does not exist yet is not an error (the daemon waits for it)."""
    if wanted:
        missing = [w for w in wanted if w.lower() not in {a.id for a in agents}]
        if missing and not allow_missing:
            have = ", ".join(a.id for a in agents) or "none"
            raise UsageError(f"no agent {', '.join(missing)!s} found (agents found: {have})")
        agents = [a for a in agents if a.id in {w.lower() for w in wanted}]
    if memory_dir is not None and (agents or not allow_missing):
        if len(agents) != 1:
            raise UsageError(f"--memory-dir needs exactly one agent, found {len(agents)}; add --agent ID")
        a = agents[0]
        agents = [Agent(a.id, a.sessions_dir, memory_dir, a.sqlite, a.timezone)]
    return agents


def read_openclaw_config(root: Path, env: Mapping[str, str]) -> dict[str, Any]:
    """`openclaw.json` as a dict ({} when absent or unreadable: discovery then uses defaults)."""
    path = Path(env["OPENCLAW_CONFIG_PATH"]).expanduser() if env.get("OPENCLAW_CONFIG_PATH") else root / "openclaw.json"
    try:
        text = path.read_text(encoding="utf-8-sig")  # JSON5 takes a byte-order mark as white space
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as e:
        log.warning("cannot read %s (%s); using OpenClaw's default workspaces and time zone", path, e)
        return {}
    try:
        value = json.loads(json5_to_json(text))
    except ValueError as e:
        log.warning("cannot parse %s (%s); using OpenClaw's default workspaces and time zone", path, e)
        return {}
    return value if isinstance(value, dict) else {}


def json5_to_json(text: str) -> str:
    """The JSON5 that OpenClaw configs use in practice -> JSON: comments, trailing commas, unquoted keys and
    single-quoted strings. Not a full JSON5 parser; enough for reading a few keys."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            j = i + 1
            buf = []
            while j < n and text[j] != c:
                if text[j] == "\\" and j + 1 < n:
                    buf.append("'" if text[j + 1] == "'" else text[j:j + 2])  # JSON has no \' escape
                    j += 2
                    continue
                buf.append('\\"' if text[j] == '"' else text[j])
                j += 1
            out.append('"' + "".join(buf) + '"')
            i = j + 1
        elif text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif c == ",":
            j = _skip_blank(text, i + 1)
            if j < n and text[j] in "}]":
                i += 1
                continue
            out.append(c)
            i += 1
        elif c.isalpha() or c in "_$":
            m = _WORD.match(text, i)  # JSON5 identifiers may be Unicode: `\w` covers every `isalpha` char
            assert m is not None
            word = m.group(0)
            rest = text[m.end():].lstrip()
            out.append(f'"{word}"' if rest.startswith(":") else word)
            i = m.end()
        else:
            out.append(c)
            i += 1
    return "".join(out)


_WORD = re.compile(r"[\w$]+")


def _skip_blank(text: str, i: int) -> int:
    """The index of the first character at or after `i` that is neither white space nor in a comment."""
    n = len(text)
    while i < n:
        if text[i] in " \t\r\n":
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        else:
            break
    return i


def _dig(conf: Mapping[str, Any], *keys: str) -> Mapping[str, Any]:
    cur: Any = conf
    for k in keys:
        cur = cur.get(k) if isinstance(cur, Mapping) else None
    return cur if isinstance(cur, Mapping) else {}


def _dig_list(conf: Mapping[str, Any], *keys: str) -> list[Mapping[str, Any]]:
    parent = _dig(conf, *keys[:-1])
    value = parent.get(keys[-1])
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []
