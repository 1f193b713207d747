"""sources.py: which files are transcripts, where the state dirs, agents, stores and memory dirs are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fixtures_openclaw import S_3F, S_8B, compare_json, day_counts, write

from memory_syncd.errors import UsageError
from memory_syncd.read.discover import discover, read_openclaw_config, select, state_roots
from memory_syncd.read.sources import Agent, Kind, classify, list_sessions

SID = "3f0c2a9e-5b1d-4c7e-9a41-2d8e6f0b7c13"
TS = "2026-04-13T07-12-55.123Z"


@pytest.mark.parametrize(("name", "kind"), [
    (f"{SID}.jsonl", Kind.JSONL),
    (f"{SID}-topic-42.jsonl", Kind.JSONL),
    (f"{SID}-topic-a%2Fb.jsonl", Kind.JSONL),
    (f"{SID}.jsonl.reset.{TS}", Kind.JSONL),
    (f"{SID}.jsonl.deleted.{TS}", Kind.JSONL),
    (f"{SID}.jsonl.reset.2026-04-13T07-12-55Z", Kind.JSONL),
    (f"{SID}.jsonl.deleted.{TS}.zst", Kind.ZST),
    (f"{SID}.jsonl.reset.{TS}.zst", Kind.ZST),
    (f"{SID}.jsonl.deleted.2026-09-30T10-11-12.345Z.0123456789abcdef0123456789abcdef.zst", Kind.ZST),
    (f"{SID}.jsonl.deleted.2026-09-30T10-11-12.345Z.0123456789abcdef0123456789abcdef", Kind.JSONL),
    (f"{SID}.jsonl.deleted.1767225600", Kind.JSONL),
    (f"{SID}.jsonl.reset.1767225600", Kind.JSONL),
    (f"{SID}.jsonl.deleted.2026-09-30T10-11-12.345Z.not-a-generation.zst", Kind.SKIP),
    (f"{SID}.jsonl.lock", Kind.SKIP),
    (f"{SID}.checkpoint.0b6c7e2a-1f3d-4e5a-9b8c-7d6e5f4a3b2c.jsonl", Kind.SKIP),
    (f"{SID}.trajectory.jsonl", Kind.SKIP),
    (f"{SID}.trajectory-path.json", Kind.SKIP),
    ("sessions.json", Kind.SKIP),
    ("sessions.json.bak.1776063521255", Kind.SKIP),
    (f"{SID}.jsonl.bak-4242-1776063521255", Kind.SKIP),
    (f"{SID}.jsonl.repair-4242-1776063521255.tmp", Kind.SKIP),
    (f"{SID}.jsonl.truncate-tmp", Kind.SKIP),
    (f"{SID}.jsonl.tmp", Kind.SKIP),
    (f"{SID}.jsonl.reset.yesterday", Kind.SKIP),
    (f"{SID}.jsonl.reset.{TS}.gz", Kind.SKIP),
    (".DS_Store", Kind.SKIP),
    ("notes.txt", Kind.SKIP),
])
def test_classify(name: str, kind: Kind) -> None:
    assert classify(name) is kind


def make_sessions_dir(d: Path) -> Path:
    d.mkdir(parents=True)
    for name in (f"{SID}.jsonl", f"{SID}-topic-7.jsonl", f"{SID}.jsonl.reset.{TS}", f"{SID}.jsonl.deleted.{TS}",
                 f"{SID}.jsonl.deleted.{TS}.zst", f"{SID}.jsonl.lock", "sessions.json",
                 f"{SID}.checkpoint.0b6c7e2a-1f3d-4e5a-9b8c-7d6e5f4a3b2c.jsonl", f"{SID}.trajectory.jsonl",
                 f"{SID}.jsonl.bak-1-2", "sessions.json.bak.17", f"{SID}.jsonl.repair-1-2.tmp"):
        write(d / name, b"")
    (d / "dir.jsonl").mkdir()
    outside = write(d.parent / "elsewhere" / "other.jsonl", b"")
    (d / "link-out.jsonl").symlink_to(outside)
    (d / "link-in.jsonl").symlink_to(d / f"{SID}.jsonl")
    (d / "loop.jsonl").symlink_to(d / "loop.jsonl")
    (d / "ping.jsonl").symlink_to(d / "pong.jsonl")
    (d / "pong.jsonl").symlink_to(d / "ping.jsonl")
    (d / "dangling.jsonl").symlink_to(d / "missing.jsonl")
    write(d / "session-sqlite-import-archive" / "imported.jsonl", b"")
    return d


def test_list_sessions(tmp_path: Path) -> None:
    listing = list_sessions(make_sessions_dir(tmp_path / "sessions"))
    names = {(p.name, k) for p, k in listing.files}
    assert names == {
        (f"{SID}.jsonl", Kind.JSONL), (f"{SID}-topic-7.jsonl", Kind.JSONL),
        (f"{SID}.jsonl.reset.{TS}", Kind.JSONL), (f"{SID}.jsonl.deleted.{TS}", Kind.JSONL),
        (f"{SID}.jsonl.deleted.{TS}.zst", Kind.ZST), ("link-in.jsonl", Kind.JSONL), ("imported.jsonl", Kind.JSONL),
    }
    assert listing.skipped == {
        # checkpoint, .bak-, sessions.json.bak, .tmp; not .lock, sessions.json or OpenClaw's run trace
        # (`.trajectory.jsonl`, which every sessions dir of OpenClaw 2026.7 holds)
        "not a transcript": 4,
        "not a regular file": 5,  # dir.jsonl, loop, ping, pong, dangling
        "link pointing elsewhere": 1,
    }


def test_list_sessions_of_missing_dir_is_empty(tmp_path: Path) -> None:
    listing = list_sessions(tmp_path / "nope")
    assert not listing.files and not listing.skipped


# --- state dirs ---


def env_for(home: Path, **extra: str) -> dict[str, str]:
    return {"HOME": str(home), **extra}


def test_state_roots(tmp_path: Path) -> None:
    home = tmp_path
    assert state_roots(env_for(home)) == []
    (home / ".clawdbot").mkdir()
    assert state_roots(env_for(home)) == [home / ".clawdbot"]
    (home / ".openclaw").mkdir()
    assert state_roots(env_for(home)) == [home / ".openclaw", home / ".clawdbot"]
    custom = tmp_path / "custom"
    custom.mkdir()
    assert state_roots(env_for(home, OPENCLAW_STATE_DIR=str(custom))) == [custom]
    assert state_roots(env_for(home, OPENCLAW_STATE_DIR=str(custom)), explicit=str(home / ".openclaw")) == [
        home / ".openclaw"]
    assert state_roots(env_for(home, OPENCLAW_STATE_DIR=str(tmp_path / "missing"))) == []


def test_legacy_symlink_counts_once(tmp_path: Path) -> None:
    root = tmp_path / ".openclaw"
    (root / "agents" / "main" / "sessions").mkdir(parents=True)
    (tmp_path / ".clawdbot").symlink_to(root)
    assert state_roots(env_for(tmp_path)) == [root]
    assert [a.id for a in discover(env_for(tmp_path))] == ["main"]


def test_legacy_symlink_counts_once_through_the_cli(openclaw_home: Path) -> None:
    (openclaw_home.parent / ".clawdbot").symlink_to(openclaw_home)
    report = compare_json("--agent", "main")
    assert day_counts(report) == {"2026-04-13": 18, "2026-04-14": 12, "2026-04-15": 5}


def test_only_legacy_dir(tmp_path: Path) -> None:
    sessions = tmp_path / ".clawdbot" / "agents" / "main" / "sessions"
    sessions.mkdir(parents=True)
    (agent,) = discover(env_for(tmp_path))
    assert agent.sessions_dir == sessions


# --- agents and workspaces ---


def make_root(root: Path, ids: tuple[str, ...], config: str | None) -> Path:
    for i in ids:
        (root / "agents" / i / "sessions").mkdir(parents=True)
    if config is not None:
        (root / "openclaw.json").write_text(config)
    return root


def by_id(agents: list[Agent]) -> dict[str, Agent]:
    return {a.id: a for a in agents}


def test_default_workspaces(tmp_path: Path) -> None:
    root = make_root(tmp_path / ".openclaw", ("main", "work"), None)
    agents = by_id(discover(env_for(tmp_path)))
    assert agents["main"].memory_dir == tmp_path / ".openclaw" / "workspace" / "memory"
    assert agents["work"].memory_dir == root / "workspace-work" / "memory"
    assert agents["main"].sessions_dir == root / "agents" / "main" / "sessions"
    assert agents["main"].sqlite == root / "agents" / "main" / "agent" / "openclaw-agent.sqlite"
    assert agents["main"].timezone == ""


def test_default_workspace_of_main_follows_home_not_the_state_dir(tmp_path: Path) -> None:
    root = make_root(tmp_path / "state", ("main", "ops"), None)
    agents = by_id(discover(env_for(tmp_path / "home", OPENCLAW_STATE_DIR=str(root))))
    assert agents["main"].memory_dir == tmp_path / "home" / ".openclaw" / "workspace" / "memory"
    assert agents["ops"].memory_dir == root / "workspace-ops" / "memory"


JSON5_CONFIG = """// OpenClaw config, JSON5
{
  /* block
     comment */
  agents: {
    defaults: {
      workspace: '~/clawd',  // single quotes, a home-relative path
      userTimezone: "America/Los_Angeles",
    },
    list: [
      {id: "main",},
      {id: "Research", workspace: "/srv/research",},
      {id: 'ops', name: 'Ops "team"', },
    ],
  },
  gateway: {port: 18789, bind: "loopback", url: "http://x//y"},
}
"""


def test_workspaces_from_json5_config(tmp_path: Path) -> None:
    make_root(tmp_path / ".openclaw", ("main", "research", "ops"), JSON5_CONFIG)
    agents = by_id(discover(env_for(tmp_path)))
    assert agents["main"].memory_dir == tmp_path / "clawd" / "memory"
    assert agents["research"].memory_dir == Path("/srv/research/memory")
    assert agents["ops"].memory_dir == tmp_path / "clawd" / "ops" / "memory"
    assert {a.timezone for a in agents.values()} == {"America/Los_Angeles"}


@pytest.mark.parametrize("text", [
    '{"agents": {"defaults": {"userTimezone": "Asia/Tokyo"}}}',
    "{agents: {defaults: {userTimezone: 'Asia/Tokyo',},},}",
    "{\n  agents: {\n    defaults: {\n      userTimezone: 'Asia/Tokyo', // where I live\n    },\n  },\n}",
    "{agents: {defaults: {userTimezone: 'Asia/Tokyo', /* trailing */ }, /* c */ }, // end\n}",
    "{agents: {defaults: {userTimezone: 'Asia/Tokyo', café: 1, été: 0, $ref: 2, _x: 3}}}",
    "{agents: {defaults: {userTimezone: 'Asia/Tokyo', note: 'it\\'s \"quoted\"', n: 1e3, m: -0.5}}}",
    "{agents: {defaults: {userTimezone: 'Asia/Tokyo', flags: [true, false, null,],}}}",
])
def test_json5_variants(tmp_path: Path, text: str) -> None:
    (tmp_path / "openclaw.json").write_text(text)
    conf = read_openclaw_config(tmp_path, {})
    assert conf["agents"]["defaults"]["userTimezone"] == "Asia/Tokyo"


def test_json5_keeps_strings_intact(tmp_path: Path) -> None:
    (tmp_path / "openclaw.json").write_text("{a: 'x // not a comment', b: \"/* nor this */\", c: 'a,}'}")
    assert read_openclaw_config(tmp_path, {}) == {"a": "x // not a comment", "b": "/* nor this */", "c": "a,}"}


@pytest.mark.parametrize("text", ["", "not json at all {", "[1, 2]", "\xff", "{agents: {defaults: {workspace: 5}}}"])
def test_unusable_openclaw_config_means_defaults(tmp_path: Path, text: str) -> None:
    make_root(tmp_path / ".openclaw", ("main",), text)
    (agent,) = discover(env_for(tmp_path))
    assert agent.memory_dir == tmp_path / ".openclaw" / "workspace" / "memory"


def test_openclaw_config_with_a_byte_order_mark(tmp_path: Path) -> None:
    root = make_root(tmp_path / ".openclaw", ("main",), None)
    (root / "openclaw.json").write_bytes(b"\xef\xbb\xbf{agents: {defaults: {userTimezone: 'Asia/Tokyo'}}}")
    assert discover(env_for(tmp_path))[0].timezone == "Asia/Tokyo"


def test_invalid_openclaw_config_is_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    make_root(tmp_path / ".openclaw", ("main",), "{agents: ")
    discover(env_for(tmp_path))
    assert "cannot parse" in caplog.text and "openclaw.json" in caplog.text


def test_openclaw_config_path_override(tmp_path: Path) -> None:
    make_root(tmp_path / ".openclaw", ("main",), "{}")
    other = tmp_path / "elsewhere.json"
    other.write_text("{agents: {defaults: {userTimezone: 'Europe/Paris'}}}")
    (agent,) = discover(env_for(tmp_path, OPENCLAW_CONFIG_PATH=str(other)))
    assert agent.timezone == "Europe/Paris"


def test_select(tmp_path: Path) -> None:
    agents = [Agent("main", tmp_path / "m", tmp_path / "mm"), Agent("work", tmp_path / "w", tmp_path / "wm")]
    assert [a.id for a in select(agents, ("WORK",), None)] == ["work"]
    assert select(agents, (), None) == agents
    (one,) = select(agents, ("work",), tmp_path / "mem")
    assert one.memory_dir == tmp_path / "mem" and one.sessions_dir == tmp_path / "w"
    with pytest.raises(UsageError, match="no agent nope found"):
        select(agents, ("nope",), None)
    with pytest.raises(UsageError, match="--memory-dir needs exactly one agent, found 2"):
        select(agents, (), tmp_path / "mem")
    (only,) = select(agents[:1], (), tmp_path / "mem")
    assert only.memory_dir == tmp_path / "mem"


# --- through the CLI ---


def test_every_agent_discovered_with_its_memory_dir(openclaw_home: Path) -> None:
    home = openclaw_home.parent
    write(home / ".openclaw" / "workspace" / "memory" / "2026-04-13.md", b"m" * 1000)
    write(openclaw_home / "workspace-work" / "memory" / "2026-04-17.md", b"w" * 1000)
    report = compare_json()
    rows = {(d["agent"], d["date"]): d for d in report["days"]}
    assert rows[("main", "2026-04-13")]["status"] == "covered"
    assert rows[("work", "2026-04-17")]["status"] == "covered"
    assert rows[("main", "2026-04-14")]["status"] == "missing"


def test_agent_flag_narrows(openclaw_home: Path) -> None:
    assert set(day_counts(compare_json("--agent", "work"))) == {"2026-04-17"}
    assert set(day_counts(compare_json("--agent", "main"))) == {"2026-04-13", "2026-04-14", "2026-04-15"}


def test_memory_dir_alone_redirects_the_one_agent(openclaw_home: Path, tmp_path: Path) -> None:
    mem = tmp_path / "mem"
    write(mem / "2026-04-17-standup.md", b"s" * 500)
    (openclaw_home / "agents" / "main").rename(tmp_path / "main-away")  # leave agent work alone
    report = compare_json("--memory-dir", str(mem))
    assert report["days"] == [{"date": "2026-04-17", "agent": "work", "messages": 9, "memory_bytes": 500,
                               "status": "covered"}]


def test_memory_dir_with_agent(openclaw_home: Path, tmp_path: Path) -> None:
    mem = tmp_path / "mem"
    write(mem / "2026-04-14.md", b"x" * 10)
    report = compare_json("--agent", "main", "--memory-dir", str(mem))
    rows = {d["date"]: d for d in report["days"]}
    assert rows["2026-04-14"]["memory_bytes"] == 10 and rows["2026-04-14"]["status"] == "sparse"


def test_sessions_dir_and_memory_dir_bypass_discovery(tmp_path: Path) -> None:
    sessions = tmp_path / "anywhere"
    write(sessions / f"{S_8B}.jsonl", (Path(__file__).parent / "data" / "samples" / f"{S_8B}.jsonl").read_bytes())
    report = compare_json("--sessions-dir", str(sessions), "--memory-dir", str(tmp_path / "mem"),
                          "--timezone", "Europe/Berlin")
    assert day_counts(report) == {"2026-04-14": 12, "2026-04-15": 5}
    assert not (tmp_path / "mem").exists()  # compare only reads


def test_sessions_dir_uses_openclaw_user_timezone(openclaw_home: Path, tmp_path: Path) -> None:
    """No --timezone and no config: OpenClaw's userTimezone still decides the day, as with discovery."""
    sessions = openclaw_home / "agents" / "main" / "sessions"
    report = compare_json("--sessions-dir", str(sessions), "--memory-dir", str(tmp_path / "mem"))
    assert report["timezone"] == "Europe/Berlin"
    assert day_counts(report) == {"2026-04-13": 18, "2026-04-14": 12, "2026-04-15": 5}


def test_openclaw_state_dir_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = tmp_path / "oc-state"
    write(state / "agents" / "main" / "sessions" / f"{S_3F}.jsonl",
          (Path(__file__).parent / "data" / "samples" / f"{S_3F}.jsonl").read_bytes())
    monkeypatch.setenv("OPENCLAW_STATE_DIR", str(state))
    report = compare_json("--timezone", "Europe/Berlin")
    assert day_counts(report) == {"2026-04-13": 18}
    assert os.environ["OPENCLAW_STATE_DIR"] == str(state)
