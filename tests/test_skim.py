"""skim.py and the skeleton path of parse_line: a big line parsed with its long strings left out gives
exactly what the whole parse gives, valid or not, whatever the strings hold and wherever they sit.

The window, piece and size limits are shrunk here so that small lines take the skeleton path; the
reference is the same `parse_line` with the skeleton path switched off."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fixtures_openclaw import assistant, dumps, header, message, ms, snapshot, tool_result, user
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memory_syncd.read import parse, skim
from memory_syncd.read.parse import Message, parse_line

T = ms("2026-04-13T09:00:00+02:00")
SMALL = {"MIN_SIZE": 0, "_WINDOW": 64, "_PIECE": 48, "_MAX_KEPT": 4096}


@pytest.fixture(autouse=True)
def small_limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in SMALL.items():
        monkeypatch.setattr(skim, name, value)
    yield


def whole(raw: bytes) -> Any:
    """What parse_line gives without the skeleton path."""
    old = skim.MIN_SIZE
    skim.MIN_SIZE = 1 << 62
    try:
        return parse_line(raw)
    finally:
        skim.MIN_SIZE = old


def same(raw: bytes) -> Any:
    got = parse_line(raw)
    assert got == whole(raw), raw[:300]
    return got


# Text like tool output: quotes, backslashes, newlines and tabs (escaped by the writer), accents, emoji,
# CJK, and the characters a cut must not split.
_ALPHABET = st.sampled_from(['"', "\\", "\n", "\t", "\x00", "\x1f", "/", "u", "a", "f", "0", "9", " ", "é",
                             "→", "🙂", "中", "{", "[", "}", "]", ":", ",", "\ud83d"])
TEXT = st.text(_ALPHABET, min_size=0, max_size=400)


def big_result(text: str, shown: str = "", **fields: Any) -> dict[str, Any]:
    rec = tool_result(T, shown or "[output truncated]")
    rec["message"]["details"] = {"status": "completed", "aggregated": text, "cwd": "/w", **fields}
    return rec


def raw_of(obj: Any, *, ascii_only: bool = False) -> bytes:
    # json.dumps escapes the lone surrogate as `\ud83d`, as JSON.stringify does for a cut emoji
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


# --- it is used, and it leaves the big strings out ---


def test_a_big_tool_result_is_parsed_from_a_small_skeleton() -> None:
    raw = raw_of(big_result("log line \"quoted\" é 🙂\n" * 200, shown="tail 🙂" * 30))
    skeleton = skim.skeleton(raw)
    assert skeleton is not None and len(skeleton) < 500 and skeleton.count(skim.MARK) == 2
    got = same(raw)
    assert isinstance(got, Message) and got.role == "toolResult"


def test_a_line_without_long_strings_has_no_skeleton() -> None:
    assert skim.skeleton(dumps(user(T, "short"))) is None
    assert skim.skeleton(b"[" + b"1," * 5000 + b"1]") is None  # big, but not in strings: parsed whole


def test_real_size_limits_leave_small_lines_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(skim, "MIN_SIZE", 1 << 20)
    raw = raw_of(big_result("x" * 200_000))
    assert parse_line(raw) == whole(raw)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXT, shown=TEXT, extra=TEXT, ascii_only=st.booleans())
def test_skeleton_parse_equals_whole_parse(text: str, shown: str, extra: str, ascii_only: bool) -> None:
    rec = big_result(text * 3, shown=shown, note=extra)
    same(raw_of(rec, ascii_only=ascii_only))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXT, where=st.sampled_from(["thinking", "user", "image", "compaction", "custom", "key", "list"]))
def test_long_strings_anywhere(text: str, where: str) -> None:
    long = text * 4 + "x" * 100
    recs: dict[str, Any] = {
        "thinking": message("assistant", T, [{"type": "thinking", "thinking": long}, {"type": "text", "text": "ok"}],
                            provider="anthropic", model="claude-opus-4-6", stopReason="stop"),
        "user": user(T, long),
        "image": message("user", T, [{"type": "image", "data": long, "mimeType": "image/png"}]),
        "compaction": {"type": "compaction", "id": "9f3b27aa", "parentId": None, "timestamp": "2026-04-13T07:00:00Z",
                       "summary": long, "firstKeptEntryId": "77f0aa02", "tokensBefore": 1},
        "custom": {"type": "custom", "customType": "openclaw:bootstrap-context:full",
                   "data": {"runId": "dreaming-narrative-1", "files": long}, "id": "a", "parentId": None,
                   "timestamp": "2026-04-13T07:00:00.000Z"},
        "key": message("toolResult", T, [], details={long: 1, long + "y": 2}),
        "list": message("toolResult", T, [long, long, {"x": [long]}]),
    }
    same(raw_of(recs[where]))


# --- fields the index reads, when they are the long strings ---


@pytest.mark.parametrize("field", ["role", "provider", "model", "stopReason", "timestamp"])
def test_a_long_field_the_parse_reads_is_parsed_whole(field: str) -> None:
    rec = assistant(T, "answer")
    rec["message"][field] = "openclaw-" + "m" * 500
    same(raw_of(rec))


@pytest.mark.parametrize("rec", [
    header("s" * 300, T), header("s", T, cwd="/w" * 300),
    {"type": "model_change", "id": "a", "parentId": None, "timestamp": "2026-04-13T07:00:00.000Z",
     "provider": "p" * 300, "modelId": "m"},
    snapshot(T, "anthropic", "m" * 300),
    {"type": "custom", "customType": "openclaw:bootstrap-context:full", "id": "a", "parentId": None,
     "data": {"runId": "dreaming-narrative-" + "r" * 300}, "timestamp": "2026-04-13T07:00:00.000Z"},
    {"type": "custom_message", "customType": "run-failed-before-reply" + "x" * 300, "content": "c" * 300,
     "id": "a", "parentId": None, "timestamp": "2026-04-13T07:00:00.000Z"},
    {"type": "message" * 50, "message": {"role": "user", "content": "c" * 300, "timestamp": T}},
])
def test_long_header_model_and_note_fields(rec: dict[str, Any]) -> None:
    same(raw_of(rec))


def test_the_marker_text_in_a_read_field_is_parsed_whole() -> None:
    rec = big_result("z" * 300)
    rec["message"]["role"] = skim.MARK_TEXT
    assert same(raw_of(rec)) == Message(T, skim.MARK_TEXT, parse.message_key(raw_of(rec), rec["message"]), None)


def test_without_the_message_key_bytes_the_content_is_hashed_whole() -> None:
    rec = big_result("z" * 300)
    raw = json.dumps(rec).encode()  # ", " and ": " separators: no `"message":` bytes
    assert skim.skeleton(raw) is not None
    same(raw)


# --- what the whole parse rejects (or accepts only through the json module) ---

_BAD = [b"\x01", b"\x1f", b"\\x", b"\\u12", b"\\u12G4", b"\\", b'"', b"\xff", b"\xc3", b"\xed\xa0\x80", b"\\ud83d",
        b"\\udc00x", b"\n", b'"}', b'",', b"\\\\", b'\\"']


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXT, bad=st.sampled_from(_BAD), at=st.floats(0, 1))
def test_damaged_long_strings(text: str, bad: bytes, at: float) -> None:
    raw = raw_of(big_result("y" * 100 + text * 2 + "y" * 100))
    start = raw.index(b'"aggregated":"') + 14
    end = raw.index(b'","cwd"')
    i = start + int(at * (end - start))
    same(raw[:i] + bad + raw[i:])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXT, cut=st.floats(0, 1), junk=st.binary(max_size=4))
def test_damaged_anywhere(text: str, cut: float, junk: bytes) -> None:
    raw = raw_of(big_result("w" * 200 + text, shown=text))
    i = int(cut * len(raw))
    same(raw[:i] + junk + raw[i + len(junk):])
    same(raw[:i])  # cut short, as a torn line is


def test_a_cut_never_splits_an_escape_or_a_character() -> None:
    # Runs of what a cut must not follow (hex digits, `u`, backslashes) and multi-byte characters
    for text in ["\\u00e9" * 40, "0123456789abcdef" * 20, "中" * 100, "🙂" * 80, "\\\\\\\"" * 50,
                 '"' * 300]:  # the last: more escaped quotes in a piece than `find` steps over
        raw = raw_of(big_result(text))
        same(raw)
    assert isinstance(parse_line(raw_of(big_result("é" * 400))), Message)


def test_end_of_a_string_full_of_escaped_quotes() -> None:
    # more escaped quotes before the end than `find` steps over: the body pattern finds it
    body = b'\\"' * 40 + b"\\\\"
    assert skim._end_in(body + b'"tail', 0, len(body) + 5) == len(body)
    assert skim._end_in(body + b"\\q", 0, len(body) + 2) == -1
