"""The daemon as a process: one instance per state dir, sd_notify to the service manager, the glibc
heap (how many malloc arenas, handing freed memory back), and waking the main thread from signal handlers.

Plain functions, one lock class and one wake-up pipe; no threads of their own. What needs the platform
degrades to a no-op where it is missing (no NOTIFY_SOCKET, no glibc).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import fcntl
import gc
import logging
import os
import selectors
import signal
import socket
from collections.abc import Mapping
from pathlib import Path

from memory_syncd import safeio
from memory_syncd.errors import AlreadyRunning, Refused

log = logging.getLogger(__name__)


def notify(message: str, env: Mapping[str, str] | None = None) -> bool:
    """Send one sd_notify datagram (READY=1, STATUS=…, WATCHDOG=1, STOPPING=1) if NOTIFY_SOCKET is set."""
    addr = (env or os.environ).get("NOTIFY_SOCKET")
    if not addr:
        return False
    target = "\0" + addr[1:] if addr.startswith("@") else addr
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.connect(target)
            s.sendall(message.encode())
    except OSError as e:
        log.debug("sd_notify failed: %s", e)
        return False
    return True


def watchdog_usec(env: Mapping[str, str]) -> int:
    """systemd's watchdog interval (µs), or 0 if there is none for us (sd_watchdog_enabled(3): WATCHDOG_PID,
    when set, must be our pid)."""
    try:
        usec = int(env.get("WATCHDOG_USEC", "0") or 0)
        pid = int(env.get("WATCHDOG_PID", "0") or 0)
    except ValueError:
        return 0
    return usec if usec > 0 and pid in (0, os.getpid()) else 0


def limit_malloc_arenas() -> None:
    """Keep glibc to two malloc arenas. Otherwise the engine thread parses into an arena of its own whose
    freed pages `malloc_trim` mostly cannot return (measured on 500 MB of history: RSS 106 -> 77 MiB).
    Must run before the threads start; a no-op without glibc."""
    with contextlib.suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(ctypes.util.find_library("c")).mallopt(-8, 2)  # -8 is M_ARENA_MAX


def release_memory() -> None:
    """Return freed heap to the OS. Parsing a 20 MB transcript line leaves glibc's heap at its high-water
    mark, which would otherwise stay in the daemon's RSS for good; a no-op where there is no glibc."""
    gc.collect()
    name = ctypes.util.find_library("c")
    with contextlib.suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(name).malloc_trim(0)


class InstanceLock:
    """One daemon per state dir: an flock on `<state>/daemon.lock`, released by the kernel if we die."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / "daemon.lock"
        # No O_TRUNC, no following a link: a planted link must not make us overwrite its target.
        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK,
                              0o600)
        except OSError as e:
            raise safeio.refusal(self.path, e) from e
        try:
            safeio.check_file(self.path, os.fstat(self.fd), limit=4096, private=True)
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except Refused:
            os.close(self.fd)
            raise
        except BlockingIOError:
            pid = os.pread(self.fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(self.fd)
            raise AlreadyRunning(f"already running (pid {pid}) for state dir {state_dir}") from None
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, f"{os.getpid()}\n".encode(), 0)

    def release(self) -> None:
        with contextlib.suppress(OSError):
            os.ftruncate(self.fd, 0)
        os.close(self.fd)


class Wakeup:
    """Wakes the main thread from any thread or a signal handler: a byte written to a non-blocking pipe, so
    setting it takes no lock (a handler that took a lock the interrupted main thread held would deadlock it).
    `wait` returns once a byte is there (or at the timeout) and empties the pipe. With `catch_signals`, every
    signal writes one too, from the C-level handler: the kernel may hand a process signal to any thread, and
    only one the main thread receives itself cuts its wait short (then its Python handler runs)."""

    def __init__(self) -> None:
        self._read, self._write = os.pipe()  # not inherited by child processes (PEP 446)
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._read, selectors.EVENT_READ)
        self._signals = False

    def catch_signals(self) -> None:
        """Main thread only."""
        signal.set_wakeup_fd(self._write, warn_on_full_buffer=False)
        self._signals = True

    def set(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):  # full: a wake-up is pending; closed: stopped
            os.write(self._write, b"\0")

    def wait(self, timeout: float) -> None:
        self._selector.select(timeout)
        with contextlib.suppress(BlockingIOError, OSError):
            while os.read(self._read, 4096):
                pass

    def close(self) -> None:
        """Close the reading end. The writing end stays open: a thread still running could otherwise write
        its byte into whatever file is opened next under the same number (a late `set` now fails quietly)."""
        if self._signals:
            signal.set_wakeup_fd(-1)
            self._signals = False
        self._selector.close()
        with contextlib.suppress(OSError):
            os.close(self._read)
