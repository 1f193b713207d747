"""`memory-syncd backfill` through the CLI: which days it writes, what the memory file then holds, that every
byte outside the block survives, that a run with nothing new writes nothing, that a dry run touches
nothing at all, and that no planted secret reaches any file it writes."""

from __future__ import annotations

import json
import os
import random
import string
import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from fixtures_openclaw import (
    BERLIN,
    REPO,
    assistant,
    compare_json,
    day_counts,
    header,
    invoke,
    jsonl,
    make_store,
    message,
    ms,
    store_rows,
    today_berlin,
    tool_result,
    user,
    write,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memory_syncd import config, report
from memory_syncd.cli import main
from memory_syncd.redact import redact
from memory_syncd.scope import resolve
from memory_syncd.write import writer
from memory_syncd.write.memfile import BEGIN, END

sys.path.insert(0, str(REPO / "bench"))
import corpus  # bench/ is not a package

SAMPLE_DAYS = {("main", "2026-04-13"), ("main", "2026-04-14"), ("main", "2026-04-15"), ("work", "2026-04-17")}


@pytest.fixture
def home(openclaw_home: Path) -> Path:
    """The sample install with both agents' workspaces (which `backfill` expects to exist)."""
    (openclaw_home / "workspace").mkdir()
    (openclaw_home / "workspace-work").mkdir()
    return openclaw_home


def memory(home: Path, agent: str = "main") -> Path:
    return home / ("workspace" if agent == "main" else f"workspace-{agent}") / "memory"


def backfill_json(*args: str) -> list[dict[str, Any]]:
    result = invoke("backfill", "--json", *args)
    assert result.exit_code == 0, result.stderr
    value = json.loads(result.stdout)
    assert isinstance(value, list)
    return value


def actions(rows: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
    return {(r["agent"], r["date"]): r["action"] for r in rows}


def tree(root: Path, pattern: str = "") -> dict[str, tuple[int, int, int]]:
    """Every path under `root` (whose name ends with `pattern`) with its inode, size and mtime: what "nothing
    was touched" compares."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [n for n in dirnames + filenames if n.endswith(pattern)]:
            st = os.lstat(os.path.join(dirpath, name))
            out[os.path.relpath(os.path.join(dirpath, name), root)] = (st.st_ino, st.st_size, st.st_mtime_ns)
    return out


def block_of(data: bytes) -> str:
    text = data.decode()
    return text[text.index(BEGIN):text.index(END) + len(END)]


# --- the samples ---


def test_samples_are_written_with_titles_and_compare_counts(home: Path) -> None:
    rows = backfill_json("--all")
    assert actions(rows) == {k: "created" for k in SAMPLE_DAYS}
    counts = {(d["agent"], d["date"]): d["messages"] for d in compare_json()["days"]}
    for (agent, day), n in counts.items():
        data = (memory(home, agent) / f"{day}.md").read_bytes()
        weekday = date.fromisoformat(day).strftime("%A")
        assert data.startswith(f"# {day} ({weekday})\n\n{BEGIN}\n## Sessions (memory-syncd)\n".encode())
        assert data.endswith(f"{END}\n".encode())
        assert f"\n*Auto-generated from {n} session messages*\n".encode() in data
    assert counts == {("main", "2026-04-13"): 18, ("main", "2026-04-14"): 12, ("main", "2026-04-15"): 5,
                      ("work", "2026-04-17"): 9}
    assert {r["messages"] for r in rows} == set(counts.values())
    report = compare_json()
    assert report["coverage"] == 100.0  # what was written covers every day


def test_a_sample_day_holds_what_tomorrow_needs(home: Path) -> None:
    store = {"agent:main:main": {"sessionId": "3f0c2a9e-5b1d-4c7e-9a41-2d8e6f0b7c13", "lastChannel": "webchat"}}
    write(home / "agents" / "main" / "sessions" / "sessions.json", json.dumps(store).encode())
    backfill_json("--date", "2026-04-13")
    text = (memory(home) / "2026-04-13.md").read_text()
    for expected in (
        "- 08:58–09:41 · webchat · session `3f0c2a9e` · 18 messages · claude-opus-4-6, gpt-5.3-codex — Morning! "
        "What did we decide on Friday about the backup script?",
        "- 09:41 anthropic/claude-opus-4-6 → openai-codex/gpt-5.3-codex (session `3f0c2a9e`)",
        "- **08:58 asked:** Morning! What did we decide on Friday about the backup script? Check your notes.",
        "restic would add 1,204 files (2.31 GiB)",
        "`BACKUP_B2_BUCKET=maya-nas-bkp`",
        "- `memory/2026-04-13.md` (write, edit)",
        "- `/home/maya/bin/backup.sh` (read, edit)",
        "- ran `~/bin/backup.sh --dry-run`",
    ):
        assert expected in text
    assert "[Mon 2026-04-13" not in text  # the envelope's timestamp prefix is gone
    # the script's credentials, read by a tool, never reach the memory file
    assert "K005FAKEfake" not in text and "0051a2b3c4d5e6f0000000003" not in text


def test_noise_is_left_out_of_the_samples(home: Path) -> None:
    backfill_json("--all")
    late, next_day = (memory(home) / "2026-04-14.md").read_text(), (memory(home) / "2026-04-15.md").read_text()
    for text in (late, next_day):
        for noise in ("HEARTBEAT", "NO_REPLY", "Pre-compaction", "untrusted metadata", "message_id", "5550001234"):
            assert noise not in text
    # the memory flush's edit right after it is not this exchange's tool
    assert "- **23:52 asked:** yes save it. also note that finance said budget is approved now\n  **answered:** " \
           "Saved. I'll update the agenda item to \"budget approved\" and note it.\n" in late
    assert "- **00:10 asked:** remind me at 9 to send the invoice to Kessler GmbH\n  **answered:** Set: I'll ping " \
           "you at 09:00 to send the Kessler GmbH invoice. _(tools: cron)_\n" \
           "- **09:00 agent:**\n  Reminder: send the invoice to Kessler GmbH.\n" in next_day  # the delivery, later
    work = (memory(home, "work") / "2026-04-17.md").read_text()
    assert "- 14:04 anthropic/claude-sonnet-4-6 → google/gemini-3-pro-preview (session `c71e0d52`)" in work
    assert "### Errors" in work and "exec: error: You must be logged in to the server (Unauthorized)" in work
    assert "eyJhbGci" not in work  # the JWT in the failed command's output


def test_the_daemons_one_day_view_renders_the_same_block(home: Path) -> None:
    env = dict(os.environ)
    target = resolve(config.load(None, env), env)
    for idx in report.index_agents(target, save=False):
        full = writer.view(target, idx)
        for day in full.days:
            assert writer.block_for(target, writer.view(target, idx, only=day), day) == \
                writer.block_for(target, full, day)


def test_a_day_held_by_the_sqlite_store_and_a_jsonl_copy(home: Path) -> None:
    sid = "5e1f0000-0000-4000-8000-00000000beef"
    t = ms("2026-04-16T10:00:00+02:00")
    records = [header(sid, t), user(t, "what did migration M-0042 change?"),
               tool_result(t + 1000, "column added\n" * 4000),  # a big result that is no error
               assistant(t + 2000, "Migration M-0042 added two columns to `orders`.")]
    make_store(home / "agents" / "main" / "agent" / "openclaw-agent.sqlite", store_rows(sid, records))
    write(home / "agents" / "main" / "sessions" / f"{sid}.jsonl", jsonl(records[:3]))  # the same, in both stores
    assert day_counts(compare_json(), "main")["2026-04-16"] == 3
    rows = backfill_json("--date", "2026-04-16", "--agent", "main")
    assert [(r["messages"], r["action"]) for r in rows] == [(3, "created")]
    text = (memory(home) / "2026-04-16.md").read_text()
    assert "*Auto-generated from 3 session messages*" in text and "· session `5e1f0000` · 3 messages" in text
    assert "**answered:** Migration M-0042 added two columns to `orders`." in text


# --- generated data ---


def test_generated_history_matches_compare_and_keeps_the_agents_notes(isolated_env: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    state = tmp_path / "openclaw"
    corpus.generate(state, size_mb=3, days=6, agents=2, seed=11)
    monkeypatch.setenv("OPENCLAW_STATE_DIR", str(state))
    notes = {p: p.read_bytes() for p in state.glob("workspace*/memory/*.md")}
    rows = backfill_json("--all", "--force", "--timezone", corpus.TIMEZONE)
    report = compare_json("--timezone", corpus.TIMEZONE)
    counts = {(d["agent"], d["date"]): d["messages"] for d in report["days"]}
    assert {(r["agent"], r["date"]): r["messages"] for r in rows} == counts and len(counts) >= 8
    for r in rows:
        data = Path(r["path"]).read_bytes()
        assert f"\n*Auto-generated from {counts[(r['agent'], r['date'])]} session messages*\n".encode() in data
        assert r["bytes"] <= 24 * 1024
        before = notes.get(Path(r["path"]))
        if before:  # the agent's own notes are all still there, before the block
            assert data.startswith(before) and data[len(before):].lstrip(b"\n").startswith(BEGIN.encode())
        else:
            assert data.startswith(f"# {r['date']} (".encode())
    assert report["coverage"] == 100.0


# --- loss-free writing ---

OUTSIDE_BEFORE = (b"---\r\ntags: [daily]\r\n---\r\n# 2026-04-13\r\n\r\n## Notes\r\n- kept \xc3\xa9 note\r\n\r\n"
                  b"<!-- openclaw:dreaming:light:start -->\r\n## Light Sleep\r\n- recalled\r\n"
                  b"<!-- openclaw:dreaming:light:end -->\r\n\r\n")
OUTSIDE_AFTER = b"\r\n\r\n## Evening\r\n- agent appended this, no final newline"


@pytest.mark.parametrize("eol", [b"\r\n", b"\n"])
@pytest.mark.parametrize("old_block", [b"", b"<!-- memory-syncd:begin -->\r\nstale\r\n<!-- memory-syncd:end -->"])
def test_every_byte_outside_the_block_survives(home: Path, old_block: bytes, eol: bytes) -> None:
    before, after = OUTSIDE_BEFORE.replace(b"\r\n", eol), OUTSIDE_AFTER.replace(b"\r\n", eol)
    old_block = old_block.replace(b"\r\n", eol)
    day = write(memory(home) / "2026-04-13.md", before + old_block + after)
    assert actions(backfill_json("--date", "2026-04-13", "--agent", "main")) == {("main", "2026-04-13"): "updated"}
    data = day.read_bytes()
    if old_block:
        start, end = data.index(BEGIN.encode()), data.index(END.encode()) + len(END)
        assert data[:start] == before and data[end:] == after
    else:  # appended after the unterminated last line, which gets its line break and a blank line
        assert data.startswith(before + after + eol + eol + BEGIN.encode())
        assert data.endswith(END.encode() + eol)
    if eol == b"\r\n":
        assert b"\n" not in data.replace(b"\r\n", b"")  # the block follows the file's CRLF
    assert b"*Auto-generated from 18 session messages*" in data


def test_a_second_run_writes_nothing(home: Path) -> None:
    backfill_json("--all")
    dirs = [memory(home), memory(home, "work")]
    before = [tree(d, ".md") for d in dirs]
    rows = backfill_json("--all", "--force")
    assert actions(rows) == {k: "unchanged" for k in SAMPLE_DAYS}
    assert [tree(d, ".md") for d in dirs] == before  # same inodes, sizes and mtimes
    assert actions(backfill_json("--date", "2026-04-13", "--agent", "main")) == {("main", "2026-04-13"): "unchanged"}
    assert actions(backfill_json("--all", "--force", "--dry-run")) == {k: "unchanged" for k in SAMPLE_DAYS}


# --- which days ---


def test_covered_days_are_left_alone_without_force(home: Path) -> None:
    covered = write(memory(home) / "2026-04-13.md", b"# 2026-04-13\n\n" + b"- a real note of the day\n" * 4)  # 110 B
    sparse = write(memory(home) / "2026-04-14.md", b"- short\n")  # 8 bytes for 12 messages
    slugged = write(memory(home) / "2026-04-15-0710.md", b"x" * 25)  # slugged files count: 25 = 5 x 5
    kept = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (covered, sparse, slugged)}
    for args in (["--all"], ["--since", "2026-04-13"], ["--since", "2026-04-13", "--until", "2026-04-20"]):
        rows = backfill_json(*args)
        assert {(r["date"], r["before"], r["action"]) for r in rows if r["agent"] == "main"} >= {
            ("2026-04-13", "covered", "skipped-covered"), ("2026-04-15", "covered", "skipped-covered")}
        for path in (covered, slugged):
            assert (path.read_bytes(), path.stat().st_mtime_ns) == kept[path]
    assert not (memory(home) / "2026-04-15.md").exists()
    assert sparse.read_bytes().startswith(kept[sparse][0] + b"\n" + BEGIN.encode())  # sparse: filled
    rows = backfill_json("--all", "--force")
    assert actions(rows)[("main", "2026-04-13")] == "updated" and actions(rows)[("main", "2026-04-15")] == "created"
    assert covered.read_bytes().startswith(kept[covered][0])


def test_date_writes_the_named_day_even_when_covered(home: Path) -> None:
    day = write(memory(home) / "2026-04-13.md", b"n" * 500)
    rows = backfill_json("--date", "2026-04-13")
    assert [(r["agent"], r["before"], r["action"]) for r in rows] == [("main", "covered", "updated"),
                                                                      ("work", "missing", "no-messages")]
    assert day.read_bytes().startswith(b"n" * 500 + b"\n\n" + BEGIN.encode())


def test_since_and_until_bound_the_days(home: Path) -> None:
    assert sorted(actions(backfill_json("--since", "2026-04-14", "--until", "2026-04-15", "--dry-run"))) == [
        ("main", "2026-04-14"), ("main", "2026-04-15")]
    assert sorted(actions(backfill_json("--all", "--until", "2026-04-14", "--dry-run"))) == [
        ("main", "2026-04-13"), ("main", "2026-04-14")]
    assert actions(backfill_json("--since", "2026-04-16", "--dry-run")) == {("work", "2026-04-17"): "would-create"}
    assert backfill_json("--since", "2026-05-01") == []


def add_today(home: Path) -> date:
    """A session of agent main with two messages today (Berlin), a minute apart."""
    today = today_berlin()
    now = int(datetime.now(BERLIN).timestamp() * 1000)
    midnight = int(datetime(today.year, today.month, today.day, tzinfo=BERLIN).timestamp() * 1000)
    t = max(now - 120_000, midnight + 1000)
    sid = "70da7000-0000-4000-8000-000000000001"
    write(home / "agents" / "main" / "sessions" / f"{sid}.jsonl",
          jsonl([header(sid, t), user(t, "what is on today? ticket TODAY-7"), assistant(t + 60_000, "Nothing.")]))
    return today


def test_today_is_written_by_today_but_left_out_of_all(home: Path) -> None:
    today = add_today(home)
    if today_berlin() != today:
        pytest.skip("midnight passed during the test")
    assert ("main", today.isoformat()) not in actions(backfill_json("--all"))
    assert ("main", today.isoformat()) not in actions(backfill_json("--since", "2026-04-01", "--force"))
    rows = backfill_json("--today", "--agent", "main")
    assert [(r["agent"], r["date"], r["messages"], r["action"]) for r in rows] == [
        ("main", today.isoformat(), 2, "created")]
    text = (memory(home) / f"{today.isoformat()}.md").read_text()
    assert text.startswith(f"# {today.isoformat()} ({today.strftime('%A')})\n") and "TODAY-7" in text
    # an explicit --until that reaches today takes it in
    assert ("main", today.isoformat()) in actions(backfill_json("--all", "--force", "--until", today.isoformat()))


def test_a_day_without_messages_writes_nothing(home: Path) -> None:
    rows = backfill_json("--date", "2026-04-16")
    assert [r["agent"] for r in rows] == ["main", "work"]
    for row in rows:
        assert row.items() >= {"date": "2026-04-16", "messages": 0, "before": "missing", "action": "no-messages",
                               "path": None, "bytes": 0}.items()
    assert not memory(home).exists() and not memory(home, "work").exists()


def test_text_output(home: Path) -> None:
    result = invoke("backfill", "--all", "--agent", "work")
    assert result.exit_code == 0
    path = memory(home, "work") / "2026-04-17.md"
    assert result.stdout == f"2026-04-17  work            9 msgs  missing  -> created  {path}\n" \
                            "1 days considered, 1 written\n"


def test_json_output(home: Path) -> None:
    rows = backfill_json("--date", "2026-04-17", "--agent", "work")
    (row,) = rows
    path = memory(home, "work") / "2026-04-17.md"
    assert row.items() >= {"agent": "work", "date": "2026-04-17", "messages": 9, "before": "missing",
                           "action": "created", "path": str(path)}.items()
    assert row["bytes"] == len(block_of(path.read_bytes()).encode()) - len(BEGIN) - len(END) - 1


# --- dry runs ---


def test_a_dry_run_touches_nothing(home: Path, isolated_env: Path) -> None:
    write(memory(home) / "2026-04-14.md", b"- short\n")
    before = tree(isolated_env)
    rows = backfill_json("--all", "--dry-run")
    assert actions(rows) == {("main", "2026-04-13"): "would-create", ("main", "2026-04-14"): "would-update",
                             ("main", "2026-04-15"): "would-create", ("work", "2026-04-17"): "would-create"}
    assert all(r["bytes"] > 300 for r in rows)
    for args in (["--today", "--dry-run"], ["--date", "2026-04-17", "--dry-run", "--force"],
                 ["--since", "2026-04-01", "--dry-run", "--force"]):
        backfill_json(*args)
    result = invoke("backfill", "--all", "--dry-run")
    assert result.stdout.endswith("4 days considered, 0 written (dry run)\n")
    assert tree(isolated_env) == before  # no memory files or dirs, no state dir, no cache, no lock


# --- errors ---


@pytest.mark.parametrize(("args", "text"), [
    (("--today", "--all"), "choose exactly one of --today, --date D, --since D, --all"),
    (("--date", "2026-04-13", "--since", "2026-04-01"), "choose exactly one of"),
    ((), "choose exactly one of"),
    (("--today", "--until", "2026-04-20"), "--until goes with --since or --all"),
    (("--until", "2026-04-20"), "choose exactly one of"),
    (("--date", "2026-02-30"), "--date: expected a date as YYYY-MM-DD, got '2026-02-30'"),
    (("--since", "yesterday"), "--since: expected a date as YYYY-MM-DD, got 'yesterday'"),
    (("--all", "--until", "04/20/2026"), "--until: expected a date as YYYY-MM-DD"),
    (("--since", "2026-04-20", "--until", "2026-04-10"), "--until 2026-04-10 is before --since 2026-04-20"),
])
def test_bad_combinations_are_one_line_errors(home: Path, capsys: pytest.CaptureFixture[str],
                                              args: tuple[str, ...], text: str) -> None:
    before = tree(home.parent)
    with pytest.raises(SystemExit) as info:
        main(["backfill", "--json", *args])
    out, err = capsys.readouterr()
    assert info.value.code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("memory-syncd") and text in err, err
    assert tree(home.parent) == before


# --- write_mode = "separate" ---


def test_separate_mode_leaves_the_daily_file_alone(home: Path, isolated_env: Path) -> None:
    conf = write(isolated_env / ".config" / "memory-syncd" / "config.toml", b'write_mode = "separate"\n')
    assert conf.exists()
    daily = write(memory(home) / "2026-04-13.md", b"# 2026-04-13\n\n- my own notes\n")
    kept = (daily.read_bytes(), daily.stat().st_ino, daily.stat().st_mtime_ns)
    rows = backfill_json("--all")
    assert actions(rows)[("main", "2026-04-13")] == "created"  # 30 bytes for 18 messages: sparse
    ours = memory(home) / "2026-04-13-memory-sync.md"
    assert ours.read_text().startswith(f"# 2026-04-13 (Monday)\n\n{BEGIN}\n")
    assert (daily.read_bytes(), daily.stat().st_ino, daily.stat().st_mtime_ns) == kept
    assert sorted(p.name for p in memory(home).iterdir() if p.suffix == ".md") == [
        "2026-04-13-memory-sync.md", "2026-04-13.md", "2026-04-14-memory-sync.md", "2026-04-15-memory-sync.md"]
    assert compare_json()["coverage"] == 100.0  # the separate file covers its day
    assert actions(backfill_json("--all")) == {k: "skipped-covered" for k in SAMPLE_DAYS}


# --- no secret reaches disk ---

_ALNUM = string.ascii_letters + string.digits


def _chars(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


# kind -> (secrets, text carrying them): built here from each format's public shape, not from the redactor
SECRET_KINDS: dict[str, Callable[[random.Random], tuple[list[str], str]]] = {
    "github-pat": lambda r: ([s := "ghp_" + _chars(r, _ALNUM, 36)], f"token {s}"),
    # (a secret key starting with "/" is not caught by the redactor after `=`: reported to its owner)
    "aws-pair": lambda r: ([i := "AKIA" + _chars(r, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16),
                            k := r.choice(_ALNUM) + _chars(r, _ALNUM + "/+", 39)],
                           f"aws_access_key_id={i} aws_secret_access_key={k}"),
    "anthropic": lambda r: ([s := "sk-ant-api03-" + _chars(r, _ALNUM + "_-", 93) + "AA"], f"ANTHROPIC_API_KEY={s}"),
    "openai": lambda r: ([s := "sk-proj-" + _chars(r, _ALNUM + "_-", 64)], f"key {s}"),
    "slack": lambda r: ([s := f"xoxb-{_chars(r, string.digits, 12)}-{_chars(r, string.digits, 13)}-"
                         f"{_chars(r, _ALNUM, 24)}"], f"slack bot {s}"),
    "stripe": lambda r: ([s := "sk_live_" + _chars(r, _ALNUM, 24)], f"stripe {s}"),
    "google": lambda r: ([s := "AIza" + _chars(r, _ALNUM + "_-", 35)], f"maps key {s}"),
    "jwt": lambda r: ([s := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ" + _chars(r, _ALNUM + "_-", 40) + "."
                       + _chars(r, _ALNUM + "_-", 43)], f"Authorization: Bearer {s}"),
    "db-url": lambda r: ([s := _chars(r, _ALNUM, 18)], f"postgres://app:{s}@db.internal:5432/prod"),
    "password": lambda r: ([s := _chars(r, _ALNUM, 8) + "!" + _chars(r, _ALNUM, 6) + "%" + _chars(r, string.digits, 3)],
                           f"DB_PASSWORD={s}"),
    "private-key": lambda r: ([s := _chars(r, _ALNUM + "+/", 64)],
                              f"-----BEGIN OPENSSH PRIVATE KEY-----\n{s}\n{_chars(r, _ALNUM, 64)}\n"
                              "-----END OPENSSH PRIVATE KEY-----"),
}
PLACES = ("user", "assistant", "tool-args", "read-path", "exec", "tool-result", "tool-error", "big-tool-error",
          "big-tool-result", "session-name", "error-message", "thinking")
PADS = (0, 3, 60, 88, 95, 99, 150, 155, 159, 190, 197, 1150, 1190, 1197, 1199, 1250)


def planted_day(plants: list[tuple[str, str, int, int]], sid: str) -> tuple[bytes, list[str]]:
    """A session on 2026-04-13 with each (kind, place, padding, seed) planted; its JSONL and the secrets."""
    t = ms("2026-04-13T09:00:00+02:00")
    records: list[dict[str, Any]] = [header(sid, t)]
    secrets: list[str] = []
    for n, (kind, place, pad, seed) in enumerate(plants):
        found, text = SECRET_KINDS[kind](random.Random(seed))
        secrets += found
        text = "word " * (pad // 5) + text + " and more words after it" * 3
        t += 60_000
        records.append(user(t, f"step {n}: " + (text if place == "user" else "please carry on")))
        call: dict[str, Any] = {"type": "toolCall", "id": f"toolu_{n}", "name": "write",
                                "arguments": {"path": "notes/today.md", "content": text}}
        if place == "read-path":
            call = {"type": "toolCall", "id": f"toolu_{n}", "name": "read", "arguments": {"path": f"/srv/{text}/x"}}
        if place == "exec":
            call = {"type": "toolCall", "id": f"toolu_{n}", "name": "exec", "arguments": {"command": f"echo {text}"}}
        blocks = [{"type": "thinking", "thinking": text if place == "thinking" else "hmm"}, call]
        records.append(message("assistant", t + 1000, blocks, provider="anthropic", model="claude-opus-4-6",
                               stopReason="toolUse"))
        result = text if place.endswith(("tool-result", "tool-error")) else "ok"
        if place.startswith("big"):
            result = result + "\n" + "output line\n" * 3000
        records.append(tool_result(t + 2000, result))
        records[-1]["message"]["isError"] = place.endswith("error")
        if place == "session-name":
            records.append({"type": "session_info", "id": f"{n:08x}", "parentId": None,
                            "timestamp": "2026-04-13T07:10:00.000Z", "name": text})
        if place == "error-message":
            records.append(message("assistant", t + 3000, [], provider="anthropic", model="claude-opus-4-6",
                                   stopReason="error", errorMessage=text))
        answer = text if place == "assistant" else "done"
        records.append(assistant(t + 4000, f"Step {n}: {answer}"))
    return jsonl(records), secrets


plant = st.tuples(st.sampled_from(sorted(SECRET_KINDS)), st.sampled_from(PLACES),
                  st.one_of(st.sampled_from(PADS), st.integers(0, 1300)), st.integers(0, 2**32))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(plant, min_size=1, max_size=5), st.integers(0, 400))
def test_no_planted_secret_reaches_any_file_written(tmp_path_factory: pytest.TempPathFactory,
                                                    plants: list[tuple[str, str, int, int]], filler: int) -> None:
    root = tmp_path_factory.mktemp("secrets")
    sid = "5ec2e7aa-0000-4000-8000-000000000001"
    data, secrets = planted_day(plants, sid)
    for kind, _, _, seed in plants:  # the redactor is meant to catch each planted form on its own
        found, text = SECRET_KINDS[kind](random.Random(seed))
        assert not any(s in redact(text) for s in found), f"redact itself misses {kind}: {text!r}"
    sessions = root / "agents" / "main" / "sessions"
    write(sessions / f"{sid}.jsonl", data)
    other = "5ec2e7aa-0000-4000-8000-000000000002"  # a busy second session: exchanges get shortened
    t = ms("2026-04-13T12:00:00+02:00")
    write(sessions / f"{other}.jsonl", jsonl([header(other, t)] + [
        r for i in range(filler) for r in (user(t + i * 1000, f"filler question {i} " * 8),
                                           assistant(t + i * 1000 + 500, f"filler answer {i} " * 30))]))
    mem, state = root / "workspace" / "memory", root / "state"
    mem.parent.mkdir()
    result = invoke("backfill", "--all", "--force", "--sessions-dir", str(sessions), "--memory-dir", str(mem),
                    "--state-dir", str(state), "--timezone", "Europe/Berlin")
    assert result.exit_code == 0, result.stderr
    written = [p for d in (mem, state) for p in d.rglob("*") if p.is_file()]
    assert any(p.name == "2026-04-13.md" for p in written) and any(p.suffix == ".json" for p in written)
    for path in written:
        body = path.read_bytes()
        for secret in secrets:  # neither its head nor a piece of its middle, so no cut-off part either
            middle = secret[len(secret) // 2:len(secret) // 2 + 10]
            assert secret[:12].encode() not in body and middle.encode() not in body, (path.name, secret)
    summary = (mem / "2026-04-13.md").read_text()
    assert "*Auto-generated from" in summary


def test_secrets_in_a_long_answer_around_the_cap_are_caught(home: Path) -> None:
    """Redact first, then shorten: an AWS key pair that the 1200-character cut goes through."""
    key_id, key = "AKIAZ7PQRS2TUVWX3YZA", "Hh7dK2mQ9xLp4RtV8nWb3ZcY6fJs1GuEeAa5Mk0T"
    sid = "a1b2c3d4-0000-4000-8000-00000000aaaa"
    t = ms("2026-04-16T10:00:00+02:00")
    records = [header(sid, t)]
    for i, pad in enumerate((1150, 1170, 1180, 1185, 1190, 1195)):
        answer = "z" * pad + f" aws_access_key_id={key_id} aws_secret_access_key={key} " + "tail " * 50
        records += [user(t + i * 60_000, f"show the deploy env {i}"), assistant(t + i * 60_000 + 1000, answer)]
    write(home / "agents" / "main" / "sessions" / f"{sid}.jsonl", jsonl(records))
    backfill_json("--date", "2026-04-16")
    text = (memory(home) / "2026-04-16.md").read_text()
    assert "z" * 1100 in text and "…" in text  # the answers were cut
    assert key_id[:4] + key_id[4:8] not in text and key[:8] not in text


def test_the_state_dir_holds_no_transcript_text(home: Path, isolated_env: Path) -> None:
    backfill_json("--all")
    state = isolated_env / ".local" / "state" / "memory-syncd"
    blob = b"".join(p.read_bytes() for p in state.rglob("*") if p.is_file())
    assert blob and b"backup" not in blob and b"Kessler" not in blob and b"restic" not in blob

