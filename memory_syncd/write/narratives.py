"""The day narratives the LLM wrote, as stored records: one JSON file per agent and day in the state dir.

Owns where they live and their shape (`hash` of the input, `text`, `error`, `attempts`, `at`). `summarize`
writes them; the write path reads the text into the day's block; the nightly policy reads the rest.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Any

from memory_syncd import statefile


def record_path(store_dir: Path, agent: str, day: date) -> Path:
    return store_dir / "summaries" / agent / f"{day.isoformat()}.json"


def record(store_dir: Path, agent: str, day: date, value: dict[str, Any]) -> None:
    path = record_path(store_dir, agent, day)
    statefile.private_dir(path.parent)
    statefile.write_json(path, {**value, "day": day.isoformat(), "at": time.time()})


def stored_text(store_dir: Path, agent: str, day: date) -> str | None:
    """The last successful summary of a day, for rendering it into the block."""
    v = statefile.read_json(record_path(store_dir, agent, day))
    return str(v["text"]) if isinstance(v, dict) and v.get("text") else None


def stored_record(store_dir: Path, agent: str, day: date) -> dict[str, Any] | None:
    v = statefile.read_json(record_path(store_dir, agent, day))
    return v if isinstance(v, dict) else None
