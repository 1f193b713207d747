"""The real OpenClaw 2026.9.6 gateway on a loopback port, against memory-syncd.

Owns the scenario that needs a gateway: turns through it (`openclaw agent --session-key …`), a `/new` reset,
`openclaw sessions delete`, a heartbeat run (`openclaw system event --mode now`) and an isolated cron run
(`openclaw cron add --session isolated` + `cron run --wait`), all while the memory-syncd daemon runs and the
gateway holds the store open (so only the `-wal` file changes). Copies of the store are taken mid-write
(the main file and its `-wal`, not checkpointed). The tests then check, against an independent read:
- what OpenClaw wrote for each of these (the facts memory-syncd relies on);
- `compare --json` counts every message, the deleted session's included; nothing is reported skipped;
- `backfill --date D` puts every answer into its day's block, the deleted session's and the cron run's
  too; heartbeat acks are counted but not rendered; `transitions --json` lists no switch (there was none);
- memory-syncd reads every committed row from a store copied mid-write;
- the daemon (started once the store exists) had each answer in the memory file within 2 s of
  `openclaw agent` returning (p95 over five turns), counted
  today like the store, and did not keep the gateway's final checkpoint from emptying the WAL.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from checks import answer, assert_answers_in_blocks, assert_counts, backfill_counts, check_latency, compare_days
from fake_openai import FakeOpenAI, long_text
from openclaw_install import Install
from openclaw_world import World, wait_for
from store_truth import Msg, Store, all_messages, connect_ro, day_counts, day_of, read_store
from syncd_runner import AUTO, AnswerWatch, Syncd, attempt, day_blocks, ok

pytestmark = pytest.mark.real_openclaw

ALPHA_KEY = "agent:main:alpha"
DOOMED_KEY = "agent:main:doomed"
NOTES_KEY = "agent:main:notes"
MAIN_KEY = "agent:main:main"
CRON_NAME = "nightly-report"
# (session key, question, answer). The fake model picks the answer by the question's "ask-…" marker.
TURNS: list[tuple[str, str, str]] = [
    (ALPHA_KEY, "ask-g1 Is the router firmware up to date?", "HARE-NOTE: the router firmware is updated."),
    # a `/new` reset of ALPHA_KEY comes here
    (ALPHA_KEY, "ask-g2 Plan the network upgrade for me.", long_text("MOOSE-PLAN for the network upgrade")),
    (DOOMED_KEY, "ask-g3 Jot down a scratch idea.", "FALCON-NOTE: a scratch idea about the shed roof."),
    (NOTES_KEY, "ask-g4 Plan the garden beds for spring.", long_text("BISON-PLAN for the garden beds")),
    (ALPHA_KEY, "ask-g5 Which switch goes in the attic?", "MARTEN-NOTE: the eight-port switch goes in the attic."),
    (NOTES_KEY, "ask-g6 Anything to buy for the beds?", "GECKO-NOTE: two bags of compost and a rake."),
]
RESET_AFTER = 0  # index of the turn after which ALPHA_KEY gets `/new`
DAEMON_AFTER = 0  # the daemon starts after this turn: the gateway creates agent main's store at its first turn
CRON_QUESTION = "ask-cron Summarize the open tickets."
CRON_ANSWER = "OSPREY-REPORT: three tickets are open, none urgent."
HEARTBEAT_MARKER = "heartbeat"  # OpenClaw's heartbeat prompt: "Follow the heartbeat monitor scratch context…"
HEARTBEAT_REPLY = "HEARTBEAT_OK"
ANSWER_TOKENS = ("HARE-NOTE", "MOOSE-PLAN", "FALCON-NOTE", "BISON-PLAN", "MARTEN-NOTE", "GECKO-NOTE")
ARCHIVE_NAME = re.compile(r"^(?P<sid>[0-9a-f-]{36})\.jsonl\.deleted\.\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}Z"
                          r"\.(?P<gen>[0-9a-f]{32})\.zst$")


def token_of(text: str) -> str:
    return text.split(" ", 1)[0].rstrip(":")


def marker_of(question: str) -> str:
    return question.split(" ", 1)[0]


@dataclass
class Copy:
    """A copy of the live store taken between turns: `full` with its -wal, `main_only` without."""

    after: str
    full: Path  # the state dir memory-syncd reads
    truth: Path  # an identical copy that only the test reads
    main_only: Path


@dataclass
class GatewayRun:
    world: World
    syncd: Syncd
    fake: FakeOpenAI
    store: Store
    msgs: list[Msg]
    root: Path
    session_ids: dict[str, str] = field(default_factory=dict)  # key -> session id seen in the turn's reply
    doomed_id: str = ""
    delete_reply: Any = None
    cron_job: str = ""
    copies: list[Copy] = field(default_factory=list)
    daemon_error: str | None = None
    watch: AnswerWatch | None = None
    daemon_status: dict[str, Any] | None = None
    daemon_blocks: dict[str, str] = field(default_factory=dict)
    wal_before_stop: int | None = None
    wal_after_stop: int | None = None
    compare: Any = None
    transitions: Any = None
    backfill: Any = None


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return None


def _store_has(store: Path, needle: str) -> bool:
    """Whether a plain transcript row contains `needle` (one short read)."""
    if not store.exists():
        return False
    con = connect_ro(store)
    try:
        row = con.execute("SELECT count(*) FROM transcript_events WHERE event_json LIKE ?", (f"%{needle}%",)).fetchone()
        return bool(row[0])
    finally:
        con.close()


@pytest.fixture(scope="module")
def gw(openclaw: Install, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayRun]:
    root = tmp_path_factory.mktemp("openclaw-gateway")
    with FakeOpenAI() as fake:
        for _, question, text in TURNS:
            fake.reply_when(marker_of(question), text)
        fake.reply_when(marker_of(CRON_QUESTION), CRON_ANSWER)
        fake.reply_when(HEARTBEAT_MARKER, HEARTBEAT_REPLY)
        world = World(openclaw, root / "oc", fake, gateway=True)
        syncd = Syncd(world.state, world.home, root / "syncd")
        run = GatewayRun(world, syncd, fake, Store(world.store), [], root)
        try:
            world.start_gateway()
            for i, (key, question, text) in enumerate(TURNS):
                reply = world.agent_gateway(key, question)
                if run.watch is not None:
                    run.watch.expect(token_of(text))
                if i == DAEMON_AFTER:
                    try:
                        syncd.start_daemon()
                        run.watch = AnswerWatch(world.memory_dir).start()
                    except AssertionError as e:
                        run.daemon_error = str(e)
                sid = reply.get("result", {}).get("meta", {}).get("agentMeta", {}).get("sessionId")
                run.session_ids.setdefault(key, str(sid))
                run.copies.append(_copy(world, root, f"after {token_of(text)}", len(run.copies)))
                if i == RESET_AFTER:
                    world.agent_gateway(ALPHA_KEY, "/new")
            run.doomed_id = run.session_ids[DOOMED_KEY]
            run.delete_reply = json.loads(world.run("sessions", "delete", DOOMED_KEY, "--yes", "--json").stdout)
            world.run("system", "event", "--text", "Check whether anything needs attention.", "--mode", "now",
                      "--json")
            wait_for(lambda: _store_has(world.store, HEARTBEAT_REPLY), 90, "the heartbeat's reply in the store", 0.3)
            job = json.loads(world.run("cron", "add", "--name", CRON_NAME, "--every", "1h", "--session", "isolated",
                                       "--message", CRON_QUESTION, "--no-deliver", "--agent", "main",
                                       "--json").stdout)
            run.cron_job = str(job["id"])
            world.run("cron", "run", run.cron_job, "--wait", "--wait-timeout", "3m", "--poll-interval", "500ms",
                      "--json", timeout=240)
            if run.watch is not None:
                run.watch.settle(5.0)
                run.watch.stop()
                run.daemon_status = syncd.status()
                run.daemon_blocks = day_blocks(world.memory_dir)
            run.wal_before_stop = _size(world.wal)
            world.stop_gateway()  # its final checkpoint, with the daemon still running
            run.wal_after_stop = _size(world.wal)
        finally:
            syncd.stop_daemon()
            world.close()
        run.store = read_store(world.store)
        run.msgs = all_messages(run.store, world.sessions_dir)
        run.compare = attempt(lambda: syncd.json("compare", "--json", "--include-today"))
        run.transitions = attempt(lambda: syncd.json("transitions", "--json"))
        run.backfill = attempt(lambda: [r for day in day_counts(run.msgs)
                                        for r in syncd.json("backfill", "--date", day, "--json")])
        yield run


def _copy(world: World, root: Path, after: str, n: int) -> Copy:
    base = root / f"copy-{n}"
    full = base / "state"
    world.copy_store(full)
    truth = base / "truth"
    shutil.copytree(full, truth)
    main_only = base / "main-only"
    world.copy_store(main_only, with_wal=False)
    return Copy(after, full, truth, main_only)


# --- what OpenClaw wrote ---

def test_gateway_turns_wrote_plain_and_compressed_rows(gw: GatewayRun) -> None:
    assert gw.store.user_version == 23 and gw.store.journal_mode == "wal"
    assert gw.store.compressed_rows >= 2, f"only {gw.store.compressed_rows} compressed rows"
    assert gw.wal_before_stop, f"while the gateway ran the -wal file was {gw.wal_before_stop!r}: expected data in it"


def test_reset_keeps_the_session_and_appends_a_reset_event(gw: GatewayRun) -> None:
    sids = gw.store.sessions_with_key(ALPHA_KEY)
    assert len(sids) == 1, f"{ALPHA_KEY} has session windows {sids}"
    sid = sids[0]
    resets = [e for e in gw.store.events if e.session_id == sid and e.record.get("type") == "reset"]
    assert [r.record.get("reason") for r in resets] == ["new"], [r.record for r in resets]
    assert re.fullmatch(r"[0-9a-f]{8}", str(resets[0].record.get("id"))), resets[0].record
    before, after = answer(gw.msgs, "HARE-NOTE"), answer(gw.msgs, "MOOSE-PLAN")
    assert before.session_id == after.session_id == sid
    assert not [a for a in gw.store.archives if a.get("session_id") == sid], "a /new reset archived the session"


def test_delete_leaves_only_the_archive(gw: GatewayRun) -> None:
    sid = gw.doomed_id
    assert sid not in gw.store.live_sessions(), "the deleted session still has transcript rows"
    assert gw.store.window_of(sid) is None, "the deleted session still has a session_windows row"
    rows = [a for a in gw.store.archives if a.get("session_id") == sid]
    assert len(rows) == 1, gw.store.archives
    row = rows[0]
    assert (row["reason"], row["encoding"], row["session_key"], row["table"]) == \
        ("deleted", "zstd", DOOMED_KEY, "session_transcript_archives"), row
    m = ARCHIVE_NAME.match(str(row["archive_name"]))
    assert m and m["sid"] == sid and m["gen"] == row["generation"], row["archive_name"]
    path = gw.world.sessions_dir / str(row["archive_name"])
    held = sorted(p.name for p in path.parent.iterdir())
    assert path.is_file(), f"no archive file {path.name}; sessions/ holds {held}"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == row["archive_sha256"]
    assert answer(gw.msgs, "FALCON-NOTE").where in ("archive-row", f"file:{path.name}")


def test_heartbeat_runs_in_the_main_session(gw: GatewayRun) -> None:
    sids = gw.store.sessions_with_key(MAIN_KEY)
    assert len(sids) == 1, gw.store.windows
    polls = [e.record["message"] for e in gw.store.events
             if e.session_id == sids[0] and e.record.get("type") == "message"
             and e.record["message"].get("role") == "user"]
    assert polls and all(p.get("content") == "[OpenClaw heartbeat poll]" for p in polls), polls
    assert polls[0].get("provenance") == {"kind": "internal_system", "sourceTool": "heartbeat"}
    assert [m.text for m in gw.msgs if m.session_id == sids[0] and m.role == "assistant"] == [HEARTBEAT_REPLY]


def test_cron_run_gets_its_own_session(gw: GatewayRun) -> None:
    key = f"agent:main:cron:{gw.cron_job}"
    sids = gw.store.sessions_with_key(key)
    assert len(sids) == 1, f"windows for {key}: {sids}; all keys: {[w['session_key'] for w in gw.store.windows]}"
    user = [m for m in gw.msgs if m.session_id == sids[0] and m.role == "user"]
    assert len(user) == 1 and user[0].text.startswith(f"[cron:{gw.cron_job} {CRON_NAME}] {CRON_QUESTION}")
    prov = json.loads(user[0].identity).get("provenance", {})
    assert (prov.get("kind"), prov.get("sourceTool"), prov.get("jobId"), prov.get("sourceSessionKey")) == \
        ("internal_system", "cron", gw.cron_job, f"{key}:run:{sids[0]}"), prov
    assert answer(gw.msgs, "OSPREY-REPORT").session_id == sids[0]


# --- memory-syncd against the store ---

def test_compare_counts_equal_the_store_deleted_session_included(gw: GatewayRun) -> None:
    doc = ok(gw.compare)
    archived = sum(m.where != "live" for m in gw.msgs)
    assert_counts(compare_days(doc), day_counts(gw.msgs), "compare --json --include-today",
                  f"({archived} of the store's messages exist only in the deleted session's archive; "
                  f"skipped: {doc.get('skipped')})")


def test_compare_skips_nothing(gw: GatewayRun) -> None:
    doc = ok(gw.compare)
    assert not doc.get("skipped"), f"compare reported skipped records on a clean store: {doc.get('skipped')}; " \
                                   f"sessions/ holds {sorted(p.name for p in gw.world.sessions_dir.iterdir())}"


def test_backfill_writes_each_day_with_the_store_count(gw: GatewayRun) -> None:
    results = ok(gw.backfill)
    assert_counts(backfill_counts(results), day_counts(gw.msgs), "backfill --date D --json")


def test_every_answer_is_in_its_day_block_deleted_session_included(gw: GatewayRun) -> None:
    ok(gw.backfill)
    assert_answers_in_blocks(gw.world.memory_dir, gw.msgs, ANSWER_TOKENS, "after backfill --date")


def test_cron_run_is_summarised_in_its_day_block_never_quoted(gw: GatewayRun) -> None:
    """An isolated cron run that delivered nowhere is summarised as OpenClaw's own memory indexing treats
    cron-run sessions: one line naming the job, its run and its outcome; its prompt and reply are not quoted."""
    ok(gw.backfill)
    day = day_of(answer(gw.msgs, token_of(CRON_ANSWER)).ts_ms).isoformat()
    block = day_blocks(gw.world.memory_dir).get(day, "")
    line = next((ln for ln in block.splitlines() if CRON_NAME in ln), "")
    assert "1 run" in line and "last ok" in line, f"memory/{day}.md has no line for cron job {CRON_NAME!r}:\n{block}"
    assert token_of(CRON_ANSWER) not in block and "ask-cron" not in block, block


def test_heartbeat_acks_are_counted_not_rendered(gw: GatewayRun) -> None:
    ok(gw.backfill)
    blocks = day_blocks(gw.world.memory_dir)
    assert not [d for d, b in blocks.items() if HEARTBEAT_REPLY in b], "a heartbeat ack was rendered"


def test_transitions_list_no_switch(gw: GatewayRun) -> None:
    assert ok(gw.transitions) == [], "every turn answered on the one configured model"


# --- a store copied mid-write ---

def test_store_copied_mid_write_yields_every_committed_row(gw: GatewayRun, tmp_path: Path) -> None:
    chosen = None
    for c in gw.copies:
        full = all_messages(read_store(c.truth / "agents" / "main" / "agent" / "openclaw-agent.sqlite"))
        main_only = all_messages(read_store(c.main_only / "agents" / "main" / "agent" / "openclaw-agent.sqlite"))
        if len(full) > len(main_only):
            chosen = (c, full, len(main_only))
            break
    assert chosen is not None, "precondition: no copy held committed messages that were only in its -wal file " \
                               "(OpenClaw checkpointed before every copy)"
    c, want, in_main = chosen
    syncd = Syncd(c.full, gw.world.home, tmp_path / "syncd-copy")
    doc = syncd.json("compare", "--json", "--include-today")
    assert_counts(compare_days(doc), day_counts(want), f"compare on the copy taken {c.after}",
                  f"({len(want) - in_main} of its {len(want)} messages were only in the -wal file)")


# --- the daemon while the gateway writes ---

def test_daemon_has_each_answer_within_two_seconds(gw: GatewayRun) -> None:
    assert gw.daemon_error is None, gw.daemon_error
    assert gw.watch is not None
    check_latency(gw.watch.samples, gw.world.memory_dir, gw.syncd)


def test_daemon_counts_today_like_the_store(gw: GatewayRun) -> None:
    """Today's count includes the deleted session: counts never drop because OpenClaw deleted one."""
    assert gw.daemon_error is None, gw.daemon_error
    counts = day_counts(gw.msgs)
    today = max(counts)
    status = gw.daemon_status or {}
    found = AUTO.findall(gw.daemon_blocks.get(today, ""))
    assert (status.get("messages_today"), found) == (counts[today], [str(counts[today])]), \
        f"store has {counts[today]} messages today; daemon status says {status.get('messages_today')}, its " \
        f"block says {found}\ndaemon log:\n{gw.syncd.log_tail()}"


def test_gateway_checkpoint_empties_the_wal_while_the_daemon_runs(gw: GatewayRun) -> None:
    assert gw.daemon_error is None, gw.daemon_error
    assert gw.wal_before_stop, "precondition: the -wal file held data while the gateway ran"
    assert not gw.wal_after_stop, f"the gateway's closing TRUNCATE checkpoint left {gw.wal_after_stop} bytes in " \
                                  f"the -wal file while memory-syncd ran (a reader kept it from finishing)"
