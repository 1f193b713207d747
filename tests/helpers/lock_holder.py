"""Holds a memory dir's writer lock through the real API, as a second memory-syncd process would.

usage: lock_holder.py MEMORY_DIR SECONDS    (prints "locked" once it holds the lock)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from memory_syncd.write.memfile import writer_lock

with writer_lock(Path(sys.argv[1]), timeout=5.0):
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
