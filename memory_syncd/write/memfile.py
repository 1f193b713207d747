"""The managed block inside a memory file: where it is, what it holds, and writing it without loss.

Owns the bytes between `<!-- memory-syncd:begin -->` and `<!-- memory-syncd:end -->` in
`memory/YYYY-MM-DD.md` (write_mode "inline") or in `memory/YYYY-MM-DD-memory-sync.md` ("separate"), and the
writer lock that keeps the daemon and a one-shot backfill from writing a memory dir at the same time.

Invariants:
* Every byte outside the block stays as it was, in order: notes, OpenClaw dreaming blocks, front matter,
  CRLF line endings, a missing final newline, invalid UTF-8. We work on bytes; only the block is text.
* `splice` is pure and idempotent. `write_block` writes nothing when the bytes would not change. Its writes
  are atomic and merge concurrent writers' bytes instead of dropping them (atomic.py has the mechanics;
  what they cannot prevent is listed at the end).
* Nothing is written through a link: a `memory/` dir or a day file that is a symlink (dangling or not) is
  refused with `Refused` naming it, and that day is not written. The dir is opened with O_NOFOLLOW and
  used by descriptor, so the lock, the reads and the swap all stay inside it.

Layout rules (exact):
* A marker counts only on a line of its own: up to 3 spaces of indent and trailing spaces/tabs are
  allowed (as OpenClaw's own managed blocks allow); a marker inside other text is ordinary text.
* The block is the first end marker that has a begin marker before it, paired with the nearest such begin.
  Any other marker (a begin without end, an end without begin, a second block) is left in place as the
  user's text and logged. With no pair, a new block is appended. So a broken block never makes us delete
  anything; at worst a stale copy stays visible until someone removes it.
* Replacing: from the start of the begin line to the end of the end-marker text; the end line's line
  break, and everything after it, stay as they were.
* Appending to an existing file with no block: if the last line is unterminated we end it (one line
  break), then add one blank line unless the file already ends with one; then the block and a line break.
  A missing or empty (0-byte) file gets `title`, a blank line, the block and a line break.
* Line breaks in the block follow the file: CRLF if the bytes outside the block have more CRLF than bare
  LF line ends (the old block decides if there are none outside), else LF. New files are LF.
* The block text is stored with LF (or CRLF) endings and a final line break. Our own markers and
  OpenClaw's (`<!-- openclaw:...`) inside it are escaped as `&lt;!--`, so quoted transcript text can never
  open or close a block here or confuse OpenClaw's dreaming, which matches its markers as plain substrings.

What can still be lost (the windows atomic.py leaves open; `WritePolicy` holds the bounds):
* atomic.py sees other writers with a Linux read-lease probe: on Linux, for files we own (or with
  CAP_LEASE), on filesystems with leases. Elsewhere an appender holding its descriptor and writing less
  often than `settle_quiet` loses what it writes after our swap, and a busy one can use up the attempts
  (WriteConflict, after its carried bytes are appended at the end, possibly out of order).
* A writer holding the file open past `settle_timeout` loses what it writes after that (it goes to the
  replaced inode). We log a warning; such a holder also delays each write by up to 2 x `settle_timeout`.
* Without RENAME_EXCHANGE (macOS, old kernels, filesystems answering EINVAL) a file someone renames over
  the target between our last stat and our rename is lost: one stat and one rename syscall apart.
* If, in the microseconds between an exchange and our swap-back, a third writer renames a file over ours,
  its file wins and the one we had replaced is dropped, as that rename would have dropped it without us.
* The probe holds a read lease for two syscalls; a writer opening the file then makes the kernel signal
  us. We route that to SIGURG (ignored by default), not SIGIO, whose default action would kill us.
* Hard links to the target are split off; ACLs and xattrs are not copied.
"""

from __future__ import annotations

import datetime
import errno
import fcntl
import logging
import os
import re
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from memory_syncd import safeio
from memory_syncd.errors import MemorySyncError, Refused, WriteConflict
from memory_syncd.write.atomic import TEMP_NAME, WritePolicy, WriteResult, replace

__all__ = ["BEGIN", "END", "LOCK_NAME", "WRITE_MODES", "WritePolicy", "WriteResult", "extract", "splice",
           "sweep", "target_path", "write_block", "writer_lock"]

log = logging.getLogger(__name__)

BEGIN = "<!-- memory-syncd:begin -->"
END = "<!-- memory-syncd:end -->"
WRITE_MODES = ("inline", "separate")
LOCK_NAME = ".memory-syncd.lock"
MAX_READ = WritePolicy().max_bytes  # a memory file bigger than this is refused, not read

_MARKER = re.compile(rb"^ {0,3}<!-- memory-syncd:(begin|end) -->[ \t]*(?=\r?$)", re.MULTILINE)
_FOREIGN = re.compile(r"<!--(?=\s*(?:memory-syncd|openclaw):)")


@dataclass(frozen=True)
class _Block:
    start: int  # start of the begin marker's line
    body: int  # just after the begin line's line break
    body_end: int  # start of the end marker's line
    end: int  # just after the end marker's text (its line break is not ours)


def target_path(memory_dir: Path, day: datetime.date, write_mode: str) -> Path:
    """The file `day`'s block goes to. Raise ValueError for an unknown mode (config validates it first)."""
    if write_mode == "inline":
        return memory_dir / f"{day.isoformat()}.md"
    if write_mode == "separate":
        return memory_dir / f"{day.isoformat()}-memory-sync.md"
    raise ValueError(f"write_mode must be one of {WRITE_MODES}, not {write_mode!r}")


def splice(existing: bytes | None, block: str, title: str) -> bytes:
    """`existing` with its managed block set to `block` (added if missing; see the module doc's rules)."""
    if not existing:
        head = title.rstrip("\r\n").encode("utf-8", "replace")
        return (head + b"\n\n" if head else b"") + _region(block, b"\n") + b"\n"
    found, _ = _scan(existing)
    if found is None:
        eol = _eol(existing)
        return existing + _separator(existing, eol) + _region(block, eol) + eol
    outside = existing[:found.start] + existing[found.end:]
    eol = _eol(outside if b"\n" in outside else existing)
    return existing[:found.start] + _region(block, eol) + existing[found.end:]


def extract(existing: bytes) -> str | None:
    """The block's text as `splice` stored it (LF line ends), or None when the file has no block."""
    found, _ = _scan(existing)
    if found is None:
        return None
    return existing[found.body:found.body_end].decode("utf-8", "replace").replace("\r\n", "\n")


def write_block(path: Path, block: str, *, title: str, policy: WritePolicy | None = None) -> WriteResult:
    """Set the managed block of `path` to `block`, creating the file (with `title`) and its directory
    (`memory/`, not its parents) if needed. UNCHANGED writes nothing.

    Raise WriteConflict when the file keeps changing under us, MemorySyncError when it cannot be written.
    """
    os.close(_make_dir(path.parent))
    last: list[bytes | None] = [None]

    def build(existing: bytes | None) -> bytes:
        last[0] = existing
        return splice(existing, block, title)

    result = replace(path, build, policy)
    # Judged on what we finally built from: a read that caught another writer midway may look broken.
    strays = _scan(last[0])[1] if last[0] else 0
    if strays:
        log.warning("%s: %d unpaired memory-syncd marker line(s) left as they are; delete them by hand if they "
                    "are stale", path, strays)
    return result


@contextmanager
def writer_lock(memory_dir: Path, timeout: float) -> Iterator[None]:
    """Hold the memory dir's writer lock (flock on `memory_dir/.memory-syncd.lock`) for the `with` body.

    Only memory-syncd processes take it: the daemon and `backfill` never write the same dir at once. It is
    per open file, so a second `writer_lock` in the same process waits too. Raise WriteConflict, naming the
    lock file and its holder's pid, when it is not free within `timeout` seconds.
    """
    dfd = _make_dir(memory_dir)
    lock = memory_dir / LOCK_NAME
    deadline = time.monotonic() + timeout
    delay = 0.005
    try:
        while True:
            fd = _open_lock(lock, dfd)
            try:
                if _try_lock(fd, dfd):
                    break
            except BaseException:
                os.close(fd)
                raise
            holder = _holder(fd)
            os.close(fd)
            left = deadline - time.monotonic()
            if left <= 0:
                raise WriteConflict(f"{lock} is held by another memory-syncd writer{holder} for over "
                                    f"{timeout:g}s; wait for it (a backfill?) to finish, then try again")
            time.sleep(min(delay, left))
            delay = min(delay * 2, 0.1)
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
    finally:
        os.close(dfd)


def sweep(memory_dir: Path) -> list[Path]:
    """Clean up temp files a crashed writer left in `memory_dir`; return the conflict copies made.

    A leftover whose lines (outside our block and the day's title we write) all still appear in its target
    is deleted, whatever pid it names (ours too: a predecessor that had it, as PID 1 in a container). Otherwise it
    may hold someone's bytes that never made it into the target, so it is renamed to
    `<name>.memory-syncd-conflict-<time>` (not `.md`, so OpenClaw does not index it) and logged. Run it at
    start-up, under the writer lock.
    """
    try:
        dfd = safeio.open_dir(memory_dir)
    except FileNotFoundError:
        return []
    try:
        return [memory_dir / name for name in _sweep(memory_dir, dfd)]
    finally:
        os.close(dfd)


def _sweep(memory_dir: Path, dfd: int) -> list[str]:
    kept = []
    for name in sorted(os.listdir(dfd)):
        m = TEMP_NAME.match(name)
        if not m or _alive(int(m["pid"])):
            continue
        try:
            current = safeio.read(m["name"], limit=MAX_READ, dir_fd=dfd) or b""
            st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
            extra = _lines(safeio.read(name, limit=MAX_READ, dir_fd=dfd) or b"") - _lines(current)
            day = MEMORY_FILE.match(m["name"])
            if day is not None:  # the title a killed create of this day's file wrote is ours, not someone's
                from memory_syncd.content.render import title  # here: `compare` imports this module

                extra.pop(title(day[1]).encode(), None)
            if extra:
                stamp = time.strftime("%Y%m%dT%H%M%S", time.localtime(st.st_mtime))
                copy = f"{m['name']}.memory-syncd-conflict-{stamp}"
                os.rename(name, copy, src_dir_fd=dfd, dst_dir_fd=dfd)
                kept.append(copy)
                log.warning("%s: kept bytes a crashed write left behind in %s; merge them by hand",
                            memory_dir / m["name"], memory_dir / copy)
            else:
                os.unlink(name, dir_fd=dfd)
        except (OSError, MemorySyncError) as e:
            log.warning("cannot clean up %s: %s", memory_dir / name, getattr(e, "strerror", None) or e)
    return kept


def _scan(data: bytes) -> tuple[_Block | None, int]:
    """The block (see the pairing rule) and how many other marker lines there are."""
    markers = list(_MARKER.finditer(data))
    begin = None
    for m in markers:
        if m[1] == b"begin":
            begin = m
        elif begin is not None:
            line_end = data.index(b"\n", begin.end())  # exists: an end marker comes after it
            return _Block(begin.start(), line_end + 1, m.start(), m.end()), len(markers) - 2
    return None, len(markers)


def _region(block: str, eol: bytes) -> bytes:
    text = _FOREIGN.sub("&lt;!--", block.replace("\r\n", "\n"))
    if text and not text.endswith("\n"):
        text += "\n"
    return f"{BEGIN}\n{text}{END}".encode("utf-8", "replace").replace(b"\n", eol)


def _eol(data: bytes) -> bytes:
    crlf = data.count(b"\r\n")
    return b"\r\n" if crlf > data.count(b"\n") - crlf else b"\n"


def _separator(existing: bytes, eol: bytes) -> bytes:
    """What goes between a file's last byte and an appended block."""
    if not existing.endswith(b"\n"):
        return eol + eol  # end the user's last line, then a blank line
    if existing in (b"\n", b"\r\n") or existing.endswith((b"\n\n", b"\n\r\n")):
        return b""  # already ends with a blank line
    return eol


def _lines(data: bytes) -> Counter[bytes]:
    found, _ = _scan(data)
    if found is not None:
        data = data[:found.start] + data[found.end:]
    return Counter(line.rstrip(b"\r") for line in data.split(b"\n") if line.strip())


def _make_dir(memory_dir: Path) -> int:
    """Create `memory_dir` if needed (not its parents) and open it without following a link: a `memory/`
    that is a symlink is refused, so nothing is ever written outside the workspace through it."""
    try:
        os.mkdir(memory_dir)
    except FileExistsError:
        pass  # a dir, or a link or file in its place: open_dir tells
    except OSError as e:
        hint = f"; does {memory_dir.parent} exist?" if e.errno == errno.ENOENT else ""
        raise MemorySyncError(f"cannot create {memory_dir}: {e.strerror}{hint}") from e
    try:
        return safeio.open_dir(memory_dir)
    except Refused as e:
        if e.reason == "symlink":
            raise Refused(memory_dir, "symlink", "is a symbolic link; memory-syncd writes only into a real "
                                                 "memory dir inside the workspace: replace the link with a "
                                                 "directory") from e
        raise
    except OSError as e:
        raise MemorySyncError(f"cannot open {memory_dir}: {e.strerror}") from e


def _open_lock(lock: Path, dfd: int) -> int:
    try:
        return os.open(LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600, dir_fd=dfd)
    except OSError as e:
        raise MemorySyncError(f"cannot open the writer lock {lock}: {e.strerror}") from e


def _try_lock(fd: int, dfd: int) -> bool:
    """Lock `fd`; True if we hold the lock on the file that is at LOCK_NAME in `dfd` now."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    try:
        same = os.path.samestat(os.fstat(fd), os.stat(LOCK_NAME, dir_fd=dfd, follow_symlinks=False))
    except FileNotFoundError:
        same = False
    if not same:  # someone deleted or replaced the lock file: a lock on the old one excludes nobody
        fcntl.flock(fd, fcntl.LOCK_UN)
    return same


def _holder(fd: int) -> str:
    pid = os.pread(fd, 32, 0).strip()
    return f" (pid {pid.decode()})" if pid.isdigit() else ""


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        # Not a write of ours in progress: they all hold the writer lock, which the sweep holds. A crashed
        # predecessor that had our pid (PID 1 in a container) left it.
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's, and running
    return True


# Memory files of a day: `YYYY-MM-DD.md` and OpenClaw's slugged `YYYY-MM-DD-<slug>.md` (session-memory hook).
MEMORY_FILE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:-[^/]+)?\.md$")


def memory_bytes(memory_dir: Path) -> dict[date, int]:
    """Bytes of memory per day: `YYYY-MM-DD.md` plus its slugged `YYYY-MM-DD-<slug>.md` companions."""
    out: Counter[date] = Counter()
    try:
        entries = list(os.scandir(memory_dir))
    except (FileNotFoundError, NotADirectoryError):
        return {}
    for e in entries:
        m = MEMORY_FILE.match(e.name)
        if not m:
            continue
        try:
            day = date.fromisoformat(m.group(1))
            if e.is_file():
                out[day] += e.stat().st_size
        except (ValueError, OSError):
            continue
    return dict(out)
