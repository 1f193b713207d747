"""ingest.py's shared reading (`stale`, `read_files`, `adopt`): sources read in another process (a pickled copy
of the index here) and adopted, then a refresh, give the index a plain refresh gives: the same sources in
the same order, the same summaries, with JSONL files, a SQLite store, its archives appearing and going."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from zoneinfo import ZoneInfo

from fixtures_openclaw import assistant, conversation, header, index, jsonl, ms, refresh, user, write
from test_store_2026 import Store

from memory_syncd.read.ingest import AgentIndex
from memory_syncd.read.parse import DayClock

DAY1 = ms("2026-09-20T09:00:00+02:00")
DAY2 = ms("2026-09-21T09:00:00+02:00")


def shared(idx: AgentIndex, readers: int = 2) -> None:
    """Deal `stale()` out to `readers` readers: copies of `idx` (the first of them gets the store), and last
    `idx` itself; adopt what the copies read, then refresh."""
    clock = DayClock(ZoneInfo(idx.timezone))
    keys = sorted(idx.stale(), key=lambda k: (not k.startswith("sqlite:"), k))
    parts = [keys[n::readers] for n in range(readers)]
    copies = [pickle.loads(pickle.dumps(idx)) for _ in range(readers - 1)]
    idx.read_files(parts[-1], clock)
    for other, part in zip(copies, parts, strict=False):
        idx.adopt(pickle.loads(pickle.dumps(other.read_files(part, clock))))
    refresh(idx)


def state(idx: AgentIndex) -> tuple[list[str], str]:
    return list(idx.sources), json.dumps(idx.to_json(), sort_keys=True)


def test_shared_reading_equals_a_refresh(tmp_path: Path) -> None:
    db = Store(tmp_path / "agent" / "openclaw-agent.sqlite")
    sessions = tmp_path / "sessions"
    db.add("s1", conversation("s1", DAY1, 5, tag="s1-"))
    db.add("gone", [header("gone", DAY1), user(DAY1, "to be deleted"), assistant(DAY1 + 1, "bye")])
    for n in range(4):
        write(sessions / f"f{n}.jsonl", jsonl(conversation(f"f{n}", DAY1 + n * 1000, 3 + n, tag=f"f{n}-")))
    plain, split = index(sessions, sqlite=db.path), index(sessions, sqlite=db.path)
    refresh(plain)
    shared(split)
    assert state(split) == state(plain)

    db.delete_session("gone", sessions)  # an archive row and its file appear
    db.add("s2", [user(DAY2, "later")])
    write(sessions / "f9.jsonl", jsonl([header("f9", DAY2), user(DAY2, "new file"), assistant(DAY2 + 1, "ok")]))
    refresh(plain)
    shared(split, readers=3)
    assert state(split) == state(plain)
    assert any(k.startswith("archive:") for k in split.sources)

    db.con.execute("DELETE FROM session_transcript_archives")  # the archive row goes
    db.add("s2", [user(DAY2 + 5, "again")])
    refresh(plain)
    shared(split)
    assert state(split) == state(plain)
    assert not any(k.startswith("archive:") for k in split.sources)
    assert split.days() == plain.days()


def test_a_source_left_unread_is_read_by_the_refresh(tmp_path: Path) -> None:
    sessions = tmp_path / "sessions"
    for n in range(3):
        write(sessions / f"f{n}.jsonl", jsonl(conversation(f"f{n}", DAY1, 2 + n, tag=f"f{n}-")))
    plain, split = index(sessions), index(sessions)
    refresh(plain)
    split.read_files(sorted(split.stale())[:1], DayClock(ZoneInfo(split.timezone)))  # a helper that died
    report = refresh(split)
    assert report.opened == 2
    assert state(split) == state(plain)
