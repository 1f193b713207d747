"""The fake chat-completions server on its own (no OpenClaw needed): both response forms and the log.

Owns the checks that the model side of the real-OpenClaw tests speaks the OpenAI wire format: a plain JSON
completion, an SSE stream that ends with `[DONE]`, answers chosen by marker, OpenClaw's appended context
block ignored when choosing, and long answers of the size OpenClaw compresses.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from fake_openai import DEFAULT_REPLY, INTERNAL_CONTEXT, FakeOpenAI, long_text


def post(fake: FakeOpenAI, body: dict[str, Any]) -> tuple[str, bytes]:
    req = urllib.request.Request(f"{fake.base_url}/chat/completions", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as resp:
        return str(resp.headers.get("Content-Type")), resp.read()


def test_plain_and_streamed_answers_follow_the_marker() -> None:
    with FakeOpenAI() as fake:
        fake.reply_when("ask-1", "ONE answer")
        msgs = [{"role": "user", "content": "ask-1 please"},
                {"role": "user", "content": [{"type": "text", "text": f"{INTERNAL_CONTEXT}\nctx"}]}]
        ctype, data = post(fake, {"model": "m", "messages": msgs})
        assert ctype.startswith("application/json")
        doc = json.loads(data)
        assert doc["choices"][0]["message"] == {"role": "assistant", "content": "ONE answer"}

        ctype, data = post(fake, {"model": "m", "stream": True, "messages": msgs})
        assert ctype.startswith("text/event-stream")
        events = [ln[6:] for ln in data.decode().split("\n") if ln.startswith("data: ")]
        assert events[-1] == "[DONE]"
        chunks = [json.loads(e) for e in events[:-1]]
        text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
        assert text == "ONE answer"
        assert chunks[-1]["usage"]["total_tokens"] > 0

        _, data = post(fake, {"model": "m", "messages": [{"role": "user", "content": "something else"}]})
        assert json.loads(data)["choices"][0]["message"]["content"] == DEFAULT_REPLY
        assert [(r.stream, r.reply) for r in fake.log] == [(False, "ONE answer"), (True, "ONE answer"),
                                                             (False, DEFAULT_REPLY)]


def test_long_answers_are_about_three_kilobytes() -> None:
    text = long_text("TAG")
    assert text.startswith("TAG: ") and 2900 <= len(text.encode()) <= 3200
