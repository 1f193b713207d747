"""One transcript record -> a small typed value, or None.

Owns the reading of OpenClaw/pi records (JSONL lines and SQLite `event_json` rows share one shape): which
entries are messages, when they happened, which model answered or was only tried, how a message is
identified across transcript rewrites and across the two stores, and which other records a day's content
needs (`Note`). What counts as conversation is `noise`'s business, not this module's.

Invariants:
- Nothing here raises on bad input: a line that is not a usable record yields `None` or a `Skip`.
- A message's moment is `message.timestamp` (epoch ms), falling back to the entry's ISO `timestamp`.
- A message's identity (`key`) depends only on the `message` object's bytes, so rewrite copies (new entry
  id and entry timestamp, same message) and the same record read from JSONL and SQLite share one key.
- Model names are redacted here, before they are stored anywhere (caches, checkpoints) or shown.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum
from functools import lru_cache
from typing import Any

import orjson

from memory_syncd import jsonio
from memory_syncd.read import skim

# Messages outside this window are treated as unusable timestamps (NaN, negative, year 99999, seconds-as-ms).
MIN_TS_MS = 946_684_800_000  # 2000-01-01
MAX_TS_MS = 7_258_118_400_000  # 2200-01-01

PSEUDO_MODELS = frozenset({"delivery-mirror", "gateway-injected", "acp-runtime"})
DREAMING_PREFIX = "dreaming-narrative-"  # the run id of a dreaming run's bootstrap entry

# Hash at most this much from each end of a message's bytes: head and tail (which hold the role,
# the content's start and end and the timestamp) plus the length identify a message well enough, and
# hashing big tool results whole would cost a good part of parsing them.
_KEY_SPAN = 4 * 1024


class SkipReason(StrEnum):
    MALFORMED = "malformed"  # not JSON, invalid UTF-8, too deeply nested
    BAD_TIMESTAMP = "bad_timestamp"  # a message with no usable moment
    TOO_LONG = "too_long"  # over the configured line cap


@dataclass(frozen=True, slots=True)
class Skip:
    reason: SkipReason


@dataclass(frozen=True, slots=True)
class Header:
    """The `session` record: which session the following lines belong to."""

    session_id: str
    cwd: str | None


@dataclass(frozen=True, slots=True)
class Message:
    """A message entry of any role. `model` is `provider/model` of an assistant message from a real model
    (pseudo-models such as `delivery-mirror` have none); `failed` marks an attempt that did not answer
    (`stopReason` error or aborted)."""

    ts_ms: int
    role: str
    key: int
    model: str | None
    failed: bool = False


@dataclass(frozen=True, slots=True)
class ModelSeen:
    """A model observation that is not a message: an explicit `model_change`, or a `model-snapshot` custom
    entry (`tried`: OpenClaw writes one for every attempt whose model differs from the last, so it means
    the model was tried, not that it answered)."""

    ts_ms: int
    model: str
    tried: bool = False


@dataclass(frozen=True, slots=True)
class Note:
    """A record that is no message but tells what a day held: a dreaming run's bootstrap entry, or (`failed`)
    a turn that ended before any reply (`run-failed-before-reply`)."""

    ts_ms: int
    failed: bool = False


Record = Header | Message | ModelSeen | Note | Skip


def parse_line(raw: bytes) -> Record | None:
    """Given one complete line (without its newline), return what it holds, `Skip` if it is unusable,
    or None for records that matter to nobody here (labels, thinking-level changes, unknown types)."""
    if len(raw) >= skim.MIN_SIZE:
        done, rec = _parse_skimmed(raw)
        if done:
            return rec
    try:
        obj = orjson.loads(raw)  # called directly: this runs once per line of every transcript
    except orjson.JSONDecodeError:
        if not raw or raw.isspace():
            return None
        ok, obj = jsonio.try_loads(raw)  # what orjson refuses, such as a lone surrogate escape
        if not ok:
            return Skip(SkipReason.MALFORMED)
    if not isinstance(obj, dict):
        return Skip(SkipReason.MALFORMED)
    return parse_record(obj, raw)


# Every field whose text `parse_record` looks at (or whose text `message_key` hashes). A big line is parsed
# as a skeleton with its long strings left out (`skim`); if one of these holds a left-out string, the line
# is parsed whole instead. Keep this in step with `parse_record`.
_TEXT_FIELDS = (("type",), ("id",), ("cwd",), ("provider",), ("modelId",), ("customType",), ("timestamp",),
                ("data", "provider"), ("data", "modelId"), ("data", "runId"), ("data", "timestamp"),
                ("message", "role"), ("message", "provider"), ("message", "model"), ("message", "stopReason"),
                ("message", "timestamp"))


def _parse_skimmed(raw: bytes) -> tuple[bool, Record | None]:
    """(True, what `parse_line` returns for `raw`) from its skeleton, or (False, None) when the line has
    to be parsed whole."""
    skeleton = skim.skeleton(raw)
    if skeleton is None:
        return False, None
    ok, obj = jsonio.try_loads(skeleton)
    if not ok or not isinstance(obj, dict):
        return False, None  # the line is not valid either; the whole parse says so in its own terms
    for path in _TEXT_FIELDS:
        value: Any = obj
        for name in path:
            value = value.get(name) if isinstance(value, dict) else None
        if value == skim.MARK_TEXT:
            return False, None
    if obj.get("type") == "message" and raw.find(b'"message":') < 0:
        return False, None  # `message_key` would hash the content's text
    return True, parse_record(obj, raw)


def parse_record(obj: dict[str, Any], raw: bytes) -> Record | None:
    """Like `parse_line`, for an already decoded record. `raw` is its serialized form (for the key)."""
    kind = obj.get("type")
    if kind == "message":
        return _message(obj, raw)
    if kind == "session":
        sid = obj.get("id")
        cwd = obj.get("cwd")
        return Header(sid if isinstance(sid, str) else "", cwd if isinstance(cwd, str) else None)
    if kind == "model_change":
        model = _model_name(obj.get("provider"), obj.get("modelId"))
        ts = iso_to_ms(obj.get("timestamp"))
        return ModelSeen(ts, model) if model and ts is not None else None
    if kind == "custom" and obj.get("customType") == "model-snapshot":
        data = obj.get("data")
        if not isinstance(data, dict):
            return None
        model = _model_name(data.get("provider"), data.get("modelId"))
        ts = epoch_ms(data.get("timestamp"))
        if ts is None:
            ts = iso_to_ms(obj.get("timestamp"))
        return ModelSeen(ts, model, tried=True) if model and ts is not None else None
    if kind in ("custom", "custom_message") and _is_note(obj):
        ts = iso_to_ms(obj.get("timestamp"))
        return Note(ts, obj.get("customType") == "run-failed-before-reply") if ts is not None else None
    return None


def _is_note(obj: dict[str, Any]) -> bool:
    custom = obj.get("customType")
    if custom == "run-failed-before-reply":
        return True
    data = obj.get("data")
    return (custom == "openclaw:bootstrap-context:full" and isinstance(data, dict)
            and isinstance(data.get("runId"), str) and data["runId"].startswith(DREAMING_PREFIX))


def _message(obj: dict[str, Any], raw: bytes) -> Record | None:
    msg = obj.get("message")
    if not isinstance(msg, dict):
        return Skip(SkipReason.MALFORMED)
    role = msg.get("role")
    if not isinstance(role, str) or not role:
        return Skip(SkipReason.MALFORMED)
    ts = epoch_ms(msg.get("timestamp"))
    if ts is None:
        ts = iso_to_ms(obj.get("timestamp"))
    if ts is None:
        return Skip(SkipReason.BAD_TIMESTAMP)
    # `_model_name` drops pseudo-models; fields of the wrong type (a list, an object) give no model
    if role != "assistant":
        return Message(ts, role, message_key(raw, msg), None)
    model = _model_name(msg.get("provider"), msg.get("model"))
    return Message(ts, role, message_key(raw, msg), model, msg.get("stopReason") in ("error", "aborted"))


def message_key(raw: bytes, msg: dict[str, Any]) -> int:
    """A 64-bit identity for a message, from the bytes of its `message` object.

    Writers serialize `message` last and identically for a rewrite copy or a SQLite row, so the bytes from
    the first `"message":` key to the end of the line identify it. If that key is not found (an unusual
    writer), the role, timestamp and a canonical dump of the content stand in."""
    at = raw.find(b'"message":')
    if at < 0:
        body = json.dumps([msg.get("role"), msg.get("timestamp"), msg.get("content")], sort_keys=True,
                          default=str).encode()
        return _key(body, 0, len(body))
    end = len(raw)
    while end > at and raw[end - 1] in b" \t\r\n":
        end -= 1
    return _key(raw, at, end)


def _key(data: bytes, start: int, end: int) -> int:
    if end - start <= 2 * _KEY_SPAN:
        digest = hashlib.sha256(data[start:end]).digest()  # hardware-accelerated; faster than blake2b here
    else:
        # Views, not copies: `data` can be a 25 MB line, and only its two ends are hashed.
        view = memoryview(data)
        h = hashlib.sha256(view[start:start + _KEY_SPAN])
        h.update(view[end - _KEY_SPAN:end])
        h.update((end - start).to_bytes(8, "little"))
        digest = h.digest()
    return int.from_bytes(digest[:8], "little") >> 1  # fits a signed 64-bit slot in SQLite or arrays


def _model_name(provider: object, model: object) -> str | None:
    if not isinstance(model, str) or not model:
        return None
    if provider == "openclaw" or model in PSEUDO_MODELS:
        return None
    return model_label(provider if isinstance(provider, str) else "", model)


@lru_cache(maxsize=4096)
def model_label(provider: str, model: str) -> str:
    """`provider/model`, redacted: a token pasted into either field never reaches a cache or a file.
    Cached because the same few names recur on every assistant message; the redaction patterns are loaded
    only when a model name is first seen, so that a warm `compare` never pays for them."""
    from memory_syncd.redact import redact

    return redact(f"{provider}/{model}" if provider else model)[:200]


def epoch_ms(value: object) -> int | None:
    """Epoch milliseconds if `value` is a plausible one, else None (bools, NaN, negatives, far future)."""
    if type(value) is int:  # the usual case, first: this runs for every message
        return value if MIN_TS_MS <= value < MAX_TS_MS else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    ms = int(value)
    return ms if MIN_TS_MS <= ms < MAX_TS_MS else None


def iso_to_ms(value: object) -> int | None:
    """Epoch milliseconds from an ISO-8601 string with a zone (as `toISOString()` writes), else None."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    if dt.tzinfo is None:
        return None
    return epoch_ms(dt.timestamp() * 1000)


class DayClock:
    """Maps epoch ms to the local calendar day in one zone, caching the current day's bounds.

    Records arrive mostly in time order, so nearly every lookup hits the cached [start, end) span; a DST
    day is simply a 23- or 25-hour span."""

    def __init__(self, zone: tzinfo) -> None:
        self.zone = zone
        self._start = 0
        self._end = 0
        self._day = date.min

    def day(self, ts_ms: int) -> date:
        if self._start <= ts_ms < self._end:
            return self._day
        local = datetime.fromtimestamp(ts_ms / 1000, self.zone)
        day = local.date()
        self._day = day
        self._start = self.midnight_ms(day)
        self._end = self.midnight_ms(day + timedelta(days=1))
        return day

    def midnight_ms(self, day: date) -> int:
        """Epoch ms of the first instant of `day` in this zone."""
        naive = datetime(day.year, day.month, day.day)
        return int(naive.replace(tzinfo=self.zone).timestamp() * 1000)
