"""A day's turns, assembled one message at a time in time order: what content.build feeds, message by message,
after reading and ordering the records.

Owns the turn rules (after `noise`, which says what each message is): a heartbeat turn is dropped whole
unless it delivered something; cron runs are counted by job with their last outcome, never quoted;
dreaming and sub-agent sessions are counted, never quoted; commands, the reset prompt and System-only
messages are dropped; other internal turns are kept only for what the agent said; failed attempts are
counted by cause; tools, files and commands come only from the turns kept. Every kept string is redacted
here before it is stored (model, tool and channel names too).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, tzinfo
from functools import lru_cache
from typing import Any

from memory_syncd.content import noise
from memory_syncd.content.noise import Kind, Prompt
from memory_syncd.content.snapshot import Background, CronJob, DaySnapshot, SessionInfo, Turn
from memory_syncd.read.sessionmeta import SessionMeta
from memory_syncd.redact import redact
from memory_syncd.text import headline

_PATH_ARGS = ("path", "file_path", "filePath", "file")
_FILE_TOOLS = {"read": "read", "write": "write", "edit": "edit", "apply_patch": "patch", "multiedit": "edit"}
FAILED_NOTE = "_failed"  # the role given to a `run-failed-before-reply` record in the stream of messages
_NO_META = SessionMeta()

Item = tuple[int, str, dict[str, Any], str | None, bool]  # (ts, session, message, model label, failed)


@dataclass
class _Open:
    """A turn being read: the prompt's kind, what was asked and answered, tools, errors, failures."""

    ts: int
    kind: str  # a `Prompt` value, or "dreaming" / "subagent"
    request: str = ""
    job: str = ""
    answers: list[str] = field(default_factory=list)
    calls: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    spoke: bool = False  # a turn that is never quoted said something


_UNQUOTED = (Prompt.CRON, Prompt.COMMAND, Prompt.SYSTEM)


class Assembly:
    """The day's turns, counts and sessions, fed one message at a time in time order."""

    def __init__(self, kinds: Mapping[str, tuple[Kind | None, str]]) -> None:
        self.kinds = kinds
        self.open: dict[str, _Open] = {}
        self.turns: list[Turn] = []
        self.tools: Counter[str] = Counter()
        self.files: dict[str, list[str]] = {}
        self.commands: list[str] = []
        self.errors: list[str] = []
        self.failures: Counter[str] = Counter()
        self.events: Counter[str] = Counter()
        self.spans: dict[str, list[int]] = {}
        self.models: dict[str, list[str]] = {}
        self.said: set[str] = set()  # answers so far: a delivery mirror of one is not repeated
        self.scrubbed: dict[str, str] = {}  # paths and commands recur all day: each is redacted once
        self.heartbeats: list[tuple[int, bool]] = []
        self.jobs: dict[str, list[tuple[int, str]]] = {}
        self.job_of: dict[str, str] = {}  # session -> the cron job its runs belong to
        self.runs: dict[str, list[int]] = {}  # dreaming and sub-agent sessions -> moments
        self.listed: set[str] = set()
        self.background: dict[str, str] = {}  # session -> the scheduled work seen in it (cron, heartbeat)
        self.titles: dict[str, str] = {}

    def take(self, item: Item) -> None:
        ts, session, msg, model, failed = item
        role = msg.get("role")
        if role != FAILED_NOTE:
            span = self.spans.setdefault(session, [ts, ts, 0])
            span[0], span[1], span[2] = min(span[0], ts), max(span[1], ts), span[2] + 1
        kind, job = self.kinds.get(session, (None, ""))
        if kind in (Kind.DREAMING, Kind.SUBAGENT):
            self.runs.setdefault(f"{kind.value}:{session}", []).append(ts)
            return  # never quoted: not its prompt, not its answers
        if role == "user":
            self._user(ts, session, msg, kind, job)
        elif role == "assistant":
            self._assistant(ts, session, msg, model, failed)
        elif role == FAILED_NOTE:
            self._fail(session, noise.failure_cause(None, msg.get("content")))
        elif role == "toolResult" and msg.get("isError") is True:
            tool = msg.get("toolName")
            error = f"{_tool_name(tool) if isinstance(tool, str) else 'tool'}: "
            error += headline(redact(text_of(msg.get("content"))), 160)
            # kept with its turn, so that a dropped heartbeat turn takes its errors along
            (self.open[session].errors if session in self.open else self.errors).append(error)

    def _user(self, ts: int, session: str, msg: dict[str, Any], kind: Kind | None, job: str) -> None:
        self.close(session)
        said = noise.classify_user(msg, text_of(msg.get("content")))
        for event in said.events:
            label = noise.event_label(event)
            if label is not None:
                self.events[redact(label)] += 1
        prompt = said.kind
        if kind is Kind.CRON and prompt is not Prompt.HEARTBEAT:
            prompt = Prompt.CRON
        elif kind is Kind.HEARTBEAT and prompt is Prompt.CHAT:
            prompt = Prompt.HEARTBEAT  # an isolated heartbeat session whose prompt is a custom one
        turn = _Open(ts, prompt.value)
        if prompt is Prompt.CRON:  # a run's later prompts may not name the job its first one named
            turn.job = self.job_of.get(session) or redact(said.job or job or "unnamed job")[:60]
            self.job_of[session] = turn.job
        elif prompt is Prompt.CHAT:
            turn.request = redact(said.text)
            if turn.request:
                self.titles.setdefault(session, headline(turn.request))
        self.open[session] = turn

    def _assistant(self, ts: int, session: str, msg: dict[str, Any], model: str | None, failed: bool) -> None:
        if failed or text_of(msg.get("content")).strip() == noise.FAILED_PLACEHOLDER:
            self._fail(session, noise.failure_cause(msg.get("stopReason"), msg.get("errorMessage")))
            return
        if model and msg.get("provider") != "openclaw":
            names = self.models.setdefault(session, [])
            short = model.rsplit("/", 1)[-1]
            if short not in names:
                names.append(short)
        turn = self.open.get(session)
        text = noise.answer_text(text_of(msg.get("content")), heartbeat=turn is not None and turn.kind == "heartbeat")
        if turn is not None and turn.kind in _UNQUOTED:  # only whether it said anything matters
            turn.spoke = turn.spoke or bool(text)
            return
        answer = redact(text) if text else ""
        if msg.get("provider") == "openclaw" and msg.get("model") == "delivery-mirror":
            if answer and answer not in self.said:  # a scheduled run's report, later: its own turn
                self.close(session)
                self._emit(Turn(ts, session, "", (answer,), (), "delivery"))
                self.said.add(answer)
            return
        calls = tool_calls(msg.get("content"))
        for name, args in calls:
            if name == "heartbeat_respond" and args.get("notify") in (True, "true"):
                note = args.get("notificationText") or args.get("summary")
                if isinstance(note, str) and note.strip():
                    answer = "\n".join(filter(None, (answer, redact(note.strip()))))
        if turn is None:  # the agent speaking first today (a turn begun yesterday, or unprompted)
            turn = self.open[session] = _Open(ts, Prompt.CHAT.value)
        if answer:
            turn.answers.append(answer)
            if turn.kind != Prompt.CRON:  # a cron run is never quoted, so its report's mirror is the one shown
                self.said.add(answer)
        turn.calls += calls

    def _fail(self, session: str, cause: str) -> None:
        self.failures[cause] += 1
        if session in self.open:
            self.open[session].failed.append(cause)

    def close(self, session: str) -> None:
        t = self.open.pop(session, None)
        if t is None:
            return
        if t.kind in (Prompt.HEARTBEAT, Prompt.CRON):
            self.background.setdefault(session, t.kind)
        if t.kind == Prompt.HEARTBEAT:
            self.heartbeats.append((t.ts, bool(t.answers)))
            if t.answers:  # what it delivered is kept; its tools (reading HEARTBEAT.md …) are not
                self._emit(Turn(t.ts, session, "", tuple(t.answers), (), "heartbeat"))
        elif t.kind == Prompt.CRON:
            outcome = "ok" if t.spoke else f"failed: {t.failed[-1]}" if t.failed else "silent"
            self.jobs.setdefault(t.job, []).append((t.ts, outcome))
        elif (t.kind == Prompt.CHAT and (t.request or t.answers)) or (t.kind == Prompt.INTERNAL and t.answers):
            names = [self._note_tool(name, args) for name, args in t.calls]
            self._emit(Turn(t.ts, session, t.request, tuple(t.answers), tuple(dict.fromkeys(names)),
                            "chat" if t.kind == Prompt.CHAT else "agent"))
            self.errors += t.errors

    def close_all(self) -> None:
        for session in list(self.open):
            self.close(session)

    def _emit(self, turn: Turn) -> None:
        self.turns.append(turn)
        if turn.kind != "heartbeat":
            self.listed.add(turn.session)

    def _note_tool(self, tool: str, args: Mapping[str, Any]) -> str:
        name = _tool_name(tool)
        self.tools[name] += 1
        how = _FILE_TOOLS.get(tool)
        if how:
            for key in _PATH_ARGS:
                if isinstance(args.get(key), str):
                    hows = self.files.setdefault(self._scrub(args[key])[:200], [])
                    if how not in hows:
                        hows.append(how)
                    break
        if tool in ("exec", "bash", "shell") and isinstance(args.get("command"), str):
            self.commands.append(headline(self._scrub(args["command"]), 160))
        return name

    def _scrub(self, text: str) -> str:
        if text not in self.scrubbed:
            self.scrubbed[text] = redact(text)
        return self.scrubbed[text]

    def snapshot(self, agent: str, day: date, zone: tzinfo, messages: int, meta: Mapping[str, SessionMeta],
                 titles: Mapping[str, str], switches: Iterable[tuple[int, str, str, str]],
                 fallbacks: Counter[str]) -> DaySnapshot:
        sessions = tuple(
            SessionInfo(s, v[0], v[1], v[2], _channel(meta.get(s, _NO_META).channel), tuple(self.models.get(s, ())),
                        titles.get(s) or self.titles.get(s, ""), self._kind_of(s))
            for s, v in sorted(self.spans.items(), key=lambda kv: kv[1][0]))
        beats = sorted(self.heartbeats)
        runs = {k: sorted(v) for k, v in self.runs.items()}
        background = Background(
            len(beats), sum(1 for _, d in beats if d), beats[0][0] if beats else 0, beats[-1][0] if beats else 0,
            tuple(CronJob(name, tuple(ts for ts, _ in sorted(r)), sorted(r)[-1][1])
                  for name, r in sorted(self.jobs.items(), key=lambda kv: min(kv[1]))),
            tuple(sorted(v[0] for k, v in runs.items() if k.startswith("dreaming:"))),
            tuple(sorted((v[0], v[-1]) for k, v in runs.items() if k.startswith("subagent:"))))
        self.turns.sort(key=lambda t: t.ts_ms)
        return DaySnapshot(
            agent, zone=zone, day=day, messages=messages, sessions=sessions, turns=tuple(self.turns),
            tools=tuple(self.tools.most_common()), files=tuple((p, tuple(h)) for p, h in self.files.items()),
            commands=tuple(dict.fromkeys(self.commands)),
            switches=tuple((ts, s, _model(a), _model(b)) for ts, s, a, b in switches), errors=tuple(self.errors),
            background=background, failures=tuple(self.failures.most_common()),
            events=tuple(self.events.most_common()), fallbacks=tuple(fallbacks.most_common()))

    def _kind_of(self, session: str) -> str:
        if session in self.listed:
            return "chat"
        kind = self.kinds.get(session, (None, ""))[0]
        if kind is not None and kind is not Kind.CHAT:
            return kind.value
        return self.background.get(session, "quiet")


@lru_cache(maxsize=1024)
def _tool_name(name: str) -> str:
    return redact(name)[:60]


@lru_cache(maxsize=256)
def _channel(name: str) -> str:
    return redact(name)[:40]


@lru_cache(maxsize=1024)
def _model(name: str) -> str:
    """Switches come from the index, whose names parse already redacted; a stored one is redacted again."""
    return redact(name)[:200]


def text_of(content: object) -> str:
    """The plain text of a message's content (string or blocks); thinking and images left out."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    parts = [b["text"] for b in content if isinstance(b, dict) and b.get("type") == "text"
             and isinstance(b.get("text"), str)]
    return "\n".join(parts)


def tool_calls(content: object) -> list[tuple[str, Mapping[str, Any]]]:
    if not isinstance(content, list):
        return []
    out: list[tuple[str, Mapping[str, Any]]] = []
    for b in content:
        if isinstance(b, dict) and b.get("type") == "toolCall" and isinstance(b.get("name"), str):
            args = b.get("arguments")
            out.append((b["name"], args if isinstance(args, dict) else {}))
    return out


