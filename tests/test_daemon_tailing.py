"""The real daemon against transcripts that grow, tear, shrink, get replaced, archived and recreated.

Ground truth is the set of unique messages the test wrote. While the daemon runs a day's count never goes
down: what a truncated, replaced or deleted file held still counts (its keys are retired, not dropped), and
a re-read of the same message never counts twice.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_harness import Harness, Messages, append, harness, wait_until


@pytest.fixture
def d(tmp_path: Path) -> Iterator[Harness]:
    with harness(tmp_path) as h:
        h.sessions.mkdir()
        yield h


def test_append_shows_up_in_memory_file(d: Harness) -> None:
    m = Messages()
    d.start()
    assert d.must_status()["messages_today"] == 0
    path = d.sessions / "s1.jsonl"
    append(path, m.header("s1") + m.lines(2))
    d.wait_count(2)
    append(path, m.one("please remember that the backup moved to Tuesday"))
    d.wait_count(3)
    text = d.memory_file().read_text()
    assert "backup moved to Tuesday" in text
    assert text.count("<!-- memory-syncd:begin -->") == 1
    s = d.must_status()
    assert s["errors"] == 0 and s["files"] == 1


def test_partial_line_counted_once_only_when_complete(d: Harness) -> None:
    m = Messages()
    path = d.sessions / "s1.jsonl"
    d.start()
    first = m.header("s1") + m.one()
    second = m.one()
    cut = len(second) // 2
    append(path, first + second[:cut])
    d.wait_count(1)
    # The checkpoint only ever points just after a newline.
    wait_until(lambda: d.checkpoint_offsets().get("s1.jsonl") == (len(first), False), what="checkpoint at line end")
    # A reconcile or two pass over the torn line: still not a message.
    before = d.must_status()["bytes_read"]
    time.sleep(1.5)
    s = d.must_status()
    assert s["messages_today"] == 1 and d.auto_count() == 1
    assert s["bytes_read"] == before
    assert s["skipped"].get("partial last line") == 1
    assert "malformed" not in s["skipped"]
    append(path, second[cut:])
    s = d.wait_count(2)
    assert "malformed" not in s["skipped"] and "partial last line" not in s["skipped"]
    wait_until(lambda: d.checkpoint_offsets()["s1.jsonl"] == (len(first) + len(second), False),
               what="checkpoint at the end")


def test_byte_by_byte_writer_with_multibyte_text(d: Harness) -> None:
    m = Messages()
    path = d.sessions / "s1.jsonl"
    data = m.header("s1") + m.one("party 🎉 time") + m.one("grüße aus Köln — ✓") + m.one("plain ascii")
    d.start()
    with open(path, "ab", buffering=0) as f:
        for i in range(len(data)):
            f.write(data[i:i + 1])
            time.sleep(0.001)
    s = d.wait_count(3)
    assert s["errors"] == 0
    assert not s["skipped"], s["skipped"]
    assert "party 🎉 time" in d.memory_file().read_text()


def test_truncate_in_place_then_rewrite(d: Harness) -> None:
    m = Messages()
    path = d.sessions / "s1.jsonl"
    append(path, m.header("s1") + m.lines(4))
    d.start()
    d.wait_count(4)
    os.truncate(path, 0)  # copytruncate / OpenClaw's "no assistant yet" reset: same inode, size 0
    fresh = m.header("s1") + m.lines(3)
    append(path, fresh)
    s = d.wait_count(7)  # the truncated messages still count: they happened today
    assert s["resets"] >= 1
    wait_until(lambda: d.checkpoint_offsets()["s1.jsonl"] == (len(fresh), False), what="offset reset")
    # Truncated and re-flushed with the very same records (OpenClaw re-flushes header, user, assistant).
    os.truncate(path, 0)
    append(path, fresh)
    append(path, m.lines(1))
    d.wait_count(8)
    assert d.must_status()["files"] == 1


def test_truncate_and_refill_past_offset_while_frozen(d: Harness) -> None:
    """The daemon cannot see the truncation: by the time it looks, the file is longer than before and
    starts with the same first KiB. The byte before the old offset gives it away."""
    m = Messages()
    path = d.sessions / "s1.jsonl"
    prefix = m.header("s1") + m.lines(4)  # > 1 KiB: the fingerprint alone cannot tell
    assert len(prefix) > 1024
    old = prefix + m.lines(2)
    append(path, old)
    d.start()
    d.wait_count(6)
    d.send(signal.SIGSTOP)
    try:
        new = prefix + m.one("a much longer message " * 8) + m.lines(6)
        assert len(new) > len(old) and new[len(old) - 1:len(old)] != b"\n"
        with open(path, "r+b") as f:
            f.truncate(0)
            f.write(new)
    finally:
        d.send(signal.SIGCONT)
    s = d.wait_count(6 + 7)
    assert s["resets"] >= 1
    assert "malformed" not in s["skipped"]


def test_replace_by_rename_over(d: Harness) -> None:
    m = Messages()
    path = d.sessions / "s1.jsonl"
    kept = m.header("s1") + m.lines(4)
    append(path, kept)
    d.start()
    d.wait_count(4)
    tmp = d.sessions / "s1.jsonl.repair-123-456.tmp"  # OpenClaw's session-file repair: new inode
    tmp.write_bytes(kept + m.lines(2))
    os.replace(tmp, path)
    s = d.wait_count(6)
    assert s["files"] == 1
    assert "malformed" not in s["skipped"]


ARCHIVE = ".jsonl.reset.2026-04-13T04-00-00.123Z"


def test_rename_to_reset_archive_while_running(d: Harness) -> None:
    m = Messages()
    path = d.sessions / "s1.jsonl"
    append(path, m.header("s1") + m.lines(2) + b"not json\n" + m.lines(2))
    d.start()
    d.wait_count(4)
    before = d.must_status()["bytes_read"]
    archived = d.sessions / ("s1" + ARCHIVE)
    os.rename(path, archived)
    new = d.sessions / "s2.jsonl"
    append(new, m.header("s2") + m.lines(2))
    s = d.wait_count(6)
    # The archive is the same inode: followed, not read again (only the new file's bytes were read).
    assert s["bytes_read"] - before == new.stat().st_size
    assert s["skipped"].get("malformed") == 1
    assert s["files"] == 2
    wait_until(lambda: set(d.checkpoint_offsets()) == {archived.name, new.name}, what="checkpoint paths")


def test_rename_to_archive_while_stopped(d: Harness) -> None:
    m = Messages()
    path = d.sessions / "s1.jsonl"
    append(path, m.header("s1") + m.lines(3))
    d.start()
    d.wait_count(3)
    assert d.stop() == 0
    archived = d.sessions / "s1.jsonl.deleted.2026-04-13T04-00-00Z"
    os.rename(path, archived)
    d.start()
    s = d.wait_count(3)
    assert s["bytes_read"] == 0  # nothing re-read: identity is (dev, inode) + fingerprint, not the name
    assert s["resets"] == 0
    assert set(d.checkpoint_offsets()) == {archived.name}


def test_delete_and_recreate_same_name(d: Harness) -> None:
    m = Messages()
    path = d.sessions / "s1.jsonl"
    append(path, m.header("s1") + m.lines(4))
    d.start()
    d.wait_count(4)
    ino = path.stat().st_ino
    path.unlink()
    append(path, m.header("s1") + m.lines(3))  # the new file often gets the old inode back
    print("inode reused:", path.stat().st_ino == ino)
    s = d.wait_count(7)
    assert s["files"] == 1
    # And once more while the daemon is stopped.
    assert d.stop() == 0
    path.unlink()
    append(path, m.header("s1") + m.lines(2))
    d.start()
    d.wait_count(9)


def test_malformed_and_oversize_lines_skipped_counted_not_stalling(d: Harness) -> None:
    d.write_config("max_line_bytes = 1024\n")
    m = Messages()
    path = d.sessions / "s1.jsonl"
    d.start()
    big = m.one("x" * 3000)  # a valid message, over the cap
    assert len(big) > 1024
    m.written -= 1  # not expected to count
    append(path, m.header("s1") + m.one() + b"not json\n" + b"\x92bad cp-1252\n" + big + m.one())
    d.wait_count(2)
    # An over-long line that arrives in pieces: skipped once, and the file goes on after its newline.
    huge = m.one("y" * 5000)
    m.written -= 1
    append(path, huge[:900])
    time.sleep(0.3)
    append(path, huge[900:3000])
    time.sleep(0.3)
    append(path, huge[3000:] + m.one())
    s = d.wait_count(3)
    assert s["skipped"].get("too_long") == 2, s["skipped"]
    assert s["skipped"].get("malformed") == 2, s["skipped"]
    append(path, m.one())
    d.wait_count(4)
    assert d.must_status()["errors"] == 0
