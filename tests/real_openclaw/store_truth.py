"""The ground truth of the real-OpenClaw tests: an independent read of what OpenClaw wrote.

Owns reading `openclaw-agent.sqlite` (and the archive files next to it) with nothing but `sqlite3` and
`zstandard`, so that memory-syncd's answers can be checked against something that shares none of its code.

What counts as a message is what memory-syncd's README promises: every transcript record with
`type == "message"`, whichever branch it is on, on the local day of its `message.timestamp` (epoch ms; the
record's ISO `timestamp` when that is missing). Records come from every place OpenClaw keeps them:
`transcript_events` (plain `event_json`, or a zstd frame in `event_zstd` bounded by `event_utf8_bytes`),
the archives of deleted and reset sessions (`session_transcript_archives`, `session_transcript_cold_archives`)
and the `.jsonl.deleted.* / .jsonl.reset.*` files OpenClaw derives from them. One message can sit in several
of these places; a message's identity is its `message` object (OpenClaw writes the same object to each), so
each is counted once.

The store is opened read-only, every read is one short transaction, and the connection is closed at once.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import quote

import zstandard

ARCHIVE_MARK = (".jsonl.deleted.", ".jsonl.reset.")


@dataclass(frozen=True)
class Event:
    """One transcript record and where it was read."""

    session_id: str
    seq: int | None  # None for records read from an archive
    record: dict[str, Any]
    where: str  # "live", "archive-row", "cold-archive-row" or "file:<name>"
    compressed: bool = False


@dataclass(frozen=True)
class Msg:
    session_id: str
    role: str
    ts_ms: int
    text: str
    identity: str
    where: str
    provider: str | None
    model: str | None


@dataclass
class Store:
    """Everything the tests look at in one store, read in one go."""

    path: Path
    user_version: int = 0
    journal_mode: str = ""
    tables: dict[str, list[str]] = field(default_factory=dict)  # table -> column names
    schema_meta: list[dict[str, Any]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)  # live rows, by session then seq
    compressed_rows: int = 0
    windows: list[dict[str, Any]] = field(default_factory=list)
    nodes: list[dict[str, Any]] = field(default_factory=list)
    archives: list[dict[str, Any]] = field(default_factory=list)  # rows without the blob, plus "events"
    archive_events: list[Event] = field(default_factory=list)
    active: list[dict[str, Any]] = field(default_factory=list)
    watermarks: list[dict[str, Any]] = field(default_factory=list)
    heartbeat_outcomes: list[dict[str, Any]] = field(default_factory=list)

    def live_sessions(self) -> set[str]:
        return {e.session_id for e in self.events}

    def window_of(self, session_id: str) -> dict[str, Any] | None:
        return next((w for w in self.windows if w.get("session_id") == session_id), None)

    def sessions_with_key(self, key: str) -> list[str]:
        return [str(w["session_id"]) for w in self.windows if w.get("session_key") == key]


def connect_ro(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=10.0, isolation_level=None)


def read_store(path: Path) -> Store:
    """Read the store at `path` (its `-wal` included) into a `Store`."""
    st = Store(path)
    con = connect_ro(path)
    try:
        with _txn(con):
            st.user_version = int(con.execute("PRAGMA user_version").fetchone()[0])
            st.journal_mode = str(con.execute("PRAGMA journal_mode").fetchone()[0])
            names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
            st.tables = {n: [r[1] for r in con.execute(f'PRAGMA table_info("{n}")')] for n in names}
            st.schema_meta = _rows(con, st, "schema_meta")
            st.windows = _rows(con, st, "session_windows")
            st.nodes = _rows(con, st, "session_nodes", drop=("entry_json",))
            st.active = _rows(con, st, "session_transcript_active_events")
            st.watermarks = _rows(con, st, "transcript_rewrite_watermarks")
            st.heartbeat_outcomes = _rows(con, st, "heartbeat_outcomes")
            st.events = list(_live_events(con, st))
            st.compressed_rows = sum(e.compressed for e in st.events)
            for table, where in (("session_transcript_archives", "archive-row"),
                                 ("session_transcript_cold_archives", "cold-archive-row")):
                for row in _rows(con, st, table):
                    blob = row.pop("archive_blob", None)
                    records = list(decode_archive(blob, str(row.get("encoding") or "zstd"))) if blob else []
                    row["events"] = len(records)
                    row["table"] = table
                    st.archives.append(row)
                    sid = str(row.get("session_id"))
                    st.archive_events += [Event(sid, None, r, where) for r in records]
    finally:
        con.close()
    return st


@contextlib.contextmanager
def _txn(con: sqlite3.Connection) -> Iterator[None]:
    """One read transaction for a consistent snapshot, always ended."""
    con.execute("BEGIN")
    try:
        yield
    finally:
        con.execute("COMMIT")


def _rows(con: sqlite3.Connection, st: Store, table: str, drop: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    cols = [c for c in st.tables.get(table, []) if c not in drop]
    if not cols:
        return []
    sel = ", ".join(f'"{c}"' for c in cols)
    return [dict(zip(cols, r, strict=True)) for r in con.execute(f'SELECT {sel} FROM "{table}"')]


def _live_events(con: sqlite3.Connection, st: Store) -> Iterator[Event]:
    cols = st.tables.get("transcript_events", [])
    if not cols:
        return  # a main file copied without its WAL may not even hold the schema yet
    has_zstd = "event_zstd" in cols
    sel = "session_id, seq, event_json" + (", event_zstd, event_utf8_bytes" if has_zstd else ", NULL, NULL")
    dec = zstandard.ZstdDecompressor()
    for sid, seq, text, frame, size in con.execute(f"SELECT {sel} FROM transcript_events ORDER BY session_id, seq"):
        if text is None:
            assert frame is not None and size is not None, f"row {sid}/{seq} has neither event_json nor event_zstd"
            raw = dec.decompress(frame, max_output_size=int(size))
            assert len(raw) == size, f"row {sid}/{seq}: decoded {len(raw)} bytes, event_utf8_bytes says {size}"
            yield Event(str(sid), int(seq), json.loads(raw), "live", compressed=True)
        else:
            yield Event(str(sid), int(seq), json.loads(text), "live")


def decode_archive(blob: bytes, encoding: str) -> Iterator[dict[str, Any]]:
    """The records of an archive (a zstd frame or plain JSONL), one per non-empty line."""
    if encoding == "zstd" or blob[:4] == b"\x28\xb5\x2f\xfd":
        # archive frames carry no content size: decode as a stream
        with zstandard.ZstdDecompressor().stream_reader(blob) as r:
            blob = r.read()
    for line in blob.decode("utf-8").splitlines():
        if line.strip():
            yield json.loads(line)


def archive_files(sessions_dir: Path) -> list[Path]:
    """The `.jsonl.deleted.*` / `.jsonl.reset.*` files in a sessions dir, by name."""
    if not sessions_dir.is_dir():
        return []
    return sorted(p for p in sessions_dir.iterdir() if any(m in p.name for m in ARCHIVE_MARK))


def file_events(path: Path) -> list[Event]:
    sid = path.name.split(".jsonl", 1)[0]
    enc = "zstd" if path.name.endswith(".zst") else "identity"
    return [Event(sid, None, r, f"file:{path.name}") for r in decode_archive(path.read_bytes(), enc)]


# --- messages and days ---

def _ts_ms(record: dict[str, Any]) -> int | None:
    msg = record.get("message")
    ts = msg.get("timestamp") if isinstance(msg, dict) else None
    if isinstance(ts, int | float) and not isinstance(ts, bool) and ts > 0:
        return int(ts)
    iso = record.get("timestamp")
    if isinstance(iso, str):
        try:
            return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)
        except ValueError:
            return None
    return None


def text_of(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def messages(events: Iterable[Event]) -> list[Msg]:
    """Every distinct message among `events`, first place seen wins."""
    seen: set[str] = set()
    out: list[Msg] = []
    for e in events:
        r = e.record
        if r.get("type") != "message" or not isinstance(r.get("message"), dict):
            continue
        msg = r["message"]
        identity = json.dumps(msg, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        if identity in seen:
            continue
        seen.add(identity)
        ts = _ts_ms(r)
        assert ts is not None, f"message without a usable timestamp in {e.where}: {str(r)[:200]}"
        out.append(Msg(e.session_id, str(msg.get("role")), ts, text_of(msg.get("content")), identity, e.where,
                       msg.get("provider") if isinstance(msg.get("provider"), str) else None,
                       msg.get("model") if isinstance(msg.get("model"), str) else None))
    return out


def all_messages(store: Store, sessions_dir: Path | None = None) -> list[Msg]:
    """Live rows, archive rows and archive files together, each message once."""
    extra: list[Event] = []
    if sessions_dir is not None:
        for p in archive_files(sessions_dir):
            extra += file_events(p)
    return messages([*store.events, *store.archive_events, *extra])


def day_of(ts_ms: int, zone: tzinfo = UTC) -> date:
    return datetime.fromtimestamp(ts_ms / 1000, zone).date()


def day_counts(msgs: Iterable[Msg], zone: tzinfo = UTC) -> dict[str, int]:
    c = Counter(day_of(m.ts_ms, zone).isoformat() for m in msgs)
    return dict(sorted(c.items()))
