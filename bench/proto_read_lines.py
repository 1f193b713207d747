"""A proposed `memory_syncd.tail.read_lines`, checked against the current one and timed.

    python bench/proto_read_lines.py [CORPUS_DIR]

The current loop builds `buf = pending + chunk` and searches `buf` for b"\\n" from its start for every
1 MiB chunk of a line that is not finished yet, so a line of N MiB costs about N²/2 MiB of copying and
scanning, plus as many freshly mapped pages in a new process (compare, the daemon's first pass). The
prototype keeps the unfinished line as a list of chunks, searches only each new chunk, and joins once when
the newline arrives. Same contract: same lines, same `too_long` counts, same offsets.

What it measures: a differential test (random files, chunk sizes 1-16 bytes, line caps 1-40 bytes, data
appended between reads) and, on a corpus (default: the 300 MB one bench_compare.py made), the time to read
every transcript with each version.
"""

from __future__ import annotations

import io
import random
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from memory_syncd import tail
from memory_syncd.tail import Line, ReadReport, TailState

Reader = Callable[[BinaryIO, TailState, int, ReadReport], Iterator[Line]]


def read_lines(f: BinaryIO, state: TailState, max_line: int, report: ReadReport,
               chunk_size: int = 1 << 20) -> Iterator[Line]:
    """Yield the complete lines after `state.offset`, advancing `state` as each is consumed."""
    f.seek(state.offset)
    fpos = state.offset  # file offset of chunk[0]
    parts: list[bytes] = []  # an unfinished line; it starts at state.offset
    held = 0
    while True:
        chunk = f.read(chunk_size)
        if not chunk:
            return
        start = 0
        if parts or state.skipping:
            nl = chunk.find(b"\n")
            if nl < 0:  # the whole chunk belongs to the line we are in
                if state.skipping:
                    state.offset = fpos + len(chunk)
                else:
                    parts.append(chunk)
                    held += len(chunk)
                    if held > max_line:
                        report.too_long += 1
                        state.skipping = True
                        state.offset = fpos + len(chunk)
                        parts, held = [], 0
                fpos += len(chunk)
                continue
            start = nl + 1
            if state.skipping:
                state.skipping = False
                state.offset = fpos + start
            else:
                line_start = state.offset
                parts.append(chunk[:nl])
                data = b"".join(parts)
                parts, held = [], 0
                state.offset = fpos + start
                if len(data) > max_line:
                    report.too_long += 1
                else:
                    yield Line(line_start, data)
        while True:
            nl = chunk.find(b"\n", start)
            if nl < 0:
                break
            line_start, start = start, nl + 1
            state.offset = fpos + start
            if nl - line_start > max_line:
                report.too_long += 1
            else:
                yield Line(fpos + line_start, chunk[line_start:nl])
        if start < len(chunk):
            rest = chunk[start:] if start else chunk
            if len(rest) > max_line:
                report.too_long += 1
                state.skipping = True
                state.offset = fpos + len(chunk)
            else:
                parts.append(rest)
                held = len(rest)
        fpos += len(chunk)


def _run(new: bool, steps: list[bytes], max_line: int, chunk: int) -> list[object]:
    """Read a growing file step by step; record lines, too_long counts and (outside a skip) offsets."""
    state, report = TailState(), ReadReport()
    out: list[object] = []
    data = b""
    for step in steps:
        data += step
        f = io.BytesIO(data)
        if new:
            lines = list(read_lines(f, state, max_line, report, chunk))
        else:
            saved, tail._CHUNK = tail._CHUNK, chunk
            try:
                lines = list(tail.read_lines(f, state, max_line, report))
            finally:
                tail._CHUNK = saved
        out += [(ln.start, ln.data) for ln in lines]
        out.append(("step", report.too_long, None if state.skipping else state.offset))
    return out


def differential(cases: int = 20_000, seed: int = 7) -> None:
    rng = random.Random(seed)
    for case in range(cases):
        max_line, chunk = rng.randint(1, 40), rng.randint(1, 16)
        body = b"".join(bytes(rng.choice(b"ab{}") for _ in range(rng.choice((0, 1, 3, 10, 30, 60)))) + b"\n"
                        for _ in range(rng.randint(0, 12)))
        body += bytes(rng.choice(b"xy") for _ in range(rng.choice((0, 0, 5, 50))))
        cuts = sorted(rng.sample(range(len(body) + 1), k=min(len(body) + 1, rng.randint(0, 3))))
        steps, prev = [], 0
        for c in [*cuts, len(body)]:
            steps.append(body[prev:c])
            prev = c
        if _run(False, steps, max_line, chunk) != _run(True, steps, max_line, chunk):
            raise SystemExit(f"differs on case {case}: max_line={max_line} chunk={chunk} steps={steps!r}")
    print(f"differential test: {cases} random cases, identical lines, too_long counts and offsets")


def timing(corpus_dir: Path, repeat: int = 5) -> None:
    from memory_syncd.sources import Kind, list_sessions

    files = [p for d in sorted((corpus_dir / "agents").glob("*/sessions"))
             for p, kind in list_sessions(d).files if kind is Kind.JSONL]

    def read_all(reader: Reader) -> int:
        n = 0
        for path in files:
            with open(path, "rb") as f:
                for _ in reader(f, TailState(), 64 * 1024 * 1024, ReadReport()):
                    n += 1
        return n

    for name, reader in (("tail.read_lines (current)", tail.read_lines), ("prototype", read_lines)):
        best = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            n = read_all(reader)
            best = min(best, time.perf_counter() - t0)
        print(f"{name:28} {best:.3f} s for {n} lines in {len(files)} files (best of {repeat})")


def main() -> None:
    differential()
    corpus_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "out" / "corpus-300mb-60d-2a-s1"
    if corpus_dir.is_dir():
        timing(corpus_dir)
    else:
        print(f"no corpus at {corpus_dir}: run bench/bench_compare.py first for the timing part")


if __name__ == "__main__":
    main()
