"""`memory-syncd service …` through the CLI, into a temp HOME: print renders a unit pointing at an
executable that exists; install --no-start writes it where systemd/launchd look and creates a default
config; uninstall --no-start removes it."""

from __future__ import annotations

import os
import plistlib
import re
from pathlib import Path

from click.testing import CliRunner

from memory_syncd.cli import cli


def test_print_systemd_points_at_an_existing_executable(isolated_env: Path) -> None:
    out = CliRunner().invoke(cli, ["service", "print", "--systemd"])
    assert out.exit_code == 0, out.output
    m = re.search(r"^ExecStart=(\S+) (?:-m memory_syncd )?run --config (\S+)$", out.output, re.M)
    assert m, out.output
    assert os.access(m.group(1), os.X_OK)
    assert m.group(2) == str(isolated_env / ".config" / "memory-syncd" / "config.toml")


def test_print_launchd_is_a_plist(isolated_env: Path) -> None:
    out = CliRunner().invoke(cli, ["service", "print", "--launchd"])
    assert out.exit_code == 0, out.output
    plist = plistlib.loads(out.output.encode())
    assert os.access(plist["ProgramArguments"][0], os.X_OK)
    assert plist["ProgramArguments"][-3:-1] == ["run", "--config"]


def test_install_and_uninstall_without_starting(isolated_env: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(cli, ["service", "install", "--systemd", "--no-start"])
    assert out.exit_code == 0, out.output
    unit = isolated_env / ".config" / "systemd" / "user" / "memory-syncd.service"
    assert unit.is_file() and "Type=notify" in unit.read_text()
    conf = isolated_env / ".config" / "memory-syncd" / "config.toml"
    assert conf.is_file() and f"created {conf}" in out.output
    assert "systemctl --user" in out.output
    again = runner.invoke(cli, ["service", "install", "--systemd", "--no-start"])
    assert again.exit_code == 0 and "created" not in again.output.split("\n")[0]
    gone = runner.invoke(cli, ["service", "uninstall", "--systemd", "--no-start"])
    assert gone.exit_code == 0, gone.output
    assert not unit.exists()


def test_install_refuses_a_broken_config(isolated_env: Path) -> None:
    conf = isolated_env / "bad.toml"
    conf.write_text("timezone = 5\n")
    out = CliRunner().invoke(cli, ["service", "install", "--systemd", "--no-start", "--config", str(conf)])
    assert out.exit_code != 0
    assert not (isolated_env / ".config" / "systemd" / "user" / "memory-syncd.service").exists()


def test_launchd_install_writes_into_launch_agents(isolated_env: Path) -> None:
    out = CliRunner().invoke(cli, ["service", "install", "--launchd", "--no-start"])
    assert out.exit_code == 0, out.output
    assert (isolated_env / "Library" / "LaunchAgents" / "io.memorysyncd.daemon.plist").is_file()
