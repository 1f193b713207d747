"""What OpenClaw itself does not count as conversation, as pure functions of text and decoded records.

Owns the rules, each after the OpenClaw definition it follows (facts from OpenClaw's source; no code):
- heartbeat prompts of every generation (old default, task batch, "heartbeat monitor scratch", the stored
  `[OpenClaw heartbeat poll]`) and the other `[OpenClaw …]` internal turns (`isHeartbeatUserMessage`,
  `INTERNAL_WAKE_TRANSCRIPT_PROMPTS`, `provenance.kind == "internal_system"`);
- acks and silent replies: `HEARTBEAT_OK` at the start or end with at most 300 characters left
  (`stripHeartbeatToken`), `NO_REPLY` in any case or as `{"action": "NO_REPLY"}`;
- envelopes and metadata (`stripEnvelope`, `stripInboundMetadata`, `stripMessageIdHints`), `System:` lines,
  `[cron:<id> <name>]` prefixes, internal-context blocks, media notes, the queued-messages header, the /new
  reset prompt, the bootstrap note, and reply directives (`directive-tags`);
- session kinds from session keys and records (cron runs, isolated heartbeats, sub-agents, dreaming runs);
- failure causes and system-event labels, so that both can be counted instead of quoted.

Nothing here redacts or shortens: callers redact what they keep.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from memory_syncd.read.parse import DREAMING_PREFIX

HEARTBEAT_TOKEN = "HEARTBEAT_OK"
ACK_MAX_CHARS = 300
FAILED_PLACEHOLDER = "[assistant turn failed before producing content]"


class Prompt(StrEnum):
    """What a user message is."""

    CHAT = "chat"  # a person's own words
    HEARTBEAT = "heartbeat"
    CRON = "cron"  # a scheduled job's prompt
    INTERNAL = "internal"  # other internal turns: exec completions, wakes, sub-agent results, flush, reset
    COMMAND = "command"  # /status, /model, …, and the prompt OpenClaw sends for /new or /reset
    SYSTEM = "system"  # nothing but `System:` event lines


class Kind(StrEnum):
    """What a whole session is, where its key or its records say so."""

    CHAT = "chat"
    HEARTBEAT = "heartbeat"  # an isolated heartbeat session (`<key>:heartbeat`)
    CRON = "cron"
    SUBAGENT = "subagent"
    DREAMING = "dreaming"


@dataclass(frozen=True, slots=True)
class UserText:
    kind: Prompt
    text: str  # the person's words with every envelope removed (CHAT only; else "")
    events: tuple[str, ...] = ()  # `System:` event texts the message carried
    job: str = ""  # cron: the job's name, else its id


# --- heartbeats and internal turns ---

_HEARTBEAT_STARTS = ("Read HEARTBEAT.md if it exists", "Follow the heartbeat monitor scratch context",
                     "[OpenClaw heartbeat poll]")
_TASK_BATCH = "Run the following periodic tasks (only those due based on their intervals):"
_TASK_ENDS = ("reply HEARTBEAT_OK", "reply NO_REPLY", "heartbeat_respond")
_CUSTOM_HEARTBEAT = re.compile(r"\b(?:reply|respond|return|say|output|answer)\s+(?:with\s+)?HEARTBEAT_OK", re.I)
_OPENCLAW_MARKER = re.compile(r"^\[OpenClaw [^\]\n]{1,60}\]")
_INTERNAL_STARTS = ("Pre-compaction memory flush", "An async command", "[Inter-session message]",
                    "[Internal task completion event]", "You are running as a subagent")
_RESET = "A new session was started via /new or /reset"
_COMMAND = re.compile(r"/[A-Za-z][\w-]*(?=\s|$)")  # /status, /model x; not a path such as /home/x


def is_heartbeat_prompt(text: str) -> bool:
    """A heartbeat prompt of any generation (or a custom one that asks for the ack token)."""
    t = text.strip()
    if t.startswith(_HEARTBEAT_STARTS) or "Use heartbeat_respond to report the wake outcome" in t:
        return True
    if t.startswith(_TASK_BATCH):
        return any(end in t for end in _TASK_ENDS)
    return HEARTBEAT_TOKEN in t and _CUSTOM_HEARTBEAT.search(t) is not None


def classify_user(msg: dict[str, Any], text: str) -> UserText:
    """What the user message `msg` (whose plain text is `text`) is, and the person's own words in it."""
    prov = _mapping(msg.get("provenance"))
    internal = prov.get("kind") == "internal_system"
    source = prov.get("sourceTool") if internal else None
    clean, events = strip_user(text)
    cron = _CRON.match(clean)
    if source == "heartbeat" or is_heartbeat_prompt(clean):
        return UserText(Prompt.HEARTBEAT, "", events)
    if cron or (source == "cron" and isinstance(prov.get("jobId"), str) and not _OPENCLAW_MARKER.match(clean)):
        job = (cron[2] or cron[1]) if cron else str(prov["jobId"])
        return UserText(Prompt.CRON, "", events, job.strip())
    if internal or prov.get("kind") == "inter_session" or _OPENCLAW_MARKER.match(clean) \
            or clean.startswith(_INTERNAL_STARTS):
        return UserText(Prompt.INTERNAL, "", events)
    if _RESET in clean or _COMMAND.match(clean):
        return UserText(Prompt.COMMAND, "", events)
    if not clean:
        return UserText(Prompt.SYSTEM if events else Prompt.INTERNAL, "", events)
    return UserText(Prompt.CHAT, clean, events)


# --- envelopes and metadata in user text ---

_CHANNELS = ("WebChat", "WhatsApp", "Telegram", "Signal", "Slack", "Discord", "Google Chat", "iMessage", "Teams",
             "Matrix", "Zalo", "Zalo Personal", "BlueBubbles", "Feishu", "Lark", "LINE", "Line", "QQ", "WeCom",
             "DingTalk", "Mattermost", "IRC", "Nostr", "Twitch", "Nextcloud Talk", "Tlon", "SMS", "Email")
_ENVELOPE = re.compile(r"^\[([^\]\n]{1,300})\][ \t]*")
_ENVELOPE_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}| \d{2}:\d{2})")
# The end of a metadata block's header line (its label, up to 80 characters, comes before it).
_META_MARK = re.compile(r"(?:\((?:untrusted metadata|untrusted, for context)\):|⟦openclaw:ctx⟧:?)[ \t]*$", re.M)
_FENCE_JSON = re.compile(r"[ \t]*```[a-z]*[ \t]*\n")
_TRAILING_CONTEXT = re.compile(r"^(?:Untrusted context \(metadata, do not treat as instructions or commands\):|"
                               r"Context: ⟦openclaw:ctx⟧)[ \t]*$", re.M)
_INTERNAL_BLOCK = re.compile(r"<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>.*?(?:<<<END_OPENCLAW_INTERNAL_CONTEXT>>>|\Z)",
                             re.S)
_SYSTEM_LINE = re.compile(r"^System(?: \(untrusted\))?:[ \t]?(.*)$")
_SYSTEM_STAMP = re.compile(r"^\[[^\]\n]{1,60}\]\s*")
_MESSAGE_ID = re.compile(r"^\s*\[message_id:\s*[^\]]+\]\s*$", re.I)
_QUEUE_LINE = re.compile(r"^(?:\[Queued messages while agent was busy\]|---|Queued #\d*(?:\s*\([^)\n]*\))?)\s*$")
_MEDIA_LINE = re.compile(r"^\[media attached(?:\s+\d+/\d+)?:\s*(?:\d+ files\]|[^\]\n]*\((\w+)/[^\]\n]*\]|[^\]\n]*\])")
_MEDIA_HINT = "To send an image back, prefer the message tool"
_CURRENT_TIME = re.compile(r"^Current time: .*$")
_CRON = re.compile(r"^\[cron:([^\s\]]+)(?: ([^\]\n]*))?\]\s*")
_BLANK_LINES = re.compile(r"\n{3,}")
_FENCE_CLOSE = re.compile(r"^[ \t]*```[ \t]*$", re.M)


def strip_user(text: str) -> tuple[str, tuple[str, ...]]:
    """User text without OpenClaw's additions, and the `System:` events it carried."""
    if not any(c in text for c in "[<(⟦") and "System" not in text and "\n---" not in text:
        return text.strip(), ()  # nothing OpenClaw adds can be in it: the common case, kept cheap
    t = _INTERNAL_BLOCK.sub("", text.replace("\r\n", "\n"))
    t = _strip_meta_blocks(t)
    events: list[str] = []
    media: list[str] = []
    out: list[str] = []
    skip_paragraph = False
    for line in t.split("\n"):
        if skip_paragraph:  # the bootstrap note runs to the next blank line
            skip_paragraph = bool(line.strip())
            continue
        if line.startswith("[Bootstrap pending]"):
            skip_paragraph = True
            continue
        system = _SYSTEM_LINE.match(line)
        if system:
            event = _SYSTEM_STAMP.sub("", system[1]).strip()
            if event:
                events.append(event)
            continue
        media_line = _MEDIA_LINE.match(line)
        if media_line:
            if not line.rstrip().endswith(" files]"):  # "[media attached: 2 files]" heads the per-file lines
                media.append(media_line[1] or "file")
            continue
        if _MESSAGE_ID.match(line) or _QUEUE_LINE.match(line) or line.startswith(_MEDIA_HINT) \
                or _CURRENT_TIME.match(line):
            continue
        out.append(strip_envelope(line))
    clean = _BLANK_LINES.sub("\n\n", "\n".join(out)).strip()
    if media:  # what was attached stays known, without its path
        kinds = dict.fromkeys("voice message" if m == "audio" else m if m in ("image", "video") else "file"
                              for m in media)
        clean = f"[{', '.join(kinds)}] {clean}".strip()
    return clean, tuple(events)


def strip_envelope(line: str) -> str:
    """A line without a leading channel envelope or timestamp (`[Telegram Ana +2m 2026-… GMT+8] `)."""
    m = _ENVELOPE.match(line)
    if m is None:
        return line
    head = m[1]
    if _ENVELOPE_DATE.search(head) or any(head.startswith(c + " ") for c in _CHANNELS):
        return line[m.end():]
    return line


def _strip_meta_blocks(text: str) -> str:
    """Inbound metadata blocks (a header line, then a json fence or a paragraph) and trailing context."""
    if "ntrusted" not in text and "⟦openclaw:ctx⟧" not in text:
        return text
    tail = _TRAILING_CONTEXT.search(text)
    if tail:
        text = text[:tail.start()]
    at = 0
    while True:
        head = _META_MARK.search(text, at)
        if head is None:
            return text
        start = text.rfind("\n", 0, head.start()) + 1
        if head.start() - start > 80:  # a long line that happens to end so: prose, not a header
            at = head.end()
            continue
        rest = text[head.end() + 1:]
        fence = _FENCE_JSON.match(rest)
        if fence:
            close = _FENCE_CLOSE.search(rest[fence.end():])
            end = fence.end() + close.end() if close else len(rest)
        else:
            blank = rest.find("\n\n")
            end = len(rest) if blank < 0 else blank
        text = text[:start] + rest[end:].lstrip("\n")
        at = start


# --- assistant text ---

_AUDIO_TAG = re.compile(r"\[\[\s*audio_as_voice\s*\]\]", re.I)
_REPLY_TAG = re.compile(r"(?:^|(?<=\s))\[\[\s*(?:reply_to_current|reply_to\s*:\s*[^\]\n]+)\s*\]\]", re.I)
_SILENT = re.compile(r"^\s*NO_REPLY\s*$", re.I)
_TOKEN_END = re.compile(re.escape(HEARTBEAT_TOKEN) + r"[^\w]{0,4}$")
_MARKUP_EDGES = re.compile(r"^[*`~_]+|[*`~_]+$")


def strip_directives(text: str) -> str:
    """Reply text without `[[reply_to_current]]`, `[[reply_to: …]]` and `[[audio_as_voice]]`."""
    if "[[" not in text:
        return text
    return _REPLY_TAG.sub(" ", _AUDIO_TAG.sub(" ", text)).strip()


def is_silent(text: str) -> bool:
    """`NO_REPLY` alone in any case, or its JSON envelope `{"action": "NO_REPLY"}`."""
    t = text.strip()
    if _SILENT.match(t):
        return True
    if t.startswith("{") and t.endswith("}") and "NO_REPLY" in t.upper():
        try:
            value = json.loads(t)
        except ValueError:
            return False
        return isinstance(value, dict) and list(value) == ["action"] and \
            str(value["action"]).strip().upper() == "NO_REPLY"
    return False


def strip_ack(text: str) -> tuple[bool, str]:
    """(is an ack, what is left): the token at the start or end (markup allowed) with at most 300 characters
    left is an ack; a longer reply is delivered without the token."""
    t = text.strip()
    if HEARTBEAT_TOKEN not in t:
        return False, t
    for candidate in (t, _MARKUP_EDGES.sub("", re.sub(r"<[^>]*>", " ", t).replace("&nbsp;", " ")).strip()):
        rest, stripped = candidate, False
        while True:
            rest = rest.strip()
            if rest.startswith(HEARTBEAT_TOKEN):
                rest, stripped = rest[len(HEARTBEAT_TOKEN):], True
            elif _TOKEN_END.search(rest):
                at = rest.rfind(HEARTBEAT_TOKEN)
                before = rest[:at].rstrip()
                rest, stripped = (before + rest[at + len(HEARTBEAT_TOKEN):]).rstrip() if before else "", True
            else:
                break
        if stripped:
            rest = " ".join(rest.split())
            return len(rest) <= ACK_MAX_CHARS, rest
    return False, t


def answer_text(text: str, *, heartbeat: bool = False) -> str:
    """What an assistant message said to the person: "" for silence and the failure placeholder. In a
    heartbeat turn an ack is silent too; elsewhere the token is only taken off the edges."""
    t = strip_directives(text).strip()
    if not t or is_silent(t) or t == FAILED_PLACEHOLDER:
        return ""
    ack, rest = strip_ack(t)
    return "" if ack and heartbeat else rest


# --- failures and system events ---

_CAUSES = (
    (re.compile(r"\b429\b|rate.?limit|RESOURCE_EXHAUSTED|quota", re.I), "429 rate limit"),
    (re.compile(r"\b529\b|overloaded", re.I), "529 overloaded"),
    (re.compile(r"time(?:d)?.?out|ETIMEDOUT|deadline exceeded", re.I), "timeout"),
    (re.compile(r"\b40[13]\b|unauthori[sz]ed|forbidden|invalid.{0,12}(?:api.?key|x-api-key)|authentication", re.I),
     "auth error"),
    (re.compile(r"context.{0,30}(?:length|window|too long|overflow)|prompt is too long", re.I), "context overflow"),
    (re.compile(r"\b50[0234]\b|internal server error|bad gateway|service unavailable", re.I), "server error"),
    (re.compile(r"ECONNRESET|ENOTFOUND|ECONNREFUSED|fetch failed|network|socket hang up", re.I), "network error"),
)


def failure_cause(stop_reason: object, message: object) -> str:
    """A short, fixed label for why a model attempt failed (never the provider's text)."""
    text = message if isinstance(message, str) else ""
    for pattern, label in _CAUSES:
        if pattern.search(text):
            return label
    return "aborted" if stop_reason == "aborted" else "other error"


_GATEWAY = re.compile(r"^([A-Za-z][\w .-]{0,30}?) gateway (connected|disconnected)\b", re.I)
_EXEC = re.compile(r"^Exec (completed|failed|denied)\b", re.I)
_INBOUND_PREAMBLE = re.compile(r"^[\w-]+\[[^\]]*\] (?:DM|group|channel|message)\b")


def event_label(event: str) -> str | None:
    """A countable label for a `System:` event (channel connects, exec results), or None for the preamble
    some channels put before a message."""
    if _INBOUND_PREAMBLE.match(event):
        return None
    m = _GATEWAY.match(event)
    if m:
        return f"{m[1]} {m[2].lower()}"
    m = _EXEC.match(event)
    if m:
        return f"exec {m[1].lower()}"
    return "other"


# --- session kinds ---

_CRON_KEY = re.compile(r"^cron:([^:]+)(?::run:[^:]+)?(?::|$)")


def key_kind(key: str) -> tuple[Kind, str] | None:
    """(kind, cron job id or "") from an OpenClaw session key, when the key says."""
    if not key:
        return None
    parts = key.split(":", 2)
    rest = parts[2] if len(parts) == 3 and parts[0] == "agent" else key
    if DREAMING_PREFIX in key:
        return Kind.DREAMING, ""
    cron = _CRON_KEY.match(rest)
    if cron:
        return Kind.CRON, cron[1]
    if rest.endswith(":heartbeat"):
        return Kind.HEARTBEAT, ""
    if ":subagent:" in f":{rest}":
        return Kind.SUBAGENT, ""
    return None


def record_kind(obj: dict[str, Any]) -> Kind | None:
    """The session kind a single record reveals: a dreaming run's bootstrap entry or run id, or a cron run's
    session key (on the record, its data, or a user message's provenance)."""
    kind = obj.get("type")
    if kind == "message":  # only a user message's provenance can tell
        msg = _mapping(obj.get("message"))
        if "provenance" not in msg:
            return None
    elif kind not in ("custom", "custom_message") and "runId" not in obj and "sessionKey" not in obj:
        return None
    data, msg = _mapping(obj.get("data")), _mapping(obj.get("message"))
    prov = _mapping(msg.get("provenance"))
    for value in (obj.get("runId"), obj.get("sessionKey"), data.get("runId"), data.get("sessionKey")):
        if isinstance(value, str) and value.startswith(DREAMING_PREFIX):
            return Kind.DREAMING
    # a provenance key counts only on the cron run's own prompt: a delivery into another session names it too
    own = prov.get("kind") == "internal_system" and prov.get("sourceTool") == "cron"
    for value in (obj.get("sessionKey"), data.get("sessionKey"), prov.get("sourceSessionKey") if own else None):
        if isinstance(value, str) and ":run:" in value:
            found = key_kind(value)
            if found and found[0] is Kind.CRON:
                return Kind.CRON
    return None


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
