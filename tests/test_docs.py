"""The README, SKILL.md and the example config cannot drift from the CLI: every command is documented in
both, its --help works, the example config loads to the defaults, and SKILL.md is a valid ClawHub skill."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner

from memory_syncd import config
from memory_syncd.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
SKILL = (ROOT / "SKILL.md").read_text(encoding="utf-8")


def commands() -> list[str]:
    """Every command path, e.g. "compare", "service install"."""
    out = []
    for name, cmd in sorted(cli.commands.items()):
        if isinstance(cmd, click.Group):
            out += [f"{name} {sub}" for sub in sorted(cmd.commands)]
        else:
            out.append(name)
    return out


def test_there_are_commands() -> None:
    assert {"compare", "backfill", "transitions", "summarize", "redact", "run", "status",
            "service install", "service uninstall", "service print"} <= set(commands())


@pytest.mark.parametrize("command", commands())
def test_documented_in_readme_and_skill(command: str) -> None:
    first, *rest = command.split()
    for name, text in (("README.md", README), ("SKILL.md", SKILL)):
        if rest:  # a group: "service install | uninstall | print"
            assert re.search(rf"memory-syncd {first} [^\n]*\b{rest[0]}\b", text), f"{command} missing in {name}"
        else:
            assert f"memory-syncd {first}" in text, f"{command} missing in {name}"


@pytest.mark.parametrize("command", commands())
def test_help_works(command: str) -> None:
    result = CliRunner().invoke(cli, [*command.split(), "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_version() -> None:
    out = subprocess.run([sys.executable, "-m", "memory_syncd", "--version"], capture_output=True, text=True,
                         check=True)
    assert re.fullmatch(r"memory-syncd, version \d+\.\d+\.\d+\n", out.stdout)


def test_example_config_loads_to_the_defaults() -> None:
    cfg = config.load(ROOT / "config.example.toml", {})
    assert cfg == config.Config(path=cfg.path)


def test_every_config_key_is_in_the_example_and_readme() -> None:
    example = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    top = [f.name for f in config.fields(config.Config) if f.name not in ("path", "daemon", "llm")]
    nested = [f.name for f in config.fields(config.DaemonConfig)] + [f.name for f in config.fields(config.LLMConfig)]
    for key in top + nested:
        assert re.search(rf"^{key} = ", example, re.M), f"{key} missing in config.example.toml"
        assert re.search(rf"^{key} = ", README, re.M), f"{key} missing in README's config"


def test_skill_frontmatter() -> None:
    m = re.match(r"^---\n(.*?)\n---\n", SKILL, re.S)
    assert m, "SKILL.md needs YAML front matter"
    meta = yaml.safe_load(m.group(1))
    assert re.fullmatch(r"[a-z0-9](?:(?!--)[a-z0-9-]){1,62}[a-z0-9]", meta["name"])
    assert 0 < len(meta["description"]) < 300
    oc = meta["metadata"]["openclaw"]
    assert "memory-syncd" in oc["requires"]["bins"]
    key = {e["name"]: e for e in oc["envVars"]}["ANTHROPIC_API_KEY"]
    assert key["required"] is False and "ANTHROPIC_API_KEY" not in oc["requires"].get("env", [])
    body = SKILL[m.end():]
    assert 60 <= len(body.splitlines()) <= 160
    assert "references/SECRET_PATTERNS.md" in body


def test_linked_files_exist() -> None:
    for text in (README, SKILL):
        for target in re.findall(r"\]\(([^)#:]+)\)", text):
            assert (ROOT / target).exists(), target
