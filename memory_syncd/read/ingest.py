"""Ingestion of one agent's transcripts into per-source summaries: the part of the pipeline shared by the
one-shot commands and the daemon.

Owns `AgentIndex`: for every source of one agent (each JSONL file by device and inode, so a rename to a
`.reset`/`.deleted` archive keeps its progress; the SQLite store by path) where reading stands and what
was found. `refresh()` stats every source and reads only what grew; its state is serialized as the compare
cache and the daemon checkpoint. Processes can share a refresh out (`stale`, `store_chunks`, `read_files`,
`adopt`): files one by one, a big store in runs of its sessions, put together in order by the refresh.

Invariants:
- A source unchanged since the last refresh (same size and mtime) is not opened.
- Re-reading (after a reset or from an older checkpoint) never double counts: summaries hold key sets.
- A file that was reset (truncated, rewritten) is summarized again from byte 0 into a fresh summary, so
  counts and skips describe what it holds now, as a run without a cache would see it.
- Sources that vanished, and what a reset file no longer holds, are dropped, unless `keep_vanished`: then
  their message keys move to `retired`, so a day's count never goes down while the daemon runs.
- Bad input never stops a refresh: unreadable files, broken archives and store errors are reported and
  counted, and the other sources are still read.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

from memory_syncd.errors import SourceError
from memory_syncd.read import readback, sessionmeta, store, tail
from memory_syncd.read.index import Day, DayPart, SourceDays, days_of
from memory_syncd.read.parse import DayClock, Message, Skip, SkipReason, parse_line
from memory_syncd.read.sessionmeta import SessionMeta
from memory_syncd.read.skim import BIG, amplifies
from memory_syncd.read.sources import Agent, Kind, checkpoint_needed, checkpoint_of, list_sessions
from memory_syncd.read.state import RefreshReport, SourceState
from memory_syncd.read.store_rows import StoreChunk
from memory_syncd.read.tail import TailState, open_regular

log = logging.getLogger(__name__)

SCHEMA = 4  # bump whenever message keys or the saved layout change
PARTIAL = "partial last line"


@dataclass
class AgentIndex:
    agent: Agent
    timezone: str
    max_line: int
    keep_vanished: bool = False
    sources: dict[str, SourceState] = field(default_factory=dict)
    retired: dict[date, set[int]] = field(default_factory=dict)
    listing_skipped: Counter[str] = field(default_factory=Counter)
    # session_meta's last answer and the file states it was read from (the daemon asks on every write)
    _meta: tuple[tuple[str, str], dict[str, SessionMeta]] | None = field(default=None, init=False, repr=False,
                                                                                compare=False)

    def refresh(self, clock: DayClock) -> RefreshReport:
        """Bring every source up to date; return what was read and which days changed."""
        report = RefreshReport()
        seen: set[str] = set()
        for key, path, kind, st in self._listed():
            seen.add(key)
            self._read_source(self.sources[key], path, kind, st, clock, report)
        db = self.agent.sqlite
        if db is not None and db.exists():
            try:
                seen |= self._read_store(db, clock, report)
            except SourceError as e:  # locked for too long, damaged: keep what was read, try again later
                report.errors.append(str(e))
                seen |= {k for k in self.sources if k == f"sqlite:{db}" or k.startswith(f"archive:{db}:")}
        for key in [k for k in self.sources if k not in seen]:
            self._retire(self.sources.pop(key).summary)
        return report

    def stale(self) -> dict[str, int]:
        """What a refresh would read, by source key (the store's too), with about how many bytes of each. The
        files' states are made now, in listing order: sharing the reading out keeps a refresh's order."""
        out = {}
        for key, _path, _kind, st in self._listed():
            state = self.sources[key]
            if state.size != st.st_size or state.mtime_ns != st.st_mtime_ns:
                out[key] = st.st_size - (state.tail.offset if state.size <= st.st_size else 0)
        db = self.agent.sqlite
        if db is not None and db.exists():
            known = self.sources.get(f"sqlite:{db}")
            if known is None or known.ident != store.signature(db):
                out[f"sqlite:{db}"] = store.disk_bytes(db)
        return out

    def store_chunks(self, size: int, chunk_bytes: int) -> list[tuple[int, StoreChunk]]:
        """The store's unread rows (about `size` bytes, as `stale` said) cut into runs of sessions of about
        `chunk_bytes` each, weighed by rows, with the bytes of each; none when there is not enough to cut or the
        store cannot be read now (the refresh then reads it, and says why)."""
        db = self.agent.sqlite
        if db is None or size < 2 * chunk_bytes:
            return []
        state = self.sources.get(f"sqlite:{db}")
        try:
            con = store.connect(db)
            try:
                reads = store.plan(con, store.schema(con, db), state.cursor if state else store.StoreCursor())
            finally:
                con.close()
        except (SourceError, sqlite3.Error):
            return []
        runs = store.cut(reads, size, chunk_bytes)
        return [(n, StoreChunk(str(db), i, run)) for i, (n, run) in enumerate(runs)] if len(runs) > 1 else []

    def read_files(self, keys: Iterable[str | StoreChunk], clock: DayClock) -> dict[str, SourceState]:
        """Read the sources `keys` (from `stale`, or chunks of a store from `store_chunks`) as a refresh would,
        and nothing else (no listing, no other source retired), for sharing a refresh out among processes;
        return their states (with the store, those of its archives), for `adopt`. A refresh afterwards puts a
        store's chunks together, reads what they left and retries what failed."""
        out: dict[str, SourceState] = {}
        for key in keys:
            if isinstance(key, StoreChunk):
                with contextlib.suppress(SourceError, sqlite3.Error):  # the refresh reads those sessions itself
                    out[key.key] = self.sources[key.key] = self._read_chunk(key, clock)
                continue
            state = self.sources.get(key)
            if key.startswith("sqlite:"):
                with contextlib.suppress(SourceError):  # the refresh tries again, and reports it
                    live = self._read_store(Path(key[7:]), clock, RefreshReport())
                    for gone in [k for k in self.sources if k.startswith(f"archive:{key[7:]}:") and k not in live]:
                        self._retire(self.sources.pop(gone).summary)
                    out |= {k: self.sources[k] for k in live}
            elif state is not None:
                with contextlib.suppress(OSError):
                    st = os.stat(state.path)
                    if f"{st.st_dev}:{st.st_ino}" == key:  # else replaced since it was listed: the refresh sees it
                        self._read_source(state, Path(state.path), Kind(state.kind), st, clock, RefreshReport())
                out[key] = state
        return out

    def adopt(self, states: dict[str, SourceState]) -> None:
        """Take the states another process's `read_files` returned (it read a copy of this index): a store's
        archives become those it found."""
        for key in [k for k in states if k.startswith("sqlite:")]:
            for gone in [k for k in self.sources if k.startswith(f"archive:{key[7:]}:") and k not in states]:
                self._retire(self.sources.pop(gone).summary)
        self.sources.update(states)  # a file's key exists already: the order stays the listing's

    def _listed(self) -> Iterator[tuple[str, Path, Kind, os.stat_result]]:
        """The transcript files listed now, each with its state (made if new) and its stat; then the compaction
        checkpoints that hold what their transcript no longer does (see `sources.checkpoint_needed`)."""
        listing = list_sessions(self.agent.sessions_dir)
        self.listing_skipped = listing.skipped
        was = {s.path: key for key, s in self.sources.items() if s.kind == "jsonl"}
        cut: set[str] = set()
        sizes: dict[str, int] = {}
        for path, kind in listing.files:
            try:
                st = os.stat(path)
            except OSError:
                continue  # vanished between listing and stat: the next refresh sees where it went
            sizes[path.name] = st.st_size
            key = f"{st.st_dev}:{st.st_ino}"
            state = self.sources.get(key)
            if state is None:
                state = self.sources[key] = SourceState(str(path), kind.value)
                if was.get(str(path), key) != key:  # a new file in an old one's place
                    cut.add(session_of(path.name))
            state.path = str(path)
            yield key, path, Kind(kind), st
        for session, copies in listing.checkpoints.items():
            for path in copies:
                try:
                    st = os.stat(path)
                except OSError:
                    continue
                key = f"{st.st_dev}:{st.st_ino}"
                if key in self.sources or checkpoint_needed(st, sizes.get(f"{session}.jsonl"), session in cut):
                    self.sources.setdefault(key, SourceState(str(path), Kind.JSONL.value)).path = str(path)
                    yield key, path, Kind.JSONL, st

    def _read_source(self, state: SourceState, path: Path, kind: Kind, st: os.stat_result, clock: DayClock,
                     report: RefreshReport) -> None:
        """Read what is new in one file, unless its size and mtime are those of the last read."""
        if state.size == st.st_size and state.mtime_ns == st.st_mtime_ns:
            return
        try:
            self._read_file(state, path, kind, clock, report)
        except FileNotFoundError:
            return  # deleted or renamed since it was listed: the next refresh sees where it went
        except OSError as e:
            report.errors.append(f"{path}: {e.strerror or e}")
            self.listing_skipped["unreadable file"] += 1
            return
        state.size, state.mtime_ns = st.st_size, st.st_mtime_ns

    def _retire(self, summary: SourceDays) -> None:
        """Forget what a source held, except that with `keep_vanished` its keys keep counting."""
        if self.keep_vanished:
            for d, part in summary.days.items():
                self.retired.setdefault(d, set()).update(part.keys)

    def _read_file(self, state: SourceState, path: Path, kind: Kind, clock: DayClock,
                   report: RefreshReport) -> None:
        report.opened += 1
        if kind is Kind.ZST:
            # Compressed archives are written once: read whole into a fresh summary.
            import zstandard

            self._retire(state.summary)
            state.summary, state.tail = _fresh(path.name), TailState()
            try:
                with open_regular(path) as raw, zstandard.ZstdDecompressor().stream_reader(raw) as z:
                    self._feed(state, z, clock, report)
                    z.read()  # a torn last line: find the true end
                    torn = z.tell() > state.tail.offset and not state.tail.skipping
            except zstandard.ZstdError as e:
                log.warning("%s: not a readable zst archive (%s)", path, e)
                state.summary.skipped["corrupt zst archive"] += 1
                return
            if torn:
                state.summary.skipped[PARTIAL] += 1  # an archive's torn last line never completes
            return
        with open_regular(path) as f:
            if state.tail.identity is None and not state.summary.session:
                state.summary.session = session_of(path.name)
            if tail.check(f, state.tail):
                self._retire(state.summary)
                state.summary = _fresh(path.name)
                report.resets += 1
            self._feed(state, f, clock, report)

    def _feed(self, state: SourceState, f: BinaryIO, clock: DayClock, report: RefreshReport) -> None:
        rr = tail.ReadReport()
        summary = state.summary
        before = state.tail.offset
        for start, data in tail.read_lines(f, state.tail, self.max_line, rr):
            rec = parse_line(data) if len(data) <= BIG or not amplifies(data) else TOO_COMPLEX
            summary.feed(rec, clock, start, start + len(data) + 1)
            if type(rec) is Message:
                report.changed_days.add(clock.day(rec.ts_ms))
        report.read_bytes += state.tail.offset - before
        if rr.too_long:
            report.too_long += rr.too_long
            summary.skipped["too_long"] += rr.too_long

    def _read_store(self, db: Path, clock: DayClock, report: RefreshReport) -> set[str]:
        """Read what is new in the store and in its archive tables; return the keys of its sources."""
        key = f"sqlite:{db}"
        state = self.sources.setdefault(key, SourceState(str(db), "sqlite"))
        for chunk in sorted(k for k in self.sources if k.startswith(f"chunk:{db}:")):  # read by sharing processes
            part = self.sources.pop(chunk)
            state.summary.absorb(part.summary)
            state.cursor.seqs.update(part.cursor.seqs)
        keys = {key} | {k for k in self.sources if k.startswith(f"archive:{db}:")}
        sig = store.signature(db)
        if sig == state.ident:
            return keys  # neither the store nor its WAL or journal changed: nothing to query
        if not store.has_transcripts(db):
            log.info("%s holds no transcripts (OpenClaw before 2026.7); reading the JSONL files", db)
            state.ident = sig
            return keys
        con = store.connect(db)
        try:
            sc = store.schema(con, db)
            self._take_rows(state.summary, store.read_new(con, sc, state.cursor, self.max_line), clock, report)
            keys = {key}
            for a in store.archives(con, sc):
                akey = f"archive:{db}:{a.table}:{a.session}:{a.generation}"
                keys.add(akey)
                old = self.sources.get(akey)
                if old is not None and old.ident == a.ident:
                    continue
                if old is not None:
                    self._retire(old.summary)
                arch = self.sources[akey] = SourceState(str(db), "archive", ident=a.ident,
                                                        archive=(a.table, a.session, a.generation))
                self._read_archive(arch, con, a, clock, report)
        except sqlite3.Error as e:  # locked for too long, damaged: what was read so far is kept
            raise SourceError(f"cannot read SQLite store {db}: {e}") from e
        finally:
            con.close()
        state.ident = sig
        return keys

    def _read_chunk(self, chunk: StoreChunk, clock: DayClock) -> SourceState:
        """The rows of a store's chunk in a state of their own, for `_read_store` to put together in order."""
        db = Path(chunk.db)
        part = SourceState(chunk.db, "chunk")
        report = RefreshReport()
        con = store.connect(db)
        try:
            sc = store.schema(con, db)
            self._take_rows(part.summary, store.read_new(con, sc, part.cursor, self.max_line, list(chunk.reads)),
                            clock, report)
        finally:
            con.close()
        return part

    def _take_rows(self, summary: SourceDays, rows: Iterable[store.Row], clock: DayClock,
                   report: RefreshReport) -> None:
        feed, day, changed = summary.feed, clock.day, report.changed_days  # every row of a cold read comes here
        for session, seq, event, problem in rows:
            if event is None:
                summary.skipped[problem] += 1
                if problem == "too_long":
                    report.too_long += 1
                else:
                    log.warning("SQLite store: session %s seq %d: %s", session, seq, problem)
                continue
            report.read_bytes += len(event)
            rec = parse_line(event) if len(event) <= BIG or not amplifies(event) else TOO_COMPLEX
            feed(rec, clock, seq, seq + 1, session)
            if type(rec) is Message:
                changed.add(day(rec.ts_ms))

    def _read_archive(self, state: SourceState, con: sqlite3.Connection, a: store.Archive, clock: DayClock,
                      report: RefreshReport) -> None:
        report.opened += 1
        state.summary = SourceDays(session=a.session)
        with store.archive_stream(con, a) as f:
            if f is None:
                state.summary.skipped["corrupt archive"] += 1
                return
            self._feed(state, f, clock, report)

    # -- queries --

    def days(self) -> dict[date, Day]:
        extra = [SourceDays(days={d: DayPart(keys=k, first_ms=0, last_ms=0) for d, k in self.retired.items()})]
        summaries = [s.summary for s in self.sources.values()]
        return days_of(summaries + (extra if self.retired else []))

    def day_count(self, day: date) -> int:
        """Unique messages of one day (cheaper than `days()` when only one day is wanted)."""
        keys: set[int] = set(self.retired.get(day, ()))
        for s in self.sources.values():
            part = s.summary.days.get(day)
            if part is not None:
                keys |= part.keys
        return len(keys)

    def skipped(self) -> Counter[str]:
        total = Counter(self.listing_skipped)
        for s in self.sources.values():
            total.update(s.summary.skipped)
            if s.kind == "jsonl" and s.size > s.tail.offset and not s.tail.skipping:
                total[PARTIAL] += 1  # not a line yet: read when its newline arrives
        return total

    def day_lines(self, day: date) -> Iterator[tuple[str, bytes]]:
        """The raw records that hold `day`, with the session each belongs to (see `readback.day_lines`)."""
        return readback.day_lines(self.sources.values(), day, self.max_line)

    def session_meta(self) -> dict[str, SessionMeta]:
        """Each session's key and channel, from `sessions.json` and (where present) the SQLite store; read
        again only when one of them changed."""
        db = self.agent.sqlite
        use_db = db is not None and f"sqlite:{db}" in self.sources
        state = (store.signature(self.agent.sessions_dir / "sessions.json"),
                 store.signature(db) if use_db and db is not None else "")
        if self._meta is not None and self._meta[0] == state:
            return self._meta[1]
        meta = sessionmeta.from_sessions_json(self.agent.sessions_dir)
        if use_db and db is not None:
            meta.update(store.read_session_meta(db))
        self._meta = (state, meta)
        return meta

    # -- persistence --

    def to_json(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "agent": self.agent.id, "timezone": self.timezone,
                "sessions_dir": str(self.agent.sessions_dir), "max_line": self.max_line,
                "sources": {k: s.to_json() for k, s in self.sources.items()},
                "retired": {d.isoformat(): sorted(k) for d, k in self.retired.items()}}

    def load_json(self, v: dict[str, Any]) -> bool:
        """Adopt saved state if it was made for this agent, zone and cap; return whether it was."""
        if (v.get("schema") != SCHEMA or v.get("timezone") != self.timezone or v.get("max_line") != self.max_line
                or v.get("sessions_dir") != str(self.agent.sessions_dir)):
            return False
        try:
            sources = {k: SourceState.from_json(s) for k, s in v.get("sources", {}).items()}
            retired = {date.fromisoformat(d): set(k) for d, k in v.get("retired", {}).items()}
        except (KeyError, TypeError, ValueError, AttributeError, AssertionError):
            return False  # damaged: rebuilt from the transcripts like a missing one
        self.sources, self.retired = sources, retired
        return True


TOO_COMPLEX = Skip(SkipReason.MALFORMED)  # what a line that `amplifies` counts as


def session_of(name: str) -> str:
    """The session id a transcript's file name carries (used until, or unless, a header names it)."""
    return checkpoint_of(name) or name.split(".jsonl", 1)[0]


def _fresh(name: str) -> SourceDays:
    return SourceDays(session=session_of(name))
