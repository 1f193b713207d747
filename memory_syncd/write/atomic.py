"""Loss-free atomic replacement of a file that other programs write without any lock.

Owns `replace(path, build, policy)`: read the file, compute its new bytes with `build`, put them in place
atomically, and lose nothing anyone else wrote meanwhile (OpenClaw's agent, its memory flush, inline
dreaming and people all write day files without a lock).

Invariants:
* Readers see the whole old file or the whole new one: temp file beside the target (created 0600, then
  given the target's mode and, where allowed, owner), fsync, one rename, fsync of the directory. When
  `build` returns the bytes already there, nothing is written (same inode, same mtime).
* Nothing is written through a link: the directory is opened with O_NOFOLLOW and used by descriptor from
  then on, and a target that is a symlink (dangling or not), a FIFO, a device or bigger than
  `policy.max_bytes` is refused (`Refused`, naming it) before anything is written.
* Other writers' bytes are not dropped:
  - we swap when nobody has the file open for writing (Linux read-lease probe; after `settle_timeout` we
    swap anyway) and only if (dev, inode, size, mtime_ns, ctime_ns) still match what we read;
  - on Linux the swap is renameat2(RENAME_EXCHANGE), which leaves the replaced file on the temp name. If
    that is not the file we read, as we read it (an append, a rewrite or an editor's rename in the
    microseconds before the swap), we swap it back at once and start over from it;
  - then, once nobody writes to it (without the probe: unchanged for `settle_quiet`), we read the
    replaced file through our open descriptor. Bytes an O_APPEND descriptor added across the swap are
    merged right after what we read, and we swap again; a whole rewrite becomes the base instead;
  - after `attempts` rounds we give up with WriteConflict, first appending any carried bytes at the end
    (their order may be off; nothing is lost).
* A crash leaves `.<name>.memory-syncd.<pid>.<hex>.tmp` files; memfile.sweep clears them without loss.
The windows that remain are listed in memfile's module doc, next to the API they limit.
"""

from __future__ import annotations

import contextlib
import ctypes
import enum
import errno
import fcntl
import functools
import logging
import os
import random
import re
import secrets
import signal
import stat
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from memory_syncd import safeio
from memory_syncd.errors import MemorySyncError, WriteConflict

log = logging.getLogger(__name__)

# The temp files we leave behind on a crash; memfile.sweep finds them by this.
TEMP_NAME = re.compile(r"^\.(?P<name>.+)\.memory-syncd\.(?P<pid>\d+)\.[0-9a-f]+\.tmp$")
_RENAME_EXCHANGE = 2
_NO_EXCHANGE = {errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP}
_NO_LINK = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EMLINK}
_OPEN_READ = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOFOLLOW  # NONBLOCK: a FIFO must not hang us


class WriteResult(enum.Enum):
    UNCHANGED = "unchanged"
    CREATED = "created"
    UPDATED = "updated"


@dataclass(frozen=True)
class WritePolicy:
    """Bounds for one `replace`. The defaults suit the daemon; tests shorten them or turn features off."""

    attempts: int = 40  # read-merge-swap rounds before WriteConflict (a busy 2-core box needs many)
    settle_timeout: float = 1.0  # longest wait for another writer to close the file (before and after)
    settle_quiet: float = 0.05  # without the lease probe: how long a replaced file must stop changing
    exchange: bool = True  # use renameat2(RENAME_EXCHANGE) where the system has it
    leases: bool = True  # use the read-lease probe to see other writers (Linux)
    max_bytes: int = 64 * 1024 * 1024  # a bigger target is refused, not read into memory


@dataclass(frozen=True)
class _Seen:  # a read-only descriptor on the file, what we read through it, and its fstat after that
    fd: int
    data: bytes
    st: os.stat_result

    @classmethod
    def read(cls, fd: int) -> _Seen:
        data = safeio.read_all(fd)
        return cls(fd, data, os.fstat(fd))


def replace(path: Path, build: Callable[[bytes | None], bytes], policy: WritePolicy | None = None) -> WriteResult:
    """Replace `path` with `build(its bytes, or None)`, merging concurrent writes (see the module doc).
    `build` must be pure and idempotent: it is called again on merged bytes. Raise WriteConflict when the file
    keeps changing for `policy.attempts` rounds, Refused when it or its directory is a symlink or not what it
    should be, MemorySyncError (naming the file) for any other failure."""
    try:
        dfd = safeio.open_dir(path.parent)
    except OSError as e:
        raise MemorySyncError(f"cannot open directory {path.parent}: {e.strerror}") from e
    try:
        return _Replace(path, dfd, build, policy or WritePolicy()).run()
    except OSError as e:
        raise MemorySyncError(f"cannot write {path}: {e.strerror or e}") from e
    finally:
        os.close(dfd)


class _Replace:
    """One `replace` call: the read-merge-swap loop and what it carries between rounds."""

    def __init__(self, real: Path, dfd: int, build: Callable[[bytes | None], bytes], policy: WritePolicy) -> None:
        self.real, self.dfd, self.name = real, dfd, real.name
        self.build, self.policy = build, policy
        self.published: bytes | None = None  # the bytes we last put in place
        self.base = b""  # what to rebase on while the file still starts with `published`
        self.carry = b""  # bytes a replaced file got after we read it; not in place yet
        self.result = WriteResult.UNCHANGED
        self.leftovers: list[str] = []  # temp names holding replaced files, deleted once all is in place
        self.exchange = policy.exchange

    def run(self) -> WriteResult:
        for attempt in range(self.policy.attempts):
            if attempt:  # jitter, so as not to run in lockstep with a periodic writer
                time.sleep(random.uniform(0.5, 1.0) * min(0.003 * attempt, 0.05))
            seen = self._open()
            try:
                if self._attempt(seen):
                    break
            finally:
                if seen is not None:
                    os.close(seen.fd)
        else:
            rescued = f" {len(self.carry)} bytes another program wrote were appended at its end." * bool(self.carry)
            if self.carry:
                _append(self.dfd, self.name, self.carry)
            self._finish()
            raise WriteConflict(f"{self.real} kept changing while memory-syncd rewrote its block; gave up after "
                                f"{self.policy.attempts} attempts.{rescued} The next sync tries again.")
        self._finish()
        return self.result

    def _open(self) -> _Seen | None:
        try:
            fd = os.open(self.name, _OPEN_READ, dir_fd=self.dfd)
        except FileNotFoundError:
            return None
        except OSError as e:
            raise safeio.refusal(self.real, e) from e  # O_NOFOLLOW met a link (dangling or not), or EACCES
        try:
            safeio.check_file(self.real, os.fstat(fd), limit=self.policy.max_bytes)
            return _Seen.read(fd)
        except BaseException:
            os.close(fd)
            raise

    def _attempt(self, seen: _Seen | None) -> bool:
        """One round; True when done. The caller closes `seen`."""
        if seen is None:
            return self._create()
        want, carried = self._want(seen.data)
        if want == seen.data:
            return True
        if not _settle(seen.fd, self.policy, 0.0):
            log.warning("%s: another process keeps it open for writing; replacing it anyway", self.real)
        if _sig(os.fstat(seen.fd)) != _sig(seen.st):
            seen = _Seen.read(seen.fd)  # it changed while we waited for its writer: start from what it wrote
            want, carried = self._want(seen.data)
            if want == seen.data:
                return True
        if len(seen.data) != seen.st.st_size:
            return False  # we read while someone was writing: read again
        tmp, mine = _write_temp(self.dfd, self.name, want, seen.st)
        try:
            if not self._unchanged(seen):
                log.debug("%s changed before the swap; reading it again", self.real)
                _unlink(self.dfd, tmp)
                return False
            swapped = self.exchange and _exchange(self.dfd, tmp, self.name)
            if not swapped:
                os.rename(tmp, self.name, src_dir_fd=self.dfd, dst_dir_fd=self.dfd)
        except FileNotFoundError:
            _unlink(self.dfd, tmp)
            return False  # it vanished between our stat and the swap
        except BaseException:
            _unlink(self.dfd, tmp)
            raise
        if swapped and not self._kept(seen, tmp, mine, want):
            return False
        self.exchange = swapped
        self.result = WriteResult.UPDATED
        self.published = self.base = want
        got = self._settled(seen.fd)
        if got == seen.data:
            self.carry = b""
            return True
        log.debug("%s changed through an open descriptor after the swap; merging", self.real)
        if got.startswith(seen.data):
            self.carry = got[len(seen.data):]
        else:
            # Rewritten whole: their bytes are the base now; `carried` (from a file they never saw) still goes in.
            self.base, self.carry = got, carried
        return False

    def _create(self) -> bool:
        want, _ = self._want(None)
        tmp, _ = _write_temp(self.dfd, self.name, want, None)
        try:
            created = self._unchanged(None) and _create(self.dfd, tmp, self.name)
        finally:
            _unlink(self.dfd, tmp)
        if created and self.result is WriteResult.UNCHANGED:
            self.result = WriteResult.CREATED
        return created

    def _want(self, current: bytes | None) -> tuple[bytes, bytes]:
        """The bytes to publish for what we read, and the carried bytes they include."""
        if self.published is not None and current is not None and current.startswith(self.published):
            return self.build(self.base + self.carry + current[len(self.published):]), self.carry
        if current is None and not self.carry:
            return self.build(None), b""
        return self.build((current or b"") + self.carry), self.carry

    def _unchanged(self, seen: _Seen | None) -> bool:
        try:
            st = os.stat(self.name, dir_fd=self.dfd, follow_symlinks=False)
        except FileNotFoundError:
            return seen is None
        return seen is not None and _sig(st) == _sig(seen.st)

    def _kept(self, seen: _Seen, tmp: str, mine: os.stat_result, want: bytes) -> bool:
        """After an exchange: True if we replaced the file we read, as we read it. Otherwise swap back at
        once, so nobody reads (and saves over) a file that lacks what the other writer just put there."""
        st = os.stat(tmp, dir_fd=self.dfd, follow_symlinks=False)
        # Not ctime: the exchange itself sets it. A same-size, same-tick rewrite is caught by `_settled`.
        if ((st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
                == (seen.st.st_dev, seen.st.st_ino, seen.st.st_size, seen.st.st_mtime_ns)):
            self.leftovers.append(tmp)
            return True
        log.debug("%s changed during the swap; putting it back", self.real)
        try:
            _exchange(self.dfd, tmp, self.name)
        except FileNotFoundError:  # our file was deleted meanwhile: only theirs goes back
            os.rename(tmp, self.name, src_dir_fd=self.dfd, dst_dir_fd=self.dfd)
            return False
        st = os.stat(tmp, dir_fd=self.dfd, follow_symlinks=False)
        if (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino):
            # what was appended to ours in the microseconds it was visible
            extra = (safeio.read(tmp, limit=2 * self.policy.max_bytes, dir_fd=self.dfd) or b"")[len(want):]
            if extra:
                _append(self.dfd, self.name, extra)
        else:
            _exchange(self.dfd, tmp, self.name)  # a newer file was renamed over ours meanwhile: it wins
        _unlink(self.dfd, tmp)
        return False

    def _settled(self, fd: int) -> bytes:
        if not _settle(fd, self.policy, self.policy.settle_quiet):
            log.warning("%s: a process still writes to the copy we replaced after %.1fs; what it writes from "
                        "now on is lost", self.real, self.policy.settle_timeout)
        return safeio.read_all(fd)

    def _finish(self) -> None:
        for tmp in self.leftovers:
            _unlink(self.dfd, tmp)
        if self.result is not WriteResult.UNCHANGED or self.leftovers:
            os.fsync(self.dfd)


def _append(dfd: int, name: str, data: bytes) -> None:
    """Append with O_APPEND, as the writers we carry bytes for did: racing appends are not overwritten."""
    fd = os.open(name, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o666, dir_fd=dfd)
    try:
        safeio.write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _sig(st: os.stat_result) -> tuple[int, int, int, int, int]:
    # ctime as well: mtime can be set back (touch -d, rsync -t), ctime cannot.
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _write_temp(dfd: int, name: str, data: bytes, like: os.stat_result | None) -> tuple[str, os.stat_result]:
    """A fsynced temp file beside `name` holding `data`, with the mode and owner of `like`; and its fstat."""
    tmp = f".{name[:120]}.memory-syncd.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    # A new file gets 0666 less the umask (and default ACLs), as any editor's would. A replacement starts at
    # 0600 so that a 0640 file's bytes are never readable by others, even briefly.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW
    fd = os.open(tmp, flags, 0o666 if like is None else 0o600, dir_fd=dfd)
    try:
        safeio.write_all(fd, data)
        if like is not None:
            _copy_owner_and_mode(fd, like)
        os.fsync(fd)
        return tmp, os.fstat(fd)
    except BaseException:
        _unlink(dfd, tmp)
        raise
    finally:
        os.close(fd)


def _copy_owner_and_mode(fd: int, like: os.stat_result) -> None:
    mine = os.fstat(fd)
    if (mine.st_uid, mine.st_gid) != (like.st_uid, like.st_gid):
        try:
            os.fchown(fd, like.st_uid, like.st_gid)
        except PermissionError:  # an unprivileged owner may still set a group it belongs to
            with contextlib.suppress(PermissionError):
                os.fchown(fd, -1, like.st_gid)
    os.fchmod(fd, stat.S_IMODE(like.st_mode))  # after chown, which clears set-id bits


def _create(dfd: int, tmp: str, name: str) -> bool:
    """Put `tmp` at `name` too, unless `name` exists. False if someone created it first."""
    try:
        os.link(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd, follow_symlinks=False)
    except FileExistsError:
        return False
    except OSError as e:
        if e.errno not in _NO_LINK:
            raise
        with contextlib.suppress(FileNotFoundError):  # no hard links here (some FUSE/SMB mounts)
            os.stat(name, dir_fd=dfd, follow_symlinks=False)
            return False
        os.rename(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)  # check-then-rename, with its window
    return True


@functools.cache  # look libc up once, not on every swap
def _renameat2() -> Callable[[int, bytes, int, bytes, int], int] | None:
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2  # Linux: glibc >= 2.28, recent musl
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return cast("Callable[[int, bytes, int, bytes, int], int]", fn)


def _exchange(dfd: int, a: str, b: str) -> bool:
    """Swap the names `a` and `b` atomically. False if this system or filesystem cannot."""
    fn = _renameat2()
    if fn is None:
        return False
    if fn(dfd, os.fsencode(a), dfd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in _NO_EXCHANGE:
        return False
    raise OSError(err, os.strerror(err), b)


def _other_writers(fd: int, policy: WritePolicy) -> bool | None:
    """Whether any process has this file open for writing; None when we cannot tell.

    Linux refuses a read lease (EAGAIN) while the inode is open for writing anywhere; we take one and drop
    it at once. Should someone open the file for writing in between, the kernel signals us: SIGIO, whose
    default kills, unless F_SETSIG says otherwise. Dropping a lease resets that, so we set it every time.
    """
    if not policy.leases or not sys.platform.startswith("linux"):
        return None
    try:
        fcntl.fcntl(fd, fcntl.F_SETSIG, signal.SIGURG)
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_RDLCK)
    except OSError as e:
        return True if e.errno == errno.EAGAIN else None  # EACCES (not ours), EINVAL (fs/sysctl): unknown
    fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)
    return False


def _settle(fd: int, policy: WritePolicy, quiet: float) -> bool:
    """Wait until no one else has `fd`'s file open for writing or, if that cannot be seen, until it has not
    changed for `quiet` seconds. False if `policy.settle_timeout` passed first."""
    start = quiet_since = time.monotonic()
    last = _sig(os.fstat(fd))
    while True:
        writers = _other_writers(fd, policy)
        now = time.monotonic()
        if writers is False:
            return True
        if writers is None:
            sig = _sig(os.fstat(fd))
            if sig != last:
                last, quiet_since = sig, now
            elif now - quiet_since >= quiet:
                return True
        if now - start >= policy.settle_timeout:
            return False
        time.sleep(0.0005)


def _unlink(dfd: int, name: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(name, dir_fd=dfd)

