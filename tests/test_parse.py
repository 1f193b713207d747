"""parse.py: one record -> Header / Message / ModelSeen / Note / Skip / None; timestamps, days, model names
(redacted, and whether they answered or were only tried). What is noise is `noise`'s (tests/test_noise.py)."""

from __future__ import annotations

import json
import math
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fixtures_openclaw import (
    BERLIN,
    S_3F,
    S_8B,
    S_C7,
    assistant,
    dumps,
    header,
    message,
    model_change,
    ms,
    sample,
    snapshot,
    tool_result,
    user,
)
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from memory_syncd.read.parse import (
    DayClock,
    Header,
    Message,
    ModelSeen,
    Note,
    Skip,
    SkipReason,
    parse_line,
)

T = ms("2026-04-13T09:00:00+02:00")


def parse(obj: Any) -> Any:
    return parse_line(dumps(obj))


# --- record types ---


def test_header() -> None:
    assert parse(header("abc", T)) == Header("abc", "/home/maya/.openclaw/workspace")
    assert parse({"type": "session", "id": 5, "cwd": ["x"]}) == Header("", None)


@pytest.mark.parametrize("record", [
    user(T, "hi"),
    message("user", T, "plain string content"),
    assistant(T, "hello"),
    message("assistant", T, [{"type": "thinking", "thinking": "hm", "thinkingSignature": "x"},
                             {"type": "toolCall", "id": "toolu_1", "name": "read", "arguments": {"path": "a"}}],
            provider="anthropic", model="claude-opus-4-6"),
    tool_result(T, "output"),
    message("user", T, [{"type": "image", "data": "aGk=", "mimeType": "image/png"}]),
    message("bashExecution", T, "ls"),
])
def test_every_role_and_block_kind_is_a_message(record: dict[str, Any]) -> None:
    rec = parse(record)
    assert isinstance(rec, Message)
    assert rec.ts_ms == T and rec.role == record["message"]["role"]


def test_model_of_real_answers_only() -> None:
    rec = parse(assistant(T, "x", "openai-codex", "gpt-5.3-codex"))
    assert isinstance(rec, Message) and rec.model == "openai-codex/gpt-5.3-codex"
    for provider, model in (("openclaw", "delivery-mirror"), ("openclaw", "gateway-injected"),
                            ("openclaw", "acp-runtime"), ("openclaw", "anything"), ("x", "delivery-mirror")):
        rec = parse(assistant(T, "x", provider, model))
        assert isinstance(rec, Message) and rec.model is None, (provider, model)
    rec = parse(user(T, "x", provider="anthropic", model="claude"))
    assert isinstance(rec, Message) and rec.model is None


@pytest.mark.parametrize(("stop", "failed"), [("stop", False), ("toolUse", False), ("length", False),
                                              ("error", True), ("aborted", True), (None, False)])
def test_an_attempt_that_failed_is_marked(stop: str | None, failed: bool) -> None:
    """A failed attempt keeps its model (it was tried) but is no answer; it still counts as a message."""
    rec = parse(message("assistant", T, [], provider="anthropic", model="claude-opus-4-6", stopReason=stop,
                        errorMessage="429 rate_limit_error"))
    assert isinstance(rec, Message) and rec.model == "anthropic/claude-opus-4-6" and rec.failed is failed


def test_model_names_are_redacted_before_anyone_stores_them() -> None:
    token = "sk-ant-api03-" + "Qw3rTy7UiOp9AsDf2GhJk4LzXc6VbNm8Qw1ErT5yUi0OpAs3DfG7hJk2LzX9cVb4NmQwErTy1UiOp6As8Df"
    rec = parse(assistant(T, "x", "anthropic", f"model-{token}"))
    assert isinstance(rec, Message) and rec.model is not None
    assert token[:20] not in rec.model and "[REDACTED-" in rec.model
    seen = parse(snapshot(T, token, "m"))
    assert isinstance(seen, ModelSeen) and token[:20] not in seen.model


def test_notes_a_day_needs() -> None:
    """Records that are no messages but tell what a day held: a dreaming run, a turn that ended unanswered."""
    dream = {"type": "custom", "customType": "openclaw:bootstrap-context:full",
             "data": {"runId": "dreaming-narrative-1778526000000"}, "id": "a", "parentId": None,
             "timestamp": "2026-04-13T07:00:00.000Z"}
    assert parse(dream) == Note(ms("2026-04-13T09:00:00+02:00"))
    assert parse({**dream, "data": {"runId": "run-42"}}) is None  # an ordinary run's bootstrap entry
    failed = {"type": "custom_message", "customType": "run-failed-before-reply", "content": "This turn ended",
              "display": True, "id": "b", "parentId": "a", "timestamp": "2026-04-13T07:00:01.000Z"}
    assert parse(failed) == Note(ms("2026-04-13T09:00:01+02:00"), failed=True)
    assert parse({**failed, "timestamp": "later"}) is None


def test_model_observations() -> None:
    assert parse(model_change(T, "anthropic", "claude-opus-4-6")) == ModelSeen(T, "anthropic/claude-opus-4-6")
    # a snapshot means "tried"; its moment is data.timestamp (ms), falling back to the entry's ISO timestamp
    assert parse(snapshot(T, "google", "gemini-3-pro-preview")) == ModelSeen(T, "google/gemini-3-pro-preview",
                                                                             tried=True)
    snap = snapshot(T, "google", "g")
    snap["data"]["timestamp"] = "soon"
    assert parse(snap) == ModelSeen(T + 1, "google/g", tried=True)
    assert parse(snapshot(T, "openclaw", "delivery-mirror")) is None
    assert parse({"type": "custom", "customType": "model-snapshot", "data": [1]}) is None
    assert parse({"type": "model_change", "provider": "a", "modelId": "b"}) is None  # no moment


@pytest.mark.parametrize("record", [
    {"type": "thinking_level_change", "thinkingLevel": "low", "timestamp": "2026-04-13T07:00:00.000Z"},
    {"type": "compaction", "summary": "s", "firstKeptEntryId": "a", "tokensBefore": 1},
    {"type": "branch_summary", "fromId": "a", "summary": "s"},
    {"type": "custom", "customType": "openclaw.cache-ttl", "data": {"timestamp": T}},
    {"type": "custom_message", "customType": "openclaw.runtime-context", "content": "x", "display": False},
    {"type": "label", "targetId": "a", "label": "l"},
    {"type": "session_info", "name": "n"},
    {"type": "brand-new-kind", "message": {"role": "user", "timestamp": T}},
    {"no": "type"},
])
def test_other_and_unknown_types_are_ignored(record: dict[str, Any]) -> None:
    assert parse(record) is None


def test_v1_records_without_ids() -> None:
    rec = parse({"type": "message", "timestamp": "2025-11-02T10:00:00.000Z",
                 "message": {"role": "user", "content": "old", "timestamp": ms("2025-11-02T10:00:00+00:00")}})
    assert isinstance(rec, Message)


# --- timestamps ---


def test_message_timestamp_wins_over_entry_timestamp() -> None:
    rec = parse(user(T, "x", entry_ms=T + 86_400_000))
    assert isinstance(rec, Message) and rec.ts_ms == T


@pytest.mark.parametrize("bad", [None, "1776063521255", -5, 0, 12, 1_776_063_521, 10**20, True, [T], {"ms": T}])
def test_unusable_message_timestamp_falls_back_to_entry(bad: Any) -> None:
    rec = parse(message("user", None, "x", entry_ms=T, timestamp=bad))
    assert isinstance(rec, Message) and rec.ts_ms == T


@pytest.mark.parametrize("entry_ts", [None, "", "yesterday", "99999-01-01T00:00:00Z", "2026-04-13T07:00:00",
                                      "2026-04-13", 17, "1" * 100, "-2026-04-13T07:00:00Z"])
def test_no_usable_moment_is_a_bad_timestamp_skip(entry_ts: Any) -> None:
    rec = {"type": "message", "timestamp": entry_ts, "message": {"role": "user", "content": "x"}}
    assert parse(rec) == Skip(SkipReason.BAD_TIMESTAMP)


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"-1", b"1e400", b"99999999999999999999999"])
def test_absurd_message_timestamps_fall_back(literal: bytes) -> None:
    raw = (b'{"type":"message","id":"a","parentId":null,"timestamp":"2026-04-13T07:00:00.000Z",'
           b'"message":{"role":"user","content":"x","timestamp":' + literal + b"}}")
    rec = parse_line(raw)
    assert isinstance(rec, Message), literal
    assert rec.ts_ms == ms("2026-04-13T07:00:00+00:00")


def test_iso_entry_timestamps_with_offsets() -> None:
    rec = parse(message("user", None, "x", entry_ms=0) | {"timestamp": "2026-04-13T09:00:00.000+02:00"})
    assert isinstance(rec, Message) and rec.ts_ms == T


# --- wrong types and malformed input ---


@pytest.mark.parametrize("fields", [
    {"content": 42},
    {"content": None},
    {"content": {"type": "text"}},
    {"model": ["claude", "opus"], "provider": "anthropic"},
    {"model": {"id": "claude"}, "provider": {"name": "anthropic"}},
    {"model": 7, "provider": None},
    {"provider": ["openclaw"], "model": "delivery-mirror"},
    {"usage": "lots", "stopReason": 3, "api": []},
])
def test_wrong_field_types_still_count(fields: dict[str, Any]) -> None:
    rec = parse({"type": "message", "timestamp": "2026-04-13T07:00:00.000Z",
                 "message": {"role": "assistant", "timestamp": T, **fields}})
    assert isinstance(rec, Message)
    assert rec.model is None or isinstance(rec.model, str)


def test_lone_surrogate_escape_is_valid_json() -> None:
    # JSON.stringify writes a string cut in the middle of a surrogate pair as a "\ud83d" escape
    raw = json.dumps(tool_result(T, "cut \ud83d"), separators=(",", ":")).encode()
    assert b"\\ud83d" in raw and json.loads(raw)  # valid JSON
    assert isinstance(parse_line(raw), Message)


def test_big_numbers_elsewhere_do_not_lose_the_message() -> None:
    raw = dumps(assistant(T, "x"))[:-2] + b',"usage":{"input":123456789012345678901234567890}}}'
    assert isinstance(parse_line(raw), Message)


@pytest.mark.parametrize("raw", [
    b"not json",
    b'{"type":"message","message":{"role":"user","timestamp":1776063521255',  # partial
    b"\xff\xfe{}",
    b'{"type":"message","message":{"role":"user","content":"\xc3\x28","timestamp":1776063521255}}',
    b"[1, 2]",
    b'"message"',
    b"[" * 100_000,
    b'{"a":' * 100_000,
    b"[" * 100_000 + b"]" * 100_000,
    b'{"type":"message","message":"hello"}',
    b'{"type":"message","message":{"role":""}}',
    b'{"type":"message","message":{"role":5,"timestamp":1776063521255}}',
])
def test_malformed_lines_are_skips(raw: bytes) -> None:
    assert parse_line(raw) == Skip(SkipReason.MALFORMED)


@pytest.mark.parametrize("raw", [b"", b"   ", b"\r", b"\t \r"])
def test_blank_lines_are_nothing(raw: bytes) -> None:
    assert parse_line(raw) is None


def test_crlf_lines_parse() -> None:
    assert isinstance(parse_line(dumps(user(T, "x")) + b"\r"), Message)


# --- identity ---


def test_rewrite_copy_has_the_same_key() -> None:
    first = user(T, "same text", eid="aaaaaaaa", entry_ms=T + 5)
    copy = user(T, "same text", eid="bbbbbbbb", parent="cccccccc", entry_ms=T + 3_600_000)
    a, b = parse(first), parse(copy)
    assert isinstance(a, Message) and isinstance(b, Message)
    assert a.key == b.key and a.ts_ms == b.ts_ms


def test_different_messages_have_different_keys() -> None:
    recs = [parse(user(T, "a")), parse(user(T + 1, "a")), parse(user(T, "b")), parse(assistant(T, "a"))]
    keys = {r.key for r in recs if isinstance(r, Message)}
    assert len(keys) == 4


def test_keys_of_huge_messages_still_tell_them_apart() -> None:
    big = "x" * (1 << 20)
    a = parse(tool_result(T, big + "a"))
    b = parse(tool_result(T, big + "b"))
    c = parse(tool_result(T, "a" + big))
    assert isinstance(a, Message) and isinstance(b, Message) and isinstance(c, Message)
    assert len({a.key, b.key, c.key}) == 3
    assert 0 <= a.key < 2**63


def test_sample_lines_all_parse() -> None:
    for sid in (S_3F, S_8B, S_C7):
        recs = [parse_line(line) for line in sample(sid).splitlines()]
        assert not [r for r in recs if isinstance(r, Skip)]
        assert isinstance(recs[0], Header) and recs[0].session_id == sid


# --- days ---


def local_day(ts: int, zone: ZoneInfo) -> date:
    return datetime.fromtimestamp(ts / 1000, zone).date()


@pytest.mark.parametrize(("when", "day"), [
    # spring forward: 2026-03-29 02:00 CET -> 03:00 CEST, a 23-hour day
    ("2026-03-28T22:59:59.999+00:00", "2026-03-28"),
    ("2026-03-28T23:00:00+00:00", "2026-03-29"),
    ("2026-03-29T00:59:59+00:00", "2026-03-29"),
    ("2026-03-29T01:00:00+00:00", "2026-03-29"),
    ("2026-03-29T21:59:59.999+00:00", "2026-03-29"),
    ("2026-03-29T22:00:00+00:00", "2026-03-30"),
    # fall back: 2026-10-25 03:00 CEST -> 02:00 CET, a 25-hour day
    ("2026-10-24T21:59:59.999+00:00", "2026-10-24"),
    ("2026-10-24T22:00:00+00:00", "2026-10-25"),
    ("2026-10-25T00:30:00+00:00", "2026-10-25"),  # 02:30 CEST
    ("2026-10-25T01:30:00+00:00", "2026-10-25"),  # 02:30 CET, the repeated hour
    ("2026-10-25T22:59:59.999+00:00", "2026-10-25"),
    ("2026-10-25T23:00:00+00:00", "2026-10-26"),
])
def test_dst_days_in_berlin(when: str, day: str) -> None:
    clock = DayClock(BERLIN)
    # visit the neighbours first so the cached span of another day is in place
    clock.day(ms("2026-03-15T12:00:00+00:00"))
    assert clock.day(ms(when)).isoformat() == day
    assert DayClock(BERLIN).day(ms(when)).isoformat() == day


def test_dst_day_lengths() -> None:
    clock = DayClock(BERLIN)
    hours = lambda d: (clock.midnight_ms(d + timedelta(days=1)) - clock.midnight_ms(d)) / 3_600_000  # noqa: E731
    assert hours(date(2026, 3, 29)) == 23
    assert hours(date(2026, 10, 25)) == 25
    assert hours(date(2026, 10, 26)) == 24
    assert clock.midnight_ms(date(2026, 10, 25)) == ms("2026-10-25T00:00:00+02:00")


ZONES = ["Europe/Berlin", "America/Los_Angeles", "Australia/Lord_Howe", "Pacific/Apia", "America/Santiago",
         "Asia/Kolkata", "UTC", "America/Havana"]


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(ZONES), st.lists(st.integers(946_684_800_000, 4_102_444_800_000), min_size=1, max_size=30))
def test_day_clock_agrees_with_datetime(zone_name: str, stamps: list[int]) -> None:
    zone = ZoneInfo(zone_name)
    clock = DayClock(zone)
    for ts in stamps + sorted(stamps) + [s + d for s in stamps for d in (-1, 1, 3_600_000)]:
        assert clock.day(ts) == local_day(ts, zone)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(ZONES), st.dates(date(2001, 1, 1), date(2199, 1, 1)))
def test_midnight_is_the_first_instant_of_the_day(zone_name: str, day: date) -> None:
    assume((zone_name, day) != ("Pacific/Apia", date(2011, 12, 30)))  # a day Samoa skipped
    zone = ZoneInfo(zone_name)
    m = DayClock(zone).midnight_ms(day)
    assert local_day(m, zone) == day
    assert local_day(m - 1, zone) < day


# --- properties ---


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_parse_line_never_raises_on_bytes(raw: bytes) -> None:
    rec = parse_line(raw)
    assert rec is None or isinstance(rec, Header | Message | ModelSeen | Note | Skip)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
# Mostly plausible values, so that most examples reach the code past the role and timestamp checks.
roles = st.one_of(*[st.sampled_from(["user", "assistant", "toolResult", "custom", "assistant"])] * 3, json_values)
stamps = st.one_of(*[st.sampled_from([T, T + 1, "2026-04-13T07:00:00.000Z"])] * 2,
                   st.sampled_from([-T, 0, 10**30, math.inf, math.nan]), json_values)
names = st.one_of(st.sampled_from(["anthropic", "openclaw", "claude-opus-4-6", "delivery-mirror"]), json_values)
fields = {"content": json_values, "provider": names, "model": names, "modelId": names, "customType": json_values,
          "data": json_values, "id": json_values, "cwd": json_values}
records = st.fixed_dictionaries({"role": roles, "timestamp": stamps}, optional=fields)


@settings(max_examples=500, deadline=None)
@given(st.one_of(*[st.sampled_from(["message", "session", "model_change", "custom", "x"])] * 3, json_values),
       records, records)
def test_parse_line_never_raises_on_record_shapes(kind: Any, top: dict[str, Any], msg: dict[str, Any]) -> None:
    for custom_type in ("model-snapshot", None):
        obj: dict[str, Any] = {"type": kind, **top, "message": msg}
        if custom_type:
            obj["customType"] = custom_type
            obj["data"] = msg
        raw = json.dumps(obj, allow_nan=True).encode()
        rec = parse_line(raw)
        assert rec is None or isinstance(rec, Header | Message | ModelSeen | Note | Skip)
        if isinstance(rec, Message):
            assert 946_684_800_000 <= rec.ts_ms < 7_258_118_400_000
            assert rec.model is None or isinstance(rec.model, str)


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant", "toolResult"]), "timestamp": st.just(T)},
                             optional={k: json_values for k in ("content", "provider", "model", "usage", "api",
                                                                 "stopReason", "toolCallId", "isError")}))
def test_messages_with_any_field_values_count(msg: dict[str, Any]) -> None:
    rec = parse_line(json.dumps({"type": "message", "id": "a", "timestamp": "x", "message": msg}).encode())
    assert isinstance(rec, Message) and rec.ts_ms == T
    assert rec.model is None or (isinstance(rec.model, str) and msg["role"] == "assistant")
