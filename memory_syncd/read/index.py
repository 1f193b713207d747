"""The day index: what each transcript source contributed to each local day, and the days they add up to.

Owns two values and the code that fills them:
- `SourceDays`: for one source (a JSONL file, or one SQLite store), per local day the keys of the
  messages it holds and where they lie (byte ranges, or `(session, first seq, last seq)` for SQLite; the
  ranges also cover the few other records a day's content needs: model observations and `Note`s), plus
  model observations and skip counts. It is fed record by record, so reading a file whole or in any
  number of pieces gives the same summary.
- `Day`: one agent's day across all its sources, with messages counted once however many sources or
  rewrite copies hold them.
- Model switches: a change between consecutive answering models of a session, or an explicit
  `model_change`; a model that was only tried (a snapshot, a failed attempt) never switches anything and
  is counted as a fallback instead (`walk_models`).

Keys and model observations are kept in `compact`'s arrays.

Invariant: feeding is idempotent per message key: a re-read after a reset, a rewrite copy, or the same
session in both stores never counts a message twice. Counts only grow.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from memory_syncd.read.compact import ANSWER as ANSWER
from memory_syncd.read.compact import CHANGE as CHANGE
from memory_syncd.read.compact import FAILED as FAILED
from memory_syncd.read.compact import TRIED as TRIED
from memory_syncd.read.compact import KeySet as KeySet
from memory_syncd.read.compact import ModelLog as ModelLog
from memory_syncd.read.compact import ModelObs as ModelObs
from memory_syncd.read.compact import pack_keys, unpack_keys
from memory_syncd.read.parse import DayClock, Header, Message, ModelSeen, Note, Record, Skip

Span = tuple[int, int]  # [start, end) byte range in a file; for SQLite: (seq_first, seq_last + 1)
_PENDING_MAX = 64  # records waiting for their day's first message (a fallback run just before it)


@dataclass(slots=True)
class DayPart:
    keys: KeySet | set[int] = field(default_factory=KeySet)
    spans: dict[str, list[Span]] = field(default_factory=dict)  # session ("" for JSONL) -> ranges
    first_ms: int = 0
    last_ms: int = 0


@dataclass(slots=True)
class SourceDays:
    """What one source holds, by local day. Mutable while the source is being read."""

    days: dict[date, DayPart] = field(default_factory=dict)
    models: ModelLog = field(default_factory=ModelLog)
    skipped: Counter[str] = field(default_factory=Counter)
    session: str = ""
    # (day, session, start, end) of non-message records read before their day had a message here
    pending: list[tuple[date, str, int, int]] = field(default_factory=list)
    # The part the last message went to: packed when messages move on to another day (transcripts run in
    # time order, so a day's part is mostly complete by then), which keeps few keys as Python ints.
    _open: DayPart | None = field(default=None, repr=False, compare=False)

    def feed(self, rec: Record | None, clock: DayClock, start: int, end: int, session: str = "") -> None:
        """Take one parsed record found at [start, end) of the source (for SQLite: seq, seq + 1)."""
        if rec is None:
            return
        if isinstance(rec, Message):
            day = clock.day(rec.ts_ms)
            part = self.days.get(day)
            if part is None:
                part = self.days[day] = DayPart(first_ms=rec.ts_ms, last_ms=rec.ts_ms)
                if self.pending:
                    self._settle(day, part)
            if part is not self._open:
                if self._open is not None and isinstance(self._open.keys, KeySet):
                    self._open.keys.compact()
                self._open = part
            part.keys.add(rec.key)
            part.first_ms = min(part.first_ms, rec.ts_ms)
            part.last_ms = max(part.last_ms, rec.ts_ms)
            _add_span(part.spans.setdefault(session, []), start, end)
            obs = observation(rec, session or self.session)
            if obs is not None:
                self.models.append(obs)
        elif isinstance(rec, ModelSeen | Note):
            obs = observation(rec, session or self.session)
            if obs is not None:
                self.models.append(obs)
            self._attach(clock.day(rec.ts_ms), session, start, end)
        elif isinstance(rec, Header):
            if rec.session_id:
                self.session = rec.session_id
        elif isinstance(rec, Skip):
            self.skipped[rec.reason.value] += 1

    def _attach(self, day: date, session: str, start: int, end: int) -> None:
        """Let the day's content see a non-message record; it waits if its day has no message here yet."""
        part = self.days.get(day)
        if part is not None:
            _add_span(part.spans.setdefault(session, []), start, end)
        elif len(self.pending) < _PENDING_MAX:
            self.pending.append((day, session, start, end))

    def _settle(self, day: date, part: DayPart) -> None:
        for _, session, start, end in [p for p in self.pending if p[0] == day]:
            _add_span(part.spans.setdefault(session, []), start, end)
        self.pending = [p for p in self.pending if p[0] != day]

    def absorb(self, later: SourceDays) -> None:
        """Take in what `later` was fed from the records that come right after this one's in the same source
        (the next run of a store's sessions, read by another process): the result is what feeding those
        records here would have given, except that the cap on waiting records applies once more here."""
        for day, part in later.days.items():
            mine = self.days.get(day)
            if mine is None:  # the day's first message is in `later`: what waited for it here goes first
                mine = self.days[day] = DayPart(keys=part.keys, first_ms=part.first_ms, last_ms=part.last_ms)
                if self.pending:
                    self._settle(day, mine)
            else:
                for key in part.keys:
                    mine.keys.add(key)
                mine.first_ms = min(mine.first_ms, part.first_ms)
                mine.last_ms = max(mine.last_ms, part.last_ms)
            for session, spans in part.spans.items():
                into = mine.spans.setdefault(session, [])
                for start, end in spans:
                    _add_span(into, start, end)
        for m in later.models:
            self.models.append(m)
        for day, session, start, end in later.pending:  # its days have no message in `later`
            self._attach(day, session, start, end)
        self.skipped.update(later.skipped)
        if later.session:
            self.session = later.session

    # -- persistence (the compare cache and the daemon checkpoint) --

    def to_json(self) -> dict[str, Any]:
        return {
            "session": self.session,
            "skipped": dict(self.skipped),
            "models": self.models.to_json(),
            "pending": [[d.isoformat(), s, a, b] for d, s, a, b in self.pending],
            "days": {
                d.isoformat(): {
                    "keys": pack_keys(p.keys),
                    "spans": {s: [list(r) for r in rs] for s, rs in p.spans.items()},
                    "first_ms": p.first_ms,
                    "last_ms": p.last_ms,
                }
                for d, p in self.days.items()
            },
        }

    @classmethod
    def from_json(cls, v: dict[str, Any]) -> SourceDays:
        s = cls(session=str(v.get("session", "")), skipped=Counter(v.get("skipped", {})))
        s.models = ModelLog.from_json(v.get("models", []))
        s.pending = [(date.fromisoformat(d), str(x), int(a), int(b)) for d, x, a, b in v.get("pending", [])]
        for d, p in v.get("days", {}).items():
            s.days[date.fromisoformat(d)] = DayPart(
                keys=unpack_keys(p["keys"]),
                spans={k: [(int(a), int(b)) for a, b in rs] for k, rs in p.get("spans", {}).items()},
                first_ms=int(p["first_ms"]),
                last_ms=int(p["last_ms"]),
            )
        return s


def observation(rec: Message | ModelSeen | Note, session: str) -> ModelObs | None:
    """What a record says about the models of `session`: an answer or a failed attempt (an assistant
    message with a model), a change or an attempt (`model_change`, snapshot), a turn that ended unanswered
    (a failed-run note); None for anything else."""
    if isinstance(rec, Message):
        return ModelObs(rec.ts_ms, session, rec.model, FAILED if rec.failed else ANSWER) if rec.model else None
    if isinstance(rec, ModelSeen):
        return ModelObs(rec.ts_ms, session, rec.model, TRIED if rec.tried else CHANGE)
    return ModelObs(rec.ts_ms, session, "", FAILED) if rec.failed else None


def _add_span(spans: list[Span], start: int, end: int) -> None:
    """Add [start, end) to `spans`, joined to the last range where it touches or overlaps it (a session read
    again covers its old range once). Adding a run of ranges one by one or joined first gives the same list."""
    if spans:
        a, b = spans[-1]
        if start <= b and end >= a:
            if start < a or end > b:
                spans[-1] = (min(a, start), max(b, end))
            return
    spans.append((start, end))


@dataclass(frozen=True, slots=True)
class Day:
    """One agent's local day across all of its sources."""

    day: date
    messages: int
    first_ms: int
    last_ms: int


def newest_day(summaries: Iterable[SourceDays]) -> date | None:
    """The newest day with messages in `summaries` (None if none has any)."""
    return max((d for s in summaries for d in s.days), default=None)


def days_of(summaries: Iterable[SourceDays]) -> dict[date, Day]:
    """Add sources up by day, counting each message key once."""
    parts: dict[date, list[DayPart]] = {}
    for s in summaries:
        for d, part in s.days.items():
            parts.setdefault(d, []).append(part)
    out = {}
    for d, ps in sorted(parts.items()):
        # Most days of a long history lie in one source: its keys are distinct already, no union needed.
        n = len(ps[0].keys) if len(ps) == 1 else len(set().union(*(p.keys for p in ps)))
        out[d] = Day(d, n, min(p.first_ms for p in ps), max(p.last_ms for p in ps))
    return out


@dataclass(frozen=True, slots=True)
class Transition:
    ts_ms: int
    session: str
    from_model: str
    to_model: str


def transitions_of(summaries: Iterable[SourceDays]) -> list[Transition]:
    """Where the answering model changed within a session, in time order (a switch made with a snapshot is
    dated at that snapshot, when the run on the new model started).

    Observations from all sources are merged per session first, so a session read from two stores, or
    rewrite copies of the same answers, yield each change once."""
    by_session: dict[str, set[tuple[int, str, str]]] = {}
    for s in summaries:
        for m in s.models:
            by_session.setdefault(m.session, set()).add((m.ts_ms, m.kind, m.model))
    out = [Transition(ts, session, old, new)
           for session, seen in by_session.items() for ts, old, new in walk_models(seen)[0]]
    out.sort(key=lambda t: (t.ts_ms, t.session))
    return out


_RANK = {CHANGE: 0, TRIED: 1, FAILED: 2, ANSWER: 3}  # at one moment: a change, an attempt, its end, the answer


def walk_models(seen: Iterable[tuple[int, str, str]]) -> tuple[list[tuple[int, str, str]], Counter[str]]:
    """One session's observations `(ts_ms, kind, model)` -> its switches `(ts_ms, from, to)` and its
    fallbacks: models tried between two answers that did not answer, other than the one in use (or, when
    that is not known, the first one tried), each counted once per such stretch. A switch is dated at the
    snapshot that started the run which answered on the new model, or at the answer when that run began
    without one (after a failed run)."""
    switches: list[tuple[int, str, str]] = []
    fallbacks: Counter[str] = Counter()
    current: str | None = None
    tried: dict[str, None] = {}  # models tried since the last answer, in order
    started: dict[str, int] = {}  # model -> the snapshot of the run now going on it

    def count(answered: str | None) -> None:
        primary = current if current is not None else next(iter(tried), None)
        fallbacks.update(m for m in tried if m not in (answered, primary))

    for ts, kind, model in sorted(seen, key=lambda o: (o[0], _RANK.get(o[1], 3), o[2])):
        if kind in (TRIED, FAILED):
            if model:
                tried[model] = None
            if kind == TRIED:
                started[model] = ts
            else:
                started.clear()  # that run is over: the next answer comes from a later one
            continue
        if current is not None and model != current:
            switches.append((started.get(model, ts) if kind == ANSWER else ts, current, model))
        count(model)
        tried.clear()
        started.clear()
        current = model
    count(None)
    return switches, fallbacks
