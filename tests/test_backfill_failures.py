"""A day that cannot be written (its agent's workspace does not exist) is reported and the other days are
still written; the run then exits non-zero with one line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from memory_syncd.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_a_missing_workspace_fails_only_its_days(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    demo = tmp_path / "demo"
    shutil.copytree(ROOT / "examples" / "openclaw", demo)
    shutil.rmtree(demo / "workspace-work")  # agent `work` has no workspace on this machine
    monkeypatch.setenv("OPENCLAW_STATE_DIR", str(demo))
    monkeypatch.setenv("OPENCLAW_HOME", str(demo))  # the demo's relative workspaces are home-relative
    with pytest.raises(SystemExit) as exit_info:
        main(["backfill", "--all", "--json", "--state-dir", str(tmp_path / "state")])
    assert exit_info.value.code == 1
    out, err = capsys.readouterr()
    rows = {(r["agent"], r["date"]): r for r in json.loads(out)}
    assert rows[("work", "2026-04-17")]["action"] == "failed"
    assert "workspace-work" in rows[("work", "2026-04-17")]["note"]
    assert {r["action"] for k, r in rows.items() if k[0] == "main"} <= {"created", "updated"}
    assert (demo / "workspace" / "memory" / "2026-04-13.md").is_file()
    assert err.count("\n") == 1 and "1 day(s) could not be written" in err
