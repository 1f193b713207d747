"""ingest.py's shared reading (`stale`, `store_chunks`, `read_files`, `adopt`): sources read in another process (a
pickled copy of the index here) and adopted, then a refresh, give the index a plain refresh gives: the same
sources in the same order, the same summaries, with JSONL files, a SQLite store (whole, or cut into runs of
sessions read in any order), its archives appearing and going."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from zoneinfo import ZoneInfo

from fixtures_openclaw import (
    assistant,
    conversation,
    header,
    index,
    jsonl,
    model_change,
    ms,
    refresh,
    snapshot,
    user,
    write,
)
from test_store_2026 import Store, long_answer

from memory_syncd.read.index import transitions_of
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


DAY3 = ms("2026-09-22T09:00:00+02:00")


def store_with_sessions(tmp_path: Path) -> Store:
    """A store whose sessions lean on each other across any cut: a model set in one session before its day's
    first message (in a later session), a note after a day's messages in an earlier one, switches, compressed
    answers, a session on three days."""
    db = Store(tmp_path / "agent" / "openclaw-agent.sqlite")
    db.add("a-early", conversation("a-early", DAY1, 3, tag="a-"))
    db.add("b-switch", [header("b-switch", DAY3 - 7200_000), model_change(DAY3 - 7200_000, "openai", "gpt-5")])
    db.add("c-day3", [*conversation("c-day3", DAY3, 2, tag="c-"), long_answer(DAY3 + 500_000, "C-LONG"),
                      snapshot(DAY3 + 600_000, "openai", "gpt-5"), assistant(DAY3 + 700_000, "on gpt", "openai",
                                                                             "gpt-5")])
    db.add("d-late-note", [header("d-late-note", DAY3 + 800_000), model_change(DAY3 + 800_000, "google", "gemini")])
    db.add("e-three-days", [header("e-three-days", DAY1), user(DAY1 + 5, "one"), long_answer(DAY2, "E-TWO"),
                            user(DAY3 + 900_000, "three"), assistant(DAY3 + 900_001, "3", "google", "gemini")])
    for n in range(5):
        db.add(f"f{n}", conversation(f"f{n}", DAY2 + n * 1000, 2 + n, tag=f"f{n}-"))
    return db


def chunked(idx: AgentIndex, order: list[int] | None = None, drop: int | None = None) -> int:
    """Read the store in chunks of one session each, by copies of `idx` in a scrambled order (`drop`: a chunk
    whose reader died), adopt them, then refresh; return how many chunks there were."""
    clock = DayClock(ZoneInfo(idx.timezone))
    size = next(n for k, n in idx.stale().items() if k.startswith("sqlite:"))
    chunks = [c for _, c in idx.store_chunks(size, 1)]
    for i in order or list(range(len(chunks)))[::-1]:
        if i == drop:
            continue
        copy = pickle.loads(pickle.dumps(idx))
        idx.adopt(pickle.loads(pickle.dumps(copy.read_files([chunks[i]], clock))))
    refresh(idx)
    return len(chunks)


def test_a_store_read_in_chunks_equals_one_refresh(tmp_path: Path) -> None:
    db = store_with_sessions(tmp_path)
    sessions = tmp_path / "sessions"
    plain, split = index(sessions, sqlite=db.path), index(sessions, sqlite=db.path)
    refresh(plain)
    assert chunked(split) == 10
    assert state(split) == state(plain)  # the same models in the same order, the same spans and waiting records
    assert split.days() == plain.days() and len(transitions_of([s.summary for s in split.sources.values()])) == 2

    db.add("c-day3", [user(DAY3 + 3600_000, "more"), assistant(DAY3 + 3600_001, "yes", "openai", "gpt-5")])
    db.add("a-early", [model_change(DAY2 + 10, "openai", "gpt-5")])  # a note for a day a later session holds
    db.add("g-new", conversation("g-new", DAY3, 2, tag="g-"))
    db.con.execute("DELETE FROM transcript_events WHERE session_id = 'f1' AND seq = 0")  # read f1 again, whole
    refresh(plain)
    assert chunked(split, order=[2, 0, 3, 1]) == 4
    assert state(split) == state(plain)


def test_a_chunk_nobody_read_is_read_by_the_refresh(tmp_path: Path) -> None:
    db = store_with_sessions(tmp_path)
    sessions = tmp_path / "sessions"
    plain, split = index(sessions, sqlite=db.path), index(sessions, sqlite=db.path)
    report = refresh(plain)
    chunked(split, drop=4)
    assert split.days() == plain.days() and split.skipped() == plain.skipped()
    assert (transitions_of([s.summary for s in split.sources.values()])
            == transitions_of([s.summary for s in plain.sources.values()]))
    assert report.read_bytes > 0 and refresh(split).read_bytes == 0  # and the cursor knows it all now


def test_a_small_or_unreadable_store_is_not_cut(tmp_path: Path) -> None:
    db = store_with_sessions(tmp_path)
    idx = index(tmp_path / "sessions", sqlite=db.path)
    size = idx.stale()[f"sqlite:{db.path}"]
    assert idx.store_chunks(size, size) == []  # one chunk is no cut
    assert len(idx.store_chunks(size, size // 3)) in (2, 3, 4)
    db.con.close()
    for junk in (Path(f"{db.path}-wal"), Path(f"{db.path}-shm")):
        junk.unlink(missing_ok=True)
    db.path.write_bytes(b"not a database, " * 512)
    assert idx.store_chunks(size, 1) == []
