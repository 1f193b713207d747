"""What a command works on — config, agents, time zone, state dir — resolved once from flags, environment
and files, so every command and the daemon agree on it.

Time-zone precedence: `--timezone` / `$MEMORY_SYNCD_TIMEZONE` / config `timezone` (already merged by
`config.load`), else OpenClaw's `agents.defaults.userTimezone`, else the system zone (`$TZ` respected).
A zone that does not exist and a $TZ file that is no zone file are ConfigErrors (exit 78), as is a state dir
that is not a real dir of our own (statefile.check_dir), so a service manager does not restart into them.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tzlocal

from memory_syncd import safeio
from memory_syncd.config import Config, shown
from memory_syncd.errors import ConfigError, Refused, SourceError, UsageError
from memory_syncd.read.discover import discover, select, state_roots
from memory_syncd.read.sources import SQLITE_NAME, Agent
from memory_syncd.statefile import check_dir

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    cfg: Config
    agents: tuple[Agent, ...]
    zone: ZoneInfo
    state_dir: Path
    memory_dir: Path | None = None  # --memory-dir: it wins over the workspace discovery finds


def resolve(cfg: Config, env: Mapping[str, str], *, sessions_dir: Path | None = None,
            memory_dir: Path | None = None, wait_for_sources: bool = False) -> Target:
    """Find the agents to work on. Raise UsageError/SourceError with the fix when there is nothing to read
    (unless `wait_for_sources`: the daemon waits for directories to appear)."""
    if sessions_dir is not None:
        if memory_dir is None:
            raise UsageError("--sessions-dir needs --memory-dir (the memory dir of that agent)")
        if not sessions_dir.is_dir() and not wait_for_sources:
            raise SourceError(f"sessions dir {sessions_dir} does not exist (check --sessions-dir)")
        agent_id = cfg.agents[0] if len(cfg.agents) == 1 else _guess_id(sessions_dir)
        # the agent's SQLite store sits beside its sessions dir (`agents/<id>/agent/`) in the SQLite era
        store = sessions_dir.parent / "agent" / SQLITE_NAME
        agents = [Agent(agent_id, sessions_dir, memory_dir, store, _openclaw_zone(env, cfg))]
    else:
        found = discover(env, cfg.openclaw_state_dir)
        if not found and not wait_for_sources:
            roots = state_roots(env, cfg.openclaw_state_dir)
            where = ", ".join(str(r) for r in roots) or _default_root_text(env, cfg)
            raise SourceError(f"no OpenClaw agents found under {where} (set OPENCLAW_STATE_DIR, or pass "
                              "--sessions-dir DIR --memory-dir DIR)")
        agents = select(found, cfg.agents, memory_dir, allow_missing=wait_for_sources)
    zone = resolve_zone(cfg.timezone or next((a.timezone for a in agents if a.timezone), ""), env)
    state_dir = cfg.resolved_state_dir(env)
    try:
        check_dir(state_dir)
    except Refused as e:  # someone else's dir, or a link, is refused before anything is read from it;
        if e.reason in ("symlink", "foreign", "exposed"):  # one we cannot use only costs the caches
            raise
    return Target(cfg, tuple(agents), zone, state_dir, memory_dir)


def _openclaw_zone(env: Mapping[str, str], cfg: Config) -> str:
    """OpenClaw's userTimezone when an install is found: the zone precedence does not depend on whether
    agents were discovered or given with --sessions-dir."""
    try:
        found = discover(env, cfg.openclaw_state_dir)
    except SourceError:
        return ""
    return next((a.timezone for a in found if a.timezone), "")


def _guess_id(sessions_dir: Path) -> str:
    parts = sessions_dir.resolve().parts
    return parts[-2].lower() if len(parts) >= 3 and parts[-3] == "agents" else "main"


def _default_root_text(env: Mapping[str, str], cfg: Config) -> str:
    if cfg.openclaw_state_dir:
        return cfg.openclaw_state_dir
    return env.get("OPENCLAW_STATE_DIR") or "~/.openclaw"


def resolve_zone(name: str, env: Mapping[str, str]) -> ZoneInfo:
    """The named zone, else the system zone: $TZ, then what tzlocal finds, then UTC.

    Raise ConfigError (exit 78) for a `name` that is no zone (it comes from OpenClaw's userTimezone: ours
    is checked by config.load) and for a $TZ that names a file which is not a zone file."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ConfigError(None, [f"unknown zone {shown(name)}; fix it in openclaw.json, or set `timezone` "
                                     "in memory-syncd's config (or --timezone) to an IANA name such as "
                                     "Europe/Berlin"], what="OpenClaw's agents.defaults.userTimezone") from e
    tz = env.get("TZ", "").lstrip(":")
    if tz:
        try:
            return ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            if os.path.isabs(tz) and os.path.lexists(tz):
                return _zone_file(tz)
    try:  # the system's zone as tzlocal finds it: /etc/timezone, /etc/localtime, timedatectl's files
        return ZoneInfo(tzlocal.get_localzone_name() or "UTC")
    except (ZoneInfoNotFoundError, ValueError, OSError) as e:  # a broken or conflicting system setting
        log.warning("cannot tell the system time zone (%s); using UTC (set `timezone` in the config)", e)
    return ZoneInfo("UTC")


def _zone_file(tz: str) -> ZoneInfo:
    fix = "set TZ to a zone name such as Europe/Berlin, or unset it"
    try:
        data = safeio.read(tz, limit=1 << 20, follow=True)  # a FIFO or device here must not hang us
    except Refused as e:
        raise ConfigError(None, [f"{e.detail.split(';')[0]}; {fix}"], what=f"TZ={tz}") from None
    try:
        return ZoneInfo.from_file(io.BytesIO(data or b""), key=_zone_key(tz) or "localtime")
    except (ValueError, OSError, IndexError) as e:
        raise ConfigError(None, [f"not a time zone file; {fix}"], what=f"TZ={tz}") from e


def _zone_key(path: str) -> str:
    real = os.path.realpath(path)
    marker = "/zoneinfo/"
    return real.split(marker, 1)[1] if marker in real else ""
