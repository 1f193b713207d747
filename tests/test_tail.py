"""tail.py: complete lines only, offsets, the line cap, file identity and resets."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fixtures_openclaw import append, write
from hypothesis import given, settings
from hypothesis import strategies as st

from memory_syncd.read import tail
from memory_syncd.read.tail import Identity, ReadReport, TailState


def read(path: Path, state: TailState, max_line: int = 1 << 20, report: ReadReport | None = None,
         ) -> tuple[list[bytes], bool]:
    """One incremental read as ingest does it: check identity, then take the new complete lines."""
    with open(path, "rb") as f:
        reset = tail.check(f, state)
        lines = [ln.data for ln in tail.read_lines(f, state, max_line, report or ReadReport())]
    return lines, reset


@contextmanager
def chunk_size(n: int) -> Iterator[None]:
    """Exercise the chunk-boundary logic with small reads (a buffer size, not a mock)."""
    old = tail._CHUNK
    tail._CHUNK = n
    try:
        yield
    finally:
        tail._CHUNK = old


def test_only_complete_lines(tmp_path: Path) -> None:
    p = write(tmp_path / "a.jsonl", b"one\ntwo\nthr")
    state = TailState()
    assert read(p, state) == ([b"one", b"two"], False)
    assert state.offset == 8
    assert read(p, state) == ([], False)
    append(p, b"ee\nfour")
    assert read(p, state) == ([b"three"], False)
    append(p, b"\n")
    assert read(p, state) == ([b"four"], False)
    assert state.offset == p.stat().st_size


def test_line_starts_are_file_offsets(tmp_path: Path) -> None:
    p = write(tmp_path / "a.jsonl", b"ab\n\ncde\n")
    with open(p, "rb") as f:
        state = TailState()
        tail.check(f, state)
        lines = list(tail.read_lines(f, state, 100, ReadReport()))
    assert [(ln.start, ln.data) for ln in lines] == [(0, b"ab"), (3, b""), (4, b"cde")]


def test_stopping_early_resumes_after_the_last_line_taken(tmp_path: Path) -> None:
    p = write(tmp_path / "a.jsonl", b"1\n2\n3\n")
    state = TailState()
    with open(p, "rb") as f:
        tail.check(f, state)
        it = tail.read_lines(f, state, 100, ReadReport())
        assert next(it).data == b"1"
        it.close()
    assert state.offset == 2
    assert read(p, state)[0] == [b"2", b"3"]


def test_over_long_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    p = write(tmp_path / "a.jsonl", b"ok\n" + b"x" * 5000 + b"\nafter\n")
    report = ReadReport()
    assert read(p, TailState(), max_line=1024, report=report)[0] == [b"ok", b"after"]
    assert report.too_long == 1


def test_line_exactly_at_the_cap_is_data(tmp_path: Path) -> None:
    p = write(tmp_path / "a.jsonl", b"y" * 1024 + b"\n" + b"z" * 1025 + b"\n")
    report = ReadReport()
    assert read(p, TailState(), max_line=1024, report=report)[0] == [b"y" * 1024]
    assert report.too_long == 1


def test_over_long_line_never_stalls_the_file(tmp_path: Path) -> None:
    """A long line still being written is counted once, never buffered beyond the cap, and reading
    resumes after its newline when that arrives later."""
    p = write(tmp_path / "a.jsonl", b"a\n" + b"x" * 3000)
    state, report = TailState(), ReadReport()
    with chunk_size(512):
        assert read(p, state, max_line=1024, report=report)[0] == [b"a"]
        assert state.skipping and report.too_long == 1
        append(p, b"x" * 3000)
        assert read(p, state, max_line=1024, report=report)[0] == []
        append(p, b"x\nb\n")
        assert read(p, state, max_line=1024, report=report)[0] == [b"b"]
    assert report.too_long == 1 and not state.skipping
    assert state.offset == p.stat().st_size


def test_long_valid_line_is_data(tmp_path: Path) -> None:
    big = b'{"x":"' + b"y" * (20 * 1024 * 1024) + b'"}'
    p = write(tmp_path / "a.jsonl", b"a\n" + big + b"\nb\n")
    lines, _ = read(p, TailState(), max_line=64 * 1024 * 1024)
    assert [len(x) for x in lines] == [1, len(big), 1]


# --- identity ---


def test_growth_is_the_same_file(tmp_path: Path) -> None:
    p = write(tmp_path / "a.jsonl", b"h" * 10 + b"\n")
    state = TailState()
    read(p, state)
    assert state.identity is not None and state.identity.fp_len == 11
    append(p, b"x" * 3000 + b"\n")
    lines, reset = read(p, state)
    assert not reset and len(lines) == 1
    assert state.identity.fp_len == tail.FINGERPRINT_BYTES


def test_truncation_is_a_reset(tmp_path: Path) -> None:
    p = write(tmp_path / "a.jsonl", b"first\nsecond\n")
    state = TailState()
    read(p, state)
    p.write_bytes(b"new\n")  # same inode, shorter
    assert read(p, state) == ([b"new"], True)


def test_rewrite_with_other_first_bytes_is_a_reset(tmp_path: Path) -> None:
    p = write(tmp_path / "a.jsonl", b"first\nsecond\n")
    state = TailState()
    read(p, state)
    with open(p, "r+b") as f:  # in place, same inode, same length, other content
        f.write(b"FIRST\nSECOND\nthird\n")
    assert read(p, state) == ([b"FIRST", b"SECOND", b"third"], True)


def test_rewrite_with_same_prefix_and_longer_is_a_reset(tmp_path: Path) -> None:
    """Truncated and rewritten between two reads: the first KiB matches, the file is longer than the old
    offset, but the old offset now falls inside a line. Reading from there would lose that line."""
    head = b"h" * 2000 + b"\n"
    p = write(tmp_path / "a.jsonl", head + b"old line\n")
    state = TailState()
    read(p, state)
    p.write_bytes(head + b"a much longer replacement line\nnext\n")
    assert read(p, state) == ([b"h" * 2000, b"a much longer replacement line", b"next"], True)


def test_replaced_file_is_a_reset(tmp_path: Path) -> None:
    p = write(tmp_path / "a.jsonl", b"first\n")
    state = TailState()
    read(p, state)
    write(tmp_path / "tmp", b"first\nsecond\n")
    os.replace(tmp_path / "tmp", p)  # new inode, same first bytes
    assert read(p, state) == ([b"first", b"second"], True)


def test_renamed_file_keeps_its_place(tmp_path: Path) -> None:
    p = write(tmp_path / "a.jsonl", b"first\n")
    state = TailState()
    read(p, state)
    archived = tmp_path / "a.jsonl.reset.2026-04-13T07-12-55.123Z"
    p.rename(archived)
    append(archived, b"late\n")
    assert read(archived, state) == ([b"late"], False)


def test_identity_round_trips() -> None:
    ident = Identity(1, 2, 3, "abc")
    assert Identity.from_json(ident.to_json()) == ident


# --- properties ---


@settings(max_examples=300, deadline=None)
@given(content=st.lists(st.sampled_from([b"\n", b"a", b"bb", b"{}", b"x" * 40, b"\r", b"\xff"]), max_size=60),
       cuts=st.lists(st.integers(0, 2000), max_size=8),
       max_line=st.integers(1, 60), chunk=st.integers(1, 64))
def test_read_lines_split_anywhere_yields_exactly_the_complete_lines(
        content: list[bytes], cuts: list[int], max_line: int, chunk: int) -> None:
    data = b"".join(content)
    bounds = sorted({min(c, len(data)) for c in cuts} | {len(data)})
    *complete, rest = data.split(b"\n")
    got: list[bytes] = []
    starts: list[int] = []
    report = ReadReport()
    state = TailState()
    with tempfile.TemporaryDirectory() as d, chunk_size(chunk):
        p = write(Path(d) / "a.jsonl", b"")
        done = 0
        for b in bounds:
            append(p, data[done:b])
            done = b
            with open(p, "rb") as f:
                assert not tail.check(f, state)
                for ln in tail.read_lines(f, state, max_line, report):
                    got.append(ln.data)
                    starts.append(ln.start)
    assert got == [ln for ln in complete if len(ln) <= max_line]
    assert all(data[s:s + len(g) + 1] == g + b"\n" for s, g in zip(starts, got, strict=True))
    assert report.too_long == sum(len(ln) > max_line for ln in complete) + (len(rest) > max_line)
    if len(rest) <= max_line:
        assert state.offset == len(data) - len(rest) and not state.skipping


class _Stream(io.BytesIO):
    """A stream that cannot seek back (as a zstd reader): long lines are held as chunks and joined."""

    def seekable(self) -> bool:
        return False


class _ShrinksOnReread(io.BytesIO):
    """A file truncated just as a long line is read again: the moment between finding its newline and
    reading it in one piece."""

    def seek(self, pos: int, whence: int = 0) -> int:
        if pos < self.tell() and pos > 0:
            self.truncate(pos + 3)
        return super().seek(pos, whence)


@pytest.mark.parametrize("kind", [io.BytesIO, _Stream])
def test_long_lines_from_files_and_streams(kind: type[io.BytesIO]) -> None:
    data = b"a\n" + b"x" * 50 + b"\n" + b"y" * 7 + b"\nz" * 3 + b"\n" + b"w" * 200 + b"\n" + b"part"
    state = TailState()
    with chunk_size(8):
        lines = list(tail.read_lines(kind(data), state, 100, report := ReadReport()))
    assert [ln.data for ln in lines] == [b"a", b"x" * 50, b"y" * 7, b"z", b"z", b"z"]
    assert [ln.start for ln in lines] == [0, 2, 53, 61, 63, 65]
    assert report.too_long == 1 and state.offset == len(data) - 4


def test_a_long_line_gone_when_read_again_is_left_for_the_next_check() -> None:
    data = b"a\n" + b"x" * 50 + b"\nb\n"
    state = TailState()
    with chunk_size(8):
        lines = [ln.data for ln in tail.read_lines(_ShrinksOnReread(data), state, 100, ReadReport())]
    assert lines == [b"a"]
    assert state.offset == 2  # the long line starts here: read again once `check` has seen the change
