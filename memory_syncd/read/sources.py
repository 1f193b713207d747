"""Finding transcripts: OpenClaw state dirs, agents and their workspaces, JSONL files and archives, the
SQLite store.

Owns the rules for which files are transcripts (mirroring OpenClaw's own classification) and where each
agent's memory directory is. Reads `openclaw.json` (JSON5) but never writes anything.

Layout (JSONL era): `<state>/agents/<id>/sessions/*.jsonl` plus `.jsonl.reset.<ts>` / `.jsonl.deleted.<ts>`
archives (optionally `.zst`); SQLite era: `<state>/agents/<id>/agent/openclaw-agent.sqlite`.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from memory_syncd.errors import SourceError

log = logging.getLogger(__name__)

SQLITE_NAME = "openclaw-agent.sqlite"
# `<id>.jsonl.<reason>.<ISO stamp>[.<generation: 32 hex>][.zst]` (OpenClaw's ARCHIVE_SUFFIX_RE; the generation
# names the SQLite archive row the file was published from), and `.<epoch seconds>` from older releases.
_ARCHIVE = re.compile(r"\.jsonl\.(?:reset|deleted)\.(?:\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}(?:\.\d{1,6})?Z"
                      r"(?:\.[0-9a-f]{32})?|\d{9,13})(\.zst)?$")
_CHECKPOINT = re.compile(r"\.checkpoint\.[0-9a-fA-F-]{8,}\.jsonl$")
# Subdirectories of sessions/ that hold transcripts too (OpenClaw moves imported files here).
_ARCHIVE_SUBDIRS = ("session-sqlite-import-archive",)
# Files every sessions dir has that are not worth mentioning when skipped: OpenClaw's own index, locks,
# run traces (`<id>.trajectory.jsonl` and its `<id>.trajectory-path.json` pointer) and skill prompts.
_EXPECTED = frozenset({"sessions.json", "skills-prompts", *_ARCHIVE_SUBDIRS})
_EXPECTED_SUFFIXES = (".lock", ".trajectory.jsonl", ".trajectory-path.json")


class Kind(StrEnum):
    JSONL = "jsonl"
    ZST = "zst"  # a compressed archive, read whole
    SKIP = "skip"


def classify(name: str) -> Kind:
    """Whether a file in a sessions dir is a transcript (and how to read it) or something to skip."""
    m = _ARCHIVE.search(name)
    if m:
        return Kind.ZST if m.group(1) else Kind.JSONL
    if not name.endswith(".jsonl") or name.endswith(".trajectory.jsonl") or _CHECKPOINT.search(name):
        return Kind.SKIP
    return Kind.JSONL


def checkpoint_needed(st: os.stat_result, transcript: int | None, replaced: bool) -> bool:
    """Whether a compaction checkpoint holds what its transcript no longer does, so it is read too.

    OpenClaw copies a transcript before compacting it and, with `truncateAfterCompaction`, then replaces it by
    a shorter one without the compacted turns: the copy is all that is left of them. Read are the copies of a
    transcript seen replaced now, or that is shorter than its copy; once read, a copy stays read. Any other
    copy is only an older prefix of its transcript, and is passed over. Message keys make the overlap count
    once. `st` is the copy's stat, `transcript` the size of the transcript it copied (None when that was archived
    as `.reset` or `.deleted`: whole, and read as it is)."""
    return replaced or (transcript is not None and transcript < st.st_size)


@dataclass(frozen=True)
class Agent:
    id: str
    sessions_dir: Path
    memory_dir: Path
    sqlite: Path | None = None  # the store's path when the agent has one (or may get one)
    timezone: str = ""  # OpenClaw's agents.defaults.userTimezone, if set


@dataclass
class Listing:
    """The transcript files of one agent, and what was passed over and why."""

    files: list[tuple[Path, Kind]] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    # `<id>.checkpoint.<uuid>.jsonl` copies OpenClaw takes before a compaction, by session id: passed over,
    # unless the transcript they copied was cut since (`ingest` decides)
    checkpoints: dict[str, list[Path]] = field(default_factory=dict)


def checkpoint_of(name: str) -> str | None:
    """The session id of a compaction checkpoint's file name, or None if it is none."""
    m = _CHECKPOINT.search(name)
    return name[:m.start()] if m else None


def list_sessions(sessions_dir: Path) -> Listing:
    """Every transcript in `sessions_dir` (and its import-archive subdir), sorted by name.

    A directory with a transcript's name, a link that leads outside the dir, and non-transcripts
    (locks, checkpoints, trajectories, backups, temp files) are counted in `skipped`."""
    out = Listing()
    dirs = [sessions_dir] + [sessions_dir / d for d in _ARCHIVE_SUBDIRS]
    for d in dirs:
        try:
            entries = sorted(os.scandir(d), key=lambda e: e.name)
        except (FileNotFoundError, NotADirectoryError):
            continue
        except PermissionError as e:
            raise SourceError(f"cannot read sessions dir {d}: permission denied (fix its mode)") from e
        real_dir = os.path.realpath(d)
        for entry in entries:
            kind = classify(entry.name)
            if kind is Kind.SKIP:
                session = checkpoint_of(entry.name) if d == sessions_dir else None
                if session and not entry.is_symlink() and entry.is_file():
                    out.checkpoints.setdefault(session, []).append(_path(entry.path))
                if entry.name not in _EXPECTED and not entry.name.endswith(_EXPECTED_SUFFIXES):
                    out.skipped["not a transcript"] += 1
                continue
            if entry.is_symlink():
                target = os.path.realpath(entry.path)
                if os.path.dirname(target) != real_dir:
                    out.skipped["link pointing elsewhere"] += 1
                    continue
            try:
                regular = entry.is_file()
            except OSError:  # a link loop
                regular = False
            if not regular:
                out.skipped["not a regular file"] += 1
                continue
            if kind is Kind.ZST and not zstd_available():
                out.skipped["zst archive (install zstandard to read)"] += 1
                continue
            out.files.append((_path(entry.path), kind))
    return out


@functools.lru_cache(maxsize=1 << 16)
def _path(text: str) -> Path:
    """The same Path for the same name: a daemon lists thousands of transcripts on every scan, and building
    a Path costs more than the stat that follows."""
    return Path(text)


def zstd_available() -> bool:
    try:
        import zstandard  # noqa: F401
    except ImportError:
        return False
    return True
