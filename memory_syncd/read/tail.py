"""Incremental reads of transcript files: identity, offsets, complete lines only; and the lines of byte
ranges read back.

Owns the question "what is new in this file since we last looked, and is it still the same file?", and
opening a transcript safely (`open_regular`).

Invariants:
- Only complete lines (ending in `\\n`) are consumed; a partial last line is left for the next read, so
  a writer caught mid-line is never half-parsed.
- A file is the same file while (device, inode) match and its first bytes still hash to the fingerprint
  taken when we first read it, and the byte before our offset is still a newline. Anything else (replaced,
  truncated and rewritten, shrunk below our offset) is reported as `reset`, and the caller re-reads from
  byte 0; message keys make that re-read idempotent.
- A line longer than the cap is skipped (counted) without ever holding more than the cap in memory, and
  it never stalls the file: reading resumes after its newline, even if that newline arrives later.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, NamedTuple

from memory_syncd.read.skim import BIG

FINGERPRINT_BYTES = 1024
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class Identity:
    dev: int
    ino: int
    fp_len: int  # how many leading bytes the fingerprint covers (grows until FINGERPRINT_BYTES)
    fp: str

    def to_json(self) -> list[object]:
        return [self.dev, self.ino, self.fp_len, self.fp]

    @classmethod
    def from_json(cls, v: list[object]) -> Identity:
        dev, ino, fp_len, fp = v
        assert isinstance(dev, int) and isinstance(ino, int) and isinstance(fp_len, int)
        return cls(dev, ino, fp_len, str(fp))


def fingerprint(f: BinaryIO, length: int) -> str:
    f.seek(0)
    return hashlib.blake2b(f.read(length), digest_size=12).hexdigest()


def identify(f: BinaryIO, st: os.stat_result) -> Identity:
    n = min(st.st_size, FINGERPRINT_BYTES)
    return Identity(st.st_dev, st.st_ino, n, fingerprint(f, n))


def same_file(f: BinaryIO, st: os.stat_result, known: Identity) -> bool:
    """True if the open file is the one `known` describes (same inode, same first bytes)."""
    if (st.st_dev, st.st_ino) != (known.dev, known.ino) or st.st_size < known.fp_len:
        return False
    return fingerprint(f, known.fp_len) == known.fp


@dataclass(slots=True)
class TailState:
    """Where reading of one file stands. `skipping` means we are inside an over-long line."""

    identity: Identity | None = None
    offset: int = 0
    skipping: bool = False


class Line(NamedTuple):
    """One complete line (without its newline) and its offset (a tuple: one is made for every line)."""

    start: int
    data: bytes


@dataclass(slots=True)
class ReadReport:
    too_long: int = 0


def check(f: BinaryIO, state: TailState) -> bool:
    """Make `state` describe the open file `f`; return True if it had to be reset to byte 0 because the
    file is not the one the state was about (replaced, truncated, rewritten)."""
    st = os.fstat(f.fileno())
    reset = False
    if state.identity is not None and (not same_file(f, st, state.identity) or st.st_size < state.offset
                                       or not _at_line_start(f, state)):
        state.identity, state.offset, state.skipping = None, 0, False
        reset = True
    if state.identity is None or state.identity.fp_len < min(st.st_size, FINGERPRINT_BYTES):
        state.identity = identify(f, st)
    return reset


def _at_line_start(f: BinaryIO, state: TailState) -> bool:
    """Whether the offset still follows a newline, as it does after every complete line we consumed.
    A file truncated and rewritten past the offset with the same first KiB fails this (almost always)."""
    if state.skipping or state.offset == 0:
        return True
    f.seek(state.offset - 1)
    return f.read(1) == b"\n"


def read_lines(f: BinaryIO, state: TailState, max_line: int, report: ReadReport) -> Iterator[Line]:
    """Yield the complete lines after `state.offset`, advancing `state` as each is consumed.

    Stopping the iteration early is safe: the state then points just past the last line yielded. A line
    longer than a chunk is read again in one piece once its newline is found (a seekable file), so it is
    held once, not as chunks plus their join; from a stream it is held as chunks and joined once."""
    f.seek(state.offset)
    keep = not f.seekable()
    parts: list[bytes] = []  # pieces of a line not yet terminated (from a stream only)
    held = 0  # their total length (for a seekable file, the length seen so far)
    base = state.offset  # file offset of chunk[0]
    while True:
        chunk = f.read(_CHUNK)
        if not chunk:
            return
        start = 0
        while (nl := chunk.find(b"\n", start)) >= 0:
            length = held + nl - start
            if not held and not state.skipping and length <= max_line:  # a line within this chunk
                state.offset = base + nl + 1
                yield Line(base + start, chunk[start:nl])
            elif state.skipping:
                state.skipping = False
            elif length > max_line:
                report.too_long += 1
            else:
                line_start = base + start - held
                if keep:
                    data = b"".join((*parts, chunk[start:nl]))
                else:
                    got = _read_again(f, line_start, length, base + len(chunk))
                    if got is None:
                        return  # the file changed under us: the next `check` sees how
                    data = got
                parts, held = [], 0  # drop the pieces before yielding: a long line is not held twice
                state.offset = base + nl + 1
                yield Line(line_start, data)
            if held:
                parts, held = [], 0
            start = nl + 1
            state.offset = base + start
        if start < len(chunk):
            if not state.skipping:
                if keep:
                    parts.append(chunk[start:] if start else chunk)
                held += len(chunk) - start
                if held > max_line:
                    # Drop what we hold of an over-long line; the rest is skipped up to its newline.
                    report.too_long += 1
                    state.skipping = True
                    parts, held = [], 0
            if state.skipping:
                state.offset = base + len(chunk)
        base += len(chunk)


def _read_again(f: BinaryIO, start: int, length: int, resume: int) -> bytes | None:
    """The `length` bytes at `start`, which were seen to hold no newline, then back to `resume`; None if
    they are not there any more or hold a newline now (the file was truncated or rewritten)."""
    f.seek(start)
    data = f.read(length)
    f.seek(resume)
    return data if len(data) == length and b"\n" not in data else None


def read_ranges(f: BinaryIO, spans: Iterable[tuple[int, int]], max_line: int) -> Iterator[bytes]:
    """The non-empty lines of the byte ranges `spans` of a seekable file (each range made of whole lines)."""
    for a, b in spans:
        if b - a <= BIG:
            f.seek(a)
            yield from (ln for ln in f.read(b - a).split(b"\n") if ln)
            continue
        # A range holding a big line is read a line at a time, so that line is held once (not twice)
        for start, ln in read_lines(f, TailState(offset=a), max_line, ReadReport()):
            if start >= b:
                break
            if ln:
                yield ln


def open_regular(path: os.PathLike[str] | str) -> BinaryIO:
    """Open a transcript for reading; OSError if it is not a regular file (a FIFO put in its place would
    block a plain open for ever, a device would never end)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
