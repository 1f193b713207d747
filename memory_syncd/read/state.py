"""What is known about one source between reads, and what one refresh found: the values `ingest` keeps
per source (`SourceState`, saved in the compare cache and the daemon checkpoint) and returns (`RefreshReport`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from memory_syncd.read import store
from memory_syncd.read.index import SourceDays
from memory_syncd.read.tail import Identity, TailState


@dataclass
class SourceState:
    path: str
    kind: str  # "jsonl", "zst", "sqlite", "archive" (a deleted/reset session kept inside the store), or "chunk"
    # (some of a store's sessions, read by a process sharing the reading out, until the store's refresh takes it)
    size: int = 0
    mtime_ns: int = 0
    tail: TailState = field(default_factory=TailState)
    cursor: store.StoreCursor = field(default_factory=store.StoreCursor)
    summary: SourceDays = field(default_factory=SourceDays)
    ident: str = ""  # sqlite: the store files' stat signature; archive: the blob's checksum
    archive: tuple[str, ...] = ()  # archive: (table, session id, generation) of its row in the store

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path, "kind": self.kind, "size": self.size, "mtime_ns": self.mtime_ns,
            "identity": self.tail.identity.to_json() if self.tail.identity else None,
            "offset": self.tail.offset, "skipping": self.tail.skipping,
            "cursor": self.cursor.to_json(), "summary": self.summary.to_json(), "ident": self.ident,
            "archive": list(self.archive),
        }

    @classmethod
    def from_json(cls, v: dict[str, Any]) -> SourceState:
        ident = Identity.from_json(v["identity"]) if v.get("identity") else None
        return cls(str(v["path"]), str(v["kind"]), int(v["size"]), int(v["mtime_ns"]),
                   TailState(ident, int(v["offset"]), bool(v["skipping"])),
                   store.StoreCursor.from_json(v.get("cursor", {})), SourceDays.from_json(v["summary"]),
                   str(v.get("ident", "")), tuple(map(str, v.get("archive", ()))))


@dataclass
class RefreshReport:
    read_bytes: int = 0
    opened: int = 0
    resets: int = 0
    too_long: int = 0
    errors: list[str] = field(default_factory=list)
    changed_days: set[date] = field(default_factory=set)
