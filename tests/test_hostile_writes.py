"""H1: memory-file writes never follow a symlink out of the workspace. A day file that is a symlink (to a
file, or dangling) and a `memory/` dir that is a symlink are refused with one line naming them; that day
is skipped and the other days are still written; nothing outside the workspace changes."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from daemon_harness import Messages, append, harness, today, wait_until

from memory_syncd.cli import main
from memory_syncd.errors import Refused
from memory_syncd.write.memfile import write_block, writer_lock

ROOT = Path(__file__).resolve().parent.parent
TITLE = "# 2026-04-13 (Monday)"


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    demo = tmp_path / "demo"
    shutil.copytree(ROOT / "examples" / "openclaw", demo)
    monkeypatch.setenv("OPENCLAW_STATE_DIR", str(demo))
    monkeypatch.setenv("OPENCLAW_HOME", str(demo))  # the demo's relative workspaces are resolved against it
    return demo


def backfill(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, dict[str, str]], str]:
    with pytest.raises(SystemExit) as info:
        main(["backfill", "--all", "--json", "--agent", "main", "--state-dir", str(tmp_path / "state")])
    out, err = capsys.readouterr()
    rows = {r["date"]: r for r in json.loads(out)}
    assert isinstance(info.value.code, int)
    return info.value.code, rows, err


def test_a_day_file_linked_to_another_file_is_refused_and_the_rest_written(
        demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious\n")
    victim.chmod(0o640)
    memory = demo / "workspace" / "memory"
    (memory / "2026-04-13.md").symlink_to(victim)
    code, rows, err = backfill(tmp_path, capsys)
    assert victim.read_bytes() == b"precious\n"
    assert (memory / "2026-04-13.md").is_symlink()
    assert rows["2026-04-13"]["action"] == "failed"
    assert "2026-04-13.md" in rows["2026-04-13"]["note"] and "symbolic link" in rows["2026-04-13"]["note"]
    assert rows["2026-04-15"]["action"] == "created" and (memory / "2026-04-15.md").is_file()
    assert code == 1 and err.count("\n") == 1


def test_a_dangling_day_file_link_creates_nothing_outside(demo: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    outside = tmp_path / "outside" / "planted.md"
    outside.parent.mkdir()
    memory = demo / "workspace" / "memory"
    (memory / "2026-04-13.md").symlink_to(outside)
    code, rows, _ = backfill(tmp_path, capsys)
    assert not outside.exists() and os.listdir(outside.parent) == []
    assert rows["2026-04-13"]["action"] == "failed"
    assert rows["2026-04-15"]["action"] == "created"
    assert code == 1


def test_a_symlinked_memory_dir_is_refused(demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    workspace = demo / "workspace"
    shutil.rmtree(workspace / "memory")
    (workspace / "memory").symlink_to(elsewhere)
    code, rows, err = backfill(tmp_path, capsys)
    assert os.listdir(elsewhere) == []
    assert {r["action"] for r in rows.values()} == {"failed"}
    assert all("memory" in r["note"] and "symbolic link" in r["note"] for r in rows.values())
    assert code == 1 and err.count("\n") == 1


def test_write_block_refuses_links(tmp_path: Path) -> None:
    memory = tmp_path / "memory"
    memory.mkdir()
    (tmp_path / "target.md").write_bytes(b"x\n")
    (memory / "a.md").symlink_to(tmp_path / "target.md")
    (memory / "b.md").symlink_to(tmp_path / "nothing.md")
    for name in ("a.md", "b.md"):
        with pytest.raises(Refused) as info:
            write_block(memory / name, "block\n", title=TITLE)
        assert info.value.reason == "symlink" and name in str(info.value)
    assert (tmp_path / "target.md").read_bytes() == b"x\n" and not (tmp_path / "nothing.md").exists()
    assert sorted(os.listdir(memory)) == [".memory-syncd.lock", "a.md", "b.md"] or \
        sorted(os.listdir(memory)) == ["a.md", "b.md"]


def test_the_writer_lock_is_not_taken_through_a_linked_memory_dir(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "memory").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(Refused) as info, writer_lock(tmp_path / "memory", timeout=1.0):
        pass
    assert info.value.reason == "symlink"
    assert os.listdir(tmp_path / "elsewhere") == []


def test_the_daemon_does_not_create_through_a_dangling_link(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    with harness(tmp_path) as h:
        h.memory.mkdir()
        (h.memory / f"{today()}.md").symlink_to(outside / "planted.md")
        h.sessions.mkdir()
        h.start()
        msgs = Messages()
        append(h.sessions / "s1.jsonl", msgs.header("s1") + msgs.lines(2))
        wait_until(lambda: (h.status() or {}).get("errors", 0) >= 1, 15, "the refused write in status")
        assert "symbolic link" in str(h.must_status().get("last_error"))
    assert os.listdir(outside) == []
