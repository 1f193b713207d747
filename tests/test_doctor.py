"""doctor: a healthy install says ok everywhere and exits 0; a broken one names each problem with its fix,
one line each, and exits 1. Real files under the temp home, a real control socket, a real SQLite store."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from memory_syncd import config, doctor, doctor_probes
from memory_syncd.daemon import control
from memory_syncd.doctor import Check, DoctorReport, Status

SAMPLES = Path(__file__).resolve().parent / "data" / "samples"
SID = "3f0c2a9e-5b1d-4c7e-9a41-2d8e6f0b7c13"
KEY = "sk-ant-api03-" + "Q" * 40 + "-doctorAA"


def env() -> dict[str, str]:
    return dict(os.environ)


def make_store(path: Path, *, version: int = 23, transcripts: bool = True) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode = wal")
    con.execute(f"PRAGMA user_version = {version}")
    if transcripts:
        con.execute("CREATE TABLE transcript_events (session_id TEXT, seq INTEGER, event_json TEXT)")
    con.commit()
    con.close()


def install(home: Path) -> Path:
    """~/.openclaw with agent main (JSONL + SQLite store) whose workspace is ~/ws, in Europe/Berlin."""
    root = home / ".openclaw"
    sessions = root / "agents" / "main" / "sessions"
    sessions.mkdir(parents=True)
    shutil.copy(SAMPLES / f"{SID}.jsonl", sessions / f"{SID}.jsonl")
    make_store(root / "agents" / "main" / "agent" / "openclaw-agent.sqlite")
    (root / "openclaw.json").write_text("{agents: {defaults: {workspace: '~/ws', userTimezone: 'Europe/Berlin'}}}")
    (home / "ws" / "memory").mkdir(parents=True)
    return root


@pytest.fixture
def daemon(isolated_env: Path) -> Iterator[dict[str, Any]]:
    """A control socket in memory-syncd's state dir that answers `status` like a healthy daemon."""
    reply: dict[str, Any] = {"pid": 4242, "watch_mode": "inotify", "errors": 0}
    state = config.load(None, os.environ).resolved_state_dir(os.environ)
    server = control.Server(state, lambda req: reply)
    server.start()
    try:
        yield reply
    finally:
        server.stop()


def unit_file(home: Path) -> Path:
    path = home / ".config" / "systemd" / "user" / "memory-syncd.service"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[Service]\nExecStart=/usr/bin/true\n")
    return path


def by_name(report: DoctorReport) -> dict[str, list[Check]]:
    out: dict[str, list[Check]] = {}
    for c in report.checks:
        out.setdefault(c.name, []).append(c)
    return out


def one(report: DoctorReport, name: str) -> Check:
    (c,) = by_name(report)[name]
    return c


def test_healthy_install(isolated_env: Path, daemon: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    home = isolated_env
    install(home)
    unit_file(home)
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    report = doctor.run(env(), config.load(None, os.environ))
    bad = [c for c in report.checks if c.status is not Status.OK and c.name != "inotify"]
    assert not bad, bad
    assert report.exit_code == 0 and report.ok
    agent = one(report, "agent main")
    assert "JSONL (1 file)" in agent.detail and "SQLite (schema 23, wal)" in agent.detail
    assert f"workspace {home / 'ws'} (agents.defaults.workspace)" in agent.detail
    assert f"memory {home / 'ws' / 'memory'} writable" in agent.detail
    root = home / ".openclaw"
    assert one(report, "state dir").detail.startswith(f"{root}; config {root / 'openclaw.json'}; default agent main")
    assert "Europe/Berlin (from OpenClaw's agents.defaults.userTimezone in" in one(report, "time zone").detail
    service = one(report, "service").detail
    assert "installed at" in service and "daemon running (pid 4242, watch mode inotify, errors 0)" in service
    assert "API key set in the environment ($ANTHROPIC_API_KEY)" in one(report, "llm").detail
    assert "the daemon watches 2 dir(s)" in one(report, "inotify").detail

    text = doctor.render_text(report)
    lines = text.splitlines()
    assert len(lines) == len(report.checks) + 1
    assert lines[-1].endswith("0 fail")
    assert all(line.split()[0] in ("ok", "warn") for line in lines[:-1])
    doc = doctor.to_json(report)
    assert json.loads(json.dumps(doc)) == doc
    assert doc["ok"] is True and doc["exit"] == 0 and doc["counts"]["fail"] == 0
    assert {c["name"] for c in doc["checks"]} >= {"user", "state dir", "agent main", "time zone", "inotify",
                                                  "service", "llm"}
    assert KEY not in text and KEY not in json.dumps(doc)


def test_broken_install(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = isolated_env
    root = home / ".openclaw"
    for agent in ("main", "ops", "store"):
        (root / "agents" / agent / "sessions").mkdir(parents=True)
        shutil.copy(SAMPLES / f"{SID}.jsonl", root / "agents" / agent / "sessions" / f"{SID}.jsonl")
    os.mkfifo(root / "openclaw.json")  # unusable config: OpenClaw's default workspaces
    # main: ~/.openclaw/workspace does not exist; ops: its memory dir is a link; store: a FIFO as its store
    (root / "workspace-ops").mkdir()
    (root / "workspace-ops" / "memory").symlink_to(home)
    (root / "workspace-store" / "memory").mkdir(parents=True)
    (root / "agents" / "store" / "agent").mkdir()
    os.mkfifo(root / "agents" / "store" / "agent" / "openclaw-agent.sqlite")
    # a legacy dir whose `main` is shadowed by the current one
    (home / ".clawdbot" / "agents" / "main" / "sessions").mkdir(parents=True)
    unit_file(home)  # installed, but nothing answers
    env_file = home / ".config" / "memory-syncd" / "env"
    env_file.parent.mkdir(parents=True, exist_ok=True)
    env_file.write_text(f"ANTHROPIC_API_KEY={KEY}\n")
    env_file.chmod(0o644)

    report = doctor.run(env(), config.load(None, os.environ))
    assert report.exit_code == 1 and not report.ok
    checks = by_name(report)
    dirs = checks["state dir"]
    assert dirs[0].status is Status.WARN and "FIFO" in dirs[0].detail
    assert any(c.status is Status.WARN and "is not read: agent main" in c.detail and "OPENCLAW_STATE_DIR=" in c.fix
               for c in dirs)
    main = one(report, "agent main")
    assert main.status is Status.FAIL and "the workspace does not exist" in main.detail
    assert main.fix.startswith(f"create it (mkdir -p {root / 'workspace'})")
    ops = one(report, "agent ops")
    assert ops.status is Status.FAIL and "symbolic link" in ops.detail and "real directory" in ops.fix
    st = one(report, "agent store")
    assert st.status is Status.FAIL and "not a regular file" in st.detail
    service = one(report, "service")
    assert service.status is Status.FAIL and "not running" in service.detail
    assert "systemctl --user start memory-syncd" in service.fix
    llm = one(report, "llm")
    assert llm.status is Status.WARN and "readable or writable by group or others" in llm.detail
    assert llm.fix == f"chmod 600 {env_file}"

    text = doctor.render_text(report)
    assert len(text.splitlines()) == len(report.checks) + 1
    assert text.splitlines()[-1].endswith("(exit 1: fix the failed checks)")
    for c in report.checks:
        if c.status is Status.FAIL:
            assert f"fail  {c.name}: {c.detail}; fix: {c.fix}" in text
    doc = doctor.to_json(report)
    assert doc["ok"] is False and doc["exit"] == 1 and doc["counts"]["fail"] == 4
    assert KEY not in text and KEY not in json.dumps(doc)


def test_no_install_at_all(isolated_env: Path) -> None:
    report = doctor.run(env(), config.load(None, os.environ))
    assert one(report, "state dir").status is Status.FAIL
    assert one(report, "agents").status is Status.FAIL
    assert "OPENCLAW_STATE_DIR" in one(report, "state dir").fix
    assert report.exit_code == 1


def test_the_key_from_the_env_file(isolated_env: Path) -> None:
    env_file = isolated_env / ".config" / "memory-syncd" / "env"
    env_file.parent.mkdir(parents=True, exist_ok=True)
    env_file.write_text(f"# secrets\nexport ANTHROPIC_API_KEY='{KEY}'\n")
    env_file.chmod(0o600)
    found = doctor_probes.llm(env(), "claude-sonnet-4-6")
    assert found.status == "ok" and f"API key set in {env_file}" in found.detail and KEY not in found.detail


def test_a_fifo_as_the_env_file_does_not_hang(isolated_env: Path) -> None:
    env_file = isolated_env / ".config" / "memory-syncd" / "env"
    env_file.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(env_file, 0o600)
    found = doctor_probes.llm(env(), "m")
    assert found.status == "warn" and "FIFO" in found.detail


def test_relative_workspace_is_a_warning(isolated_env: Path) -> None:
    root = install(isolated_env)
    (root / "openclaw.json").write_text("{agents: {defaults: {workspace: 'ws'}}}")
    c = one(doctor.run(env(), config.load(None, os.environ)), "agent main")
    assert c.status is Status.WARN and "from a relative path" in c.detail and "absolute path" in c.fix


def test_zone_from_the_flag_and_the_config(isolated_env: Path) -> None:
    install(isolated_env)
    cfg = config.load(None, os.environ, {"timezone": "Asia/Tokyo"})
    assert one(doctor.run(env(), cfg, timezone_flag="Asia/Tokyo"), "time zone").detail.startswith(
        "Asia/Tokyo (from --timezone)")
    path = isolated_env / "c.toml"
    path.write_text('timezone = "America/New_York"\n')
    detail = one(doctor.run(env(), config.load(path, os.environ)), "time zone").detail
    assert detail.startswith(f"America/New_York (from timezone in {path})")


def test_a_newline_in_a_path_stays_on_one_line(isolated_env: Path) -> None:
    root = install(isolated_env)
    (root / "openclaw.json").write_text('{agents: {defaults: {workspace: "~/w\\nx"}}}')
    report = doctor.run(env(), config.load(None, os.environ))
    assert len(doctor.render_text(report).splitlines()) == len(report.checks) + 1
    assert "\\n" in one(report, "agent main").detail or "\\n" in doctor.render_text(report)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give the workspace another owner")
def test_as_root_a_workspace_of_someone_else_is_flagged(isolated_env: Path) -> None:
    install(isolated_env)
    os.chown(isolated_env / "ws", 12345, 12345)
    report = doctor.run(env(), config.load(None, os.environ))
    assert "running as root" in one(report, "user").detail
    c = one(report, "agent main")
    assert c.status is Status.WARN and "owned by uid 12345" in c.detail and "run memory-syncd as uid 12345" in c.fix


# --- inotify, against a /proc of our making ---


def fake_proc(tmp_path: Path, watches: int, instances: int) -> Path:
    limits = tmp_path / "proc" / "sys" / "fs" / "inotify"
    limits.mkdir(parents=True)
    (limits / "max_user_watches").write_text(f"{watches}\n")
    (limits / "max_user_instances").write_text(f"{instances}\n")
    return tmp_path / "proc"


def test_inotify_limits_too_low(tmp_path: Path) -> None:
    dirs = [tmp_path / "a", tmp_path / "b", tmp_path / "c"]
    found = doctor_probes.inotify(dirs, None, proc=fake_proc(tmp_path, 2, 128))
    assert found.status == "warn" and "max_user_watches 2" in found.detail and "sysctl" in found.fix


def test_inotify_enough(tmp_path: Path) -> None:
    found = doctor_probes.inotify([tmp_path], None, proc=fake_proc(tmp_path, 8192, 128))
    assert found.status == "ok" and "watches 1 dir(s)" in found.detail


def test_inotify_of_a_polling_daemon(tmp_path: Path) -> None:
    status = {"watch_mode": "polling", "watch_note": "inotify limit reached"}
    found = doctor_probes.inotify([tmp_path], status, proc=fake_proc(tmp_path, 8192, 128))
    assert found.status == "warn" and "polling" in found.detail


def test_no_inotify(tmp_path: Path) -> None:
    found = doctor_probes.inotify([tmp_path], None, proc=tmp_path / "nothing")
    assert found.status == "ok" and "not Linux" in found.detail


def test_inotify_in_use_is_counted_from_proc() -> None:
    """This test process holds no inotify instance of its own; whatever the count, it is consistent."""
    instances, watches = doctor_probes._inotify_in_use(Path("/proc"), os.geteuid())
    assert instances >= 0 and watches >= 0


def test_a_daemon_still_catching_up_says_so(tmp_path: Path) -> None:
    status = {"pid": 7, "watch_mode": "inotify", "errors": 0, "caught_up": False}
    finding = doctor_probes.service({"HOME": str(tmp_path)}, tmp_path / "state", status)
    assert "daemon running (pid 7, watch mode inotify, errors 0), still catching up" in finding.detail
    status["caught_up"] = True
    assert "catching up" not in doctor_probes.service({"HOME": str(tmp_path)}, tmp_path / "state", status).detail
