"""Crashes and stops: kill -9 at random moments while a writer appends, SIGTERM/SIGINT flushing the
checkpoint, and start-up cleaning what a killed writer left in the memory dir."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_harness import Harness, Messages, append, harness, today, wait_until


@pytest.fixture
def d(tmp_path: Path) -> Iterator[Harness]:
    with harness(tmp_path) as h:
        h.sessions.mkdir()
        yield h


class Writer(threading.Thread):
    """Appends unique messages to a few files, some lines in two parts with a pause between them."""

    def __init__(self, m: Messages, files: list[Path], seed: int) -> None:
        super().__init__(daemon=True)
        self.m, self.files, self.rng = m, files, random.Random(seed)
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            path = self.rng.choice(self.files)
            line = self.m.one()
            if self.rng.random() < 0.25:
                cut = self.rng.randrange(1, len(line))
                append(path, line[:cut])
                time.sleep(0.003)
                append(path, line[cut:])
            else:
                append(path, line)
            time.sleep(self.rng.uniform(0.002, 0.012))


def test_kill9_cycles_give_exact_counts(d: Harness) -> None:
    rng = random.Random(20260413)
    m = Messages("chaos")
    files = [d.sessions / f"s{i}.jsonl" for i in range(3)]
    for i, f in enumerate(files):
        append(f, m.header(f"s{i}"))
    d.start()
    writer = Writer(m, files, seed=1)
    writer.start()
    try:
        for cycle in range(8):
            time.sleep(rng.uniform(0.1, 0.8))
            d.kill9()
            # Every other restart is killed again without waiting: sometimes mid catch-up or mid-import.
            d.start(wait=cycle % 2 == 1)
    finally:
        writer.halt.set()
        writer.join(timeout=10)
    written = m.written
    assert written > 200
    if d.proc is not None and d.proc.poll() is None:
        d.wait_ready()
    else:
        d.start()
    s = d.wait_count(written, timeout=30)
    assert s["errors"] == 0, s["last_error"]
    assert "malformed" not in s["skipped"]
    # A clean stop persists offsets at the ends of the files; a restart then reads nothing again.
    assert d.stop() == 0
    offsets = d.checkpoint_offsets()
    assert offsets == {f.name: (f.stat().st_size, False) for f in files}
    d.start()
    s = d.wait_count(written)
    assert s["bytes_read"] == 0
    assert not list(d.memory.glob(".*.tmp")), "a killed write left a temp file behind"


def test_sigterm_exits_promptly_and_flushes_the_checkpoint(d: Harness) -> None:
    d.write_config(checkpoint_seconds=60)  # so only the flush at stop can persist the new offset
    m = Messages()
    path = d.sessions / "s1.jsonl"
    d.start()
    append(path, m.header("s1") + m.lines(5))
    d.wait_count(5)
    assert d.checkpoint_offsets().get("s1.jsonl", (0, False))[0] < path.stat().st_size
    time.sleep(0.3)  # idle
    t0 = time.monotonic()
    rc = d.stop(signal.SIGTERM)
    elapsed = time.monotonic() - t0
    assert rc == 0
    assert elapsed < 2.0, f"idle stop took {elapsed:.2f}s"
    assert d.checkpoint_offsets()["s1.jsonl"] == (path.stat().st_size, False)
    assert not (d.state / "run" / "control.sock").exists()
    d.start()
    s = d.wait_count(5)
    assert s["bytes_read"] == 0


def test_sigint_stops_cleanly(d: Harness) -> None:
    m = Messages()
    append(d.sessions / "s1.jsonl", m.header("s1") + m.lines(2))
    d.start()
    d.wait_count(2)
    assert d.stop(signal.SIGINT) == 0
    assert "Traceback" not in d.log_text()
    assert d.status() is None


def test_partial_line_across_restart(d: Harness) -> None:
    m = Messages()
    path = d.sessions / "s1.jsonl"
    line = m.one()
    append(path, m.header("s1") + m.one() + line[:40])
    d.start()
    d.wait_count(1)
    assert d.stop() == 0
    append(path, line[40:])
    d.start()
    s = d.wait_count(2)
    assert "malformed" not in s["skipped"]


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_start_up_sweeps_what_a_killed_writer_left(d: Harness) -> None:
    """A memory-file write killed mid-way leaves `.<name>.memory-syncd.<pid>.<hex>.tmp`: at start the daemon
    deletes the ones whose lines are all in the target, and keeps the others as conflict copies."""
    m = Messages()
    append(d.sessions / "s1.jsonl", m.header("s1") + m.lines(2))
    d.memory.mkdir()
    day = d.memory / f"{today()}.md"
    day.write_text("# notes\n\n- agent line one\n")
    stale = d.memory / f".{day.name}.memory-syncd.{_dead_pid()}.0a1b2c.tmp"
    stale.write_text("# notes\n\n- agent line one\n")
    lost = d.memory / f".MEMORY.md.memory-syncd.{_dead_pid()}.3d4e5f.tmp"
    lost.write_text("- a line only the crashed write had\n")
    (d.memory / "MEMORY.md").write_text("- curated\n")
    d.start()
    d.wait_count(2)
    assert not stale.exists()
    assert not lost.exists()
    copies = list(d.memory.glob("MEMORY.md.memory-syncd-conflict-*"))
    assert len(copies) == 1 and "only the crashed write had" in copies[0].read_text()
    assert "- agent line one" in day.read_text()


def test_stale_checkpoint_temp_files_are_cleaned(d: Harness) -> None:
    (d.state / "checkpoint").mkdir(parents=True)
    junk = d.state / "checkpoint" / ".main-0123456789ab.json.k2j3h4.tmp"
    junk.write_bytes(b'{"half": ')
    old = time.time() - 3600
    os.utime(junk, (old, old))
    d.start()
    wait_until(lambda: not junk.exists(), what="the stale checkpoint temp file to go")
