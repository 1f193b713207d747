"""Errors found before reading: one line on stderr, nothing else (no usage block, no traceback), a
non-zero exit, and with --json an empty stdout. Bad input found while reading never stops a run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fixtures_openclaw import S_3F, run_module, write

from memory_syncd.cli import main


def one_line_error(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    code = info.value.code
    assert isinstance(code, int) and code != 0, (code, err)
    assert out == "", out
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("memory-syncd"), err
    assert "Traceback" not in err and "Usage:" not in err and "Try '" not in err
    return code, err.rstrip("\n")


@pytest.mark.parametrize(("args", "code", "text"), [
    (("compare", "--bogus"), 2, "No such option '--bogus'"),
    (("compare", "--json", "--bogus"), 2, "No such option"),
    (("compare", "extra-argument"), 2, "unexpected extra argument"),
    (("frobnicate",), 2, "No such command 'frobnicate'"),
    (("transitions", "--date", "2026-13-01"), 2, "--date: expected a date as YYYY-MM-DD, got '2026-13-01'"),
    (("transitions", "--json", "--since", "last week"), 2, "--since: expected a date as YYYY-MM-DD"),
    (("transitions", "--date", "2026-04-13", "--since", "2026-04-01"), 2, "--date and --since cannot be combined"),
    (("transitions", "--date"), 2, "requires an argument"),
    (("compare", "--agent", "nope"), 2, "no agent nope found (agents found: main, work)"),
    (("compare", "--json", "--memory-dir", "/tmp/m"), 2, "--memory-dir needs exactly one agent, found 2"),
    (("compare", "--sessions-dir", "/tmp"), 2, "--sessions-dir needs --memory-dir"),
    (("compare", "--json", "--sessions-dir", "/nonexistent/s", "--memory-dir", "/tmp/m"), 1,
     "sessions dir /nonexistent/s does not exist (check --sessions-dir)"),
    (("compare", "--timezone", "Mars/Olympus_Mons"), 78, "config: timezone: unknown zone 'Mars/Olympus_Mons'"),
    (("compare", "--json", "--config", "/nonexistent/config.toml"), 78,
     "config /nonexistent/config.toml: file not found"),
    (("compare", "--config", "/etc/hostname/config.toml"), 78, "cannot read it: Not a directory"),
    (("compare", "--config", "/"), 78, "config /: is a directory"),
])
def test_bad_flags_and_dates(openclaw_home: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...],
                             code: int, text: str) -> None:
    got_code, err = one_line_error(capsys, *args)
    assert got_code == code
    assert text in err


def test_invalid_config_lists_every_problem_in_one_line(openclaw_home: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    f = write(tmp_path / "c.toml", b'colour = "blue"\ntimezone = 3\n[daemon]\nspeed = 1\npoll_seconds = -2\n')
    code, err = one_line_error(capsys, "compare", "--json", "--config", str(f))
    assert code == 78
    assert err == (f"memory-syncd: config {f}: colour: unknown key; timezone: expected a string, got int; "
                   "daemon.speed: unknown key; daemon.poll_seconds: must be positive")


def test_broken_toml(openclaw_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = write(tmp_path / "c.toml", b"timezone = \n")
    code, err = one_line_error(capsys, "compare", "--config", str(f))
    assert code == 78 and "not valid TOML" in err


def test_no_openclaw_install(isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = one_line_error(capsys, "compare", "--json")
    assert code == 1
    assert err == ("memory-syncd: no OpenClaw agents found under ~/.openclaw (set OPENCLAW_STATE_DIR, or pass "
                   "--sessions-dir DIR --memory-dir DIR)")


def test_missing_state_dir_env(isolated_env: Path, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OPENCLAW_STATE_DIR", "/nonexistent/openclaw")
    code, err = one_line_error(capsys, "transitions")
    assert code == 1 and "no OpenClaw agents found under /nonexistent/openclaw" in err


def test_missing_command_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    one_line_error(capsys)


def test_as_a_subprocess(openclaw_home: Path) -> None:
    bad = subprocess.run([sys.executable, "-m", "memory_syncd", "transitions", "--json", "--date", "13/04/2026"],
                         capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent, check=False)
    assert (bad.returncode, bad.stdout) == (2, "")
    assert bad.stderr == "memory-syncd: --date: expected a date as YYYY-MM-DD, got '13/04/2026'\n"
    good = subprocess.run([sys.executable, "-m", "memory_syncd", "compare", "--json"], capture_output=True,
                          text=True, cwd=Path(__file__).resolve().parent.parent, check=False)
    assert good.returncode == 0 and good.stderr == ""
    assert json.loads(good.stdout)["timezone"] == "Europe/Berlin"


# --- unreadable files: as root, file modes only bite with privileges dropped ---


def unprivileged(tmp_path: Path) -> list[str]:
    """A command prefix under which file modes apply to us. As root that means setpriv: first a real
    unprivileged user, else root without the capabilities that bypass file modes."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: chmod 000 would block nothing")
    locked = write(tmp_path / "probe-locked", b"")
    locked.chmod(0)
    probe = (f"open({str(tmp_path / 'probe-open')!r}).read()\n"
             f"try:\n open({str(locked)!r})\nexcept PermissionError:\n print('ok')")
    write(tmp_path / "probe-open", b"")
    for prefix in ([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"],
                   [setpriv, "--bounding-set=-dac_override,-dac_read_search"]):
        done = subprocess.run([*prefix, sys.executable, "-c", probe], capture_output=True, text=True, check=False)
        if done.stdout.strip() == "ok":
            return prefix
    pytest.skip("setpriv cannot drop the privileges that bypass file modes here")


def assert_one_line(done: subprocess.CompletedProcess[str], names: str) -> None:
    assert done.returncode != 0 and done.stdout == "", done.stderr
    assert done.stderr.startswith("memory-syncd") and done.stderr.count("\n") == 1, done.stderr
    assert names in done.stderr and "Traceback" not in done.stderr


def test_unreadable_config(openclaw_home: Path, tmp_path: Path) -> None:
    prefix = unprivileged(tmp_path)
    f = write(tmp_path / "c.toml", b'timezone = "UTC"\n')
    f.chmod(0)
    done = run_module(["compare", "--json", "--config", str(f)], wrapper=prefix)
    assert_one_line(done, str(f))
    # Click's own path check may answer first ("is not readable"); either way one line naming the file
    assert "not readable" in done.stderr or "permission denied" in done.stderr


def test_unreadable_default_config_dir(openclaw_home: Path, tmp_path: Path) -> None:
    prefix = unprivileged(tmp_path)
    conf_dir = openclaw_home.parent / ".config" / "memory-syncd"
    write(conf_dir / "config.toml", b'timezone = "UTC"\n')
    conf_dir.chmod(0)
    try:
        done = run_module(["compare"], wrapper=prefix)
    finally:
        conf_dir.chmod(0o755)
    assert_one_line(done, str(conf_dir / "config.toml"))
    assert done.returncode == 78 and "permission denied" in done.stderr


def test_unreadable_sessions_dir(openclaw_home: Path, tmp_path: Path) -> None:
    prefix = unprivileged(tmp_path)
    sessions = openclaw_home / "agents" / "main" / "sessions"
    sessions.chmod(0)
    try:
        done = run_module(["compare", "--json", "--sessions-dir", str(sessions), "--memory-dir",
                           str(tmp_path / "m")], wrapper=prefix)
    finally:
        sessions.chmod(0o755)
    assert_one_line(done, str(sessions))
    assert "not readable" in done.stderr or "permission denied" in done.stderr


def test_unreadable_transcript_is_counted_and_the_run_goes_on(openclaw_home: Path, tmp_path: Path) -> None:
    prefix = unprivileged(tmp_path)
    (openclaw_home / "agents" / "main" / "sessions" / f"{S_3F}.jsonl").chmod(0)
    done = run_module(["compare", "--json"], wrapper=prefix)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert {(d["agent"], d["date"]) for d in report["days"]} == {
        ("main", "2026-04-14"), ("main", "2026-04-15"), ("work", "2026-04-17")}
    assert report["skipped"] == {"unreadable file": 1}
    assert "Permission denied" in done.stderr and "skipped: 1 unreadable file" in done.stderr


def test_unreadable_sessions_dir_of_a_discovered_agent(openclaw_home: Path, tmp_path: Path) -> None:
    prefix = unprivileged(tmp_path)
    sessions = openclaw_home / "agents" / "work" / "sessions"
    sessions.chmod(0)
    try:
        done = run_module(["compare", "--json"], wrapper=prefix)
    finally:
        sessions.chmod(0o755)
    assert_one_line(done, str(sessions))
    assert done.stderr == f"memory-syncd: cannot read sessions dir {sessions}: permission denied (fix its mode)\n"


def test_unreadable_store_is_reported_and_the_run_goes_on(openclaw_home: Path, tmp_path: Path) -> None:
    prefix = unprivileged(tmp_path)
    db = write(openclaw_home / "agents" / "main" / "agent" / "openclaw-agent.sqlite", b"")
    db.chmod(0)
    done = run_module(["compare", "--json", "--agent", "main"], wrapper=prefix)
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["days"]) == 3
    assert "cannot read SQLite store" in done.stderr


def test_help_lists_every_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    from memory_syncd.errors import EXIT_STATUSES

    main(["--help"])
    out = capsys.readouterr().out
    assert "Exit statuses:" in out
    for code, text in EXIT_STATUSES.items():
        assert f"{code:>3}  {text}" in out
