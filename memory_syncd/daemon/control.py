"""The control channel between the daemon and the CLI: one JSON request and one JSON reply per
connection over a Unix socket in the state dir.

The socket lives in `<state>/run/` (mode 0700) and is itself 0600, so only the owner can talk to the
daemon. The server answers `status` from values the engine has already published, so it never waits on
ingestion. Requests: {"cmd": "status"}, {"cmd": "ping"}, and {"cmd": "compare", ...} (daemon/queries.py:
answered by the engine, waited for at most a few seconds).

Trust, both ways: a client believes only a socket in a state dir of its own (statefile.check_dir), owned by
itself, whose peer (SO_PEERCRED, on Linux) runs as the same user. The server (socketserver's threading
Unix stream server) serves at most MAX_CLIENTS connections at once and gives each CLIENT_DEADLINE seconds
in all, so slow clients cannot hold every slot; it rejects a malformed or absurdly nested request in one
line, refuses to start over a socket another daemon still answers on, and on exit unlinks the socket only
if it is still the one it bound (same inode).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import socketserver
import stat
import struct
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from memory_syncd import config, jsonio
from memory_syncd.errors import AlreadyRunning, ConfigError, DaemonNotRunning, Refused, SourceError
from memory_syncd.statefile import check_dir, private_dir

log = logging.getLogger(__name__)

MAX_REQUEST = 64 * 1024
MAX_CLIENTS = 16  # connections served at once
CLIENT_DEADLINE = 3.0  # seconds a connection may take in all, however it trickles its bytes
POLL_SECONDS = 30.0  # the accept loop's backstop; `stop` wakes it at once with a connection of its own

Handle = Callable[[dict[str, Any]], dict[str, Any]]


def socket_path(state_dir: Path) -> Path:
    return state_dir / "run" / "control.sock"


class Server(socketserver.ThreadingUnixStreamServer):
    """`Server(state_dir, handle)`, then `start()` and, at the end, `stop()`. `handle` gets each request
    object and returns the reply object; it runs on the connection's thread."""

    daemon_threads = True  # a client thread never keeps the process alive
    block_on_close = False  # and `stop` does not wait for slow clients
    request_queue_size = MAX_CLIENTS

    def __init__(self, state_dir: Path, handle: Handle) -> None:
        self.path = socket_path(state_dir)
        self.handle = handle
        if len(os.fsencode(self.path)) >= 104:  # sun_path is 104 bytes on macOS, 108 on Linux
            raise SourceError(f"state dir path too long for a Unix socket: {self.path} (use a shorter --state-dir)")
        private_dir(self.path.parent)
        self._clear_stale()
        self._bound: tuple[int, int] | None = None
        self._slots = threading.BoundedSemaphore(MAX_CLIENTS)
        self._thread = threading.Thread(target=self.serve_forever, args=(POLL_SECONDS,), name="control",
                                        daemon=True)
        super().__init__(str(self.path), _Connection)

    def _clear_stale(self) -> None:
        """Remove a socket a killed daemon left, but never one another daemon still answers on (its lock
        file may have been deleted under it): raise AlreadyRunning then."""
        try:
            st = os.lstat(self.path)
        except FileNotFoundError:
            return
        if stat.S_ISSOCK(st.st_mode):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                probe.settimeout(1.0)
                try:
                    probe.connect(str(self.path))
                except OSError:
                    pass  # nobody listens: stale
                else:
                    raise AlreadyRunning(f"another memory-syncd daemon answers at {self.path} although its "
                                         f"lock file is gone; stop it (`memory-syncd status` shows its pid) "
                                         "before starting another")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    def server_bind(self) -> None:
        old = os.umask(0o177)  # the socket is born 0600: no window in which others could connect
        try:
            super().server_bind()
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)
        st = os.lstat(self.path)
        self._bound = (st.st_dev, st.st_ino)

    def process_request(self, request: Any, client_address: Any) -> None:
        # Each client on its own thread: one that connects and then says nothing must not make everyone
        # else's `status` time out behind it. That many stuck clients: refuse rather than pile up threads.
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.exception("control request failed")  # a bad client never takes the server down

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            stopper = threading.Thread(target=self.shutdown, name="control-stop", daemon=True)
            stopper.start()
            for _ in range(50):  # poke the accept loop until it has seen the shutdown flag
                with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as poke:
                    poke.settimeout(0.5)
                    poke.connect(str(self.path))
                stopper.join(0.1)
                if not stopper.is_alive():
                    break
            stopper.join()
        self.server_close()
        with contextlib.suppress(FileNotFoundError):
            st = os.lstat(self.path)
            if (st.st_dev, st.st_ino) == self._bound:  # not a newer daemon's socket
                os.unlink(self.path)


class _Connection(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        assert isinstance(self.server, Server)
        try:
            self._answer(self.request, self.server.handle)
        except OSError as e:  # timed out or hung up: the client's problem, not ours
            log.debug("control client dropped: %s", e)

    @staticmethod
    def _answer(conn: socket.socket, handle: Handle) -> None:
        deadline = time.monotonic() + CLIENT_DEADLINE
        data = b""
        while not data.endswith(b"\n") and len(data) < MAX_REQUEST:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no complete request within {CLIENT_DEADLINE:g}s")
            conn.settimeout(left)
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
        try:
            req = json.loads(data or b"{}")
            if not isinstance(req, dict):
                raise ValueError("request is not an object")
        except (ValueError, RecursionError) as e:
            why = "nested too deeply" if isinstance(e, RecursionError) else str(e)[:200]
            reply = {"ok": False, "error": f"bad request: {why}"}
        else:
            reply = handle(req)
        conn.settimeout(max(0.1, deadline - time.monotonic()))
        conn.sendall(jsonio.encode(reply) + b"\n")


def status(config_path: Path | None, state_dir: Path | None,
           env: Mapping[str, str]) -> tuple[dict[str, Any], ConfigError | None]:
    """The daemon's status reply, found through the config, with the config's error if it has one: a running
    daemon keeps the config it last loaded, so a file with errors must not hide it. Raise DaemonNotRunning
    if none answers, or that error if the broken file may name another state dir than the one tried."""
    cfg, problem = config.load_despite_errors(config_path, env, {"state_dir": str(state_dir) if state_dir else None})
    where = cfg.resolved_state_dir(env)
    try:
        return request(where, {"cmd": "status"}), problem
    except DaemonNotRunning:
        if problem is None:
            raise
        raise ConfigError(problem.path, [*problem.problems, f"no daemon answers in {where} (fix the file, or "
                                         "pass --state-dir)"]) from None


def request(state_dir: Path, req: dict[str, Any], timeout: float = 2.0) -> dict[str, Any]:
    """Send one request to the daemon; raise DaemonNotRunning (with how to start it) if none answers."""
    path = socket_path(state_dir)
    hint = "start it with `memory-syncd run` or `systemctl --user start memory-syncd`"
    check_dir(state_dir)
    check_dir(path.parent)  # a dir someone else owns may hold someone else's daemon
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(str(path))
        _check_peer(s, path)
        s.sendall(json.dumps(req).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except (FileNotFoundError, NotADirectoryError):
        raise DaemonNotRunning(f"daemon not running (no socket at {path}); {hint}") from None
    except (ConnectionRefusedError, TimeoutError, OSError) as e:
        raise DaemonNotRunning(f"daemon not answering at {path} ({e}); {hint}") from None
    finally:
        s.close()
    try:
        reply = jsonio.loads(data)
    except ValueError:
        raise DaemonNotRunning(f"daemon at {path} sent an unreadable reply; {hint}") from None
    if not isinstance(reply, dict):
        raise DaemonNotRunning(f"daemon at {path} sent an unexpected reply; {hint}")
    return reply


def _check_peer(s: socket.socket, path: Path) -> None:
    """Raise Refused unless the process at the other end runs as us (Linux: SO_PEERCRED; elsewhere the
    0700 run dir of our own, checked before connecting, has to do)."""
    if not sys.platform.startswith("linux"):
        return
    _, uid, _ = struct.unpack("3i", s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
    if uid != os.geteuid():
        raise Refused(path, "foreign", f"is served by uid {uid}, not by this user (uid {os.geteuid()}); that "
                                       "is not our daemon: remove the socket and start memory-syncd again")
