"""Every benchmark in one run, then one table of every figure against its target (issue 14's list).

    python bench/bench_all.py                 # the standard corpora (300 MB for the one-shot commands,
                                              # 500 MB for the daemon); about 20 min on 2 cores
    python bench/bench_all.py --scale         # and the daemon on a 5 GB history (8 agents, a year of days)
    python bench/bench_all.py --quick         # smoke run: smaller corpora and fewer repeats
    python bench/bench_all.py --only redact,rss --no-run   # print the last recorded figures only

Each script runs as a subprocess with its own output shown as it goes; each measures its baseline in its
own run (the `json.loads` floor, the seed's rescanning, `memory-syncd --version`, a tiny history...) and
records its rows through `targets.record`. Corpora are generated on first use and reused after. Asserts
nothing: a missed target is printed as MISSES.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import targets  # noqa: E402

# name -> (script, arguments, arguments with --quick)
BENCHES: dict[str, tuple[str, list[str], list[str]]] = {
    "compare": ("bench_compare.py", ["--reuse", "--repeat", "5"], ["--reuse", "--size-mb", "60", "--days", "30",
                                                                   "--repeat", "3"]),
    "store": ("bench_store.py", ["--reuse"], ["--reuse", "--size-mb", "60", "--days", "30"]),
    "backfill": ("bench_backfill.py", ["--reuse"], ["--reuse", "--size-mb", "60", "--days", "30"]),
    "redact": ("bench_redact.py", [], ["--size-mb", "5", "--repeat", "3"]),
    "rss": ("bench_rss.py", [], []),
    "daemon": ("bench_daemon.py", ["--reuse"], ["--reuse", "--quick", "--label", "daemon"]),
    # 180 s of idle at scale: the reconcile scan is spaced 80-160 s apart there, so a shorter window can miss
    # it or hold one scan in a minute, and measure luck instead of the average
    "scale": ("bench_daemon.py", ["--reuse", "--size-mb", "5000", "--days", "365", "--agents", "8", "--starts", "1",
                                  "--samples", "40", "--idle-seconds", "180", "--label", "scale"], []),
}


def run(name: str, quick: bool) -> float:
    script, args, quick_args = BENCHES[name]
    argv = [sys.executable, str(HERE / script), *(quick_args if quick else args)]
    print(f"\n=== {name}: {' '.join(argv[1:])}", flush=True)
    started = time.perf_counter()
    proc = subprocess.run(argv, check=False)
    if proc.returncode != 0:
        print(f"=== {name} exited with {proc.returncode}", flush=True)
    return time.perf_counter() - started


def machine() -> str:
    return (f"{targets.cpu_model()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
            f"load average now {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def table(names: list[str]) -> None:
    print(f"\n=== all targets ({machine()})")
    rows: list[tuple[str, str, str, str]] = []
    for name in names:
        data = targets.load(name)
        if data is None:
            rows.append((name, "no figures recorded", "", ""))
            continue
        checks = data.get("checks")
        stamp = f"[{data.get('at')}, {data.get('commit')}{', ' + str(data['note']) if data.get('note') else ''}]"
        rows.append((name, stamp, "", ""))
        for figure, value, target, met in checks if isinstance(checks, list) else []:
            rows.append((f"  {figure}", str(value), str(target), "meets" if met else "MISSES"))
    w0 = max(len(r[0]) for r in rows if r[1] and r[2]) + 2 if any(r[2] for r in rows) else 40
    w1 = max((len(r[1]) for r in rows if r[2]), default=10) + 2
    w2 = max((len(r[2]) for r in rows if r[2]), default=10) + 2
    for a, b, c, d in rows:
        print(f"{a:<{w0}}{b:<{w1}}{c:<{w2}}{d}" if c else f"{a} {b}")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="smaller corpora, fewer repeats (not for the README)")
    p.add_argument("--scale", action="store_true", help="also the daemon on a 5 GB history (about 15 min more)")
    p.add_argument("--only", default="", help="comma-separated names: " + ", ".join(BENCHES))
    p.add_argument("--no-run", action="store_true", help="only print the figures last recorded")
    a = p.parse_args(argv)
    names = [n for n in BENCHES if n != "scale" or a.scale]
    if a.only:
        names = [n.strip() for n in a.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in BENCHES]
        if unknown:
            p.error(f"unknown benchmark(s): {', '.join(unknown)}")
    if a.quick and "scale" in names:
        names.remove("scale")
    took = {} if a.no_run else {n: run(n, a.quick) for n in names}
    table(names)
    if took:
        print("\nwall time: " + ", ".join(f"{n} {t:.0f} s" for n, t in took.items()))


if __name__ == "__main__":
    main()
