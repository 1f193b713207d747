"""Where each benchmark leaves its figures against their targets, for `bench_all.py` to print in one table.

Each script calls `record(name, checks)` at its end: `checks` are (figure, value, target, met) rows, each
figure measured against a baseline taken in the same run. They land in bench/out/targets-<name>.json with
the time and the package's commit; nothing here measures anything.
"""

from __future__ import annotations

import json
import platform
import subprocess
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"

Check = tuple[str, str, str, bool]


def package_state() -> str:
    """The commit the package is at and whether its files differ from it (others may be editing them)."""
    repo = OUT.parent.parent
    try:
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--", "memory_syncd"],
                               capture_output=True, text=True, check=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (no git)"
    return f"{head}" + (f" + {len(dirty)} changed path(s) under memory_syncd/" if dirty else " (clean)")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def record(name: str, checks: list[Check], note: str = "") -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"targets-{name}.json"
    path.write_text(json.dumps({"bench": name, "at": time.strftime("%Y-%m-%d %H:%M:%S"), "commit": package_state(),
                                "note": note, "checks": [list(c) for c in checks]}, indent=1))
    return path


def load(name: str) -> dict[str, object] | None:
    path = OUT / f"targets-{name}.json"
    try:
        data: dict[str, object] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data
