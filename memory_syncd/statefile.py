"""memory-syncd's own state dir: private directories and atomically replaced JSON files.

Everything kept here is derived (caches, checkpoints, summary records) and holds no transcript text, so
losing it costs time, never data. Writes are temp file + fsync + rename + directory fsync, so a crash
leaves either the old or the new file, never a torn one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path
from typing import Any

try:  # a dependency; the fallback only keeps a broken install working (and slower)
    import orjson

    _loads: Any = orjson.loads
    _dumps: Any = orjson.dumps
except ImportError:  # pragma: no cover
    import json

    _loads = json.loads

    def _dumps(value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":")).encode()


def private_dir(path: Path) -> Path:
    """Create `path` (and parents) if needed and tighten it to 0700; never refuse over its old mode."""
    path.mkdir(parents=True, exist_ok=True)
    if (path.stat().st_mode & 0o777) != 0o700:
        # Not ours to change (a dir owned by someone else, given on purpose): carry on, never refuse.
        with contextlib.suppress(PermissionError):
            os.chmod(path, 0o700)
    return path


def read_json(path: Path) -> Any:
    """The JSON in `path`, or None if it is missing or unreadable (a derived file can always be rebuilt)."""
    try:
        with open(path, "rb") as f:
            return _loads(f.read())
    except (OSError, ValueError):  # JSONDecodeError is a ValueError in both
        return None


def sweep_temp(directory: Path, max_age: float = 60.0) -> int:
    """Delete temp files that `write_bytes` calls killed mid-way left in `directory` (those older than
    `max_age` seconds, so another process's write in progress is left alone); return how many went."""
    removed = 0
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return 0
    cutoff = time.time() - max_age
    for e in entries:
        if not (e.name.startswith(".") and e.name.endswith(".tmp")):
            continue
        with contextlib.suppress(OSError):
            if e.is_file(follow_symlinks=False) and e.stat(follow_symlinks=False).st_mtime < cutoff:
                os.unlink(e.path)
                removed += 1
    return removed


def write_json(path: Path, value: Any) -> None:
    write_bytes(path, _dumps(value))


def write_bytes(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace `path` with `data` atomically (temp file, fsync, rename, directory fsync), with `mode`."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if mode != 0o600:  # mkstemp's own mode
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
