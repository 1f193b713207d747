"""Builders for the read-side tests: OpenClaw records shaped like pi writes them, JSONL files, SQLite
stores, agent indexes over real directories, and ways to run the CLI (in process and as a subprocess).

Records are serialized the way `JSON.stringify` does (no spaces, `message` last), so rewrite copies and
SQLite rows of the same message have the same bytes, as they do in a real install.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from click.testing import CliRunner, Result

from memory_syncd.cli import cli
from memory_syncd.read.ingest import AgentIndex
from memory_syncd.read.parse import DayClock
from memory_syncd.read.sources import Agent
from memory_syncd.read.state import RefreshReport

REPO = Path(__file__).resolve().parent.parent
SAMPLES = Path(__file__).resolve().parent / "data" / "samples"
S_3F = "3f0c2a9e-5b1d-4c7e-9a41-2d8e6f0b7c13"  # agent main, 2026-04-13, Opus -> Codex
S_8B = "8b2d7f41-0c6e-4f3a-b5d9-7e1a2c4f9d60"  # agent main, crosses Berlin midnight 04-14 -> 04-15
S_C7 = "c71e0d52-9a3f-4b8e-8d26-51f4a0e3b9c7"  # agent work, 2026-04-17, Sonnet -> Gemini
BERLIN = ZoneInfo("Europe/Berlin")
MIB = 1024 * 1024


def sample(session: str) -> bytes:
    return (SAMPLES / f"{session}.jsonl").read_bytes()


# --- records ---


def ms(when: str) -> int:
    """Epoch ms of an ISO time with offset, e.g. "2026-04-13T09:00:00+02:00"."""
    return int(datetime.fromisoformat(when).timestamp() * 1000)


def iso(at_ms: int) -> str:
    """`new Date(at_ms).toISOString()`."""
    return datetime.fromtimestamp(at_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at_ms % 1000:03d}Z"


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def jsonl(records: Iterable[dict[str, Any]]) -> bytes:
    return b"".join(dumps(r) + b"\n" for r in records)


def _eid(*parts: object) -> str:
    return hashlib.sha1(repr(parts).encode()).hexdigest()[:8]


def header(sid: str, at_ms: int, cwd: str = "/home/maya/.openclaw/workspace") -> dict[str, Any]:
    return {"type": "session", "version": 3, "id": sid, "timestamp": iso(at_ms), "cwd": cwd}


def message(role: str, at_ms: int | None, content: Any, *, entry_ms: int | None = None, eid: str | None = None,
            parent: str | None = None, **fields: Any) -> dict[str, Any]:
    """A `message` entry. `at_ms` is `message.timestamp` (None leaves it out); the entry timestamp is
    `entry_ms`, by default a little later (as pi writes assistant entries when the answer is complete)."""
    msg: dict[str, Any] = {"role": role, "content": content, **fields}
    if at_ms is not None:
        msg["timestamp"] = at_ms
    when = entry_ms if entry_ms is not None else (at_ms or 0) + 7
    return {"type": "message", "id": eid or _eid(role, at_ms, content, when), "parentId": parent,
            "timestamp": iso(when), "message": msg}


def user(at_ms: int, text: str, **kw: Any) -> dict[str, Any]:
    return message("user", at_ms, [{"type": "text", "text": text}], **kw)


def assistant(at_ms: int, text: str, provider: str = "anthropic", model: str = "claude-opus-4-6",
              **kw: Any) -> dict[str, Any]:
    return message("assistant", at_ms, [{"type": "text", "text": text}], api="anthropic-messages",
                   provider=provider, model=model, stopReason="stop", **kw)


def tool_result(at_ms: int, text: str, **kw: Any) -> dict[str, Any]:
    return message("toolResult", at_ms, [{"type": "text", "text": text}], toolCallId="toolu_1", toolName="exec",
                   isError=False, **kw)


def snapshot(at_ms: int, provider: str, model: str) -> dict[str, Any]:
    return {"type": "custom", "customType": "model-snapshot",
            "data": {"timestamp": at_ms, "provider": provider, "modelApi": "x", "modelId": model},
            "id": _eid("snap", at_ms, model), "parentId": None, "timestamp": iso(at_ms + 1)}


def model_change(at_ms: int, provider: str, model: str) -> dict[str, Any]:
    return {"type": "model_change", "id": _eid("mc", at_ms, model), "parentId": None, "timestamp": iso(at_ms),
            "provider": provider, "modelId": model}


def conversation(sid: str, start_ms: int, turns: int, *, step_ms: int = 60_000, provider: str = "anthropic",
                 model: str = "claude-opus-4-6", tag: str = "") -> list[dict[str, Any]]:
    """A header and `turns` user/assistant pairs, one step apart: 2 * turns messages."""
    out = [header(sid, start_ms)]
    for i in range(turns):
        t = start_ms + i * step_ms
        out.append(user(t, f"{tag}question {i}"))
        out.append(assistant(t + step_ms // 2, f"{tag}answer {i}", provider, model))
    return out


# --- files and stores ---


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def append(path: Path, data: bytes) -> None:
    with open(path, "ab") as f:
        f.write(data)


CREATE = ("CREATE TABLE transcript_events(session_id TEXT, seq INTEGER, event_json TEXT, created_at INTEGER, "
          "PRIMARY KEY(session_id, seq))")


def make_store(path: Path, rows: Iterable[tuple[str, int, bytes | str]], *, without_rowid: bool = False) -> Path:
    """A WAL-mode `openclaw-agent.sqlite` holding `rows` (session, seq, event_json)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute(CREATE + (" WITHOUT ROWID" if without_rowid else ""))
        add_rows(con, rows)
    finally:
        con.close()
    return path


def add_rows(con: sqlite3.Connection, rows: Iterable[tuple[str, int, bytes | str]]) -> None:
    con.executemany("INSERT INTO transcript_events VALUES (?, ?, ?, 0)",
                    [(s, q, e.decode() if isinstance(e, bytes) else e) for s, q, e in rows])
    con.commit()


def store_rows(sid: str, records: Sequence[dict[str, Any]], first_seq: int = 1) -> list[tuple[str, int, bytes]]:
    return [(sid, first_seq + i, dumps(r)) for i, r in enumerate(records)]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- indexes ---


def agent(sessions_dir: Path, *, sqlite: Path | None = None, memory_dir: Path | None = None) -> Agent:
    return Agent("main", sessions_dir, memory_dir or sessions_dir.parent / "memory", sqlite)


def index(sessions_dir: Path, *, sqlite: Path | None = None, zone: str = "Europe/Berlin", max_line: int = 64 * MIB,
          keep_vanished: bool = False) -> AgentIndex:
    return AgentIndex(agent(sessions_dir, sqlite=sqlite), zone, max_line, keep_vanished=keep_vanished)


def refresh(idx: AgentIndex) -> RefreshReport:
    return idx.refresh(DayClock(ZoneInfo(idx.timezone)))


def counts(idx: AgentIndex) -> dict[str, int]:
    return {d.isoformat(): day.messages for d, day in idx.days().items()}


# --- the CLI ---


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run a command in process (Click's runner): stdout and stderr kept apart."""
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def compare_json(*args: str) -> dict[str, Any]:
    result = invoke("compare", "--json", *args)
    assert result.exit_code == 0, result.stderr
    value = json.loads(result.stdout)
    assert isinstance(value, dict)
    return value


def day_counts(report: dict[str, Any], agent_id: str | None = None) -> dict[str, int]:
    return {d["date"]: d["messages"] for d in report["days"] if agent_id is None or d.get("agent") == agent_id}


def run_module(args: Sequence[str], *, prelude: str = "", env: dict[str, str] | None = None,
               wrapper: Sequence[str] = ()) -> subprocess.CompletedProcess[str]:
    """`python -c` running `prelude` and then `memory_syncd.cli.main(args)`, in a fresh interpreter."""
    code = f"import sys\n{prelude}\nfrom memory_syncd.cli import main\nmain(sys.argv[1:])\n"
    full_env = dict(os.environ if env is None else env)
    full_env["PYTHONPATH"] = str(REPO) + os.pathsep + full_env.get("PYTHONPATH", "")
    return subprocess.run([*wrapper, sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env=full_env, timeout=60, check=False)


def today_berlin() -> date:
    return datetime.now(BERLIN).date()
