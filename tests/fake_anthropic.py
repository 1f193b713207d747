"""A small fake of the Anthropic Messages API on 127.0.0.1, for driving the real `anthropic` SDK in tests.

It records every request (path, headers, raw body, parsed JSON) and answers from a script: each queued
`Reply` is used once, in order; when the queue is empty, `default` answers (a 200 message by default).
A reply can be an error status with retry headers, or be delayed; delays end early when the server stops,
so a test never waits on a sleeping handler at teardown.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 429: "rate_limit_error",
               500: "api_error", 529: "overloaded_error"}


@dataclass(frozen=True)
class Reply:
    status: int = 200
    text: str | Callable[[dict[str, Any]], str] = "A quiet day."  # a callable gets the request JSON
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    raw: bytes | None = None  # send these bytes as the body instead


def ok(text: str | Callable[[dict[str, Any]], str] = "A quiet day.", *, delay: float = 0.0) -> Reply:
    return Reply(200, text, delay=delay)


def overloaded(retry_after_ms: int = 10) -> Reply:
    return Reply(529, "Overloaded", {"retry-after-ms": str(retry_after_ms)})


def rate_limited(retry_after: str = "0.01") -> Reply:
    return Reply(429, "Rate limited", {"retry-after": retry_after})


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        value = json.loads(self.body)
        assert isinstance(value, dict)
        return value

    @property
    def user_text(self) -> str:
        """The text of the (single) user message."""
        msg = self.json["messages"][0]
        content = msg["content"]
        return content if isinstance(content, str) else "".join(b.get("text", "") for b in content)


class FakeAnthropic:
    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.queue: list[Reply] = []
        self.default = ok()
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                req = Request(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with fake._lock:
                    fake.requests.append(req)
                    reply = fake.queue.pop(0) if fake.queue else fake.default
                if reply.delay and fake.stopping.wait(reply.delay):
                    return
                with contextlib.suppress(OSError):  # the client gave up (timeout, killed process)
                    self._answer(reply, req)

            def _answer(self, reply: Reply, req: Request) -> None:
                text = reply.text(req.json) if callable(reply.text) else reply.text
                if reply.raw is not None:
                    data = reply.raw
                elif reply.status == 200:
                    data = json.dumps({
                        "id": f"msg_{len(fake.requests)}", "type": "message", "role": "assistant",
                        "model": req.json.get("model", ""), "content": [{"type": "text", "text": text}],
                        "stop_reason": "end_turn", "stop_sequence": None,
                        "usage": {"input_tokens": 10, "output_tokens": 10}}).encode()
                else:
                    data = json.dumps({"type": "error", "error": {
                        "type": ERROR_TYPES.get(reply.status, "api_error"), "message": text}}).encode()
                self.send_response(reply.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), name="fake-anthropic",
                                       daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self.queue.extend(replies)

    def start(self) -> FakeAnthropic:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@contextmanager
def running() -> Iterator[FakeAnthropic]:
    fake = FakeAnthropic().start()
    try:
        yield fake
    finally:
        fake.stop()
