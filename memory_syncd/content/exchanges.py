"""The "Key exchanges" section: the day's turns made ready to print, and fitted into the room they get.

Owns folding repeats (a request asked again adds its time, and an answer not given before, to its first
occurrence; an answer given again is not repeated), weighing each exchange by how rare the names, numbers
and identifiers it holds are, and fitting: the largest even per-text cap first (a text cut short keeps its
first sentence and its most telling others), then dropping evenly across the day, the weightiest
exchange of each stretch staying.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from memory_syncd.content.facts import CODE_BLOCK, Seen, clip, find_mentions, sentences
from memory_syncd.content.snapshot import DaySnapshot

MIN_CAP = 60
_LABELS = {"heartbeat": "heartbeat"}  # anything else the agent said unasked: "agent"
_HEADING = re.compile(r"^[ \t]*#{1,6}[ \t]+", re.M)


def hm(snap: DaySnapshot, ts_ms: int) -> str:
    """The local `HH:MM` of a moment of the day."""
    return snap.local(ts_ms).strftime("%H:%M")


@dataclass
class Shown:
    """One exchange made ready to print: its texts on one line each (cut into weighed sentences), when it
    happened (more than once if it repeated), and how much it is worth keeping."""

    times: list[str]
    label: str  # asked, agent, heartbeat, delivered
    request: str
    answer: str
    tools: str
    mentions: tuple[str, ...]  # names, numbers and identifiers in the request and the answer
    weight: float = 0.0  # how much it names that the rest of the day does not
    worth: Callable[[Sequence[str]], float] = lambda ms: 0.0  # how much a sentence names, by the same measure
    _parts: dict[str, tuple[tuple[str, float], ...]] = field(default_factory=dict)

    def header(self) -> str:
        more = f" +{len(self.times) - 3}" if len(self.times) > 3 else ""
        return ", ".join(self.times[:3]) + more

    def cut(self, text: str, cap: int) -> str:
        """`text` (its request or answer) in `cap` characters, keeping its most telling sentences. The
        sentences are weighed the first time it is cut: most exchanges of a busy day never are."""
        if len(text) <= cap:
            return text
        if not self.weight:  # names nothing: no sentence is worth more than another
            return clip((), text, cap)
        if text not in self._parts:  # a sentence names what the exchange names and it holds
            self._parts[text] = tuple((x, self.worth([m for m in self.mentions if m.strip("`") in x]))
                                      for x in sentences(_prose(text)))
        return clip(self._parts[text], text, cap)


def shown(snap: DaySnapshot) -> list[Shown]:
    """The exchanges, with repeats folded into their first occurrence: a request asked again adds its time
    (and an answer not given before) to the first; an answer given again is not repeated."""
    asked: dict[str, Shown] = {}
    said: dict[str, Shown] = {}
    answers, requests = Seen(), Seen()
    out: list[Shown] = []
    for t in snap.turns:
        request, answer = inline(t.request), " ".join(inline(a) for a in t.answers[-2:])
        label = "asked" if request else _LABELS.get(t.kind, "agent")
        tools = f" _(tools: {', '.join(t.tools[:6])})_" if t.tools else ""
        when = hm(snap, t.ts_ms)
        akey, new_answer = answers.first(answer) if answer else ("", True)
        if request:
            rkey, new_request = requests.first(request)
            if not new_request and rkey in asked:
                first = asked[rkey]
                first.times.append(when)
                if answer and new_answer:
                    first.answer = f"{first.answer} {answer}".strip()
                    first.tools = first.tools or tools
                    said[akey] = first
                continue
            s = Shown([when], label, request, answer if new_answer else "", tools, ())
            asked[rkey] = s
        elif not answer:
            continue
        elif not new_answer:  # the same thing said again: one line, with both times
            if akey in said:
                said[akey].times.append(when)
            continue
        else:
            s = Shown([when], label, "", answer, tools, ())
        if answer and new_answer:
            said[akey] = s
        out.append(s)
    for s in out:
        s.mentions = tuple(dict.fromkeys(find_mentions(_prose(f"{s.request}\n{s.answer}"))))
    spread: Counter[str] = Counter(m for s in out for m in s.mentions)
    weights = {m: (2.0 if any(c.isdigit() for c in m) else 1.0) / n for m, n in spread.items()}

    def worth(ms: Sequence[str]) -> float:
        # Summed in a fixed order (first occurrence, not a set's hash order): float sums depend on their order,
        # and a last-bit difference can break a tie between sentences differently from one run to the next.
        return sum(weights.get(m, 0.0) for m in dict.fromkeys(ms))

    for s in out:
        s.weight = worth(s.mentions)
        s.worth = worth
    return out


def _prose(text: str) -> str:
    return CODE_BLOCK.sub(" ", text) if "```" in text else text


def section(turns: list[Shown], room: int) -> str:
    """The key exchanges in `room` bytes: the largest even per-text cap that fits, then even thinning.
    Sizes that cannot fit, by a lower bound, are passed over without formatting them (formatting cuts and
    weighs sentences)."""
    if not turns:
        return ""
    cap = 1200
    while cap > MIN_CAP and _least(turns, cap) > room:
        cap = _smaller(cap)
    text = ""
    if _least(turns, cap) <= room:
        text = _format(turns, cap)
        while len(text.encode()) > room and cap > MIN_CAP:
            cap = _smaller(cap)
            text = _format(turns, cap)
        if len(text.encode()) <= room:
            return text
    kept = turns
    while len(kept) > 1:
        kept = _thin(kept, max(1, int(len(kept) * 0.8)))
        while len(kept) > 1 and _least(kept, cap) > room:
            kept = _thin(kept, max(1, int(len(kept) * 0.8)))
        text = _format(kept, cap, len(turns) - len(kept))
        if len(text.encode()) <= room:
            break
    return text or _format(kept, cap, len(turns) - len(kept))


def _smaller(cap: int) -> int:
    return max(MIN_CAP, int(cap * 0.75))


def _least(turns: list[Shown], cap: int) -> int:
    """A lower bound on the bytes `_format` makes of `turns` at `cap` (a cut text is at most `cap` long)."""
    return sum(min(len(t.request), cap - 1) + min(len(t.answer), cap - 1) + 18 for t in turns)


def _thin(turns: list[Shown], keep: int) -> list[Shown]:
    """`keep` of `turns`, one from each of `keep` equal stretches of the day: the weightiest (the first
    of equals), so every part of the day stays represented."""
    step = len(turns) / keep
    out = []
    for i in range(keep):
        stretch = turns[int(i * step):max(int((i + 1) * step), int(i * step) + 1)]
        out.append(max(stretch, key=lambda t: t.weight))
    return out


def _format(turns: list[Shown], cap: int, omitted: int = 0) -> str:
    out = ["### Key exchanges", ""]
    for t in turns:
        request, answer = t.cut(t.request, cap), t.cut(t.answer, cap)
        if t.label == "asked":
            out.append(f"- **{t.header()} asked:** {request}")
            if answer:
                out.append(f"  **answered:** {answer}{t.tools}")
            elif t.tools:
                out.append("  " + t.tools.strip())
        else:
            out.append(f"- **{t.header()} {t.label}:**{t.tools}")
            if answer:
                out.append("  " + answer)
    if omitted:
        out.append(f"- … {omitted} more exchanges not shown")
    out.append("")
    return "\n".join(out)


def inline(text: str) -> str:
    """One line of Markdown that cannot open a block or break our markers (a heading's marks left out)."""
    if "#" in text:
        text = _HEADING.sub("", text)
    flat = " ".join(text.split())
    return flat.replace("<!--", "<!—").replace("-->", "—>")
