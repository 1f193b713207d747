"""The control channel between the daemon and the CLI: one JSON request and one JSON reply per
connection over a Unix socket in the state dir.

The socket lives in `<state>/run/` (mode 0700) and is itself 0600, so only the owner can talk to the
daemon. The server answers from values the engine has already published, so `status` never waits on
ingestion. Requests: {"cmd": "status"}, {"cmd": "ping"}.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from memory_syncd.errors import DaemonNotRunning, SourceError
from memory_syncd.statefile import private_dir

log = logging.getLogger(__name__)

MAX_REQUEST = 64 * 1024
MAX_CLIENTS = 16  # connections served at once


def socket_path(state_dir: Path) -> Path:
    return state_dir / "run" / "control.sock"


class Server:
    def __init__(self, state_dir: Path, handle: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        self.path = socket_path(state_dir)
        self.handle = handle
        if len(os.fsencode(self.path)) >= 104:  # sun_path is 104 bytes on macOS, 108 on Linux
            raise SourceError(f"state dir path too long for a Unix socket: {self.path} (use a shorter --state-dir)")
        private_dir(self.path.parent)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # a stale socket from a killed daemon; the instance lock says we are the owner
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)  # the socket is born 0600: no window in which others could connect
        try:
            self.sock.bind(str(self.path))
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)
        self.sock.listen(16)
        self.sock.settimeout(0.5)
        self._stop = threading.Event()
        self._slots = threading.BoundedSemaphore(MAX_CLIENTS)
        self.thread = threading.Thread(target=self._serve, name="control", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                continue
            # Each client on its own thread: one that connects and then says nothing must not make
            # everyone else's `status` time out behind it.
            if not self._slots.acquire(blocking=False):
                conn.close()  # that many stuck clients: refuse rather than pile up threads
                continue
            threading.Thread(target=self._client, args=(conn,), name="control-client", daemon=True).start()

    def _client(self, conn: socket.socket) -> None:
        try:
            with conn:
                self._answer(conn)
        except OSError as e:  # timed out or hung up: the client's problem, not ours
            log.debug("control client dropped: %s", e)
        except Exception:  # a bad client never takes the server down
            log.exception("control request failed")
        finally:
            self._slots.release()

    def _answer(self, conn: socket.socket) -> None:
        conn.settimeout(2.0)
        data = b""
        while not data.endswith(b"\n") and len(data) < MAX_REQUEST:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
        try:
            req = json.loads(data or b"{}")
            if not isinstance(req, dict):
                raise ValueError("request is not an object")
            reply = self.handle(req)
        except ValueError as e:
            reply = {"ok": False, "error": f"bad request: {e}"}
        conn.sendall(json.dumps(reply).encode() + b"\n")

    def stop(self) -> None:
        self._stop.set()
        self.sock.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def request(state_dir: Path, req: dict[str, Any], timeout: float = 2.0) -> dict[str, Any]:
    """Send one request to the daemon; raise DaemonNotRunning (with how to start it) if none answers."""
    path = socket_path(state_dir)
    hint = "start it with `memory-syncd run` or `systemctl --user start memory-syncd`"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(str(path))
        s.sendall(json.dumps(req).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except FileNotFoundError:
        raise DaemonNotRunning(f"daemon not running (no socket at {path}); {hint}") from None
    except (ConnectionRefusedError, TimeoutError, OSError) as e:
        raise DaemonNotRunning(f"daemon not answering at {path} ({e}); {hint}") from None
    finally:
        s.close()
    try:
        reply = json.loads(data)
    except ValueError:
        raise DaemonNotRunning(f"daemon at {path} sent an unreadable reply; {hint}") from None
    if not isinstance(reply, dict):
        raise DaemonNotRunning(f"daemon at {path} sent an unexpected reply; {hint}")
    return reply
