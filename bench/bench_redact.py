"""Throughput of `memory_syncd.redact` on transcript-like text, on one core.

    python bench/bench_redact.py [--size-mb 30] [--seed 1] [--secret-rate 0.01] [--repeat 3]
    python bench/bench_redact.py --state-dir DIR     # also time the transcripts of an OpenClaw state dir

Generates seeded transcript JSONL (user and assistant messages, tool results with code, logs, JSON, shell
output, look-alikes of secrets and the occasional base64 screenshot; a planted secret in about 1% of the
records, see tests/redact_corpus.py) and times `redact` three ways:

- whole text: the generated JSONL as one string;
- per line: each JSONL line on its own (what a tailer that redacts raw lines would do);
- per field: each message text on its own (what memory-syncd's content step does).

Prints MB/s (10^6 characters per second, best of --repeat runs), each next to the target (issue 14: at least
50 MB/s on one core) and whether it is met, then the counts per kind. With
--state-dir (for instance one written by `python bench/corpus.py OUT`), every transcript line under
DIR/agents/*/sessions/ is redacted too and what was redacted is listed: on a corpus without secrets,
that list is the false positives. A plain script: no assertions on time.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the corpus generator lives with the tests

from redact_corpus import transcript_records  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
import targets  # noqa: E402

from memory_syncd.redact import redact, redact_report  # noqa: E402

TARGET = 50.0  # MB/s on one core, whole text, per line and per field alike


def best_of(repeat: int, work: Callable[[], None]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--secret-rate", type=float, default=0.01)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--target", type=float, default=TARGET, help="MB/s each figure should reach")
    parser.add_argument("--state-dir", type=Path, help="an OpenClaw state dir whose transcripts to time too")
    args = parser.parse_args()
    generated(args)
    if args.state_dir:
        state_dir(args.state_dir)


def state_dir(root: Path) -> None:
    lines = [line for path in sorted(root.glob("agents/*/sessions/*.jsonl*"))
             for line in path.read_text(encoding="utf-8", errors="replace").splitlines()]
    size = sum(map(len, lines))
    start = time.perf_counter()
    reports = [redact_report(line) for line in lines]
    took = time.perf_counter() - start
    counts: Counter[str] = Counter()
    for _, found in reports:
        counts.update(found)
    print(f"\n{root}: {len(lines)} transcript lines, {size / 1e6:.1f} MB, per line {size / took / 1e6:.1f} MB/s; "
          f"redacted {sum(counts.values())}: {dict(counts.most_common(12))}")


def against(rate: float, target: float) -> str:
    """`rate` MB/s next to its target, and whether it is met."""
    return f"{rate:7.1f} MB/s (target \u2265 {target:g}: {'met' if rate >= target else 'MISSED'})"


def generated(args: argparse.Namespace) -> None:

    start = time.perf_counter()
    records = transcript_records(args.seed, int(args.size_mb * 1e6), args.secret_rate)
    lines = [r.line for r in records]
    fields = [f for r in records for f in r.fields]
    text = "\n".join(lines) + "\n"
    print(f"generated {len(text) / 1e6:.1f} MB: {len(lines)} lines, {len(fields)} text fields "
          f"({sum(map(len, fields)) / 1e6:.1f} MB), {sum(1 for r in records if r.secrets)} with a planted "
          f"secret, in {time.perf_counter() - start:.1f} s")

    redact(text[:100_000])  # warm up: regex caches, lru caches
    whole = best_of(args.repeat, lambda: redact(text))
    per_line = best_of(args.repeat, lambda: [redact(line) for line in lines] and None)
    field_chars = sum(map(len, fields))
    per_field = best_of(args.repeat, lambda: [redact(f) for f in fields] and None)
    print(f"whole text  {against(len(text) / whole / 1e6, args.target)}  ({whole:.2f} s)")
    print(f"per line    {against(len(text) / per_line / 1e6, args.target)}  ({per_line:.2f} s, "
          f"{per_line / len(lines) * 1e6:.1f} us per line)")
    print(f"per field   {against(field_chars / per_field / 1e6, args.target)}  ({per_field:.2f} s, "
          f"{per_field / len(fields) * 1e6:.1f} us per field)")

    out, counts = redact_report(text)
    leaked = sum(1 for r in records for s in r.secrets if s in out)
    rates = {"whole text": len(text) / whole / 1e6, "per line": len(text) / per_line / 1e6,
             "per field": field_chars / per_field / 1e6}
    targets.record("redact", [(f"redaction, one core, {k}", f"{v:.1f} MB/s", f">= {args.target:g} MB/s",
                               v >= args.target and not leaked) for k, v in rates.items()],
                   note=f"{len(text) / 1e6:.1f} MB generated; planted secrets left: {leaked}")
    print(f"redacted {sum(counts.values())} secrets; planted secrets left: {leaked}")
    for kind, n in Counter(counts).most_common(12):
        print(f"  {kind:28} {n}")


if __name__ == "__main__":
    main()
