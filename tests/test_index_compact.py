"""The index's compact containers behave exactly like the plain ones they replace: `KeySet` like a set of
message keys, `ModelLog` like a list of model observations, through the cache too; and a summary built from
pieces (`SourceDays.absorb`) like one fed in one go."""

from __future__ import annotations

from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from memory_syncd.read.compact import KeySet, ModelLog, ModelObs
from memory_syncd.read.compact import pack_keys as _pack
from memory_syncd.read.compact import unpack_keys as _unpack
from memory_syncd.read.index import SourceDays
from memory_syncd.read.parse import DayClock, Header, Message, ModelSeen, Note, Record

Row = tuple[str, str, int, int]

KEYS = st.integers(min_value=-(2**63), max_value=2**63 - 1)


@given(st.lists(KEYS, max_size=2000), st.lists(KEYS, max_size=50), st.integers(min_value=1, max_value=700))
def test_keyset_is_a_set(adds: list[int], probes: list[int], merge: int) -> None:
    ks = KeySet()
    plain: set[int] = set()
    saved = KeySet.MERGE
    KeySet.MERGE = merge  # small merge sizes exercise the packing often
    try:
        for k in adds:
            ks.add(k)
            plain.add(k)
    finally:
        KeySet.MERGE = saved
    assert len(ks) == len(plain) and set(ks) == plain and ks == plain
    assert all((p in ks) == (p in plain) for p in probes + adds[:50])
    other = set(probes)
    other |= ks  # what a day's union across sources does
    assert other == plain | set(probes) and type(other) is set
    assert _unpack(_pack(ks)) == plain
    ks.compact()
    assert set(ks) == plain and list(ks) == sorted(plain)


def test_unpacking_tolerates_a_cache_not_written_in_order() -> None:
    import base64
    from array import array

    raw = base64.b64encode(array("q", [5, 3, 3, 9]).tobytes()).decode()
    assert _unpack(raw) == {3, 5, 9}


OBS = st.builds(ModelObs, st.integers(min_value=0, max_value=2**53), st.sampled_from(["s1", "s2", ""]),
                st.sampled_from(["openai/gpt-5.4", "anthropic/claude-sonnet-4-6", ""]),
                st.sampled_from(["answer", "change", "tried", "failed", "some-future-kind"]))


@given(st.lists(OBS, max_size=300))
def test_modellog_is_a_list_of_observations(obs: list[ModelObs]) -> None:
    log = ModelLog(obs)
    assert list(log) == obs and len(log) == len(obs) and log == obs
    s = SourceDays(models=log)
    assert list(SourceDays.from_json(s.to_json()).models) == obs


def test_models_saved_as_columns_and_read_from_either_form() -> None:
    obs = [ModelObs(5, "s1", "openai/gpt-5.4", "answer"), ModelObs(9, "s1", "anthropic/claude-opus-4-6", "tried")]
    saved = SourceDays(models=ModelLog(obs)).to_json()["models"]
    assert isinstance(saved, dict) and saved["names"] == ["s1", "openai/gpt-5.4", "answer",
                                                          "anthropic/claude-opus-4-6", "tried"]
    assert list(ModelLog.from_json(saved)) == obs
    assert list(ModelLog.from_json([list(o) for o in obs])) == obs  # a cache from before the columns
    broken = dict(saved, session=saved["model"][:4])
    with pytest.raises(ValueError):
        ModelLog.from_json(broken)
    with pytest.raises(ValueError):
        ModelLog.from_json(dict(saved, names=["s1"]))


# One record of a store read: (session, kind, day, key or model).
ROW = st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.sampled_from(["message", "seen", "tried", "note", "header"]),
                st.integers(min_value=0, max_value=3), st.integers(min_value=0, max_value=5))


def _record(kind: str, day: int, n: int, session: str) -> Record:
    ts = 1_790_000_000_000 + day * 86_400_000 + n * 1000
    if kind == "message":
        return Message(ts, "assistant", hash((session, n)), f"model-{n % 3}")
    if kind in ("seen", "tried"):
        return ModelSeen(ts, f"model-{n % 3}", tried=kind == "tried")
    return Note(ts, failed=True) if kind == "note" else Header(session, None)


@given(st.lists(ROW, max_size=60), st.lists(ROW, max_size=60), st.sets(st.integers(min_value=1, max_value=60)),
       st.booleans())
def test_absorbing_the_next_rows_equals_feeding_them(base: list[Row], rows: list[Row], cuts: set[int],
                                                     again: bool) -> None:
    """A store read in runs of sessions (each run into a summary of its own, absorbed in order) gives the summary
    of one read: sessions come in order, each session's rows in seq order, a session may be read again whole."""
    clock = DayClock(ZoneInfo("UTC"))
    seqs: dict[str, int] = {}

    def fed(summary: SourceDays, part: list[Row]) -> SourceDays:
        for session, kind, day, n in part:
            seq = seqs[session] = seqs.get(session, -1) + 1
            summary.feed(_record(kind, day, n, session), clock, seq, seq + 1, session=session)
        return summary

    base = sorted(base, key=lambda r: r[0])
    rows = sorted(rows, key=lambda r: r[0])
    if again and base:  # the first session of the base is read again whole, and goes on
        rows = [r for r in base if r[0] == base[0][0]] + [r for r in rows if r[0] != base[0][0]]
    one = fed(SourceDays(), base)
    start = dict(seqs)
    if again and base:
        seqs[base[0][0]] = -1
    fed(one, rows)
    seqs.clear()
    split = fed(SourceDays(), base)
    seqs.update(start)
    if again and base:
        seqs[base[0][0]] = -1
    # cut only between sessions, as chunks are
    bounds = sorted({0, len(rows)} | {c for c in cuts if 0 < c < len(rows) and rows[c][0] != rows[c - 1][0]})
    for lo, hi in pairwise(bounds):
        split.absorb(fed(SourceDays(), rows[lo:hi]))
    assert split.to_json() == one.to_json()
