"""DaySnapshot -> the Markdown of the managed block (pure: same snapshot, same bytes).

Owns what tomorrow's session reads about today: sessions with time spans and channels, models and
switches, topics, the key exchanges (noise already left out), names, numbers and identifiers the shown
exchanges left out, tools and files touched, and the optional LLM narrative. Stays within a byte budget by
shortening every exchange evenly before dropping any, and by dropping evenly across the day when it must
(within each stretch of the day the exchange that names the most stays), so late-day
decisions survive as well as early ones; what the dropped and shortened exchanges named is listed
compactly after them, again spread across the whole day.
Output never contains a wall-clock "generated at" time, so an unchanged day renders to unchanged bytes.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from memory_syncd.content import DaySnapshot, SessionInfo, Turn

_DECISION = re.compile(  # matched against lower-cased text: twice as fast as re.IGNORECASE
    r"\b(?:decid\w*|agree\w*|approv\w*|chose|choose|switch\w*|will|plan\w*|set|scheduled|remind\w*|"
    r"todo|next|fixed|merged|deployed|created|moved|budget|deadline|confirmed)\b")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_MIN_CAP = 60
_MAX_SESSIONS = 30  # session lines; the rest are counted in one line
_MAX_SWITCHES = 20
_MENTION_SHARE = 5  # up to 1/5 of the exchanges' room is kept for what they leave out
_STRETCHES = 12  # mentions are picked round-robin from this many stretches of the day

# Names, numbers and identifiers: code spans, URLs and paths, words mixing letters with digits or joined by
# `_ . / # :` (or by two dashes), CamelCase, and capitalized names that do not start a sentence.
_CODE_SPAN = re.compile(r"`([^`]{2,60})`")
_CODE_BLOCK = re.compile(r"```.*?(?:```|$)", re.DOTALL)  # code the agent showed: not what a day is about
_NAME = re.compile(  # the capital first, then what precedes it: twice as fast as a leading lookbehind
    r"[A-ZÄÖÜ](?<=[a-z,;:(] [A-ZÄÖÜ])[\w&'-]+(?: (?:[A-ZÄÖÜ][\w&'-]+|GmbH|AG|Inc|Ltd))*")
_IDENTIFIER = re.compile(r"\d|\w[_/.:#]\w|[a-z][A-Z]|\w-\w+-\w")
_COMMON = ("Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June July "
           "August September October November December I I'm I'll I've OK Done Yes No")
_COMMON_NAMES = frozenset(_COMMON.split())


def title(day_text: str) -> str:
    """The first line of a memory file the tool creates: `# 2026-04-13 (Monday)`."""
    day = datetime.fromisoformat(day_text).date()
    return f"# {day.isoformat()} ({day.strftime('%A')})"


def render(snap: DaySnapshot, budget: int, summary: str | None = None) -> str:
    """The block's Markdown, at most about `budget` bytes; a busy day fills about three quarters of it, so
    the file keeps room for the agent's own notes and tomorrow's session reads less."""
    head = _head(snap, summary)
    tail = _tail(snap)
    room = max(budget * 3 // 4 - len(head.encode()) - len(tail.encode()) - 200, 1000)
    shown = [_Shown.of(snap, t) for t in snap.turns]
    mentions = _mentions(shown)
    reserve = min(room // _MENTION_SHARE, sum(len(m.text.encode()) + 4 for m in mentions) + 30)
    body = _exchanges(shown, room - reserve)
    also = _also(mentions, "\n".join((head, body, tail)), room - len(body.encode()))
    return "\n".join(p for p in (head, body, also, tail) if p).rstrip() + "\n"


def _hm(snap: DaySnapshot, ts_ms: int) -> str:
    return snap.local(ts_ms).strftime("%H:%M")


def _head(snap: DaySnapshot, summary: str | None) -> str:
    out = ["## Sessions (memory-syncd)", "", f"*Auto-generated from {snap.messages} session messages*", ""]
    if summary:
        out += ["### Summary", "", summary.strip(), ""]
    listed = _biggest(snap.sessions, _MAX_SESSIONS)
    for s in listed:
        where = f" · {_inline(s.channel)}" if s.channel else ""
        models = f" · {_inline(', '.join(s.models))}" if s.models else ""
        what = f" — {_inline(s.title)}" if s.title else ""
        out.append(f"- {_hm(snap, s.first_ms)}–{_hm(snap, s.last_ms)}{where} · session `{s.session[:8]}` · "
                   f"{s.messages} messages{models}{what}")
    if len(listed) < len(snap.sessions):
        rest = sum(s.messages for s in snap.sessions) - sum(s.messages for s in listed)
        out.append(f"- … and {len(snap.sessions) - len(listed)} shorter sessions ({rest} messages)")
    out.append("")
    if snap.switches:
        out += ["### Model switches", ""]
        for ts, session, old, new in snap.switches[:_MAX_SWITCHES]:
            out.append(f"- {_hm(snap, ts)} {_inline(old)} → {_inline(new)} (session `{session[:8]}`)")
        if len(snap.switches) > _MAX_SWITCHES:
            out.append(f"- … and {len(snap.switches) - _MAX_SWITCHES} more switches")
        out.append("")
    decisions = _decisions(snap.turns)
    if decisions:
        out += ["### Decisions and next steps", ""] + [f"- {d}" for d in decisions] + [""]
    return "\n".join(out)


def _biggest(sessions: Sequence[SessionInfo], limit: int) -> list[SessionInfo]:
    """The `limit` sessions with the most messages, in time order."""
    if len(sessions) <= limit:
        return list(sessions)
    keep = set(sorted(range(len(sessions)), key=lambda i: (-sessions[i].messages, i))[:limit])
    return [s for i, s in enumerate(sessions) if i in keep]


def _decisions(turns: tuple[Turn, ...], limit: int = 12) -> list[str]:
    """Sentences from answers (code left out) that record a decision, plan or result, spread across the
    whole day."""
    found: dict[str, None] = {}
    for t in turns:
        for answer in t.answers:
            for sentence in _SENTENCE_END.split(_CODE_BLOCK.sub("\n", answer) if "```" in answer else answer):
                if len(sentence) < 20 or not _DECISION.search(sentence.lower()):  # cheap tests first
                    continue
                s = _inline(sentence.strip(" -*"))
                if 20 <= len(s) <= 240:
                    found[s] = None
    if len(found) <= limit:
        return list(found)
    step = len(found) / limit
    chosen = list(found)
    return [chosen[int(i * step)] for i in range(limit)]


def _tail(snap: DaySnapshot) -> str:
    out: list[str] = []
    if snap.tools or snap.files or snap.commands:
        out += ["### Tools and files", ""]
        if snap.tools:
            out.append("- Tools: " + ", ".join(f"{_inline(name)} ×{n}" for name, n in snap.tools[:15]))
        for path, hows in snap.files[:25]:
            out.append(f"- `{_inline(path)}` ({', '.join(hows)})")
        if len(snap.files) > 25:
            out.append(f"- … and {len(snap.files) - 25} more files")
        for cmd in snap.commands[:10]:
            out.append(f"- ran `{_inline(cmd)}`")
        out.append("")
    if snap.errors:
        out += ["### Errors", ""] + [f"- {_inline(e)}" for e in list(dict.fromkeys(snap.errors))[:8]] + [""]
    return "\n".join(out)


@dataclass(frozen=True)
class _Shown:
    """One exchange made ready to print: its texts on one line each, and how much it is worth keeping."""

    hm: str
    request: str
    answer: str
    tools: str
    mentions: tuple[str, ...]  # names, numbers and identifiers in the request and every answer
    weight: int  # how much it names

    @classmethod
    def of(cls, snap: DaySnapshot, t: Turn) -> _Shown:
        request, answers = _inline(t.request), [_inline(a) for a in t.answers]
        prose = "\n".join(_CODE_BLOCK.sub(" ", text) if "```" in text else text for text in (request, *answers))
        mentions = tuple(dict.fromkeys(_find_mentions(prose)))
        tools = f" _(tools: {', '.join(t.tools[:6])})_" if t.tools else ""
        return cls(_hm(snap, t.ts_ms), request, " ".join(answers[-2:]), tools, mentions, len(mentions))


def _exchanges(turns: list[_Shown], room: int) -> str:
    """The key exchanges in `room` bytes: the largest even per-text cap that fits, then even thinning.
    Sizes that cannot fit, by a lower bound, are passed over without formatting them."""
    if not turns:
        return ""
    cap = 1200
    while cap > _MIN_CAP and _least(turns, cap) > room:
        cap = _smaller(cap)
    text = _format(turns, cap)
    while len(text.encode()) > room and cap > _MIN_CAP:
        cap = _smaller(cap)
        text = _format(turns, cap)
    kept = turns
    while len(text.encode()) > room and len(kept) > 1:
        kept = _thin(kept, max(1, int(len(kept) * 0.8)))
        while len(kept) > 1 and _least(kept, cap) > room:
            kept = _thin(kept, max(1, int(len(kept) * 0.8)))
        text = _format(kept, cap, len(turns) - len(kept))
    return text


def _smaller(cap: int) -> int:
    return max(_MIN_CAP, int(cap * 0.75))


def _least(turns: list[_Shown], cap: int) -> int:
    """A lower bound on the bytes `_format` makes of `turns` at `cap` (a cut text is `cap` characters)."""
    return sum(min(len(t.request), cap - 1) + min(len(t.answer), cap - 1) + 18 for t in turns)


def _thin(turns: list[_Shown], keep: int) -> list[_Shown]:
    """`keep` of `turns`, one from each of `keep` equal stretches of the day: the weightiest (the first
    of equals), so every part of the day stays represented."""
    step = len(turns) / keep
    out = []
    for i in range(keep):
        stretch = turns[int(i * step):max(int((i + 1) * step), int(i * step) + 1)]
        out.append(max(stretch, key=lambda t: t.weight))
    return out


def _format(turns: list[_Shown], cap: int, omitted: int = 0) -> str:
    out = ["### Key exchanges", ""]
    for t in turns:
        tools = t.tools
        if t.request:
            out.append(f"- **{t.hm} asked:** {_clip(t.request, cap)}")
            prefix = "  **answered:** "
        else:
            out.append(f"- **{t.hm} agent:**{tools}")
            prefix, tools = "  ", ""
        if t.answer:
            out.append(prefix + _clip(t.answer, cap) + tools)
        elif tools:
            out.append("  " + tools.strip())
    if omitted:
        out.append(f"- … {omitted} more exchanges not shown")
    out.append("")
    return "\n".join(out)


@dataclass(frozen=True)
class _Mention:
    text: str
    hm: str
    order: int  # index of the first exchange that names it
    weight: float


def _find_mentions(text: str) -> list[str]:
    """Names, numbers and identifiers in `text`, lines of prose (redaction markers left out)."""
    found, plain = [], text
    if "`" in text:
        found = [m for m in _CODE_SPAN.findall(text) if "REDACTED" not in m]
        plain = _CODE_SPAN.sub(" ", text)
    found += [m for m in _NAME.findall(plain) if m not in _COMMON_NAMES]
    # Words one by one: a regex over the whole text is several times slower than this, as most words repeat.
    found += filter(None, map(_identifier, dict.fromkeys(plain.split())))
    return found


@functools.lru_cache(maxsize=1 << 16)
def _identifier(word: str) -> str:
    """`word` without surrounding punctuation if it is a number or identifier, else ""."""
    word = word.strip(".,:;!?'\"()[]{}<>*`")
    if (len(word) >= 4 or word[:1].isdigit()) and "REDACTED" not in word and _IDENTIFIER.search(word):
        return word
    return ""


def _mentions(turns: list[_Shown]) -> list[_Mention]:
    """Every distinct mention of the day, where it first appears, and how telling it is: rarer is better."""
    spread: Counter[str] = Counter(m for t in turns for m in t.mentions)
    out: dict[str, _Mention] = {}
    for i, t in enumerate(turns):
        for m in t.mentions:
            if m not in out:
                out[m] = _Mention(m, t.hm, i, (2.0 if any(c.isdigit() for c in m) else 1.0) / spread[m])
    return list(out.values())


def _also(mentions: list[_Mention], shown: str, room: int) -> str:
    """What the rest of the block (`shown`) leaves out, within `room` bytes: the most telling mentions of each
    stretch of the day in turn, listed by time."""
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
            if size + cost <= room and m.text not in shown:
                chosen.append(m)
                lines.add(m.hm)
                size += cost
    if not chosen:
        return ""
    by_time: dict[str, list[str]] = {}
    for m in sorted(chosen, key=lambda m: m.order):
        plain = " " in m.text or not _IDENTIFIER.search(m.text)  # a name, or a code span with spaces
        by_time.setdefault(m.hm, []).append(m.text if plain else f"`{m.text}`")
    return "\n".join(["### Also mentioned", "", *(f"- {hm}: {', '.join(ws)}" for hm, ws in by_time.items()), ""])


def _clip(flat: str, cap: int) -> str:
    return flat if len(flat) <= cap else flat[: cap - 1].rstrip() + "…"


def _inline(text: str) -> str:
    """One line of Markdown that cannot open a block or break our markers."""
    flat = " ".join(text.split())
    return flat.replace("<!--", "<!—").replace("-->", "—>")
