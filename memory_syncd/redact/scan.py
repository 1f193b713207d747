"""Where a token could be: the cheap passes that decide which token rules run, and on which runs of a text.

Owns the runs of token characters (every self-identifying token lies inside a run of at least RUN_MIN
characters of `[A-Za-z0-9_+/=.~:-]`), the base64 blobs inside them that no rule searches, and the token
prefilter: ONE regex over the runs that finds every place where some rule's literal anchor starts a word.

Invariant: the prefilter only ever narrows work, never hits. For every match a token rule could report (its
anchor at the start of the match, after a character the rule accepts as a left boundary or after an escape
such as `\\n`, `%3D` or `\\u0022`), `candidates` returns that rule together with the run holding the match.
`tests/test_redact_contexts.py` checks the prefiltered and the plain scan agree on a transcript corpus.

Why it is shaped like this: Python's regex engine walks an alternation of ~90 anchors at every position (about
20 MB/s), while a pattern that starts with one literal character is found at memchr-like speed. So the runs are
found with a byte translation and `bytes.find`, the runs are joined, the separators inside them are translated
to one sentinel byte, and the anchors become a trie behind that sentinel: the engine then only stops at word
starts inside long runs, and at each one walks a trie instead of ninety alternatives.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Sequence
from typing import NamedTuple

from memory_syncd.redact.kinds import ALNUM, TokenRule

RUN_MIN = 16  # no token format is shorter
BLOB_MIN = 4096  # no credential is longer

Span = tuple[int, int]

_TOKEN_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+/=.~:-"
_SEPARATORS = b"_+/=.~:-"  # the token characters that are not letters or digits: where words start in a run
_BASE64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
_NOT_BASE64 = tuple(bytes([c]) for c in _TOKEN_CHARS if c not in _BASE64)  # `_` `.` `~` `:` `-`
# Token characters become `a`, everything else a space: a run is then a plain substring search.
_CLASS = bytes(ord("a") if c in _TOKEN_CHARS else ord(" ") for c in range(256))
_MARK = bytes(0 if c in _SEPARATORS else c for c in range(256))
_RUN = b"a" * RUN_MIN
_SENTINEL = b"\x00"
_HEX = frozenset(b"0123456789abcdefABCDEF")
_ESCAPE_LETTERS = frozenset(b"nrtbfv")
_ESCAPE_LEADS = frozenset(b"\\%")


def encode(text: str) -> bytes:
    """`text` as ASCII bytes with the same offsets (every other character becomes `?`, a non-token byte)."""
    return text.encode("ascii", "replace")


class Runs(NamedTuple):
    """A text's runs of at least RUN_MIN token characters: `spans`, and apart the base64 `blobs` (images,
    archives: runs longer than BLOB_MIN made only of base64 characters). `data` is the text as bytes with
    the same offsets (see `encode`); `joined` holds the spans' bytes, each led by the sentinel; `escaped`
    lists the spans that follow a backslash or `%` (they may start with an escape, see `_escape_skip`)."""

    data: bytes
    spans: list[Span]
    blobs: list[Span]
    joined: bytes
    escaped: list[int]

    def where(self, needle: bytes) -> list[int]:
        """Where `needle` (token characters only) occurs inside a run (a span or a blob): sorted text offsets.
        Blobs are searched only for a needle they could hold (pure base64)."""
        found: list[int] = []
        joined = self.joined
        at = joined.find(needle)
        if at >= 0:
            spans = self.spans
            count = joined.count
            # The k-th sentinel of `joined` leads span k (separators inside a span are not sentinels there), so
            # counting the sentinels up to an offset names its span: cheaper than a table over every span.
            k, counted = -1, 0
            while at >= 0:
                k += count(_SENTINEL, counted, at)
                counted = at
                found.append(spans[k][0] + at - joined.rfind(_SENTINEL, 0, at) - 1)
                at = joined.find(needle, at + 1)
        if self.blobs and not needle.translate(None, _BASE64):
            data = self.data
            for s, e in self.blobs:
                at = data.find(needle, s, e)
                while at >= 0:
                    found.append(at)
                    at = data.find(needle, at + 1, e)
            found.sort()
        return found


def runs(data: bytes) -> Runs:
    """The runs of token characters in `data` (see `encode`)."""
    cls = data.translate(_CLASS)
    find = cls.find
    start = find(_RUN)
    if start < 0:
        return Runs(data, [], [], b"", [])
    # The loop only finds the runs (searching is most of its cost); what each run needs comes after, in
    # comprehensions, which cost less per run than the same steps inside this loop.
    spans: list[Span] = []
    append = spans.append
    while start >= 0:
        end = find(b" ", start + RUN_MIN)
        if end < 0:
            append((start, len(cls)))
            break
        append((start, end))
        start = find(_RUN, end)
    blobs: list[Span] = []
    if len(data) > BLOB_MIN:
        blobs = [span for span in spans if span[1] - span[0] > BLOB_MIN and _base64(data, *span)]
        if blobs:
            apart = set(blobs)
            spans = [span for span in spans if span not in apart]
    escaped: list[int] = []
    if spans and (b"\\" in data or b"%" in data):
        escaped = [i for i, (s, _) in enumerate(spans) if s and data[s - 1] in _ESCAPE_LEADS]
    joined = _SENTINEL + _SENTINEL.join([data[s:e] for s, e in spans]) if spans else b""
    return Runs(data, spans, blobs, joined, escaped)


def _base64(data: bytes, start: int, end: int) -> bool:
    """Is the run `data[start:end]` pure base64? A run holds token characters only, so it is unless it holds
    one of the few that base64 lacks (each looked for at memchr speed)."""
    return all(data.find(c, start, end) < 0 for c in _NOT_BASE64)


def _escape_skip(data: bytes, start: int) -> int:
    """How many bytes at the start of a run belong to an escape that ends before a token (`\\n`, `\\u0022`,
    `%3D`): a token may start right after one, though the byte before it is a letter or digit."""
    if not start:
        return 0
    before = data[start - 1]
    first = data[start]
    if before == 0x5C:  # backslash
        if first in _ESCAPE_LETTERS:
            return 1
        if first == 0x75 and all(c in _HEX for c in data[start + 1:start + 5]):  # u0022
            return 5
    elif before == 0x25 and all(c in _HEX for c in data[start:start + 2]):  # %3D
        return 2
    return 0


def _trie(words: Sequence[bytes]) -> bytes:
    """A regex (bytes) matching exactly `words`, factored by common prefixes, longest first."""
    rest = sorted(set(words) - {b""})
    if not rest:
        return b""
    groups: dict[int, list[bytes]] = {}
    for word in rest:
        groups.setdefault(word[0], []).append(word[1:])
    branches = [re.escape(bytes([c])) + _trie(tails) for c, tails in groups.items()]
    body = branches[0] if len(branches) == 1 else b"(?:" + b"|".join(branches) + b")"
    if b"" not in words:
        return body
    return b"(?:" + body + b")?" if len(branches) > 1 or len(body) > 1 else body + b"?"


class TokenPrefilter:
    """Which token rules may match, and in which runs. Built once at import from the rule registry."""

    def __init__(self, rules: Sequence[TokenRule]) -> None:
        self.rules = tuple(rules)
        keyed: dict[bytes, set[int]] = {}
        probes: list[tuple[re.Pattern[bytes], int]] = []
        for index, rule in enumerate(self.rules):
            keys = self._keys(rule)
            if keys is None:
                # Anchored inside a word (or not at all): the rule's own regex finds its candidates.
                probes.append((re.compile(rule.regex.pattern.encode()), index))
                continue
            for key in keys:
                keyed.setdefault(key, set()).add(index)
        # A key stands for every rule whose key is a prefix of it: the trie reports the longest key only.
        self._by_key = {key: frozenset(i for other, found in keyed.items() if key.startswith(other) for i in found)
                        for key in keyed}
        # Only the sentinel is consumed: a key may end on the sentinel that leads the next one (`key/sk-…`).
        # A character class first: most word starts in runs (digits, hex) begin no key, and fail there.
        firsts = b"".join(re.escape(bytes([c])) for c in sorted({key[1] for key in keyed}))
        self._trie = re.compile(_SENTINEL + b"(?=[" + firsts + b"])(?=(" + _trie([key[1:] for key in keyed]) + b"))")
        self._probes = tuple(probes)
        self._widths = tuple(_shortest(rule.regex) for rule in self.rules)

    @staticmethod
    def _keys(rule: TokenRule) -> list[bytes] | None:
        """The rule's anchors as they read in the marked runs (separators are the sentinel), each led by the
        sentinel that precedes a word start; None when an anchor can sit inside a word."""
        if not rule.anchors:
            return None
        word_start = rule.left >= ALNUM  # a letter or digit before the token rules it out
        keys: list[bytes] = []
        for anchor in rule.anchors:
            marked = anchor.encode().translate(_MARK)
            if marked.startswith(_SENTINEL):
                keys.append(marked)  # found at its own separator, whatever comes before
            elif word_start and not rule.back_max:
                keys.append(_SENTINEL + marked)
            elif word_start and rule.back_max == 1 and len(rule.back) <= 2:
                keys += [_SENTINEL + marked] + [_SENTINEL + c.encode() + marked for c in sorted(rule.back)]
            else:
                return None
        return keys

    def candidates(self, found_runs: Runs) -> list[tuple[TokenRule, Span]]:
        """(rule, run) pairs worth running: the rule's anchor starts a word in that run."""
        data, spans, _blobs, joined, leads = found_runs
        if not spans:
            return []
        escaped: list[tuple[int, int]] = []  # (run, bytes skipped): runs that start with an escape
        for i in leads:
            start = spans[i][0]
            if data[start - 1] == 0x5C and data[start] in _ESCAPE_LETTERS:
                escaped.append((i, 1))  # the common case (`\\n` in JSON strings), without a call
            elif skip := _escape_skip(data, start):
                escaped.append((i, skip))
        if escaped:
            joined += _SENTINEL + _SENTINEL.join([data[spans[i][0] + skip:spans[i][1]] for i, skip in escaped])
        by_key = self._by_key
        found: list[tuple[int, int]] = [(m.start(), rule) for m in self._trie.finditer(joined.translate(_MARK))
                                        for rule in by_key[_SENTINEL + m.group(1)]]
        for probe, rule in self._probes:
            found += [(m.start(), rule) for m in probe.finditer(joined)]
        if not found:
            return []  # the common case: no offsets needed
        # The k-th sentinel of `joined` leads run k (the runs' own separators are not sentinels there, only in
        # the marked copy): counting sentinels between sorted offsets names each offset's run, at memchr speed,
        # instead of a table over every run (most texts have many runs and few offsets).
        found.sort()
        count = joined.count
        size = len(spans)
        pairs: set[tuple[int, int]] = set()
        run, counted = -1, 0
        for at, rule in found:
            run += count(_SENTINEL, counted, at + 1)
            counted = at + 1
            pairs.add((rule, run if run < size else escaped[run - size][0]))
        # A run shorter than a rule's shortest match cannot hold one (`.secret_name` is no Notion token): most
        # anchors found in transcripts are such words, and each would cost a regex call.
        widths = self._widths
        return [(self.rules[rule], spans[run]) for rule, run in sorted(pairs)
                if spans[run][1] - spans[run][0] >= widths[rule]]


def _shortest(regex: re.Pattern[str]) -> int:
    """The fewest characters a match of `regex` spans (look-arounds count as none), from the standard
    library's own parser; 0 (no run is ruled out) where that private module is missing."""
    try:
        parser = importlib.import_module("re._parser")
        return int(parser.parse(regex.pattern, regex.flags).getwidth()[0])
    except (ImportError, AttributeError):  # pragma: no cover - a Python without re._parser
        return 0
