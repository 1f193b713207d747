"""JSON for transcripts and state files: orjson, with the standard parser behind it for what orjson refuses.

orjson (a dependency) parses transcript lines several times faster than the json module. It refuses one
thing `JSON.stringify` writes: a string cut inside a surrogate pair comes out as a lone `\\ud83d` escape.
So what orjson refuses goes to the standard parser before a line is called malformed, and the result never
depends on which parser read it.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def loads(raw: bytes | str) -> Any:
    """The decoded value. Raise ValueError (invalid JSON or UTF-8) or RecursionError (nested too deep)."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)


def try_loads(raw: bytes | str) -> tuple[bool, Any]:
    """(True, value), or (False, None) when `raw` is not usable JSON."""
    try:
        return True, loads(raw)
    except (ValueError, RecursionError):
        return False, None


def dumps(value: Any) -> bytes:
    """Compact JSON bytes (what the state files hold)."""
    return orjson.dumps(value)


def encode(value: Any, *, indent: bool = False) -> bytes:
    """JSON bytes as `json.dumps` writes them (with `indent`: two spaces, non-ASCII kept), by orjson when
    it can (a few milliseconds less on a year of `compare` rows), by json for what orjson refuses (lone
    surrogates, integers beyond 64 bits, non-string keys)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2 if indent else 0)
    except (TypeError, orjson.JSONEncodeError):
        if indent:
            try:
                return json.dumps(value, indent=2, ensure_ascii=False).encode()
            except UnicodeEncodeError:  # a lone surrogate: escaped, so the output is still UTF-8 and valid
                return json.dumps(value, indent=2).encode()
        return json.dumps(value, separators=(",", ":")).encode()
