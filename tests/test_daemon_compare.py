"""`compare` while the daemon runs: answered from the daemon's index over the control socket, with exactly
the output reading the transcripts here gives, and read here whenever the daemon's view differs."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_harness import Harness, Messages, append, harness

from memory_syncd.daemon import control

SAMPLES = Path(__file__).resolve().parent / "data" / "samples"  # real-shaped sessions kept with the tests
ANSWERED = "answered by the daemon"
READ_HERE = "reading the transcripts here"


@pytest.fixture
def d(tmp_path: Path) -> Iterator[Harness]:
    with harness(tmp_path) as h:
        yield h


def _world(d: Harness) -> Messages:
    """Past days from real-shaped sessions, and a session of today's."""
    d.sessions.mkdir()
    samples = sorted(SAMPLES.glob("*.jsonl"))
    assert samples, f"no sample sessions in {SAMPLES}"
    for f in samples:
        shutil.copy(f, d.sessions / f.name)
    m = Messages()
    append(d.sessions / "today.jsonl", m.header("today") + m.lines(4))
    return m


def _compare(d: Harness, *extra: str) -> tuple[dict[str, object], str]:
    r = d.cli("-v", "compare", "--json", "--include-today", *d.args(), *extra)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout), r.stderr


def test_answered_by_the_daemon_with_the_output_of_a_local_read(d: Harness) -> None:
    m = _world(d)
    d.start()
    d.wait_count(4)
    via_daemon, log = _compare(d)
    assert ANSWERED in log and READ_HERE not in log
    assert not list((d.state / "cache").glob("*.json")), "the CLI read nothing itself, so saved no index"
    local, log = _compare(d, "--no-daemon")
    assert ANSWERED not in log
    assert via_daemon == local
    assert len(local["days"]) >= 2  # type: ignore[arg-type]

    # Lines not yet seen by the daemon (no waiting for their event): it reads them before answering.
    append(d.sessions / "today.jsonl", m.lines(3))
    via_daemon, log = _compare(d)
    assert ANSWERED in log
    assert via_daemon == _compare(d, "--no-daemon")[0]
    assert [day["messages"] for day in via_daemon["days"]][-1] == 7  # type: ignore[index]

    # A transcript that vanished still counts in the daemon's own files, never in compare.
    victim = sorted(d.sessions.glob("*.jsonl"))[0]
    victim.unlink()
    via_daemon, log = _compare(d)
    assert ANSWERED in log
    assert via_daemon == _compare(d, "--no-daemon")[0]


def test_another_view_is_read_here(d: Harness) -> None:
    _world(d)
    d.start()
    d.wait_count(4)
    berlin, log = _compare(d, "--timezone", "Europe/Berlin")  # the daemon runs on UTC
    assert READ_HERE in log and "other agents, dirs or settings" in log
    assert berlin["timezone"] == "Europe/Berlin"
    assert berlin == _compare(d, "--timezone", "Europe/Berlin", "--no-daemon")[0]
    other = d.root / "other-memory"
    other.mkdir()
    _, log = _compare(d, "--memory-dir", str(other))
    assert READ_HERE in log


def test_no_daemon_reads_here(d: Harness) -> None:
    _world(d)
    out, log = _compare(d)
    assert ANSWERED not in log
    assert out == _compare(d, "--no-daemon")[0]


@pytest.mark.parametrize("req", [
    {"cmd": "compare", "v": 99},
    {"cmd": "compare", "v": 1},
    {"cmd": "compare", "v": 1, "today": "not a day", "include_today": True, "view": {"agents": []}},
    {"cmd": "compare", "v": 1, "today": "2026-01-01", "include_today": True, "view": {"agents": "x"}},
])
def test_odd_requests_are_refused_in_one_line(d: Harness, req: dict[str, object]) -> None:
    _world(d)
    d.start()
    reply = control.request(d.state, req)
    assert reply["comparison"] is None and isinstance(reply["why"], str)
    assert d.must_status()["errors"] == 0
