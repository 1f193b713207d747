"""DaySnapshot -> the Markdown of the managed block (pure: same snapshot, same bytes).

Owns what tomorrow's session reads about today: sessions with time spans and channels, models and
switches, topics, the key exchanges (noise already left out), tools and files touched, and the optional
LLM narrative. Stays within a byte budget by shortening every exchange evenly before dropping any, and
by dropping evenly across the day when it must, so late-day decisions survive as well as early ones.
Output never contains a wall-clock "generated at" time, so an unchanged day renders to unchanged bytes.
"""

from __future__ import annotations

import re
from datetime import datetime

from memory_syncd.content import DaySnapshot, Turn

_DECISION = re.compile(
    r"\b(?:decid\w*|agree\w*|approv\w*|chose|choose|switch\w*|will|plan\w*|set|scheduled|remind\w*|"
    r"todo|next|fixed|merged|deployed|created|moved|budget|deadline|confirmed)\b", re.IGNORECASE)
_MIN_CAP = 60


def title(day_text: str) -> str:
    """The first line of a memory file the tool creates: `# 2026-04-13 (Monday)`."""
    day = datetime.fromisoformat(day_text).date()
    return f"# {day.isoformat()} ({day.strftime('%A')})"


def render(snap: DaySnapshot, budget: int, summary: str | None = None) -> str:
    """The block's Markdown, at most about `budget` bytes."""
    head = _head(snap, summary)
    tail = _tail(snap)
    room = budget - len(head.encode()) - len(tail.encode()) - 200
    body = _exchanges(snap, max(room, 1000))
    return "\n".join(p for p in (head, body, tail) if p).rstrip() + "\n"


def _hm(snap: DaySnapshot, ts_ms: int) -> str:
    return snap.local(ts_ms).strftime("%H:%M")


def _head(snap: DaySnapshot, summary: str | None) -> str:
    out = ["## Sessions (memory-syncd)", "", f"*Auto-generated from {snap.messages} session messages*", ""]
    if summary:
        out += ["### Summary", "", summary.strip(), ""]
    for s in snap.sessions:
        where = f" · {s.channel}" if s.channel else ""
        models = f" · {', '.join(s.models)}" if s.models else ""
        what = f" — {s.title}" if s.title else ""
        out.append(f"- {_hm(snap, s.first_ms)}–{_hm(snap, s.last_ms)}{where} · session `{s.session[:8]}` · "
                   f"{s.messages} messages{models}{what}")
    out.append("")
    if snap.switches:
        out += ["### Model switches", ""]
        for ts, session, old, new in snap.switches:
            out.append(f"- {_hm(snap, ts)} {old} → {new} (session `{session[:8]}`)")
        out.append("")
    decisions = _decisions(snap.turns)
    if decisions:
        out += ["### Decisions and next steps", ""] + [f"- {d}" for d in decisions] + [""]
    return "\n".join(out)


def _decisions(turns: tuple[Turn, ...], limit: int = 12) -> list[str]:
    """Sentences from answers that record a decision, plan or result, spread across the whole day."""
    found: list[str] = []
    for t in turns:
        for answer in t.answers:
            for sentence in re.split(r"(?<=[.!?])\s+|\n+", answer):
                s = sentence.strip(" -*")
                if 20 <= len(s) <= 240 and _DECISION.search(s) and s not in found:
                    found.append(s)
    if len(found) <= limit:
        return found
    step = len(found) / limit
    return [found[int(i * step)] for i in range(limit)]


def _tail(snap: DaySnapshot) -> str:
    out: list[str] = []
    if snap.tools or snap.files or snap.commands:
        out += ["### Tools and files", ""]
        if snap.tools:
            out.append("- Tools: " + ", ".join(f"{name} ×{n}" for name, n in snap.tools[:15]))
        for path, hows in snap.files[:25]:
            out.append(f"- `{path}` ({', '.join(hows)})")
        if len(snap.files) > 25:
            out.append(f"- … and {len(snap.files) - 25} more files")
        for cmd in snap.commands[:10]:
            out.append(f"- ran `{_inline(cmd)}`")
        out.append("")
    if snap.errors:
        out += ["### Errors", ""] + [f"- {_inline(e)}" for e in list(dict.fromkeys(snap.errors))[:8]] + [""]
    return "\n".join(out)


def _exchanges(snap: DaySnapshot, room: int) -> str:
    """The key exchanges in `room` bytes: the largest even per-text cap that fits, then even thinning."""
    turns = list(snap.turns)
    if not turns:
        return ""
    cap = 1200
    text = _format(snap, turns, cap)
    while len(text.encode()) > room and cap > _MIN_CAP:
        cap = max(_MIN_CAP, int(cap * 0.75))
        text = _format(snap, turns, cap)
    omitted = 0
    while len(text.encode()) > room and len(turns) > 1:
        keep = max(1, int(len(turns) * 0.8))
        step = len(turns) / keep
        kept = [turns[int(i * step)] for i in range(keep)]
        omitted += len(turns) - len(kept)
        turns = kept
        text = _format(snap, turns, cap, omitted)
    return text


def _format(snap: DaySnapshot, turns: list[Turn], cap: int, omitted: int = 0) -> str:
    out = ["### Key exchanges", ""]
    for t in turns:
        tools = f" _(tools: {', '.join(t.tools[:6])})_" if t.tools else ""
        if t.request:
            out.append(f"- **{_hm(snap, t.ts_ms)} asked:** {_clip(t.request, cap)}")
            prefix = "  **answered:** "
        else:
            out.append(f"- **{_hm(snap, t.ts_ms)} agent:**{tools}")
            prefix, tools = "  ", ""
        if t.answers:
            out.append(prefix + _clip(" ".join(t.answers[-2:]), cap) + tools)
        elif tools:
            out.append("  " + tools.strip())
    if omitted:
        out.append(f"- … {omitted} more exchanges not shown")
    out.append("")
    return "\n".join(out)


def _clip(text: str, cap: int) -> str:
    flat = _inline(text)
    return flat if len(flat) <= cap else flat[: cap - 1].rstrip() + "…"


def _inline(text: str) -> str:
    """One line of Markdown that cannot open a block or break our markers."""
    flat = " ".join(text.split())
    return flat.replace("<!--", "<!—").replace("-->", "—>")
