"""Opening files and dirs that someone else may have planted or broken, without hanging, without reading
without bound and without following a link where none belongs.

Owns the rules every read of a file memory-syncd does not control goes through (its config and env file,
its state files, OpenClaw's `openclaw.json` and `sessions.json`, memory files):

* `read(path, limit=N)` opens with O_RDONLY|O_NONBLOCK|O_NOFOLLOW|O_CLOEXEC, so a FIFO cannot block the
  open and a final symlink is refused; checks with fstat that it is a regular file (not a FIFO, device,
  socket or dir) of at most `limit` bytes; reads at most `limit` bytes even if it grows meanwhile. It
  returns the bytes, or None when the file does not exist, and raises `Refused` (naming the path and the
  fix; `reason` says which rule) for everything else, including a plain read error.
* `private=True` also demands the file be owned by the effective user and not readable or writable by group
  or others: for files that hold secrets (the env file) or that decide what is written (state files).
* `follow=True` lets the last component be a symlink (to a regular file, still within the cap): for files
  the user names and owns, such as a config kept in a dotfiles repo.
* `open_dir(path)` opens a dir with O_DIRECTORY|O_NOFOLLOW: a symlink or a non-dir in its place is refused.
  Use its descriptor with `dir_fd=` so nothing re-resolves the path afterwards.
* `read_all(fd)` / `write_all(fd, data)`: whole reads (positional, from offset 0) and writes on a
  descriptor already checked, for code that must keep the descriptor (atomic.py).

Only the last component is checked: the dirs above it are the user's (their home, the workspace
OpenClaw was configured with), and a link among them is theirs to make.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from memory_syncd.errors import Refused

__all__ = ["Refused", "check_file", "check_private", "open_dir", "read", "read_all", "refusal", "write_all"]

_READ = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC | os.O_NOFOLLOW
_LINK_ERRNOS = {errno.ELOOP, errno.EMLINK}  # FreeBSD says EMLINK for O_NOFOLLOW on a link


def read(path: Path | str, *, limit: int, dir_fd: int | None = None, follow: bool = False,
         private: bool = False) -> bytes | None:
    """The bytes of the regular file `path` (relative to `dir_fd` if given), or None if it does not exist.

    Raise Refused when it is a symlink (unless `follow`), not a regular file, over `limit` bytes, not ours
    or open to others (with `private`), or cannot be read."""
    flags = _READ if follow else _READ | os.O_NOFOLLOW
    try:
        fd = os.open(path, flags, dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise refusal(path, e) from e
    try:
        st = os.fstat(fd)
        check_file(path, st, limit=limit, private=private)
        return _read_capped(fd, path, limit)
    finally:
        os.close(fd)


def open_dir(path: Path | str, *, dir_fd: int | None = None) -> int:
    """A descriptor on the dir `path`, opened without following a final symlink. Close it yourself.

    Raise FileNotFoundError when it does not exist, Refused when it is a symlink, not a dir, or unreadable."""
    try:
        return os.open(path, _DIR, dir_fd=dir_fd)
    except FileNotFoundError:
        raise
    except OSError as e:
        if e.errno == errno.ENOTDIR and _is_link(path, dir_fd):
            e = OSError(errno.ELOOP, os.strerror(errno.ELOOP))  # some systems say ENOTDIR for a link
        if e.errno == errno.ENOTDIR:
            raise Refused(path, "not_dir", "is not a directory; move it away so a directory can take its "
                                           "place") from e
        raise refusal(path, e) from e


def read_all(fd: int) -> bytes:
    """Everything in `fd`'s file from offset 0 to its end (pread: the file offset is left alone)."""
    chunks, offset = [], 0
    while chunk := os.pread(fd, 1 << 16, offset):
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def write_all(fd: int, data: bytes) -> None:
    """Write all of `data` at `fd`'s offset, however many calls that takes."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def check_file(path: Path | str, st: os.stat_result, *, limit: int, private: bool = False) -> None:
    """Raise Refused unless `st` is a regular file of at most `limit` bytes (and, with `private`, owned by
    the effective user and not readable or writable by group or others)."""
    if not stat.S_ISREG(st.st_mode):
        raise Refused(path, "not_regular", f"is {kind(st.st_mode)}, not a regular file; move it away")
    if st.st_size > limit:
        raise Refused(path, "too_big", f"is {st.st_size} bytes, more than the {limit} this file may have; "
                                       "move it away or shrink it")
    if private:
        check_private(path, st)


def check_private(path: Path | str, st: os.stat_result, *, writable_only: bool = False) -> None:
    """Raise Refused unless `st` is owned by the effective user and closed to others: not writable by group
    or others, and (unless `writable_only`) not readable by them either."""
    me = os.geteuid()
    if st.st_uid != me:
        raise Refused(path, "foreign", f"is owned by uid {st.st_uid}, not by this user (uid {me}); "
                                       "memory-syncd only trusts its own files here: remove it or use another path")
    bits = 0o022 if writable_only else 0o066
    if st.st_mode & bits:
        mode = stat.S_IMODE(st.st_mode)
        fix = "chmod 700" if stat.S_ISDIR(st.st_mode) else "chmod 600"
        what = "writable" if writable_only else "readable or writable"
        raise Refused(path, "exposed", f"is {what} by group or others (mode {mode:04o}); run `{fix} {path}`")


def kind(mode: int) -> str:
    """'a FIFO', 'a directory', … for error messages."""
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISDIR, "a directory"), (stat.S_ISLNK, "a symbolic link"),
                       (stat.S_ISREG, "a regular file")):
        if test(mode):
            return name
    return "not a regular file"


def _read_capped(fd: int, path: Path | str, limit: int) -> bytes:
    chunks, size = [], 0
    while chunk := os.read(fd, min(1 << 20, limit + 1 - size)):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:  # it grew after the fstat (or the size it reports is not the truth, as in /proc)
            raise Refused(path, "too_big", f"is more than the {limit} bytes this file may have; move it away "
                                           "or shrink it")
    return b"".join(chunks)


def refusal(path: Path | str, e: OSError) -> Refused:
    """The Refused for an OSError from opening `path`: "symlink" for O_NOFOLLOW's ELOOP, else "unreadable"."""
    if e.errno in _LINK_ERRNOS:
        return Refused(path, "symlink", "is a symbolic link, which memory-syncd does not follow here; replace "
                                        "it with the real file or remove it")
    return Refused(path, "unreadable", f"cannot be read: {e.strerror or e}")


def _is_link(path: Path | str, dir_fd: int | None) -> bool:
    try:
        return stat.S_ISLNK(os.stat(path, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False
