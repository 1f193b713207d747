"""`content.build`: one day's raw records -> a redacted DaySnapshot. Noise stays out, turns group what was
asked with what was answered, every string is redacted before it is shortened, and big tool results are
read without decoding them only when that cannot change the snapshot."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fixtures_openclaw import BERLIN, assistant, dumps, header, message, ms, snapshot, tool_result, user

from memory_syncd.content import assemble as content
from memory_syncd.content.assemble import DaySnapshot, build, text_of, tool_calls
from memory_syncd.read.sessionmeta import SessionMeta, from_sessions_json

HEARTBEAT_PROMPT = "Read HEARTBEAT.md if it exists"  # the start of the older default prompt
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


def test_noise_turns_are_dropped_whole_tools_included() -> None:
    """A heartbeat, a memory flush and a /command leave no exchange, no tool, no file: their messages only
    count. (They used to keep their tools, so a day of heartbeats listed `HEARTBEAT.md` as read.)"""
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
             assistant(at("09:11"), "Model set to openai-codex/gpt-5.3-codex."))
    (turn,) = s.turns
    assert (turn.request, turn.answers, turn.tools) == ("what is on today?", ("Standup at 10:00.",), ())
    everything = json.dumps([t.__dict__ for t in s.turns]) + json.dumps([x.__dict__ for x in s.sessions])
    for noise in ("HEARTBEAT", "NO_REPLY", "Pre-compaction", "untrusted metadata", "/model", "5550001234",
                  "Model set"):
        assert noise not in everything
    assert s.tools == () and s.files == ()
    assert s.sessions[0].messages == 10
    assert (s.background.heartbeats, s.background.delivered) == (1, 0)


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


def test_models_are_the_answering_ones_and_failures_are_counted_by_cause() -> None:
    """A model that only failed is not listed as a session's model (it used to be); the failure is counted
    by cause, never quoted; tool errors are kept with their turn."""
    s = snap(user(at("12:00"), "is staging healthy?"),
             message("assistant", at("12:01"), [], provider="anthropic", model="claude-sonnet-4-6",
                     stopReason="error", errorMessage="429 rate_limit_error"),
             assistant(at("12:02"), "Degraded since build 4471.", provider="google", model="gemini-3-pro-preview"),
             message("toolResult", at("12:03"), [{"type": "text", "text": "\nerror: Unauthorized\nmore"}],
                     toolName="exec", toolCallId="t", isError=True),
             assistant(at("12:04"), "Run stopped by operator.", provider="openclaw", model="gateway-injected"))
    assert s.sessions[0].models == ("gemini-3-pro-preview",)
    assert s.errors == ("exec: error: Unauthorized",)
    assert s.failures == (("429 rate limit", 1),)
    assert s.turns[0].answers == ("Degraded since build 4471.", "Run stopped by operator.")


def test_a_cron_run_is_counted_and_its_delivery_is_what_is_shown() -> None:
    """The cron run's own session is never quoted (it used to be, prompt and all); its report as delivered
    into the user's session is, once."""
    cron = "**Morning Briefing**\n- invoice INV-77 is due"
    lines = [(S2, dumps(user(at("07:00"), "[cron:1 morning-briefing] Summarize today."))),
             (S2, dumps(assistant(at("07:01"), cron))),
             (S1, dumps(assistant(at("07:02"), cron, provider="openclaw", model="delivery-mirror"))),
             (S1, dumps(assistant(at("07:03"), cron, provider="openclaw", model="delivery-mirror"))),
             (S1, dumps(assistant(at("09:00"), "Reminder: send the invoice.", provider="openclaw",
                                  model="delivery-mirror")))]
    s = build("main", DAY, BERLIN, lines, 5, {})
    assert [(t.ts_ms, t.request, t.answers, t.kind) for t in s.turns] == [
        (at("07:02"), "", (cron,), "delivery"), (at("09:00"), "", ("Reminder: send the invoice.",), "delivery")]
    assert s.background.jobs == (content.CronJob("morning-briefing", (at("07:00"),), "ok"),)
    assert [x.kind for x in s.sessions] == ["cron", "chat"]


def test_a_delivery_much_later_is_not_part_of_the_last_exchange() -> None:
    s = snap(user(at("00:10"), "remind me at 9 to send the invoice"), assistant(at("00:11"), "Set for 09:00."),
             assistant(at("09:00"), "Reminder: send the invoice.", provider="openclaw", model="delivery-mirror"))
    assert [(t.request, t.answers) for t in s.turns] == [
        ("remind me at 9 to send the invoice", ("Set for 09:00.",)), ("", ("Reminder: send the invoice.",))]


# --- the rules, as the day is assembled ---

POLL = {"kind": "internal_system", "sourceTool": "heartbeat"}


def test_a_heartbeat_turn_is_kept_only_for_what_it_delivered() -> None:
    s = snap(message("user", at("09:00"), "[OpenClaw heartbeat poll]", provenance=POLL),
             calls(at("09:00") + 500, ("read", {"path": "HEARTBEAT.md"})),
             assistant(at("09:01"), "Checked inbox and CI: nothing urgent. HEARTBEAT_OK"),
             message("user", at("10:00"), "[OpenClaw heartbeat poll]", provenance=POLL),
             calls(at("10:00") + 500, ("heartbeat_respond", {"outcome": "done", "notify": False, "summary": "ok"})),
             message("user", at("11:00"), "[OpenClaw heartbeat poll]", provenance=POLL),
             calls(at("11:00") + 500, ("heartbeat_respond", {"notify": True, "notificationText": "Build 4471 is "
                                                                                                 "blocked."})),
             message("user", at("12:00"), "[OpenClaw heartbeat poll]", provenance=POLL),
             assistant(at("12:01"), "x" * 301 + " HEARTBEAT_OK"))
    assert [(t.ts_ms, t.answers, t.tools, t.kind) for t in s.turns] == [
        (at("11:00"), ("Build 4471 is blocked.",), (), "heartbeat"), (at("12:00"), ("x" * 301,), (), "heartbeat")]
    assert (s.background.heartbeats, s.background.delivered) == (4, 2)
    assert s.tools == () and s.files == () and [x.kind for x in s.sessions] == ["heartbeat"]


def test_an_isolated_heartbeat_session_knows_its_custom_prompt() -> None:
    lines = [(S2, dumps(user(at("09:00"), "Look at the pager queue; say PAGER_CLEAR if empty."))),
             (S2, dumps(assistant(at("09:01"), "PAGER_CLEAR")))]
    s = build("main", DAY, BERLIN, lines, 2, {S2: SessionMeta("agent:main:main:heartbeat", "")})
    assert s.turns[0].kind == "heartbeat" and s.background.heartbeats == 1


@pytest.mark.parametrize("how", ["key", "provenance", "prefix", "legacy key"])
def test_a_cron_run_is_counted_by_job_never_quoted(how: str) -> None:
    prov = {"kind": "internal_system", "sourceTool": "cron", "jobId": "b41c", "runId": "r1",
            "sourceSessionKey": "agent:main:cron:b41c:run:r1"} if how == "provenance" else None
    text = "[cron:b41c inbox-triage] Triage the inbox." if how == "prefix" else "Triage the inbox."
    key = {"key": "agent:main:cron:b41c:run:r1", "legacy key": "cron:b41c"}.get(how, "")
    first = user(at("08:00"), text, provenance=prov) if prov else user(at("08:00"), text)
    lines = [(S2, dumps(r)) for r in (
        first, assistant(at("08:01"), "Urgent: the Huaxin renewal."), user(at("13:00"), text),
        message("assistant", at("13:01"), [], provider="anthropic", model="m", stopReason="error",
                errorMessage="429 rate_limit_error"))]
    s = build("main", DAY, BERLIN, lines, 4, {S2: SessionMeta(key, "")})
    (job,) = s.background.jobs
    assert job.name == ("inbox-triage" if how == "prefix" else "b41c")
    assert (job.runs, job.outcome) == ((at("08:00"), at("13:00")), "failed: 429 rate limit")
    assert s.turns == () and "Huaxin" not in repr(s) and s.failures == (("429 rate limit", 1),)


def test_dreaming_and_sub_agent_sessions_are_counted_never_quoted() -> None:
    dream = {"type": "custom", "customType": "openclaw:bootstrap-context:full",
             "data": {"runId": "dreaming-narrative-1"}, "id": "d1", "parentId": None,
             "timestamp": "2026-04-13T01:00:00.000Z"}
    lines = [(S1, dumps(dream)), (S1, dumps(user(at("03:00"), "Write today's dream diary entry."))),
             (S1, dumps(assistant(at("03:01"), "Paper cranes over the river."))),
             (S2, dumps(user(at("13:40"), "Research SAML vendors.", provenance={"kind": "inter_session"}))),
             (S2, dumps(assistant(at("14:04"), "All three support SAML.")))]
    s = build("main", DAY, BERLIN, lines, 4, {S2: SessionMeta("agent:main:subagent:6f1d", "")})
    assert s.turns == () and "cranes" not in repr(s) and "SAML" not in repr(s)
    assert s.background.dreams == (at("03:00"),) and s.background.subagents == ((at("13:40"), at("14:04")),)
    assert [x.kind for x in s.sessions] == ["dreaming", "subagent"]


def test_internal_turns_keep_only_what_the_agent_said() -> None:
    s = snap(message("user", at("12:30"), "[OpenClaw exec completion]",
                     provenance={"kind": "internal_system", "sourceTool": "exec"}),
             calls(at("12:30") + 100, ("read", {"path": "build/4472.log"})),
             assistant(at("12:31"), "The staging build finished: 0 errors."),
             message("user", at("13:10"), "[OpenClaw cron wake]", provenance={"kind": "internal_system",
                                                                               "sourceTool": "cron"}),
             calls(at("13:10") + 100, ("exec", {"command": "true"})),
             assistant(at("13:11"), "NO_REPLY"))
    assert [(t.request, t.answers, t.tools, t.kind) for t in s.turns] == [
        ("", ("The staging build finished: 0 errors.",), ("read",), "agent")]
    assert dict(s.tools) == {"read": 1} and s.commands == ()


def test_system_events_failures_and_fallbacks_are_counted() -> None:
    s = snap(user(at("10:16"), "System: [2026-04-13 10:16:40 GMT+2] WhatsApp gateway disconnected (status 408)\n"
                               "System: [2026-04-13 10:16:44 GMT+2] WhatsApp gateway connected as +4915550001."),
             assistant(at("10:16") + 500, "NO_REPLY"),
             user(at("14:00"), "weather tomorrow?"),
             message("assistant", at("14:00") + 1, [], provider="anthropic", model="claude-opus-4-6",
                     stopReason="error", errorMessage="429 rate_limit_error"),
             snapshot(at("14:00") + 2, "openai", "gpt"),
             message("assistant", at("14:00") + 3, [{"type": "text", "text":
                                                     "[assistant turn failed before producing content]"}],
                     provider="openai", model="gpt", stopReason="error", errorMessage="Request timed out"),
             snapshot(at("14:00") + 4, "google", "gemini"),
             assistant(at("14:00") + 5, "Rain until 14:00.", "google", "gemini"),
             {"type": "custom_message", "customType": "run-failed-before-reply", "content": "This turn ended "
              "before a reply: 429 rate limit.", "display": True, "id": "f", "parentId": None,
              "timestamp": "2026-04-13T13:00:00.000Z"})
    assert s.events == (("WhatsApp disconnected", 1), ("WhatsApp connected", 1))
    assert s.failures == (("429 rate limit", 2), ("timeout", 1))
    assert s.fallbacks == (("openai/gpt", 1),)
    assert [(t.request, t.answers) for t in s.turns] == [("weather tomorrow?", ("Rain until 14:00.",))]


def test_names_from_the_transcript_are_redacted_too() -> None:
    """The model, a tool call's name and the channel are redacted like everything else (issue 12, L1)."""
    token = "ghp_" + "Zq8RkT2mVx9LpN4wYc7BdF3hJs6GtK1eUa5M"
    lines = [(S1, dumps(user(at("09:00"), "deploy it"))),
             (S1, dumps(calls(at("09:01"), (f"exec_{token}", {"command": "ls"})))),
             (S1, dumps(assistant(at("09:02"), "Done.", "anthropic", f"m-{token}")))]
    s = build("main", DAY, BERLIN, lines, 3, {S1: SessionMeta("agent:main:main", f"chan-{token}")},
              [(at("09:02"), S1, f"anthropic/{token}", "openai/gpt")])
    assert token[:12] not in repr(s)
    assert "[REDACTED-" in s.sessions[0].channel and "[REDACTED-" in s.tools[0][0] and "[REDACTED-" in s.switches[0][2]


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
