"""Configuration: TOML file -> frozen `Config`, every problem reported at once.

Precedence, written down once and applied only here: command-line flag, then environment variable, then
config file, then built-in default. The config file itself is `--config`, else `$MEMORY_SYNCD_CONFIG`,
else `$XDG_CONFIG_HOME/memory-syncd/config.toml` when it exists (a missing default file is not an error;
a missing named file is).

Environment variables read here: MEMORY_SYNCD_CONFIG, MEMORY_SYNCD_STATE_DIR, MEMORY_SYNCD_TIMEZONE,
OPENCLAW_STATE_DIR (through `sources`), XDG_CONFIG_HOME, XDG_STATE_HOME, HOME.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from memory_syncd import safeio
from memory_syncd.errors import ConfigError, Refused

DEFAULT_MODEL = "claude-sonnet-4-6"


@dataclass(frozen=True)
class DaemonConfig:
    debounce_seconds: float = 0.5  # quiet time after activity before today's file is rewritten
    max_delay_seconds: float = 5.0  # a constant stream still flushes at least this often
    reconcile_seconds: float = 30.0  # stat scan that catches whatever the watcher missed
    checkpoint_seconds: float = 5.0  # how often ingested progress is persisted
    poll_seconds: float = 2.0  # interval of the polling fallback
    worker_catch_up_mb: float = 64.0  # a start-up catch-up reading more runs in helper processes


@dataclass(frozen=True)
class LLMConfig:
    model: str = DEFAULT_MODEL
    max_tokens: int = 1500
    timeout_seconds: float = 120.0
    nightly_time: str = "03:00"  # local time of the nightly summary of the previous day
    input_budget_chars: int = 120_000  # larger days are summarized in chunks
    max_retries: int = 4


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    timezone: str = ""  # IANA name; empty: OpenClaw's userTimezone, else the system zone
    openclaw_state_dir: str = ""  # empty: $OPENCLAW_STATE_DIR, else ~/.openclaw (legacy ~/.clawdbot)
    state_dir: str = ""  # memory-syncd's own state; empty: $XDG_STATE_HOME/memory-syncd
    agents: tuple[str, ...] = ()  # empty: every agent found
    write_mode: str = "inline"  # "inline": block inside YYYY-MM-DD.md; "separate": YYYY-MM-DD-memory-sync.md
    sparse_bytes_per_message: float = 5.0
    max_line_bytes: int = 64 * 1024 * 1024
    max_memory_file_bytes: int = 24 * 1024  # budget for the generated block of one day
    daemon: DaemonConfig = field(default_factory=DaemonConfig)
    llm: LLMConfig = field(default_factory=LLMConfig)

    def resolved_state_dir(self, env: Mapping[str, str]) -> Path:
        if self.state_dir:
            return Path(self.state_dir).expanduser()
        base = env.get("XDG_STATE_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".local" / "state")
        return Path(base) / "memory-syncd"


def default_config_path(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".config")
    return Path(base) / "memory-syncd" / "config.toml"


def load(path: Path | None, env: Mapping[str, str], overrides: Mapping[str, Any] | None = None) -> Config:
    """Build the Config: `overrides` (flags, None values ignored) over env over file over defaults.

    Raise ConfigError listing every problem (unknown keys, wrong types, bad values) with its key path."""
    cfg, error = load_despite_errors(path, env, overrides)
    if error is not None:
        raise error
    return cfg


def load_despite_errors(path: Path | None, env: Mapping[str, str],
                        overrides: Mapping[str, Any] | None = None) -> tuple[Config, ConfigError | None]:
    """`load`, except that a config with errors still gives a Config (what the file says that is valid, the
    defaults for the rest; only defaults if the file cannot be read) along with its error: `status` finds a
    running daemon, which keeps the config it last loaded, while the file is being fixed."""
    explicit = path is not None or bool(env.get("MEMORY_SYNCD_CONFIG"))
    if path is None:
        path = Path(env["MEMORY_SYNCD_CONFIG"]) if env.get("MEMORY_SYNCD_CONFIG") else default_config_path(env)
    path = path.expanduser()
    data: dict[str, Any] = {}
    try:
        present = path.exists()
    except OSError:  # e.g. a config dir we may not enter: let reading it say why
        present = True
    used: Path | None = path if present or explicit else None
    problems: list[str] = []
    unreadable: ConfigError | None = None  # is the whole error, as it always was (not the flags' problems too)
    if used is not None:
        try:
            data = _read_toml(used)
        except ConfigError as e:
            unreadable = e
    cfg = _build(data, problems)
    flat: dict[str, Any] = {}
    if env.get("MEMORY_SYNCD_TIMEZONE"):
        flat["timezone"] = env["MEMORY_SYNCD_TIMEZONE"]
    if env.get("MEMORY_SYNCD_STATE_DIR"):
        flat["state_dir"] = env["MEMORY_SYNCD_STATE_DIR"]
    flat.update({k: v for k, v in (overrides or {}).items() if v is not None})
    cfg = replace(cfg, path=used, **flat)
    _validate(cfg, problems)
    if unreadable is not None:
        return cfg, unreadable
    return cfg, ConfigError(used, problems) if problems else None  # names a file only if one was read


MAX_CONFIG_BYTES = 1 << 20
MAX_ENV_BYTES = 64 * 1024


def _read_toml(path: Path) -> dict[str, Any]:
    try:  # the config may be a link into a dotfiles repo; a FIFO, a device or a huge file is refused
        data = safeio.read(path, limit=MAX_CONFIG_BYTES, follow=True)
    except Refused as e:
        cause = e.__cause__
        if isinstance(cause, PermissionError):
            raise ConfigError(path, ["permission denied (make it readable by this user)"]) from None
        if e.reason == "unreadable" and isinstance(cause, OSError):
            raise ConfigError(path, [f"cannot read it: {cause.strerror or cause}"]) from None
        raise ConfigError(path, [e.detail]) from None
    if data is None:
        raise ConfigError(path, ["file not found (create it from config.example.toml or drop --config)"])
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(path, [f"not valid TOML: {e}"]) from None
    except RecursionError:
        raise ConfigError(path, ["not valid TOML: nested too deeply"]) from None


def _build(data: dict[str, Any], problems: list[str]) -> Config:
    top = _section(Config, data, "", problems, nested={"daemon", "llm"})
    for name, cls in (("daemon", DaemonConfig), ("llm", LLMConfig)):
        sub = data.get(name, {})
        if not isinstance(sub, dict):
            problems.append(f"{name}: expected a table")
            sub = {}
        top[name] = cls(**_section(cls, sub, name + ".", problems))
    if "agents" in top:
        top["agents"] = tuple(top["agents"])
    return Config(**top)


def _section(cls: type, data: dict[str, Any], prefix: str, problems: list[str],
             nested: frozenset[str] | set[str] = frozenset()) -> dict[str, Any]:
    known = {f.name for f in fields(cls) if f.name != "path" and f.name not in nested}
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in nested:
            continue
        if key not in known:
            name = key if re.fullmatch(r"[a-z_]{1,40}", key) else shown(key)  # a pasted secret stays unshown
            problems.append(f"{prefix}{name}: unknown key")
            continue
        default = getattr(cls(), key)
        if isinstance(default, bool) or isinstance(value, bool):
            ok = isinstance(value, bool) and isinstance(default, bool)
        elif isinstance(default, float):
            ok = isinstance(value, int | float)
            if ok:  # an int too big for a float becomes inf, which the range check then refuses
                value = float(value) if abs(value) < 1e308 else math.inf
        elif isinstance(default, tuple):
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        else:
            ok = isinstance(value, type(default))
        if not ok:
            problems.append(f"{prefix}{key}: expected {_type_name(default)}, got {type(value).__name__}")
            continue
        out[key] = value
    return out


def _type_name(default: object) -> str:
    if isinstance(default, tuple):
        return "a list of strings"
    return {"str": "a string", "int": "an integer", "float": "a number", "bool": "true or false"}.get(
        type(default).__name__, type(default).__name__)


# (key, lowest, highest, lowest allowed itself): every number in the config is finite and within these.
_RANGES: tuple[tuple[str, float, float, bool], ...] = (
    ("sparse_bytes_per_message", 0, 1_000_000, True),
    ("max_line_bytes", 1024, 1 << 30, True),
    ("max_memory_file_bytes", 2048, 16 << 20, True),
    ("daemon.debounce_seconds", 0, 3600, False),
    ("daemon.max_delay_seconds", 0, 3600, False),
    ("daemon.reconcile_seconds", 0, 86_400, False),
    ("daemon.checkpoint_seconds", 0, 86_400, False),
    ("daemon.poll_seconds", 0, 3600, False),
    ("daemon.worker_catch_up_mb", 0, 1e9, True),
    ("llm.max_tokens", 1, 1_000_000, True),
    ("llm.timeout_seconds", 0, 3600, False),
    ("llm.input_budget_chars", 1000, 100_000_000, True),
    ("llm.max_retries", 0, 20, True),
)
AGENT_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$", re.IGNORECASE)  # OpenClaw's rule for agent ids
AGENT_ID_RULE = "agent ids are 1 to 64 letters, digits, _ or -, starting with a letter or digit, as in OpenClaw"


def _validate(cfg: Config, problems: list[str]) -> None:
    if cfg.timezone:
        try:
            ZoneInfo(cfg.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"timezone: unknown zone {shown(cfg.timezone)} (use an IANA name such as Europe/Berlin)")
    if cfg.write_mode not in ("inline", "separate"):
        problems.append(f"write_mode: must be \"inline\" or \"separate\", got {shown(cfg.write_mode)}")
    for agent in cfg.agents:
        if not AGENT_ID.match(agent):
            problems.append(f"agents: {shown(agent)} is not an agent id ({AGENT_ID_RULE})")
    for key, lo, hi, closed in _RANGES:
        value: Any = cfg
        for part in key.split("."):
            value = getattr(value, part)
        _check_number(key, value, lo, hi, closed, problems)
    d = cfg.daemon
    if d.max_delay_seconds < d.debounce_seconds:
        problems.append("daemon.max_delay_seconds: must be at least daemon.debounce_seconds")
    try:
        parse_clock(cfg.llm.nightly_time)
    except ValueError:
        problems.append(f"llm.nightly_time: expected HH:MM, got {shown(cfg.llm.nightly_time)}")


def _check_number(key: str, value: float, lo: float, hi: float, closed: bool, problems: list[str]) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        problems.append(f"{key}: must be a finite number")
    elif value < lo or (value == lo and not closed):
        if lo == 0:
            problems.append(f"{key}: must not be negative" if closed else f"{key}: must be positive")
        else:
            problems.append(f"{key}: must be at least {lo:g}")
    elif value > hi:
        problems.append(f"{key}: must be at most {hi:g}")


def shown(value: str) -> str:
    """`value` quoted for an error message, unless it might be a secret (long, or a long run of mixed letters
    and digits, or unusual characters): then only its length is told."""
    if len(value) <= 40 and re.fullmatch(r"[\w:+./ -]*", value) and not _KEYLIKE.search(value):
        return repr(value)
    return f"(a value of {len(value)} characters, not shown)"


_KEYLIKE = re.compile(r"(?=[A-Za-z_-]*\d)(?=\d*[A-Za-z])[A-Za-z0-9_-]{16,}")


def parse_clock(text: str) -> time:
    hh, mm = text.split(":")
    return time(int(hh), int(mm))


def ensure_file(path: Path, env: Mapping[str, str]) -> tuple[Path, bool]:
    """The absolute config path a service will run with, validated; an empty (all defaults) file is
    created if there is none yet, since the daemon stops on a missing named config. Return (path, created)."""
    path = path.expanduser().absolute()
    load(path if path.exists() else None, env)  # a broken config is reported now, not at service start
    if path.exists():
        return path, False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# memory-syncd configuration: every key is optional; see config.example.toml.\n")
    return path, True


def env_file_values(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of the service's env file (`~/.config/memory-syncd/env`), so a LaunchAgent — which
    has no EnvironmentFile= — gets ANTHROPIC_API_KEY the same way the systemd unit does. Comments, blank
    lines and `export ` prefixes are allowed; quotes around a value are removed. A missing file is empty.

    It holds secrets and sets our environment, so it must be a regular file of our own that group and others
    can neither read nor write: raise Refused (exit 78) otherwise, and ConfigError if it is not UTF-8."""
    data = safeio.read(path, limit=MAX_ENV_BYTES, follow=True, private=True)
    if data is None:
        return {}
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(path, ["not UTF-8 text"], what="env file") from None
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        out[key.strip()] = value
    return out
