"""A fake OpenAI-compatible chat-completions server for driving the real OpenClaw in tests.

Owns the model side of every real-OpenClaw scenario: a threaded `http.server` on 127.0.0.1 that answers
`POST /v1/chat/completions` (streaming SSE when the request says `stream: true`, one JSON document
otherwise) and `GET /v1/models`. Which text it answers is decided by the test: `reply_when(marker, text)`
registers an answer for any request whose last user message (not counting the context block OpenClaw
appends as a user message of its own) contains `marker`; anything else gets a short
deterministic default. Every request is logged (model, stream flag, last user text, answer) so a test can
say what OpenClaw asked and what it got.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_REPLY = "Noted."
INTERNAL_CONTEXT = "<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>"


@dataclass(frozen=True)
class Logged:
    """One chat-completions request as the server saw it."""

    model: str
    stream: bool
    last_user: str
    reply: str
    at: float


def long_text(tag: str, size: int = 3000) -> str:
    """A ~`size`-byte answer starting with `tag`: varied prose (so it compresses well, as real answers do,
    but is not one repeated byte) that OpenClaw stores as a zstd-compressed row."""
    words = ("backup", "restic", "snapshot", "retention", "prune", "schedule", "verify", "bucket", "archive",
             "checksum", "rotation", "nightly", "weekly", "restore", "drill", "encryption", "repository")
    parts = [f"{tag}: here is the plan we agreed on."]
    i = 0
    while sum(len(p) + 1 for p in parts) < size:
        a, b, c = words[i % len(words)], words[(i * 7 + 3) % len(words)], words[(i * 5 + 1) % len(words)]
        parts.append(f"Step {i + 1}: {a} the {b} before the {c} runs, then note it in the log.")
        i += 1
    return " ".join(parts)


def _text_of(content: object) -> str:
    """The text of an OpenAI message `content` (a string or a list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


class FakeOpenAI:
    """The server. Use as a context manager, or call `start()` / `stop()`."""

    def __init__(self) -> None:
        self._rules: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self.log: list[Logged] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-openai", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reply_when(self, marker: str, text: str) -> None:
        """Answer `text` to every request whose last user message contains `marker` (latest rule wins)."""
        with self._lock:
            self._rules.insert(0, (marker, text))

    def answer_for(self, last_user: str) -> str:
        with self._lock:
            for marker, text in self._rules:
                if marker in last_user:
                    return text
        return DEFAULT_REPLY

    def requests_with(self, marker: str) -> list[Logged]:
        with self._lock:
            return [r for r in self.log if marker in r.last_user]

    def describe(self) -> str:
        """The request log, one line each, for failure messages."""
        with self._lock:
            return "\n".join(f"  {r.model} stream={r.stream} user={r.last_user[:70]!r} -> {r.reply[:50]!r}"
                             for r in self.log) or "  (no requests)"

    # --- HTTP ---

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._json(200, {"object": "list", "data": []})
                else:
                    self._json(404, {"error": {"message": f"no route {self.path}"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    self._json(400, {"error": {"message": "body is not JSON"}})
                    return
                if not self.path.rstrip("/").endswith("/chat/completions") or not isinstance(body, dict):
                    self._json(404, {"error": {"message": f"no route {self.path}"}})
                    return
                fake._complete(self, body)

            def _json(self, status: int, value: object) -> None:
                data = json.dumps(value).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)
                self.close_connection = True

        return Handler

    def _complete(self, h: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        raw = body.get("messages")
        messages: list[Any] = raw if isinstance(raw, list) else []
        # OpenClaw appends its own context block as a separate user message after the real one.
        users = [_text_of(m.get("content")) for m in messages if isinstance(m, dict) and m.get("role") == "user"]
        users = [u for u in users if not u.lstrip().startswith(INTERNAL_CONTEXT)]
        last_user = users[-1] if users else ""
        model = str(body.get("model", ""))
        stream = bool(body.get("stream"))
        reply = self.answer_for(last_user)
        with self._lock:
            self.log.append(Logged(model, stream, last_user, reply, time.time()))
        created = int(time.time())
        cid = f"chatcmpl-fake{len(self.log)}"
        usage = {"prompt_tokens": 100, "completion_tokens": max(1, len(reply) // 4),
                 "total_tokens": 100 + max(1, len(reply) // 4)}
        if not stream:
            doc = {"id": cid, "object": "chat.completion", "created": created, "model": model,
                   "choices": [{"index": 0, "message": {"role": "assistant", "content": reply},
                                "finish_reason": "stop"}], "usage": usage}
            data = json.dumps(doc).encode()
            h.send_response(200)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(data)))
            h.send_header("Connection", "close")
            h.end_headers()
            h.wfile.write(data)
            h.close_connection = True
            return
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.send_header("Cache-Control", "no-cache")
        h.send_header("Connection", "close")
        h.end_headers()

        def chunk(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
            return {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

        events: list[dict[str, Any]] = [chunk({"role": "assistant", "content": ""}, None)]
        step = 400
        events += [chunk({"content": reply[i:i + step]}, None) for i in range(0, len(reply), step)]
        events.append(chunk({}, "stop"))
        events.append({"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                       "choices": [], "usage": usage})
        for ev in events:
            h.wfile.write(b"data: " + json.dumps(ev).encode() + b"\n\n")
        h.wfile.write(b"data: [DONE]\n\n")
        h.wfile.flush()
        h.close_connection = True
