"""The redaction engine: find every secret in a text and replace it by `[REDACTED-<KIND>]`.

Owns the order of work and its invariants:
- every byte that is not part of a secret is kept as it was;
- markers already in the text are never matched again, and the surroundings of new markers are searched
  again until nothing new turns up, so `redact(redact(x)) == redact(x)`;
- overlapping findings are resolved by tier (a self-identifying token beats its context, which beats a
  generic keyword rule) and merged within a tier, so a secret is never half redacted;
- everything is compiled at import; nothing reads the environment.

Speed comes from pre-filters. Self-identifying tokens are at least RUN_MIN characters of `[\\w+/=.~:-]`,
so their ~90 regexes run only over those runs of the text, joined into one string (prose, JSON punctuation
and short words never reach them), and each only if its literal anchor occurs there; runs that are long
pure base64 (images, archives) are skipped. Context rules are skipped when their keyword is absent, and
keyword rules run on a lowercased copy (same offsets) instead of folding case.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter

from memory_syncd.redact import generic, keys, structural, tokens_ai, tokens_cloud, tokens_comms, tokens_dev
from memory_syncd.redact.kinds import Hit, Kind, TextRule, Tier, TokenRule
from memory_syncd.redact.values import is_filler

TOKEN_RULES: tuple[TokenRule, ...] = (tokens_ai.RULES + tokens_dev.RULES + tokens_cloud.RULES + tokens_comms.RULES
                                      + keys.TOKEN_RULES)
TEXT_RULES: tuple[TextRule, ...] = keys.TEXT_RULES + structural.TEXT_RULES + generic.TEXT_RULES
SHORT_TEXT_RULES: tuple[TextRule, ...] = keys.TEXT_RULES + structural.TEXT_RULES + generic.SHORT_TEXT_RULES
SHORT_TEXT = 1024  # below this, fewer regex calls matter more than faster scans
RUN_MIN = 16  # no token format is shorter
BLOB_MIN = 4096  # no credential is longer


def _collect_kinds() -> tuple[Kind, ...]:
    seen: dict[str, Kind] = {}
    for kind in [r.kind for r in TOKEN_RULES] + [k for r in TEXT_RULES for k in r.kinds]:
        if seen.setdefault(kind.name, kind) is not kind:
            raise AssertionError(f"two different kinds named {kind.name}")
    return tuple(sorted(seen.values(), key=lambda k: k.family))


def _group_by_anchor() -> tuple[tuple[tuple[str, tuple[TokenRule, ...]], ...], tuple[TokenRule, ...]]:
    """Token rules keyed by anchor (each distinct anchor is looked for once), and the unanchored ones."""
    by_anchor: dict[str, list[TokenRule]] = {}
    for rule in TOKEN_RULES:
        for anchor in rule.anchors:
            by_anchor.setdefault(anchor, []).append(rule)
    return (tuple((a, tuple(rules)) for a, rules in by_anchor.items()),
            tuple(r for r in TOKEN_RULES if not r.anchors))


KINDS: tuple[Kind, ...] = _collect_kinds()
KINDS_BY_NAME: dict[str, Kind] = {k.name: k for k in KINDS}
_ANCHORED, _UNANCHORED = _group_by_anchor()
_RUN = re.compile(rf"[A-Za-z0-9_+/=.~:-]{{{RUN_MIN},}}")
_BLOB = re.compile(r"[A-Za-z0-9+/=]+")
_MARKER = re.compile(r"\[REDACTED-[A-Z0-9-]+\]")
_HEX = frozenset("0123456789abcdefABCDEF")


def _escaped_boundary(text: str, at: int) -> bool:
    """Is the character before `at` the end of an escape (`\\n`, `%3D`, `\\u0022`) rather than a word?"""
    prev = text[at - 1]
    if at >= 2 and text[at - 2] == "\\" and prev in "nrtbfv":
        return True
    if at >= 3 and text[at - 3] == "%" and text[at - 2] in _HEX and prev in _HEX:
        return True
    return at >= 6 and text[at - 6:at - 4] == "\\u" and all(c in _HEX for c in text[at - 4:at])


def _runs(text: str) -> tuple[list[int], list[str], list[tuple[int, int]]]:
    """The runs of token characters (start, text) and, apart, the base64 blobs (images, archives): no
    credential is that long, so blobs are searched by no rule."""
    starts: list[int] = []
    pieces: list[str] = []
    blobs: list[tuple[int, int]] = []
    for m in _RUN.finditer(text):
        piece = m.group()
        if len(piece) > BLOB_MIN and _BLOB.fullmatch(piece):
            blobs.append(m.span())
        else:
            starts.append(m.start())
            pieces.append(piece)
    return starts, pieces, blobs


def _token_hits(text: str, runs: tuple[list[int], list[str]] | None = None) -> list[Hit]:
    """Hits of the token rules, which see only the `runs` of token characters, joined. Without `runs` the
    text is scanned whole: slower, same hits (every token is, or is inside, a run of RUN_MIN characters)."""
    if runs is not None:
        starts, pieces = runs
        if not pieces:
            return []
        joined = "\n".join(pieces)  # "\n" is in no token charset, so no match spans two runs
        jstarts: list[int] = []
        pos = 0
        for piece in pieces:
            jstarts.append(pos)
            pos += len(piece) + 1
    else:
        joined, starts, jstarts = text, [0], [0]
    rules = [rule for anchor, group in _ANCHORED if anchor in joined for rule in group]
    hits: list[Hit] = []
    for rule in dict.fromkeys(rules + list(_UNANCHORED)):  # a rule with two anchors runs once
        for m in rule.regex.finditer(joined):
            i = bisect_right(jstarts, m.start()) - 1
            shift = starts[i] - jstarts[i]
            at = m.start() + shift
            if rule.back_max:
                floor = max(0, at - rule.back_max)
                while at > floor and text[at - 1] in rule.back:
                    at -= 1
            if at > 0 and text[at - 1] in rule.left and not _escaped_boundary(text, at):
                continue
            s, e = m.span(rule.group)
            if rule.back_max:
                s = at - shift
            secret = joined[s:e]
            if is_filler(secret) or (rule.check is not None and not rule.check(secret)):
                continue
            hits.append(Hit(s + shift, e + shift, rule.kind.name, Tier.TOKEN, rule.priority))
    return hits


def _text_hits(text: str, found: frozenset[str] = frozenset(), short: bool | None = None,
               blobs: list[tuple[int, int]] | None = None) -> list[Hit]:
    """Hits of the context rules; `found` holds the kinds the token rules found (see `TextRule.requires`).
    Keyword rules do not look inside `blobs` (blanked in their lowercase copy, so offsets stay)."""
    lowered = text.lower()
    same_offsets = len(lowered) == len(text)  # lower() can lengthen a few non-ASCII characters
    if blobs and same_offsets:
        parts: list[str] = []
        pos = 0
        for s, e in blobs:
            parts += [lowered[pos:s], " " * (e - s)]
            pos = e
        lowered = "".join([*parts, lowered[pos:]])
    if short is None:
        short = len(text) < SHORT_TEXT
    hits: list[Hit] = []
    for rule in SHORT_TEXT_RULES if short else TEXT_RULES:
        if rule.requires and rule.requires not in found:
            continue
        haystack = lowered if rule.lower else text
        for anchor in rule.anchors:
            if anchor in haystack:
                break
        else:
            if rule.anchors:
                continue
        if rule.lower and not same_offsets:
            assert rule.regex_i is not None
            matches = rule.regex_i.finditer(text)
        else:
            matches = rule.regex.finditer(haystack)
        for m in matches:
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


def _select(hits: list[Hit], markers: list[tuple[int, int]]) -> list[Hit]:
    taken = _Taken()
    for s, e in markers:
        taken.add(s, e)
    chosen: list[Hit] = []
    for tier in (Tier.TOKEN, Tier.CONTEXT, Tier.GENERIC):
        layer = sorted((h for h in hits if h.tier == tier and h.end > h.start), key=lambda h: (h.start, -h.end))
        layer = [h for h in layer if not taken.overlaps(h.start, h.end)]
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
    starts, pieces, blobs = _runs(text)
    token_hits = _token_hits(text, (starts, pieces))
    return token_hits + _text_hits(text, frozenset(h.kind for h in token_hits), blobs=blobs)


def _markers(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _MARKER.finditer(text)] if "[REDACTED-" in text else []


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
    counts: Counter[str] = Counter()
    for _ in range(4):
        chosen = _select(hits, _markers(text)) if hits else []
        if not chosen:
            break
        counts.update(h.kind for h in chosen)
        text, spans = _apply(text, chosen)
        hits = _recheck(text, spans)
    return text, dict(counts)


def redact(text: str) -> str:
    """Return `text` with every secret replaced by `[REDACTED-<KIND>]`; all other bytes unchanged."""
    return redact_report(text)[0]
