"""OpenClaw's config file (`openclaw.json`, JSON5) read safely: never a hang, a traceback or an unbounded read.

Owns the limits and the one-line problems a config can have (not a regular file, too big, not UTF-8, not
JSON5, nested too deep, not an object). Which file is the config, and what its keys mean, is `discover`'s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyjson5

from memory_syncd import safeio
from memory_syncd.errors import MemorySyncError
from memory_syncd.text import one_line

MAX_CONFIG_BYTES = 8 * 1024 * 1024  # real configs are a few KB; the biggest seen is under 1 MB
MAX_NESTING = 64  # real configs nest about 8 deep


def load(path: Path) -> tuple[dict[str, Any], str]:
    """(the config as a dict, "") or ({}, one line naming the file, what is wrong and the fix). Never
    raises, never hangs; a missing file is ({}, "")."""
    try:
        data = safeio.read(path, limit=MAX_CONFIG_BYTES, follow=True)
    except MemorySyncError as e:
        return {}, f"cannot use {e}"
    if data is None:
        return {}, ""
    try:
        text = data.decode("utf-8-sig")  # JSON5 takes a byte-order mark as white space
    except UnicodeDecodeError as e:
        return {}, f"cannot use {path}: not UTF-8 (byte {e.start}); save it as UTF-8"
    try:
        value = pyjson5.decode(text, maxdepth=MAX_NESTING)
    except pyjson5.Json5NestingTooDeep:
        return {}, f"cannot use {path}: nested more than {MAX_NESTING} levels deep; fix the file"
    except (pyjson5.Json5Exception, ValueError, TypeError, MemoryError, RecursionError) as e:
        return {}, f"cannot parse {path}: {_brief(e)}; fix the JSON5 (`openclaw doctor` validates it)"
    if not isinstance(value, dict):
        return {}, f"cannot use {path}: expected an object at the top, found {type(value).__name__}; fix the file"
    return value, ""


def _brief(e: BaseException) -> str:
    """The parser's message without the partial value it carries (which may hold secrets)."""
    return one_line(e.args[0] if e.args else e, 160)
