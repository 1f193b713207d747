"""Saves a file the way many editors do, until a stop file appears: read it, write its bytes plus one
numbered line to a temp file beside it, rename the temp over it.

usage: editor.py PATH STOP [--interval S] [--in-place]

--in-place saves like OpenClaw dreaming's `fs.writeFile` instead: truncate the file itself and write the
new bytes in two pieces, so a reader can catch it half written.
Prints "ready" after the first save, and the number of saves when it stops.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("path", type=Path)
    p.add_argument("stop", type=Path)
    p.add_argument("--interval", type=float, default=0.003)
    p.add_argument("--in-place", action="store_true")
    a = p.parse_args()
    tmp = a.path.with_name(f".{a.path.name}.editor~")
    saves = 0
    while not a.stop.exists():
        data = a.path.read_bytes() + f"editor line {saves:06d}\n".encode()
        if a.in_place:
            fd = os.open(a.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                half = len(data) // 2
                os.write(fd, data[:half])
                time.sleep(0.0002)
                os.write(fd, data[half:])
            finally:
                os.close(fd)
        else:
            tmp.write_bytes(data)
            os.rename(tmp, a.path)
        saves += 1
        if saves == 1:
            print("ready", flush=True)
        time.sleep(a.interval)
    print(saves, flush=True)


if __name__ == "__main__":
    main()
