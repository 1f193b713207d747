"""DaySnapshot -> the Markdown of the managed block (pure: same snapshot, same bytes).

Owns what tomorrow's session reads about today, in this order: the sessions people talked in, then
scheduled and background work, failures and system events, one line each; model switches and the fallbacks
tried; decisions and next steps not already visible in the exchanges; the key exchanges; identifiers the
shown exchanges left out; tools and files; the optional LLM narrative.

Stays within a byte budget, and under TARGET however big the day: the exchanges (`exchanges`) get what the
other sections leave, less a share kept for decisions and for what the shown exchanges leave out, so
late-day decisions and identifiers survive as well as early ones. Near-identical lines are written once.
Output never contains a wall-clock "generated at" time, so an unchanged day renders to unchanged bytes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from memory_syncd.content import exchanges
from memory_syncd.content.assemble import DaySnapshot, SessionInfo, Turn
from memory_syncd.content.exchanges import Shown, hm, inline
from memory_syncd.content.facts import CODE_BLOCK, Seen, is_identifier, may_decide, sentences, statement

TARGET = 11 * 1024  # the most a day's block takes, so that a busy day stays under 12 KB
_MAX_SESSIONS = 30  # session lines; the rest are counted in one line
_MAX_JOBS = 12  # cron job lines; the rest are counted in one line
_MAX_SWITCHES = 20
_MAX_DECISIONS = 12
_MENTION_SHARE = 5  # up to 1/5 of the exchanges' room is kept for what they leave out
_STRETCHES = 12  # mentions are picked round-robin from this many stretches of the day


def title(day_text: str) -> str:
    """The first line of a memory file the tool creates: `# 2026-04-13 (Monday)`."""
    day = datetime.fromisoformat(day_text).date()
    return f"# {day.isoformat()} ({day.strftime('%A')})"


def render(snap: DaySnapshot, budget: int, summary: str | None = None) -> str:
    """The block's Markdown, at most about `budget` bytes; a busy day fills about three quarters of it (and
    no more than TARGET), so the file keeps room for the agent's own notes and tomorrow's session reads
    less."""
    head, switches, tail = _head(snap, summary), _switches(snap), _tail(snap)
    fixed = sum(len(p.encode()) for p in (head, switches, tail))
    room = max(min(budget * 3 // 4, TARGET) - fixed - 200, 1000)
    shown = exchanges.shown(snap)
    mentions = _mentions(shown)
    candidates = _candidates(snap.turns)
    keep_d = min(room // 6, sum(len(c.encode()) + 3 for c in candidates[:_MAX_DECISIONS]) + 40)
    keep_m = min(room // _MENTION_SHARE, sum(len(m.text.encode()) + 4 for m in mentions) + 30)
    body = exchanges.section(shown, room - keep_d - keep_m)
    decisions = _decisions(candidates, body, keep_d)
    used = len(body.encode()) + len(decisions.encode())
    also = _also(mentions, "\n".join((head, body, decisions, tail)), room - used)
    return "\n".join(p for p in (head, switches, decisions, body, also, tail) if p).rstrip() + "\n"


def _head(snap: DaySnapshot, summary: str | None) -> str:
    out = ["## Sessions (memory-syncd)", "", f"*Auto-generated from {snap.messages} session messages*", ""]
    if summary:
        out += ["### Summary", "", summary.strip(), ""]
    chats = [s for s in snap.sessions if s.kind == "chat"]
    listed = _biggest(chats, _MAX_SESSIONS)
    lines = []
    for s in listed:
        where = f" · {inline(s.channel)}" if s.channel else ""
        models = f" · {inline(', '.join(s.models))}" if s.models else ""
        what = f" — {inline(s.title)}" if s.title else ""
        lines.append(f"- {hm(snap, s.first_ms)}–{hm(snap, s.last_ms)}{where} · session `{s.session[:8]}` · "
                     f"{s.messages} messages{models}{what}")
    if len(listed) < len(chats):
        rest = sum(s.messages for s in chats) - sum(s.messages for s in listed)
        lines.append(f"- … and {len(chats) - len(listed)} shorter sessions ({rest} messages)")
    lines += _background(snap)
    if snap.failures:
        n = sum(c for _, c in snap.failures)
        lines.append(f"- {n} failed turn{'s' * (n != 1)}: {_counts(snap.failures)}")
    if snap.events:
        lines.append(f"- System events: {_counts(snap.events)}")
    return "\n".join(out + lines + ([""] if lines else []))


def _background(snap: DaySnapshot) -> list[str]:
    """One line for the heartbeats, one per cron job, one for dreaming and one for sub-agents."""
    bg, out = snap.background, []
    if bg.heartbeats:
        span = hm(snap, bg.first_ms) + (f"–{hm(snap, bg.last_ms)}" if bg.heartbeats > 1 else "")
        said = f"{bg.delivered} delivered something" if bg.delivered else "nothing delivered"
        out.append(f"- Heartbeats: {bg.heartbeats} check{'s' * (bg.heartbeats != 1)} ({span}), {said}")
    for job in bg.jobs[:_MAX_JOBS]:
        out.append(f"- Cron `{inline(job.name)}`: {_runs(snap, job.runs)}, last {job.outcome}")
    if len(bg.jobs) > _MAX_JOBS:
        runs = sum(len(j.runs) for j in bg.jobs[_MAX_JOBS:])
        out.append(f"- … and {len(bg.jobs) - _MAX_JOBS} more cron jobs ({runs} runs)")
    if bg.dreams:
        out.append(f"- Dreaming: {_runs(snap, bg.dreams)}")
    if bg.subagents:
        n = len(bg.subagents)
        out.append(f"- Sub-agents: {n} run{'s' * (n != 1)} ("
                   + ", ".join(f"{hm(snap, a)}–{hm(snap, b)}" for a, b in bg.subagents[:6])
                   + (", …" if n > 6 else "") + ")")
    return out


def _runs(snap: DaySnapshot, runs: Sequence[int]) -> str:
    n = len(runs)
    if n > 6:
        return f"{n} runs {hm(snap, runs[0])}–{hm(snap, runs[-1])}"
    return f"{n} run{'s' * (n != 1)} at {', '.join(hm(snap, t) for t in runs)}"


def _counts(pairs: Sequence[tuple[str, int]], limit: int = 8) -> str:
    text = ", ".join(f"{inline(name)} ×{n}" for name, n in pairs[:limit])
    return text + (f", {len(pairs) - limit} more" if len(pairs) > limit else "")


def _switches(snap: DaySnapshot) -> str:
    if not (snap.switches or snap.fallbacks):
        return ""
    out = ["### Model switches", ""]
    for ts, session, old, new in snap.switches[:_MAX_SWITCHES]:
        out.append(f"- {hm(snap, ts)} {inline(old)} → {inline(new)} (session `{session[:8]}`)")
    if len(snap.switches) > _MAX_SWITCHES:
        out.append(f"- … and {len(snap.switches) - _MAX_SWITCHES} more switches")
    if snap.fallbacks:
        out.append(f"- Fallbacks tried that did not answer: {_counts(snap.fallbacks, 6)}")
    return "\n".join([*out, ""])


def _biggest(sessions: Sequence[SessionInfo], limit: int) -> list[SessionInfo]:
    """The `limit` sessions with the most messages, in time order."""
    if len(sessions) <= limit:
        return list(sessions)
    keep = set(sorted(range(len(sessions)), key=lambda i: (-sessions[i].messages, i))[:limit])
    return [s for i, s in enumerate(sessions) if i in keep]


def _candidates(turns: Sequence[Turn]) -> list[str]:
    """Statements from answers (code left out) that record a decision, plan or result, in day order."""
    found: dict[str, None] = {}
    for t in turns:
        for answer in t.answers:
            prose = CODE_BLOCK.sub("\n", answer) if "```" in answer else answer
            for line in prose.splitlines():
                if not may_decide(line):  # most lines record nothing: not even cut into sentences
                    continue
                for sentence in sentences(line):
                    s = statement(sentence) if len(sentence) >= 20 else ""
                    if s:
                        found[inline(s)] = None
    return list(found)


def _decisions(candidates: list[str], visible: str, room: int) -> str:
    """The candidates not already visible in the exchanges, near-duplicates once, spread across the day."""
    seen = Seen()
    kept = [c for c in candidates if c not in visible and seen.first(c)[1]]
    if len(kept) > _MAX_DECISIONS:
        step = len(kept) / _MAX_DECISIONS
        kept = [kept[int(i * step)] for i in range(_MAX_DECISIONS)]
    out, size = ["### Decisions and next steps", ""], 40
    for c in kept:
        size += len(c.encode()) + 3
        if size > room:
            break
        out.append(f"- {c}")
    return "\n".join([*out, ""]) if len(out) > 2 else ""


@dataclass(frozen=True)
class _Mention:
    text: str
    hm: str
    order: int  # index of the first exchange that names it
    weight: float


def _mentions(turns: list[Shown]) -> list[_Mention]:
    """Every distinct identifier of the day (paths, URLs, code spans, ids with digits; not names or plain
    numbers), where it first appears, and how telling it is: rarer is better."""
    spread: Counter[str] = Counter(m for t in turns for m in t.mentions)
    out: dict[str, _Mention] = {}
    for i, t in enumerate(turns):
        for m in t.mentions:
            if m not in out and is_identifier(m):
                out[m] = _Mention(m, t.times[0], i, (2.0 if any(c.isdigit() for c in m) else 1.0) / spread[m])
    return list(out.values())


def _also(mentions: list[_Mention], shown: str, room: int) -> str:
    """What the rest of the block (`shown`) leaves out, within `room` bytes: the most telling identifiers of
    each stretch of the day in turn, listed by time; no section when there are none."""
    if not mentions or room < 100:
        return ""
    last = max(m.order for m in mentions) + 1
    stretches: list[list[_Mention]] = [[] for _ in range(_STRETCHES)]
    for m in mentions:
        stretches[m.order * _STRETCHES // last].append(m)
    for s in stretches:
        s.sort(key=lambda m: (m.weight, -m.order))  # the most telling last, to be popped first
    chosen: list[_Mention] = []
    size = len("### Also mentioned\n\n\n")
    lines: set[str] = set()
    while size + 16 <= room and any(stretches):
        for s in stretches:
            if not s:
                continue
            m = s.pop()
            cost = len(m.text.encode()) + 4 + (0 if m.hm in lines else 10)
            if size + cost <= room and m.text.strip("`") not in shown:
                chosen.append(m)
                lines.add(m.hm)
                size += cost
    if not chosen:
        return ""
    by_time: dict[str, list[str]] = {}
    for m in sorted(chosen, key=lambda m: m.order):
        by_time.setdefault(m.hm, []).append(m.text if m.text.startswith("`") else f"`{m.text}`")
    return "\n".join(["### Also mentioned", "", *(f"- {hm}: {', '.join(ws)}" for hm, ws in by_time.items()), ""])


def _tail(snap: DaySnapshot) -> str:
    out: list[str] = []
    if snap.tools or snap.files or snap.commands:
        out += ["### Tools and files", ""]
        if snap.tools:
            out.append("- Tools: " + ", ".join(f"{inline(name)} ×{n}" for name, n in snap.tools[:15]))
        for path, hows in snap.files[:25]:
            out.append(f"- `{inline(path)}` ({', '.join(hows)})")
        if len(snap.files) > 25:
            out.append(f"- … and {len(snap.files) - 25} more files")
        for cmd in snap.commands[:10]:
            out.append(f"- ran `{inline(cmd)}`")
        out.append("")
    if snap.errors:
        out += ["### Errors", ""] + [f"- {inline(e)}" for e in list(dict.fromkeys(snap.errors))[:8]] + [""]
    return "\n".join(out)
