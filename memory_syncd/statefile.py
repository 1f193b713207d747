"""memory-syncd's own state dir: private directories and atomically replaced JSON files.

Everything kept here is derived (caches, checkpoints, summary records) and holds no transcript text, so
losing it costs time, never data. Writes are temp file + fsync + rename + directory fsync, so a crash
leaves either the old or the new file, never a torn one.

Trust: the state dir decides what reaches memory files (summary records) and who answers `status` (the
control socket), so only a dir of our own is used. `private_dir` refuses (`Refused`, exit 78) a path that is
a symlink, not a dir, owned by another user, or writable by group or others; our own dir that others may
only read is tightened to 0700. `read_json` reads only regular files of our own that others cannot read or
write; anything else reads as missing (logged), as a corrupt cache does.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import tempfile
import time
from pathlib import Path
from typing import Any

from memory_syncd import jsonio, safeio
from memory_syncd.errors import Refused

log = logging.getLogger(__name__)

MAX_STATE_FILE = 512 * 1024 * 1024  # caches of years of history stay far below this


def private_dir(path: Path) -> Path:
    """Create `path` (mode 0700; missing parents as usual) if needed, or check the dir that is there, and
    tighten it to 0700. Raise Refused when it is a symlink, not a dir, not ours, or writable by others, and
    OSError when it cannot be created (callers for whom the state dir is optional carry on without it)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:  # other OSErrors (a file in the way above it, EACCES) reach the caller as they are
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):  # someone else's mkdir won the race: checked below
            os.mkdir(path, 0o700)
        st = os.lstat(path)
    check_dir(path, st)
    if stat.S_IMODE(st.st_mode) != 0o700:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            os.fchmod(fd, 0o700)
        finally:
            os.close(fd)
    return path


def check_dir(path: Path, st: os.stat_result | None = None) -> None:
    """Raise Refused unless `path` (lstat `st`) is a real dir, ours, and not writable by group or others.
    A missing `path` passes: `private_dir` creates it."""
    if st is None:
        try:
            st = os.lstat(path)
        except OSError:  # missing, a file above it, no access: nothing there to trust or distrust, and
            return  # creating or using it fails with an OSError of its own
    if stat.S_ISLNK(st.st_mode):
        raise Refused(path, "symlink", "is a symbolic link; memory-syncd only uses a real state dir of its "
                                       "own: remove the link or point --state-dir at the real dir")
    if not stat.S_ISDIR(st.st_mode):
        raise Refused(path, "not_dir", f"is {safeio.kind(st.st_mode)}, not a directory; move it away or "
                                       "choose another --state-dir")
    safeio.check_private(path, st, writable_only=True)


def read_json(path: Path) -> Any:
    """The JSON in `path`, or None if it is missing, unreadable or not to be trusted (a symlink, not a
    regular file, not ours, open to others): a derived file can always be rebuilt."""
    try:
        data = safeio.read(path, limit=MAX_STATE_FILE, private=True)
    except Refused as e:
        if e.reason != "unreadable":
            log.warning("ignoring state file %s", e)
        return None
    if data is None:
        return None
    try:
        return jsonio.loads(data)
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError in both
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
    write_bytes(path, jsonio.dumps(value))


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
