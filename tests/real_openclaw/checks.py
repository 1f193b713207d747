"""Assertions shared by the real-OpenClaw test modules: memory-syncd's output against the independent read.

Owns the comparisons and their failure messages: compare's per-day counts against `store_truth` (or
`jsonl_truth`), every answer's token in the managed block of its day, backfill's reported counts, and the
daemon's latency from `openclaw agent` returning to the answer in the memory file.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from store_truth import Msg, day_of
from syncd_runner import Sample, Syncd, day_blocks, p95


def compare_days(doc: Any, agent: str = "main") -> dict[str, int]:
    """compare --json -> {day: messages} for one agent."""
    assert isinstance(doc, dict) and isinstance(doc.get("days"), list), f"compare --json gave {doc!r}"
    return {str(d["date"]): int(d["messages"]) for d in doc["days"] if d.get("agent") == agent}


def assert_counts(got: dict[str, int], want: dict[str, int], what: str, extra: str = "") -> None:
    if got == want:
        return
    days = sorted(set(got) | set(want))
    lines = [f"  {d}: memory-syncd {got.get(d, 0)}, store {want.get(d, 0)}" for d in days
             if got.get(d, 0) != want.get(d, 0)]
    raise AssertionError(f"{what}: memory-syncd's per-day message counts differ from an independent read of the "
                         f"store\n" + "\n".join(lines) + (f"\n{extra}" if extra else ""))


def answer(msgs: Iterable[Msg], token: str) -> Msg:
    """The one assistant message whose text contains `token`."""
    found = [m for m in msgs if m.role == "assistant" and token in m.text]
    assert len(found) == 1, f"expected one assistant message with {token!r} in the store, found {len(found)}"
    return found[0]


def assert_answers_in_blocks(memory_dir: Path, msgs: list[Msg], tokens: Iterable[str], what: str) -> None:
    """Each token's answer is in the managed block of its day's memory file."""
    blocks = day_blocks(memory_dir)
    missing = []
    for token in tokens:
        day = day_of(answer(msgs, token).ts_ms).isoformat()
        if token not in blocks.get(day, ""):
            state = "no managed block" if not blocks.get(day) else f"block of {len(blocks[day])} chars"
            missing.append(f"  {token!r} (answer of {day}; memory/{day}.md: {state})")
    if missing:
        sample = next(iter(blocks.values()), "")[:1500]
        raise AssertionError(f"{what}: answers missing from their day's memory block:\n" + "\n".join(missing)
                             + f"\nblock starts:\n{sample}")


def backfill_counts(results: list[Any]) -> dict[str, int]:
    return {str(r["date"]): int(r["messages"]) for r in results}


def check_latency(samples: list[Sample], memory_dir: Path, syncd: Syncd, minimum: int = 5) -> None:
    """Every sample's answer reached the memory file while the daemon ran, p95 within 2 s (run after backfill,
    which tells an answer the daemon never wrote from one that is not rendered at all)."""
    assert len(samples) >= minimum, f"only {len(samples)} turns measured"
    report = ", ".join(f"{s.token}: " + ("never" if s.latency is None else f"{s.latency:.2f}s") for s in samples)
    never = [s.token for s in samples if s.latency is None]
    if never:
        after_backfill = day_blocks(memory_dir)
        rendered = [t for t in never if any(t in b for b in after_backfill.values())]
        raise AssertionError(f"answers never reached the memory file while the daemon ran: {report}; of these, "
                             f"backfill later rendered {rendered or 'none'} (the rest are missing from rendering "
                             f"altogether)\ndaemon log:\n{syncd.log_tail()}")
    worst = p95([s.latency for s in samples if s.latency is not None])
    assert worst <= 2.0, f"p95 {worst:.2f}s > 2s over {len(samples)} turns: {report}\ndaemon log:\n{syncd.log_tail()}"
