"""What a day holds, for people: the raw records of one local day -> a redacted, immutable `DaySnapshot`.

Owns reading a day's records for their content: decoding them (big tool results that are not errors are
not even decoded: they add only their moment), keeping each message once however many copies hold it,
ordering them, telling each session's kind (from its OpenClaw key and from its records: cron runs,
isolated heartbeats, sub-agents, dreaming runs), and counting the fallback models tried. The turns
themselves are assembled by `turns`, after `noise`'s rules; the values are `snapshot`'s.

Every string that leaves this module has been through `redact.redact` in full before any shortening, so a
secret cut in half by a length limit can never escape the patterns.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date, tzinfo
from typing import Any

from memory_syncd import jsonio
from memory_syncd.content import noise
from memory_syncd.content.noise import Kind
from memory_syncd.content.snapshot import Background, CronJob, DaySnapshot, SessionInfo, Turn
from memory_syncd.content.turns import FAILED_NOTE, Assembly, Item, text_of, tool_calls
from memory_syncd.read.index import ANSWER, CHANGE, FAILED, TRIED, walk_models
from memory_syncd.read.parse import Message, ModelSeen, Note, epoch_ms, message_key, parse_record
from memory_syncd.read.sessionmeta import SessionMeta
from memory_syncd.redact import redact

__all__ = ["Background", "CronJob", "DaySnapshot", "SessionInfo", "Turn", "build", "text_of", "tool_calls"]


_BIG_RESULT = 2 * 1024  # below this, decoding a result costs about what the checks cost
_QUIET_END = re.compile(rb'"isError":false,"timestamp":(\d{1,16})\}\}\s*\Z')
_NO_META = SessionMeta()


def build(agent: str, day: date, zone: tzinfo, lines: Iterable[tuple[str, bytes]], messages: int,
          sessions: Mapping[str, SessionMeta], switches: Iterable[tuple[int, str, str, str]] = ()) -> DaySnapshot:
    """Assemble the day from its raw records (any order, duplicates allowed). `sessions` gives each
    session's key and channel where OpenClaw recorded them."""
    items: dict[int, Item] = {}
    extra: set[tuple[int, str, str, str]] = set()  # (ts, session, observation kind, model) and failure notes
    titles: dict[str, str] = {}
    found: dict[str, Kind] = {}
    for session, raw in lines:
        quiet = _quiet_result(raw)
        if quiet is not None:
            items.setdefault(quiet[0], (quiet[1], session, {"role": "toolResult"}, None, False))
            continue
        obj = _decode(raw)
        if not isinstance(obj, dict):
            continue
        name = obj.get("name")
        if obj.get("type") == "session_info" and isinstance(name, str):
            titles[session] = redact(name)[:80]
        kind = noise.record_kind(obj)
        if kind is not None and found.get(session) is not Kind.DREAMING:
            found[session] = kind
        rec = parse_record(obj, raw)
        if isinstance(rec, Message) and isinstance(obj.get("message"), dict):
            items.setdefault(rec.key, (rec.ts_ms, session, obj["message"], rec.model, rec.failed))
        elif isinstance(rec, ModelSeen):
            extra.add((rec.ts_ms, session, TRIED if rec.tried else CHANGE, rec.model))
        elif isinstance(rec, Note) and obj.get("customType") == "run-failed-before-reply":
            extra.add((rec.ts_ms, session, FAILED_NOTE, text_of(obj.get("content"))))
    notes = sorted(extra)  # a fixed order (not a set's hash order) for equal times and for the counts' ties
    ordered = sorted([*items.values(), *((ts, s, {"role": FAILED_NOTE, "content": text}, None, True)
                                         for ts, s, what, text in notes if what == FAILED_NOTE)],
                     key=lambda t: (t[0], t[1]))
    kinds = {s: _session_kind(sessions.get(s, _NO_META).key, found.get(s)) for s in {i[1] for i in ordered}}
    day_ = Assembly(kinds)
    for item in ordered:
        day_.take(item)
    day_.close_all()
    seen: dict[str, set[tuple[int, str, str]]] = {}
    for ts, session, what, model in notes:
        seen.setdefault(session, set()).add((ts, FAILED, "") if what == FAILED_NOTE else (ts, what, model))
    for ts, session, _msg, label, failed in items.values():
        if label:
            seen.setdefault(session, set()).add((ts, FAILED if failed else ANSWER, label))
    fallbacks: Counter[str] = Counter()
    for obs in seen.values():
        fallbacks.update(walk_models(obs)[1])
    return day_.snapshot(agent, day, zone, messages, sessions, titles, switches, fallbacks)


def _session_kind(key: str, found: Kind | None) -> tuple[Kind | None, str]:
    """A session's kind and cron job: a dreaming record wins, then the key, then a cron run's record."""
    if found is Kind.DREAMING:
        return found, ""
    by_key = noise.key_kind(key)
    if by_key is not None:
        return by_key
    return (found, "") if found is not None else (None, "")


def _quiet_result(raw: bytes) -> tuple[int, int] | None:
    """(key, ts_ms) of a tool result over 2 KB that is not an error, found without decoding it: such a result
    adds nothing to the day but its moment, and decoding megabytes of output would be most of the work.
    None for anything else (which is decoded as usual). Only an entry laid out as pi writes it qualifies: a
    `message` entry whose `"message":` key, with no object before it, opens a toolResult, and whose line
    ends with `"isError":false,"timestamp":<ms>}}` (unescaped quotes cannot be inside a string, so these
    are keys, of the entry's last value)."""
    if len(raw) < _BIG_RESULT or not raw.startswith(b'{"type":"message"'):
        return None
    at = raw.find(b'"message":', 0, 400)
    if at < 0 or raw.find(b"{", 1, at) >= 0 or not raw.startswith(b'{"role":"toolResult",', at + 10):
        return None
    m = _QUIET_END.search(raw, len(raw) - 80)
    ts = epoch_ms(int(m[1])) if m else None
    return None if ts is None else (message_key(raw, {}), ts)


def _decode(raw: bytes) -> Any:
    """The decoded record, or None (see `jsonio` for the parsers)."""
    return jsonio.try_loads(raw)[1]
