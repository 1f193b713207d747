"""discover.py: OpenClaw's rules for state dirs, config files, profiles, the default agent and workspaces,
and config files that are broken or hostile. Real files under a temp home; nothing reads the real home."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memory_syncd.read.discover import (
    default_agent_id,
    discover,
    home_dir,
    normalize_id,
    state_roots,
    survey,
)
from memory_syncd.read.openclaw_json import MAX_CONFIG_BYTES
from memory_syncd.read.openclaw_json import load as load_config
from memory_syncd.read.sources import Agent


def env_for(home: Path, **extra: str) -> dict[str, str]:
    return {"HOME": str(home), **extra}


def make_root(root: Path, ids: tuple[str, ...], config: str | None = None, name: str = "openclaw.json") -> Path:
    for i in ids:
        (root / "agents" / i / "sessions").mkdir(parents=True)
    root.mkdir(parents=True, exist_ok=True)
    if config is not None:
        (root / name).write_text(config)
    return root


def by_id(agents: list[Agent]) -> dict[str, Agent]:
    return {a.id: a for a in agents}


def workspaces(env: dict[str, str]) -> dict[str, Path]:
    return {a.id: a.memory_dir.parent for a in discover(env)}


# --- config files and state dirs ---


def test_clawdbot_json_is_used_when_openclaw_json_is_absent(tmp_path: Path) -> None:
    make_root(tmp_path / ".openclaw", ("main",),
              "{agents: {defaults: {workspace: '/srv/ws', userTimezone: 'Asia/Tokyo'}}}", name="clawdbot.json")
    (agent,) = discover(env_for(tmp_path))
    assert agent.memory_dir == Path("/srv/ws/memory") and agent.timezone == "Asia/Tokyo"
    assert survey(env_for(tmp_path)).dirs[0].config == tmp_path / ".openclaw" / "clawdbot.json"


def test_openclaw_json_wins_over_clawdbot_json(tmp_path: Path) -> None:
    root = make_root(tmp_path / ".openclaw", ("main",), "{agents: {defaults: {workspace: '/new'}}}")
    (root / "clawdbot.json").write_text("{agents: {defaults: {workspace: '/old'}}}")
    assert workspaces(env_for(tmp_path)) == {"main": Path("/new")}


def test_a_real_legacy_dir_beside_the_current_one_is_read_too(tmp_path: Path,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    current = make_root(tmp_path / ".openclaw", ("main",), "{agents: {defaults: {workspace: '~/ws'}}}")
    legacy = make_root(tmp_path / ".clawdbot", ("main", "old"),
                       "{agents: {defaults: {workspace: '~/clawd'}, list: [{id: 'main'}, {id: 'old'}]}}",
                       name="clawdbot.json")
    caplog.set_level(logging.WARNING)
    found = survey(env_for(tmp_path))
    assert [(d.path, d.legacy) for d in found.dirs] == [(current, False), (legacy, True)]
    agents = by_id(found.agents)
    assert agents["main"].sessions_dir == current / "agents" / "main" / "sessions"
    assert agents["main"].memory_dir == tmp_path / "ws" / "memory"
    assert agents["old"].sessions_dir == legacy / "agents" / "old" / "sessions"
    assert agents["old"].memory_dir == tmp_path / "clawd-old" / "memory"  # Clawdbot's rule for non-default agents
    # the legacy copy of `main` is not read, and the warning says so and how to read it
    (line,) = found.dirs[1].not_read
    assert str(legacy / "agents" / "main") in line and f"OPENCLAW_STATE_DIR={legacy}" in line
    assert line in caplog.text


def test_a_symlinked_legacy_dir_counts_once(tmp_path: Path) -> None:
    root = make_root(tmp_path / ".openclaw", ("main",))
    (tmp_path / ".clawdbot").symlink_to(root)
    found = survey(env_for(tmp_path))
    assert [d.path for d in found.dirs] == [root]
    assert found.aliases == ((tmp_path / ".clawdbot", root),)
    assert [a.id for a in found.agents] == ["main"]
    assert not found.dirs[0].not_read


def test_moltbot_dir_is_a_legacy_dir_too(tmp_path: Path) -> None:
    make_root(tmp_path / ".moltbot", ("main",))
    assert state_roots(env_for(tmp_path)) == [tmp_path / ".moltbot"]


def test_profile(tmp_path: Path) -> None:
    make_root(tmp_path / ".openclaw", ("main",))  # the default profile's dir is not read
    root = make_root(tmp_path / ".openclaw-work", ("main", "ops"))
    env = env_for(tmp_path, OPENCLAW_PROFILE="work")
    assert state_roots(env) == [root]
    assert workspaces(env) == {"main": tmp_path / ".openclaw" / "workspace-work", "ops": root / "workspace-ops"}
    assert survey(env).profile == "work"


def test_profile_default_and_invalid_names_mean_no_profile(tmp_path: Path) -> None:
    root = make_root(tmp_path / ".openclaw", ("main",))
    for name in ("default", "Default", "../../etc", "a b", ""):
        env = env_for(tmp_path, OPENCLAW_PROFILE=name)
        assert state_roots(env) == [root]
        assert workspaces(env) == {"main": root / "workspace"}


def test_state_dir_env_wins_over_the_profile_but_the_workspace_keeps_it(tmp_path: Path) -> None:
    root = make_root(tmp_path / "state", ("main",))
    env = env_for(tmp_path, OPENCLAW_PROFILE="dev", OPENCLAW_STATE_DIR=str(root))
    assert workspaces(env) == {"main": tmp_path / ".openclaw" / "workspace-dev"}


def test_default_dirs_left_alone_when_a_state_dir_is_named(tmp_path: Path) -> None:
    make_root(tmp_path / ".openclaw", ("main",))
    make_root(tmp_path / ".clawdbot", ("main",))
    named = make_root(tmp_path / "named", ("main",))
    found = survey(env_for(tmp_path, OPENCLAW_STATE_DIR=str(named)))
    assert [d.path for d in found.dirs] == [named]
    assert found.unread == ((tmp_path / ".openclaw", "OPENCLAW_STATE_DIR is set"),
                            (tmp_path / ".clawdbot", "OPENCLAW_STATE_DIR is set"))
    assert survey(env_for(tmp_path)).unread == ()


def test_a_relative_state_dir_in_the_environment_is_taken_from_the_current_dir(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_root(tmp_path / "cwd" / "state", ("main",))
    monkeypatch.chdir(tmp_path / "cwd")
    assert state_roots(env_for(tmp_path / "home", OPENCLAW_STATE_DIR="state")) == [root]
    assert state_roots(env_for(tmp_path / "cwd", OPENCLAW_STATE_DIR="~/state")) == [root]


def test_openclaw_home_moves_home(tmp_path: Path) -> None:
    other = tmp_path / "other"
    make_root(other / ".openclaw", ("main",), "{agents: {defaults: {workspace: '~/w'}}}")
    assert home_dir(env_for(tmp_path, OPENCLAW_HOME="~/other")) == other
    assert workspaces(env_for(tmp_path, OPENCLAW_HOME=str(other))) == {"main": other / "w"}


def test_config_path_env_is_for_the_first_state_dir_only(tmp_path: Path) -> None:
    make_root(tmp_path / ".openclaw", ("main",))
    make_root(tmp_path / ".clawdbot", ("old",), "{agents: {defaults: {workspace: '/legacy'}}}")
    other = tmp_path / "conf.json"
    other.write_text("{agents: {defaults: {workspace: '/from-env'}}}")
    ws = workspaces(env_for(tmp_path, OPENCLAW_CONFIG_PATH=str(other)))
    assert ws == {"main": Path("/from-env"), "old": Path("/legacy/old")}


def test_agent_dirs_that_are_not_agent_ids_are_skipped(tmp_path: Path) -> None:
    root = make_root(tmp_path / ".openclaw", ("main", "Upper", "-dash", ".git"))
    (root / "agents" / "file.txt").write_text("")
    assert [a.id for a in discover(env_for(tmp_path))] == ["main"]


# --- the default agent and workspaces ---


@pytest.mark.parametrize(("agents", "legacy", "expected"), [
    ([], False, "main"),
    ([{"id": "ops"}, {"id": "main"}], False, "main"),  # `main` when listed and nothing is marked
    ([{"id": "ops"}, {"id": "dev"}], False, "ops"),  # else the first
    ([{"id": "ops"}, {"id": "Dev", "default": True}], False, "dev"),  # a marked entry first of all
    ([{"id": "a", "default": True}, {"id": "b", "default": True}], False, "a"),
    ([{"id": "ops"}, {"id": "main"}], True, "ops"),  # Clawdbot: no `main` preference
    ([{"id": ""}], False, "main"),
    (["not an entry", {"id": "x y"}], False, "x-y"),
])
def test_default_agent_id(agents: list[object], legacy: bool, expected: str) -> None:
    assert default_agent_id({"agents": {"list": agents}}, legacy=legacy) == expected


@pytest.mark.parametrize(("raw", "norm"), [
    ("Main", "main"), (" ops ", "ops"), ("Research Team", "research-team"), ("../../x", "x"), ("", "main"),
    (None, "main"), ("a" * 70, "a" * 64), ("-x-", "x"), ("é", "main"),
])
def test_normalize_id(raw: object, norm: str) -> None:
    assert normalize_id(raw) == norm


def test_the_default_agent_comes_from_the_config(tmp_path: Path) -> None:
    root = make_root(tmp_path / ".openclaw", ("main", "ops"), """{agents: {
        defaults: {workspace: "~/shared"},
        list: [{id: "main"}, {id: "ops", default: true}],
    }}""")
    ws = workspaces(env_for(tmp_path))
    assert ws == {"ops": tmp_path / "shared", "main": tmp_path / "shared" / "main"}
    assert survey(env_for(tmp_path)).dirs[0].default_agent == "ops"
    del root


def test_non_default_agents_without_a_shared_workspace(tmp_path: Path) -> None:
    root = make_root(tmp_path / ".openclaw", ("main", "ops", "dev"),
                     "{agents: {list: [{id: 'ops', default: true}, {id: 'dev', workspace: '/srv/dev'}]}}")
    assert workspaces(env_for(tmp_path)) == {
        "ops": root / "workspace",  # the default agent: ~/.openclaw/workspace
        "main": root / "workspace-main",  # not the default here, so <state dir>/workspace-<id>
        "dev": Path("/srv/dev"),
    }


def test_a_relative_workspace_is_taken_from_the_home_dir(tmp_path: Path) -> None:
    state = make_root(tmp_path / "state", ("main", "ops"),
                      "{agents: {defaults: {workspace: 'ws'}, list: [{id: 'main'}, {id: 'ops', workspace: './o'}]}}")
    env = env_for(tmp_path / "home", OPENCLAW_STATE_DIR=str(state))
    found = survey(env)
    sites = {s.agent.id: s for s in found.dirs[0].sites}
    assert sites["main"].workspace == tmp_path / "home" / "ws" and sites["main"].relative
    assert sites["ops"].workspace == tmp_path / "home" / "o" and sites["ops"].relative
    assert sites["main"].source == "agents.defaults.workspace"


def test_clawdbot_install_with_its_workspace_at_clawd(tmp_path: Path) -> None:
    """A real Clawdbot install: ~/.clawdbot, clawdbot.json naming ~/clawd (in the older `agent` key)."""
    make_root(tmp_path / ".clawdbot", ("main", "helper"), """// Clawdbot config
    {
      agent: {workspace: "~/clawd", model: "anthropic/claude-opus-4-5"},
      agents: {list: [{id: "main"}, {id: "helper"}]},
    }""", name="clawdbot.json")
    # Clawdbot gave every other agent ~/clawd-<id>, whatever the shared workspace
    assert workspaces(env_for(tmp_path)) == {"main": tmp_path / "clawd", "helper": tmp_path / "clawd-helper"}


def test_clawdbot_defaults_in_an_unmigrated_legacy_dir(tmp_path: Path) -> None:
    make_root(tmp_path / ".clawdbot", ("main", "helper"), "{agents: {list: [{id: 'helper'}, {id: 'main'}]}}",
              name="clawdbot.json")
    found = survey(env_for(tmp_path))
    assert found.dirs[0].default_agent == "helper"
    assert workspaces(env_for(tmp_path)) == {"helper": tmp_path / "clawd", "main": tmp_path / "clawd-main"}


def test_current_rules_for_a_legacy_dir_with_openclaw_json(tmp_path: Path) -> None:
    root = make_root(tmp_path / ".clawdbot", ("main",), "{}")
    assert workspaces(env_for(tmp_path)) == {"main": tmp_path / ".openclaw" / "workspace"}
    del root


def test_nul_bytes_in_a_workspace_are_dropped_as_openclaw_does(tmp_path: Path) -> None:
    make_root(tmp_path / ".openclaw", ("main",), '{agents: {defaults: {workspace: "/srv/w\\u0000s"}}}')
    assert workspaces(env_for(tmp_path)) == {"main": Path("/srv/ws")}


def test_an_invalid_user_timezone_is_ignored_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    make_root(tmp_path / ".openclaw", ("main",), "{agents: {defaults: {userTimezone: 'Mars/Olympus'}}}")
    assert discover(env_for(tmp_path))[0].timezone == ""
    assert "Mars/Olympus" in caplog.text and "not an IANA time zone" in caplog.text


# --- hostile and broken config files ---


@pytest.fixture
def deadline() -> Iterator[None]:
    """Fail instead of hanging: a blocking open or read is interrupted after 5 seconds."""

    def expire(*_: object) -> None:
        raise TimeoutError("discovery blocked")

    old = signal.signal(signal.SIGALRM, expire)
    signal.alarm(5)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def defaults_after(tmp_path: Path, caplog: pytest.LogCaptureFixture, needle: str) -> None:
    """Discovery falls back to OpenClaw's defaults, with one warning naming the file, logged once."""
    caplog.set_level(logging.WARNING)
    for _ in range(3):
        (agent,) = discover(env_for(tmp_path))
        assert agent.memory_dir == tmp_path / ".openclaw" / "workspace" / "memory"
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, warnings
    assert "openclaw.json" in warnings[0] and needle in warnings[0] and "\n" not in warnings[0]


def test_deeply_nested_config(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    depth = 200_000
    make_root(tmp_path / ".openclaw", ("main",), "{a: " + "[" * depth + "]" * depth + "}")
    defaults_after(tmp_path, caplog, "nested")


def test_fifo_in_place_of_the_config(tmp_path: Path, caplog: pytest.LogCaptureFixture, deadline: None) -> None:
    root = make_root(tmp_path / ".openclaw", ("main",))
    os.mkfifo(root / "openclaw.json")
    defaults_after(tmp_path, caplog, "FIFO")


def test_dev_zero_link_in_place_of_the_config(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                              deadline: None) -> None:
    root = make_root(tmp_path / ".openclaw", ("main",))
    (root / "openclaw.json").symlink_to("/dev/zero")
    defaults_after(tmp_path, caplog, "character device")


def test_huge_config(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    root = make_root(tmp_path / ".openclaw", ("main",))
    with open(root / "openclaw.json", "wb") as f:
        f.write(b"{")
        f.truncate(MAX_CONFIG_BYTES + 1)  # sparse: nothing big is written
    defaults_after(tmp_path, caplog, "bytes")


def test_config_that_is_not_utf8(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    root = make_root(tmp_path / ".openclaw", ("main",))
    (root / "openclaw.json").write_bytes(b"{agents: {defaults: {workspace: '/w\xff\xfe'}}}")
    defaults_after(tmp_path, caplog, "UTF-8")


def test_config_that_is_a_directory(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    root = make_root(tmp_path / ".openclaw", ("main",))
    (root / "openclaw.json").mkdir()
    defaults_after(tmp_path, caplog, "directory")


def test_a_symlinked_config_is_followed(tmp_path: Path) -> None:
    """Nix and dotfiles setups link the config; a link to a regular file is read."""
    root = make_root(tmp_path / ".openclaw", ("main",))
    real = tmp_path / "dotfiles" / "openclaw.json"
    real.parent.mkdir()
    real.write_text("{agents: {defaults: {workspace: '/dot'}}}")
    (root / "openclaw.json").symlink_to(real)
    assert workspaces(env_for(tmp_path)) == {"main": Path("/dot")}


def test_parse_errors_do_not_echo_the_config(tmp_path: Path) -> None:
    path = tmp_path / "openclaw.json"
    path.write_text("{apiKey: 'sk-ant-api03-secretsecretsecret', x: }")
    conf, problem = load_config(path)
    assert conf == {} and "cannot parse" in problem and "secret" not in problem


def test_a_big_config_parses_fast(tmp_path: Path) -> None:
    """A 0.9 MB config took 0.7-1.3 s with the old converter; the daemon re-reads it on every reconcile."""
    entry = ("{id: 'agent%d', name: 'Agent \"%d\"', workspace: '/srv/ws/%d', // comment\n"
             " model: {primary: 'anthropic/claude-sonnet-4-6', fallbacks: ['openai/gpt-5',],}, n: 0x1F, f: -0.5e3,},\n")
    body = "".join(entry % (i, i, i) for i in range(5000))
    path = tmp_path / "openclaw.json"
    path.write_text("// big\n{agents: {defaults: {userTimezone: 'UTC'}, list: [\n" + body + "]}}")
    assert path.stat().st_size > 900_000
    start = time.perf_counter()
    conf, problem = load_config(path)
    assert not problem and len(conf["agents"]["list"]) == 5000
    assert time.perf_counter() - start < 0.3


# --- any shape at all ---

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=12)
ODD_TEXT = st.sampled_from(["", " ", "~", "~/", "/", "..", "../x", "a\x00b", "\ud800", "\udcff", "main", "MAIN",
                            "Europe/Berlin", "../../etc/localtime", "America", "x" * 300])
VALUE = JSON | ODD_TEXT
ENTRY = st.fixed_dictionaries({}, optional={"id": VALUE, "workspace": VALUE, "default": VALUE}) | JSON


@given(defaults=st.fixed_dictionaries({}, optional={"workspace": VALUE, "userTimezone": VALUE}) | JSON,
       entries=st.lists(ENTRY, max_size=4) | JSON, legacy_agent=JSON, name=st.sampled_from(["openclaw.json",
                                                                                          "clawdbot.json"]))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_config_shape_gives_agents_and_never_raises(tmp_path_factory: pytest.TempPathFactory, defaults: Any,
                                                        entries: Any, legacy_agent: Any, name: str) -> None:
    home = tmp_path_factory.mktemp("home")
    make_root(home / ".clawdbot", ("main", "ops"),
              json.dumps({"agents": {"defaults": defaults, "list": entries}, "agent": legacy_agent}), name=name)
    found = survey(env_for(home))
    assert sorted(a.id for a in found.agents) == ["main", "ops"]
    for agent in found.agents:
        assert agent.memory_dir.is_absolute() and agent.memory_dir.name == "memory"
        os.fsencode(agent.memory_dir)  # a usable path
    assert found.dirs[0].default_agent == normalize_id(found.dirs[0].default_agent)


@given(data=st.binary(max_size=300))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_bytes_as_config_never_raise(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("c") / "openclaw.json"
    path.write_bytes(data)
    conf, problem = load_config(path)
    assert isinstance(conf, dict) and (not problem or (conf == {} and "\n" not in problem))


def test_the_demo_install_with_its_home_set_to_the_demo_dir(tmp_path: Path) -> None:
    """The README's demo: relative workspaces land in the copy when OPENCLAW_HOME is the copy."""
    demo = tmp_path / "demo"
    shutil.copytree(Path(__file__).resolve().parent.parent / "examples" / "openclaw", demo)
    env = env_for(tmp_path / "home", OPENCLAW_STATE_DIR=str(demo), OPENCLAW_HOME=str(demo))
    assert workspaces(env) == {"main": demo / "workspace", "work": demo / "workspace-work"}
