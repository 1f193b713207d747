"""M3 and M4: broken settings give one line and a documented exit status, configuration-class ones 78 (the
systemd unit's RestartPreventExitStatus, so no crash loop): numbers that are NaN, infinite, absurdly big or
out of range, an unknown OpenClaw userTimezone, a $TZ that names a file which is not a zone (or a FIFO).
Values that look like secrets are never echoed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fixtures_openclaw import REPO, S_3F, sample, write

from memory_syncd.cli import main
from memory_syncd.errors import ConfigError
from memory_syncd.scope import resolve_zone

SECRET = "sk-ant-api03-Zq8vX2mN4pL7rT1wY5bK9cH3jF6gD0sAeUiOoPlMnBvCxZaSdFgHjKl"


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as e:
        assert isinstance(e.code, int)
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def sessions(tmp_path: Path) -> list[str]:
    """Flags for a plain sessions dir with no OpenClaw install around it (so no userTimezone)."""
    write(tmp_path / "sessions" / f"{S_3F}.jsonl", sample(S_3F))
    return ["--sessions-dir", str(tmp_path / "sessions"), "--memory-dir", str(tmp_path / "memory"),
            "--state-dir", str(tmp_path / "state")]


@pytest.mark.parametrize(("toml", "problem"), [
    ("[daemon]\nreconcile_seconds = nan", "daemon.reconcile_seconds: must be a finite number"),
    ("[daemon]\ndebounce_seconds = nan", "daemon.debounce_seconds: must be a finite number"),
    ("[daemon]\npoll_seconds = inf", "daemon.poll_seconds: must be a finite number"),
    ("[daemon]\ncheckpoint_seconds = -inf", "daemon.checkpoint_seconds: must be a finite number"),
    ("[daemon]\nreconcile_seconds = 1e400", "daemon.reconcile_seconds: must be a finite number"),
    ("[daemon]\nmax_delay_seconds = 100000", "daemon.max_delay_seconds: must be at most 3600"),
    ("[daemon]\ndebounce_seconds = " + "9" * 400, "daemon.debounce_seconds: must be a finite number"),
    ("max_line_bytes = 123456789012345678901234567890", "max_line_bytes: must be at most"),
    ("max_memory_file_bytes = 99999999999999999999", "max_memory_file_bytes: must be at most"),
    ("sparse_bytes_per_message = nan", "sparse_bytes_per_message: must be a finite number"),
    ("[llm]\nmax_retries = -1", "llm.max_retries: must not be negative"),
    ("[llm]\nmax_retries = 100000", "llm.max_retries: must be at most 20"),
    ("[llm]\ntimeout_seconds = nan", "llm.timeout_seconds: must be a finite number"),
    ("[llm]\nmax_tokens = 123456789012345678901234567890", "llm.max_tokens: must be at most"),
    ("[llm]\ninput_budget_chars = 123456789012345678901234567890", "llm.input_budget_chars: must be at most"),
])
def test_numbers_must_be_finite_and_in_range(tmp_path: Path, sessions: list[str], capsys: pytest.CaptureFixture[str],
                                             toml: str, problem: str) -> None:
    conf = write(tmp_path / "c.toml", toml.encode() + b"\n")
    code, out, err = run_cli(capsys, "compare", "--json", "--config", str(conf), *sessions)
    assert code == 78 and out == "", err
    assert err.count("\n") == 1 and f"config {conf}: " in err and problem in err


def test_a_daemon_with_a_nan_interval_stops_with_78(tmp_path: Path, sessions: list[str]) -> None:
    conf = write(tmp_path / "c.toml", b"[daemon]\nreconcile_seconds = nan\n")
    r = subprocess.run([sys.executable, "-m", "memory_syncd", "run", "--config", str(conf), *sessions],
                       capture_output=True, text=True, timeout=30, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert r.returncode == 78 and "reconcile_seconds" in r.stderr and r.stderr.count("\n") == 1, r.stderr


@pytest.mark.parametrize("toml", [
    f'timezone = "{SECRET}"',
    f'write_mode = "{SECRET}"',
    f'[llm]\nnightly_time = "{SECRET}"',
    f'agents = ["{SECRET}"]',
    f'{SECRET.replace("-", "_")} = 1',
    'timezone = "hunter2-Zq8vX2mN4pL7rT1wY5bK9"',
])
def test_messages_do_not_echo_secret_looking_values(tmp_path: Path, sessions: list[str],
                                                    capsys: pytest.CaptureFixture[str], toml: str) -> None:
    conf = write(tmp_path / "c.toml", toml.encode() + b"\n")
    code, _, err = run_cli(capsys, "compare", "--config", str(conf), *sessions)
    assert code == 78 and err.count("\n") == 1
    assert "Zq8vX2mN4pL7rT1wY5bK9" not in err and "not shown" in err


def test_plain_wrong_values_are_still_shown(tmp_path: Path, sessions: list[str],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    conf = write(tmp_path / "c.toml", b'timezone = "Mars/Olympus_Mons"\nwrite_mode = "sideways"\n')
    code, _, err = run_cli(capsys, "compare", "--config", str(conf), *sessions)
    assert code == 78 and "'Mars/Olympus_Mons'" in err and "'sideways'" in err


def test_an_unknown_openclaw_user_timezone_is_one_line(openclaw_home: Path) -> None:
    """discover.py ignores it with a warning (the system zone is used); a zone name that reaches
    resolve_zone anyway is a ConfigError, exit 78."""
    (openclaw_home / "openclaw.json").write_text('{agents: {defaults: {userTimezone: "Mars/Base"}}}')
    r = subprocess.run([sys.executable, "-m", "memory_syncd", "compare", "--json"], capture_output=True, text=True,
                       timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert r.returncode in (0, 78) and r.stderr.count("\n") == 1, r.stderr
    assert "userTimezone" in r.stderr and "'Mars/Base'" in r.stderr
    with pytest.raises(ConfigError) as info:
        resolve_zone("Mars/Base", {})
    assert info.value.exit_code == 78 and "--timezone" in str(info.value)


@pytest.mark.parametrize("make", ["regular", "directory"])
def test_tz_naming_a_file_that_is_not_a_zone_exits_78(tmp_path: Path, sessions: list[str], make: str,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    tz = tmp_path / "not-a-zone"
    if make == "regular":
        tz.write_text("this is not TZif data\n")
    else:
        tz.mkdir()
    monkeypatch.setenv("TZ", str(tz))
    code, out, err = run_cli(capsys, "compare", "--json", *sessions)
    assert code == 78 and out == "" and err.count("\n") == 1
    assert f"TZ={tz}" in err and "unset it" in err


# A $TZ naming a FIFO hangs every Python process at start-up (the C library reads it when the interpreter
# initializes its time module), before any of our code runs: nothing memory-syncd can refuse, so no test.


def test_a_config_that_is_a_fifo_does_not_hang(tmp_path: Path, sessions: list[str]) -> None:
    os.mkfifo(tmp_path / "c.toml")
    r = subprocess.run([sys.executable, "-m", "memory_syncd", "compare", "--config", str(tmp_path / "c.toml"),
                        *sessions], capture_output=True, text=True, timeout=30,
                       env={**os.environ, "PYTHONPATH": str(REPO)})
    assert r.returncode == 78 and "FIFO" in r.stderr and r.stderr.count("\n") == 1, r.stderr


def test_a_deeply_nested_config_is_one_line(tmp_path: Path, sessions: list[str],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    conf = write(tmp_path / "c.toml", b"agents = " + b"[" * 5000 + b"]" * 5000 + b"\n")
    code, _, err = run_cli(capsys, "compare", "--config", str(conf), *sessions)
    assert code == 78 and err.count("\n") == 1 and "Traceback" not in err
