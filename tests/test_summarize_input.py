"""What the LLM is asked: the same clean day as the block (no heartbeat, envelope, System line or failure
placeholder; scheduled work and failures as counts), and nothing at all for a day without an exchange."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from fixtures_openclaw import BERLIN, assistant, dumps, message, ms, user

from memory_syncd import summarize
from memory_syncd.config import LLMConfig
from memory_syncd.content import assemble as content
from memory_syncd.write import narratives

POLL = {"kind": "internal_system", "sourceTool": "heartbeat"}


def day_of(day: date, records: list[dict[str, object]]) -> content.DaySnapshot:
    lines = [("s1", dumps(r)) for r in records]
    return content.build("main", day, BERLIN, lines, len(lines), {})


def beats(day: date, n: int) -> list[dict[str, object]]:
    start = ms(f"{day.isoformat()}T00:00:00+01:00")
    return [r for i in range(n) for r in (
        message("user", start + i * 1_800_000, "[OpenClaw heartbeat poll]", provenance=POLL),
        assistant(start + i * 1_800_000 + 2000, "HEARTBEAT_OK"))]


def test_a_day_of_heartbeats_is_not_sent_and_not_retried(tmp_path: Path) -> None:
    day = datetime.now(ZoneInfo("Europe/Berlin")).date() - timedelta(days=1)
    sent: list[str] = []
    out = summarize.summarize(day_of(day, beats(day, 48)), LLMConfig(), lambda s, u: sent.append(u) or "x",
                              tmp_path)
    assert sent == [] and (out.text, out.requests) == (None, 0)
    rec = narratives.stored_record(tmp_path, "main", day)
    assert rec is not None and rec["empty"] is True and narratives.stored_text(tmp_path, "main", day) is None

    def record(d: date) -> dict[str, object] | None:
        return narratives.stored_record(tmp_path, "main", d)

    assert summarize.due(datetime.now(ZoneInfo("Europe/Berlin")), time(0, 0), {day}, record) == []


def test_the_request_carries_the_clean_day(tmp_path: Path) -> None:
    day = date(2026, 1, 20)
    at = ms("2026-01-20T14:00:00+01:00")
    records = [*beats(day, 6),
               user(at, "System: [2026-01-20 13:59:02 GMT+1] WhatsApp gateway connected as +4915550001.\n\n"
                        "[Telegram Jonas Brandt (@jbrandt) id:5550001234 +2m 2026-01-20 14:00 GMT+1] Is the Elbe ride "
                        "on?\n[message_id: 4150]"),
               message("assistant", at + 1, [{"type": "text", "text": "[assistant turn failed before producing "
                                                                      "content]"}],
                       provider="anthropic", model="opus", stopReason="error", errorMessage="429 rate_limit_error"),
               assistant(at + 2, "[[reply_to_current]] Rain until 14:00: move it to Thursday.")]
    sent: list[str] = []
    summarize.summarize(day_of(day, records), LLMConfig(), lambda s, u: sent.append(u) or "A day.", tmp_path)
    (body,) = sent
    for marker in ("HEARTBEAT", "heartbeat poll", "System: [", "[Telegram", "[message_id:", "[[reply_to",
                   "[assistant turn failed", "rate_limit_error"):
        assert marker not in body, marker
    assert "user: Is the Elbe ride on?" in body and "agent: Rain until 14:00: move it to Thursday." in body
    assert "- heartbeats: 6 checks, 0 delivered something" in body
    assert "- failed turns: 429 rate limit x1" in body and "- system events: WhatsApp connected x1" in body
