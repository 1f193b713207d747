"""Peak memory of reading one huge transcript line: issue 14's "peak RSS <= 100 MiB while a 25 MB
transcript line is parsed".

    python bench/bench_rss.py [--size-mb 25] [--src DIR]

It writes (once, into bench/out/) an OpenClaw state dir whose one session holds an ordinary turn around an
exec tool result of `--size-mb` MB, shaped as the corpus writes its big ones: the shown tail in `content`
and the whole aggregated log in `details`, log text with quotes, accents and emoji (so that a Python str of
it takes 4 bytes a character). Then, each in a fresh subprocess:

- baseline: the interpreter with the CLI's and the read side's imports, nothing read;
- index: the same imports, then one agent index refreshed over the state dir (`AgentIndex.refresh`, what
  the daemon and `compare` do), and its VmRSS after (the steady size, target < 80 MiB);
- compare: `memory-syncd compare --json --no-daemon` over it, with an empty `--state-dir` (the CLI run by
  `runpy` in the fresh process, which reads its own VmHWM at exit).

Peak is the process's VmHWM, read in that process (a child's `ru_maxrss` from wait4 would count the pages
it shared with this script before its exec).
`--src DIR` runs the same three against another checkout's package (e.g. an older commit exported with
`git archive`), for a before/after in one run. Nothing is asserted; the figures are recorded for
bench_all.py.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
sys.path.insert(0, str(HERE))

import targets  # noqa: E402

TARGET_PEAK_MIB = 100
TARGET_STEADY_MIB = 80
SESSION = "4c901432-7c11-42cf-a0f7-bda3c7407c97"
T0 = 1772803405713  # 2026-03-06T13:23:25.713Z
_WORDS = ["the", "backup", "ran", "restic", "postgres", "Müller", "façade", "naïve", "→", "✅", "🙂", "queue",
          "deploy", "cron", "gateway", "schema", "tomorrow", "worker", "index"]

_IMPORTS = "import memory_syncd.cli, memory_syncd.report, memory_syncd.read.ingest"
_STATUS = """
def status():
    out = {}
    for line in open('/proc/self/status'):
        key, _, value = line.partition(':')
        if key in ('VmHWM', 'VmRSS'):
            out[key] = int(value.split()[0]) / 1024
    return out
"""
_BASELINE = _IMPORTS + "\n" + _STATUS + "\nimport json; print(json.dumps(status()))\n"
_INDEX = _IMPORTS + "\n" + _STATUS + """
import gc, json, sys
from pathlib import Path
from zoneinfo import ZoneInfo
from memory_syncd.read.ingest import AgentIndex
from memory_syncd.read.parse import DayClock
from memory_syncd.read.sources import Agent
root = Path(sys.argv[1]) / "agents" / "main"
idx = AgentIndex(Agent("main", root / "sessions", root / "memory"), "Europe/Berlin", 64 << 20)
idx.refresh(DayClock(ZoneInfo("Europe/Berlin")))
gc.collect()
out = status()
out["days"] = {d.isoformat(): day.messages for d, day in idx.days().items()}
print(json.dumps(out))
"""


def iso(ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def log_text(size: int, rng: random.Random) -> str:
    lines: list[str] = []
    n = 0
    while n < size:
        level, unit, words = rng.choice(("INFO ", "WARN ", "DEBUG")), rng.choice(_WORDS), rng.choices(_WORDS, k=9)
        line = (f"2026-03-06T13:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.{rng.randint(0, 999):03d}Z "
                f"{level} [{unit}] {' '.join(words)} "
                f'req_id={rng.getrandbits(48):012x} path="/v1/{rng.choice(_WORDS)}" ms={rng.randint(1, 2000)}')
        lines.append(line)
        n += len(line.encode()) + 3  # the JSON line holds `\n` and the quotes escaped
    return "\n".join(lines)


def state_dir(size_mb: float) -> Path:
    """The state dir (written once per size): one session around one big exec result."""
    path = OUT / f"rss-{size_mb:g}mb"
    session = path / "agents" / "main" / "sessions" / f"{SESSION}.jsonl"
    if session.exists():
        return path
    session.parent.mkdir(parents=True, exist_ok=True)
    (path / "workspace" / "memory").mkdir(parents=True, exist_ok=True)
    text = log_text(int(size_mb * 1e6), random.Random(1))
    cwd = str(path / "workspace")

    def msg(eid: str, parent: str | None, at: int, body: dict[str, object]) -> dict[str, object]:
        return {"type": "message", "id": eid, "parentId": parent, "timestamp": iso(at + 5),
                "message": {**body, "timestamp": at}}

    usage = {"input": 3, "output": 40, "cacheRead": 0, "cacheWrite": 0, "totalTokens": 43}
    records: list[dict[str, object]] = [
        {"type": "session", "version": 3, "id": SESSION, "timestamp": iso(T0 - 120_000), "cwd": cwd},
        msg("a1c30f7e", None, T0 - 60_000, {"role": "user", "content": [{"type": "text", "text": "Show the log"}]}),
        msg("5be2d904", "a1c30f7e", T0 - 30_000, {
            "role": "assistant", "content": [{"type": "toolCall", "id": "toolu_01", "name": "exec",
                                              "arguments": {"command": "journalctl -u restic"}}],
            "api": "anthropic-messages", "provider": "anthropic", "model": "claude-opus-4-6", "usage": usage,
            "stopReason": "toolUse"}),
        msg("363edbb8", "5be2d904", T0, {
            "role": "toolResult", "toolCallId": "toolu_01", "toolName": "exec",
            "content": [{"type": "text", "text": f"[output truncated to last 50000 chars]\n{text[-50_000:]}"}],
            "details": {"status": "completed", "exitCode": 0, "durationMs": 8129, "aggregated": text, "cwd": cwd},
            "isError": False}),
        msg("e4d2907c", "363edbb8", T0 + 20_000, {
            "role": "assistant", "content": [{"type": "text", "text": "The backup ran; two warnings."}],
            "api": "anthropic-messages", "provider": "anthropic", "model": "claude-opus-4-6", "usage": usage,
            "stopReason": "stop"}),
    ]
    with open(session, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")
    return path


def env_for(state: Path, home: Path, src: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENCLAW_CONFIG_PATH", "OPENCLAW_HOME", "MEMORY_SYNCD_CONFIG", "MEMORY_SYNCD_STATE_DIR",
                        "MEMORY_SYNCD_TIMEZONE", "PYTHONPATH")}
    env.update(OPENCLAW_STATE_DIR=str(state), HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
               XDG_STATE_HOME=str(home / ".state"))
    if src is not None:
        env["PYTHONPATH"] = str(src)
    return env


def run_python(code: str, args: list[str], env: dict[str, str], cwd: Path) -> dict[str, object]:
    proc = subprocess.run([sys.executable, "-c", code, *args], env=env, cwd=cwd, capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        raise SystemExit(f"measurement failed: {proc.stderr}")
    result: dict[str, object] = json.loads(proc.stdout)
    return result


_COMPARE = _STATUS + """
import atexit, json, os, runpy, sys
# Read at exit, in this process: a child's ru_maxrss would count the pages it shared with its parent
atexit.register(lambda: open(os.environ["BENCH_RSS_OUT"], "w").write(json.dumps(status())))
sys.argv = ["memory-syncd", *sys.argv[1:]]
runpy.run_module("memory_syncd", run_name="__main__", alter_sys=True)
"""


def run_compare(state: Path, env: dict[str, str], cwd: Path) -> tuple[float, dict[str, object]]:
    """Peak RSS (MiB) of `memory-syncd compare` run as the CLI in a fresh process, and its output."""
    with tempfile.TemporaryDirectory(dir=OUT) as work:
        figures = Path(work) / "rss.json"
        proc = subprocess.run([sys.executable, "-c", _COMPARE, "compare", "--json", "--no-daemon", "--state-dir",
                               str(Path(work) / "state"), "--timezone", "Europe/Berlin"],
                              env={**env, "BENCH_RSS_OUT": str(figures)}, cwd=cwd, capture_output=True, check=False)
        if proc.returncode != 0:
            raise SystemExit(f"compare failed: {proc.stderr.decode(errors='replace')}")
        peak = float(json.loads(figures.read_text())["VmHWM"])
        result: dict[str, object] = json.loads(proc.stdout)
    return peak, result


def measure(state: Path, src: Path | None) -> dict[str, object]:
    with tempfile.TemporaryDirectory(dir=OUT) as home:
        env = env_for(state, Path(home), src)
        cwd = Path(home)  # not the repository: `-m memory_syncd` must import the package under test
        base = run_python(_BASELINE, [], env, cwd)
        index = run_python(_INDEX, [str(state)], env, cwd)
        compare_peak, compare_out = run_compare(state, env, cwd)
    return {"baseline": base["VmHWM"], "index_peak": index["VmHWM"], "index_after": index["VmRSS"],
            "days": index["days"], "compare_peak": compare_peak, "compare_days": compare_out.get("days")}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size-mb", type=float, default=25.0, help="size of the big tool result (10^6 bytes)")
    p.add_argument("--src", type=Path, help="also measure the package found in this directory (before/after)")
    a = p.parse_args(argv)
    OUT.mkdir(exist_ok=True)
    state = state_dir(a.size_mb)
    with open(state / "agents" / "main" / "sessions" / f"{SESSION}.jsonl", "rb") as f:
        line = max(len(x) for x in f)
    print(f"state dir {state}: one session, its biggest line {line / 1e6:.1f} MB")
    runs = {"this tree": measure(state, None)}
    if a.src is not None:
        runs[f"--src {a.src}"] = measure(state, a.src.resolve())
    checks: list[targets.Check] = []
    for label, m in runs.items():
        base = float(m["baseline"])  # type: ignore[arg-type]
        print(f"\n{label}")
        print(f"  python + imports only          peak {base:6.1f} MiB")
        for name, key in (("index the state dir", "index_peak"), ("compare --no-daemon", "compare_peak")):
            peak = float(m[key])  # type: ignore[arg-type]
            met = peak <= TARGET_PEAK_MIB
            print(f"  {name:<30} peak {peak:6.1f} MiB  (+{peak - base:.1f} over the baseline; target <= "
                  f"{TARGET_PEAK_MIB} MiB: {'meets' if met else 'MISSES'})")
            if label == "this tree":
                checks.append((f"peak RSS, {name}, one {line / 1e6:.0f} MB line", f"{peak:.0f} MiB",
                               f"<= {TARGET_PEAK_MIB} MiB (imports alone {base:.0f})", met))
        after = float(m["index_after"])  # type: ignore[arg-type]
        print(f"  after indexing                  RSS {after:6.1f} MiB  (target < {TARGET_STEADY_MIB} MiB)")
        if label == "this tree":
            checks.append(("RSS after indexing it", f"{after:.0f} MiB", f"< {TARGET_STEADY_MIB} MiB",
                           after < TARGET_STEADY_MIB))
        print(f"  messages by day: index {m['days']}; compare agrees: "
              f"{_compare_days(m['compare_days']) == m['days']}")
    targets.record("rss", checks)


def _compare_days(days: object) -> dict[str, int]:
    return {str(d["date"]): int(d["messages"]) for d in days} if isinstance(days, list) else {}


if __name__ == "__main__":
    main()
