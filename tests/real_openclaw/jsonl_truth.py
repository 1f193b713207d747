"""The ground truth of the JSONL generation: an independent read of what OpenClaw 2026.7 wrote to `sessions/`.

Owns reading an agent's sessions dir as OpenClaw up to 2026.7 leaves it, with nothing but `json` (and
`zstandard` through `store_truth` for `.zst` archives), so that memory-syncd's answers can be checked against
something that shares none of its code. Every entry of the dir is sorted into one kind by its name:
- a live transcript, `<sessionId>.jsonl` (one JSON record per line, the same shapes as a store row);
- an archive OpenClaw renamed it to: `<sessionId>.jsonl.reset.<stamp>` on a reset, `.jsonl.deleted.<stamp>`
  on a delete (read whole; `.zst` ones decoded);
- a trajectory, `<sessionId>.trajectory.jsonl`: a run trace whose name a `*.jsonl` glob also matches. It is
  never read as a transcript; `trajectory_records` reads it only to show what it holds;
- the index `sessions.json` (session key -> `sessionId`, `sessionFile`, …), read as such;
- anything else (`<sessionId>.trajectory-path.json`, `skills-prompts/`, locks), listed by name.

What counts as a message is what `store_truth` counts: every record with `type == "message"` on the day of its
`message.timestamp`, each distinct `message` object once (a reset or delete renames a file, so the same
message is never in two places, but a reader that met it twice must not count it twice).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from store_truth import Event, Msg, archive_files, file_events, messages

LIVE = re.compile(r"^(?P<sid>[^.]+)\.jsonl$")
TRAJECTORY = re.compile(r"^(?P<sid>[^.]+)\.trajectory\.jsonl$")
INDEX = "sessions.json"


@dataclass
class SessionsDir:
    """One agent's sessions dir, read in one go."""

    path: Path
    live: list[Path] = field(default_factory=list)  # <sid>.jsonl
    archives: list[Path] = field(default_factory=list)  # <sid>.jsonl.reset.* / .jsonl.deleted.*
    trajectories: list[Path] = field(default_factory=list)  # <sid>.trajectory.jsonl, never counted
    others: list[str] = field(default_factory=list)  # every other name (sessions.json included)
    index: dict[str, dict[str, Any]] = field(default_factory=dict)  # sessions.json
    events: list[Event] = field(default_factory=list)  # the records of live transcripts, then of archives

    def records(self, name: str) -> list[dict[str, Any]]:
        """The records read from the transcript or archive called `name`."""
        return [e.record for e in self.events if e.where == f"file:{name}"]

    def live_ids(self) -> set[str]:
        return {p.name[:-len(".jsonl")] for p in self.live}

    def archives_of(self, session_id: str, reason: str) -> list[Path]:
        return [p for p in self.archives if p.name.startswith(f"{session_id}.jsonl.{reason}.")]

    def key_of(self, session_id: str) -> str | None:
        return next((k for k, v in self.index.items() if v.get("sessionId") == session_id), None)


def read_sessions_dir(path: Path) -> SessionsDir:
    sd = SessionsDir(path)
    if not path.is_dir():
        return sd
    sd.archives = archive_files(path)
    for p in sorted(path.iterdir()):
        if p in sd.archives:
            continue
        if p.is_file() and LIVE.match(p.name):
            sd.live.append(p)
        elif p.is_file() and TRAJECTORY.match(p.name):
            sd.trajectories.append(p)
        else:
            sd.others.append(p.name)
    index = path / INDEX
    if index.is_file():
        value = json.loads(index.read_text())
        assert isinstance(value, dict), f"{index} holds {type(value).__name__}, not an object"
        sd.index = value
    for p in sd.live:
        sd.events += transcript_events(p)
    for p in sd.archives:
        sd.events += file_events(p)
    return sd


def transcript_events(path: Path) -> list[Event]:
    """The records of a live transcript. A last line without its newline is one OpenClaw is still writing
    (the test reads after every command returned, so there should be none): it fails loudly."""
    sid = path.name[:-len(".jsonl")]
    data = path.read_text(encoding="utf-8")
    assert not data or data.endswith("\n"), f"{path.name} ends in a partial line"
    return [Event(sid, n, json.loads(line), f"file:{path.name}")
            for n, line in enumerate(data.splitlines()) if line.strip()]


def jsonl_messages(sd: SessionsDir) -> list[Msg]:
    """Every distinct message of the live transcripts and the archives; trajectories never."""
    return messages(sd.events)


def has_reply(sessions_dir: Path, text: str) -> bool:
    """Whether an assistant message reading exactly `text` is in a transcript or archive there."""
    return any(m.role == "assistant" and m.text.strip() == text
               for m in jsonl_messages(read_sessions_dir(sessions_dir)))


def trajectory_records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
