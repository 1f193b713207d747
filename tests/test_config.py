"""config.py: TOML -> Config, every problem at once with its key path, flag > env > file > default."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures_openclaw import REPO, S_3F, append, compare_json, jsonl, ms, tool_result, write

from memory_syncd import config
from memory_syncd.config import Config, ConfigError
from memory_syncd.scope import resolve, resolve_zone


def env_of(home: Path, **extra: str) -> dict[str, str]:
    return {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), **extra}


def default_file(home: Path) -> Path:
    return home / ".config" / "memory-syncd" / "config.toml"


def test_defaults_without_a_file(tmp_path: Path) -> None:
    cfg = config.load(None, env_of(tmp_path))
    assert cfg == Config()
    assert cfg.max_line_bytes == 64 * 1024 * 1024 and cfg.sparse_bytes_per_message == 5.0
    assert cfg.resolved_state_dir(env_of(tmp_path)) == tmp_path / ".local" / "state" / "memory-syncd"
    assert cfg.resolved_state_dir({"XDG_STATE_HOME": "/x"}) == Path("/x/memory-syncd")


def test_the_example_config_is_valid_and_all_defaults(tmp_path: Path) -> None:
    cfg = config.load(REPO / "config.example.toml", env_of(tmp_path))
    assert cfg == Config(path=REPO / "config.example.toml")


def test_default_file_is_read(tmp_path: Path) -> None:
    write(default_file(tmp_path), b'timezone = "Asia/Tokyo"\nagents = ["main"]\n[daemon]\npoll_seconds = 1\n')
    cfg = config.load(None, env_of(tmp_path))
    assert (cfg.timezone, cfg.agents, cfg.daemon.poll_seconds) == ("Asia/Tokyo", ("main",), 1.0)
    assert cfg.path == default_file(tmp_path)


def test_env_names_the_file(tmp_path: Path) -> None:
    f = write(tmp_path / "other.toml", b"sparse_bytes_per_message = 2\n")
    assert config.load(None, env_of(tmp_path, MEMORY_SYNCD_CONFIG=str(f))).sparse_bytes_per_message == 2.0
    with pytest.raises(ConfigError, match="file not found"):
        config.load(None, env_of(tmp_path, MEMORY_SYNCD_CONFIG=str(tmp_path / "missing.toml")))


def test_every_problem_at_once_with_key_paths(tmp_path: Path) -> None:
    f = write(tmp_path / "c.toml", b"""
timezon = "Europe/Berlin"
timezone = "Mars/Olympus"
max_line_bytes = "big"
agents = "main"
write_mode = "sideways"
sparse_bytes_per_message = -1
[daemon]
debounce = 1
debounce_seconds = 0
[llm]
nightly_time = "25:99"
max_tokens = 1.5
[extra]
x = 1
""")
    with pytest.raises(ConfigError) as info:
        config.load(f, env_of(tmp_path))
    problems = info.value.problems
    assert info.value.path == f
    for expected in ("timezon: unknown key", "timezone: unknown zone 'Mars/Olympus'",
                     "max_line_bytes: expected an integer, got str", "agents: expected a list of strings, got str",
                     "write_mode: must be", "sparse_bytes_per_message: must not be negative",
                     "daemon.debounce: unknown key", "daemon.debounce_seconds: must be positive",
                     "llm.nightly_time: expected HH:MM", "llm.max_tokens: expected an integer, got float",
                     "extra: unknown key"):
        assert any(p.startswith(expected) for p in problems), (expected, problems)
    assert len(problems) == 11
    assert "\n" not in str(info.value)


def test_section_that_is_not_a_table(tmp_path: Path) -> None:
    f = write(tmp_path / "c.toml", b'daemon = 5\nllm = "x"\n')
    with pytest.raises(ConfigError) as info:
        config.load(f, env_of(tmp_path))
    assert info.value.problems == ["daemon: expected a table", "llm: expected a table"]


def test_low_line_cap_is_refused(tmp_path: Path) -> None:
    f = write(tmp_path / "c.toml", b"max_line_bytes = 100\n")
    with pytest.raises(ConfigError, match="max_line_bytes: must be at least 1024"):
        config.load(f, env_of(tmp_path))


@pytest.mark.parametrize(("content", "message"), [
    (b"x = [", "not valid TOML"),
    (b"\xff\xfe = 1", "not valid TOML"),
])
def test_unparsable_file(tmp_path: Path, content: bytes, message: str) -> None:
    f = write(tmp_path / "c.toml", content)
    with pytest.raises(ConfigError, match=message):
        config.load(f, env_of(tmp_path))


def test_an_unreadable_file_is_the_whole_error_and_still_leaves_the_flags(tmp_path: Path) -> None:
    # `load` reports the file alone (a bad flag must not read as the file's problem); `load_despite_errors`
    # gives the same error with a Config of what the flags and defaults say, for `status`.
    f = write(tmp_path / "c.toml", b"x = [")
    flags = {"timezone": "Nowhere/Special", "state_dir": "/from/flag"}
    with pytest.raises(ConfigError) as info:
        config.load(f, env_of(tmp_path), flags)
    assert info.value.path == f and len(info.value.problems) == 1 and "not valid TOML" in str(info.value)
    cfg, error = config.load_despite_errors(f, env_of(tmp_path), flags)
    assert error is not None and str(error) == str(info.value)
    assert cfg.state_dir == "/from/flag"
    write(f, b'state_dir = "/from/file"\nwrite_mode = "separat"\n')  # readable: the valid keys are kept
    cfg, error = config.load_despite_errors(f, env_of(tmp_path))
    assert error is not None and "write_mode" in str(error) and cfg.state_dir == "/from/file"


def test_file_that_cannot_be_a_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory"):
        config.load(tmp_path, env_of(tmp_path))
    plain = write(tmp_path / "plain", b"")
    with pytest.raises(ConfigError, match="cannot read it: Not a directory"):
        config.load(plain / "config.toml", env_of(tmp_path))


# --- precedence: flag > env > file > default ---


def test_precedence(tmp_path: Path) -> None:
    write(default_file(tmp_path), b'timezone = "Asia/Tokyo"\nstate_dir = "/from/file"\n')
    env = env_of(tmp_path)
    assert config.load(None, {}, None).timezone == ""
    assert config.load(None, env).timezone == "Asia/Tokyo"
    env["MEMORY_SYNCD_TIMEZONE"] = "America/New_York"
    env["MEMORY_SYNCD_STATE_DIR"] = "/from/env"
    cfg = config.load(None, env)
    assert (cfg.timezone, cfg.state_dir) == ("America/New_York", "/from/env")
    cfg = config.load(None, env, {"timezone": "Europe/Paris", "state_dir": "/from/flag", "agents": None})
    assert (cfg.timezone, cfg.state_dir, cfg.agents) == ("Europe/Paris", "/from/flag", ())


def test_bad_value_from_a_flag_does_not_blame_a_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        config.load(None, env_of(tmp_path), {"timezone": "Nowhere/Special"})
    assert info.value.path is None
    assert str(info.value) == ("config: timezone: unknown zone 'Nowhere/Special' "
                               "(use an IANA name such as Europe/Berlin)")


def test_zone_precedence(tmp_path: Path, openclaw_home: Path) -> None:
    env = env_of(openclaw_home.parent, TZ="America/Chicago")
    assert resolve(config.load(None, env), env).zone.key == "Europe/Berlin"  # OpenClaw's userTimezone
    (openclaw_home / "openclaw.json").write_text("{}")
    assert resolve(config.load(None, env), env).zone.key == "America/Chicago"  # the system zone, TZ first
    assert resolve(config.load(None, env, {"timezone": "Asia/Tokyo"}), env).zone.key == "Asia/Tokyo"
    assert resolve_zone("", {"TZ": ":Europe/Rome"}).key == "Europe/Rome"
    assert resolve_zone("", {"TZ": "/usr/share/zoneinfo/Europe/Rome"}).key == "Europe/Rome"


def test_zone_precedence_through_the_cli(openclaw_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert compare_json()["timezone"] == "Europe/Berlin"
    write(default_file(openclaw_home.parent), b'timezone = "UTC"\n')
    report = compare_json()
    assert report["timezone"] == "UTC"
    assert {d["date"]: d["messages"] for d in report["days"] if d["agent"] == "main"} == {
        "2026-04-13": 18, "2026-04-14": 16, "2026-04-15": 1}
    monkeypatch.setenv("MEMORY_SYNCD_TIMEZONE", "Asia/Tokyo")
    assert compare_json()["timezone"] == "Asia/Tokyo"
    assert compare_json("--timezone", "America/Los_Angeles")["timezone"] == "America/Los_Angeles"


def test_low_line_cap_from_config_skips_long_lines(openclaw_home: Path) -> None:
    sessions = openclaw_home / "agents" / "main" / "sessions"
    append(sessions / f"{S_3F}.jsonl", jsonl([tool_result(ms("2026-04-13T10:00:00+02:00"), "x" * 2000)]))
    assert compare_json("--agent", "main")["days"][0]["messages"] == 19
    write(default_file(openclaw_home.parent), b"max_line_bytes = 1024\n")
    report = compare_json("--agent", "main")
    assert report["skipped"] == {"too_long": 1}
    assert {d["date"]: d["messages"] for d in report["days"]} == {"2026-04-13": 18, "2026-04-14": 12,
                                                                 "2026-04-15": 5}
