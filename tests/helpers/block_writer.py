"""Rewrites a day file's block in a tight loop through the real API until killed: the victim of the
crash test (kill -9 at random moments, then check the file and sweep the leftovers).

usage: block_writer.py PATH    (prints "ready" after the first write)
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

from memory_syncd.write.memfile import write_block

path = Path(sys.argv[1])
for n in itertools.count():
    write_block(path, f"- rewrite {n}\n" + "- filler\n" * (n % 5), title="# 2026-04-13 (Monday)")
    if n == 0:
        print("ready", flush=True)
