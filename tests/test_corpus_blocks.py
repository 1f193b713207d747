"""The fixture corpus (tests/data/corpus: two OpenClaw generations of invented, real-shaped sessions) read and
rendered day by day as `backfill` does: no block holds a noise marker, no exchange line repeats, the
sections say only what they are for, facts survive and scheduled runs are never quoted, a heartbeat day is a
line or two, a busy day stays under 12 KB, `transitions` lists the real answering-model switches, and the
LLM sees the same clean day (or nothing, for a day of heartbeats)."""

from __future__ import annotations

import filecmp
import json
import re
import sys
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fixtures_openclaw import index, refresh

from memory_syncd import summarize
from memory_syncd.config import LLMConfig
from memory_syncd.content import assemble as content
from memory_syncd.content import render
from memory_syncd.content.assemble import DaySnapshot
from memory_syncd.content.facts import is_identifier, near_key, statement
from memory_syncd.read.index import transitions_of
from memory_syncd.read.ingest import AgentIndex
from memory_syncd.read.sessionmeta import from_sessions_json
from memory_syncd.write import narratives

CORPUS = Path(__file__).resolve().parent / "data" / "corpus"
EXPECTED: dict[str, Any] = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
BUDGET = 24 * 1024
MARKERS = [  # every noise marker named by the issue, in the shapes the corpus holds them
    "HEARTBEAT_OK", "HEARTBEAT.md", "NO_REPLY", "no_reply", "heartbeat poll", "[OpenClaw ", "heartbeat monitor",
    "Run the following periodic tasks", "Read HEARTBEAT", "System: [", "System (untrusted)", "[Telegram ",
    "[WhatsApp ", "[Slack ", "Feishu[", "[message_id:", "[[reply_to", "[[audio_as_voice", "(untrusted metadata)",
    "untrusted, for context", "Untrusted context (metadata", "⟦openclaw:ctx⟧", "EXTERNAL_UNTRUSTED", "[Bootstrap",
    "Please read BOOTSTRAP.md", "[Queued messages", "Queued #", "A new session was started",
    "OPENCLAW_INTERNAL_CONTEXT", "[Internal task completion", "[media attached", "To send an image back",
    "[cron:", "[assistant turn failed", "This turn ended before a reply", "Pre-compaction memory flush",
    "An async command", "Current time:", "dreaming-narrative", "/status", "Clawdbot 2026.1.24",
    "[Inter-session message]", '{"action"', "<b>", "rate_limit_error", "RESOURCE_EXHAUSTED",
]


def agent_days(generation: str) -> Iterator[tuple[str, AgentIndex, ZoneInfo]]:
    zone = EXPECTED[generation]["zone"]
    for agent in EXPECTED[generation]["agents"]:
        idx = index(CORPUS / generation / "agents" / agent / "sessions", zone=zone)
        refresh(idx)
        yield agent, idx, ZoneInfo(zone)


def snapshots(generation: str) -> Iterator[tuple[str, DaySnapshot]]:
    """Every (agent/day, snapshot) of a generation, with the day's switches as `writer.view` finds them."""
    for agent, idx, zone in agent_days(generation):
        meta = from_sessions_json(idx.agent.sessions_dir)
        switches = transitions_of(s.summary for s in idx.sources.values())
        for day, info in idx.days().items():
            today = [(t.ts_ms, t.session, t.from_model, t.to_model) for t in switches
                     if datetime.fromtimestamp(t.ts_ms / 1000, zone).date() == day]
            yield f"{agent}/{day.isoformat()}", content.build(agent, day, zone, idx.day_lines(day), info.messages,
                                                              meta, today)


ALL = {(g, name): snap for g in EXPECTED for name, snap in snapshots(g)}
BLOCKS = {key: render.render(snap, BUDGET) for key, snap in ALL.items()}
IDS = [f"{g}:{name}" for g, name in BLOCKS]


def section(block: str, heading: str) -> list[str]:
    if f"### {heading}\n" not in block:
        return []
    body = block.split(f"### {heading}\n\n", 1)[1].split("\n### ", 1)[0]
    return [line for line in body.splitlines() if line.strip()]


def test_the_committed_corpus_is_what_its_generator_writes(tmp_path: Path) -> None:
    sys.path.insert(0, str(CORPUS))
    try:
        import build
    finally:
        sys.path.remove(str(CORPUS))
    build.build(tmp_path)
    for name in ("clawdbot", "openclaw"):
        cmp = filecmp.dircmp(tmp_path / name, CORPUS / name)
        stack = [cmp]
        while stack:
            c = stack.pop()
            assert not (c.left_only or c.right_only or c.diff_files), (c.left, c.left_only, c.right_only, c.diff_files)
            stack += c.subdirs.values()
    assert (tmp_path / "expected.json").read_bytes() == (CORPUS / "expected.json").read_bytes()


def test_every_generation_and_day_is_read() -> None:
    assert set(BLOCKS) >= {("clawdbot", "main/2026-01-20"), ("clawdbot", "main/2026-01-21"),
                           ("openclaw", "main/2026-05-12"), ("openclaw", "ops/2026-05-13"),
                           ("openclaw", "main/2026-09-14")}


@pytest.mark.parametrize("key", BLOCKS, ids=IDS)
def test_no_block_holds_a_noise_marker(key: tuple[str, str]) -> None:
    found = [m for m in MARKERS if m in BLOCKS[key]]
    assert not found, found


@pytest.mark.parametrize("key", BLOCKS, ids=IDS)
def test_no_exchange_line_repeats(key: tuple[str, str]) -> None:
    lines = [re.sub(r"^- \*\*[\d:, +]+ \w+:\*\*", "", line).replace("**answered:**", "").strip()
             for line in section(BLOCKS[key], "Key exchanges")]
    texts = [near_key(t) for t in lines if t and not t.startswith("_(tools")]
    assert len(texts) == len(set(texts))
    whole = [line for line in BLOCKS[key].splitlines() if line.strip() and not line.startswith("#")]
    assert len(whole) == len(set(whole))


@pytest.mark.parametrize("key", BLOCKS, ids=IDS)
def test_sections_hold_only_what_they_are_for(key: tuple[str, str]) -> None:
    block = BLOCKS[key]
    for line in section(block, "Also mentioned"):
        for item in re.findall(r"`([^`]+)`", line.split(": ", 1)[1]):
            assert is_identifier(item) or " " in item, item
    for line in section(block, "Decisions and next steps"):
        assert statement(line[2:]) == line[2:], line


@pytest.mark.parametrize("key", BLOCKS, ids=IDS)
def test_facts_survive_and_scheduled_runs_are_never_quoted(key: tuple[str, str]) -> None:
    generation, name = key
    block = BLOCKS[key]
    missing = [f for f in EXPECTED[generation]["facts"].get(name, []) if f not in block]
    assert not missing, missing
    quoted = [n for n in EXPECTED[generation]["never"].get(name, []) if n in block]
    assert not quoted, quoted


def test_a_heartbeat_day_is_a_line_or_two() -> None:
    for generation, spec in EXPECTED.items():
        for name in spec["heartbeat_only"]:
            block = BLOCKS[(generation, name)]
            lines = [line for line in block.splitlines()[1:] if line.strip()]
            assert 1 <= len(lines) <= 2, block
            assert lines[-1].startswith("- Heartbeats: 48 checks (00:00–23:30), nothing delivered")


def test_a_busy_day_stays_under_12_kb() -> None:
    for name in EXPECTED["openclaw"]["busy"]:
        block = BLOCKS[("openclaw", name)]
        assert len(block.encode()) <= 12 * 1024
        assert "more exchanges not shown" in block and "- Heartbeats: 64 checks" in block


@pytest.mark.parametrize("generation", EXPECTED)
def test_transitions_are_the_real_answering_model_switches(generation: str) -> None:
    got = []
    for _agent, idx, zone in agent_days(generation):
        got += [[t.session, datetime.fromtimestamp(t.ts_ms / 1000, zone).strftime("%Y-%m-%dT%H:%M"), t.from_model,
                 t.to_model] for t in transitions_of(s.summary for s in idx.sources.values())]
    assert sorted(got, key=lambda r: r[1]) == sorted(EXPECTED[generation]["switches"], key=lambda r: r[1])


def requests_for(snap: DaySnapshot, tmp_path: Path) -> list[str]:
    sent: list[str] = []

    def send(system: str, user: str) -> str:
        sent.append(system + "\n" + user)
        return "A day."

    summarize.summarize(snap, LLMConfig(input_budget_chars=120_000), send, tmp_path)
    return sent


@pytest.mark.parametrize("key", BLOCKS, ids=IDS)
def test_the_llm_sees_the_same_clean_day(key: tuple[str, str], tmp_path: Path) -> None:
    generation, name = key
    snap = ALL[key]
    sent = requests_for(snap, tmp_path)
    if name in EXPECTED[generation]["heartbeat_only"]:
        assert sent == []  # a day of heartbeats is not sent at all
        assert narratives.stored_text(tmp_path, snap.agent, snap.day) is None
        return
    assert len(sent) == 1
    found = [m for m in MARKERS if m in sent[0]]
    assert not found, found
    quoted = [n for n in EXPECTED[generation]["never"].get(name, []) if n in sent[0]]
    assert not quoted, quoted


def test_the_noisy_day_in_numbers() -> None:
    """The Clawdbot-era day: what used to be filler is now counted in a few lines."""
    block = BLOCKS[("clawdbot", "main/2026-01-20")]
    assert "- Heartbeats: 24 checks (09:00–23:30), 1 delivered something" in block
    assert "- Cron `daily-digest`: 1 run at 12:00, last ok" in block
    assert "- 7 failed turns: 429 rate limit ×4, timeout ×2, 529 overloaded ×1" in block
    assert "- System events: exec completed ×1, WhatsApp disconnected ×1, WhatsApp connected ×1" in block
    assert "- Fallbacks tried that did not answer: openai/gpt-5.2 ×2, google/gemini-3-pro-preview ×1" in block
    assert section(block, "Model switches")[:4] == [
        "- 11:30 anthropic/claude-opus-4-5 → openai/gpt-5.2 (session `0b7d5c1e`)",
        "- 11:59 openai/gpt-5.2 → anthropic/claude-opus-4-5 (session `0b7d5c1e`)",
        "- 14:00 anthropic/claude-opus-4-5 → google/gemini-3-pro-preview (session `0b7d5c1e`)",
        "- 14:19 google/gemini-3-pro-preview → anthropic/claude-opus-4-5 (session `0b7d5c1e`)"]
    assert "- **15:30 heartbeat:**\n  Reminder: the Kessler GmbH invoice INV-2026-0042 (€18,750) is due on Friday." \
        in block
    # the digest as the user got it; the cron run itself is not quoted
    assert "- **12:02 agent:**\n  **Daily digest**" in block
    assert "- **16:02 asked:** also put the Q1 board meeting in my calendar it's on Feb 12 at 10:00, room Elbblick" \
        in block
    assert len(block.encode()) < 4096


def test_counting_is_unchanged() -> None:
    """`compare`'s N counts every message entry, noise included."""
    counts = {name: snap.messages for (g, name), snap in ALL.items() if g == "clawdbot"}
    lines = 0
    for path in (CORPUS / "clawdbot" / "agents" / "main" / "sessions").glob("*.jsonl"):
        lines += sum(1 for line in path.read_text(encoding="utf-8").splitlines() if '"type":"message"' in line)
    assert sum(counts.values()) == lines
    assert counts["main/2026-01-21"] == 120
    assert ALL[("clawdbot", "main/2026-01-21")].day == date(2026, 1, 21)
