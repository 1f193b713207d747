"""The saved index is written source by source, reusing the JSON of sources that did not move since the
last save: what is saved must always be exactly `AgentIndex.to_json()`, and load back to the same counts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from fixtures_openclaw import S_3F, S_8B, append, conversation, index, jsonl, ms, refresh, sample, write

from memory_syncd.read import cache


def _same(idx: object) -> None:
    assert json.loads(cache.encode(idx)) == json.loads(json.dumps(idx.to_json()))  # type: ignore[attr-defined]


def test_encode_is_to_json_through_appends_resets_and_deletes(tmp_path: Path) -> None:
    sessions = tmp_path / "sessions"
    write(sessions / f"{S_3F}.jsonl", sample(S_3F))
    write(sessions / f"{S_8B}.jsonl", sample(S_8B))
    idx = index(sessions)
    refresh(idx)
    _same(idx)
    _same(idx)  # all reused
    append(sessions / f"{S_8B}.jsonl", jsonl(conversation(S_8B, ms("2026-04-16T09:00:00+02:00"), 3)[1:]))
    refresh(idx)
    _same(idx)  # one source serialized again
    write(sessions / f"{S_3F}.jsonl", sample(S_3F)[: len(sample(S_3F)) // 2])  # truncated: read again
    refresh(idx)
    _same(idx)
    (sessions / f"{S_8B}.jsonl").unlink()
    refresh(idx)
    _same(idx)
    path = tmp_path / "state" / "cache.json"
    assert cache.save(idx, path) is None
    again = index(sessions)
    assert cache.load(again, path)
    assert again.days() == idx.days()


def test_two_indexes_never_share_saved_json(tmp_path: Path) -> None:
    a_dir, b_dir = tmp_path / "a", tmp_path / "b"
    write(a_dir / f"{S_3F}.jsonl", sample(S_3F))
    shutil.copytree(a_dir, b_dir)
    append(b_dir / f"{S_3F}.jsonl", jsonl(conversation(S_3F, ms("2026-04-16T09:00:00+02:00"), 2)[1:]))
    a, b = index(a_dir), index(b_dir)
    refresh(a)
    refresh(b)
    _same(a)
    _same(b)
    _same(a)
