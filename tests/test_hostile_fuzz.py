"""Hostile-input fuzzing through the CLI: config values, and `openclaw.json` / `sessions.json` of any shape
(deep nesting, wrong types, huge numbers, non-UTF-8, NUL bytes), run as `compare --json` and
`backfill --all --dry-run --json` in a temp HOME with temp state and config dirs.

Whatever the input: no exception escapes `cli.main` (in a real run that is a traceback), nothing is logged
with a traceback, the exit status is one of errors.EXIT_STATUSES, a failure is one line on stderr, and a
success prints a JSON document."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

from fixtures_openclaw import S_3F, sample
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from memory_syncd.cli import main
from memory_syncd.errors import EXIT_STATUSES

SETTINGS = settings(max_examples=75, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

CONFIG_KEYS = ["timezone", "openclaw_state_dir", "agents", "write_mode", "sparse_bytes_per_message",
               "max_line_bytes", "max_memory_file_bytes", "state_dir", "nonsense_key"]
DAEMON_KEYS = ["debounce_seconds", "max_delay_seconds", "reconcile_seconds", "checkpoint_seconds", "poll_seconds"]
LLM_KEYS = ["model", "max_tokens", "timeout_seconds", "max_retries", "nightly_time", "input_budget_chars"]

HUGE = st.integers(min_value=-(10**40), max_value=10**40)
SCALARS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), HUGE, st.integers(-5, 5), st.booleans(),
    st.text(max_size=20), st.sampled_from(["", "nan", "../../x", "Europe/Berlin", "Mars/Base", "\x00", "é\u202e"]))
TOML_VALUES = st.one_of(SCALARS, st.lists(st.one_of(st.text(max_size=10), HUGE), max_size=3))


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.tracebacks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.tracebacks.append(self.format(record))


@contextlib.contextmanager
def world(env: dict[str, str]) -> Iterator[Path]:
    """A temp dir with HOME, XDG dirs and an OpenClaw state dir holding agent `main` and one session."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        sessions = root / "home" / ".openclaw" / "agents" / "main" / "sessions"
        sessions.mkdir(parents=True)
        (sessions / f"{S_3F}.jsonl").write_bytes(sample(S_3F))
        (root / "home" / ".openclaw" / "workspace" / "memory").mkdir(parents=True)
        home = str(root / "home")
        values = {"HOME": home, "OPENCLAW_HOME": home, "XDG_CONFIG_HOME": home + "/.config",
                  "XDG_STATE_HOME": home + "/.local/state", "OPENCLAW_STATE_DIR": home + "/.openclaw", **env}
        with mock.patch.dict(os.environ, values):
            yield root


def run(*args: str) -> tuple[int, str, str]:
    """`memory-syncd ARGS` in process: (exit status, stdout, stderr). Any exception other than SystemExit
    propagates and fails the test: it would be a traceback."""
    out, err = io.StringIO(), io.StringIO()
    handler = Captured()
    logging.getLogger().addHandler(handler)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(list(args))
                code = 0
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else 1
    finally:
        logging.getLogger().removeHandler(handler)
    assert not handler.tracebacks, handler.tracebacks
    return code, out.getvalue(), err.getvalue()


def check(code: int, out: str, err: str) -> None:
    assert code in EXIT_STATUSES, (code, err)
    assert "Traceback" not in err and "Traceback" not in out
    if code == 0:
        json.loads(out)
    elif code != 1:  # exit 1 from backfill follows its report on stdout; any other failure prints nothing
        assert err.count("\n") == 1 and err.startswith("memory-syncd"), err


def commands(root: Path) -> Iterator[tuple[int, str, str]]:
    state = str(root / "state")
    yield run("compare", "--json", "--state-dir", state)
    yield run("backfill", "--all", "--dry-run", "--json", "--state-dir", state)


# --- config values ---


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return json.dumps(v, ensure_ascii=False)


@st.composite
def config_docs(draw: st.DrawFn) -> bytes:
    lines = [f"{k} = {toml_value(draw(TOML_VALUES))}" for k in draw(st.lists(st.sampled_from(CONFIG_KEYS),
                                                                            unique=True, max_size=4))]
    for table, keys in (("daemon", DAEMON_KEYS), ("llm", LLM_KEYS)):
        chosen = draw(st.lists(st.sampled_from(keys), unique=True, max_size=3))
        if chosen:
            lines.append(f"[{table}]")
            lines += [f"{k} = {toml_value(draw(TOML_VALUES))}" for k in chosen]
    return ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")


@SETTINGS
@given(doc=st.one_of(config_docs(), st.binary(max_size=200)))
@example(doc=b"[daemon]\nreconcile_seconds = nan\n")
@example(doc=b"max_line_bytes = 123456789012345678901234567890\n")
@example(doc=b"[daemon]\ndebounce_seconds = " + b"9" * 400 + b"\n")
@example(doc=b"agents = " + b"[" * 3000 + b"]" * 3000 + b"\n")
@example(doc=b'timezone = "\\u0000"\n')
@example(doc=b"\xff\xfe\x00")
def test_config_values_never_crash(doc: bytes) -> None:
    with world({}) as root:
        conf = root / "config.toml"
        conf.write_bytes(doc)
        with mock.patch.dict(os.environ, {"MEMORY_SYNCD_CONFIG": str(conf)}):
            for result in commands(root):
                check(*result)


# --- openclaw.json and sessions.json shapes ---

JSON_LEAVES = st.one_of(st.none(), st.booleans(), HUGE, st.floats(allow_nan=False, allow_infinity=False),
                        st.text(max_size=20), st.sampled_from(["\x00", "../../..", "/dev/zero", "~", "main"]))
JSON_VALUES = st.recursive(JSON_LEAVES, lambda kids: st.one_of(
    st.lists(kids, max_size=3), st.dictionaries(st.text(max_size=8), kids, max_size=3)), max_leaves=12)


def deep(n: int, kind: str) -> bytes:
    if kind == "list":
        return b"[" * n + b"]" * n
    return b'{"a":' * n + b"1" + b"}" * n


@st.composite
def openclaw_docs(draw: st.DrawFn) -> bytes:
    shape = draw(st.sampled_from(["anything", "agents", "raw"]))
    if shape == "raw":
        return draw(st.binary(max_size=200))
    if shape == "anything":
        return json.dumps(draw(JSON_VALUES)).encode()
    doc = {"agents": {"defaults": {"userTimezone": draw(JSON_VALUES), "workspace": draw(JSON_VALUES)},
                      "list": draw(st.one_of(JSON_VALUES, st.lists(st.fixed_dictionaries(
                          {"id": JSON_VALUES, "workspace": JSON_VALUES}), max_size=2)))}}
    return json.dumps(doc).encode()


@st.composite
def sessions_docs(draw: st.DrawFn) -> bytes:
    shape = draw(st.sampled_from(["anything", "entries", "raw"]))
    if shape == "raw":
        return draw(st.binary(max_size=200))
    if shape == "anything":
        return json.dumps(draw(JSON_VALUES)).encode()
    entry = st.fixed_dictionaries({"sessionId": st.one_of(st.just(S_3F), JSON_VALUES),
                                   "lastChannel": JSON_VALUES, "origin": JSON_VALUES})
    return json.dumps(draw(st.dictionaries(st.text(max_size=30), entry, max_size=3))).encode()


HOSTILE_JSON = [deep(100_000, "list"), deep(20_000, "dict"), b"\xff\xfe{\x00}", b'{"agents": 1' + b"0" * 5000 + b"}",
                b"\x00" * 64, b'{"a": "\xc3\x28"}']


@SETTINGS
@given(openclaw=openclaw_docs(), sessions=sessions_docs())
@example(openclaw=HOSTILE_JSON[0], sessions=b"{}")
@example(openclaw=HOSTILE_JSON[1], sessions=HOSTILE_JSON[1])
@example(openclaw=HOSTILE_JSON[2], sessions=HOSTILE_JSON[0])
@example(openclaw=HOSTILE_JSON[3], sessions=HOSTILE_JSON[3])
@example(openclaw=HOSTILE_JSON[4], sessions=HOSTILE_JSON[4])
@example(openclaw=HOSTILE_JSON[5], sessions=HOSTILE_JSON[5])
def test_openclaw_and_sessions_json_shapes_never_crash(openclaw: bytes, sessions: bytes) -> None:
    with world({}) as root:
        oc = root / "home" / ".openclaw"
        (oc / "openclaw.json").write_bytes(openclaw)
        (oc / "agents" / "main" / "sessions" / "sessions.json").write_bytes(sessions)
        for result in commands(root):
            check(*result)
