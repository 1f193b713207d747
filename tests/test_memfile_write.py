"""memfile.write_block, writer_lock and sweep on real files: results, idempotence, modes, owners, symlinks,
separate mode, the lock across processes, and crash leftovers."""

from __future__ import annotations

import datetime
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from memory_syncd.errors import MemorySyncError, Refused, WriteConflict
from memory_syncd.write.memfile import (
    BEGIN,
    LOCK_NAME,
    WriteResult,
    extract,
    splice,
    sweep,
    target_path,
    write_block,
    writer_lock,
)

HELPERS = Path(__file__).resolve().parent / "helpers"
REPO = Path(__file__).resolve().parent.parent
TITLE = "# 2026-04-13 (Monday)"
NOTES = (b"---\ntags: [daily]\r\n---\n# 2026-04-13\n\n## Backups\n- 09:01 dry-run OK \xff\xfe\n\n"
         b"## Light Sleep\n<!-- openclaw:dreaming:light:start -->\n- recalled\n<!-- openclaw:dreaming:light:end -->")


@pytest.fixture
def memory(tmp_path: Path) -> Path:
    return tmp_path / "workspace" / "memory"


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def identity(path: Path) -> tuple[int, int, int, int]:
    st = os.stat(path)
    return st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size


def temp_files(directory: Path) -> list[str]:
    return [n for n in os.listdir(directory) if n.startswith(".") and n != LOCK_NAME]


def test_creates_memory_dir_and_file_then_updates_then_does_nothing(memory: Path, umask_022: None) -> None:
    memory.parent.mkdir()
    day = memory / "2026-04-13.md"
    assert write_block(day, "- one\n", title=TITLE) is WriteResult.CREATED
    assert day.read_bytes() == f"{TITLE}\n\n{BEGIN}\n- one\n<!-- memory-syncd:end -->\n".encode()
    assert stat.S_IMODE(os.stat(day).st_mode) == 0o644
    assert write_block(day, "- two\n", title=TITLE) is WriteResult.UPDATED
    before = identity(day)
    time.sleep(0.01)
    assert write_block(day, "- two\n", title=TITLE) is WriteResult.UNCHANGED
    assert identity(day) == before
    assert temp_files(memory) == []


def test_an_agents_file_keeps_every_byte_outside_the_block(memory: Path) -> None:
    memory.mkdir(parents=True)
    day = memory / "2026-04-13.md"
    day.write_bytes(NOTES)
    assert write_block(day, "- first\n", title=TITLE) is WriteResult.UPDATED
    first = day.read_bytes()
    assert first.startswith(NOTES + b"\n\n" + BEGIN.encode())
    with day.open("ab") as f:
        f.write(b"\n## Evening\r\n- agent appended this")
    assert write_block(day, "- second\n", title=TITLE) is WriteResult.UPDATED
    data = day.read_bytes()
    assert data == splice(first + b"\n## Evening\r\n- agent appended this", "- second\n", TITLE)
    assert data.startswith(NOTES) and data.endswith(b"\n## Evening\r\n- agent appended this")
    assert extract(data) == "- second\n"
    before = identity(day)
    assert write_block(day, "- second\n", title=TITLE) is WriteResult.UNCHANGED
    assert identity(day) == before


def test_crlf_file_gets_a_crlf_block_and_stays_crlf(memory: Path) -> None:
    memory.mkdir(parents=True)
    day = memory / "2026-04-13.md"
    day.write_bytes(b"# 2026-04-13\r\n\r\n- note\r\n")
    write_block(day, "- a\n- b\n", title=TITLE)
    data = day.read_bytes()
    assert data.startswith(b"# 2026-04-13\r\n\r\n- note\r\n\r\n") and data.count(b"\n") == data.count(b"\r\n")


@pytest.mark.parametrize("mode", [0o640, 0o600, 0o664])
def test_mode_is_kept(memory: Path, mode: int) -> None:
    memory.mkdir(parents=True)
    day = memory / "2026-04-13.md"
    day.write_bytes(b"notes\n")
    day.chmod(mode)
    write_block(day, "x\n", title=TITLE)
    assert stat.S_IMODE(os.stat(day).st_mode) == mode


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file away")
def test_owner_is_kept_when_allowed(memory: Path) -> None:
    memory.mkdir(parents=True)
    day = memory / "2026-04-13.md"
    day.write_bytes(b"notes\n")
    os.chown(day, 4321, 4321)
    write_block(day, "x\n", title=TITLE)
    assert (os.stat(day).st_uid, os.stat(day).st_gid) == (4321, 4321)


def test_a_symlinked_day_file_is_refused_and_left_alone(tmp_path: Path, memory: Path) -> None:
    memory.mkdir(parents=True)
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "2026-04-13.md").write_bytes(b"notes\n")
    day = memory / "2026-04-13.md"
    day.symlink_to(vault / "2026-04-13.md")
    with pytest.raises(Refused, match="symbolic link"):
        write_block(day, "x\n", title=TITLE)
    assert day.is_symlink() and os.readlink(day) == str(vault / "2026-04-13.md")
    assert (vault / "2026-04-13.md").read_bytes() == b"notes\n"
    assert temp_files(memory) == [] and temp_files(vault) == []


def test_separate_mode_leaves_the_daily_file_untouched(memory: Path) -> None:
    memory.mkdir(parents=True)
    day = datetime.date(2026, 4, 13)
    daily = target_path(memory, day, "inline")
    daily.write_bytes(NOTES)
    before = identity(daily)
    ours = target_path(memory, day, "separate")
    assert write_block(ours, "x\n", title=TITLE) is WriteResult.CREATED
    assert write_block(ours, "y\n", title=TITLE) is WriteResult.UPDATED
    assert daily.read_bytes() == NOTES and identity(daily) == before
    assert ours.read_bytes().startswith(TITLE.encode() + b"\n\n") and extract(ours.read_bytes()) == "y\n"


def test_user_facing_failures_are_memory_sync_errors(tmp_path: Path, memory: Path) -> None:
    with pytest.raises(MemorySyncError, match="workspace"):  # the workspace itself is missing
        write_block(memory / "2026-04-13.md", "x\n", title=TITLE)
    (memory / "2026-04-13.md").mkdir(parents=True)
    with pytest.raises(MemorySyncError, match="not a regular file"):
        write_block(memory / "2026-04-13.md", "x\n", title=TITLE)


def test_writer_lock_excludes_another_process(memory: Path) -> None:
    memory.mkdir(parents=True)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    holder = subprocess.Popen([sys.executable, str(HELPERS / "lock_holder.py"), str(memory), "1.0"],
                              stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(WriteConflict) as err, writer_lock(memory, timeout=0.2):
            pass
        assert str(memory / LOCK_NAME) in str(err.value) and f"pid {holder.pid}" in str(err.value)
        start = time.monotonic()
        with writer_lock(memory, timeout=10):  # waits until the holder lets go, about 0.8 s from now
            assert time.monotonic() - start > 0.3
    finally:
        holder.communicate(timeout=10)
    # A second lock in the same process waits too (flock is per open file).
    with writer_lock(memory, timeout=0.1), pytest.raises(WriteConflict), writer_lock(memory, timeout=0.05):
        pass


def test_sweep_keeps_leftovers_holding_unique_bytes_and_deletes_the_rest(memory: Path) -> None:
    memory.mkdir(parents=True)
    day = memory / "2026-04-13.md"
    day.write_bytes(splice(b"# t\n- a\n", "block\n", TITLE))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    pid = int(dead.stdout)
    covered = memory / f".2026-04-13.md.memory-syncd.{pid}.0a1b2c3d.tmp"
    covered.write_bytes(splice(b"# t\n- a\n", "an older block\n", TITLE))
    unique = memory / f".2026-04-13.md.memory-syncd.{pid}.00ff00ff.tmp"
    unique.write_bytes(b"# t\n- a\n- a line only the crashed write saw\n")
    writer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # a live writer's temp
    try:
        running = memory / f".2026-04-13.md.memory-syncd.{writer.pid}.12345678.tmp"
        running.write_bytes(b"in flight\n")
        kept = sweep(memory)
    finally:
        writer.kill()
        writer.wait()
    assert not covered.exists() and not unique.exists() and running.exists()
    assert len(kept) == 1 and kept[0].name.startswith("2026-04-13.md.memory-syncd-conflict-")
    assert kept[0].read_bytes() == b"# t\n- a\n- a line only the crashed write saw\n"


def test_sweep_takes_leftovers_of_a_predecessor_that_had_our_pid(memory: Path) -> None:
    """PID 1 in a container comes back with the same pid: its leftovers are not a write of ours in flight
    (every write holds the writer lock, and the sweep runs under it)."""
    memory.mkdir(parents=True)
    (memory / "2026-04-13.md").write_bytes(splice(b"# t\n", "block\n", TITLE))
    mine = memory / f".2026-04-13.md.memory-syncd.{os.getpid()}.0a1b2c3d.tmp"
    mine.write_bytes(b"# t\n- an agent line the crash left here\n")
    kept = sweep(memory)
    assert not mine.exists() and len(kept) == 1
    assert kept[0].read_bytes() == b"# t\n- an agent line the crash left here\n"


def test_sweep_deletes_what_a_killed_create_left(memory: Path) -> None:
    """A new day file killed before it was linked in leaves our title and block only: nothing of anyone's."""
    memory.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    left = memory / f".2026-04-13.md.memory-syncd.{int(dead.stdout)}.0a1b2c3d.tmp"
    left.write_bytes(splice(None, "block\n", "# 2026-04-13 (Monday)"))
    assert sweep(memory) == [] and not left.exists()
    other_day = memory / f".2026-04-14.md.memory-syncd.{int(dead.stdout)}.0a1b2c3d.tmp"
    other_day.write_bytes(splice(None, "block\n", "# 2026-04-13 (Monday)"))  # not this file's title
    assert len(sweep(memory)) == 1


def test_kill_9_mid_write_leaves_old_or_new_content_and_sweepable_leftovers(memory: Path) -> None:
    memory.mkdir(parents=True)
    day = memory / "2026-04-13.md"
    day.write_bytes(NOTES)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    leftovers = 0
    for i in range(15):
        writer = subprocess.Popen([sys.executable, str(HELPERS / "block_writer.py"), str(day)],
                                  stdout=subprocess.PIPE, text=True, env=env)
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        time.sleep(0.005 * (i % 7))
        writer.kill()
        writer.communicate(timeout=10)
        data = day.read_bytes()
        assert data.startswith(NOTES) and (extract(data) or "").startswith("- rewrite ")
        leftovers += len(temp_files(memory))
        assert sweep(memory) == []  # a leftover is our unpublished copy or the file we replaced: no unique lines
        assert temp_files(memory) == []
    assert leftovers > 0  # some kills really landed mid-write (about half do)
