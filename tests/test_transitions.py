"""`memory-syncd transitions`: changes of the answering model within a session; pseudo-models, snapshots of
attempts and failed attempts never count (the failed ones are fallbacks tried)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fixtures_openclaw import (
    S_3F,
    S_C7,
    assistant,
    header,
    index,
    invoke,
    jsonl,
    message,
    model_change,
    ms,
    refresh,
    snapshot,
    user,
    write,
)

from memory_syncd.read.index import ModelObs, SourceDays, transitions_of, walk_models

OPUS_TO_CODEX = {"time": "2026-04-13T09:41:02+02:00", "session": S_3F,
                 "from": "anthropic/claude-opus-4-6", "to": "openai-codex/gpt-5.3-codex"}
SONNET_TO_GEMINI = {"time": "2026-04-17T14:04:57+02:00", "session": S_C7,
                    "from": "anthropic/claude-sonnet-4-6", "to": "google/gemini-3-pro-preview"}


def transitions_json(*args: str) -> list[dict[str, Any]]:
    result = invoke("transitions", "--json", *args)
    assert result.exit_code == 0, result.stderr
    value = json.loads(result.stdout)
    assert isinstance(value, list)
    return value


def test_samples(openclaw_home: Path) -> None:
    assert transitions_json() == [OPUS_TO_CODEX, SONNET_TO_GEMINI]


@pytest.mark.parametrize(("args", "expected"), [
    (("--date", "2026-04-13"), [OPUS_TO_CODEX]),
    (("--date", "2026-04-14"), []),
    (("--date", "2026-04-17"), [SONNET_TO_GEMINI]),
    (("--since", "2026-04-14"), [SONNET_TO_GEMINI]),
    (("--since", "2026-04-13"), [OPUS_TO_CODEX, SONNET_TO_GEMINI]),
    (("--since", "2026-04-18"), []),
    (("--agent", "work"), [SONNET_TO_GEMINI]),
])
def test_filters(openclaw_home: Path, args: tuple[str, ...], expected: list[dict[str, str]]) -> None:
    assert transitions_json(*args) == expected


def test_text_output(openclaw_home: Path) -> None:
    result = invoke("transitions")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f"2026-04-13T09:41:02+02:00  {S_3F}  anthropic/claude-opus-4-6 -> openai-codex/gpt-5.3-codex",
        f"2026-04-17T14:04:57+02:00  {S_C7}  anthropic/claude-sonnet-4-6 -> google/gemini-3-pro-preview",
    ]
    assert invoke("transitions", "--date", "2026-04-01").stdout == "no model transitions\n"


def test_times_follow_the_zone(openclaw_home: Path) -> None:
    rows = transitions_json("--timezone", "UTC")
    assert [r["time"] for r in rows] == ["2026-04-13T07:41:02+00:00", "2026-04-17T12:04:57+00:00"]


T = ms("2026-04-10T10:00:00+02:00")


def run_session(tmp_path: Path, records: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    write(tmp_path / "s" / "a.jsonl", jsonl(records))
    idx = index(tmp_path / "s")
    refresh(idx)
    return [(t.session, t.from_model, t.to_model) for t in transitions_of(s.summary for s in idx.sources.values())]


@pytest.mark.parametrize("pseudo", [
    ("openclaw", "delivery-mirror"), ("openclaw", "gateway-injected"), ("openclaw", "acp-runtime"),
    ("openclaw", "something-new"), ("openai", "delivery-mirror"),
])
def test_pseudo_models_never_count(tmp_path: Path, pseudo: tuple[str, str]) -> None:
    records = [header("s1", T), user(T, "q"), assistant(T + 1, "a"), assistant(T + 2, "mirror", *pseudo),
               snapshot(T + 3, *pseudo), model_change(T + 4, *pseudo), user(T + 5, "q2"), assistant(T + 6, "b")]
    assert run_session(tmp_path, records) == []


def test_snapshots_and_model_changes_count(tmp_path: Path) -> None:
    records = [header("s1", T), model_change(T, "anthropic", "claude-opus-4-6"), user(T + 1, "q"),
               snapshot(T + 2, "openai-codex", "gpt-5.3-codex"), user(T + 3, "q2"),
               assistant(T + 4, "a", "openai-codex", "gpt-5.3-codex"),
               assistant(T + 5, "b", "anthropic", "claude-opus-4-6")]
    assert run_session(tmp_path, records) == [
        ("s1", "anthropic/claude-opus-4-6", "openai-codex/gpt-5.3-codex"),
        ("s1", "openai-codex/gpt-5.3-codex", "anthropic/claude-opus-4-6"),
    ]


def test_changes_between_sessions_are_not_transitions(tmp_path: Path) -> None:
    write(tmp_path / "s" / "a.jsonl", jsonl([header("s1", T), assistant(T, "a", "anthropic", "opus")]))
    write(tmp_path / "s" / "b.jsonl", jsonl([header("s2", T + 9), assistant(T + 10, "b", "google", "gemini")]))
    idx = index(tmp_path / "s")
    refresh(idx)
    assert transitions_of(s.summary for s in idx.sources.values()) == []


def test_rewrite_copies_do_not_repeat_a_transition(tmp_path: Path) -> None:
    answer = assistant(T + 2, "b", "google", "gemini")
    copy = {**answer, "id": "copy0001", "timestamp": "2026-04-10T09:00:00.000Z"}
    records = [header("s1", T), assistant(T + 1, "a", "anthropic", "opus"), answer, copy, copy]
    assert run_session(tmp_path, records) == [("s1", "anthropic/opus", "google/gemini")]


def test_models_of_wrong_type_are_no_models(tmp_path: Path) -> None:
    records = [header("s1", T), assistant(T + 1, "a", "anthropic", "opus"),
               {**assistant(T + 2, "b"), "message": {**assistant(T + 2, "b")["message"], "model": ["x"]}},
               assistant(T + 3, "c", "anthropic", "opus")]
    assert run_session(tmp_path, records) == []


def test_transitions_of_merges_sources_per_session() -> None:
    a, b = SourceDays(session="s"), SourceDays(session="s")
    a.models = [ModelObs(1, "s", "m1"), ModelObs(3, "s", "m2")]
    b.models = [ModelObs(3, "s", "m2"), ModelObs(5, "s", "m1"), ModelObs(2, "other", "m9")]
    assert [(t.ts_ms, t.from_model, t.to_model) for t in transitions_of([a, b])] == [(3, "m1", "m2"), (5, "m2", "m1")]


# --- answering models only: a snapshot is an attempt, a failure is no answer ---


def failed(at_ms: int, provider: str, model: str, error: str = "429 rate_limit_error") -> dict[str, Any]:
    return message("assistant", at_ms, [], api="x", provider=provider, model=model, stopReason="error",
                   errorMessage=error)


def run_dated(tmp_path: Path, records: list[dict[str, Any]]) -> list[tuple[int, str, str]]:
    write(tmp_path / "s" / "a.jsonl", jsonl(records))
    idx = index(tmp_path / "s")
    refresh(idx)
    return [(t.ts_ms, t.from_model, t.to_model) for t in transitions_of(s.summary for s in idx.sources.values())]


def test_fallback_attempts_that_never_answered_are_no_switches(tmp_path: Path) -> None:
    """Every attempt leaves a snapshot (and, before 2026.9, an error row): none of them is a switch."""
    records = [header("s1", T), model_change(T, "anthropic", "opus"), user(T + 1, "q"),
               assistant(T + 2, "a", "anthropic", "opus"),
               user(T + 10, "heartbeat"), failed(T + 11, "anthropic", "opus"), snapshot(T + 12, "openai", "gpt"),
               failed(T + 13, "openai", "gpt", "Request timed out"), snapshot(T + 14, "google", "gemini"),
               failed(T + 15, "google", "gemini"), snapshot(T + 20, "anthropic", "opus"), user(T + 21, "q2"),
               assistant(T + 22, "b", "anthropic", "opus")]
    assert run_dated(tmp_path, records) == []


def test_a_switch_is_a_change_of_the_answering_model(tmp_path: Path) -> None:
    """Dated at the snapshot that started the run which answered; after a failed run, at the answer."""
    records = [header("s1", T), model_change(T, "anthropic", "opus"), user(T + 1, "q"),
               assistant(T + 2, "a", "anthropic", "opus"),
               user(T + 10, "q2"), failed(T + 11, "anthropic", "opus"), snapshot(T + 12, "google", "gemini"),
               assistant(T + 13, "b", "google", "gemini"),
               snapshot(T + 20, "anthropic", "opus"), user(T + 21, "q3"),
               {"type": "custom_message", "customType": "run-failed-before-reply", "content": "ended",
                "display": True, "id": "f1", "parentId": None, "timestamp": "2026-04-10T08:00:00.030Z"},
               user(T + 40, "q4"), assistant(T + 41, "c", "anthropic", "opus")]
    assert run_dated(tmp_path, records) == [(T + 12, "anthropic/opus", "google/gemini"),
                                            (T + 41, "google/gemini", "anthropic/opus")]


@pytest.mark.parametrize(("observations", "switches", "fallbacks"), [
    # a change, then answers on the same model: nothing
    ([(1, "change", "a"), (2, "tried", "a"), (3, "answer", "a")], [], {}),
    # the primary fails, the second fallback answers: one switch, one fallback tried without an answer
    ([(1, "change", "a"), (2, "failed", "a"), (3, "tried", "b"), (4, "failed", "b"), (5, "tried", "c"),
      (6, "answer", "c")], [(5, "a", "c")], {"b": 1}),
    # everything fails, then the primary answers again: no switch, both fallbacks counted once
    ([(1, "answer", "a"), (2, "failed", "a"), (3, "tried", "b"), (4, "failed", "b"), (5, "tried", "c"),
      (6, "failed", "c"), (7, "tried", "a"), (8, "answer", "a")], [], {"b": 1, "c": 1}),
    # an explicit model_change is a switch of its own
    ([(1, "answer", "a"), (2, "change", "b"), (3, "answer", "b")], [(2, "a", "b")], {}),
    # the day ends on attempts that never answered
    ([(1, "answer", "a"), (2, "tried", "b"), (3, "failed", "b")], [], {"b": 1}),
])
def test_walk_models(observations: list[tuple[int, str, str]], switches: list[tuple[int, str, str]],
                     fallbacks: dict[str, int]) -> None:
    got_switches, got_fallbacks = walk_models(observations)
    assert got_switches == switches and dict(got_fallbacks) == fallbacks


def test_observation_kinds_survive_the_cache(tmp_path: Path) -> None:
    records = [header("s1", T), model_change(T, "anthropic", "opus"), snapshot(T + 1, "google", "gemini"),
               user(T + 2, "q"), failed(T + 3, "google", "gemini"), assistant(T + 4, "a", "anthropic", "opus")]
    write(tmp_path / "s" / "a.jsonl", jsonl(records))
    idx = index(tmp_path / "s")
    refresh(idx)
    (state,) = idx.sources.values()
    kinds = [(m.model, m.kind) for m in state.summary.models]
    assert kinds == [("anthropic/opus", "change"), ("google/gemini", "tried"), ("google/gemini", "failed"),
                     ("anthropic/opus", "answer")]
    assert SourceDays.from_json(json.loads(json.dumps(state.summary.to_json()))).models == state.summary.models
