"""Shared fixtures. Every test runs with HOME, XDG dirs, OpenClaw's state dir and memory-syncd's config and
state pointed into its own temp dir, so no test can read or touch the real home directory."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parent / "data" / "samples"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed daemon test shows the logs of the daemons it started: a flake in CI is otherwise a timeout
    with nothing to go on."""
    report = yield
    harness = sys.modules.get("daemon_harness")
    if report.failed and report.when in ("setup", "call") and harness is not None:
        for h in harness.OPEN:
            report.sections.append((f"daemon logs ({h.root.name})", h.log_text()))
    return report


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(home / "run"))
    for var in ("OPENCLAW_STATE_DIR", "OPENCLAW_CONFIG_PATH", "OPENCLAW_HOME", "MEMORY_SYNCD_CONFIG",
                "MEMORY_SYNCD_STATE_DIR", "MEMORY_SYNCD_TIMEZONE", "NOTIFY_SOCKET", "ANTHROPIC_API_KEY",
                "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TZ", "UTC")
    yield home


@pytest.fixture
def openclaw_home(isolated_env: Path) -> Path:
    """A ~/.openclaw with agent `main` holding two sample sessions and agent `work` holding the third."""
    root = isolated_env / ".openclaw"
    main = root / "agents" / "main" / "sessions"
    work = root / "agents" / "work" / "sessions"
    main.mkdir(parents=True)
    work.mkdir(parents=True)
    for name in ("3f0c2a9e-5b1d-4c7e-9a41-2d8e6f0b7c13.jsonl", "8b2d7f41-0c6e-4f3a-b5d9-7e1a2c4f9d60.jsonl"):
        shutil.copy(SAMPLES / name, main / name)
    name = "c71e0d52-9a3f-4b8e-8d26-51f4a0e3b9c7.jsonl"
    shutil.copy(SAMPLES / name, work / name)
    (root / "openclaw.json").write_text('{\n  // JSON5, as OpenClaw writes it\n  agents: {defaults: '
                                        '{userTimezone: "Europe/Berlin",},},\n}\n')
    return root
