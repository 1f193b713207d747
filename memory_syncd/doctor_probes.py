"""The machine around an install, for `doctor`: the daemon's answer on the control socket, inotify limits
against what the daemon would watch, the user service, and whether LLM summaries can run.

Owns only looking: nothing here writes, starts or imports anything heavy (the Anthropic SDK is looked up,
not imported), and nothing can block for long (the control socket has a one-second timeout; /proc and
the env file are read with a size cap). The API key is never part of a finding, only where it was found.
Each probe returns one `Finding`; `doctor` turns them into its checks.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memory_syncd import config, safeio
from memory_syncd import service as svc
from memory_syncd.daemon import control
from memory_syncd.errors import MemorySyncError

INOTIFY = Path("/proc/sys/fs/inotify")
ENV_FILE_LIMIT = 64 * 1024
_KEYS = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")
_SYSCTL = ("sudo sysctl fs.inotify.max_user_watches=524288 fs.inotify.max_user_instances=512 "
           "(persist it in /etc/sysctl.d/), then restart the service")


@dataclass(frozen=True)
class Finding:
    name: str
    status: str  # "ok", "warn" or "fail"
    detail: str
    fix: str = ""


def daemon_status(state_dir: Path) -> dict[str, Any] | None:
    """The running daemon's `status` reply, or None when none answers within a second."""
    try:
        return control.request(state_dir, {"cmd": "status"}, timeout=1.0)
    except (MemorySyncError, OSError):
        return None


# --- inotify ---


def inotify(dirs: list[Path], status: Mapping[str, Any] | None, proc: Path = Path("/proc")) -> Finding:
    """The per-user inotify limits against one instance and one watch per watched dir (watchdog's inotify
    observer: one instance, non-recursive watches), with what this user's processes already hold."""
    name = "inotify"
    limits = proc / "sys" / "fs" / "inotify"
    watches, instances = _int(limits / "max_user_watches"), _int(limits / "max_user_instances")
    if watches is None or instances is None:
        return Finding(name, "ok", "no inotify here (not Linux): the daemon uses the platform's native events")
    need = len(dirs)
    used_instances, used_watches = _inotify_in_use(proc, os.geteuid())
    detail = (f"max_user_watches {watches} ({used_watches} in use by this user), max_user_instances {instances} "
              f"({used_instances} in use); the daemon watches {need} dir(s) with 1 instance")
    mode = status.get("watch_mode") if status else None
    if status and mode in ("polling", "degraded"):
        return Finding(name, "warn", f"{detail}; the running daemon is polling ({status.get('watch_note')})", _SYSCTL)
    if status is None and (used_instances + 1 > instances or used_watches + need > watches):
        return Finding(name, "warn", f"{detail}: too few left, the daemon would fall back to polling", _SYSCTL)
    return Finding(name, "ok", detail + (f"; running daemon: watch mode {mode}" if mode else ""))


def _int(path: Path) -> int | None:
    try:
        data = safeio.read(path, limit=64)
        return int(data.strip()) if data else None
    except (MemorySyncError, ValueError):
        return None


def _inotify_in_use(proc: Path, uid: int) -> tuple[int, int]:
    """(inotify instances, watches) held by processes of `uid`: the limits are per user, and other
    programs (editors, file managers, other daemons) share them."""
    instances = watches = 0
    try:
        pids = [e for e in os.scandir(proc) if e.name.isdigit()]
    except OSError:
        return 0, 0
    for pid in pids:
        try:
            if pid.stat(follow_symlinks=False).st_uid != uid:
                continue
            fds = list(os.scandir(os.path.join(pid.path, "fd")))
        except OSError:  # gone, or not ours to look at
            continue
        for fd in fds:
            try:
                if os.readlink(fd.path) != "anon_inode:inotify":
                    continue
                instances += 1
                info = safeio.read(os.path.join(pid.path, "fdinfo", fd.name), limit=4 * 1024 * 1024)
                watches += (info or b"").count(b"inotify wd:")
            except (OSError, MemorySyncError):
                continue
    return instances, watches


# --- the service ---


def service(env: Mapping[str, str], state_dir: Path, status: Mapping[str, Any] | None) -> Finding:
    """Whether the user service is installed and the daemon answers."""
    name = "service"
    home = Path(env.get("HOME") or "~").expanduser()
    kind: svc.Kind | None = None
    try:
        kind = svc.detect_platform()
    except MemorySyncError as e:
        installed, where = False, str(e)
    else:
        path = svc.target_path(kind, home, env)
        installed = path.is_file()
        where = f"installed at {path}" if installed else f"not installed ({path} does not exist)"
    sock = control.socket_path(state_dir)
    if status is None:
        if installed:
            start = ("systemctl --user start memory-syncd; logs: journalctl --user -u memory-syncd" if kind == "systemd"
                     else f"launchctl kickstart gui/{os.getuid()}/{svc.LABEL}; logs: ~/Library/Logs/memory-syncd")
            return Finding(name, "fail", f"{where}, but the daemon is not running (no answer at {sock})", start)
        return Finding(name, "warn", f"{where}; no daemon running (no answer at {sock})",
                       "memory-syncd service install (or run `memory-syncd run` in the foreground)")
    running = (f"daemon running (pid {status.get('pid')}, watch mode {status.get('watch_mode')}, "
               f"errors {status.get('errors')})")
    if status.get("caught_up") is False:  # just started: reading what changed while it was down
        running += ", still catching up"
    if status.get("errors"):
        last = " ".join(str(status.get("last_error") or "").split())[:200]
        return Finding(name, "warn", f"{where}; {running}; last error: {last}",
                       "see `memory-syncd status` and the service log")
    if not installed:
        return Finding(name, "warn", f"{where}; {running}, not as a service: it stops with your session",
                       "memory-syncd service install")
    return Finding(name, "ok", f"{where}; {running}")


# --- LLM summaries ---


def llm(env: Mapping[str, str], model: str) -> Finding:
    """Whether the anthropic package and an API key are there (the key itself is never shown)."""
    name = "llm"
    try:
        has_sdk = importlib.util.find_spec("anthropic") is not None
    except (ImportError, ValueError):
        has_sdk = False
    env_file = config.default_config_path(env).parent / "env"
    key_at, problem = _key_source(env, env_file)
    parts = [f"model {model}", "anthropic package installed" if has_sdk else "anthropic package missing"]
    parts.append(f"API key set in {key_at}" if key_at else "no API key")
    detail = "; ".join(parts)
    if problem:
        return Finding(name, "warn", f"{detail}; {env_file} not used: {problem}", _fix(problem, env_file))
    if not has_sdk:
        return Finding(name, "warn", f"{detail}: summaries off", "pip install 'memory-syncd[llm]'")
    if not key_at:
        return Finding(name, "warn", f"{detail}: summaries off",
                       f"put ANTHROPIC_API_KEY=... in {env_file} (chmod 600), or set it in the environment")
    return Finding(name, "ok", f"{detail}: summaries can run")


def _key_source(env: Mapping[str, str], env_file: Path) -> tuple[str, str]:
    """(where a key was found or "", why the env file could not be used or "")."""
    for key in _KEYS:
        if env.get(key):
            return f"the environment (${key})", ""
    try:
        data = safeio.read(env_file, limit=ENV_FILE_LIMIT, follow=True, private=True)
    except MemorySyncError as e:
        return "", str(e).removeprefix(f"{env_file}: ")
    if data is None:
        return "", ""
    text = data.decode("utf-8", "replace")
    for key in _KEYS:
        if re.search(rf"^\s*(?:export\s+)?{key}\s*=\s*['\"]?[^'\"\s#]", text, re.MULTILINE):
            return f"{env_file} (${key})", ""
    return "", ""


def _fix(problem: str, path: Path) -> str:
    if "chmod" in problem:
        return f"chmod 600 {path}"
    return f"fix or remove {path}"
