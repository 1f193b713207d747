"""The daemon's nightly summary end to end: `python -m memory_syncd run` as a subprocess against the fake
Messages API. A night missed while it was down is summarized once at start-up and written into
yesterday's block; a restart does not ask again; SIGTERM during a slow request exits promptly and leaves
the memory file whole, and the day is summarized on the next start."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fake_anthropic import FakeAnthropic, ok, running
from fixtures_openclaw import REPO, conversation, jsonl, write

from memory_syncd.daemon import control
from memory_syncd.errors import DaemonNotRunning
from memory_syncd.write import memfile

AGENT_NOTES = b"# yesterday\n\nWhat the agent wrote itself.\n"


def wait_until(pred: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)


class World:
    """Sessions with a conversation yesterday (UTC), yesterday's memory file holding the agent's own notes,
    and a config whose nightly slot (00:00) has always passed: yesterday is due as soon as the daemon runs."""

    def __init__(self, root: Path, fake: FakeAnthropic) -> None:
        now = datetime.now(UTC)
        midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        if (midnight - now).total_seconds() < 60:  # "yesterday" must not change under the test
            time.sleep((midnight - now).total_seconds() + 1)
        self.fake = fake
        self.root = root
        self.yesterday = datetime.now(UTC).date() - timedelta(days=1)
        self.sessions, self.memory, self.state = root / "sessions", root / "memory", root / "state"
        noon = int(datetime(*self.yesterday.timetuple()[:3], 12, tzinfo=UTC).timestamp() * 1000)
        write(self.sessions / "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6.jsonl",
              jsonl(conversation("0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6", noon, 6, tag="nightly ")))
        self.file = write(self.memory / f"{self.yesterday.isoformat()}.md", AGENT_NOTES)
        self.config = root / "config.toml"
        self.config.write_text('[daemon]\ndebounce_seconds = 0.05\nmax_delay_seconds = 0.5\n'
                               'reconcile_seconds = 1.0\ncheckpoint_seconds = 0.2\n'
                               '[llm]\nnightly_time = "00:00"\nmodel = "claude-nightly-1"\n'
                               'timeout_seconds = 60.0\nmax_retries = 0\n')
        self.proc: subprocess.Popen[bytes] | None = None
        self.logs: list[Path] = []

    def start(self) -> subprocess.Popen[bytes]:
        env = dict(os.environ, ANTHROPIC_BASE_URL=self.fake.url, ANTHROPIC_API_KEY="test-key",
                   PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        log = self.root / f"daemon-{len(self.logs)}.log"
        self.logs.append(log)
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "memory_syncd", "run", "--config", str(self.config), "--state-dir",
                 str(self.state), "--timezone", "UTC", "--sessions-dir", str(self.sessions), "--memory-dir",
                 str(self.memory)], stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        return self.proc

    def log(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in self.logs if p.exists())

    def status(self) -> dict[str, Any] | None:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"daemon exited with {self.proc.returncode}:\n{self.log()}")
        try:
            return control.request(self.state, {"cmd": "status"}, timeout=2.0)
        except DaemonNotRunning:
            return None

    def ready(self) -> dict[str, Any]:
        status: dict[str, Any] = wait_until(lambda: (s := self.status()) and s.get("caught_up") and s, 20,
                                            "the daemon to catch up")
        return status

    def stop(self) -> tuple[int, float]:
        """SIGTERM; (exit code, seconds it took)."""
        assert self.proc is not None
        start = time.monotonic()
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=15)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
        self.proc = None
        return code, time.monotonic() - start

    def block(self) -> str | None:
        return memfile.extract(self.file.read_bytes())


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with running() as fake:
        w = World(tmp_path, fake)
        try:
            yield w
        finally:
            if w.proc is not None and w.proc.poll() is None:
                w.proc.kill()
                w.proc.wait()


def test_a_missed_night_is_summarized_once_at_start_up(world: World) -> None:
    world.fake.default = ok("Yesterday the user asked six questions; all were answered.")
    world.start()
    block = wait_until(lambda: (b := world.block()) and "### Summary" in b and b, 20,
                       f"the summary in {world.file}")
    assert "### Summary\n\nYesterday the user asked six questions; all were answered.\n" in block
    assert world.file.read_bytes().startswith(AGENT_NOTES)
    assert len(world.fake.requests) == 1
    body = world.fake.requests[0].json
    assert body["model"] == "claude-nightly-1"
    assert f"Transcript notes of {world.yesterday.isoformat()}" in world.fake.requests[0].user_text
    assert "nightly question 5" in world.fake.requests[0].user_text
    status = wait_until(lambda: (s := world.status()) and s.get("last_summary") and s, 10, "last_summary")
    assert status["last_summary"]["ok"] is True and status["last_summary"]["day"] == world.yesterday.isoformat()
    assert status["summary"] == "on"
    written = world.file.read_bytes()
    assert world.stop()[0] == 0

    world.start()
    world.ready()
    time.sleep(1.5)  # the start-up check runs right after catch-up; give it time to (not) ask
    assert len(world.fake.requests) == 1, [r.user_text[:80] for r in world.fake.requests]
    assert world.file.read_bytes() == written
    assert world.stop()[0] == 0


def test_sigterm_during_a_slow_request_exits_promptly_and_leaves_the_file(world: World) -> None:
    world.fake.default = ok("Too late.", delay=30)
    world.start()
    wait_until(lambda: world.fake.requests, 20, "the summary request")
    time.sleep(0.3)
    code, took = world.stop()
    assert code == 0, world.log()
    assert took < 15
    assert world.file.read_bytes() == AGENT_NOTES
    assert sorted(p.name for p in world.memory.iterdir() if not p.name.startswith(".memory-syncd")) == \
        [world.file.name]
    record = world.state / "summaries" / "main" / f"{world.yesterday.isoformat()}.json"
    assert not record.exists() or json.loads(record.read_bytes())["text"] is None

    # nothing was recorded as done: the next start asks again
    world.fake.default = ok("On the second start.")
    world.start()
    wait_until(lambda: (b := world.block()) and "On the second start." in b, 20, "the summary after restart")
    assert len(world.fake.requests) == 2
    assert world.stop()[0] == 0
