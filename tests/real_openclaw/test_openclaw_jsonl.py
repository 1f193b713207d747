"""The real OpenClaw 2026.7.35, the last release that writes `sessions/*.jsonl` transcripts, against memory-syncd.

Owns the JSONL generation's scenario, in one OpenClaw home while the memory-syncd daemon runs: one embedded
turn (`openclaw agent --local`) before the gateway starts, then through the gateway on a loopback port: two
sessions with long and short answers, a reset (OpenClaw renames the transcript to `.jsonl.reset.<stamp>`
and starts a new session id), a delete (renamed to `.jsonl.deleted.<stamp>`, key dropped from
sessions.json), a `--model` switch, a heartbeat run and an isolated cron run. Every turn also writes a
`.trajectory.jsonl` run trace next to the transcript, which a `*.jsonl` glob matches too. One run per module
(each command costs seconds); the tests then check, against an independent read of the sessions dir
(`jsonl_truth`):
- what OpenClaw wrote for each of these (the facts memory-syncd relies on);
- `compare --json` counts every message, the archived ones included, and nothing from trajectories;
- `backfill --date D` puts every answer into its day's block, the reset and deleted sessions' too; the
  heartbeat ack is counted, not rendered; the cron run is counted and the block names the job;
  `transitions --json` lists exactly the switch;
- the daemon had each answer in the memory file within 2 s of `openclaw agent` returning (p95 over the
  gateway turns; the first, embedded answer, which creates the agent's dir, on its own), and its block
  kept the answers of the sessions OpenClaw reset and deleted under it.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from checks import answer, assert_answers_in_blocks, assert_counts, backfill_counts, check_latency, compare_days
from fake_openai import FakeOpenAI, long_text
from jsonl_truth import SessionsDir, has_reply, jsonl_messages, read_sessions_dir, trajectory_records
from openclaw_install import Install
from openclaw_world import ALPHA, BETA, PRIMARY, SECONDARY, World, wait_for
from store_truth import Msg, day_counts, day_of
from syncd_runner import AUTO, AnswerWatch, Syncd, attempt, day_blocks, ok

pytestmark = pytest.mark.real_openclaw

LOCAL_ID = str(uuid.uuid4())
LOCAL_KEY = f"agent:main:explicit:{LOCAL_ID}"  # the key OpenClaw gives an `--local --session-id` session
ALPHA_KEY = "agent:main:alpha"  # reset after its first two turns
BETA_KEY = "agent:main:beta"  # its last turn switches the model
DOOMED_KEY = "agent:main:doomed"  # deleted
MAIN_KEY = "agent:main:main"  # where the heartbeat runs
CRON_NAME = "ticket-digest"
CRON_QUESTION = "ask-cron Summarize the open tickets."
CRON_ANSWER = "OSPREY-REPORT: three tickets are open, none urgent."
HEARTBEAT_MARKER = "heartbeat"  # the stored prompt is "[OpenClaw heartbeat poll]"
HEARTBEAT_REPLY = "HEARTBEAT_OK"
ARCHIVE_STAMP = r"\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}Z"  # ISO, ':' written as '-'


@dataclass(frozen=True)
class Turn:
    key: str  # the gateway session key; LOCAL_KEY for the embedded turn
    question: str  # starts with the "ask-…" marker the fake model answers by; never holds the answer's token
    text: str
    model: str | None = None

    @property
    def token(self) -> str:
        return self.text.split(" ", 1)[0].rstrip(":")


LOCAL = Turn(LOCAL_KEY, "ask-l1 Which disk holds the photo library?",
             "PUFFIN-NOTE: the photo library lives on the second disk.")
BEFORE_RESET = [
    Turn(ALPHA_KEY, "ask-a1 How should we move the nightly backups over to restic?",
         long_text("WALRUS-PLAN for the backup migration")),
    Turn(ALPHA_KEY, "ask-a2 When is the next restore drill?", "KIWI-NOTE: the restore drill is on Friday at nine."),
    Turn(BETA_KEY, "ask-b1 Outline a plan for the photo archive, please.",
         long_text("HERON-PLAN for the photo archive")),
]
AFTER_RESET = [
    Turn(ALPHA_KEY, "ask-a3 Did the checksum run finish on both disks?", "LYNX-NOTE: checksums verified on both."),
    Turn(DOOMED_KEY, "ask-d1 Jot down a scratch idea.", "FALCON-NOTE: label the spare drives by year."),
]
SWITCH = Turn(BETA_KEY, "ask-b2 And the offsite copy: what is the plan there?",
              long_text("BADGER-PLAN for the offsite copy"), SECONDARY)
TURNS = [LOCAL, *BEFORE_RESET, *AFTER_RESET, SWITCH]
TOKENS = [t.token for t in TURNS]
RESET_TOKENS = ("WALRUS-PLAN", "KIWI-NOTE")
DELETED_TOKENS = ("FALCON-NOTE",)


@dataclass
class JsonlRun:
    world: World
    syncd: Syncd
    fake: FakeOpenAI
    root: Path
    sessions: SessionsDir | None = None
    msgs: list[Msg] = field(default_factory=list)
    session_ids: dict[str, list[str]] = field(default_factory=dict)  # key -> session ids its turns reported
    reset_reply: Any = None
    delete_reply: Any = None
    cron_job: str = ""
    daemon_error: str | None = None
    watch: AnswerWatch | None = None
    daemon_status: dict[str, Any] | None = None
    daemon_blocks: dict[str, str] = field(default_factory=dict)
    compare: Any = None  # each: the command's JSON, or `Failed`
    transitions: Any = None
    backfill: Any = None
    trajectories_only: Any = None  # compare --json over a copy holding nothing but the trajectory files


def _block_counts_match(world: World) -> bool:
    """Whether each day's block counts the messages the transcripts hold now."""
    blocks = day_blocks(world.memory_dir)
    return all(AUTO.findall(blocks.get(day, "")) == [str(n)]
               for day, n in day_counts(jsonl_messages(read_sessions_dir(world.sessions_dir))).items())


@pytest.fixture(scope="module")
def jr(openclaw_jsonl: Install, tmp_path_factory: pytest.TempPathFactory) -> Iterator[JsonlRun]:
    root = tmp_path_factory.mktemp("openclaw-jsonl")
    with FakeOpenAI() as fake:
        for t in TURNS:
            fake.reply_when(t.question.split(" ", 1)[0], t.text)
        fake.reply_when(CRON_QUESTION.split(" ", 1)[0], CRON_ANSWER)
        fake.reply_when(HEARTBEAT_MARKER, HEARTBEAT_REPLY)
        world = World(openclaw_jsonl, root / "oc", fake, gateway=True)
        syncd = Syncd(world.state, world.home, root / "syncd")
        run = JsonlRun(world, syncd, fake, root)
        try:
            syncd.start_daemon()  # before OpenClaw's first turn: agent main does not exist yet
            run.watch = AnswerWatch(world.memory_dir).start()
        except AssertionError as e:
            run.daemon_error = str(e)

        def turn(t: Turn) -> None:
            if t.key == LOCAL_KEY:
                world.agent_local(LOCAL_ID, t.question, model=t.model)
                sid = LOCAL_ID
            else:
                reply = world.agent_gateway(t.key, t.question, model=t.model)
                sid = str(reply.get("result", {}).get("meta", {}).get("agentMeta", {}).get("sessionId"))
            if run.watch is not None:
                run.watch.expect(t.token)
            ids = run.session_ids.setdefault(t.key, [])
            if sid not in ids:
                ids.append(sid)

        try:
            turn(LOCAL)
            world.start_gateway()
            for t in BEFORE_RESET:
                turn(t)
            run.reset_reply = world.gateway_call("sessions.reset", {"key": ALPHA_KEY})  # approves the admin scope
            for t in AFTER_RESET:
                turn(t)
            run.delete_reply = world.gateway_call("sessions.delete", {"key": DOOMED_KEY})
            turn(SWITCH)
            world.run("system", "event", "--text", "Check whether anything needs attention.", "--mode", "now",
                      "--json")
            wait_for(lambda: has_reply(world.sessions_dir, HEARTBEAT_REPLY), 90, "the heartbeat's reply", 0.3)
            job = json.loads(world.admin("cron", "add", "--name", CRON_NAME, "--every", "1h", "--session",
                                         "isolated", "--message", CRON_QUESTION, "--no-deliver", "--agent", "main",
                                         "--json").stdout)
            run.cron_job = str(job["id"])
            world.admin("cron", "run", run.cron_job, "--wait", "--wait-timeout", "3m", "--poll-interval", "500ms",
                        timeout=240)
            wait_for(lambda: has_reply(world.sessions_dir, CRON_ANSWER), 30, "the cron run's reply", 0.3)
            if run.watch is not None:
                run.watch.settle(5.0)
                run.watch.stop()
                with contextlib.suppress(AssertionError):  # the cron run's messages were written just now
                    wait_for(lambda: _block_counts_match(world), 5.0, "the daemon's block to count every message")
                run.daemon_status = syncd.status()
                run.daemon_blocks = day_blocks(world.memory_dir)
        finally:
            if run.watch is not None:
                run.watch.stop()
            syncd.stop_daemon()
            world.close()
        run.sessions = read_sessions_dir(world.sessions_dir)
        run.msgs = jsonl_messages(run.sessions)
        run.compare = attempt(lambda: syncd.json("compare", "--json", "--include-today"))
        run.transitions = attempt(lambda: syncd.json("transitions", "--json"))
        run.backfill = attempt(lambda: [r for day in day_counts(run.msgs)
                                        for r in syncd.json("backfill", "--date", day, "--json")])
        run.trajectories_only = attempt(lambda: _compare_trajectories_only(run))
        yield run


def _compare_trajectories_only(run: JsonlRun) -> Any:
    """compare --json over a state dir whose sessions/ holds only copies of OpenClaw's trajectory files."""
    state = run.root / "trajectories-only" / "state"
    sessions = state / "agents" / "main" / "sessions"
    sessions.mkdir(parents=True)
    for p in run.world.sessions_dir.glob("*.trajectory.jsonl"):
        shutil.copy2(p, sessions / p.name)
    run.world.write_config_copy(state)
    return Syncd(state, run.world.home, run.root / "trajectories-only" / "syncd").json(
        "compare", "--json", "--include-today")


def _sd(jr: JsonlRun) -> SessionsDir:
    assert jr.sessions is not None
    return jr.sessions


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp() * 1000)


# --- what OpenClaw 2026.7.35 wrote (facts the other tests rely on) ---

def test_openclaw_wrote_jsonl_transcripts_and_no_store(jr: JsonlRun) -> None:
    sd = _sd(jr)
    # (2026.7 already keeps a gateway-wide state/openclaw.sqlite: cron jobs, pairing, task runs; no transcripts)
    stores = sorted(str(p.relative_to(jr.world.state)) for p in (jr.world.state / "agents").rglob("*.sqlite*"))
    assert not stores, f"2026.7.35 wrote an agent store: {stores}"
    assert sd.live and sd.trajectories, f"sessions/ holds {sorted(p.name for p in sd.path.iterdir())}"
    unknown = [n for n in sd.others if n not in ("sessions.json", "skills-prompts")
               and not re.fullmatch(r"[0-9a-f-]{36}\.trajectory-path\.json", n) and not n.endswith(".lock")]
    assert not unknown, f"sessions/ holds files of a kind these tests do not know: {unknown}"
    for p in [*sd.live, *sd.archives]:
        head = sd.records(p.name)[0]
        assert (head.get("type"), head.get("version"), head.get("id")) == \
            ("session", 3, p.name.split(".jsonl", 1)[0]), f"{p.name} starts with {head}"


def test_a_turn_writes_the_known_record_shapes(jr: JsonlRun) -> None:
    records = _sd(jr).records(f"{LOCAL_ID}.jsonl")
    kinds = [(r.get("type"), r.get("customType")) for r in records]
    assert kinds == [("session", None), ("model_change", None), ("thinking_level_change", None),
                     ("custom", "model-snapshot"), ("message", None), ("message", None),
                     ("custom", "openclaw:bootstrap-context:full")], kinds
    user, reply = (r["message"] for r in records if r.get("type") == "message")
    assert user["role"] == "user" and user["content"] == LOCAL.question and isinstance(user["timestamp"], int)
    assert reply["role"] == "assistant" and reply["content"] == [{"type": "text", "text": LOCAL.text}]
    for k in ("provider", "model", "usage", "stopReason", "timestamp", "responseId"):
        assert k in reply, f"the assistant message lacks {k}: {sorted(reply)}"
    assert (reply["provider"], reply["model"], reply["stopReason"]) == ("fakeai", ALPHA, "stop")


def test_sessions_json_maps_each_key_to_its_transcript(jr: JsonlRun) -> None:
    sd = _sd(jr)
    keys = {LOCAL_KEY, ALPHA_KEY, BETA_KEY, MAIN_KEY, f"agent:main:cron:{jr.cron_job}"}
    assert set(sd.index) == keys, f"sessions.json keys: {sorted(sd.index)}"
    for key, entry in sd.index.items():
        sid = entry.get("sessionId")
        assert sid in sd.live_ids(), f"{key} -> {sid}, which has no live transcript"
        assert entry.get("sessionFile") == str(sd.path / f"{sid}.jsonl"), entry.get("sessionFile")


def test_gateway_asked_once_to_approve_the_admin_scope(jr: JsonlRun) -> None:
    """2026.7.35 pairs the CLI for writing only; its first admin call (the reset) waits for an approval."""
    assert len(jr.world.approvals) == 1, f"approved requests: {jr.world.approvals}"
    failed = [c for c, _, code in jr.world.commands if code != 0]
    assert len(failed) == 1 and failed[0].startswith("gateway call sessions.reset"), jr.world.commands


def test_reset_renames_the_transcript_and_starts_a_new_session(jr: JsonlRun) -> None:
    sd = _sd(jr)
    old, new = jr.session_ids[ALPHA_KEY]
    assert jr.reset_reply.get("ok") is True and jr.reset_reply["entry"]["sessionId"] == new, jr.reset_reply
    archived = sd.archives_of(old, "reset")
    assert len(archived) == 1 and re.fullmatch(rf"{old}\.jsonl\.reset\.{ARCHIVE_STAMP}", archived[0].name), \
        [p.name for p in sd.archives]
    assert old not in sd.live_ids() and sd.index[ALPHA_KEY]["sessionId"] == new
    for token in RESET_TOKENS:
        assert answer(jr.msgs, token).where == f"file:{archived[0].name}"
    assert answer(jr.msgs, "LYNX-NOTE").session_id == new


def test_delete_renames_the_transcript_and_drops_the_key(jr: JsonlRun) -> None:
    sd = _sd(jr)
    (sid,) = jr.session_ids[DOOMED_KEY]
    archived = sd.archives_of(sid, "deleted")
    assert len(archived) == 1 and re.fullmatch(rf"{sid}\.jsonl\.deleted\.{ARCHIVE_STAMP}", archived[0].name), \
        [p.name for p in sd.archives]
    assert jr.delete_reply.get("deleted") is True and jr.delete_reply.get("archived") == [str(archived[0])], \
        jr.delete_reply
    assert sid not in sd.live_ids() and DOOMED_KEY not in sd.index
    assert answer(jr.msgs, "FALCON-NOTE").where == f"file:{archived[0].name}"


def test_heartbeat_runs_in_the_main_session_without_provenance(jr: JsonlRun) -> None:
    sid = _sd(jr).index[MAIN_KEY]["sessionId"]
    mine = [m for m in jr.msgs if m.session_id == sid]
    assert [(m.role, m.text) for m in mine] == [("user", "[OpenClaw heartbeat poll]"),
                                                ("assistant", HEARTBEAT_REPLY)], mine
    assert "provenance" not in json.loads(mine[0].identity)


def test_cron_run_gets_its_own_session(jr: JsonlRun) -> None:
    sid = _sd(jr).index[f"agent:main:cron:{jr.cron_job}"]["sessionId"]
    assert sid not in {s for ids in jr.session_ids.values() for s in ids}
    user = [m for m in jr.msgs if m.session_id == sid and m.role == "user"]
    assert len(user) == 1 and user[0].text.startswith(f"[cron:{jr.cron_job} {CRON_NAME}] {CRON_QUESTION}"), user
    assert answer(jr.msgs, "OSPREY-REPORT").session_id == sid


def test_model_switch_answered_on_the_other_model(jr: JsonlRun) -> None:
    models = {t.token: answer(jr.msgs, t.token).model for t in TURNS}
    assert models == {**dict.fromkeys(TOKENS, ALPHA), SWITCH.token: BETA}, models


def test_trajectories_hold_the_answers_but_no_messages(jr: JsonlRun) -> None:
    sd = _sd(jr)
    assert {p.name.split(".", 1)[0] for p in sd.trajectories} >= sd.live_ids()
    records = [r for p in sd.trajectories for r in trajectory_records(p)]
    assert not [r for r in records if r.get("type") == "message"]
    text = "\n".join(p.read_text() for p in sd.trajectories)
    assert all(t in text for t in TOKENS), "the trajectories no longer hold the answers: the check below is void"


# --- memory-syncd against the transcripts ---

def test_compare_counts_equal_the_transcripts_archives_included(jr: JsonlRun) -> None:
    doc = ok(jr.compare)
    archived = sum(".jsonl." in m.where for m in jr.msgs)
    assert_counts(compare_days(doc), day_counts(jr.msgs), "compare --json --include-today",
                  f"({archived} of the messages are in .reset/.deleted archives; skipped: {doc.get('skipped')})")


def test_nothing_is_counted_from_trajectories(jr: JsonlRun) -> None:
    doc = ok(jr.trajectories_only)
    assert compare_days(doc) == {}, f"compare counted messages in trajectory files: {doc}"


def test_compare_skips_nothing_on_a_clean_install(jr: JsonlRun) -> None:
    """OpenClaw's own trajectory files, like sessions.json, are no cause for a `skipped` line."""
    doc = ok(jr.compare)
    held = sorted([*_sd(jr).others, *(p.name for p in _sd(jr).trajectories)])
    assert not doc.get("skipped"), f"compare reported skipped files on a clean 2026.7.35 install: " \
                                   f"{doc.get('skipped')}; besides transcripts sessions/ holds {held}"


def test_backfill_writes_each_day_with_the_transcript_count(jr: JsonlRun) -> None:
    results = ok(jr.backfill)
    assert_counts(backfill_counts(results), day_counts(jr.msgs), "backfill --date D --json")


def test_every_answer_is_in_its_day_block_reset_and_deleted_included(jr: JsonlRun) -> None:
    ok(jr.backfill)
    assert_answers_in_blocks(jr.world.memory_dir, jr.msgs, TOKENS, "after backfill --date")


def test_heartbeat_ack_is_counted_not_rendered(jr: JsonlRun) -> None:
    ok(jr.backfill)
    assert not [d for d, b in day_blocks(jr.world.memory_dir).items() if HEARTBEAT_REPLY in b]


def test_cron_run_is_named_in_its_day_block(jr: JsonlRun) -> None:
    ok(jr.backfill)
    day = day_of(answer(jr.msgs, "OSPREY-REPORT").ts_ms).isoformat()
    block = day_blocks(jr.world.memory_dir).get(day, "")
    assert CRON_NAME in block, f"memory/{day}.md's block does not mention cron job {CRON_NAME!r}:\n{block[:1500]}"


def test_transitions_list_exactly_the_model_switch(jr: JsonlRun) -> None:
    rows = ok(jr.transitions)
    sid = jr.session_ids[BETA_KEY][0]
    assert [(r.get("session"), r.get("from"), r.get("to")) for r in rows] == [(sid, PRIMARY, SECONDARY)], rows
    before, switched = answer(jr.msgs, "HERON-PLAN"), answer(jr.msgs, SWITCH.token)
    assert before.ts_ms <= _ms(rows[0]["time"]) + 1000 and _ms(rows[0]["time"]) <= switched.ts_ms + 1000, rows


# --- the daemon while OpenClaw writes, resets and deletes ---

def test_daemon_has_each_gateway_answer_within_two_seconds(jr: JsonlRun) -> None:
    assert jr.daemon_error is None, jr.daemon_error
    assert jr.watch is not None
    check_latency(jr.watch.samples[1:], jr.world.memory_dir, jr.syncd)


def test_daemon_notices_a_new_agent_within_two_seconds(jr: JsonlRun) -> None:
    assert jr.daemon_error is None, jr.daemon_error
    assert jr.watch is not None
    check_latency(jr.watch.samples[:1], jr.world.memory_dir, jr.syncd, minimum=1)


def test_daemon_counts_today_like_the_transcripts(jr: JsonlRun) -> None:
    assert jr.daemon_error is None, jr.daemon_error
    counts = day_counts(jr.msgs)
    today = max(counts)
    status = jr.daemon_status or {}
    found = AUTO.findall(jr.daemon_blocks.get(today, ""))
    assert (status.get("messages_today"), found) == (counts[today], [str(counts[today])]), \
        f"the transcripts hold {counts[today]} messages today; daemon status says {status.get('messages_today')}, " \
        f"its block says {found}\ndaemon log:\n{jr.syncd.log_tail()}"


def test_daemon_block_keeps_the_reset_and_deleted_sessions(jr: JsonlRun) -> None:
    assert jr.daemon_error is None, jr.daemon_error
    text = "\n".join(jr.daemon_blocks.values())
    lost = [t for t in (*RESET_TOKENS, *DELETED_TOKENS) if t not in text]
    assert not lost, f"after OpenClaw renamed their transcripts the daemon's block lost {lost}\n" \
                     f"daemon log:\n{jr.syncd.log_tail()}"
