"""`memory-syncd doctor`: what this install looks like and what needs fixing, one line per finding.

Owns the report (a frozen `DoctorReport` of `Check`s, each with a name, a status ok/warn/fail, a one-line
detail and a one-line fix), gathering it (`run`), and its two renderings (`render_text`, `to_json`). The
probes of the machine around the install — inotify limits, the service, the LLM key — live in
`doctor_probes`.

Invariants: gathering only reads (files, /proc, the control socket) and never raises for what it finds;
it cannot hang on a planted FIFO or device (config files go through `discover`/`safeio`, a store is opened
only when it is a regular file); no secret is ever part of a line (the API key is reported as present or
absent, never shown). "fail" means memory-syncd cannot do its job until someone fixes it; "warn" means it
works, with a limitation worth knowing. The exit status is 1 when any check failed, else 0.

Writability is `os.access` with the effective ids. For root that is always true, so when running as root
the report says so, and warns where a workspace belongs to someone else (files written as root would
lock its owner out).
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from memory_syncd import doctor_probes
from memory_syncd import scope as target
from memory_syncd.config import Config
from memory_syncd.errors import MemorySyncError
from memory_syncd.read import discover, sources, store
from memory_syncd.read.sources import Agent


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""


@dataclass(frozen=True)
class DoctorReport:
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return not any(c.status is Status.FAIL for c in self.checks)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def count(self, status: Status) -> int:
        return sum(c.status is status for c in self.checks)


def run(env: Mapping[str, str], cfg: Config, *, timezone_flag: str | None = None, sessions_dir: Path | None = None,
        memory_dir: Path | None = None) -> DoctorReport:
    """Look at everything memory-syncd depends on and return the report. `cfg` is the loaded config (flags
    merged); `timezone_flag` is `--timezone` as given, to say where the zone came from."""
    quiet = _Quiet()
    logging.getLogger(discover.__name__).addFilter(quiet)  # the report says it all, one line each
    try:
        return _gather(env, cfg, timezone_flag, sessions_dir, memory_dir)
    finally:
        logging.getLogger(discover.__name__).removeFilter(quiet)


def _gather(env: Mapping[str, str], cfg: Config, timezone_flag: str | None, sessions_dir: Path | None,
            memory_dir: Path | None) -> DoctorReport:
    checks: list[Check] = [_whoami(), _own_config(cfg)]
    try:
        found = discover.survey(env, cfg.openclaw_state_dir)
    except MemorySyncError as e:
        checks.append(Check("state dirs", Status.FAIL, str(e), "make the agents dir readable by this user"))
        found = discover.Survey((), (), "")
    if sessions_dir is None:
        checks += _state_dirs(found, env, cfg)
    agents: tuple[Agent, ...] = ()
    try:
        tgt = target.resolve(cfg, env, sessions_dir=sessions_dir, memory_dir=memory_dir)
        agents = tgt.agents
    except MemorySyncError as e:
        checks.append(Check("agents", Status.FAIL, str(e), _fix_of(str(e))))
    sites = {s.agent.id: s for d in found.dirs for s in d.sites}
    checks += [_agent(a, sites.get(a.id) if memory_dir is None else None) for a in agents]
    checks.append(_zone(env, cfg, found, agents, timezone_flag))
    state_dir = cfg.resolved_state_dir(env)
    status = doctor_probes.daemon_status(state_dir)
    checks.append(_as_check(doctor_probes.inotify(_watched_dirs(agents), status)))
    checks.append(_as_check(doctor_probes.service(env, state_dir, status)))
    checks.append(_as_check(doctor_probes.llm(env, cfg.llm.model)))
    return DoctorReport(tuple(checks))


def render_text(report: DoctorReport) -> str:
    """One line per check (`status  name: detail; fix: …`), then the counts."""
    lines = []
    for c in report.checks:
        line = f"{c.status.value:<5} {c.name}: {c.detail}"
        if c.fix and c.status is not Status.OK:
            line += f"; fix: {c.fix}"
        lines.append(_one_line(line))
    counts = ", ".join(f"{report.count(s)} {s.value}" for s in Status)
    lines.append(counts + ("" if report.ok else " (exit 1: fix the failed checks)"))
    return "\n".join(lines)


def to_json(report: DoctorReport) -> dict[str, Any]:
    return {"ok": report.ok, "exit": report.exit_code,
            "counts": {s.value: report.count(s) for s in Status},
            "checks": [{"name": c.name, "status": c.status.value, "detail": _one_line(c.detail),
                        "fix": _one_line(c.fix) or None} for c in report.checks]}


# --- the install ---


def _whoami() -> Check:
    uid = os.geteuid()
    if uid == 0:
        return Check("user", Status.OK, "running as root: every path is writable for root, so the writable "
                     "checks below pass; a workspace owned by someone else is flagged")
    return Check("user", Status.OK, f"uid {uid}; writable means writable for this user (effective ids)")


def _own_config(cfg: Config) -> Check:
    if cfg.path is None:
        return Check("memory-syncd config", Status.OK, "no config file: built-in defaults")
    return Check("memory-syncd config", Status.OK, f"{cfg.path}")


def _state_dirs(found: discover.Survey, env: Mapping[str, str], cfg: Config) -> list[Check]:
    if not found.dirs:
        tried = cfg.openclaw_state_dir or env.get("OPENCLAW_STATE_DIR") or "~/.openclaw, ~/.clawdbot"
        return [Check("state dir", Status.FAIL, f"no OpenClaw state dir found (looked at {tried})",
                      "set OPENCLAW_STATE_DIR (or openclaw_state_dir in the config) to the dir holding agents/")]
    out = []
    for d in found.dirs:
        what = f"{d.path}" + (" (legacy name)" if d.legacy else "")
        if found.profile and not d.legacy:
            what += f" (profile {found.profile})"
        problem, fix = _split_fix(d.config_problem)
        if d.config is None:
            conf = "no config file (OpenClaw's defaults)"
        elif problem:
            conf = f"{problem} (OpenClaw's defaults used)"
        else:
            conf = f"config {d.config}"
        ids = ", ".join(s.agent.id for s in d.sites) or "none"
        detail = f"{what}; {conf}; default agent {d.default_agent}; agents {ids}"
        out.append(Check("state dir", Status.WARN if problem else Status.OK, detail, fix))
        out += [Check("state dir", Status.WARN, *_split_fix(line)) for line in d.not_read]
    for alias, real in found.aliases:
        out.append(Check("state dir", Status.OK, f"{alias} is a link to {real} (a migrated install): read once"))
    for path, why in found.unread:
        out.append(Check("state dir", Status.OK, f"{path} exists but is not read ({why}); to read it too, run "
                         f"memory-syncd once more with OPENCLAW_STATE_DIR={path} and a separate --state-dir"))
    return out


def _agent(agent: Agent, site: discover.Site | None) -> Check:
    findings: list[tuple[Status, str, str]] = []  # (status, text, fix)
    findings.append(_store(agent))
    workspace = agent.memory_dir.parent
    ws = f"workspace {workspace}" + (f" ({site.source})" if site else "")
    if site and site.relative:
        findings.append((Status.WARN, f"{ws}, from a relative path",
                         "write the workspace as an absolute path or ~/… in openclaw.json: OpenClaw resolves a "
                         "relative one against the gateway's working directory, memory-syncd against the home dir"))
    else:
        findings.append((Status.OK, ws, ""))
    findings.append(_memory_dir(agent.memory_dir))
    findings += _owner(workspace)
    worst = max((f[0] for f in findings), key=[Status.OK, Status.WARN, Status.FAIL].index)
    fix = next((f[2] for f in findings if f[0] is worst and f[2]), "")
    return Check(f"agent {agent.id}", worst, "; ".join(f[1] for f in findings), fix)


def _store(agent: Agent) -> tuple[Status, str, str]:
    try:
        files = len(sources.list_sessions(agent.sessions_dir).files)
    except MemorySyncError as e:
        return Status.FAIL, str(e), _fix_of(str(e)) or f"make {agent.sessions_dir} readable by this user"
    kinds = [f"JSONL ({files} file{'s' if files != 1 else ''})"] if files else []
    problem = ""
    db = agent.sqlite
    if db is not None and os.path.lexists(db):
        info = store.describe(db)  # checks for a regular file first: a FIFO would block sqlite's open
        made_by = f", OpenClaw {info.app_version}" if info.app_version else ""
        if info.error:
            problem = f"SQLite store {db} cannot be read ({info.error})"
        elif info.has_transcripts:
            kinds.append(f"SQLite (schema {info.user_version}, {info.journal_mode or '?'}{made_by})")
        else:
            kinds.append(f"SQLite (schema {info.user_version}{made_by}, no transcripts: before OpenClaw 2026.7)")
    if problem:
        return Status.FAIL, problem, "move it away if it is not OpenClaw's store, else check its permissions"
    if not kinds:
        return Status.WARN, f"no transcripts yet in {agent.sessions_dir}", ""
    both = " + ".join(kinds)
    return Status.OK, f"store {both}", ""


def _memory_dir(mem: Path) -> tuple[Status, str, str]:
    workspace = mem.parent
    try:
        st = os.lstat(mem)
    except FileNotFoundError:
        st = None
    except OSError as e:
        return Status.FAIL, f"memory {mem} cannot be inspected ({e.strerror})", f"check the permissions of {workspace}"
    if st is not None:
        if stat.S_ISLNK(st.st_mode):
            return (Status.FAIL, f"memory {mem} is a symbolic link, which memory-syncd does not write through",
                    "replace the link with a real directory")
        if not stat.S_ISDIR(st.st_mode):
            return Status.FAIL, f"memory {mem} is not a directory", "move it away so a directory can take its place"
        if _writable(mem):
            return Status.OK, f"memory {mem} writable", ""
        return Status.FAIL, f"memory {mem} not writable", f"make it writable by this user (chown/chmod {mem})"
    if not workspace.is_dir():
        return (Status.FAIL, "the workspace does not exist",
                f"create it (mkdir -p {workspace}) or set the agent's workspace in openclaw.json")
    if _writable(workspace):
        return Status.OK, f"memory {mem} not there yet, will be created (workspace writable)", ""
    return Status.FAIL, f"memory {mem} missing and workspace not writable", f"create {mem} writable by this user"


def _owner(workspace: Path) -> list[tuple[Status, str, str]]:
    if os.geteuid() != 0:
        return []
    try:
        owner = os.stat(workspace).st_uid
    except OSError:
        return []
    if owner == 0:
        return []
    return [(Status.WARN, f"workspace owned by uid {owner}, not root",
             f"run memory-syncd as uid {owner}: files written as root would lock the workspace owner out")]


def _writable(path: Path) -> bool:
    mode = os.W_OK | os.X_OK
    if os.access in os.supports_effective_ids:
        return os.access(path, mode, effective_ids=True)
    return os.access(path, mode)


def _watched_dirs(agents: Iterable[Agent]) -> list[Path]:
    """The dirs the daemon watches: each agent's sessions dir and its store's dir (see daemon/watch)."""
    dirs = [p for a in agents for p in (a.sessions_dir, a.sqlite.parent if a.sqlite else None) if p]
    return list(dict.fromkeys(dirs))


# --- time zone ---


def _zone(env: Mapping[str, str], cfg: Config, found: discover.Survey, agents: tuple[Agent, ...],
          flag: str | None) -> Check:
    name = cfg.timezone or next((a.timezone for a in agents if a.timezone), "")
    try:
        zone = target.resolve_zone(name, env)
    except MemorySyncError as e:
        return Check("time zone", Status.FAIL, str(e), _fix_of(str(e)) or "set timezone to an IANA name")
    if flag:
        source = "--timezone"
    elif cfg.timezone and env.get("MEMORY_SYNCD_TIMEZONE") == cfg.timezone:
        source = "$MEMORY_SYNCD_TIMEZONE"
    elif cfg.timezone:
        source = f"timezone in {cfg.path}" if cfg.path else "memory-syncd's config"
    elif name:
        conf = next((d.config for d in found.dirs if d.timezone == name), None)
        source = f"OpenClaw's agents.defaults.userTimezone in {conf}" if conf else "OpenClaw's userTimezone"
    elif env.get("TZ"):
        source = "the system zone: $TZ"
    elif os.path.lexists("/etc/localtime"):
        source = "the system zone: /etc/localtime"
    else:
        source = "no zone configured anywhere: the system default"
    detail = f"{zone.key} (from {source}); days are local days in this zone"
    if source.startswith("no zone"):
        return Check("time zone", Status.WARN, detail, "set timezone in the config, or OpenClaw's userTimezone")
    return Check("time zone", Status.OK, detail)


# --- helpers ---


class _Quiet(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < logging.WARNING


def _as_check(found: doctor_probes.Finding) -> Check:
    return Check(found.name, Status(found.status), found.detail, found.fix)


def _fix_of(message: str) -> str:
    """The fix a one-line error message already carries (after its last ';' or in its parentheses)."""
    return _split_fix(message)[1]


def _split_fix(message: str) -> tuple[str, str]:
    """A one-line message as (what is wrong, the fix): our messages end with the fix after a ';', or in
    parentheses."""
    if "; " in message:
        what, fix = message.rsplit("; ", 1)
        return what.strip(), fix.strip()
    if message.endswith(")") and " (" in message:
        cut = message.rindex(" (")
        return message[:cut].strip(), message[cut + 2:-1].strip()
    return message, ""


def _one_line(text: str) -> str:
    """Control characters (a path may hold a newline) shown escaped, so every check stays one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
