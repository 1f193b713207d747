"""The index's compact containers behave exactly like the plain ones they replace: `KeySet` like a set of
message keys, `ModelLog` like a list of model observations, through the cache too."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from memory_syncd.read.index import KeySet, ModelLog, ModelObs, SourceDays, _pack, _unpack

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
