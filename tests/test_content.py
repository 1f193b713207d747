"""`content.build`: one day's raw records -> a redacted DaySnapshot. Noise stays out, turns group what was
asked with what was answered, every string is redacted before it is shortened, and big tool results are
read without decoding them only when that cannot change the snapshot."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fixtures_openclaw import BERLIN, assistant, dumps, header, message, ms, tool_result, user

from memory_syncd import content
from memory_syncd.content import DaySnapshot, build, text_of, tool_calls
from memory_syncd.parse import HEARTBEAT_PROMPT
from memory_syncd.sessionmeta import SessionMeta, from_sessions_json

DAY = date(2026, 4, 13)
S1 = "11111111-aaaa-4bbb-8ccc-000000000001"
S2 = "22222222-aaaa-4bbb-8ccc-000000000002"
AWS_ID = "AKIAQ3EGRT7KLMNPQRST"
AWS_SECRET = "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"  # 40 characters, as AWS issues them
GHP = "ghp_" + "Zq8RkT2mVx9LpN4wYc7BdF3hJs6GtK1eUa5M"


def at(hm: str) -> int:
    return ms(f"2026-04-13T{hm}:00+02:00")


def calls(at_ms: int, *tools: tuple[str, dict[str, Any]], text: str = "", **kw: Any) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    blocks += [{"type": "toolCall", "id": f"toolu_{i}", "name": n, "arguments": a} for i, (n, a) in enumerate(tools)]
    return message("assistant", at_ms, blocks, api="anthropic-messages", provider="anthropic",
                   model="claude-opus-4-6", stopReason="toolUse", **kw)


def snap(*records: dict[str, Any], session: str = S1, chans: dict[str, str] | None = None) -> DaySnapshot:
    lines = [(session, dumps(r)) for r in records]
    return build("main", DAY, BERLIN, lines, len(lines), {k: SessionMeta("", v) for k, v in (chans or {}).items()})


def test_a_turn_pairs_the_request_with_the_answers_and_tools() -> None:
    s = snap(header(S1, at("09:00")),
             user(at("09:00"), "[Mon 2026-04-13 09:00 GMT+2] dry run the backup please"),
             calls(at("09:01"), ("exec", {"command": "~/bin/backup.sh --dry-run"})),
             tool_result(at("09:02"), "would add: 1,204 files"),
             calls(at("09:03"), ("write", {"path": "memory/2026-04-13.md", "content": "x"}),
                   ("read", {"file_path": "/home/maya/bin/backup.sh"})),
             assistant(at("09:04"), "Dry run passed: 1,204 files."))
    (turn,) = s.turns
    assert turn.request == "dry run the backup please"  # the timestamp envelope is gone
    assert turn.answers == ("Dry run passed: 1,204 files.",)
    assert turn.tools == ("exec", "write", "read")
    assert dict(s.tools) == {"exec": 1, "write": 1, "read": 1}
    assert s.files == (("memory/2026-04-13.md", ("write",)), ("/home/maya/bin/backup.sh", ("read",)))
    assert s.commands == ("~/bin/backup.sh --dry-run",)
    (info,) = s.sessions
    assert (info.first_ms, info.last_ms, info.messages) == (at("09:00"), at("09:04"), 5)
    assert info.models == ("claude-opus-4-6",)
    assert info.title == "dry run the backup please"


def test_noise_is_left_out_and_keeps_its_tools_to_itself() -> None:
    envelope = ('Conversation info (untrusted metadata):\n```json\n{"sender": "Maya K"}\n```\n\n'
                "Sender (untrusted metadata):\n```json\n{\"id\": \"5550001234\"}\n```\n\nwhat is on today?")
    s = snap(user(at("08:00"), envelope),
             assistant(at("08:01"), "Standup at 10:00."),
             user(at("08:30"), HEARTBEAT_PROMPT + " (workspace context). If nothing needs attention, reply "
                                                  "HEARTBEAT_OK."),
             calls(at("08:31"), ("read", {"path": "HEARTBEAT.md"})),
             assistant(at("08:32"), "HEARTBEAT_OK"),
             user(at("09:00"), "Pre-compaction memory flush. Store durable memories only in memory/2026-04-13.md."),
             calls(at("09:01"), ("edit", {"path": "memory/2026-04-13.md", "oldText": "a", "newText": "b"})),
             assistant(at("09:02"), "NO_REPLY"),
             user(at("09:10"), "[Mon 2026-04-13 09:10 GMT+2] /model openai-codex/gpt-5.3-codex"),
             assistant(at("09:11"), "  NO_REPLY\n"))
    (turn,) = s.turns
    assert (turn.request, turn.answers, turn.tools) == ("what is on today?", ("Standup at 10:00.",), ())
    everything = json.dumps([t.__dict__ for t in s.turns]) + json.dumps([x.__dict__ for x in s.sessions])
    for noise in ("HEARTBEAT", "NO_REPLY", "Pre-compaction", "untrusted metadata", "/model", "5550001234"):
        assert noise not in everything
    # the noise turns' tools still count for the day
    assert dict(s.tools) == {"read": 1, "edit": 1}
    assert s.sessions[0].messages == 10


def test_an_answer_to_a_heartbeat_that_says_something_is_the_agents_own_turn() -> None:
    s = snap(user(at("08:00"), "check the invoice"), assistant(at("08:01"), "Sent."),
             user(at("10:00"), HEARTBEAT_PROMPT), assistant(at("10:01"), "Kessler GmbH replied: paid in full."))
    assert [(t.request, t.answers) for t in s.turns] == [
        ("check the invoice", ("Sent.",)), ("", ("Kessler GmbH replied: paid in full.",))]


def test_sessions_rewrite_copies_and_order() -> None:
    first = user(at("10:00"), "question one")
    copy = dict(first, id="deadbeef", timestamp="2026-04-13T09:00:00.000Z")  # a rewrite copy: same message
    lines = [(S2, dumps(assistant(at("11:01"), "answer two"))), (S1, dumps(first)),
             (S2, dumps(user(at("11:00"), "question two"))), (S1, dumps(copy)),
             (S1, dumps(assistant(at("10:01"), "answer one"))), (S1, b"{not json"), (S1, b"[1]")]
    s = build("main", DAY, BERLIN, lines, 4, {S2: SessionMeta("", "telegram")})
    assert s.messages == 4
    assert [(x.session, x.messages, x.channel) for x in s.sessions] == [(S1, 2, ""), (S2, 2, "telegram")]
    assert [(t.session, t.request, t.answers) for t in s.turns] == [
        (S1, "question one", ("answer one",)), (S2, "question two", ("answer two",))]


def test_models_leave_out_pseudo_models_and_errors_are_kept() -> None:
    s = snap(user(at("12:00"), "is staging healthy?"),
             message("assistant", at("12:01"), [], provider="anthropic", model="claude-sonnet-4-6",
                     stopReason="error", errorMessage="429 rate_limit_error"),
             assistant(at("12:02"), "Degraded since build 4471.", provider="google", model="gemini-3-pro-preview"),
             message("toolResult", at("12:03"), [{"type": "text", "text": "\nerror: Unauthorized\nmore"}],
                     toolName="exec", toolCallId="t", isError=True),
             assistant(at("12:04"), "Run stopped by operator.", provider="openclaw", model="gateway-injected"))
    assert s.sessions[0].models == ("claude-sonnet-4-6", "gemini-3-pro-preview")
    assert s.errors == ("429 rate_limit_error", "exec: error: Unauthorized")
    assert s.turns[0].answers == ("Degraded since build 4471.", "Run stopped by operator.")


def test_a_delivery_mirror_of_an_answer_already_given_is_not_repeated() -> None:
    cron = "**Morning Briefing**\n- invoice INV-77 is due"
    lines = [(S2, dumps(user(at("07:00"), "[cron:1 morning-briefing] Summarize today."))),
             (S2, dumps(assistant(at("07:01"), cron))),
             (S1, dumps(assistant(at("07:02"), cron, provider="openclaw", model="delivery-mirror"))),
             (S1, dumps(assistant(at("09:00"), "Reminder: send the invoice.", provider="openclaw",
                                  model="delivery-mirror")))]
    s = build("main", DAY, BERLIN, lines, 4, {})
    assert [(t.ts_ms, t.request, t.answers) for t in s.turns] == [
        (at("07:00"), "[cron:1 morning-briefing] Summarize today.", (cron,)),
        (at("09:00"), "", ("Reminder: send the invoice.",))]


def test_a_delivery_much_later_is_not_part_of_the_last_exchange() -> None:
    s = snap(user(at("00:10"), "remind me at 9 to send the invoice"), assistant(at("00:11"), "Set for 09:00."),
             assistant(at("09:00"), "Reminder: send the invoice.", provider="openclaw", model="delivery-mirror"))
    assert [(t.request, t.answers) for t in s.turns] == [
        ("remind me at 9 to send the invoice", ("Set for 09:00.",)), ("", ("Reminder: send the invoice.",))]


# --- redaction: always before shortening ---


def test_every_kept_string_is_redacted() -> None:
    s = snap({"type": "session_info", "id": "d88e1c47", "parentId": None, "timestamp": "2026-04-13T06:59:00.000Z",
              "name": f"deploy with {GHP}"},
             user(at("09:00"), f"use {GHP} for the push"),
             calls(at("09:01"), ("exec", {"command": f"AWS_ACCESS_KEY_ID={AWS_ID} AWS_SECRET_ACCESS_KEY={AWS_SECRET} "
                                                     "aws s3 ls"}),
                   ("read", {"path": f"/tmp/{GHP}/notes.md"})),
             message("toolResult", at("09:02"), [{"type": "text", "text": f"denied for {GHP}"}], toolName="exec",
                     toolCallId="t", isError=True),
             message("assistant", at("09:03"), [], provider="anthropic", model="m", stopReason="error",
                     errorMessage=f"bad credentials {AWS_ID}"),
             assistant(at("09:04"), f"Stored key id {AWS_ID} with secret {AWS_SECRET}."))
    text = repr(s)
    for secret in (GHP, AWS_ID, AWS_SECRET, GHP[:16], AWS_SECRET[:16]):
        assert secret not in text
    assert "[REDACTED-" in s.turns[0].request and "[REDACTED-" in s.commands[0]


@pytest.mark.parametrize("before", [60, 88, 95, 99, 100, 150, 155, 159, 190, 199])
def test_a_secret_at_a_length_limit_is_caught_whole(before: int) -> None:
    """Titles keep 100 characters, commands 160, paths and errors 200: a secret that straddles the cut is
    redacted whole first, so not even its head survives."""
    pad = "x" * before
    s = snap(user(at("09:00"), f"{pad} {GHP} tail"),
             calls(at("09:01"), ("exec", {"command": f"echo {pad} AWS_SECRET_ACCESS_KEY={AWS_SECRET}"}),
                   ("read", {"path": f"/{pad}/{GHP}/x.md"})),
             message("assistant", at("09:02"), [], provider="a", model="m", stopReason="error",
                     errorMessage=f"{pad} {GHP}"),
             message("toolResult", at("09:03"), [{"type": "text", "text": f"{pad} {GHP}"}], toolName="exec",
                     toolCallId="t", isError=True))
    text = repr(s)
    assert GHP[:10] not in text and AWS_SECRET[:10] not in text


# --- big tool results ---


def big_result(at_ms: int, *, error: bool = False, text: str = "", size: int = 40_000) -> dict[str, Any]:
    body = (text + " " + "log line 1234567890 " * (size // 20))[:size]
    return message("toolResult", at_ms, [{"type": "text", "text": body}], toolCallId="toolu_9", toolName="exec",
                   details={"exitCode": 0}, isError=error)


def test_a_big_quiet_tool_result_counts_without_being_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    records = [user(at("09:00"), "collect the logs"), big_result(at("09:05")), assistant(at("09:09"), "Collected.")]
    decoded: list[int] = []
    real = content._decode
    monkeypatch.setattr(content, "_decode", lambda raw: decoded.append(len(raw)) or real(raw))
    s = snap(*records)
    assert max(decoded) < content._BIG_RESULT  # the big one was never decoded
    assert s.sessions[0].messages == 3 and s.sessions[0].last_ms == at("09:09")
    assert s.turns[0].answers == ("Collected.",)
    # the same day with the result as its last message: its moment still ends the session
    assert snap(*records[:2]).sessions[0].last_ms == at("09:05")


@pytest.mark.parametrize("variant", ["error", "fields reordered", "no timestamp", "small"])
def test_other_big_results_are_decoded(variant: str) -> None:
    rec = big_result(at("09:05"), error=variant == "error", text=f"fatal: {GHP} expired",
                     size=100 if variant == "small" else 40_000)
    if variant == "fields reordered":
        rec["message"] = {"isError": False, **rec["message"]}
    if variant == "no timestamp":
        del rec["message"]["timestamp"]
    assert content._quiet_result(dumps(rec)) is None
    s = snap(user(at("09:00"), "collect the logs"), rec)
    assert s.sessions[0].messages == 2
    if variant == "error":
        (error,) = s.errors
        assert error.startswith("exec: fatal: [REDACTED-") and len(error) <= 6 + 160 and GHP[:10] not in error


def test_only_the_entrys_own_message_key_counts() -> None:
    rec = big_result(at("09:05"))
    raw = dumps(rec)
    assert content._quiet_result(raw) is not None
    # an object before the entry's `message` key might hide another one: decoded instead
    odd = raw.replace(b'"parentId":null,', b'"parentId":null,"meta":{"message":{"role":"toolResult"}},', 1)
    assert odd != raw and content._quiet_result(odd) is None
    # a `message` key nested inside the result (in its details) does not matter
    nested = raw.replace(b'"details":{"exitCode":0}', b'"details":{"message":{"role":"user"}}')
    assert nested != raw and content._quiet_result(nested) is not None


def test_a_lone_surrogate_line_is_still_read() -> None:
    """JSON.stringify writes a string cut inside a surrogate pair as a lone escape; orjson refuses it."""
    raw = dumps(user(at("09:00"), "PLACEHOLDER")).replace(b"PLACEHOLDER", b"cut emoji \\ud83d here")
    s = build("main", DAY, BERLIN, [(S1, raw)], 1, {})
    assert s.turns[0].request.startswith("cut emoji")


# --- small readers ---


def test_text_of_and_tool_calls() -> None:
    blocks = [{"type": "thinking", "thinking": "hidden"}, {"type": "text", "text": "a"}, {"type": "image", "data": "x"},
              {"type": "text", "text": "b"}, {"type": "toolCall", "name": "exec", "arguments": {"command": "ls"}},
              {"type": "toolCall", "name": "read", "arguments": "not a dict"}, {"type": "toolCall"}, "junk"]
    assert text_of(blocks) == "a\nb"
    assert text_of("plain") == "plain" and text_of(None) == "" and text_of(42) == ""
    assert tool_calls(blocks) == [("exec", {"command": "ls"}), ("read", {})]
    assert tool_calls("text") == []


def channels(sessions_dir: Path) -> dict[str, str]:
    return {s: m.channel for s, m in from_sessions_json(sessions_dir).items() if m.channel}


def test_session_channels(tmp_path: Path) -> None:
    assert channels(tmp_path) == {}
    (tmp_path / "sessions.json").write_text(json.dumps({
        "agent:main:main": {"sessionId": S1, "lastChannel": "telegram"},
        "agent:main:discord:group:x": {"sessionId": S2, "origin": {"provider": "discord", "surface": "discord"}},
        "cron:1": {"sessionId": "c", "origin": {"surface": "webchat"}},
        "broken": {"sessionId": 5}, "other": "x"}))
    assert channels(tmp_path) == {S1: "telegram", S2: "discord", "c": "webchat"}
    (tmp_path / "sessions.json").write_text("[1, 2]")
    assert channels(tmp_path) == {}
    (tmp_path / "sessions.json").write_text("{broken")
    assert channels(tmp_path) == {}
