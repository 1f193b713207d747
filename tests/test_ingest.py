"""ingest.py: an agent's sources read incrementally into day summaries, with real files in tmp_path.

Covers unique counting (rewrite copies, checkpoints, archives), warm runs that open nothing, appends read
alone, truncation / replacement / renames, bad input that is counted and skipped, and the property that
reading a file in any number of pieces equals reading it whole.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import zstandard
from fixtures_openclaw import (
    MIB,
    S_3F,
    S_8B,
    S_C7,
    append,
    assistant,
    conversation,
    counts,
    dumps,
    header,
    index,
    jsonl,
    message,
    ms,
    refresh,
    sample,
    tool_result,
    user,
    write,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memory_syncd.read.index import transitions_of
from memory_syncd.read.ingest import AgentIndex

SAMPLE_DAYS = {"2026-04-13": 18, "2026-04-14": 12, "2026-04-15": 5}
DAY = ms("2026-04-10T10:00:00+02:00")


def samples_dir(tmp_path: Path) -> Path:
    d = tmp_path / "sessions"
    write(d / f"{S_3F}.jsonl", sample(S_3F))
    write(d / f"{S_8B}.jsonl", sample(S_8B))
    return d


def test_samples(tmp_path: Path) -> None:
    idx = index(samples_dir(tmp_path))
    report = refresh(idx)
    assert counts(idx) == SAMPLE_DAYS
    assert report.opened == 2 and report.read_bytes == len(sample(S_3F)) + len(sample(S_8B))
    assert not idx.skipped() and not report.errors
    days = idx.days()
    # 8b2d7f41 crosses Berlin midnight: 23:55 on the 14th, 00:10 and 09:00 on the 15th
    assert days[date(2026, 4, 15)].first_ms == ms("2026-04-15T00:10:12.540+02:00")


def test_day_depends_on_the_zone(tmp_path: Path) -> None:
    idx = index(samples_dir(tmp_path), zone="UTC")
    refresh(idx)
    assert counts(idx) == {"2026-04-13": 18, "2026-04-14": 16, "2026-04-15": 1}


def test_dst_days(tmp_path: Path) -> None:
    stamps = ["2026-03-28T23:30:00+01:00", "2026-03-29T01:59:00+01:00", "2026-03-29T03:01:00+02:00",
              "2026-03-29T23:59:00+02:00", "2026-03-30T00:00:00+02:00",
              "2026-10-24T23:59:59+02:00", "2026-10-25T00:00:00+02:00", "2026-10-25T02:30:00+02:00",
              "2026-10-25T02:30:00+01:00", "2026-10-25T23:59:59+01:00", "2026-10-26T00:00:00+01:00"]
    records = [header("dst", ms(stamps[0]))] + [user(ms(s), f"m{i}") for i, s in enumerate(stamps)]
    write(tmp_path / "s" / "dst.jsonl", jsonl(records))
    idx = index(tmp_path / "s")
    refresh(idx)
    assert counts(idx) == {"2026-03-28": 1, "2026-03-29": 3, "2026-03-30": 1, "2026-10-24": 1, "2026-10-25": 4,
                           "2026-10-26": 1}
    oct25 = idx.days()[date(2026, 10, 25)]
    assert oct25.last_ms - oct25.first_ms == (25 * 3600 - 1) * 1000  # a 25-hour day, first to last second


# --- counting each message once ---


def test_rewrite_copies_count_once(tmp_path: Path) -> None:
    """A transcript rewrite re-appends later entries with new ids and entry timestamps; the copies keep
    role, message.timestamp and content."""
    records = conversation("s", DAY, 5)
    later = DAY + 3_600_000
    copies = [message(r["message"]["role"], r["message"]["timestamp"],
                      r["message"]["content"], entry_ms=later + i, eid=f"c0ffee{i:02d}",
                      **{k: v for k, v in r["message"].items() if k not in ("role", "timestamp", "content")})
              for i, r in enumerate(records[5:])]
    assert all(dumps(c) != dumps(r) for c, r in zip(copies, records[5:], strict=True))
    write(tmp_path / "s" / "s.jsonl", jsonl(records + copies))
    idx = index(tmp_path / "s")
    refresh(idx)
    assert counts(idx) == {"2026-04-10": 10}


def test_checkpoint_copy_is_not_read(tmp_path: Path) -> None:
    d = samples_dir(tmp_path)
    write(d / f"{S_3F}.checkpoint.0b6c7e2a-1f3d-4e5a-9b8c-7d6e5f4a3b2c.jsonl", sample(S_3F))
    idx = index(d)
    report = refresh(idx)
    assert counts(idx) == SAMPLE_DAYS
    assert report.opened == 2
    assert idx.skipped() == {"not a transcript": 1}


CHECKPOINT = "0b6c7e2a-1f3d-4e5a-9b8c-7d6e5f4a3b2c"


def _compact_and_truncate(d: Path, sid: str, at: int) -> None:
    """What OpenClaw does on compaction with `truncateAfterCompaction`: copy the transcript, then put a
    shorter one (header, compaction summary, the turn after it) in its place through `.truncate-tmp`."""
    primary = d / f"{sid}.jsonl"
    write(d / f"{sid}.checkpoint.{CHECKPOINT}.jsonl", primary.read_bytes())
    summary = {"type": "compaction", "id": "c1", "timestamp": "2026-04-10T12:00:00.000Z", "summary": "earlier",
               "firstKeptEntryId": "x", "tokensBefore": 1000}
    tmp = write(d / f"{sid}.jsonl.truncate-tmp", jsonl([header(sid, at), summary, user(at, "after the cut")]))
    os.rename(tmp, primary)


@pytest.mark.parametrize("watching", [True, False])
def test_a_transcript_cut_after_compaction_keeps_its_turns_through_the_checkpoint(tmp_path: Path,
                                                                                   watching: bool) -> None:
    """The compacted turns are gone from the transcript, and only the checkpoint copy holds them: it is read,
    so the day keeps its count and its content; seen replaced (the daemon, `watching`) or shorter than its copy
    (a first read after the fact)."""
    d = tmp_path / "sessions"
    start = ms("2026-04-10T08:00:00+02:00")
    write(d / "s1.jsonl", jsonl(conversation("s1", start, 3, tag="morning ")))
    idx = index(d, keep_vanished=True)
    if watching:
        refresh(idx)
    _compact_and_truncate(d, "s1", start + 4 * 3600_000)
    if not watching:
        idx = index(d)
    refresh(idx)
    assert counts(idx) == {"2026-04-10": 7}
    lines = b"\n".join(raw for _, raw in idx.day_lines(date(2026, 4, 10)))
    assert b"morning question 0" in lines and b"after the cut" in lines
    for _ in range(20):  # the transcript grows past its copy: the copy stays read
        append(d / "s1.jsonl", jsonl([user(start + 5 * 3600_000, "x" * 400)]))
    refresh(idx)
    assert b"morning question 0" in b"\n".join(raw for _, raw in idx.day_lines(date(2026, 4, 10)))


def test_archives_are_read(tmp_path: Path) -> None:
    d = tmp_path / "sessions"
    write(d / f"{S_3F}.jsonl.reset.2026-04-13T08-00-00.000Z", sample(S_3F))
    write(d / f"{S_8B}.jsonl.deleted.2026-04-16T04-00-00.000Z.zst", zstandard.ZstdCompressor().compress(sample(S_8B)))
    write(d / f"{S_C7}-topic-99.jsonl", sample(S_C7))
    idx = index(d)
    refresh(idx)
    assert counts(idx) == {**SAMPLE_DAYS, "2026-04-17": 9}
    assert refresh(idx).opened == 0


def test_same_session_in_archive_and_active_file_counts_once(tmp_path: Path) -> None:
    d = tmp_path / "sessions"
    write(d / f"{S_3F}.jsonl", sample(S_3F))
    write(d / f"{S_3F}.jsonl.reset.2026-04-13T08-00-00.000Z", sample(S_3F)[: len(sample(S_3F)) // 2])
    write(d / "copy.jsonl.deleted.2026-04-13T08-00-00.000Z.zst", zstandard.ZstdCompressor().compress(sample(S_3F)))
    idx = index(d)
    refresh(idx)
    assert counts(idx) == {"2026-04-13": 18}


def test_noise_counts_as_messages(tmp_path: Path) -> None:
    records = [header("n", DAY),
               user(DAY, "Read HEARTBEAT.md if it exists (workspace context). Follow it strictly."),
               assistant(DAY + 1, "HEARTBEAT_OK"),
               user(DAY + 2, "Pre-compaction memory flush. Store durable memories only in memory/2026-04-10.md"),
               assistant(DAY + 3, "NO_REPLY"),
               user(DAY + 4, "/model codex"),
               user(DAY + 5, 'Conversation info (untrusted metadata):\n```json\n{"a": 1}\n```\n\nhello')]
    write(tmp_path / "s" / "n.jsonl", jsonl(records))
    idx = index(tmp_path / "s")
    refresh(idx)
    assert counts(idx) == {"2026-04-10": 6}


# --- warm runs and appends ---


def test_unchanged_sources_are_not_opened(tmp_path: Path) -> None:
    idx = index(samples_dir(tmp_path))
    refresh(idx)
    report = refresh(idx)
    assert (report.opened, report.read_bytes, report.changed_days) == (0, 0, set())


def test_saved_state_opens_nothing(tmp_path: Path) -> None:
    d = samples_dir(tmp_path)
    first = index(d)
    refresh(first)
    saved = json.loads(json.dumps(first.to_json()))
    warm = index(d)
    assert warm.load_json(saved)
    report = refresh(warm)
    assert (report.opened, report.read_bytes) == (0, 0)
    assert counts(warm) == SAMPLE_DAYS


@pytest.mark.parametrize("change", [{"zone": "UTC"}, {"max_line": 4096}])
def test_saved_state_of_other_settings_is_refused(tmp_path: Path, change: dict[str, Any]) -> None:
    d = samples_dir(tmp_path)
    first = index(d)
    refresh(first)
    assert not index(d, **change).load_json(first.to_json())


@pytest.mark.parametrize("damage", [
    lambda v: v["sources"].update({"x": {"path": "p"}}),
    lambda v: v["sources"].update({"x": {**next(iter(v["sources"].values())), "identity": [1, 2]}}),
    lambda v: v.update({"retired": {"not a date": []}}),
    lambda v: v["sources"].update({"x": {**next(iter(v["sources"].values())), "summary": {"days": {"x": 1}}}}),
])
def test_damaged_saved_state_is_ignored(tmp_path: Path, damage: Any) -> None:
    d = samples_dir(tmp_path)
    first = index(d)
    refresh(first)
    saved = first.to_json()
    damage(saved)
    warm = index(d)
    assert not warm.load_json(saved)
    refresh(warm)
    assert counts(warm) == SAMPLE_DAYS


def test_append_reads_only_the_new_bytes(tmp_path: Path) -> None:
    d = samples_dir(tmp_path)
    idx = index(d)
    refresh(idx)
    extra = jsonl([user(ms("2026-04-15T10:00:00+02:00"), "one more"),
                   assistant(ms("2026-04-15T10:00:05+02:00"), "sure")])
    append(d / f"{S_8B}.jsonl", extra)
    report = refresh(idx)
    assert (report.opened, report.read_bytes, report.resets) == (1, len(extra), 0)
    assert report.changed_days == {date(2026, 4, 15)}
    assert counts(idx) == {**SAMPLE_DAYS, "2026-04-15": 7}


def test_partial_last_line_waits_for_its_end(tmp_path: Path) -> None:
    d = tmp_path / "s"
    line = dumps(user(DAY, "hello")) + b"\n"
    p = write(d / "a.jsonl", jsonl(conversation("a", DAY, 1)) + line[:20])
    idx = index(d)
    refresh(idx)
    assert counts(idx) == {"2026-04-10": 2}
    assert idx.skipped() == {"partial last line": 1}
    append(p, line[20:])
    report = refresh(idx)
    assert report.read_bytes == len(line)
    assert counts(idx) == {"2026-04-10": 3}
    assert not idx.skipped()


# --- files that change under us ---


def test_truncated_in_place_never_doubles(tmp_path: Path) -> None:
    d = tmp_path / "s"
    p = write(d / "a.jsonl", jsonl(conversation("a", DAY, 5)))
    idx = index(d)
    refresh(idx)
    kept = jsonl(conversation("a", DAY, 3))
    with open(p, "r+b") as f:  # heartbeat pruning: same inode, cut back to an earlier size
        f.truncate(len(kept))
    report = refresh(idx)
    assert report.resets == 1 and report.read_bytes == len(kept)
    assert counts(idx) == {"2026-04-10": 6}
    append(p, jsonl(conversation("a", DAY + 86_400_000, 1)[1:]))
    refresh(idx)
    assert counts(idx) == {"2026-04-10": 6, "2026-04-11": 2}
    assert counts(idx) == counts(fresh(d))


def test_truncated_and_rewritten_is_read_from_zero(tmp_path: Path) -> None:
    d = tmp_path / "s"
    old = jsonl(conversation("a", DAY, 5))
    p = write(d / "a.jsonl", old)
    idx = index(d)
    refresh(idx)
    new = jsonl(conversation("a", DAY, 3) + conversation("b", DAY + 86_400_000, 30, tag="rewritten ")[1:])
    assert new[:1024] == old[:1024] and len(new) > len(old) and new[len(old) - 1:len(old)] != b"\n"
    p.write_bytes(b"")
    p.write_bytes(new)  # same inode, same first KiB, longer than before
    report = refresh(idx)
    assert report.resets == 1 and report.read_bytes == len(new)
    assert counts(idx) == {"2026-04-10": 6, "2026-04-11": 60}
    assert counts(idx) == counts(fresh(d))


def test_truncated_to_nothing_then_refilled(tmp_path: Path) -> None:
    """OpenClaw empties a transcript without an assistant message and flushes header, user and assistant
    again later: the same messages, counted once."""
    d = tmp_path / "s"
    p = write(d / "a.jsonl", jsonl([header("a", DAY), user(DAY, "hi")]))
    idx = index(d)
    refresh(idx)
    p.write_bytes(b"")
    refresh(idx)
    assert counts(idx) == {}
    p.write_bytes(jsonl([header("a", DAY), user(DAY, "hi"), assistant(DAY + 5, "hello")]))
    refresh(idx)
    assert counts(idx) == {"2026-04-10": 2}


def test_replaced_by_rename_never_doubles(tmp_path: Path) -> None:
    """Session-file repair: malformed lines dropped, a temp file renamed over the original (new inode)."""
    d = tmp_path / "s"
    records = conversation("a", DAY, 4)
    p = write(d / "a.jsonl", jsonl(records[:3]) + b"{broken\n" + jsonl(records[3:]))
    idx = index(d)
    refresh(idx)
    assert idx.skipped() == {"malformed": 1}
    tmp = write(d / "a.jsonl.repair-1-2.tmp", jsonl(records))
    os.replace(tmp, p)
    report = refresh(idx)
    assert report.opened == 1 and report.read_bytes == len(jsonl(records))
    assert counts(idx) == {"2026-04-10": 8}
    assert not idx.skipped()
    assert len(idx.sources) == 1


def test_renamed_to_archive_is_not_read_again(tmp_path: Path) -> None:
    d = samples_dir(tmp_path)
    idx = index(d)
    refresh(idx)
    os.rename(d / f"{S_3F}.jsonl", d / f"{S_3F}.jsonl.reset.2026-04-14T02-00-00.000Z")
    write(d / "new-session.jsonl", jsonl(conversation("new", ms("2026-04-14T04:00:00+02:00"), 1)))
    report = refresh(idx)
    assert report.opened == 1  # the new session only
    assert counts(idx) == {**SAMPLE_DAYS, "2026-04-14": 14}
    assert {Path(s.path).name for s in idx.sources.values()} >= {f"{S_3F}.jsonl.reset.2026-04-14T02-00-00.000Z"}


def test_vanished_file_is_dropped_or_retired(tmp_path: Path) -> None:
    d = samples_dir(tmp_path)
    one_shot, daemon = index(d), index(d, keep_vanished=True)
    refresh(one_shot)
    refresh(daemon)
    (d / f"{S_8B}.jsonl").unlink()
    refresh(one_shot)
    refresh(daemon)
    assert counts(one_shot) == {"2026-04-13": 18}
    assert counts(daemon) == SAMPLE_DAYS


def test_daemon_counts_never_drop_after_truncation(tmp_path: Path) -> None:
    d = tmp_path / "s"
    p = write(d / "a.jsonl", jsonl(conversation("a", DAY, 5)))
    idx = index(d, keep_vanished=True)
    refresh(idx)
    p.write_bytes(jsonl(conversation("a", DAY, 2)))
    refresh(idx)
    assert counts(idx) == {"2026-04-10": 10}
    assert idx.day_count(date(2026, 4, 10)) == 10


def fresh(d: Path) -> AgentIndex:
    idx = index(d)
    refresh(idx)
    return idx


# --- bad input never stops a run ---


def test_bad_input_is_counted_and_skipped(tmp_path: Path) -> None:
    d = tmp_path / "s"
    good = conversation("g", DAY, 2)
    lines = [
        dumps(good[0]), dumps(good[1]),
        b"this is not json",
        b'{"type":"message","message":{"role":"user","content":"\xff\xfe","timestamp":1775808000000}}',
        b"[" * 100_000,
        dumps(message("user", None, "x") | {"timestamp": "99999-01-01T00:00:00Z"}),
        b'{"type":"message","timestamp":"2026-04-10T08:00:00.000Z","message":{"role":"user","timestamp":NaN}}',
        b'{"type":"message","message":{"role":"user","timestamp":-1}}',
        dumps(message("assistant", DAY + 5, 42, model=["a", "b"], provider={"x": 1})),
        dumps(good[2]), dumps(good[3]), dumps(good[4]),
    ]
    write(d / "mixed.jsonl", b"\n".join(lines) + b"\n" + b'{"type":"message","mess')
    write(d / "empty.jsonl", b"")
    write(d / "blank.jsonl", b"\n\n  \n")
    (d / "dir.jsonl").mkdir()
    (d / "away.jsonl").symlink_to(write(tmp_path / "elsewhere" / "x.jsonl", sample(S_3F)))
    idx = index(d)
    report = refresh(idx)
    assert not report.errors
    # 4 good messages, the NaN one (entry timestamp), the one with wrong field types
    assert counts(idx) == {"2026-04-10": 6}
    assert idx.skipped() == {"malformed": 3, "bad_timestamp": 2, "partial last line": 1,
                             "not a regular file": 1, "link pointing elsewhere": 1}


def test_big_lines_are_data_and_over_cap_lines_are_skipped(tmp_path: Path) -> None:
    d = tmp_path / "s"
    big = tool_result(DAY + 1, "y" * (20 * MIB))
    p = write(d / "a.jsonl", jsonl([header("a", DAY), user(DAY, "q"), big, assistant(DAY + 2, "a")]))
    idx = index(d)
    refresh(idx)
    assert counts(idx) == {"2026-04-10": 3}
    capped = index(d, max_line=MIB)
    refresh(capped)
    assert counts(capped) == {"2026-04-10": 2}
    assert capped.skipped() == {"too_long": 1}
    append(p, jsonl([user(DAY + 3, "after")]))
    assert refresh(capped).read_bytes > 0
    assert counts(capped) == {"2026-04-10": 3}
    assert capped.skipped() == {"too_long": 1}


def test_over_cap_line_being_written_never_stalls(tmp_path: Path) -> None:
    d = tmp_path / "s"
    p = write(d / "a.jsonl", jsonl([header("a", DAY), user(DAY, "q")]) + b'{"type":"message","x":"' + b"z" * 5000)
    idx = index(d, max_line=2048)
    refresh(idx)
    append(p, b"z" * 5000)
    refresh(idx)
    append(p, b'"}\n' + jsonl([assistant(DAY + 1, "done")]))
    refresh(idx)
    assert counts(idx) == {"2026-04-10": 2}
    assert idx.skipped() == {"too_long": 1}
    assert counts(idx) == counts(_fresh_capped(d, 2048))


def _fresh_capped(d: Path, cap: int) -> AgentIndex:
    idx = index(d, max_line=cap)
    refresh(idx)
    return idx


@pytest.mark.parametrize("content", [b"not zstd at all", zstandard.ZstdCompressor().compress(b"x" * 1000)[:12], b""])
def test_broken_zst_archive_is_skipped(tmp_path: Path, content: bytes) -> None:
    d = samples_dir(tmp_path)
    write(d / "bad.jsonl.deleted.2026-04-16T04-00-00.000Z.zst", content)
    idx = index(d)
    report = refresh(idx)
    assert counts(idx) == SAMPLE_DAYS
    assert sum(idx.skipped().values()) <= 1
    assert not report.errors or "bad.jsonl" in report.errors[0]


def test_skip_counts_do_not_double_on_reread(tmp_path: Path) -> None:
    d = tmp_path / "s"
    body = jsonl(conversation("a", DAY, 2)) + b"garbage\n"
    p = write(d / "a.jsonl", body)
    idx = index(d)
    refresh(idx)
    p.write_bytes(b"")
    p.write_bytes(b"G" + body[1:])  # other first bytes: a reset, read from 0
    assert refresh(idx).resets == 1
    assert idx.skipped() == {"malformed": 2}  # the first line now, and the garbage line once


def test_day_lines_return_the_raw_records_of_a_day(tmp_path: Path) -> None:
    d = samples_dir(tmp_path)
    idx = index(d)
    refresh(idx)
    lines = list(idx.day_lines(date(2026, 4, 15)))
    assert len(lines) == 5 and {s for s, _ in lines} == {S_8B}
    assert all(json.loads(raw)["type"] == "message" for _, raw in lines)


# --- the property: any split, read incrementally, equals reading whole ---


def _corpus() -> bytes:
    extra = [user(ms("2026-10-25T02:30:00+01:00"), "dst"), b"{malformed", b"x" * 3000,
             assistant(ms("2026-10-25T02:31:00+01:00"), "dst answer", "google", "gemini-3-pro-preview"),
             message("user", None, "no ts", entry_ms=ms("2026-10-25T23:59:00+01:00"))]
    tail = b"".join(e + b"\n" if isinstance(e, bytes) else dumps(e) + b"\n" for e in extra)
    return sample(S_8B) + sample(S_3F)[sample(S_3F).index(b"\n") + 1:] + tail


CORPUS = _corpus()


def _snapshot(idx: AgentIndex) -> tuple[Any, ...]:
    (state,) = idx.sources.values()
    s = state.summary
    return (counts(idx), {d: (p.keys, p.spans, p.first_ms, p.last_ms) for d, p in s.days.items()},
            [(m.ts_ms, m.session, m.model) for m in s.models], dict(s.skipped), s.session, state.tail.offset)


def _read_in_pieces(cuts: list[int], cap: int) -> tuple[Any, ...]:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / "s"
        p = write(d / "a.jsonl", b"")
        idx = index(d, max_line=cap)
        done = 0
        for c in [*sorted(cuts), len(CORPUS)]:
            append(p, CORPUS[done:c])
            done = max(done, c)
            report = refresh(idx)
            assert report.resets == 0 and not report.errors
        return _snapshot(idx)


WHOLE = {cap: _read_in_pieces([], cap) for cap in (2048, 64 * MIB)}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(0, len(CORPUS)), max_size=12), st.sampled_from([2048, 64 * MIB]))
def test_incremental_reading_equals_reading_whole(cuts: list[int], cap: int) -> None:
    assert _read_in_pieces(cuts, cap) == WHOLE[cap]


def test_whole_reading_of_the_corpus() -> None:
    snapshot = WHOLE[64 * MIB]
    assert snapshot[0] == {"2026-04-13": 18, "2026-04-14": 12, "2026-04-15": 5, "2026-10-25": 3}
    assert snapshot[3] == {"malformed": 2}
    assert WHOLE[2048][3] == {"malformed": 1, "too_long": 1}


def test_file_without_a_header_takes_its_session_id_from_its_name(tmp_path: Path) -> None:
    day = ms("2026-04-13T09:00:00+02:00")
    for sid in ("aaaa1111", "bbbb2222"):  # no session header: each file is still its own session
        write(tmp_path / "sessions" / f"{sid}.jsonl", jsonl([
            user(day, "q"), assistant(day + 1, "a", model="m1"), assistant(day + 2, "b", model="m2")]))
    write(tmp_path / "sessions" / "cccc3333.jsonl.deleted.1767225600", jsonl([assistant(day + 5, "c", model="m3")]))
    idx = index(tmp_path / "sessions")
    refresh(idx)
    assert {s.summary.session for s in idx.sources.values()} == {"aaaa1111", "bbbb2222", "cccc3333"}
    switches = transitions_of(s.summary for s in idx.sources.values())
    assert sorted((t.session, t.from_model, t.to_model) for t in switches) == [
        ("aaaa1111", "anthropic/m1", "anthropic/m2"), ("bbbb2222", "anthropic/m1", "anthropic/m2")]
