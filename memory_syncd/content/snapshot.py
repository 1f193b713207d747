"""The values a day is made of: its turns, sessions, scheduled work and counts, as `content` assembles them
(redacted) and `render` and `summarize` read them. Immutable, so a snapshot can be rendered twice or handed
to another thread."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo


@dataclass(frozen=True)
class Turn:
    """A user request and what the agent answered to it (assistant text only; tools are summarized).
    `kind`: chat (a person asked), agent (the agent spoke after an internal event), heartbeat (a heartbeat
    delivered something), delivery (a scheduled run's report mirrored into a chat)."""

    ts_ms: int
    session: str
    request: str
    answers: tuple[str, ...]
    tools: tuple[str, ...]
    kind: str = "chat"


@dataclass(frozen=True)
class SessionInfo:
    """`kind` is "chat" for a session someone talked in; else what it was (heartbeat, cron, sub-agent,
    dreaming, or quiet: nothing but internal turns)."""

    session: str
    first_ms: int
    last_ms: int
    messages: int
    channel: str
    models: tuple[str, ...]
    title: str
    kind: str = "chat"


@dataclass(frozen=True)
class CronJob:
    name: str
    runs: tuple[int, ...]  # when each run started
    outcome: str  # of the last run: "ok", "silent" or "failed: <cause>"


@dataclass(frozen=True)
class Background:
    """Scheduled and background work, counted: never quoted."""

    heartbeats: int = 0
    delivered: int = 0  # heartbeats that delivered something (those texts are turns)
    first_ms: int = 0
    last_ms: int = 0
    jobs: tuple[CronJob, ...] = ()
    dreams: tuple[int, ...] = ()  # dreaming runs (start)
    subagents: tuple[tuple[int, int], ...] = ()  # sub-agent sessions (first, last)


@dataclass(frozen=True)
class DaySnapshot:
    agent: str
    day: date
    zone: tzinfo
    messages: int  # every unique message of the day, noise included (what `compare` counts)
    sessions: tuple[SessionInfo, ...]
    turns: tuple[Turn, ...]
    tools: tuple[tuple[str, int], ...]
    files: tuple[tuple[str, tuple[str, ...]], ...]  # path -> how it was touched
    commands: tuple[str, ...]
    switches: tuple[tuple[int, str, str, str], ...]  # (ts_ms, session, from, to)
    errors: tuple[str, ...] = field(default=())  # tool errors in the turns kept
    background: Background = field(default=Background())
    failures: tuple[tuple[str, int], ...] = ()  # model attempts that failed, by cause
    events: tuple[tuple[str, int], ...] = ()  # `System:` events, by label
    fallbacks: tuple[tuple[str, int], ...] = ()  # fallback models tried that did not answer

    def local(self, ts_ms: int) -> datetime:
        return datetime.fromtimestamp(ts_ms / 1000, self.zone)
