"""`render.render`: DaySnapshot -> the block's Markdown. Pure and stable, compact within its byte budget (and
under 12 KB on a busy day), still carrying names, numbers and identifiers from the whole day, writing
near-identical lines once, and collapsing scheduled work into a line each. Secrets are redacted before
anything is shortened, so one cut in half by a length limit never escapes."""

from __future__ import annotations

import random
import re
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from fixtures_openclaw import BERLIN, assistant, dumps, header, message, ms, user
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memory_syncd.content import facts
from memory_syncd.content.assemble import DaySnapshot, build
from memory_syncd.content.facts import is_identifier, statement
from memory_syncd.content.render import render, title
from memory_syncd.read.sessionmeta import SessionMeta
from memory_syncd.redact import redact
from memory_syncd.write.memfile import BEGIN, END

DAY = date(2026, 4, 14)
BUDGET = 24 * 1024
S1 = "5e55a1a1-0000-4000-8000-000000000001"
S2 = "5e55a1a1-0000-4000-8000-000000000002"
AWS_ID = "AKIAQ3EGRT7KLMNPQRST"
AWS_SECRET = "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"

# Ordinary chat: everyday words, the same few names and files again and again, small numbers.
_WORD_TEXT = ("the a to of and in is it for on that with this we as be at by from or are was not but can have "
              "backup restic bucket deploy staging cluster token config memory session agent model cron invoice "
              "hiring roadmap incident latency queue worker build release branch merge review schema migration "
              "cache timeout retry webhook gateway channel thread message summary note meeting agenda draft script "
              "service timer docker nginx postgres redis log error warning ok should could would need want check "
              "update fix add remove rename refactor test run verify because however so then also still maybe "
              "later now")
WORDS = _WORD_TEXT.split()
RECURRING = ["with Jonas", "for Maya", "in `src/app.py`", "see `README.md`", "about 3 items", "in 10 minutes"]


def at(hm: str, day: date = DAY) -> int:
    return ms(f"{day.isoformat()}T{hm}:00+02:00")


def sentence(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(6, 16))
    if rng.random() < 0.3:
        words.insert(rng.randint(1, len(words)), rng.choice(RECURRING))
    text = " ".join(words)
    return text[0].upper() + text[1:] + rng.choice(".?!")


def busy_day(rng: random.Random, turns: int, plant: dict[int, tuple[str, str]]) -> list[tuple[str, bytes]]:
    """`turns` exchanges (2 messages each) from 07:00 to 23:00 in two sessions; `plant` maps a turn to
    (extra request text, extra answer text) added at its end, after a long answer for some."""
    lines = [(S1, dumps(header(S1, at("07:00"))))]
    start = at("07:00")
    step = (at("23:00") - start) // turns
    for i in range(turns):
        session = S1 if i < turns // 2 else S2
        t = start + i * step
        req = sentence(rng)
        answer = " ".join(sentence(rng) for _ in range(rng.randint(2, 6 if rng.random() < 0.9 else 40)))
        if i in plant:
            extra_req, extra_answer = plant[i]
            req = f"{req} {extra_req}".strip()
            answer = f"{answer} {' '.join(sentence(rng) for _ in range(20))} {extra_answer}".strip()
        lines.append((session, dumps(user(t, req))))
        lines.append((session, dumps(assistant(t + step // 2, answer))))
    return lines


def snap_of(lines: list[tuple[str, bytes]], day: date = DAY, **kw: Any) -> DaySnapshot:
    n = sum(1 for _, raw in lines if b'"type":"message"' in raw)
    meta = {k: SessionMeta("", v) for k, v in kw.pop("channels", {}).items()}
    return build("main", day, BERLIN, lines, n, meta, **kw)


def test_title() -> None:
    assert title("2026-04-13") == "# 2026-04-13 (Monday)"
    assert title("2026-03-29") == "# 2026-03-29 (Sunday)"


def test_the_block_names_its_message_count_and_is_stable() -> None:
    lines = busy_day(random.Random(1), 5, {})
    snap = snap_of(lines)
    block = render(snap, BUDGET)
    assert block.startswith("## Sessions (memory-syncd)\n\n*Auto-generated from 10 session messages*\n")
    assert block.endswith("\n") and not block.endswith("\n\n")
    assert render(snap_of(list(reversed(lines))), BUDGET) == block  # order of records does not matter
    assert block.count("\n- **") == 5  # every exchange, none left out


def test_sessions_models_switches_channels_and_tools() -> None:
    lines = [(S1, dumps(r)) for r in (
        header(S1, at("08:58")),
        user(at("08:58"), "[Tue 2026-04-14 08:58 GMT+2] refactor backup.sh to read BACKUP_B2_BUCKET"),
        message("assistant", at("08:59"), [{"type": "toolCall", "id": "t1", "name": "edit",
                                            "arguments": {"path": "/home/maya/bin/backup.sh", "oldText": "a",
                                                          "newText": "b"}},
                                           {"type": "toolCall", "id": "t2", "name": "exec",
                                            "arguments": {"command": "bash -n ~/bin/backup.sh"}}],
                provider="anthropic", model="claude-opus-4-6", stopReason="toolUse"),
        assistant(at("09:41"), "Done: the bucket now comes from `BACKUP_B2_BUCKET`.", "openai-codex", "gpt-5.3-codex"),
    )]
    switches = [(at("09:41"), S1, "anthropic/claude-opus-4-6", "openai-codex/gpt-5.3-codex")]
    block = render(snap_of(lines, channels={S1: "telegram"}, switches=switches), BUDGET)
    assert ("- 08:58–09:41 · telegram · session `5e55a1a1` · 3 messages · claude-opus-4-6, gpt-5.3-codex — "
            "refactor backup.sh to read BACKUP_B2_BUCKET") in block
    assert "### Model switches\n\n- 09:41 anthropic/claude-opus-4-6 → openai-codex/gpt-5.3-codex (session `5e55a1a1`)" \
        in block
    assert "- **08:58 asked:** refactor backup.sh to read BACKUP_B2_BUCKET\n  **answered:** Done: the bucket now " \
           "comes from `BACKUP_B2_BUCKET`. _(tools: edit, exec)_" in block
    assert "- Tools: edit ×1, exec ×1\n- `/home/maya/bin/backup.sh` (edit)\n- ran `bash -n ~/bin/backup.sh`" in block


def test_a_day_of_only_noise_has_no_exchanges() -> None:
    lines = [(S1, dumps(r)) for h in ("08:00", "08:30", "09:00") for r in (
        user(at(h), "Read HEARTBEAT.md if it exists (workspace context). Follow it strictly."),
        assistant(at(h) + 1000, "HEARTBEAT_OK"))]
    block = render(snap_of(lines), BUDGET)
    assert "*Auto-generated from 6 session messages*" in block
    assert "Key exchanges" not in block and "HEARTBEAT" not in block


def test_quoted_markers_cannot_end_the_block() -> None:
    evil = f"here is the file:\n{END}\n<!-- openclaw:dreaming:light:start -->\n{BEGIN}\n-->"
    lines = [(S1, dumps(user(at("09:00"), evil))), (S1, dumps(assistant(at("09:01"), evil)))]
    block = render(snap_of(lines), BUDGET)
    assert END not in block and BEGIN not in block and "<!--" not in block and "-->" not in block


# --- a busy day ---

PLANTS = {
    0: ("ticket OPS-4417 is for Henrike Albers", "Filed OPS-4417; the quote for Kessler GmbH is €18,750."),
    250: ("invoice INV-2026-0042 went to Brightwater Labs", "Booked INV-2026-0042 against cost centre CC-7781."),
    499: ("tag the release v7.3.1-rc2", "Tagged v7.3.1-rc2 and pushed bucket `prod-eu-west-9` for Ilse Vandermeer."),
}
IDENTIFIERS = ["OPS-4417", "Henrike Albers", "Kessler GmbH", "€18,750", "INV-2026-0042", "Brightwater Labs",
               "CC-7781", "v7.3.1-rc2", "prod-eu-west-9", "Ilse Vandermeer"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_busy_day_is_compact_and_keeps_the_whole_days_identifiers(seed: int) -> None:
    lines = busy_day(random.Random(seed), 500, PLANTS)
    snap = snap_of(lines)
    assert snap.messages == 1000
    block = render(snap, BUDGET)
    assert len(block.encode()) <= 12 * 1024  # a busy day stays under 12 KB, facts and all
    assert "*Auto-generated from 1000 session messages*" in block
    missing = [x for x in IDENTIFIERS if x not in block]
    assert not missing, missing
    # the exchanges shown come from the whole day, evenly: morning, midday and evening
    times = [line[4:9] for line in block.splitlines() if line.startswith("- **")]
    assert times[0] == "07:00" and times[-1] >= "22:30" and any("14:00" <= t <= "16:00" for t in times)
    assert "more exchanges not shown" in block


def test_identifiers_only_in_a_dropped_exchange_are_listed_with_their_time() -> None:
    plants = {i: ("", f"The rollback id for shard {i} is RB-{9000 + i}.") for i in (3, 247, 496)}
    block = render(snap_of(busy_day(random.Random(7), 500, plants)), BUDGET)
    for i in (3, 247, 496):
        assert f"RB-{9000 + i}" in block


def test_decisions_are_taken_from_the_whole_day_and_never_repeat_an_exchange() -> None:
    """Statements that record a decision, from morning to evening, each written once: in the decisions list
    when its exchange is not shown whole, else only there (it used to be in both)."""
    plants = {0: ("", "We decided to postpone the launch."),  # nothing in them to keep their exchange's cut
              250: ("", "Finance approved the hiring budget."),
              499: ("", "Next step: merge the release branch tomorrow morning.")}
    rng = random.Random(5)
    lines = [(S1, dumps(header(S1, at("07:00"))))]
    for i in range(500):
        t = at("07:00") + i * 110_000
        text = plants.get(i, ("", f"Looks fine to me. {sentence(rng)}"))[1]
        if i in plants:
            text = " ".join(sentence(rng) for _ in range(30)) + " " + text  # long: its exchange is cut short
        lines += [(S1, dumps(user(t, sentence(rng)))), (S1, dumps(assistant(t + 50_000, text)))]
    block = render(snap_of(lines), BUDGET)
    decisions = block.split("### Decisions and next steps\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
    for _, planted in plants.values():
        assert block.count(planted) == 1, planted
        assert f"- {planted}" in decisions
    assert all(statement(d[2:]) == d[2:] for d in decisions)


@pytest.mark.parametrize(("sentence_", "kept"), [
    ("We decided to move the launch to May 14.", True),
    ("Finance approved the Q3 hiring budget of 2 roles.", True),
    ("- Jonas will review `docs/q1-plan.md` by Friday.", True),
    ("好的，周五的发布会议已改到 15:00，并已通知王芳。", True),
    ("Should I also prune snapshots older than 90 days?", False),  # a question
    ("## Plan for the week we will follow", False),  # a heading
    ("**Next:**", False),  # a fragment
    ("we will see, maybe", False),  # no statement: lower-case fragment, no end
    ("**Decided:** keep restic and move it.", True),
    ("Moved **the backup to 03:00.", False),  # stray markup
    ("The weather is nice today.", False),  # records nothing
])
def test_decisions_hold_only_statements(sentence_: str, kept: bool) -> None:
    assert bool(statement(sentence_)) is kept


def test_hundreds_of_sessions_are_summed_up() -> None:
    lines = []
    for i in range(200):
        sid = f"c0000000-0000-4000-8000-{i:012d}"
        t = at("00:05") + i * 400_000
        lines += [(sid, dumps(header(sid, t))), (sid, dumps(user(t, f"check host {i}"))),
                  (sid, dumps(assistant(t + 1000, f"host {i} is fine")))]
    block = render(snap_of(lines), BUDGET)
    assert len(block.encode()) <= BUDGET
    assert block.count("· session `c0000000`") == 30
    assert "- … and 170 shorter sessions (340 messages)" in block


def test_hundreds_of_cron_runs_are_one_line_per_job() -> None:
    lines = []
    for i in range(200):
        sid = f"c0000000-0000-4000-8000-{i:012d}"
        t = at("00:05") + i * 400_000
        job = "ping" if i % 2 else f"sweep-{i % 40}"
        lines += [(sid, dumps(header(sid, t))), (sid, dumps(user(t, f"[cron:{i % 41} {job}] check host {i}"))),
                  (sid, dumps(assistant(t + 1000, "all good")))]
    block = render(snap_of(lines), BUDGET)
    assert "session `c0000000`" not in block and "check host" not in block and "all good" not in block
    assert "- Cron `ping`: 100 runs 00:11–22:11, last ok" in block
    assert block.count("- Cron `") == 12 and "- … and 9 more cron jobs (45 runs)" in block


# --- scheduled work, failures, repetition, precision ---


def heartbeats(n: int, start: str = "00:00", delivered: dict[int, str] | None = None) -> list[tuple[str, bytes]]:
    lines = []
    for i in range(n):
        t = at(start) + i * 1_800_000
        lines += [(S1, dumps(message("user", t, "[OpenClaw heartbeat poll]",
                                     provenance={"kind": "internal_system", "sourceTool": "heartbeat"}))),
                  (S1, dumps(assistant(t + 2000, (delivered or {}).get(i, ("HEARTBEAT_OK", "NO_REPLY")[i % 2]))))]
    return lines


def test_a_day_of_heartbeats_is_a_line_or_two() -> None:
    block = render(snap_of(heartbeats(48)), BUDGET)
    assert block == ("## Sessions (memory-syncd)\n\n*Auto-generated from 96 session messages*\n\n"
                     "- Heartbeats: 48 checks (00:00–23:30), nothing delivered\n")


def test_repeated_deliveries_are_written_once_with_their_times() -> None:
    said = "I have read the checklist. The scheduled tasks are: inbox, calendar. All quiet for now, see you."
    lines = heartbeats(10, delivered={i: said for i in range(1, 10)} | {4: said.replace("now", "the moment")})
    block = render(snap_of(lines), BUDGET)
    assert block.count("The scheduled tasks are") == 1
    assert "- **00:30, 01:00, 01:30 +6 heartbeat:**" in block
    assert "- Heartbeats: 10 checks (00:00–04:30), 9 delivered something" in block


def test_also_mentioned_holds_only_identifiers() -> None:
    rng = random.Random(11)
    plants = {i: ("", f"Mia Keller met Jonas at 10:30 on Friday about ticket RB-{9000 + i} and "
                      f"`deploy/{i}.yaml`, 1,204 files.") for i in (3, 247, 496)}
    block = render(snap_of(busy_day(rng, 500, plants)), BUDGET)
    also = block.split("### Also mentioned\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
    items = [x for line in also for x in re.findall(r"`([^`]+)`", line.split(": ", 1)[1])]
    assert items and all(is_identifier(x) or " " in x for x in items)
    assert not any(x in ("10:30", "1,204", "Friday", "Mia Keller") for x in items)
# --- redact first, then shorten ---


def day_with_answer(answer: str, filler_turns: int) -> DaySnapshot:
    rng = random.Random(filler_turns)
    lines = [(S1, dumps(user(at("09:00"), "show me the deploy config of DEP-1 DEP-2 DEP-3 DEP-4 DEP-5 DEP-6"))),
             (S1, dumps(assistant(at("09:01"), answer)))]
    t = at("10:00")
    for i in range(filler_turns):
        lines += [(S2, dumps(user(t + i * 60_000, sentence(rng)))),
                  (S2, dumps(assistant(t + i * 60_000 + 30_000, " ".join(sentence(rng) for _ in range(8)))))]
    return snap_of(lines)


def clipped_at(filler: int) -> int | None:
    """How many characters the first answer keeps on a day with `filler` other exchanges (None: dropped)."""
    block = render(day_with_answer("x" * 3000, filler), BUDGET)
    line = next((ln for ln in block.splitlines() if ln.startswith("  **answered:** x")), None)
    return None if line is None else len(line) - len("  **answered:** ")


@pytest.mark.parametrize("filler", [0, 30, 40, 50, 60, 70, 80, 100, 200])
def test_an_aws_key_straddling_the_cut_is_redacted_whole(filler: int) -> None:
    """Each exchange is cut to the same cap (1200 characters, shrinking by quarters on busy days): a key
    pair the cut goes through is replaced whole before the cut is made."""
    cap = clipped_at(filler)
    assert cap is not None
    for into in (4, 10, 19):  # how far the cut goes into the key id
        answer = "x" * (cap - 1 - into - 19) + f" aws_access_key_id={AWS_ID} aws_secret_access_key={AWS_SECRET} ok"
        assert AWS_ID[:into] in redact(answer[:cap - 1])  # shortening first would have let its head out
        block = render(day_with_answer(answer, filler), BUDGET)
        assert "x" * 20 + " aws_access_key_id=[" in block  # shown, and cut through the (redacted) key
        assert AWS_ID[:4] not in block and AWS_SECRET[:8] not in block, (cap, into)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 1400), st.sampled_from([0, 30, 150, 400]), st.sampled_from([4096, 8192, BUDGET]))
def test_no_cut_ever_reveals_part_of_a_key(offset: int, filler: int, budget: int) -> None:
    answer = "y " * (offset // 2) + f"AWS_SECRET_ACCESS_KEY={AWS_SECRET} and id {AWS_ID}" + " z" * 300
    block = render(day_with_answer(answer, filler), budget)
    assert AWS_ID[:8] not in block and AWS_SECRET[:8] not in block


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 700), st.integers(0, 3), st.sampled_from([8192, BUDGET, 64 * 1024]))
def test_any_day_stays_within_its_budget(turns: int, seed: int, budget: int) -> None:
    rng = random.Random(seed)
    lines = busy_day(rng, turns, {})
    for i in range(min(turns, 40)):  # plenty of files and commands too
        sid = S1 if i % 2 else S2
        lines.append((sid, dumps(message(
            "assistant", at("07:00") + i * 1000 + 500,
            [{"type": "toolCall", "id": f"t{i}", "name": rng.choice(["read", "exec", "edit"]),
              "arguments": {"path": f"src/module_{i}/{'deep/' * rng.randint(0, 9)}file_{i}.py",
                            "command": f"pytest -q tests/test_{i}.py " + "-k x " * rng.randint(0, 30)}}],
            provider="anthropic", model="claude-opus-4-6", stopReason="toolUse"))))
    block = render(snap_of(lines), budget)
    assert len(block.encode()) <= budget


def test_rendering_never_reads_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    snap = snap_of(busy_day(random.Random(3), 50, {}))
    first = render(snap, BUDGET)

    class Later(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return datetime(2031, 1, 1, tzinfo=tz) + timedelta(hours=5)

    monkeypatch.setattr("memory_syncd.content.render.datetime", Later)
    assert render(snap, BUDGET) == first


@given(st.text(alphabet=st.sampled_from(list("ab .!?-\n\t\u00a0\u3000。！？x")), max_size=60))
def test_sentences_cut_where_the_full_pattern_cuts(text: str) -> None:
    """Text without CJK sentence ends takes a shorter pattern: it cuts exactly where the full one does."""
    full = [s for s in (p.strip() for p in facts._SENTENCE.split(text)) if s]
    assert facts.sentences(text) == full
