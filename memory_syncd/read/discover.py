"""Discovery: OpenClaw state dirs, their config file, the agents in them and each agent's workspace.

Owns the rules for where an install keeps its agents and where each agent's memory directory is. They
mirror OpenClaw's own (src/config/paths.ts, src/cli/profile.ts, src/agents/agent-scope.ts,
src/agents/workspace-default.ts, src/routing/session-key.ts). Reads config files but never writes anything.

* Home (`~`): $OPENCLAW_HOME (a leading `~` in it means $HOME), else $HOME.
* State dirs: memory-syncd's `openclaw_state_dir`, else $OPENCLAW_STATE_DIR, else `~/.openclaw-<p>` for
  $OPENCLAW_PROFILE=<p> (any name but "default"), else `~/.openclaw` and the legacy `~/.clawdbot`,
  `~/.moltbot` and `~/.moldbot` that exist. Only existing dirs count.
* Legacy dirs are read too, deduplicated by real path (the migration leaves a symlink at the old name, so
  a migrated install counts once). The first dir is the one OpenClaw itself uses; when an agent id exists
  in an earlier dir, the later (legacy) copy of that agent is not read, and a warning names it and how to
  read it on its own (`OPENCLAW_STATE_DIR=<legacy dir>` with a separate `--state-dir`). Agents found
  only in a legacy dir are read.
* Config file: $OPENCLAW_CONFIG_PATH for the first state dir; otherwise the first of `openclaw.json`,
  `clawdbot.json`, `moltbot.json`, `moldbot.json` that exists in the state dir.
* Agent ids are the dirs under `agents/` whose names are valid OpenClaw ids (`[a-z0-9][a-z0-9_-]{0,63}`);
  config ids are normalized as OpenClaw does (lowercase, invalid characters to `-`).
* Default agent: the first `agents.list` entry with `default: true`, else `main` if listed, else the
  first entry, else `main`. In a legacy dir (`~/.clawdbot`, …) with a legacy config file (`clawdbot.json`,
  …), which current OpenClaw would have migrated had it ever run there, Clawdbot's rules apply: no `main`
  preference (`default: true`, else the first entry, else `main`), and the default workspaces below.
* Workspace: the agent's `agents.list[].workspace`; else, for the default agent,
  `agents.defaults.workspace` (older configs: `agent.workspace`), else `~/.openclaw/workspace`
  (`~/.openclaw/workspace-<p>` with a profile; it follows the home dir, not the state dir); for any other
  agent `<agents.defaults.workspace>/<id>`, else `<state dir>/workspace-<id>`. Clawdbot's were: the
  shared workspace, else `~/clawd`, for the default agent, and `~/clawd-<id>` for every other agent without
  its own (real Clawdbot configs name `~/clawd` explicitly).
* Paths: `~` and `~/x` mean the home dir. A relative path in a config file is resolved against the home
  dir: OpenClaw resolves it against the gateway's working directory, which is the home dir for a gateway
  run by systemd as a user service (OpenClaw's own unit sets none) or started from a login shell; `doctor`
  warns about relative workspaces because a gateway started elsewhere sees another directory. A relative
  path in the environment ($OPENCLAW_STATE_DIR, …) is taken from the current directory, as a shell means it.
* When a state dir is named (setting, $OPENCLAW_STATE_DIR or a profile), the default dirs are not read;
  `Survey.unread` lists those that exist, for `doctor` to say so.
* `agents.defaults.userTimezone` must name a zone; anything else is ignored with a warning.

Reading a config file never hangs and never raises: it goes through `safeio.read` (non-blocking, regular
files only, at most MAX_CONFIG_BYTES; a final symlink is followed because Nix and dotfiles setups link
the config, and a link to a FIFO or device is still refused), must be UTF-8, and is parsed by pyjson5 with
nesting capped at MAX_NESTING. When anything is wrong, one warning line names the file and the fix, and
OpenClaw's default workspaces and time zone are used, as with no config at all. Each distinct warning is
logged once per process: discovery runs on every reconcile tick of the daemon.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from memory_syncd.errors import SourceError, UsageError
from memory_syncd.read import openclaw_json
from memory_syncd.read.sources import SQLITE_NAME, Agent

log = logging.getLogger(__name__)

DEFAULT_AGENT = "main"
CURRENT_DIR = ".openclaw"
LEGACY_DIRS = (".clawdbot", ".moltbot", ".moldbot")
CONFIG_NAME = "openclaw.json"
LEGACY_CONFIG_NAMES = ("clawdbot.json", "moltbot.json", "moldbot.json")
_VALID_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}", re.IGNORECASE)
_INVALID_ID_CHARS = re.compile(r"[^a-z0-9_-]+")
_PROFILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_warned: set[str] = set()


@dataclass(frozen=True)
class Site:
    """One agent as found, with where its workspace came from (for `doctor`)."""

    agent: Agent
    workspace: Path
    source: str  # the config key it came from, or "OpenClaw's default" / "Clawdbot's default"
    relative: bool  # the configured path was relative (OpenClaw resolves it against the gateway's cwd)


@dataclass(frozen=True)
class StateDir:
    """One OpenClaw state dir and what it holds."""

    path: Path
    legacy: bool  # a pre-OpenClaw name (.clawdbot, …)
    config: Path | None  # the config file it uses; None when there is none
    config_problem: str  # why that file could not be used ("" when it was read, or when there is none)
    default_agent: str
    timezone: str  # agents.defaults.userTimezone, if it names a zone
    sites: tuple[Site, ...]
    not_read: tuple[str, ...]  # one line each: agents passed over here, with the reason and the fix


@dataclass(frozen=True)
class Survey:
    """Everything discovery found: the state dirs read, the legacy names that are links to one of them, and
    the default dirs left alone because a state dir was named."""

    dirs: tuple[StateDir, ...]
    aliases: tuple[tuple[Path, Path], ...]  # (legacy path, the state dir it resolves to)
    profile: str  # $OPENCLAW_PROFILE as used ("" for none)
    unread: tuple[tuple[Path, str], ...] = ()  # default dirs that exist but are not read, and why

    @property
    def agents(self) -> list[Agent]:
        return [s.agent for d in self.dirs for s in d.sites]


# --- where things are ---


def home_dir(env: Mapping[str, str]) -> Path:
    """`~` as OpenClaw means it: $OPENCLAW_HOME (its own leading `~` is $HOME), else $HOME."""
    base = Path(env.get("HOME") or "~").expanduser()
    override = (env.get("OPENCLAW_HOME") or "").strip()
    if not override:
        return base
    if override == "~" or override.startswith("~/"):
        return base / override[2:]
    return Path(os.path.abspath(override))


def profile_name(env: Mapping[str, str]) -> str:
    """$OPENCLAW_PROFILE, or "" when unset, "default", or not a name OpenClaw accepts (with a warning)."""
    p = (env.get("OPENCLAW_PROFILE") or "").strip()
    if not p or p.lower() == "default":
        return ""
    if not _PROFILE.fullmatch(p):
        _warn_once(f"OPENCLAW_PROFILE={p!r} is not a profile name OpenClaw accepts (letters, digits, _ and -); "
                   "ignoring it")
        return ""
    return p


def user_path(p: str, home: Path) -> Path:
    """A path from an OpenClaw config file: `~` is the home dir, and so is the base of a relative path."""
    p = p.strip()
    if p == "~" or p.startswith("~/"):
        return home / p[2:]
    return Path(os.path.normpath(home / p))


def env_path(p: str, home: Path) -> Path:
    """A path from the environment or the command line: `~` is the home dir, a relative path is taken
    from the current directory (where the shell that set it was)."""
    p = p.strip()
    if p == "~" or p.startswith("~/"):
        return home / p[2:]
    return Path(os.path.abspath(p))


def state_roots(env: Mapping[str, str], explicit: str = "") -> list[Path]:
    """The OpenClaw state dirs to read, in order, deduplicated by real path (see the module docstring)."""
    return [p for p, _ in _candidates(env, explicit)[0]]


def _candidates(env: Mapping[str, str], explicit: str) -> tuple[list[tuple[Path, bool]], list[tuple[Path, Path]],
                                                               list[tuple[Path, str]]]:
    """(state dirs with whether each is a legacy name, legacy links to one of them, default dirs that exist
    but are not read, each with the reason)."""
    home = home_dir(env)
    defaults = [home / CURRENT_DIR] + [home / name for name in LEGACY_DIRS]
    why = ""
    if explicit:
        paths, why = [env_path(explicit, home)], "openclaw_state_dir is set"
    elif (env.get("OPENCLAW_STATE_DIR") or "").strip():
        paths, why = [env_path(env["OPENCLAW_STATE_DIR"], home)], "OPENCLAW_STATE_DIR is set"
    elif profile := profile_name(env):
        paths, why = [home / f"{CURRENT_DIR}-{profile}"], f"OPENCLAW_PROFILE={profile} is set"
    else:
        paths = defaults
    seen: dict[str, Path] = {}
    roots: list[tuple[Path, bool]] = []
    aliases: list[tuple[Path, Path]] = []
    for path in paths:
        real = os.path.realpath(path)
        if real in seen:
            aliases.append((path, seen[real]))
            continue
        if not os.path.isdir(real):
            continue
        seen[real] = path
        roots.append((path, path.name in LEGACY_DIRS))
    unread = [(d, why) for d in defaults if why and os.path.isdir(d) and os.path.realpath(d) not in seen]
    return roots, aliases, unread


def config_file(root: Path, env: Mapping[str, str], *, first: bool = True) -> Path | None:
    """The config file of a state dir: $OPENCLAW_CONFIG_PATH for the first one, else the first of
    openclaw.json and the legacy names that exists there; None when there is none."""
    override = (env.get("OPENCLAW_CONFIG_PATH") or "").strip()
    if first and override:
        return env_path(override, home_dir(env))
    for name in (CONFIG_NAME, *LEGACY_CONFIG_NAMES):
        if os.path.lexists(root / name):
            return root / name
    return None


def normalize_id(value: object) -> str:
    """An agent id as OpenClaw normalizes it (`normalizeAgentId`)."""
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        return DEFAULT_AGENT
    if _VALID_ID.fullmatch(text):
        return text.lower()
    return _INVALID_ID_CHARS.sub("-", text.lower()).strip("-")[:64] or DEFAULT_AGENT


def default_agent_id(conf: Mapping[str, Any], *, legacy: bool = False) -> str:
    """OpenClaw's `resolveDefaultAgentId` (Clawdbot's, without the `main` preference, when `legacy`)."""
    entries = _dig_list(conf, "agents", "list")
    if not entries:
        return DEFAULT_AGENT
    marked = [e for e in entries if e.get("default")]
    if marked:
        return normalize_id(marked[0].get("id"))
    if not legacy and any(normalize_id(e.get("id")) == DEFAULT_AGENT for e in entries):
        return DEFAULT_AGENT
    return normalize_id(entries[0].get("id"))


# --- discovery ---


def discover(env: Mapping[str, str], explicit_root: str = "") -> list[Agent]:
    """Every agent under every state dir, each with its sessions dir, store and memory dir."""
    return survey(env, explicit_root).agents


def survey(env: Mapping[str, str], explicit_root: str = "") -> Survey:
    """Every state dir with its config, agents and workspaces. Raise SourceError only when an `agents`
    dir cannot be listed; every config problem is a warning and a fallback to OpenClaw's defaults."""
    roots, aliases, unread = _candidates(env, explicit_root)
    home = home_dir(env)
    profile = profile_name(env)
    taken: dict[str, Path] = {}
    dirs: list[StateDir] = []
    for i, (root, legacy) in enumerate(roots):
        cfile = config_file(root, env, first=i == 0)
        conf, problem = openclaw_json.load(cfile) if cfile is not None else ({}, "")
        if problem:
            _warn_once(f"{problem}; using OpenClaw's default workspaces and time zone")
        # Clawdbot's defaults only for a dir current OpenClaw never ran on: it would have migrated the dir.
        era = legacy and cfile is not None and cfile.name in LEGACY_CONFIG_NAMES
        dflt = default_agent_id(conf, legacy=era)
        tz = _timezone(conf, cfile)
        sites: list[Site] = []
        not_read: list[str] = []
        for agent_id in _agent_ids(root):
            if agent_id in taken:
                line = (f"{root / 'agents' / agent_id} is not read: agent {agent_id} comes from {taken[agent_id]}; "
                        f"to read it, run with OPENCLAW_STATE_DIR={root} and a separate --state-dir")
                _warn_once(line)
                not_read.append(line)
                continue
            taken[agent_id] = root
            ws, source, relative = _workspace(agent_id, conf, dflt, root, home, profile, era)
            base = root / "agents" / agent_id
            agent = Agent(agent_id, base / "sessions", ws / "memory", base / "agent" / SQLITE_NAME, tz)
            sites.append(Site(agent, ws, source, relative))
        dirs.append(StateDir(root, legacy, cfile, problem, dflt, tz, tuple(sites), tuple(not_read)))
    return Survey(tuple(dirs), tuple(aliases), profile, tuple(unread))


def _agent_ids(root: Path) -> list[str]:
    agents = root / "agents"
    try:
        with os.scandir(agents) as entries:
            names = sorted(e.name for e in entries if e.is_dir())
    except (FileNotFoundError, NotADirectoryError):
        return []
    except PermissionError as e:
        raise SourceError(f"cannot read {agents}: permission denied (make it readable by this user)") from e
    except OSError as e:
        raise SourceError(f"cannot read {agents}: {e.strerror or e}") from e
    ids = []
    for name in names:
        if _VALID_ID.fullmatch(name) and name == name.lower():
            ids.append(name)
        else:
            _warn_once(f"{agents / name} is not read: {name!r} is not an OpenClaw agent id", level=logging.INFO)
    return ids


def _workspace(agent_id: str, conf: Mapping[str, Any], dflt: str, root: Path, home: Path, profile: str,
               era: bool) -> tuple[Path, str, bool]:
    """(workspace, where it came from, whether the configured path was relative)."""
    entry = next((e for e in _dig_list(conf, "agents", "list") if normalize_id(e.get("id")) == agent_id), {})
    own = _path_value(entry.get("workspace"))
    if own:
        return user_path(own, home), "agents.list[].workspace", _relative(own)
    shared = _path_value(_dig(conf, "agents", "defaults").get("workspace"))
    key = "agents.defaults.workspace"
    if not shared:
        shared, key = _path_value(_dig(conf, "agent").get("workspace")), "agent.workspace"
    if agent_id == dflt:
        if shared:
            return user_path(shared, home), key, _relative(shared)
        if era:
            return home / "clawd", "Clawdbot's default", False
        suffix = f"workspace-{profile}" if profile else "workspace"
        return home / CURRENT_DIR / suffix, "OpenClaw's default", False
    if era:
        return home / f"clawd-{agent_id}", "Clawdbot's default", False
    if shared:
        return user_path(shared, home) / agent_id, f"{key}/<id>", _relative(shared)
    return root / f"workspace-{agent_id}", "OpenClaw's default", False


def _path_value(value: object) -> str:
    """A usable path string from a config value: NUL bytes removed (as OpenClaw does), "" if unusable."""
    if not isinstance(value, str):
        return ""
    text = value.replace("\0", "").strip()
    try:
        text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return ""
    return text


def _relative(p: str) -> bool:
    return not (p == "~" or p.startswith("~/") or os.path.isabs(p))


def _timezone(conf: Mapping[str, Any], path: Path | None) -> str:
    value = _dig(conf, "agents", "defaults").get("userTimezone")
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            ZoneInfo(value)
            return value
        except Exception:  # ZoneInfoNotFoundError, ValueError, and OSError for odd keys: all mean "not a zone"
            pass
    _warn_once(f"{path}: agents.defaults.userTimezone {str(value)[:60]!r} is not an IANA time zone; ignoring it "
               "(fix it in that file, or set memory-syncd's `timezone`)")
    return ""


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


# --- reading config files ---


def read_openclaw_config(root: Path, env: Mapping[str, str]) -> dict[str, Any]:
    """The config of state dir `root` as a dict ({} when there is none or it cannot be used; a warning
    then says why)."""
    path = config_file(root, env)
    if path is None:
        return {}
    conf, problem = openclaw_json.load(path)
    if problem:
        _warn_once(f"{problem}; using OpenClaw's default workspaces and time zone")
    return conf


def _warn_once(line: str, level: int = logging.WARNING) -> None:
    if line not in _warned:
        _warned.add(line)
        log.log(level, "%s", line)
    else:
        log.debug("%s", line)


def _dig(conf: Mapping[str, Any], *keys: str) -> Mapping[str, Any]:
    cur: Any = conf
    for k in keys:
        cur = cur.get(k) if isinstance(cur, Mapping) else None
    return cur if isinstance(cur, Mapping) else {}


def _dig_list(conf: Mapping[str, Any], *keys: str) -> list[Mapping[str, Any]]:
    parent = _dig(conf, *keys[:-1])
    value = parent.get(keys[-1])
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []

