"""Appends numbered lines to a file until a stop file appears: the agent's side of the concurrency tests.

usage: appender.py PATH STOP [--mode reopen|held] [--batch N] [--interval S] [--max-lines N] [--label TEXT]

reopen: for every line, open with O_APPEND, write the line, close (what `echo >>` and most tools do).
held:   keep one O_APPEND descriptor open for --batch lines, close it, pause one interval, open again.
Prints "ready" once the first line is written, and the number of lines written when it stops.
"""

from __future__ import annotations

import argparse
import os
import time

FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("path")
    p.add_argument("stop")
    p.add_argument("--mode", choices=("reopen", "held"), default="reopen")
    p.add_argument("--batch", type=int, default=10)
    p.add_argument("--interval", type=float, default=0.003)
    p.add_argument("--max-lines", type=int, default=1_000_000)
    p.add_argument("--label", default="appender line")
    a = p.parse_args()
    written = 0

    def write(fd: int) -> None:
        nonlocal written
        os.write(fd, f"{a.label} {written:06d}\n".encode())
        written += 1
        if written == 1:
            print("ready", flush=True)

    def more() -> bool:
        return written < a.max_lines and not os.path.exists(a.stop)

    while more():
        fd = os.open(a.path, FLAGS, 0o644)
        try:
            write(fd)
            while a.mode == "held" and written % a.batch and more():
                time.sleep(a.interval)  # with the descriptor open
                write(fd)
        finally:
            os.close(fd)
        time.sleep(a.interval)
    print(written, flush=True)


if __name__ == "__main__":
    main()
