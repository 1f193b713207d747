"""A day renders to the same bytes in every process: nothing in content/ depends on the order Python's
randomised string hashing gives a set (sums of sentence weights, failure notes at the same moment), so a
rerun of `backfill` on an unchanged day never rewrites it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Run in a fresh interpreter per hash seed: prints the weights the exchanges get and a digest of the block.
SCRIPT = """
import hashlib, random, sys
sys.path.insert(0, sys.argv[1])
from fixtures_openclaw import dumps
from test_render import BUDGET, S1, at, busy_day, snap_of
from memory_syncd.content import exchanges
from memory_syncd.content.render import render

fact = "Ticket OPS-{0} and host node-{0}.example.net and shard S{0}x."
plants = {i: ("", " ".join(fact.format(k) for k in range(i % 9 + 3))) for i in range(0, 120, 3)}
lines = busy_day(random.Random(5), 120, plants)
for k in range(4):  # failure notes at one moment in one session: their order must not depend on hashing
    lines.append((S1, dumps({"type": "custom", "customType": "run-failed-before-reply", "timestamp":
                             "2026-04-14T09:00:00.000+02:00", "content": f"provider error {k}: overloaded"})))
snap = snap_of(lines)
print([repr(s.weight) for s in exchanges.shown(snap)])
print(hashlib.sha256(render(snap, BUDGET).encode()).hexdigest())
print(hashlib.sha256(render(snap, 6 * 1024).encode()).hexdigest())
"""


def _run(seed: int) -> str:
    env = dict(os.environ, PYTHONHASHSEED=str(seed))
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(HERE)], env=env, capture_output=True, text=True,
                          check=True)
    return done.stdout


def test_the_same_day_renders_the_same_bytes_whatever_the_hash_seed() -> None:
    outputs = {_run(seed) for seed in (0, 1, 2, 3, 4, 5)}
    assert len(outputs) == 1, outputs
