"""`jsonio.encode` writes what `json.dumps` writes (the `--json` output and the control socket use it), by
orjson where it can and by json for what orjson refuses. The one difference: a float that needs an exponent
is written `1e-8` instead of `1e-08` (the same number; our outputs round their floats well above that)."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from memory_syncd import jsonio

SCALARS = (st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**63 - 1)
           | st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: "e" not in repr(f)) | st.text())
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner,
                                                                                            max_size=4),
                      max_leaves=30)


@given(VALUES)
def test_indented_output_is_json_dumps(value: object) -> None:
    out = jsonio.encode(value, indent=True).decode("utf-8", "surrogateescape")
    assert out == json.dumps(value, indent=2, ensure_ascii=False)


@given(st.recursive(SCALARS | st.floats(allow_nan=False, allow_infinity=False),
                    lambda inner: st.lists(inner, max_size=4), max_leaves=20))
def test_compact_output_reads_back(value: object) -> None:
    assert json.loads(jsonio.encode(value)) == json.loads(json.dumps(value))


def test_what_orjson_refuses_still_encodes() -> None:
    for value in ({"big": 2**70}, {1: "int key"}):
        assert json.loads(jsonio.encode(value)) == json.loads(json.dumps(value))
        assert jsonio.encode(value, indent=True).decode() == json.dumps(value, indent=2, ensure_ascii=False)
    lone = ["lone \ud83d surrogate", "café"]  # JSON.stringify can cut a pair; printing it must not fail
    assert json.loads(jsonio.encode(lone)) == lone
    assert json.loads(jsonio.encode(lone, indent=True).decode()) == lone
