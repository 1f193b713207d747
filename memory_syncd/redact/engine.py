"""The redaction engine: find every secret in a text and replace it by `[REDACTED-<KIND>]`.

Owns the order of work and its invariants:
- every byte that is not part of a secret is kept as it was;
- markers already in the text are never matched again, and the surroundings of new markers are searched
  again until nothing new turns up, so `redact(redact(x)) == redact(x)`;
- overlapping findings are resolved by tier (a self-identifying token beats its context, which beats a
  generic keyword rule: the higher tier takes the part they share, the lower keeps the rest) and merged
  within a tier, so a secret is never half redacted;
- everything is compiled at import; nothing reads the environment.

Speed comes from pre-filters (see `scan`). Self-identifying tokens lie in runs of at least RUN_MIN token
characters; one regex over those runs finds where some rule's anchor starts a word, and only those rules run,
only on those runs. Runs that are long pure base64 (images, archives) are searched by no rule. Context rules
run only where their keyword occurs, on a lowercased copy (same offsets) instead of folding case, and skip
the base64 blobs.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence

from memory_syncd.redact import generic, keys, plans, structural, tokens_ai, tokens_cloud, tokens_comms, tokens_dev
from memory_syncd.redact.kinds import Hit, Kind, TextRule, Tier, TokenRule
from memory_syncd.redact.plans import Plan
from memory_syncd.redact.scan import BLOB_MIN, RUN_MIN, Runs, Span, TokenPrefilter, encode, runs
from memory_syncd.redact.values import is_filler

TOKEN_RULES: tuple[TokenRule, ...] = (tokens_ai.RULES + tokens_dev.RULES + tokens_cloud.RULES + tokens_comms.RULES
                                      + keys.TOKEN_RULES)
TEXT_RULES: tuple[TextRule, ...] = keys.TEXT_RULES + structural.TEXT_RULES + generic.TEXT_RULES
__all__ = ["BLOB_MIN", "KINDS", "KINDS_BY_NAME", "RUN_MIN", "TEXT_RULES", "TOKEN_RULES", "redact", "redact_report"]


def _collect_kinds() -> tuple[Kind, ...]:
    seen: dict[str, Kind] = {}
    for kind in [r.kind for r in TOKEN_RULES] + [k for r in TEXT_RULES for k in r.kinds]:
        if seen.setdefault(kind.name, kind) is not kind:
            raise AssertionError(f"two different kinds named {kind.name}")
    return tuple(sorted(seen.values(), key=lambda k: k.family))


KINDS: tuple[Kind, ...] = _collect_kinds()
KINDS_BY_NAME: dict[str, Kind] = {k.name: k for k in KINDS}
_PREFILTER = TokenPrefilter(TOKEN_RULES)
_HEX = frozenset("0123456789abcdefABCDEF")
_MARKER = re.compile(r"\[REDACTED-[A-Z0-9-]+\]")


def _escaped_boundary(text: str, at: int) -> bool:
    """Is the character before `at` the end of an escape (`\\n`, `%3D`, `\\u0022`) rather than a word?"""
    prev = text[at - 1]
    if at >= 2 and text[at - 2] == "\\" and prev in "nrtbfv":
        return True
    if at >= 3 and text[at - 3] == "%" and text[at - 2] in _HEX and prev in _HEX:
        return True
    return at >= 6 and text[at - 6:at - 4] == "\\u" and all(c in _HEX for c in text[at - 4:at])


def _runs(text: str) -> Runs:
    """The runs of token characters in `text`, and apart its base64 blobs (see `scan.Runs`)."""
    return runs(encode(text))


def _token_hits(text: str, found_runs: Runs | None = None) -> list[Hit]:
    """Hits of the token rules. With `found_runs` (see `_runs`) only the rules the prefilter picks run, each
    only on the runs where its anchor occurs; without, every rule scans the whole text: slower, same hits."""
    whole = (0, len(text))
    work = [(rule, whole) for rule in TOKEN_RULES] if found_runs is None else _PREFILTER.candidates(found_runs)
    hits: list[Hit] = []
    for rule, (lo, hi) in work:
        for m in rule.regex.finditer(text, lo, hi):
            at = m.start()
            if rule.back_max:
                floor = max(0, at - rule.back_max)
                while at > floor and text[at - 1] in rule.back:
                    at -= 1
            if at > 0 and text[at - 1] in rule.left and not _escaped_boundary(text, at):
                continue
            s, e = m.span(rule.group)
            if rule.back_max:
                s = at
            secret = text[s:e]
            if is_filler(secret) or (rule.check is not None and not rule.check(secret)):
                continue
            hits.append(Hit(s, e, rule.kind.name, Tier.TOKEN, rule.priority))
    return hits


def _segments(size: int, blobs: Sequence[Span]) -> list[Span]:
    """The parts of a text of `size` characters that are not in `blobs` (sorted, disjoint)."""
    out: list[Span] = []
    pos = 0
    for s, e in blobs:
        if s > pos:
            out.append((pos, s))
        pos = e
    if pos < size:
        out.append((pos, size))
    return out


PLANS: tuple[Plan, ...] = plans.build(TEXT_RULES)
UNGATED: tuple[Plan, ...] = plans.ungated(TEXT_RULES)  # slower, same hits (see tests)
_Need = tuple[str, re.Pattern[str] | None]
_Row = tuple[Plan, str, bytes, bool, tuple[str, ...], tuple[_Need, ...], re.Pattern[str], TextRule | None]


def _needs(plan: Plan) -> tuple[_Need, ...]:
    """A plan's needs, each with the regex that looks for it in long texts: there the regex engine's literal
    scan is faster than `in` (CPython's substring search) for a piece of several characters; a single
    character `in` finds at memchr speed."""
    return tuple((need, re.compile(re.escape(need)) if len(need) > 1 else None) for need in plan.needs)


def _rows(plan_list: Sequence[Plan]) -> tuple[_Row, ...]:
    """What `_text_hits` reads of each plan, unpacked in one step: for short texts, reading the attributes one
    by one cost about as much as the checks themselves."""
    return tuple((p, p.requires, p.in_runs, p.lower, p.gates, _needs(p), p.regex, p.alone) for p in plan_list)


_PLAN_ROWS = _rows(PLANS)


def _text_hits(text: str, found: frozenset[str] = frozenset(), found_runs: Runs | None = None,
               plan_list: Sequence[Plan] = PLANS) -> list[Hit]:
    """Hits of the context rules; `found` holds the kinds the token rules found (see `TextRule.requires`).
    Scans are skipped where their checks fail (see `plans`); keyword rules skip the base64 blobs."""
    if found_runs is None:
        found_runs = _runs(text)
    blobs = found_runs.blobs
    lowered = text.lower()
    size = len(text)
    same_offsets = len(lowered) == size  # lower() can lengthen a few non-ASCII characters
    parts = _segments(size, blobs) if blobs and same_offsets else None
    gated = size < plans.GATE_BELOW
    hits: list[Hit] = []
    for plan, requires, in_runs, lower, gates, needs, regex, alone in (
            _PLAN_ROWS if plan_list is PLANS else _rows(plan_list)):
        if requires and requires not in found:
            continue
        haystack = lowered if lower else text
        if in_runs:
            where = found_runs.where(in_runs)
            if not where:
                continue
            if alone is not None and not lower:
                hits.extend(_at_literal(plan, alone, text, where))
                continue
        if gated and gates:
            for gate in gates:
                if gate in haystack:
                    break
            else:
                continue
        if needs and _missing(haystack, needs, gated):
            continue
        if lower and not same_offsets:
            # Case-insensitive twins have no literal prefix to skip to: check a rule's keywords first.
            for member in plan.members:
                rule = member.rule
                if rule.anchors and not any(anchor in lowered for anchor in rule.anchors):
                    continue
                assert rule.regex_i is not None
                for m in rule.regex_i.finditer(text):
                    hits.extend(rule.resolve(m, text))
            continue
        if alone is not None and (parts is None or not lower):
            # The common case, kept free of generators. Most scans find nothing, and `search` answers that
            # without building the iterator `finditer` needs (a few hundred ns a call: much of a short text's
            # cost); from the first match on, `finditer` gives what it would have given from the start.
            first = regex.search(haystack)
            if first is None:
                continue
            resolve = alone.resolve
            at = first.end()
            if at > first.start():
                # `finditer` would match `first` again and go on from its end (it is not empty): start there.
                hits.extend(resolve(first, text))
            else:
                at = first.start()
            for m in regex.finditer(haystack, at):
                hits.extend(resolve(m, text))
            continue
        for lo, hi in parts if parts is not None and lower else [(0, size)]:
            first = regex.search(haystack, lo, hi)
            if first is None:
                continue
            for owner, m in plan.matches(haystack, lo, hi, first.start()):
                hits.extend(owner.resolve(m, text))
    return hits


def _missing(haystack: str, needs: tuple[_Need, ...], gated: bool) -> bool:
    """Is one of a plan's needs missing from `haystack`? (Short texts: `in` costs less than a regex call.)"""
    return any(need not in haystack if gated or scan is None else scan.search(haystack) is None
               for need, scan in needs)


def _at_literal(plan: Plan, rule: TextRule, text: str, where: list[int]) -> list[Hit]:
    """The hits of a rule whose every match starts with its literal (`where`: the literal's offsets, sorted):
    the rule's regex is tried at those offsets only, left to right, skipping what a match covered. That is
    what `finditer` reports, without scanning the text between them."""
    if any(text.find(need, where[0]) < 0 for need in plan.needs):
        return []
    hits: list[Hit] = []
    end = 0
    for at in where:
        if at < end:
            continue
        m = rule.regex.match(text, at)
        if m is not None:
            end = m.end()
            hits.extend(rule.resolve(m, text))
    return hits


class _Taken:
    """Sorted, disjoint spans already chosen; answers 'does this span overlap one of them?'."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect_right(self.starts, start)
        if i and self.ends[i - 1] > start:
            return True
        return i < len(self.starts) and self.starts[i] < end

    def add(self, start: int, end: int) -> None:
        i = bisect_right(self.starts, start)
        self.starts.insert(i, start)
        self.ends.insert(i, end)

    def free(self, start: int, end: int) -> list[tuple[int, int]]:
        """The parts of [start, end) that no span covers."""
        out: list[tuple[int, int]] = []
        i = max(bisect_right(self.starts, start) - 1, 0)
        pos = start
        while i < len(self.starts) and self.starts[i] < end:
            if self.ends[i] > pos:
                if self.starts[i] > pos:
                    out.append((pos, self.starts[i]))
                pos = self.ends[i]
            i += 1
        if pos < end:
            out.append((pos, end))
        return out


def _rest(h: Hit, taken: _Taken, text: str) -> list[Hit]:
    """What is left of a hit that overlaps a higher tier's: the parts the other does not cover, so that no
    part of this secret stays (`admin:hunter2-<token>@`: `hunter2-` goes too). Parts without a letter or a
    digit (the `-` between the two) are no secret and stay."""
    return [Hit(s, e, h.kind, h.tier, h.priority) for s, e in taken.free(h.start, h.end)
            if any(c.isalnum() for c in text[s:e])]


def _select(hits: list[Hit], markers: list[tuple[int, int]], text: str) -> list[Hit]:
    taken = _Taken()
    old = _Taken()  # markers already in the text: a hit that touches one is someone's text around it, dropped
    for s, e in markers:
        taken.add(s, e)
        old.add(s, e)
    chosen: list[Hit] = []
    for tier in (Tier.TOKEN, Tier.CONTEXT, Tier.GENERIC):
        layer = sorted((h for h in hits if h.tier == tier and h.end > h.start), key=lambda h: (h.start, -h.end))
        layer = [part for h in layer if not old.overlaps(h.start, h.end)
                 for part in ((h,) if not taken.overlaps(h.start, h.end) else _rest(h, taken, text))]
        layer.sort(key=lambda h: (h.start, -h.end))
        merged: list[Hit] = []
        for h in layer:
            last = merged[-1] if merged else None
            if last is not None and h.start < last.end:
                best = max((last, h), key=lambda x: (x.priority, x.end - x.start))
                merged[-1] = Hit(last.start, max(last.end, h.end), best.kind, tier, best.priority)
            else:
                merged.append(h)
        for h in merged:
            taken.add(h.start, h.end)
        chosen.extend(merged)
    chosen.sort(key=lambda h: h.start)
    return chosen


def _hits(text: str) -> list[Hit]:
    found_runs = _runs(text)
    token_hits = _token_hits(text, found_runs) if found_runs.spans else []
    return token_hits + _text_hits(text, frozenset(h.kind for h in token_hits), found_runs)


def _markers(text: str) -> list[tuple[int, int]]:
    first = text.find("[REDACTED-")  # every marker starts so: the regex need not scan what comes before
    return [m.span() for m in _MARKER.finditer(text, first)] if first >= 0 else []


def _apply(text: str, chosen: list[Hit]) -> tuple[str, list[tuple[int, int]]]:
    """Replace the chosen hits; return the new text and where its new markers are."""
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    pos = size = 0
    for h in chosen:
        out.append(text[pos:h.start])
        size += h.start - pos
        marker = f"[REDACTED-{h.kind}]"
        out.append(marker)
        spans.append((size, size + len(marker)))
        size += len(marker)
        pos = h.end
    out.append(text[pos:])
    return "".join(out), spans


RECHECK = 600  # characters around a new marker that are searched again (no rule looks further)


def _recheck(text: str, spans: list[tuple[int, int]]) -> list[Hit]:
    """Hits that exist only now that secrets became markers (a token glued to the next secret, whose end
    boundary was that secret, ends at a marker now). Only windows around the new markers are searched, and
    only hits well inside a window count, so a cut at the window's edge invents nothing."""
    windows: list[list[int]] = []
    for s, e in spans:
        lo, hi = max(0, s - RECHECK), min(len(text), e + RECHECK)
        if windows and lo <= windows[-1][1]:
            windows[-1][1] = hi
        else:
            windows.append([lo, hi])
    found: list[Hit] = []
    for lo, hi in windows:
        keep_lo = lo if lo == 0 else lo + RECHECK // 2
        keep_hi = hi if hi == len(text) else hi - RECHECK // 2
        for h in _hits(text[lo:hi]):
            if keep_lo <= h.start + lo and h.end + lo <= keep_hi:
                found.append(Hit(h.start + lo, h.end + lo, h.kind, h.tier, h.priority))
    return found


def redact_report(text: str) -> tuple[str, dict[str, int]]:
    """Return `text` with every secret replaced by `[REDACTED-<KIND>]`, and how many of each kind.

    Idempotent: the result holds nothing left to redact. A replacement can change what its neighbours look
    like, so the surroundings of new markers are searched again until nothing new turns up."""
    if len(text) < 8:
        return text, {}
    hits = _hits(text)
    if not hits:
        return text, {}
    counts: Counter[str] = Counter()
    # Until nothing new turns up: each round makes at least one secret a marker, and markers are never matched
    # again, so this ends (a chain of tokens glued by `-` can take a round per token). The bound is a backstop.
    for _ in range(len(text)):
        chosen = _select(hits, _markers(text), text) if hits else []
        if not chosen:
            break
        counts.update(h.kind for h in chosen)
        text, spans = _apply(text, chosen)
        hits = _recheck(text, spans)
    return text, dict(counts)


def redact(text: str) -> str:
    """Return `text` with every secret replaced by `[REDACTED-<KIND>]`; all other bytes unchanged."""
    return redact_report(text)[0]
