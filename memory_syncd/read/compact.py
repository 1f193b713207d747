"""Compact containers of the day index: a source's message keys (`KeySet`) and model observations (`ModelLog`)
kept in arrays, and their saved forms. A busy history has a key per message and an observation per answer: as
Python objects they took about ten times the memory.
"""

from __future__ import annotations

import base64
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from itertools import chain, islice
from operator import lt
from typing import Any, NamedTuple

# What a model observation says: the model answered, was set (`model_change`), was tried (a snapshot), or an
# attempt failed (an error row with its model, or a turn that ended before any reply, with none).
ANSWER, CHANGE, TRIED, FAILED = "answer", "change", "tried", "failed"


class KeySet(AbstractSet[int]):
    """A set of message keys in 8 bytes each: a sorted array plus a few recent additions, merged in
    now and then. A history of a million messages held as Python ints in sets took about 70 bytes a key;
    this is what keeps the daemon's index small. Reads as a set (`len`, `in`, iteration, `set | keys`)."""

    __slots__ = ("_base", "_new")
    MERGE = 512  # recent additions kept in a set before they go into the array

    def __init__(self, keys: Iterable[int] = ()) -> None:
        self._base = array("q", sorted(set(keys)))
        self._new: set[int] | None = None  # created on the first addition: most parts never get one

    @classmethod
    def of_sorted(cls, base: array[int]) -> KeySet:
        ks = cls()
        ks._base = base
        return ks

    def add(self, key: int) -> None:
        if self._new is None:
            self._new = set()
        elif key in self._new:
            return
        if self._in_base(key):
            return
        self._new.add(key)
        if len(self._new) >= self.MERGE:
            self.compact()

    def compact(self) -> None:
        if self._new:
            self._base = array("q", sorted([*self._base, *self._new]))
        self._new = None

    def sorted_array(self) -> array[int]:
        self.compact()
        return self._base

    def _in_base(self, key: int) -> bool:
        i = bisect_left(self._base, key)
        return i < len(self._base) and self._base[i] == key

    def __contains__(self, key: object) -> bool:
        return isinstance(key, int) and ((self._new is not None and key in self._new) or self._in_base(key))

    def __iter__(self) -> Iterator[int]:
        return chain(self._base, self._new) if self._new else iter(self._base)  # C iterators: no generator

    def __len__(self) -> int:
        return len(self._base) + (len(self._new) if self._new else 0)

    @classmethod
    def _from_iterable(cls, it: Iterable[int]) -> set[int]:  # type: ignore[override]
        return set(it)  # `set | keys` and friends give plain sets

    def __repr__(self) -> str:
        return f"KeySet({sorted(self)!r})"


class ModelObs(NamedTuple):
    """A model seen in a session: it answered, was set by `model_change`, or was only tried (a tuple: warm
    runs load tens of thousands from the cache)."""

    ts_ms: int
    session: str
    model: str
    kind: str = ANSWER


class ModelLog:
    """A source's model observations in columns (20 bytes each instead of a tuple of objects, about 110: a
    busy history has one per answer). Appends and iterates `ModelObs` in order; equal strings are stored
    once."""

    __slots__ = ("_ids", "_kind", "_model", "_names", "_session", "_ts")

    def __init__(self, obs: Iterable[ModelObs] = ()) -> None:
        self._ts = array("q")
        self._session = array("i")
        self._model = array("i")
        self._kind = array("i")
        self._names: list[str] = []
        self._ids: dict[str, int] = {}
        for m in obs:
            self.append(m)

    def _id(self, name: str) -> int:
        i = self._ids.get(name)
        if i is None:
            i = self._ids[name] = len(self._names)
            self._names.append(name)
        return i

    def append(self, m: ModelObs) -> None:
        self._ts.append(m.ts_ms)
        self._session.append(self._id(m.session))
        self._model.append(self._id(m.model))
        self._kind.append(self._id(m.kind))

    def __iter__(self) -> Iterator[ModelObs]:
        names = self._names
        for ts, s, m, k in zip(self._ts, self._session, self._model, self._kind, strict=True):
            yield ModelObs(ts, names[s], names[m], names[k])

    def __len__(self) -> int:
        return len(self._ts)

    def mentions(self, names: AbstractSet[str]) -> bool:
        """Whether any of `names` occurs here (as a session, a model or a kind): a cheap test that lets a
        day's writer skip the observations of sources that cannot hold its sessions."""
        return not self._ids.keys().isdisjoint(names)

    def to_json(self) -> dict[str, Any]:
        """Columns as base64 arrays and the strings once: a tenth of a list per observation, and loading
        it builds no object per observation."""
        return {"names": self._names, **{k: base64.b64encode(getattr(self, f"_{k}").tobytes()).decode()
                                         for k in ("ts", "session", "model", "kind")}}

    @classmethod
    def from_json(cls, v: Any) -> ModelLog:
        """What `to_json` wrote, or the older list of `[ts, session, model, kind]`; ValueError if damaged."""
        if isinstance(v, list):
            return cls(map(ModelObs._make, v))
        log = cls()
        log._names = [str(n) for n in v["names"]]
        log._ids = {n: i for i, n in enumerate(log._names)}
        for k in ("ts", "session", "model", "kind"):
            getattr(log, f"_{k}").frombytes(base64.b64decode(v[k]))
        for col in (log._session, log._model, log._kind):
            if len(col) != len(log._ts) or (col and (min(col) < 0 or max(col) >= len(log._names))):
                raise ValueError("damaged model columns")
        return log

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ModelLog | list) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ModelLog({list(self)!r})"


def pack_keys(keys: KeySet | set[int]) -> str:
    packed = keys.sorted_array() if isinstance(keys, KeySet) else array("q", sorted(keys))
    return base64.b64encode(packed.tobytes()).decode()


def unpack_keys(text: str) -> KeySet:
    a = array("q")
    a.frombytes(base64.b64decode(text))
    if not all(map(lt, a, islice(a, 1, None))):  # not as _pack writes it (sorted, distinct)
        return KeySet(a)
    return KeySet.of_sorted(a)
