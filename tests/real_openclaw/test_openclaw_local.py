"""The real OpenClaw 2026.9.6, embedded turns (`openclaw agent --local`), against memory-syncd.

Owns the scenario without a gateway: two sessions, long answers (stored as zstd-compressed rows) and short
ones, and a `--model` switch, written while the memory-syncd daemon runs. One scenario per module (each
turn costs seconds); the tests then check, against an independent read of the store:
- `compare --json` counts every message of every day; nothing is reported skipped;
- `backfill --date D` puts every answer into its day's block; `transitions --json` lists exactly the switch;
- the daemon had each answer in the memory file within 2 s of `openclaw agent` returning (p95 over five
  turns; the agent's very first answer, which appears after the daemon started, is checked on its own);
- OpenClaw's checkpoint at the end of each turn still empties the WAL while the daemon runs (and a reader
  that holds a read transaction does stop it: the control that shows the check can fail).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from checks import answer, assert_answers_in_blocks, assert_counts, backfill_counts, check_latency, compare_days
from fake_openai import FakeOpenAI, long_text
from openclaw_install import OPENCLAW_VERSION, Install
from openclaw_world import PRIMARY, SECONDARY, World
from store_truth import Msg, Store, all_messages, connect_ro, day_counts, read_store
from syncd_runner import AUTO, AnswerWatch, Syncd, attempt, day_blocks, ok

pytestmark = pytest.mark.real_openclaw

SESSION_A = str(uuid.uuid4())
SESSION_B = str(uuid.uuid4())
LONG_TOKENS = ("WALRUS-PLAN", "HERON-PLAN", "BADGER-PLAN")
SHORT_TOKENS = ("KIWI-NOTE", "OTTER-NOTE", "LYNX-NOTE")
# (session, question, answer, --model): the fake model picks the answer by the question's "ask-…" marker;
# no question contains its answer's token.
TURNS: list[tuple[str, str, str, str | None]] = [
    (SESSION_A, "ask-a1 How should we move the nightly backups over to restic?",
     long_text("WALRUS-PLAN for the backup migration"), None),
    (SESSION_A, "ask-a2 When is the next restore drill?", "KIWI-NOTE: the restore drill is on Friday at nine.", None),
    (SESSION_B, "ask-b1 Outline a plan for the photo archive, please.",
     long_text("HERON-PLAN for the photo archive"), None),
    (SESSION_B, "ask-b2 How many snapshots do we keep?",
     "OTTER-NOTE: keep fourteen daily snapshots and eight weekly ones.", None),
    (SESSION_A, "ask-a3 And the offsite copy: what is the plan there?",
     long_text("BADGER-PLAN for the offsite copy"), SECONDARY),
]
# The last turn runs while the test itself holds a read transaction open: the control for the WAL check.
CONTROL = (SESSION_B, "ask-b3 Did the checksum run finish on both disks?",
           "LYNX-NOTE: checksums verified on both disks.", None)


def token_of(text: str) -> str:
    return text.split(" ", 1)[0].rstrip(":")


def marker_of(question: str) -> str:
    return question.split(" ", 1)[0]


@dataclass
class LocalRun:
    world: World
    syncd: Syncd
    fake: FakeOpenAI
    store: Store
    msgs: list[Msg]
    daemon_error: str | None = None
    watch: AnswerWatch | None = None
    wal_after_turn: list[tuple[str, int | None]] = field(default_factory=list)  # (token, -wal size or None)
    wal_after_control: int | None = None
    daemon_status: dict[str, Any] | None = None
    daemon_blocks: dict[str, str] = field(default_factory=dict)
    compare: Any = None  # each: the command's JSON, or `Failed`
    transitions: Any = None
    backfill: Any = None


def _wal_size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return None


@pytest.fixture(scope="module")
def run(openclaw: Install, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRun]:
    root = tmp_path_factory.mktemp("openclaw-local")
    with FakeOpenAI() as fake:
        for _, question, text, _ in [*TURNS, CONTROL]:
            fake.reply_when(marker_of(question), text)
        world = World(openclaw, root / "oc", fake)
        syncd = Syncd(world.state, world.home, root / "syncd")
        daemon_error = None
        watch: AnswerWatch | None = None
        try:
            syncd.start_daemon()  # before OpenClaw's first turn: it waits for agent main to appear
            watch = AnswerWatch(world.memory_dir).start()
        except AssertionError as e:
            daemon_error = str(e)
        wal_after: list[tuple[str, int | None]] = []
        try:
            for session, question, text, model in TURNS:
                world.agent_local(session, question, model=model)
                wal_after.append((token_of(text), _wal_size(world.wal)))
                if watch is not None:
                    watch.expect(token_of(text))
            session, question, text, _ = CONTROL
            pin = connect_ro(world.store)
            try:
                pin.execute("BEGIN")
                pin.execute("SELECT count(*) FROM transcript_events").fetchone()  # holds a read snapshot
                world.agent_local(session, question)
                wal_control = _wal_size(world.wal)
                if watch is not None:
                    watch.expect(token_of(text))  # a held reader does not stop the daemon from reading
            finally:
                with contextlib.suppress(Exception):
                    pin.execute("COMMIT")
                pin.close()
            daemon_status = None
            daemon_blocks: dict[str, str] = {}
            if watch is not None:
                watch.settle(5.0)
                watch.stop()
                daemon_status = syncd.status()
                daemon_blocks = day_blocks(world.memory_dir)
        finally:
            syncd.stop_daemon()
        store = read_store(world.store)
        msgs = all_messages(store, world.sessions_dir)
        result = LocalRun(world, syncd, fake, store, msgs, daemon_error, watch, wal_after, wal_control,
                          daemon_status, daemon_blocks)
        # memory-syncd as a user runs it, once each; the tests look at the results (or the error).
        result.compare = attempt(lambda: syncd.json("compare", "--json", "--include-today"))
        result.transitions = attempt(lambda: syncd.json("transitions", "--json"))
        result.backfill = attempt(lambda: [r for day in day_counts(msgs)
                                           for r in syncd.json("backfill", "--date", day, "--json")])
        yield result


# --- what OpenClaw wrote (facts the other tests rely on) ---

def test_openclaw_wrote_the_current_schema(run: LocalRun) -> None:
    st = run.store
    assert st.user_version == 23, f"PRAGMA user_version is {st.user_version}"
    assert st.journal_mode == "wal"
    meta = st.schema_meta[0]
    assert (meta["role"], meta["schema_version"], meta["agent_id"], meta["app_version"]) == \
        ("agent", 23, "main", OPENCLAW_VERSION), meta
    cols = st.tables["transcript_events"]
    for col in ("session_id", "seq", "event_json", "created_at", "event_zstd", "event_utf8_bytes", "navigation_json"):
        assert col in cols, f"transcript_events lacks {col}: {cols}"
    assert {"session_windows", "session_nodes", "session_transcript_active_events", "session_transcript_archives",
            "transcript_rewrite_watermarks"} <= set(st.tables)


def test_long_answers_are_compressed_rows_and_short_ones_plain(run: LocalRun) -> None:
    by_token = {}
    for e in run.store.events:
        msg = e.record.get("message")
        if e.record.get("type") == "message" and isinstance(msg, dict) and msg.get("role") == "assistant":
            for token in (*LONG_TOKENS, *SHORT_TOKENS):
                if any(isinstance(p, dict) and str(p.get("text", "")).startswith(token) for p in msg["content"]):
                    by_token[token] = e.compressed
    assert by_token == {**dict.fromkeys(LONG_TOKENS, True), **dict.fromkeys(SHORT_TOKENS, False)}


def test_both_sessions_and_every_turn_are_in_the_store(run: LocalRun) -> None:
    roles = {(m.session_id, m.role) for m in run.msgs}
    assert {(SESSION_A, "user"), (SESSION_A, "assistant"), (SESSION_B, "user"), (SESSION_B, "assistant")} <= roles
    assert sum(m.role == "assistant" for m in run.msgs) == len(TURNS) + 1
    assert answer(run.msgs, "BADGER-PLAN").model == SECONDARY.split("/", 1)[1]


# --- memory-syncd against the store ---

def test_compare_counts_equal_the_store(run: LocalRun) -> None:
    doc = ok(run.compare)
    assert_counts(compare_days(doc), day_counts(run.msgs), "compare --json --include-today",
                  f"skipped: {doc.get('skipped')}")


def test_compare_skips_nothing(run: LocalRun) -> None:
    doc = ok(run.compare)
    assert not doc.get("skipped"), f"compare reported skipped records on a clean store: {doc.get('skipped')}"


def test_backfill_writes_each_day_with_the_store_count(run: LocalRun) -> None:
    results = ok(run.backfill)
    assert_counts(backfill_counts(results), day_counts(run.msgs), "backfill --date D --json")
    assert all(r["action"] in ("created", "updated", "unchanged") for r in results), results


def test_every_answer_is_in_its_day_block(run: LocalRun) -> None:
    ok(run.backfill)
    assert_answers_in_blocks(run.world.memory_dir, run.msgs, (*LONG_TOKENS, *SHORT_TOKENS), "after backfill --date")


def test_transitions_list_exactly_the_model_switch(run: LocalRun) -> None:
    rows = ok(run.transitions)
    assert isinstance(rows, list)
    got = [(r.get("session"), r.get("from"), r.get("to")) for r in rows]
    assert got == [(SESSION_A, PRIMARY, SECONDARY)], f"transitions --json: {rows}"
    switched = answer(run.msgs, "BADGER-PLAN")
    previous = answer(run.msgs, "KIWI-NOTE")
    when = rows[0]["time"]
    assert previous.ts_ms <= _ms(when) + 1000 and _ms(when) <= switched.ts_ms + 1000, \
        f"the switch is dated {when}, outside the run that made it"


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp() * 1000)


# --- the daemon while OpenClaw writes ---

def test_daemon_has_each_answer_within_two_seconds(run: LocalRun) -> None:
    """p95 over the turns after the agent's first (five of them): the store exists, the daemon follows it."""
    assert run.daemon_error is None, run.daemon_error
    assert run.watch is not None
    check_latency(run.watch.samples[1:], run.world.memory_dir, run.syncd)


def test_daemon_notices_a_new_agent_within_two_seconds(run: LocalRun) -> None:
    """The daemon was started before OpenClaw's first turn (no agent dir, no store yet): the first answer
    must reach the memory file as quickly as the later ones."""
    assert run.daemon_error is None, run.daemon_error
    assert run.watch is not None
    check_latency(run.watch.samples[:1], run.world.memory_dir, run.syncd, minimum=1)


def test_daemon_counts_today_like_the_store(run: LocalRun) -> None:
    assert run.daemon_error is None, run.daemon_error
    today = max(day_counts(run.msgs))
    want = day_counts(run.msgs)[today]
    status = run.daemon_status or {}
    found = AUTO.findall(run.daemon_blocks.get(today, ""))
    assert (status.get("messages_today"), found) == (want, [str(want)]), \
        f"store has {want} messages today; daemon status says {status.get('messages_today')}, its block says " \
        f"{found}\ndaemon log:\n{run.syncd.log_tail()}"


def test_openclaw_checkpoints_still_empty_the_wal_while_the_daemon_runs(run: LocalRun) -> None:
    assert run.daemon_error is None, run.daemon_error
    # The control first: with a read transaction held open, OpenClaw's checkpoint cannot empty the WAL.
    assert run.wal_after_control, f"control failed: the WAL was emptied ({run.wal_after_control}) although a " \
                                  "read transaction was held open, so this check could not see a pinned WAL"
    pinned = [(token, size) for token, size in run.wal_after_turn if size]
    assert not pinned, f"after these turns the -wal file was left non-empty while memory-syncd ran (a reader kept " \
                       f"OpenClaw's TRUNCATE checkpoint from finishing): {pinned}"
