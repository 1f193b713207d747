"""What a day holds, for people: the raw records of one local day -> a redacted, immutable `DaySnapshot`.

Owns the reading of message content (text, tool calls, tool results) for rendering and summaries. Every
string that leaves this module has been through `redact.redact` in full before any shortening, so a
secret cut in half by a length limit can never escape the patterns. Noise prompts (heartbeats, memory
flushes, /commands) end the exchange before them and start none; tool results that are not errors add
only their moment, so big ones are not even decoded.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any

from memory_syncd.parse import Message, epoch_ms, is_noise, message_key, parse_record, strip_envelope
from memory_syncd.redact import redact
from memory_syncd.sessionmeta import SessionMeta

try:  # the same parser as the index (a declared dependency); the standard library is the fallback
    import orjson

    _fast_loads: Callable[[bytes], Any] = orjson.loads
except ImportError:  # pragma: no cover - depends on the environment
    _fast_loads = json.loads

_BIG_RESULT = 2 * 1024  # below this, decoding a result costs about what the checks cost
_QUIET_END = re.compile(rb'"isError":false,"timestamp":(\d{1,16})\}\}\s*\Z')
_PATH_ARGS = ("path", "file_path", "filePath", "file")
_FILE_TOOLS = {"read": "read", "write": "write", "edit": "edit", "apply_patch": "patch", "multiedit": "edit"}

_NO_META = SessionMeta()


@dataclass(frozen=True)
class Turn:
    """A user request and what the agent answered to it (assistant text only; tools are summarized)."""

    ts_ms: int
    session: str
    request: str
    answers: tuple[str, ...]
    tools: tuple[str, ...]


@dataclass(frozen=True)
class SessionInfo:
    session: str
    first_ms: int
    last_ms: int
    messages: int
    channel: str
    models: tuple[str, ...]
    title: str


@dataclass(frozen=True)
class DaySnapshot:
    agent: str
    day: date
    zone: tzinfo
    messages: int  # every unique message of the day, noise included (what `compare` counts)
    sessions: tuple[SessionInfo, ...]
    turns: tuple[Turn, ...]
    tools: tuple[tuple[str, int], ...]
    files: tuple[tuple[str, tuple[str, ...]], ...]  # path -> how it was touched
    commands: tuple[str, ...]
    switches: tuple[tuple[int, str, str, str], ...]  # (ts_ms, session, from, to)
    errors: tuple[str, ...] = field(default=())

    def local(self, ts_ms: int) -> datetime:
        return datetime.fromtimestamp(ts_ms / 1000, self.zone)


def build(agent: str, day: date, zone: tzinfo, lines: Iterable[tuple[str, bytes]], messages: int,
          sessions: Mapping[str, SessionMeta], switches: Iterable[tuple[int, str, str, str]] = ()) -> DaySnapshot:
    """Assemble the day from its raw records (any order, duplicates allowed). `sessions` gives each
    session's key and channel where OpenClaw recorded them."""
    items: dict[int, tuple[int, str, dict[str, Any]]] = {}
    titles: dict[str, str] = {}
    for session, raw in lines:
        quiet = _quiet_result(raw)
        if quiet is not None:
            items.setdefault(quiet[0], (quiet[1], session, {"role": "toolResult"}))
            continue
        obj = _decode(raw)
        if not isinstance(obj, dict):
            continue
        if obj.get("type") == "session_info" and isinstance(obj.get("name"), str):
            titles[session] = redact(obj["name"])[:80]
        rec = parse_record(obj, raw)
        if isinstance(rec, Message) and isinstance(obj.get("message"), dict):
            items.setdefault(rec.key, (rec.ts_ms, session, obj["message"]))
    ordered = sorted(items.values(), key=lambda t: (t[0], t[1]))
    return _assemble(agent, day, zone, ordered, messages, sessions, titles, tuple(switches))


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
    """The decoded record, or None. What orjson refuses (a lone surrogate escape, which `JSON.stringify`
    writes for a cut emoji) goes to the standard parser, as in `parse`."""
    try:
        return _fast_loads(raw)
    except ValueError:
        pass
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None


def _assemble(agent: str, day: date, zone: tzinfo, ordered: list[tuple[int, str, dict[str, Any]]],
              messages: int, meta: Mapping[str, SessionMeta], titles: dict[str, str],
              switches: tuple[tuple[int, str, str, str], ...]) -> DaySnapshot:
    turns: list[Turn] = []
    tools: Counter[str] = Counter()
    files: dict[str, list[str]] = {}
    commands: list[str] = []
    errors: list[str] = []
    spans: dict[str, list[int]] = {}
    models: dict[str, list[str]] = {}
    current: dict[str, tuple[int, str, list[str], list[str]]] = {}  # session -> open turn
    said: set[str] = set()  # answers so far: a delivery mirror of one (a cron run's report) is not repeated
    scrubbed: dict[str, str] = {}  # paths and commands recur all day: each is redacted once

    def close(session: str) -> None:
        t = current.pop(session, None)
        if t is not None and (t[1] or t[2]):
            turns.append(Turn(t[0], session, t[1], tuple(t[2]), tuple(dict.fromkeys(t[3]))))

    for ts, session, msg in ordered:
        span = spans.setdefault(session, [ts, ts, 0])
        span[0], span[1], span[2] = min(span[0], ts), max(span[1], ts), span[2] + 1
        role = msg.get("role")
        if role == "toolResult" and msg.get("isError") is not True:
            continue
        text = text_of(msg.get("content"))
        if role == "user":
            close(session)  # a noise prompt ends the turn before it too: its tools are not that turn's
            text = strip_envelope(text)
            if is_noise("user", text):
                continue
            request = redact(text)
            if request:
                current[session] = (ts, request, [], [])
                titles.setdefault(session, _headline(request))
        elif role == "assistant":
            model = msg.get("model")
            if isinstance(model, str) and msg.get("provider") != "openclaw":
                models.setdefault(session, [])
                if model not in models[session]:
                    models[session].append(model)
            answer = redact(text.strip()) if text and not is_noise("assistant", text) else ""
            mirror = msg.get("provider") == "openclaw" and model == "delivery-mirror"
            if answer and not (mirror and answer in said):
                if mirror:  # a cron run's or a reminder's delivery, later: the agent's own turn
                    close(session)
                current.setdefault(session, (ts, "", [], []))[2].append(answer)
                said.add(answer)
            for name, args in tool_calls(msg.get("content")):
                tools[name] += 1
                if session in current:
                    current[session][3].append(name)
                _note_tool(name, args, files, commands, scrubbed)
            if msg.get("stopReason") == "error" and isinstance(msg.get("errorMessage"), str):
                errors.append(redact(msg["errorMessage"])[:200])
        elif role == "toolResult":  # an error (quiet results were passed over above)
            tool = msg.get("toolName")
            errors.append(f"{tool if isinstance(tool, str) else 'tool'}: " + _headline(redact(text), 160))
    for session in list(current):
        close(session)
    sessions = tuple(
        SessionInfo(s, v[0], v[1], v[2], meta.get(s, _NO_META).channel, tuple(models.get(s, ())),
                    titles.get(s, ""))
        for s, v in sorted(spans.items(), key=lambda kv: kv[1][0]))
    turns.sort(key=lambda t: t.ts_ms)
    return DaySnapshot(agent, zone=zone, day=day, messages=messages, sessions=sessions, turns=tuple(turns),
                       tools=tuple(tools.most_common()), files=tuple((p, tuple(h)) for p, h in files.items()),
                       commands=tuple(dict.fromkeys(commands)), switches=switches, errors=tuple(errors))


def _note_tool(name: str, args: Mapping[str, Any], files: dict[str, list[str]], commands: list[str],
               scrubbed: dict[str, str]) -> None:
    def scrub(text: str) -> str:
        if text not in scrubbed:
            scrubbed[text] = redact(text)
        return scrubbed[text]

    how = _FILE_TOOLS.get(name)
    if how:
        for key in _PATH_ARGS:
            if isinstance(args.get(key), str):
                path = scrub(args[key])[:200]
                hows = files.setdefault(path, [])
                if how not in hows:
                    hows.append(how)
                break
    if name in ("exec", "bash", "shell") and isinstance(args.get("command"), str):
        commands.append(_headline(scrub(args["command"]), 160))


def text_of(content: object) -> str:
    """The plain text of a message's content (string or blocks); thinking and images left out."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    parts = [b["text"] for b in content if isinstance(b, dict) and b.get("type") == "text"
             and isinstance(b.get("text"), str)]
    return "\n".join(parts)


def tool_calls(content: object) -> list[tuple[str, Mapping[str, Any]]]:
    if not isinstance(content, list):
        return []
    out: list[tuple[str, Mapping[str, Any]]] = []
    for b in content:
        if isinstance(b, dict) and b.get("type") == "toolCall" and isinstance(b.get("name"), str):
            args = b.get("arguments")
            out.append((b["name"], args if isinstance(args, dict) else {}))
    return out


def _headline(text: str, limit: int = 100) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
