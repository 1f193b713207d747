"""Regenerate the fixture corpus: `python tests/data/corpus/build.py` (same code, same bytes).

Writes `clawdbot/` and `openclaw/` (state dirs of two OpenClaw generations, invented people and data) and
`expected.json` (per generation: its time zone, the real answering-model switches, and per agent/day the
facts a block must keep and the text it must never quote). `tests/test_corpus_blocks.py` checks that the
committed files are what this script writes.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import gen_clawdbot  # noqa: E402
import gen_openclaw  # noqa: E402


def build(out: Path) -> dict[str, object]:
    expected = {}
    for name, gen in (("clawdbot", gen_clawdbot), ("openclaw", gen_openclaw)):
        shutil.rmtree(out / name, ignore_errors=True)
        expected[name] = gen.build(out / name)
    (out / "expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return expected


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
