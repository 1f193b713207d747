"""The optional LLM narrative of a day, through the Anthropic SDK (imported lazily: everything else works
without it).

Owns the summary input (built from a redacted DaySnapshot, so the model sees the same clean day as the
block: noise already out, scheduled work, failures and system events as counts, user requests first), the
prompt, chunking of days too big for one request, and the per-day record in the state dir
(`summaries/<agent>/<day>.json`: input hash, text or error, when) that makes a re-run with unchanged input
free and makes the nightly job run once per day however often it fires.

Invariants: the request body is built only from redacted text and passed through `redact` once more
before sending; a day without a single exchange (nothing but heartbeats or scheduled runs) is never sent;
a failure leaves the memory file as it was (the text is stored only on success, and the block is
re-rendered from the store).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from memory_syncd import statefile
from memory_syncd.config import LLMConfig
from memory_syncd.content.assemble import DaySnapshot
from memory_syncd.errors import LLMUnavailable, UsageError
from memory_syncd.read.ingest import AgentIndex
from memory_syncd.read.parse import DayClock
from memory_syncd.redact import redact
from memory_syncd.scope import Target
from memory_syncd.text import clip, one_line
from memory_syncd.write import writer
from memory_syncd.write.narratives import record, record_path

PROMPT_VERSION = "2"  # the input now carries scheduled work and failures as counts
MAX_RETRY_WAIT = 60.0  # seconds; the SDK otherwise sleeps as long as a 429/529's retry-after asks, even hours
SYSTEM = (
    "You write the daily memory of an AI agent. A future session of the same agent will read your text at "
    "start-up, knowing nothing else about this day. Write a compact narrative in Markdown (no title): "
    "what the user asked for and what was done, decisions made and why, facts learned (names, numbers, "
    "identifiers, paths), people and projects involved, model switches, and open threads or follow-ups. "
    "Prefer concrete details over generalities. Never invent anything that is not in the notes. "
    "Secrets appear as [REDACTED-…]; keep them redacted."
)
CHUNK_PROMPT = "Notes on part {i} of {n} of the day {day}. Summarize this part as terse bullet notes:\n\n{text}"
DAY_PROMPT = "Transcript notes of {day} ({weekday}). Write the day's memory.\n\n{text}"
COMBINE_PROMPT = "Notes on the parts of {day} ({weekday}), in order. Write the day's memory from them.\n\n{text}"

Send = Callable[[str, str], str]  # (system, user message) -> reply text


@dataclass(frozen=True)
class Outcome:
    day: date
    text: str | None
    skipped: bool  # input unchanged since the last successful summary: no request made
    requests: int


def input_text(snap: DaySnapshot) -> str:
    """The day as plain text for the model: requests first, then exchanges, scheduled work, failures,
    switches, tools and files."""

    def hm(ts: int) -> str:
        return snap.local(ts).strftime("%H:%M")

    out = [f"Agent: {snap.agent}; {snap.messages} messages; time zone {snap.zone}"]
    requests = [f"- {hm(t.ts_ms)} {t.request}" for t in snap.turns if t.request]
    if requests:
        out += ["", "User requests:", *requests]
    out += ["", "Exchanges:"]
    for t in snap.turns:
        if t.request:
            out.append(f"[{hm(t.ts_ms)}] user: {t.request}")
        for a in t.answers:
            out.append(f"[{hm(t.ts_ms)}] agent: {a}")
        if t.tools:
            out.append(f"[{hm(t.ts_ms)}] tools: {', '.join(t.tools)}")
    background = _background(snap, hm)
    if background:
        out += ["", "Scheduled and background work:", *background]
    if snap.switches:
        out += ["", "Model switches:"] + [f"- {hm(ts)} {a} -> {b}" for ts, _, a, b in snap.switches]
    if snap.files:
        out += ["", "Files touched:"] + [f"- {p} ({', '.join(h)})" for p, h in snap.files]
    if snap.commands:
        out += ["", "Commands run:"] + [f"- {c}" for c in snap.commands]
    return "\n".join(out)


def _background(snap: DaySnapshot, hm: Callable[[int], str]) -> list[str]:
    bg, out = snap.background, []
    if bg.heartbeats:
        out.append(f"- heartbeats: {bg.heartbeats} checks, {bg.delivered} delivered something")
    out += [f"- cron job {j.name}: {len(j.runs)} runs ({', '.join(hm(t) for t in j.runs[:6])}), last {j.outcome}"
            for j in bg.jobs]
    if bg.dreams:
        out.append(f"- dreaming: {len(bg.dreams)} runs")
    if bg.subagents:
        out.append(f"- sub-agents: {len(bg.subagents)} runs")
    if snap.failures:
        out.append("- failed turns: " + ", ".join(f"{cause} x{n}" for cause, n in snap.failures))
    if snap.events:
        out.append("- system events: " + ", ".join(f"{label} x{n}" for label, n in snap.events))
    return out


def chunks(text: str, budget: int) -> list[str]:
    """Split on line boundaries into pieces of at most `budget` characters (a longer line is cut)."""
    parts: list[str] = []
    cur: list[str] = []
    size = 0
    for line in text.split("\n"):
        while len(line) > budget:
            parts.extend(["\n".join(cur)] if cur else [])
            cur, size = [], 0
            parts.append(line[:budget])
            line = line[budget:]
        if size + len(line) + 1 > budget and cur:
            parts.append("\n".join(cur))
            cur, size = [], 0
        cur.append(line)
        size += len(line) + 1
    if cur:
        parts.append("\n".join(cur))
    return parts


def summarize(snap: DaySnapshot, cfg: LLMConfig, send: Send, store_dir: Path, *, force: bool = False) -> Outcome:
    """Summarize the day unless its input is unchanged since the last success; store and return the text.
    A day without any exchange is not sent: its record says so, and the nightly job does not retry it."""
    text = redact(input_text(snap))
    digest = hashlib.sha256(f"{PROMPT_VERSION}\0{cfg.model}\0{text}".encode()).hexdigest()
    path = record_path(store_dir, snap.agent, snap.day)
    old = statefile.read_json(path)
    if not snap.turns:
        if not (isinstance(old, dict) and old.get("text")):  # never replace a good summary
            record(store_dir, snap.agent, snap.day, {"hash": digest, "text": None, "error": None,
                                                     "empty": True, "attempts": MAX_ATTEMPTS})
        return Outcome(snap.day, None, False, 0)
    if not force and isinstance(old, dict) and old.get("hash") == digest and old.get("text"):
        if float(old.get("at", 0) or 0) < day_end(snap.day, snap.zone) <= time.time():
            # made while the day was still going, and nothing came after: it is the final one after all
            record(store_dir, snap.agent, snap.day, {k: v for k, v in old.items() if k not in ("day", "at")})
        return Outcome(snap.day, str(old["text"]), True, 0)
    weekday = snap.day.strftime("%A")
    pieces = chunks(text, cfg.input_budget_chars)
    try:
        if len(pieces) == 1:
            summary = send(SYSTEM, DAY_PROMPT.format(day=snap.day, weekday=weekday, text=pieces[0]))
            n = 1
        else:
            notes = [send(SYSTEM, CHUNK_PROMPT.format(i=i + 1, n=len(pieces), day=snap.day, text=p))
                     for i, p in enumerate(pieces)]
            # Every part gets an even share of the budget, so the end of the day is not cut off.
            share = max(80, cfg.input_budget_chars // len(notes) - len(f"Part {len(notes)}:\n\n\n"))
            joined = "\n\n".join(f"Part {i + 1}:\n{clip(t.strip(), share)}" for i, t in enumerate(notes))
            summary = send(SYSTEM, COMBINE_PROMPT.format(day=snap.day, weekday=weekday, text=joined))
            n = len(pieces) + 1
        if not summary.strip():  # stored as a success it would leave the day without one, retried hourly
            raise LLMUnavailable("the model replied without any text")
    except LLMUnavailable as e:
        if not (isinstance(old, dict) and old.get("text")):  # never replace a good summary by a failure
            attempts = int(old.get("attempts", 0) or 0) + 1 if isinstance(old, dict) else 1
            record(store_dir, snap.agent, snap.day,
                   {"hash": None, "text": None, "error": str(e), "attempts": attempts})
        raise
    summary = redact(summary.strip())
    record(store_dir, snap.agent, snap.day, {"hash": digest, "text": summary, "error": None, "model": cfg.model})
    return Outcome(snap.day, summary, False, n)


def check_available(env: Mapping[str, str]) -> None:
    """Raise LLMUnavailable naming what is missing: the package, or the key."""
    # Looked up, not imported: the SDK costs tens of MB, and the daemon needs it only once a night.
    present = (sys.modules["anthropic"] is not None if "anthropic" in sys.modules
               else importlib.util.find_spec("anthropic") is not None)
    if not present:
        raise LLMUnavailable("LLM summaries need the anthropic package: pip install 'memory-syncd[llm]'")
    if not (env.get("ANTHROPIC_API_KEY") or env.get("ANTHROPIC_AUTH_TOKEN")):
        raise LLMUnavailable("LLM summaries need an API key: set ANTHROPIC_API_KEY")


def anthropic_sender(cfg: LLMConfig, env: Mapping[str, str] | None = None) -> Send:
    """A `Send` backed by the real SDK. It honours ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL, and retries
    429/529 and other transient failures itself with backoff (`max_retries`), each try bounded by the
    configured timeout and each wait by MAX_RETRY_WAIT. Every failure is raised as LLMUnavailable."""
    env = os.environ if env is None else env
    check_available(env)
    made: list[Any] = []  # the client, created on the first request

    def send(system: str, user: str) -> str:
        try:
            import anthropic
        except ImportError:
            raise LLMUnavailable("LLM summaries need the anthropic package: pip install 'memory-syncd[llm]'") from None
        if not made:
            made.append(anthropic.Anthropic(
                timeout=cfg.timeout_seconds, max_retries=cfg.max_retries,
                http_client=anthropic.DefaultHttpxClient(event_hooks={"response": [_cap_retry_wait]})))
        client = made[0]
        try:
            msg = client.messages.create(model=cfg.model, max_tokens=cfg.max_tokens, system=system,
                                         messages=[{"role": "user", "content": redact(user)}])
        except anthropic.APIStatusError as e:
            raise LLMUnavailable(f"Anthropic API error {e.status_code}: {_api_message(e.body, e.message)}"
                                 + (" (check ANTHROPIC_API_KEY)" if e.status_code == 401 else "")) from None
        except anthropic.APIConnectionError as e:
            raise LLMUnavailable(f"cannot reach the Anthropic API: {one_line(e, 200)}") from None
        except (anthropic.APIError, ValueError) as e:  # a 200 that is no Messages reply (a proxy's page)
            raise LLMUnavailable(f"unreadable reply from the Anthropic API: {one_line(e, 200)}") from None
        blocks = msg.content if isinstance(msg.content, list) else []
        return "".join(getattr(b, "text", "") for b in blocks)

    return send


def _cap_retry_wait(response: Any) -> None:
    """httpx response hook: shorten a retry-after wait the SDK would honour in full to MAX_RETRY_WAIT."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = response.headers.get(name)
        if value is None:
            continue
        try:
            wait = float(value) * scale
        except ValueError:  # an HTTP date: take it as long
            wait = MAX_RETRY_WAIT
        response.headers["retry-after-ms"] = str(int(max(0.0, min(wait, MAX_RETRY_WAIT)) * 1000))
        return


def _api_message(body: object, fallback: str) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return one_line(f"{error.get('type', 'error')}: {error['message']}", 200)
    return one_line(fallback, 200)




# --- the commands' entry points ---


def summarize_day(target: Target, v: writer.AgentView, day: date, send: Send, *,
                  force: bool = False) -> Outcome:
    """Ask the LLM for the day's narrative (skipped when its input is unchanged) and store it."""
    return summarize(writer.snapshot(target, v, day), target.cfg.llm, send, target.state_dir, force=force)


def summarize_and_write(target: Target, indexes: list[AgentIndex], day: date, send: Send, *,
                        write: bool, force: bool = False) -> list[tuple[str, Outcome, writer.DayResult | None]]:
    """`memory-syncd summarize`: the narrative of `day` for each agent with messages that day, stored and
    (with `write`) rendered into the day's block. Raise UsageError if no agent has messages that day."""
    out: list[tuple[str, Outcome, writer.DayResult | None]] = []
    for idx in indexes:
        v = writer.view(target, idx, only=day)
        if day not in v.days:
            continue
        outcome = summarize_day(target, v, day, send, force=force)
        out.append((idx.agent.id, outcome, writer.write_day(target, v, day) if write else None))
    if not out:
        raise UsageError(f"no session messages on {day.isoformat()}; nothing to summarize")
    return out


# --- when the nightly summary is due ---
#
# A day is summarized once it has a successful record made after the day ended, and never again by the
# nightly path (a summary asked for while the day was still going, by `summarize --date` or `backfill
# --today --summarize`, does not cover its end: the nightly path makes the final one).

CATCH_UP_DAYS = 3  # after a longer absence, older days are left to `backfill --summarize`
MAX_ATTEMPTS = 3
RETRY_SECONDS = 3600.0


def due(now: datetime, slot: dt.time, days_with_messages: Iterable[date],
        record: Callable[[date], dict[str, Any] | None]) -> list[date]:
    """Days (oldest first) whose summary should be made now.

    `now` is local time. The previous day becomes due once today's slot has passed; up to CATCH_UP_DAYS
    days back are caught up. A day with a successful record made after its end is done; a failed one is
    retried after RETRY_SECONDS, at most MAX_ATTEMPTS times. A record made before the day ended counts
    as none."""
    today = now.date()
    newest = today - timedelta(days=1) if now.time() >= slot else today - timedelta(days=2)
    window = {newest - timedelta(days=i) for i in range(CATCH_UP_DAYS)}
    out = []
    for day in sorted(set(days_with_messages) & window):
        rec = record(day)
        if rec is None or float(rec.get("at", 0) or 0) < day_end(day, now.tzinfo or UTC):
            out.append(day)
            continue
        if rec.get("text"):
            continue
        attempts = int(rec.get("attempts", 1) or 1)
        if attempts < MAX_ATTEMPTS and now.timestamp() - float(rec.get("at", 0) or 0) >= RETRY_SECONDS:
            out.append(day)
    return out


def day_end(day: date, zone: tzinfo) -> float:
    """The epoch time at which local `day` is over."""
    return DayClock(zone).midnight_ms(day + timedelta(days=1)) / 1000
