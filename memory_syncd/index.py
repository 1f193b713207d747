"""The day index: what each transcript source contributed to each local day, and the days they add up to.

Owns two values and the code that fills them:
- `SourceSummary`: for one source (a JSONL file, or one SQLite store), per local day the keys of the
  messages it holds and where they lie (byte ranges, or `(session, first seq, last seq)` for SQLite),
  plus model observations and skip counts. It is fed record by record, so reading a file whole or in
  any number of pieces gives the same summary.
- `Day`: one agent's day across all its sources, with messages counted once however many sources or
  rewrite copies hold them.

Invariant: feeding is idempotent per message key: a re-read after a reset, a rewrite copy, or the same
session in both stores never counts a message twice. Counts only grow.
"""

from __future__ import annotations

import base64
from array import array
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from memory_syncd.parse import DayClock, Header, Message, ModelSeen, Record, Skip

Span = tuple[int, int]  # [start, end) byte range in a file; for SQLite: (seq_first, seq_last + 1)


@dataclass(slots=True)
class DayPart:
    keys: set[int] = field(default_factory=set)
    spans: dict[str, list[Span]] = field(default_factory=dict)  # session ("" for JSONL) -> ranges
    first_ms: int = 0
    last_ms: int = 0


class ModelObs(NamedTuple):
    """A model seen answering in a session (a tuple: warm runs load tens of thousands from the cache)."""

    ts_ms: int
    session: str
    model: str


@dataclass(slots=True)
class SourceSummary:
    """What one source holds, by local day. Mutable while the source is being read."""

    days: dict[date, DayPart] = field(default_factory=dict)
    models: list[ModelObs] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    session: str = ""

    def feed(self, rec: Record | None, clock: DayClock, start: int, end: int, session: str = "") -> None:
        """Take one parsed record found at [start, end) of the source (for SQLite: seq, seq + 1)."""
        if rec is None:
            return
        if isinstance(rec, Message):
            day = clock.day(rec.ts_ms)
            part = self.days.get(day)
            if part is None:
                part = self.days[day] = DayPart(first_ms=rec.ts_ms, last_ms=rec.ts_ms)
            part.keys.add(rec.key)
            part.first_ms = min(part.first_ms, rec.ts_ms)
            part.last_ms = max(part.last_ms, rec.ts_ms)
            _add_span(part.spans.setdefault(session, []), start, end)
            if rec.model:
                self.models.append(ModelObs(rec.ts_ms, session or self.session, rec.model))
        elif isinstance(rec, ModelSeen):
            self.models.append(ModelObs(rec.ts_ms, session or self.session, rec.model))
        elif isinstance(rec, Header):
            if rec.session_id:
                self.session = rec.session_id
        elif isinstance(rec, Skip):
            self.skipped[rec.reason.value] += 1

    # -- persistence (the compare cache and the daemon checkpoint) --

    def to_json(self) -> dict[str, Any]:
        return {
            "session": self.session,
            "skipped": dict(self.skipped),
            "models": [[m.ts_ms, m.session, m.model] for m in self.models],
            "days": {
                d.isoformat(): {
                    "keys": _pack(p.keys),
                    "spans": {s: [list(r) for r in rs] for s, rs in p.spans.items()},
                    "first_ms": p.first_ms,
                    "last_ms": p.last_ms,
                }
                for d, p in self.days.items()
            },
        }

    @classmethod
    def from_json(cls, v: dict[str, Any]) -> SourceSummary:
        s = cls(session=str(v.get("session", "")), skipped=Counter(v.get("skipped", {})))
        s.models = list(map(ModelObs._make, v.get("models", [])))
        for d, p in v.get("days", {}).items():
            s.days[date.fromisoformat(d)] = DayPart(
                keys=_unpack(p["keys"]),
                spans={k: [(int(a), int(b)) for a, b in rs] for k, rs in p.get("spans", {}).items()},
                first_ms=int(p["first_ms"]),
                last_ms=int(p["last_ms"]),
            )
        return s


def _add_span(spans: list[Span], start: int, end: int) -> None:
    if spans and spans[-1][1] == start:
        spans[-1] = (spans[-1][0], end)
    elif not spans or spans[-1] != (start, end):
        spans.append((start, end))


def _pack(keys: set[int]) -> str:
    return base64.b64encode(array("q", sorted(keys)).tobytes()).decode()


def _unpack(text: str) -> set[int]:
    a = array("q")
    a.frombytes(base64.b64decode(text))
    return set(a)


@dataclass(frozen=True, slots=True)
class Day:
    """One agent's local day across all of its sources."""

    day: date
    messages: int
    first_ms: int
    last_ms: int


def days_of(summaries: Iterable[SourceSummary]) -> dict[date, Day]:
    """Add sources up by day, counting each message key once."""
    keys: dict[date, set[int]] = {}
    span: dict[date, tuple[int, int]] = {}
    for s in summaries:
        for d, part in s.days.items():
            keys.setdefault(d, set()).update(part.keys)
            lo, hi = span.get(d, (part.first_ms, part.last_ms))
            span[d] = (min(lo, part.first_ms), max(hi, part.last_ms))
    return {d: Day(d, len(k), *span[d]) for d, k in sorted(keys.items())}


@dataclass(frozen=True, slots=True)
class Transition:
    ts_ms: int
    session: str
    from_model: str
    to_model: str


def transitions_of(summaries: Iterable[SourceSummary]) -> list[Transition]:
    """Where the answering model changed within a session, in time order.

    Observations from all sources are merged per session first, so a session read from two stores, or
    rewrite copies of the same answers, yield each change once."""
    by_session: dict[str, set[tuple[int, str]]] = {}
    for s in summaries:
        for m in s.models:
            by_session.setdefault(m.session, set()).add((m.ts_ms, m.model))
    out: list[Transition] = []
    for session, seen in by_session.items():
        prev: str | None = None
        for ts, model in sorted(seen):
            if prev is not None and model != prev:
                out.append(Transition(ts, session, prev, model))
            prev = model
    out.sort(key=lambda t: (t.ts_ms, t.session))
    return out
