"""Reading a day's raw records back from the sources the index points at: only the byte ranges (or seq ranges)
that hold the day, however long the history is, from JSONL files, zst archives, a store's rows and its
archive blobs alike. This is what a day's content is built from.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

from memory_syncd.read import store, tail
from memory_syncd.read.index import DayPart
from memory_syncd.read.skim import amplifies
from memory_syncd.read.state import SourceState
from memory_syncd.read.tail import open_regular

log = logging.getLogger(__name__)


def day_lines(sources: Iterable[SourceState], day: date, max_line: int) -> Iterator[tuple[str, bytes]]:
    """The raw records of `sources` that hold `day`, with the session each belongs to; records too complex to
    parse safely are left out, as reading them left them out."""
    for state in sources:
        part = state.summary.days.get(day)
        if part is None:
            continue
        if state.kind in ("sqlite", "chunk"):
            yield from ((s, raw) for s, raw in store.day_rows(Path(state.path), part.spans, max_line)
                        if not amplifies(raw))
            continue
        try:
            yield from ((s, raw) for s, raw in _file_ranges(state, part, max_line) if not amplifies(raw))
        except OSError as e:
            log.warning("cannot re-read %s: %s", state.path, e)


def _file_ranges(state: SourceState, part: DayPart, max_line: int) -> Iterator[tuple[str, bytes]]:
    """The day's lines of a JSONL file, a zst archive file, or an archive row of the store."""
    session = state.summary.session
    if state.kind in ("zst", "archive"):
        with contextlib.ExitStack() as stack:
            if state.kind == "archive":
                con = stack.enter_context(contextlib.closing(store.connect(Path(state.path))))
                row = store.Archive(state.archive[0], state.archive[1], state.archive[2], "", state.ident)
                f = stack.enter_context(store.archive_stream(con, row))
            else:
                import zstandard

                raw = stack.enter_context(open_regular(state.path))
                f = stack.enter_context(zstandard.ZstdDecompressor().stream_reader(raw))
            if f is None:
                return
            pos = 0
            for spans in part.spans.values():
                for a, b in sorted(spans):
                    if a < pos:
                        continue
                    f.read(a - pos)
                    yield from ((session, ln) for ln in f.read(b - a).split(b"\n") if ln)
                    pos = b
        return
    with open_regular(state.path) as f:
        ranges = (span for spans in part.spans.values() for span in spans)
        yield from ((session, ln) for ln in tail.read_ranges(f, ranges, max_line))
