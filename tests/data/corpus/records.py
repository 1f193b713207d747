"""Record writers for the fixture corpus: sessions laid out as pi/OpenClaw write them (one JSON object per
line, no spaces, `message` last, ids chained through `parentId`), with invented people, numbers and ids.

Used only by `build.py`; kept apart so that the two generations read as transcripts, not as plumbing.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

Model = tuple[str, str]  # (provider, model id)
API = {"anthropic": "anthropic-messages", "openai": "openai-responses", "openai-codex": "openai-codex-responses",
       "google": "google-generative-ai", "openclaw": "openai-responses"}
ZERO_USAGE = {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0, "totalTokens": 0,
              "cost": {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0, "total": 0}}


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def iso(at_ms: int) -> str:
    """`new Date(at_ms).toISOString()`."""
    return datetime.fromtimestamp(at_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at_ms % 1000:03d}Z"


class Clock:
    """Local wall-clock times of one generation's zone -> epoch ms."""

    def __init__(self, zone: str) -> None:
        self.zone = ZoneInfo(zone)

    def at(self, day: date, hm: str, sec: int = 0) -> int:
        h, m = map(int, hm.split(":"))
        return int(datetime(day.year, day.month, day.day, h, m, sec, tzinfo=self.zone).timestamp() * 1000)


def _usage(tokens: int) -> dict[str, Any]:
    return {"input": 12, "output": tokens, "cacheRead": 18_000, "cacheWrite": 300, "totalTokens": 18_312 + tokens,
            "cost": {"input": 0.00006, "output": tokens * 0.000025, "cacheRead": 0.009, "cacheWrite": 0.0019,
                     "total": 0.011 + tokens * 0.000025}}


class Session:
    """One transcript being written: every call appends one record and advances the leaf."""

    def __init__(self, sid: str, start_ms: int, cwd: str, model: Model) -> None:
        self.sid = sid
        self.records: list[dict[str, Any]] = [
            {"type": "session", "version": 3, "id": sid, "timestamp": iso(start_ms), "cwd": cwd}]
        self.parent: str | None = None
        self.model = model
        self._n = 0
        self._calls = 0
        self.model_change(start_ms + 80, *model)
        self.entry({"type": "thinking_level_change", "thinkingLevel": "low"}, start_ms + 81)
        self.snapshot(start_ms + 120, *model)

    def _id(self) -> str:
        self._n += 1
        return hashlib.sha1(f"{self.sid}:{self._n}".encode()).hexdigest()[:8]

    def entry(self, body: dict[str, Any], at_ms: int) -> dict[str, Any]:
        """A non-message entry; `custom` entries keep their fields before the ids, as pi writes them."""
        ids = {"id": self._id(), "parentId": self.parent, "timestamp": iso(at_ms)}
        rec = {**body, **ids} if body["type"] in ("custom", "custom_message") else {"type": body["type"], **ids,
                                                                                    **body}
        self.parent = str(rec["id"])
        self.records.append(rec)
        return rec

    def message(self, msg: dict[str, Any], entry_ms: int) -> None:
        rec = {"type": "message", "id": self._id(), "parentId": self.parent, "timestamp": iso(entry_ms),
               "message": msg}
        self.parent = str(rec["id"])
        self.records.append(rec)

    # --- records ---

    def model_change(self, at_ms: int, provider: str, model: str) -> None:
        self.entry({"type": "model_change", "provider": provider, "modelId": model}, at_ms)

    def snapshot(self, at_ms: int, provider: str, model: str) -> None:
        self.model = (provider, model)
        self.entry({"type": "custom", "customType": "model-snapshot",
                    "data": {"timestamp": at_ms, "provider": provider, "modelApi": API.get(provider, "x"),
                             "modelId": model}}, at_ms + 1)

    def custom(self, at_ms: int, custom_type: str, data: dict[str, Any]) -> None:
        self.entry({"type": "custom", "customType": custom_type, "data": data}, at_ms)

    def custom_message(self, at_ms: int, custom_type: str, content: str) -> None:
        self.entry({"type": "custom_message", "customType": custom_type, "content": content, "display": True},
                   at_ms)

    def user(self, at_ms: int, text: str, *, provenance: dict[str, Any] | None = None, plain: bool = False) -> None:
        msg: dict[str, Any] = {"role": "user", "content": text if plain else [{"type": "text", "text": text}],
                               "timestamp": at_ms}
        if provenance is not None:
            msg["provenance"] = provenance
        self.message(msg, at_ms + 9)

    def say(self, at_ms: int, text: str = "", *, calls: tuple[tuple[str, dict[str, Any]], ...] = (),
            model: Model | None = None, stop: str | None = None, error: str | None = None,
            thinking: str = "") -> list[str]:
        """An assistant message (text and/or tool calls); returns the tool-call ids."""
        provider, name = model or self.model
        blocks: list[dict[str, Any]] = []
        if thinking:
            blocks.append({"type": "thinking", "thinking": thinking, "thinkingSignature": "EqQC" + "x" * 24})
        if text:
            blocks.append({"type": "text", "text": text})
        ids = []
        for tool, args in calls:
            self._calls += 1
            call_id = f"toolu_{hashlib.sha1(f'{self.sid}:c{self._calls}'.encode()).hexdigest()[:22]}"
            ids.append(call_id)
            blocks.append({"type": "toolCall", "id": call_id, "name": tool, "arguments": args})
        failed = error is not None or stop in ("error", "aborted")
        msg: dict[str, Any] = {
            "role": "assistant", "content": blocks, "api": API.get(provider, "openai-completions"),
            "provider": provider, "model": name,
            "usage": ZERO_USAGE if failed or provider == "openclaw" else _usage(40 + 3 * len(text)),
            "stopReason": stop or ("error" if error else "toolUse" if calls else "stop")}
        if error is not None:
            msg["errorMessage"] = error
        msg["timestamp"] = at_ms
        self.message(msg, at_ms + 2500)
        return ids

    def result(self, at_ms: int, call_id: str, tool: str, text: str, *, error: bool = False,
               details: dict[str, Any] | None = None) -> None:
        msg: dict[str, Any] = {"role": "toolResult", "toolCallId": call_id, "toolName": tool,
                               "content": [{"type": "text", "text": text}]}
        if details is not None:
            msg["details"] = details
        msg["isError"] = error
        msg["timestamp"] = at_ms
        self.message(msg, at_ms + 4)

    def mirror(self, at_ms: int, text: str) -> None:
        """A delivery of a scheduled run's report into this (the user's) session."""
        self.say(at_ms, text, model=("openclaw", "delivery-mirror"))

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"".join(dumps(r) + b"\n" for r in self.records))


def sessions_json(path: Path, rows: dict[str, tuple[str, str]], sessions_dir: str) -> None:
    """OpenClaw's session store: key -> (session id, channel)."""
    store = {key: {"sessionId": sid, "updatedAt": 1_760_000_000_000 + i,
                   "sessionFile": f"{sessions_dir}/{sid}.jsonl", "chatType": "direct",
                   **({"lastChannel": channel, "origin": {"provider": channel, "surface": channel}} if channel else {})}
             for i, (key, (sid, channel)) in enumerate(rows.items())}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(store, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
