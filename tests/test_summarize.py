"""The LLM narrative through the real `anthropic` SDK against a fake Messages API on 127.0.0.1: what is
sent (shape, no secrets, chunks), how failures behave (SDK retries, bounded time, nothing overwritten),
when nothing is sent (unchanged input), and the `summarize` / `backfill --summarize` commands end to end.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_anthropic import FakeAnthropic, Reply, ok, overloaded, rate_limited, running
from fixtures_openclaw import append, assistant, header, jsonl, message, ms, run_module, tool_result, user, write

from memory_syncd import summarize
from memory_syncd.cli import main
from memory_syncd.write import memfile

DAY = "2026-04-13"
SECRETS = {  # kind -> a secret as it would appear in a transcript
    "AWS-ACCESS-KEY-ID": "AKIAQ3EGRWZ7LKMN4PXT",
    "GITHUB-PAT": "ghp_R8x2Lq7Vn4Tz9Wc3Ym6Kb1Hd5Jf0Gs2Pa8Ue",
    "OPENAI-KEY": "sk-proj-Tq3Vx8Lm2Nz7Rb4Wc9Yk1Hd6Jf0Gs5Pa8UeQ2Xn7Mz4Lb",
    "PRIVATE-KEY": ("-----BEGIN RSA PRIVATE KEY-----\n"
                    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
                    "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n"
                    "-----END RSA PRIVATE KEY-----"),
    "PASSWORD": "DB_PASSWORD=Hunter2-Xq9zTmV4",
    "JWT": ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6Ik1heWEifQ."
            "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"),
}
# The part of each secret that must never be seen (the .env line's key name may stay).
SECRET_CORES = [s.split("=", 1)[1] if k == "PASSWORD" else s for k, s in SECRETS.items()]
PEM_LINES = SECRETS["PRIVATE-KEY"].split("\n")[1:3]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropic]:
    with running() as f:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", f.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
        yield f


@pytest.fixture
def home(openclaw_home: Path) -> Path:
    """The samples, with the workspaces their memory files go to."""
    (openclaw_home / "workspace").mkdir()
    (openclaw_home / "workspace-work").mkdir()
    return openclaw_home


def memory(home: Path, day: str = DAY, agent: str = "main") -> Path:
    return home / ("workspace" if agent == "main" else f"workspace-{agent}") / "memory" / f"{day}.md"


def conf(tmp_path: Path, **llm: Any) -> str:
    values = {"model": "claude-test-1", "max_tokens": 321, "max_retries": 2, "timeout_seconds": 10.0, **llm}
    path = tmp_path / "config.toml"
    path.write_text("[llm]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items()))
    return str(path)


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run `memory-syncd ARGS` in process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def summarize_ok(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code, out, err = cli(capsys, "summarize", *args)
    assert code == 0, err
    return out


def state(home: Path) -> Path:
    return home.parent / ".local" / "state" / "memory-syncd"


def record(home: Path, day: str = DAY, agent: str = "main") -> dict[str, Any]:
    value = json.loads((state(home) / "summaries" / agent / f"{day}.json").read_bytes())
    assert isinstance(value, dict)
    return value


def bodies(fake: FakeAnthropic) -> str:
    """Every request body as sent, and decoded (so escaped characters cannot hide a secret)."""
    return "\n".join(r.body.decode() + "\n" + json.dumps(r.json, ensure_ascii=False) + "\n" +
                     r.user_text + "\n" + str(r.json.get("system")) for r in fake.requests)


# --- what is sent ---


def test_request_shape_follows_the_config(home: Path, fake: FakeAnthropic, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    fake.default = ok("Maya and the agent moved backups to restic.")
    summarize_ok(capsys, "--date", DAY, "--config", conf(tmp_path))
    assert len(fake.requests) == 1
    req = fake.requests[0]
    assert req.path == "/v1/messages"
    key = req.headers.get("x-api-key") or req.headers.get("authorization", "").removeprefix("Bearer ")
    assert key == "test-key"  # the SDK's own auth from ANTHROPIC_API_KEY (its header varies by version)
    body = req.json
    assert body["model"] == "claude-test-1"
    assert body["max_tokens"] == 321
    assert body["system"] == summarize.SYSTEM
    assert [m["role"] for m in body["messages"]] == ["user"]
    text = req.user_text
    assert text.startswith(f"Transcript notes of {DAY} (Monday).")
    assert "User requests:" in text and "What did we decide on Friday about the backup script?" in text
    assert "anthropic/claude-opus-4-6 -> openai-codex/gpt-5.3-codex" in text
    assert "[Mon 2026-04-13" not in text  # OpenClaw's envelope is stripped
    assert record(home)["text"] == "Maya and the agent moved backups to restic."
    assert record(home)["model"] == "claude-test-1"


def secret_day(sessions: Path) -> None:
    """2026-04-20 (Berlin) with every kind of secret in user, assistant, tool-call and tool-result text."""
    sid = "5e1f0c3a-7d2b-4e9f-a8c6-0b3d1e2f4a5c"
    t = ms("2026-04-20T10:00:00+02:00")
    aws, gh, oai, pem, env, jwt = SECRETS.values()
    records = [
        header(sid, t),
        {"type": "session_info", "name": f"rotate {gh}"},
        user(t, f"[Mon 2026-04-20 10:00 GMT+2] my AWS key is {aws} and the OpenAI one is {oai}, rotate both"),
        assistant(t + 1000, f"Noted {aws}. I will rotate {oai} and check the JWT {jwt} as well."),
        message("assistant", t + 2000, [{"type": "toolCall", "id": "toolu_1", "name": "exec",
                                         "arguments": {"command": f"GITHUB_TOKEN={gh} gh auth status; cat .env"}}],
                api="anthropic-messages", provider="anthropic", model="claude-opus-4-6", stopReason="toolUse"),
        tool_result(t + 3000, f"{env}\nAPI={oai}\n{pem}\n"),
        message("toolResult", t + 3500, [{"type": "text", "text": f"error: bad token {gh} {jwt}"}],
                toolCallId="toolu_2", toolName="exec", isError=True),
        message("assistant", t + 4000, [{"type": "toolCall", "id": "toolu_3", "name": "write",
                                         "arguments": {"path": f"/tmp/{aws}.pem", "content": pem}}],
                api="anthropic-messages", provider="anthropic", model="claude-opus-4-6", stopReason="toolUse"),
        user(t + 5000, f"here is the deploy key\n{pem}\nand the .env:\n{env}\nand the session {jwt}"),
        assistant(t + 6000, f"Stored. The password line was {env}; the GitHub token {gh} is revoked."),
    ]
    for i in range(8):  # enough text for several chunks at the smallest budget
        records += [user(t + 60_000 * (i + 1), f"reminder {i}: never paste {gh} or {aws} again"),
                    assistant(t + 60_000 * (i + 1) + 1000, f"Understood; {oai} and {jwt} are gone too.")]
    write(sessions / f"{sid}.jsonl", jsonl(records))


def test_no_secret_reaches_the_server(home: Path, fake: FakeAnthropic, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    secret_day(home / "agents" / "main" / "sessions")
    # a small budget as well, so chunk and combine requests are checked too
    fake.default = ok(lambda req: "notes: " + req["messages"][0]["content"][-300:])
    summarize_ok(capsys, "--date", "2026-04-20", "--config", conf(tmp_path))
    summarize_ok(capsys, "--date", "2026-04-20", "--config", conf(tmp_path, input_budget_chars=1000), "--force")
    assert len(fake.requests) >= 3
    sent = bodies(fake)
    for core in SECRET_CORES + PEM_LINES + ["Hunter2"]:
        assert core not in sent, core
    for kind in SECRETS:
        assert f"[REDACTED-{kind}]" in sent, kind
    # what came back (the model echoing the notes) is stored and written redacted too
    stored = json.dumps(record(home, "2026-04-20"))
    written = memory(home, "2026-04-20").read_text()
    for core in SECRET_CORES + PEM_LINES:
        assert core not in stored and core not in written


def test_a_secret_in_the_reply_is_redacted_before_it_is_stored(home: Path, fake: FakeAnthropic, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    fake.default = ok(f"The user pasted {SECRETS['GITHUB-PAT']} by mistake.")
    summarize_ok(capsys, "--date", DAY, "--config", conf(tmp_path))
    assert record(home)["text"] == "The user pasted [REDACTED-GITHUB-PAT] by mistake."
    assert SECRETS["GITHUB-PAT"] not in memory(home).read_text()


def big_day(sessions: Path, turns: int = 40) -> list[str]:
    """2026-04-21 with `turns` distinctive requests, about 10 kB of notes in all."""
    sid = "9a8b7c6d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"
    t = ms("2026-04-21T08:00:00+02:00")
    asks = [f"topic-{i:02d}: please look into the {'flaky ' * 8}build number {1000 + i}" for i in range(turns)]
    records = [header(sid, t)]
    for i, ask in enumerate(asks):
        records += [user(t + i * 60_000, ask), assistant(t + i * 60_000 + 1000, f"Done with topic-{i:02d}.")]
    write(sessions / f"{sid}.jsonl", jsonl(records))
    return asks


def test_a_large_day_is_sent_in_chunks_then_combined(home: Path, fake: FakeAnthropic, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    asks = big_day(home / "agents" / "main" / "sessions")

    def reply(req: dict[str, Any]) -> str:
        text = req["messages"][0]["content"]
        if text.startswith("Notes on part"):
            part = text.split()[3]
            return f"NOTE-{part} " + "long note " * 70  # ~700 characters each: the notes outgrow the budget
        return "The whole day, combined."

    fake.default = ok(reply)
    out = summarize_ok(capsys, "--date", "2026-04-21", "--config", conf(tmp_path, input_budget_chars=1000))
    *parts, combine = [r.user_text for r in fake.requests]
    n = len(parts)
    assert 5 <= n <= 12, n  # few enough parts that an even share of the budget fits each
    assert f"{n + 1} request(s)" in out
    for i, p in enumerate(parts):
        assert p.startswith(f"Notes on part {i + 1} of {n} of the day 2026-04-21.")
        assert len(p.split("\n\n", 1)[1]) <= 1000
    joined = "\n".join(parts)
    positions = [joined.index(f"user: {ask}") for ask in asks]  # every request went out, in order
    assert positions == sorted(positions)
    assert combine.startswith("Notes on the parts of 2026-04-21 (Tuesday), in order.")
    assert len(combine.split("\n\n", 1)[1]) <= 1000
    for i in range(n):  # the notes of every part reach the combine request, the last ones too
        assert f"Part {i + 1}:\nNOTE-{i + 1} " in combine, i
    assert record(home, "2026-04-21")["text"] == "The whole day, combined."


# --- failures ---


@pytest.mark.parametrize("busy", [overloaded(), rate_limited()], ids=["529", "429"])
def test_the_sdk_retries_overloaded_and_rate_limited(home: Path, fake: FakeAnthropic, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str], busy: Reply) -> None:
    fake.script(busy, busy, ok("Third time lucky."))
    summarize_ok(capsys, "--date", DAY, "--config", conf(tmp_path, max_retries=2))
    assert len(fake.requests) == 3
    assert [r.headers.get("x-stainless-retry-count") for r in fake.requests] == ["0", "1", "2"]
    assert len({r.body for r in fake.requests}) == 1  # the same request each time
    assert "Third time lucky." in memory(home).read_text()


def before_and_after_failure(home: Path, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> tuple[bytes, int, str]:
    """The day's file (agent notes plus a block) before; (its bytes, exit code, stderr) of a failed run."""
    path = write(memory(home), b"# 2026-04-13\n\nAgent notes, by hand.\n")
    code, _, err = cli(capsys, "backfill", "--date", DAY)
    assert code == 0, err
    before = path.read_bytes()
    code, out, err = cli(capsys, "summarize", "--date", DAY, "--config",
                         conf(tmp_path, max_retries=2, timeout_seconds=0.5))
    assert out == ""
    return before, code, err


def test_failure_keeps_failing_bounded_and_leaves_the_file(home: Path, fake: FakeAnthropic, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    fake.default = overloaded(20)
    start = time.monotonic()
    before, code, err = before_and_after_failure(home, tmp_path, capsys)
    assert time.monotonic() - start < 10
    assert len(fake.requests) == 3  # max_retries 2
    assert code != 0
    assert err.count("\n") == 1 and err.startswith("memory-syncd: ") and "529" in err, err
    assert memory(home).read_bytes() == before
    rec = record(home)
    assert rec["text"] is None and "529" in rec["error"] and rec["attempts"] == 1


def test_a_server_asking_for_a_long_wait_does_not_stall_the_command(home: Path, fake: FakeAnthropic,
                                                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(summarize, "MAX_RETRY_WAIT", 0.2)
    fake.default = Reply(429, "slow down", {"retry-after": "3600"})
    start = time.monotonic()
    before, code, err = before_and_after_failure(home, tmp_path, capsys)
    assert time.monotonic() - start < 5
    assert len(fake.requests) == 3 and code != 0 and "429" in err
    assert memory(home).read_bytes() == before


def test_a_slow_server_times_out_each_try(home: Path, fake: FakeAnthropic, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    fake.default = ok("late", delay=5)
    start = time.monotonic()
    before, code, err = before_and_after_failure(home, tmp_path, capsys)
    assert time.monotonic() - start < 6  # 3 tries of 0.5 s and two short backoffs
    assert len(fake.requests) == 3 and code != 0
    assert err.count("\n") == 1 and "cannot reach the Anthropic API" in err, err
    assert memory(home).read_bytes() == before


@pytest.mark.parametrize("reply", [Reply(200, raw=b"<html>captive portal</html>"), Reply(200, raw=b"{}"),
                                   ok("   "), Reply(400, "max_tokens: too large")],
                         ids=["html", "no-content", "empty-text", "400"])
def test_a_useless_reply_is_a_one_line_failure(home: Path, fake: FakeAnthropic, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str], reply: Reply) -> None:
    fake.default = reply
    before, code, err = before_and_after_failure(home, tmp_path, capsys)
    assert len(fake.requests) == 1  # not retried
    assert code == 1 and err.count("\n") == 1 and err.startswith("memory-syncd: "), err
    assert memory(home).read_bytes() == before
    rec = record(home)
    assert rec["text"] is None and rec["attempts"] == 1


def test_a_failure_never_replaces_a_good_summary(home: Path, fake: FakeAnthropic, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    fake.default = ok("The good summary.")
    summarize_ok(capsys, "--date", DAY, "--config", conf(tmp_path))
    before = memory(home).read_bytes()
    fake.default = overloaded()
    code, _, err = cli(capsys, "summarize", "--date", DAY, "--force", "--config", conf(tmp_path, max_retries=0))
    assert code == 1 and "529" in err
    assert memory(home).read_bytes() == before
    assert record(home)["text"] == "The good summary."


# --- when nothing is sent ---


def test_unchanged_input_is_not_sent_again(home: Path, fake: FakeAnthropic, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    c = conf(tmp_path)
    fake.default = ok("First.")
    summarize_ok(capsys, "--date", DAY, "--config", c)
    written = memory(home).read_bytes()
    out = summarize_ok(capsys, "--date", DAY, "--config", c)
    assert len(fake.requests) == 1
    assert "unchanged input" in out
    assert memory(home).read_bytes() == written
    assert summarize_ok(capsys, "--date", DAY, "--config", c, "--print") == "First.\n"
    assert len(fake.requests) == 1

    fake.default = ok("Forced.")
    summarize_ok(capsys, "--date", DAY, "--config", c, "--force")
    assert len(fake.requests) == 2 and "Forced." in memory(home).read_text()

    fake.default = ok("Changed.")
    t = ms("2026-04-13T18:00:00+02:00")
    append(home / "agents" / "main" / "sessions" / "3f0c2a9e-5b1d-4c7e-9a41-2d8e6f0b7c13.jsonl",
           jsonl([user(t, "one more thing: book the dentist"), assistant(t + 1000, "Booked for Friday.")]))
    summarize_ok(capsys, "--date", DAY, "--config", c)
    assert len(fake.requests) == 3 and "book the dentist" in fake.requests[-1].user_text
    assert "Changed." in memory(home).read_text()

    summarize_ok(capsys, "--date", DAY, "--config", conf(tmp_path, model="claude-other-2"))
    assert len(fake.requests) == 4  # another model: another summary


# --- the commands end to end ---


def test_summarize_writes_the_narrative_into_the_block_only(home: Path, fake: FakeAnthropic, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    agent_bytes = b"---\ntags: [daily]\n---\n# 2026-04-13\r\n\r\nNotes the agent wrote.\r\nNo final newline"
    path = write(memory(home), agent_bytes)
    fake.default = ok("Maya moved backups to **restic**.\n\nOpen: enable the timer.")
    out = summarize_ok(capsys, "--date", DAY, "--config", conf(tmp_path))
    assert out == f"{DAY}  main: summary 1 request(s); updated {path}\n"
    data = path.read_bytes()
    block = memfile.extract(data)
    assert block is not None
    assert "### Summary\n\nMaya moved backups to **restic**.\n\nOpen: enable the timer.\n" in block
    assert block.index("### Summary") < block.index("### Key exchanges")
    assert data == memfile.splice(agent_bytes, block, "unused")  # the agent's bytes, with the block added


def test_print_prints_and_writes_nothing(home: Path, fake: FakeAnthropic, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    fake.default = ok("Just the narrative.")
    out = summarize_ok(capsys, "--date", DAY, "--config", conf(tmp_path), "--print")
    assert out == "Just the narrative.\n"
    assert not (home / "workspace" / "memory").exists()


def test_summarize_a_day_without_messages(home: Path, fake: FakeAnthropic, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "summarize", "--date", "2026-01-01")
    assert code == 2 and err == "memory-syncd: no session messages on 2026-01-01; nothing to summarize\n"
    assert fake.requests == []


def test_backfill_summarizes_each_day_it_fills(home: Path, fake: FakeAnthropic, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    fake.default = ok(lambda req: "Narrative of " + req["messages"][0]["content"].split()[3] + ".")
    c = conf(tmp_path)
    code, out, err = cli(capsys, "backfill", "--all", "--summarize", "--config", c)
    assert code == 0, err
    assert "4 days considered, 4 written" in out
    days = {("main", "2026-04-13"), ("main", "2026-04-14"), ("main", "2026-04-15"), ("work", "2026-04-17")}
    assert len(fake.requests) == 4
    for agent, day in days:
        block = memfile.extract(memory(home, day, agent).read_bytes())
        assert block is not None and f"### Summary\n\nNarrative of {day}.\n" in block
    # the same input as the daemon's and the summarize command's: nothing is asked again
    summarize_ok(capsys, "--date", "2026-04-14", "--config", c)
    code, out, err = cli(capsys, "backfill", "--all", "--force", "--summarize", "--config", c)
    assert code == 0, err
    assert len(fake.requests) == 4


def test_backfill_writes_the_day_without_a_summary_when_it_fails(home: Path, fake: FakeAnthropic, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    fake.default = Reply(401, "invalid x-api-key")
    code, out, _ = cli(capsys, "backfill", "--all", "--summarize", "--config", conf(tmp_path))
    assert code == 0
    assert "4 days considered, 4 written" in out
    assert out.count("summary failed: Anthropic API error 401: authentication_error: invalid x-api-key") == 4, out
    assert len(fake.requests) == 4
    block = memfile.extract(memory(home).read_bytes())
    assert block is not None and "### Summary" not in block


def test_dry_run_backfill_asks_nothing(home: Path, fake: FakeAnthropic, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "backfill", "--all", "--summarize", "--dry-run")
    assert code == 0, err
    assert fake.requests == []


# --- without the package or the key ---

NO_ANTHROPIC = "sys.modules['anthropic'] = None  # as if the llm extra were not installed"
PIP = "pip install 'memory-syncd[llm]'"


@pytest.mark.parametrize("args", [("summarize", "--date", DAY), ("backfill", "--all", "--summarize"),
                                  ("summarize", "--date", DAY, "--print")])
def test_without_the_package_llm_commands_fail_fast_in_one_line(home: Path, args: tuple[str, ...]) -> None:
    proc = run_module(args, prelude=NO_ANTHROPIC)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("memory-syncd: "), proc.stderr
    assert PIP in proc.stderr
    assert not (home / "workspace" / "memory").exists()
    assert not (state(home) / "summaries").exists()


def test_without_the_package_everything_else_works(home: Path) -> None:
    proc = run_module(["compare", "--json"], prelude=NO_ANTHROPIC)
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)["days"]) == 4
    proc = run_module(["backfill", "--all"], prelude=NO_ANTHROPIC)
    assert proc.returncode == 0, proc.stderr
    assert "4 days considered, 4 written" in proc.stdout
    assert memory(home).exists()
    proc = run_module(["backfill", "--all", "--summarize", "--dry-run"], prelude=NO_ANTHROPIC)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("args", [("summarize", "--date", DAY), ("backfill", "--all", "--summarize")])
def test_without_a_key_llm_commands_fail_fast_in_one_line(home: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str],
                                                          args: tuple[str, ...]) -> None:
    with running() as f:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", f.url)  # reachable, but no key to send
        code, out, err = cli(capsys, *args)
        assert f.requests == []
    assert code == 1 and out == ""
    assert err == "memory-syncd: LLM summaries need an API key: set ANTHROPIC_API_KEY\n"
    assert not (home / "workspace" / "memory").exists()
