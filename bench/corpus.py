"""Seeded, deterministic generator of a realistic OpenClaw state dir, for benchmarks.

    python bench/corpus.py OUT_DIR --size-mb 300 --days 60 --agents 2 --seed 1

or, from another benchmark, `generate(Path(out), size_mb=300, days=60, agents=2, seed=1) -> dict`.

What it writes (shapes follow /work/shared/docs/openclaw-formats.md sections 1-3 and the samples):

    OUT/openclaw.json                          JSON5; userTimezone Europe/Berlin; each agent's workspace
    OUT/agents/<id>/sessions/<uuid>.jsonl      active transcripts (a few `<uuid>-topic-<n>.jsonl`)
    OUT/agents/<id>/sessions/<uuid>.jsonl.reset.<ts>     sessions ended by /new or the 04:00 rollover
    OUT/agents/<id>/sessions/<uuid>.jsonl.deleted.<ts>   cron sessions reaped after 24 h
    OUT/agents/<id>/sessions/<uuid>.checkpoint.<uuid>.jsonl  pre-compaction copies (readers must skip)
    OUT/agents/<id>/sessions/sessions.json (+ .bak, a .lock)  the session store (readers must skip)
    OUT/workspace[-<id>]/memory/YYYY-MM-DD[-slug].md  daily notes: covered, sparse, slugged, or missing
    OUT/.corpus.json                           parameters and the stats `generate` returns

Records: session header, model_change, thinking_level_change, model-snapshot customs (session start, model
switches, error fallbacks), openclaw.cache-ttl customs, user messages with inbound metadata envelopes (Telegram
DM, Discord group with chat history) or `[Mon 2026-04-13 08:58 GMT+2]` prefixes (webchat), assistant messages
with thinking (+signature) / text / toolCall blocks and full usage objects, toolResult messages (exec with
details, read, write, edit, web_fetch, web_search, memory_search, browser screenshots as base64 images, cron),
heartbeats (HEARTBEAT_OK), pre-compaction memory flushes (NO_REPLY) followed by compaction entries, cron runs
mirrored into the DM session as `delivery-mirror`, gateway-injected abort notes with `openclaw:prompt-error`,
429 errors with fallback, rewrite copies (re-appended messages with new ids and entry timestamps, identical
`message` bytes), sessions crossing local midnight and lasting several days, and the 2026-03-29 DST change.

Bytes: about 40% of `--size-mb` goes into big tool results (a few ~20 MB exec logs and JSON dumps at 300 MB,
some 1-5 MB screenshots and logs, many 100-800 kB ones); the rest is ordinary conversation. `--size-mb` counts
transcript bytes only (what `compare` reads; 1 MB = 10^6 bytes); checkpoints and memory files come on top.

The stats include, per agent and local day, how many distinct messages the transcripts hold (rewrite copies
counted once), so a benchmark can check that `compare` counted what was written.
Same arguments, same bytes: every random choice comes from one `random.Random(seed)`; the only host-dependent
content is the absolute OUT path in openclaw.json and sessions.json.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import shutil
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

GENERATOR_VERSION = 5
TIMEZONE = "Europe/Berlin"
ZONE = ZoneInfo(TIMEZONE)
END_DAY = date(2026, 4, 26)  # fixed so that the output never depends on the clock; spans the DST switch
MB = 1_000_000

HEARTBEAT_PROMPT = ("Read HEARTBEAT.md if it exists (workspace context). Follow it strictly. Do not infer or "
                    "repeat old tasks from prior chats. If nothing needs attention, reply HEARTBEAT_OK.")
FLUSH_PROMPT = (
    "Pre-compaction memory flush. Store durable memories only in memory/{d}.md (create memory/ if needed). "
    "Treat workspace bootstrap/reference files such as MEMORY.md, DREAMS.md, SOUL.md, TOOLS.md, and AGENTS.md "
    "as read-only during this flush; never overwrite, replace, or edit them. If memory/{d}.md already exists, "
    "APPEND new content only and do not overwrite existing entries. Do NOT create timestamped variant files "
    "(e.g., {d}-HHMM.md); always use the canonical {d}.md filename. If nothing to store, reply with NO_REPLY."
    "\nCurrent time: {local} ({tz}) / {utc} UTC")

_dumps: Callable[[Any], str] = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
# JSON.stringify writes a string cut inside a surrogate pair as a lone `\ud83d` escape (orjson refuses it,
# the standard parser accepts it). Python cannot build that line from a str, so a marker is swapped in.
LONE_SURROGATE = "\u2063LONE-SURROGATE\u2063"


@dataclass(frozen=True)
class Model:
    provider: str
    model: str
    api: str
    style: str  # "anthropic", "openai" or "google": tool-call id and thinking-signature shapes
    price_in: float  # USD per token
    price_out: float


MODELS = (
    Model("anthropic", "claude-opus-4-6", "anthropic-messages", "anthropic", 5e-6, 25e-6),
    Model("anthropic", "claude-sonnet-4-6", "anthropic-messages", "anthropic", 3e-6, 15e-6),
    Model("openai-codex", "gpt-5.3-codex", "openai-codex-responses", "openai", 1.75e-6, 14e-6),
    Model("google", "gemini-3-pro-preview", "google-generative-ai", "google", 2e-6, 12e-6),
    Model("openrouter", "moonshotai/kimi-k2.5", "openai-completions", "openai", 0.6e-6, 2.5e-6),
)
ZERO_USAGE = {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0, "totalTokens": 0,
              "cost": {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0, "total": 0}}


@dataclass(frozen=True)
class AgentSpec:
    id: str
    weight: float  # share of the ordinary bytes
    channel: str  # "webchat+telegram", "discord" or "telegram-group"
    workspace: str  # directory name under OUT
    heartbeats: bool
    crons: tuple[tuple[str, int, str], ...]  # (job name, local hour, prompt)


def agent_specs(n: int) -> list[AgentSpec]:
    crons = (("morning-briefing", 7, "Summarize today's calendar, unread mail and anything due. Keep it short."),
             ("inbox-digest", 18, "Check the inbox for anything urgent since this morning and report."))
    specs = [AgentSpec("main", 1.0, "webchat+telegram", "workspace", True, crons),
             AgentSpec("work", 0.5, "discord", "workspace-work", False,
                       (("standup-notes", 9, "Collect yesterday's merged PRs and open incidents for standup."),)),
             AgentSpec("ops", 0.3, "telegram-group", "workspace-ops", True, ())]
    for i in range(len(specs), n):
        specs.append(AgentSpec(f"agent{i}", 0.25, "discord", f"workspace-agent{i}", False, ()))
    return specs[:n]


# --- text pools (built once per run from the seeded rng, so assembling megabytes costs only joins) ---

_WORD_TEXT = (
    "the a to of and in is it for on that with this we as be at by from or are was not but can have will "
    "backup restic bucket deploy staging cluster token config memory session agent model cron invoice budget "
    "hiring roadmap incident latency queue worker build release branch merge review schema migration index "
    "cache timeout retry webhook gateway channel thread message summary note decision follow-up tomorrow "
    "yesterday Monday Friday meeting agenda draft script service timer systemd docker nginx postgres redis "
    "kubectl terraform bash python typescript rust node npm pip uv pytest ruff mypy log error warning ok "
    "Jonas Maya Tomasz Kessler Müller café naïve façade résumé Zürich São Paulo → ✅ ⚠️ 🙂 — "
    "should could would need want check update fix add remove move rename refactor test run verify confirm "
    "because however so then also still already maybe probably definitely quickly carefully later now"
)
_WORDS = tuple(_WORD_TEXT.split())
_CODE_TEMPLATES = (
    '    {a} = {b}("{c}", {n})  # {d}',
    "def {a}_{b}({c}: str, {d}: int = {n}) -> dict[str, Any]:",
    '        raise ValueError(f"unexpected {{{a}!r}} in {b}: {{{c}}}")',
    'export {A}="${{{A}:-/var/lib/{b}}}"',
    'if [[ -z "${{{A}:-}}" ]]; then echo "missing \\${A}" >&2; exit 1; fi',
    "const {a} = await {b}.{c}({{ {d}: {n}, retries: 3 }});",
    "\t\treturn {a}.map(({b}) => `${{{b}.{c}}}/{d}`).join(\"\\n\");",
    "SELECT {a}, count(*) FROM {b} WHERE {c} > {n} GROUP BY {a};",
    "    \"{a}\": {{\"{b}\": {n}, \"{c}\": \"{d}\"}},",
    "# TODO({a}): {b} the {c} before {d}",
)
_LOG_LEVELS = ("INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR")
_COMPONENTS = ("api", "worker", "scheduler", "db", "auth", "gateway", "restic", "nginx", "kubelet")


@dataclass
class Pools:
    sentences: list[str]
    code: list[str]
    logs: list[str]
    json_docs: list[str]
    markdown: list[str]

    @classmethod
    def build(cls, rng: random.Random) -> Pools:
        w = _WORDS
        sentences = []
        for _ in range(4000):
            words = rng.choices(w, k=rng.randint(5, 22))
            s = " ".join(words)
            if rng.random() < 0.15:
                s += f" (`{rng.choice(w)}.{rng.choice(('py', 'sh', 'ts', 'md', 'toml'))}`)"
            sentences.append(s[0].upper() + s[1:] + rng.choice((".", ".", ".", "?", "!", ":")))
        code = []
        for _ in range(3000):
            t = rng.choice(_CODE_TEMPLATES)
            a, b, c, d = (rng.choice(w).lower().strip("→✅⚠️🙂—") or "x" for _ in range(4))
            code.append(t.format(a=a, b=b, c=c, d=d, A=a.upper(), n=rng.randint(0, 9999)))
        logs = []
        for i in range(4000):
            ts = f"2026-04-{1 + i % 28:02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:" \
                 f"{rng.randint(0, 59):02d}.{rng.randint(0, 999):03d}Z"
            msg = " ".join(rng.choices(w, k=rng.randint(4, 16)))
            extra = f' req_id={rng.getrandbits(48):012x} path="/v1/{rng.choice(w)}" ms={rng.randint(1, 4000)}'
            logs.append(f"{ts} {rng.choice(_LOG_LEVELS):5} [{rng.choice(_COMPONENTS)}] {msg}{extra}")
        json_docs = []
        for _ in range(300):
            doc = {"apiVersion": "v1", "kind": rng.choice(("Pod", "Service", "Deployment")),
                   "metadata": {"name": f"{rng.choice(w)}-{rng.getrandbits(20):05x}", "namespace": "staging",
                                "labels": {"app": rng.choice(w), "tier": rng.choice(("web", "db", "cache"))},
                                "annotations": {"note": rng.choice(sentences)}},
                   "status": {"phase": rng.choice(("Running", "Pending", "Failed")),
                              "restarts": rng.randint(0, 40),
                              "conditions": [{"type": "Ready", "status": rng.choice(("True", "False")),
                                              "message": rng.choice(sentences)}]}}
            json_docs.append(json.dumps(doc, indent=2, ensure_ascii=False))
        markdown = []
        for _ in range(1500):
            kind = rng.random()
            if kind < 0.15:
                markdown.append("## " + " ".join(rng.choices(w, k=rng.randint(2, 6))).title())
            elif kind < 0.35:
                markdown.append("- " + rng.choice(sentences))
            elif kind < 0.45:
                markdown.append(f"[{rng.choice(w)}](https://example.org/{rng.choice(w)}/{rng.getrandbits(24)})")
            else:
                markdown.append(" ".join(rng.choices(sentences, k=rng.randint(2, 5))))
        return cls(sentences, code, logs, json_docs, markdown)


def _fill(rng: random.Random, pool: list[str], size: int, sep: str = "\n") -> str:
    """About `size` characters of lines drawn from `pool`."""
    avg = sum(len(p) for p in pool[:200]) / 200 + len(sep)
    parts: list[str] = []
    have = 0
    while have < size:
        batch = rng.choices(pool, k=max(1, int((size - have) / avg) + 1))
        parts.extend(batch)
        have += sum(len(p) for p in batch) + len(sep) * len(batch)
    return sep.join(parts)[:size]


# --- time helpers ---


def iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def archive_ts(ms: int) -> str:
    return iso(ms).replace(":", "-")


def local(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, ZONE)


def local_ms(day: date, hour: int, minute: int = 0) -> int:
    return int(datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE).timestamp() * 1000)


def gmt_label(dt: datetime) -> str:
    off = dt.utcoffset() or timedelta(0)
    hours = int(off.total_seconds() // 3600)
    return f"GMT{hours:+d}" if hours else "GMT"


def stamp_prefix(ms: int) -> str:
    dt = local(ms)
    return f"[{dt:%a %Y-%m-%d %H:%M} {gmt_label(dt)}]"


# --- the run ---


@dataclass
class Stats:
    files: Counter[str] = field(default_factory=Counter)  # active / reset / deleted / checkpoint / other
    transcript_bytes: int = 0
    checkpoint_bytes: int = 0
    lines: int = 0
    message_entries: int = 0  # every `message` line, rewrite copies included
    rewrite_copies: int = 0
    roles: Counter[str] = field(default_factory=Counter)
    big_results: int = 0
    big_bytes: int = 0
    max_line: int = 0
    compactions: int = 0
    heartbeats: int = 0
    memory_files: Counter[str] = field(default_factory=Counter)
    days: dict[str, Counter[str]] = field(default_factory=dict)  # agent -> local day -> distinct messages


@dataclass
class Big:
    kind: str  # "exec-log", "json", "image", "web", "read"
    size: int


class Gen:
    """Shared state of one generation run: the rng, text pools and running stats."""

    def __init__(self, rng: random.Random, stats: Stats) -> None:
        self.rng = rng
        self.pools = Pools.build(rng)
        self.stats = stats

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def text(self, lo: int, hi: int) -> str:
        return " ".join(self.rng.choices(self.pools.sentences, k=self.rng.randint(lo, hi)))

    def b64(self, nbytes: int) -> str:
        return base64.b64encode(self.rng.randbytes(nbytes)).decode()


class Session:
    """One transcript file being appended to, the way pi's SessionManager writes it (one line per entry)."""

    def __init__(self, g: Gen, agent: AgentSpec, sessions_dir: Path, start_ms: int, model: Model,
                 channel: str, thinking: str, name_suffix: str = "") -> None:
        self.g, self.agent, self.channel = g, agent, channel
        self.id = g.uuid()
        self.path = sessions_dir / f"{self.id}{name_suffix}.jsonl"
        self.f: BinaryIO = open(self.path, "wb")  # noqa: SIM115 - closed in close()
        self.size = 0
        self.parent: str | None = None
        self.t = start_ms
        self.model = self.primary = model
        self.thinking = thinking
        self.recent: list[tuple[str | None, dict[str, Any]]] = []  # (parentId, message) for rewrite copies
        self.context = 0  # bytes since the last compaction, to decide when to compact
        self.last_entry_id = ""
        self.big: list[Big] = []
        self.first_ms = start_ms
        self._line({"type": "session", "version": 3, "id": self.id, "timestamp": iso(start_ms),
                    "cwd": f"/home/maya/.openclaw/{agent.workspace}"})
        self.entry({"type": "model_change"}, start_ms + 85,
                   {"provider": model.provider, "modelId": model.model})
        self.entry({"type": "thinking_level_change"}, start_ms + 86, {"thinkingLevel": thinking})
        self.snapshot(start_ms + 120)
        self.t = start_ms + 150

    # -- raw writing --

    def _line(self, obj: dict[str, Any]) -> int:
        text = _dumps(obj)
        if LONE_SURROGATE in text:
            text = text.replace(LONE_SURROGATE, "\\ud83d")
        data = text.encode() + b"\n"
        self.f.write(data)
        n = len(data)
        self.size += n
        self.context += n
        st = self.g.stats
        st.lines += 1
        st.transcript_bytes += n
        st.max_line = max(st.max_line, n)
        return n

    def _id(self) -> str:
        return f"{self.g.rng.getrandbits(32):08x}"

    def entry(self, head: dict[str, Any], ts: int, body: dict[str, Any]) -> str:
        """Write `head` + id/parentId/timestamp + `body` (the writer's field order)."""
        eid = self._id()
        obj = dict(head)
        obj.update(id=eid, parentId=self.parent, timestamp=iso(ts))
        obj.update(body)
        self._line(obj)
        self.parent = self.last_entry_id = eid
        return eid

    def custom(self, ts: int, custom_type: str, data: dict[str, Any]) -> None:
        eid = self._id()
        self._line({"type": "custom", "customType": custom_type, "data": data, "id": eid,
                    "parentId": self.parent, "timestamp": iso(ts)})
        self.parent = self.last_entry_id = eid

    def message(self, msg: dict[str, Any], entry_ts: int, *, copy: bool = False) -> int:
        parent = self.parent
        self.entry({"type": "message"}, entry_ts, {"message": msg})
        st = self.g.stats
        st.message_entries += 1
        if copy:
            st.rewrite_copies += 1
        else:
            st.roles[msg["role"]] += 1
            day = local(msg["timestamp"]).date().isoformat()
            st.days.setdefault(self.agent.id, Counter())[day] += 1
            self.recent.append((parent, msg))
            if len(self.recent) > 12:
                del self.recent[0]
        return entry_ts

    def snapshot(self, ts: int) -> None:
        m = self.model
        self.custom(ts, "model-snapshot", {"timestamp": ts - 1, "provider": m.provider, "modelApi": m.api,
                                           "modelId": m.model})

    def close(self) -> None:
        self.f.close()
        os.utime(self.path, ns=(self.t * 1_000_000, self.t * 1_000_000))

    # -- message builders --

    def user(self, text: str, ts: int, images: int = 0) -> None:
        content: list[dict[str, Any]] | str = [{"type": "text", "text": text}]
        for _ in range(images):
            assert isinstance(content, list)
            content.append({"type": "image", "data": self.g.b64(self.g.rng.randint(30_000, 300_000)),
                            "mimeType": "image/jpeg"})
        if not images and self.channel == "webchat" and self.g.rng.random() < 0.2:
            content = text  # pi also stores plain-string user content
        self.message({"role": "user", "content": content, "timestamp": ts - 7}, ts)

    def envelope(self, text: str, ts: int) -> str:
        """User text as OpenClaw hands it to the model on this session's channel."""
        rng = self.g.rng
        dt = local(ts)
        when = f"{dt:%a %Y-%m-%d %H:%M} {gmt_label(dt)}"
        conv: dict[str, Any]
        if self.channel == "webchat":
            return f"{stamp_prefix(ts)} {text}"
        if self.channel == "telegram":
            conv = {"message_id": str(rng.randint(1000, 99999)), "sender_id": "5550001234", "sender": "Maya K",
                    "timestamp": when}
            sender = {"label": "Maya K (@mayak)", "id": "5550001234", "name": "Maya K", "username": "mayak"}
        else:
            who = rng.choice(("tomasz", "jonas", "maya", "priya", "lea"))
            group = "#ops" if self.channel == "discord" else "Family"
            label = f"Guild {group} channel id:1290011223344556677" if self.channel == "discord" else \
                "Family id:-1001234567890"
            conv = {"message_id": str(rng.getrandbits(60)), "sender_id": str(rng.getrandbits(59)),
                    "conversation_label": label, "sender": who,
                    "timestamp": when, "group_channel": group, "is_group_chat": True, "was_mentioned": True}
            sender = {"label": who, "id": conv["sender_id"], "name": who}
        parts = [f"Conversation info (untrusted metadata):\n```json\n{json.dumps(conv, indent=2)}\n```",
                 f"Sender (untrusted metadata):\n```json\n{json.dumps(sender, indent=2)}\n```"]
        if self.channel != "telegram" and rng.random() < 0.4:
            history = [{"sender": rng.choice(("lea", "jonas", "priya")), "timestamp_ms": ts - rng.randint(1, 900_000),
                        "body": self.g.text(1, 3)} for _ in range(rng.randint(2, 12))]
            parts.append("Chat history since last reply (untrusted, for context):\n```json\n"
                         f"{json.dumps(history, indent=2, ensure_ascii=False)}\n```")
        if rng.random() < 0.1:
            parts.append("Replied message (untrusted, for context):\n```json\n"
                         f"{json.dumps({'sender_label': 'Clawd', 'body': self.g.text(1, 3)}, ensure_ascii=False)}"
                         "\n```")
        return "\n\n".join([*parts, ("@Clawd " if self.channel != "telegram" else "") + text])

    def usage(self, inp: int, out: int, cache_read: int, cache_write: int) -> dict[str, Any]:
        m = self.model
        c_in, c_out = inp * m.price_in, out * m.price_out
        c_cr, c_cw = cache_read * m.price_in / 10, cache_write * m.price_in * 1.25
        return {"input": inp, "output": out, "cacheRead": cache_read, "cacheWrite": cache_write,
                "totalTokens": inp + out + cache_read + cache_write,
                "cost": {"input": round(c_in, 6), "output": round(c_out, 6), "cacheRead": round(c_cr, 6),
                         "cacheWrite": round(c_cw, 6), "total": round(c_in + c_out + c_cr + c_cw, 6)}}

    def thinking_block(self) -> dict[str, Any]:
        g, m = self.g, self.model
        text = g.text(1, 7)
        if m.style == "anthropic":
            return {"type": "thinking", "thinking": text, "thinkingSignature": g.b64(g.rng.randint(200, 1200))}
        if m.style == "openai":
            head = text.split(".")[0]
            sig = {"type": "reasoning", "id": f"rs_{g.rng.getrandbits(72):018x}",
                   "summary": [{"type": "summary_text", "text": f"**{head[:60]}**"}],
                   "encrypted_content": "gAAAAA" + g.b64(g.rng.randint(900, 6000))}
            return {"type": "thinking", "thinking": f"**{head[:60]}**\n\n{text}", "thinkingSignature": _dumps(sig)}
        return {"type": "thinking", "thinking": text}

    def call_id(self, tool: str, ts: int, n: int) -> str:
        rng = self.g.rng
        style = self.model.style
        if style == "anthropic":
            return "toolu_01" + base64.b32encode(rng.randbytes(15)).decode().rstrip("=")[:22]
        if style == "openai":
            return f"call_{base64.b32encode(rng.randbytes(10)).decode()[:16]}|fc_{rng.getrandbits(72):018x}"
        return f"{tool}_{ts}_{n}"

    def assistant(self, content: list[dict[str, Any]], start: int, stop: str, out_tokens: int) -> int:
        rng = self.g.rng
        end = start + rng.randint(900, 25_000)
        cache_read = min(200_000, self.context // 4)
        msg = {"role": "assistant", "content": content, "api": self.model.api, "provider": self.model.provider,
               "model": self.model.model,
               "usage": self.usage(rng.randint(3, 4000), out_tokens, cache_read, rng.randint(0, 2000)),
               "stopReason": stop, "timestamp": start}
        self.message(msg, end)
        return end

    def pseudo(self, text: str, ts: int, model: str, extra: dict[str, Any] | None = None) -> None:
        msg: dict[str, Any] = {"role": "assistant", "content": [{"type": "text", "text": text}],
                               "api": "openai-responses", "provider": "openclaw", "model": model,
                               "usage": ZERO_USAGE, "stopReason": "stop"}
        if extra:
            msg.update(extra)
        msg["timestamp"] = ts
        self.message(msg, ts + 5)


# --- tool calls and their results ---

_TOOLS = ("exec", "read", "edit", "write", "web_fetch", "web_search", "memory_search", "memory_get", "browser",
          "cron", "message")
_TOOL_WEIGHTS = (30, 25, 10, 5, 8, 5, 6, 3, 3, 2, 2)
_BIG_TOOL = {"exec-log": "exec", "json": "exec", "image": "browser", "web": "web_fetch", "read": "read"}


def tool_step(s: Session, t: int, big: Big | None) -> int:
    """One assistant message with tool calls (usually one, sometimes parallel ones) and their results."""
    g, rng = s.g, s.g.rng
    tools = [_BIG_TOOL[big.kind]] if big else rng.choices(_TOOLS, _TOOL_WEIGHTS, k=1 if rng.random() < 0.85 else 2)
    content: list[dict[str, Any]] = []
    if s.thinking != "off" and rng.random() < 0.6:
        content.append(s.thinking_block())
    if rng.random() < 0.2:
        content.append({"type": "text", "text": g.text(1, 2)})
    calls = []
    for n, tool in enumerate(tools, 1):
        args = tool_args(s, tool, big)
        cid = s.call_id(tool, t, n)
        block: dict[str, Any] = {"type": "toolCall", "id": cid, "name": tool, "arguments": args}
        if s.model.style == "google":
            block["thoughtSignature"] = g.b64(rng.randint(20, 120))
        content.append(block)
        calls.append((cid, tool, args))
    t = s.assistant(content, t, "toolUse", rng.randint(20, 900))
    for cid, tool, args in calls:
        t += rng.randint(15, 30_000 if tool == "exec" else 4000)
        result, details, is_error = tool_result(s, tool, args, big)
        msg: dict[str, Any] = {"role": "toolResult", "toolCallId": cid, "toolName": tool, "content": result}
        if details is not None:
            msg["details"] = details
        msg["isError"] = is_error
        msg["timestamp"] = t
        before = s.size
        s.message(msg, t + rng.randint(2, 30))
        if big:
            g.stats.big_results += 1
            g.stats.big_bytes += s.size - before
            s.recent.clear()  # rewrite copies stay ordinary-sized (OpenClaw truncates oversized results first)
            big = None
    return t


def tool_args(s: Session, tool: str, big: Big | None) -> dict[str, Any]:
    rng, w = s.g.rng, _WORDS
    if tool == "exec":
        if big and big.kind == "json":
            return {"command": "kubectl get pods -A -o json", "timeout": 120}
        if big:
            return {"command": f"journalctl -u {rng.choice(_COMPONENTS)} --since yesterday --no-pager"}
        cmd = rng.choice(("git status --short", "ls -la ~/bin", "pytest -q", "docker ps", "df -h",
                          f"grep -rn {rng.choice(w)} src/ | head -40", "~/bin/backup.sh --dry-run",
                          f"systemctl --user status {rng.choice(_COMPONENTS)}"))
        return {"command": cmd, "timeout": rng.choice((30, 60, 300))}
    if tool in ("read", "write", "edit"):
        path = rng.choice(("memory/", "src/", "/home/maya/bin/", "notes/")) + \
            f"{rng.choice(w).lower()}.{rng.choice(('md', 'py', 'sh', 'ts', 'json'))}"
        if tool == "read":
            return {"path": path} if rng.random() < 0.7 else {"path": path, "offset": rng.randint(1, 400),
                                                               "limit": 200}
        if tool == "write":
            return {"path": path, "content": _fill(rng, s.g.pools.code, rng.randint(200, 4000))}
        return {"path": path, "oldText": rng.choice(s.g.pools.code), "newText": rng.choice(s.g.pools.code)}
    if tool == "web_fetch":
        return {"url": f"https://{rng.choice(w).lower()}.example.org/{rng.choice(w).lower()}",
                "extractMode": "markdown"}
    if tool == "web_search":
        return {"query": " ".join(rng.choices(w, k=4)), "count": 5}
    if tool in ("memory_search", "memory_get"):
        return {"query": " ".join(rng.choices(w, k=3)), "maxResults": 6}
    if tool == "browser":
        return {"action": "screenshot", "targetId": f"{rng.getrandbits(64):016X}", "fullPage": bool(big)}
    if tool == "cron":
        return {"action": "add", "job": {"name": f"{rng.choice(w).lower()}-reminder",
                                          "schedule": {"kind": "at", "at": iso(s.t + 3_600_000)},
                                          "payload": {"kind": "systemEvent", "text": s.g.text(1, 1)},
                                          "deleteAfterRun": True}}
    return {"action": "send", "channel": "telegram", "to": "5550001234", "message": s.g.text(1, 2)}


def tool_result(s: Session, tool: str, args: dict[str, Any],
                big: Big | None) -> tuple[list[dict[str, Any]], dict[str, Any] | None, bool]:
    g, rng, pools = s.g, s.g.rng, s.g.pools
    cwd = f"/home/maya/.openclaw/{s.agent.workspace}"
    if big:
        if big.kind == "image":
            return ([{"type": "text", "text": "Screenshot captured."},
                     {"type": "image", "data": g.b64(big.size * 3 // 4), "mimeType": "image/png"}],
                    {"targetId": args.get("targetId"), "format": "png"}, False)
        if big.kind in ("exec-log", "json"):
            pool = pools.logs if big.kind == "exec-log" else pools.json_docs
            full = _fill(rng, pool, big.size)
            shown = full[-50_000:]  # the tool shows the tail; the details keep the whole aggregated output
            return ([{"type": "text", "text": f"[output truncated to last 50000 chars]\n{shown}"}],
                    {"status": "completed", "exitCode": 0, "durationMs": rng.randint(200, 90_000),
                     "aggregated": full, "cwd": cwd}, False)
        if big.kind == "web":
            return ([{"type": "text", "text": _fill(rng, pools.markdown, big.size)}],
                    {"url": args["url"], "status": 200, "extractMode": "markdown", "truncated": False}, False)
        return [{"type": "text", "text": _fill(rng, pools.code, big.size)}], None, False
    if tool == "exec":
        if rng.random() < 0.07:
            out = _fill(rng, pools.logs, rng.randint(80, 1500)) + "\n\n(Command exited with code 1)"
            return ([{"type": "text", "text": out}],
                    {"status": "failed", "exitCode": 1, "durationMs": rng.randint(50, 9000), "cwd": cwd}, True)
        out = _fill(rng, pools.logs if rng.random() < 0.5 else pools.code, int(rng.lognormvariate(6.5, 1.1)))
        return ([{"type": "text", "text": out}],
                {"status": "completed", "exitCode": 0, "durationMs": rng.randint(20, 30_000),
                 "aggregated": out[-2000:], "cwd": cwd}, False)
    if tool == "read":
        if rng.random() < 0.05:
            return [{"type": "text", "text": f"ENOENT: no such file or directory, access '{args['path']}'"}], None, True
        pool = pools.markdown if args["path"].endswith(".md") else pools.code
        return [{"type": "text", "text": _fill(rng, pool, int(rng.lognormvariate(7.6, 0.9)))}], None, False
    if tool == "write":
        return [{"type": "text", "text": f"Successfully wrote {len(args['content'])} bytes to {args['path']}"}], \
            None, False
    if tool == "edit":
        return [{"type": "text", "text": f"Successfully replaced text in {args['path']}."}], None, False
    if tool == "web_fetch":
        page = _fill(rng, pools.markdown, rng.randint(1500, 20_000))
        truncated = rng.random() < 0.2
        if truncated and rng.random() < 0.03:  # maxChars cut an emoji in half
            page += LONE_SURROGATE
        return ([{"type": "text", "text": page}],
                {"url": args["url"], "status": 200, "extractMode": "markdown", "truncated": truncated}, False)
    if tool == "web_search":
        hits = [{"title": g.text(1, 1)[:80], "url": f"https://example.org/{rng.getrandbits(32):x}",
                 "description": g.text(1, 3), "published": iso(s.t - rng.randint(0, 10**10))}
                for _ in range(5)]
        return [{"type": "text", "text": json.dumps({"query": args["query"], "results": hits},
                                                    ensure_ascii=False)}], {"provider": "brave"}, False
    if tool in ("memory_search", "memory_get"):
        found: list[dict[str, Any]] = [
            {"path": f"memory/2026-04-{rng.randint(1, 28):02d}.md", "startLine": (a := rng.randint(1, 80)),
             "endLine": a + rng.randint(1, 9), "score": round(rng.random(), 2), "snippet": g.text(1, 2)}
            for _ in range(rng.randint(0, 6))]
        return [{"type": "text", "text": json.dumps(found, ensure_ascii=False)}], None, False
    if tool == "browser":
        return ([{"type": "text", "text": "Screenshot captured."},
                 {"type": "image", "data": g.b64(rng.randint(20_000, 90_000)), "mimeType": "image/png"}],
                {"targetId": args["targetId"], "format": "png"}, False)
    if tool == "cron":
        return [{"type": "text", "text": json.dumps({"ok": True, "id": f"{rng.getrandbits(32):08x}",
                                                     "nextRunAt": iso(s.t + 3_600_000)})}], None, False
    return [{"type": "text", "text": json.dumps({"ok": True, "messageId": str(rng.randint(10**4, 10**6))})}], \
        None, False


# --- turns ---


def turn(s: Session, t: int) -> int:
    """A user message and the agent's answer (tool steps, then text); returns when it ended."""
    g, rng = s.g, s.g.rng
    images = 1 if rng.random() < 0.02 else 0
    s.user(s.envelope(g.text(1, 4), t), t, images)
    if s.model is not s.primary:  # the previous turn fell back; this run starts on the primary again
        s.model = s.primary
        s.snapshot(t + 20)
    if rng.random() < 0.008:  # aborted by the operator
        t += rng.randint(500, 4000)
        s.custom(t, "openclaw:prompt-error", {"timestamp": t, "runId": f"run_{rng.getrandbits(32):08x}",
                                              "sessionId": s.id, "provider": s.model.provider,
                                              "model": s.model.model, "api": s.model.api,
                                              "error": "Request was aborted."})
        s.pseudo("Run stopped by operator.", t + 30, "gateway-injected",
                 {"openclawAbort": {"aborted": True, "origin": "rpc", "runId": f"run_{rng.getrandbits(32):08x}"}})
        return t + 40
    t += rng.randint(300, 2000)
    if rng.random() < 0.015:  # 429 / overload, then the fallback model answers
        errm = rng.choice(('429 {"type":"error","error":{"type":"rate_limit_error","message":"This request would '
                           'exceed your organization\'s rate limit."}}', "503 overloaded_error: Overloaded",
                           "Request timed out."))
        s.message({"role": "assistant", "content": [], "api": s.model.api, "provider": s.model.provider,
                   "model": s.model.model, "usage": ZERO_USAGE, "stopReason": "error", "errorMessage": errm,
                   "timestamp": t}, t + rng.randint(200, 1500))
        s.model = rng.choice([m for m in MODELS if m.provider != s.model.provider])
        t += 1600
        s.snapshot(t)
    steps = rng.choices((0, 1, 2, 3, 4, 6, 9), (30, 25, 15, 10, 8, 7, 5))[0]
    for _ in range(steps):
        big = s.big.pop() if s.big else None
        t = tool_step(s, t + rng.randint(5, 400), big)
    content: list[dict[str, Any]] = []
    if s.thinking != "off" and rng.random() < 0.5:
        content.append(s.thinking_block())
    text = g.text(1, 8)
    if rng.random() < 0.25:
        text += "\n\n```\n" + "\n".join(rng.choices(g.pools.code, k=rng.randint(3, 25))) + "\n```"
    if rng.random() < 0.3:
        text += "\n\n" + "\n".join("- " + x for x in rng.choices(g.pools.sentences, k=rng.randint(2, 6)))
    content.append({"type": "text", "text": text})
    t = s.assistant(content, t + rng.randint(5, 400), "stop", rng.randint(30, 1500))
    if s.model.provider == "anthropic":
        s.custom(t + 12, "openclaw.cache-ttl", {"timestamp": t + 11, "provider": s.model.provider,
                                                "modelId": s.model.model})
    if rng.random() < 0.02 and len(s.recent) >= 3:
        rewrite(s, t + rng.randint(50, 3000))
    return t


def rewrite(s: Session, t: int) -> None:
    """Transcript rewrite: move the leaf back and re-append copies of the later messages (new ids and entry
    timestamps, the same `message` objects)."""
    k = s.g.rng.randint(2, min(6, len(s.recent)))
    chunk = s.recent[-k:]
    s.parent = chunk[0][0]
    for i, (_, msg) in enumerate(chunk):
        s.message(msg, t + i * 3, copy=True)


def heartbeat(s: Session, t: int) -> int:
    rng = s.g.rng
    s.user(HEARTBEAT_PROMPT, t)
    t += rng.randint(300, 1500)
    if rng.random() < 0.15:
        t = tool_step_fixed(s, t, "read", {"path": "HEARTBEAT.md"},
                            "# HEARTBEAT\n\n- Check the inbox for anything from Kessler GmbH.\n- Nothing else.\n")
    t = s.assistant([{"type": "text", "text": "HEARTBEAT_OK"}], t, "stop", rng.randint(4, 12))
    s.g.stats.heartbeats += 1
    return t


def tool_step_fixed(s: Session, t: int, tool: str, args: dict[str, Any], result: str) -> int:
    cid = s.call_id(tool, t, 1)
    t = s.assistant([{"type": "toolCall", "id": cid, "name": tool, "arguments": args}], t, "toolUse", 40)
    t += s.g.rng.randint(10, 400)
    s.message({"role": "toolResult", "toolCallId": cid, "toolName": tool,
               "content": [{"type": "text", "text": result}], "isError": False, "timestamp": t}, t + 4)
    return t


def flush_and_compact(s: Session, t: int, stats: Stats, checkpoint: bool) -> int:
    """Pre-compaction memory flush (NO_REPLY) and the compaction entry; optionally the checkpoint copy."""
    g, rng = s.g, s.g.rng
    dt = local(t)
    d = dt.date().isoformat()
    utc = datetime.fromtimestamp(t / 1000, UTC)
    s.user(FLUSH_PROMPT.format(d=d, local=f"{dt:%A, %B %d, %Y - %I:%M %p}", tz=TIMEZONE,
                               utc=f"{utc:%Y-%m-%d %H:%M}"), t)
    t += rng.randint(500, 3000)
    t = tool_step_fixed(s, t, "edit", {"path": f"memory/{d}.md", "oldText": "## Notes\n",
                                       "newText": "## Notes\n" + "\n".join("- " + x for x in
                                                                           rng.choices(g.pools.sentences, k=3))},
                        f"Successfully replaced text in memory/{d}.md.")
    t = s.assistant([{"type": "text", "text": "NO_REPLY"}], t + 200, "stop", 4)
    if checkpoint and s.size < 2 * MB:  # later builds skip the copy above a size cap
        s.f.flush()
        cp = s.path.with_name(f"{s.id}.checkpoint.{g.uuid()}.jsonl")
        shutil.copyfile(s.path, cp)
        os.utime(cp, ns=(t * 1_000_000, t * 1_000_000))
        stats.files["checkpoint"] += 1
        stats.checkpoint_bytes += s.size
    first_kept = s.recent[-4][0] if len(s.recent) >= 4 else None
    t += rng.randint(20_000, 90_000)
    s.entry({"type": "compaction"}, t, {
        "summary": "## Goal\n" + g.text(1, 3) + "\n\n## Progress\n" +
                   "\n".join("- " + x for x in rng.choices(g.pools.sentences, k=rng.randint(3, 10))) +
                   "\n\n## Next steps\n- " + g.text(1, 2),
        "firstKeptEntryId": first_kept or s.last_entry_id,
        "tokensBefore": s.context // 4,
        "details": {"readFiles": ["MEMORY.md", f"memory/{d}.md"], "modifiedFiles": [f"memory/{d}.md"]}})
    s.context = s.context // 10
    stats.compactions += 1
    return t


# --- planning: who is active when, and how many bytes each slot gets ---


def big_payloads(rng: random.Random, total: int) -> list[Big]:
    mb = total / MB
    out = [Big(rng.choice(("exec-log", "json")), int(rng.uniform(18, 22) * MB)) for _ in range(int(mb // 100))]
    out += [Big(rng.choice(("image", "exec-log", "exec-log", "json", "web")), int(rng.uniform(1, 5) * MB))
            for _ in range(round(mb * 0.10 / 3))]
    out += [Big(rng.choice(("image", "exec-log", "web", "read", "json")), int(rng.uniform(0.1, 0.8) * MB))
            for _ in range(round(mb * 0.12 / 0.45))]
    while out and sum(b.size for b in out) > 0.6 * total:  # small corpora: keep most bytes ordinary
        out.remove(max(out, key=lambda b: b.size))
    return out


@dataclass
class Slot:
    agent: int
    day: int
    budget: int = 0
    big: list[Big] = field(default_factory=list)


def plan(rng: random.Random, specs: list[AgentSpec], days: list[date], total: int) -> dict[tuple[int, int], Slot]:
    bigs = big_payloads(rng, total)
    normal = total - int(1.1 * sum(b.size for b in bigs))  # JSON escapes and shown tails add ~10%
    weights: dict[tuple[int, int], float] = {}
    for a, spec in enumerate(specs):
        off = set(rng.sample(range(len(days)), k=min(len(days) - 1, max(0, len(days) // 20))))
        for i, d in enumerate(days):
            if i in off or (spec.channel == "discord" and d.weekday() >= 5 and rng.random() < 0.7):
                continue
            wd = 1.0 if d.weekday() < 5 else 0.45
            weights[(a, i)] = spec.weight * wd * rng.lognormvariate(0, 0.35)
    norm = sum(weights.values())
    slots = {k: Slot(k[0], k[1], int(normal * w / norm)) for k, w in weights.items()}
    keys = sorted(slots)
    for b in bigs:
        slots[rng.choices(keys, [weights[k] for k in keys])[0]].big.append(b)
    return slots


# --- generation ---


class AgentRun:
    """Writes one agent's sessions day by day, keeping its direct-message session open across days."""

    def __init__(self, g: Gen, spec: AgentSpec, sessions_dir: Path, stats: Stats) -> None:
        self.g, self.spec, self.dir, self.stats = g, spec, sessions_dir, stats
        self.dm: Session | None = None
        self.closed: list[tuple[Session, str]] = []  # (session, archive suffix or "")
        self.cron_ids = {name: f"{g.rng.getrandbits(32):08x}" for name, _, _ in spec.crons}

    def new_dm(self, t: int) -> Session:
        rng = self.g.rng
        channel = {"webchat+telegram": rng.choice(("webchat", "telegram", "telegram")),
                   "discord": "discord", "telegram-group": "telegram-group"}[self.spec.channel]
        model = rng.choices(MODELS, (35, 25, 25, 10, 5))[0]
        suffix = f"-topic-{rng.randint(2, 400)}" if channel == "discord" and rng.random() < 0.15 else ""
        return Session(self.g, self.spec, self.dir, t, model, channel,
                       rng.choice(("off", "low", "low", "medium", "high")), suffix)

    def end_dm(self, at: int, reason: str) -> None:
        if self.dm is None:
            return
        self.dm.close()
        self.closed.append((self.dm, f".{reason}.{archive_ts(at)}" if reason else ""))
        self.dm = None

    def day(self, day: date, slot: Slot | None, last_day: date) -> None:
        rng, stats = self.g.rng, self.stats
        if slot is None:  # a day off: the open session idles on (no heartbeats logged while nothing runs)
            return
        if self.dm is not None and rng.random() < 0.45:  # daily rollover at 04:00
            self.end_dm(local_ms(day, 4), "reset")
        n = rng.randint(2, 5)
        hours = sorted(rng.sample(range(7, 23), n))
        if rng.random() < 0.3:
            hours[-1] = 22  # a late burst that runs past midnight
        events: list[tuple[int, str, int]] = [(local_ms(day, h, rng.randint(0, 59)) + rng.randint(0, 59_999),
                                               "burst", i) for i, h in enumerate(hours, 1)]
        if self.spec.heartbeats:
            events += [(local_ms(day, h // 2, 30 * (h % 2)), "heartbeat", 0) for h in range(16, 46)
                       if rng.random() < 0.75]
        events += [(local_ms(day, hour, 0), "cron", i) for i, (_, hour, _) in enumerate(self.spec.crons)]
        events.sort()
        bigs = list(slot.big)
        day_bytes, day_big = stats.transcript_bytes, stats.big_bytes

        def spent() -> int:  # ordinary bytes written today (heartbeats and crons included)
            return stats.transcript_bytes - day_bytes - (stats.big_bytes - day_big)

        for at, kind, arg in events:
            if kind == "cron":
                self.cron(at, arg, day, last_day)
                continue
            if kind == "heartbeat":
                if self.dm is not None and self.dm.t <= at:  # skipped while a run is busy
                    self.dm.t = heartbeat(self.dm, at)
                continue
            target = slot.budget * arg // n
            if not bigs and spent() >= target:
                continue
            if self.dm is None or rng.random() < 0.12:  # first session, or /new in the middle of the day
                start = at if self.dm is None else max(at, self.dm.t + 60_000)
                self.end_dm(start - rng.randint(1000, 50_000), "reset")
                self.dm = self.new_dm(start)
            s = self.dm
            s.big.extend(bigs)
            bigs = []
            t = max(at, s.t)
            if rng.random() < 0.08:  # /model: the next run starts with a snapshot of the new model
                s.model = s.primary = rng.choice([m for m in MODELS if m is not s.model])
                s.snapshot(t)
            while s.big or spent() < target:
                t = turn(s, t) + rng.randint(15_000, 900_000)
                s.t = t
                if s.context > rng.randint(500_000, 900_000):
                    t = s.t = flush_and_compact(s, t, stats, checkpoint=rng.random() < 0.25)

    def cron(self, at: int, index: int, day: date, last_day: date) -> None:
        """A cron run in its own session (reaped after 24 h) and its delivery mirrored into the DM session."""
        rng = self.g.rng
        name, _, prompt = self.spec.crons[index]
        s = Session(self.g, self.spec, self.dir, at, MODELS[1], "cron", "low")
        s.user(f"[cron:{self.cron_ids[name]} {name}] {prompt}", at + 130)
        t = at + 900
        for _ in range(rng.randint(1, 3)):
            t = tool_step(s, t + 50, None)
        text = f"**{name.replace('-', ' ').title()}**\n\n" + "\n".join(
            "- " + x for x in rng.choices(self.g.pools.sentences, k=rng.randint(2, 6)))
        t = s.assistant([{"type": "text", "text": text}], t + 50, "stop", rng.randint(80, 600))
        s.t = t
        s.close()
        reaped = t + 24 * 3_600_000
        self.closed.append((s, f".deleted.{archive_ts(reaped)}" if local(reaped).date() <= last_day else ""))
        if self.dm is not None:
            ts = max(t + 1200, self.dm.t + 10)
            self.dm.pseudo(text, ts, "delivery-mirror")
            self.dm.t = ts + 10

    def finish(self) -> list[tuple[Session, str]]:
        self.end_dm(0, "")
        for s, suffix in self.closed:
            if suffix:
                os.rename(s.path, s.path.with_name(s.path.name + suffix))
                self.stats.files["deleted" if ".deleted." in suffix else "reset"] += 1
            else:
                self.stats.files["active"] += 1
        return self.closed


def write_memory(rng: random.Random, sentences: list[str], memory_dir: Path, counts: Counter[str],
                 days: list[date], stats: Stats) -> None:
    """Daily notes for most active days: covered, sparse (under 5 bytes per message), slugged, or missing."""
    memory_dir.mkdir(parents=True, exist_ok=True)
    (memory_dir / "heartbeat-state.json").write_text('{"lastChecks":{"email":1776063521}}\n')
    (memory_dir / "dreaming" / "light").mkdir(parents=True, exist_ok=True)
    for d in days:
        key = d.isoformat()
        n = counts.get(key, 0)
        fate = rng.choices(("covered", "sparse", "slugged", "missing"), (55, 15, 10, 20))[0]
        if n == 0 and rng.random() < 0.5:
            continue
        if fate == "missing":
            stats.memory_files["missing"] += 1
            continue
        if fate == "sparse":
            body = f"# {key}\n\n- {rng.choice(sentences)}\n"
            (memory_dir / f"{key}.md").write_text(body[: max(40, min(len(body), 2 * n))])
        else:
            lines = [f"# {key}", ""]
            while sum(len(x) for x in lines) < max(1500, 6 * n):
                lines += [f"## {rng.choice(sentences)[:40]}", *("- " + x for x in rng.choices(sentences, k=4)), ""]
            name = f"{key}-{rng.choice(('backup-refactor', 'hiring-plan', '0930', 'staging-incident'))}.md" \
                if fate == "slugged" else f"{key}.md"
            (memory_dir / name).write_text("\n".join(lines))
            if fate == "slugged" and rng.random() < 0.5:
                (memory_dir / f"{key}.md").write_text(f"# {key}\n\n- {rng.choice(sentences)}\n")
            if rng.random() < 0.05:
                (memory_dir / "dreaming" / "light" / f"{key}.md").write_text("## Light Sleep\n- recalled\n")
        stats.memory_files[fate] += 1


def generate(out: Path, size_mb: float, days: int, agents: int, seed: int) -> dict[str, Any]:
    """Write a state dir of about `size_mb` MB of transcripts into `out` (emptied first); return stats."""
    started = time.perf_counter()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    out = out.resolve()
    rng = random.Random(seed)
    stats = Stats()
    g = Gen(rng, stats)
    specs = agent_specs(agents)
    day_list = [END_DAY - timedelta(days=days - 1 - i) for i in range(days)]
    slots = plan(rng, specs, day_list, int(size_mb * MB))
    conf_agents = []
    for a, spec in enumerate(specs):
        sdir = out / "agents" / spec.id / "sessions"
        sdir.mkdir(parents=True)
        (out / "agents" / spec.id / "agent").mkdir()
        run = AgentRun(g, spec, sdir, stats)
        for i, d in enumerate(day_list):
            run.day(d, slots.get((a, i)), day_list[-1])
        sessions = run.finish()
        write_store(out, spec, sdir, sessions, stats)
        ws = out / spec.workspace
        write_memory(rng, g.pools.sentences, ws / "memory", stats.days.get(spec.id, Counter()), day_list, stats)
        for name in ("AGENTS.md", "SOUL.md", "MEMORY.md", "HEARTBEAT.md"):
            (ws / name).write_text(f"# {name[:-3]}\n\n" + g.text(3, 8) + "\n")
        conf_agents.append(f'      {{ id: "{spec.id}", workspace: "{ws}" }},')
    (out / "openclaw.json").write_text(
        "// generated by memory-syncd bench/corpus.py (JSON5, as OpenClaw writes it)\n{\n  agents: {\n"
        f'    defaults: {{ userTimezone: "{TIMEZONE}", model: {{ primary: "anthropic/claude-opus-4-6" }} }},\n'
        "    list: [\n" + "\n".join(conf_agents) + "\n    ],\n  },\n}\n")
    result = summarize(stats, size_mb, days, agents, seed, time.perf_counter() - started)
    (out / ".corpus.json").write_text(json.dumps({k: v for k, v in result.items() if k != "seconds"}, indent=1,
                                                 sort_keys=True))
    return result


def write_store(out: Path, spec: AgentSpec, sdir: Path, sessions: list[tuple[Session, str]], stats: Stats) -> None:
    """sessions.json for the still-active sessions, a backup of it and the live session's write lock."""
    store: dict[str, Any] = {}
    active = [s for s, suffix in sessions if not suffix]
    for s in active:
        if s.channel == "cron":
            key = f"cron:{s.id[:8]}"
        elif s.channel in ("webchat", "telegram"):
            key = f"agent:{spec.id}:main"
        else:
            key = f"agent:{spec.id}:{s.channel.split('-')[0]}:group:{s.id[:8]}"
        store[key] = {"sessionId": s.id, "updatedAt": s.t, "sessionFile": str(s.path), "chatType": "direct",
                      "lastChannel": s.channel, "thinkingLevel": s.thinking, "modelOverride": s.primary.model,
                      "providerOverride": s.primary.provider, "compactionCount": 0, "totalTokens": s.context // 4}
    text = json.dumps(store, indent=2)
    (sdir / "sessions.json").write_text(text)
    (sdir / "sessions.json.bak.1776063521000").write_text(text)
    if active:
        newest = max(active, key=lambda s: s.t)
        (sdir / f"{newest.path.name}.lock").write_text(
            json.dumps({"pid": 4242, "createdAt": iso(newest.t), "starttime": 123456}))
    stats.files["other"] += 3 if active else 2


def summarize(stats: Stats, size_mb: float, days: int, agents: int, seed: int, seconds: float) -> dict[str, Any]:
    return {
        "generator_version": GENERATOR_VERSION,
        "params": {"size_mb": size_mb, "days": days, "agents": agents, "seed": seed, "timezone": TIMEZONE,
                   "end_day": END_DAY.isoformat()},
        "seconds": round(seconds, 2),
        "files": dict(sorted(stats.files.items())),
        "transcript_files": stats.files["active"] + stats.files["reset"] + stats.files["deleted"],
        "transcript_bytes": stats.transcript_bytes,
        "checkpoint_bytes": stats.checkpoint_bytes,
        "lines": stats.lines,
        "message_entries": stats.message_entries,
        "messages": stats.message_entries - stats.rewrite_copies,
        "rewrite_copies": stats.rewrite_copies,
        "roles": dict(sorted(stats.roles.items())),
        "heartbeats": stats.heartbeats,
        "compactions": stats.compactions,
        "big_results": stats.big_results,
        "big_bytes": stats.big_bytes,
        "max_line_bytes": stats.max_line,
        "memory_files": dict(sorted(stats.memory_files.items())),
        "days": {a: dict(sorted(c.items())) for a, c in sorted(stats.days.items())},
    }


def iter_summary(result: dict[str, Any]) -> Iterator[str]:
    for k, v in result.items():
        if k == "days":
            yield f"days: {sum(len(c) for c in v.values())} agent-days with messages"
        else:
            yield f"{k}: {v}"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("out", type=Path, help="state dir to (re)create")
    p.add_argument("--size-mb", type=float, default=300.0, help="transcript bytes to write, in 10^6 bytes")
    p.add_argument("--days", type=int, default=60)
    p.add_argument("--agents", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args(argv)
    if a.days < 2 or a.agents < 1 or a.size_mb <= 0:
        p.error("need --days >= 2, --agents >= 1 and a positive --size-mb")
    result = generate(a.out, a.size_mb, a.days, a.agents, a.seed)
    for line in iter_summary(result):
        print(line, file=sys.stderr)


if __name__ == "__main__":
    main()
