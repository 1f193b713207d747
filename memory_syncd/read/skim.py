"""Big transcript lines: which are not parsed at all (`amplifies`), and how the others are parsed without
building their long strings (`skeleton`).

A line made of millions of tiny containers (`[{},{},…]`) parses into objects twenty times its size. Past
`_MAX_CONTAINERS` `{`/`[` per MiB a big line is not parsed (counted as malformed): that keeps a line at the
cap under about twice its size in objects. Brackets inside strings count too, so dense JSON or code quoted
in a multi-MiB tool result can trip it; such a line then costs one count, never memory.

A 25 MB tool result is almost all one or two JSON strings (an exec log, a base64 image) that nothing on
the read side looks at, yet a plain parse builds each as a Python str: up to four times the line's size
when the text holds one emoji. The skeleton is the line with the body of every long string replaced by
`MARK`; it is a few kB, and parsing it gives the line's structure and short fields.

Invariants (what makes the skeleton's parse stand for the line's):
- Every left-out body is checked, in pieces, to be a complete, valid JSON string body: valid UTF-8, only
  valid escapes, no raw control character, no unescaped quote, no dangling backslash. Pieces are cut only
  where no escape or UTF-8 sequence can straddle the cut; a cut in a bad place can only make a valid piece
  fail, never let an invalid one pass. So the line is valid JSON exactly when the skeleton is, with the
  same structure, each long string standing where its marker stands.
- A long string used as an object key, or any doubt (an escape orjson refuses, such as a lone surrogate;
  a string whose end cannot be found cheaply), gives None: the caller parses the line whole.
"""

from __future__ import annotations

import re

import orjson

BIG = 1 << 20  # lines up to this size are always parsed, and parsed whole
MIN_SIZE = BIG  # lines shorter than this are parsed whole (orjson is fast enough, and memory is no issue)
MARK = b"\\u0000skim"  # what a long string's body becomes: a string no writer puts in a field we read
MARK_TEXT = "\x00skim"

# A string body as JSON allows it; possessive, so a long one never builds a backtracking stack.
_BODY = rb'[^"\\\x00-\x1f]*+(?:\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})[^"\\\x00-\x1f]*+)*+'
_BODY_RE = re.compile(_BODY)
# Anything up to the next string that does not close within the window: text outside strings, and whole
# short strings (a quote can only appear in a string or delimit one, so this follows JSON's own lexing).
_PIECES = re.compile(rb'(?:[^"]++|"' + _BODY + rb'")*+')
_WINDOW = 32 * 1024  # a string not closed within this many bytes of its start is a long one
_MAX_KEPT = 512 * 1024  # past this much left in, the line's bulk is not in long strings: parse it whole
_PIECE = 128 * 1024  # a long body is checked this much at a time
# A cut after one of these bytes could split an escape (`\`, `\uXXXX`); before a UTF-8 continuation byte
# it would split a character.
_UNSAFE_BEFORE = frozenset(b"\\0123456789abcdefABCDEFu")
_QUOTE = 0x22
_MAX_CONTAINERS = 30_000
_NOT_OPENING = bytes(c for c in range(256) if c not in b"{[")  # deleted by `translate`: the brackets stay


def amplifies(raw: bytes) -> bool:
    """Whether parsing `raw` could cost far more memory than its size (checked on big lines only)."""
    # One pass keeping only the brackets: faster than counting each kind, and it runs over every big line
    return len(raw) > BIG and len(raw.translate(None, _NOT_OPENING)) > _MAX_CONTAINERS * (len(raw) >> 20)


def skeleton(raw: bytes) -> bytes | None:
    """`raw` with the body of each long string replaced by `MARK`, or None when the line has no long string
    or is not one this module can vouch for (the caller then parses it whole)."""
    n = len(raw)
    view = memoryview(raw)
    out: list[bytes | memoryview] = []
    copied = at = left_out = 0
    while True:
        end = min(n, at + _WINDOW)
        stop = _match_end(_PIECES, raw, at, end)
        if stop >= n:
            break
        if stop - left_out > _MAX_KEPT:
            return None
        if stop == end or (end < n and end - stop < _WINDOW // 2):
            at = stop  # the window ended, or a string began late in it: look again from there
            continue
        close = _string_end(raw, view, stop + 1)
        if close < 0 or raw[close + 1:close + 64].lstrip()[:1] == b":":
            return None
        out += (view[copied:stop + 1], MARK)
        left_out += close - stop - 1
        copied, at = close, close + 1
    if not out:
        return None
    out.append(view[copied:])
    return b"".join(out)


def _string_end(raw: bytes, view: memoryview, start: int) -> int:
    """The index of the quote that closes the string whose body starts at `start`, after checking the body
    piece by piece; -1 if the body is not valid or its end not found."""
    n = len(raw)
    p = start
    while True:
        q = _cut(raw, p, p + _PIECE) if p + _PIECE < n else n
        if q < 0:
            return -1
        if _valid_body(view[p:q]):
            if q == n:
                return -1  # the line ended inside the string
            p = q
            continue
        # The closing quote is in this piece (or the piece is bad): find it, then check what precedes it.
        e = _end_in(raw, p, q)
        return e if e >= 0 and _valid_body(view[p:e]) else -1


def _valid_body(piece: memoryview) -> bool:
    try:
        orjson.loads(b'"' + piece + b'"')
    except orjson.JSONDecodeError:
        return False
    return True


def _end_in(raw: bytes, p: int, q: int) -> int:
    """The first unescaped quote in raw[p:q], or -1. Escaped quotes are skipped with `find` while they are
    few (plain text, base64), then with the body pattern (JSON quoted in a log)."""
    k = p
    for _ in range(16):
        k = raw.find(b'"', k, q)
        if k < 0:
            return -1
        j = k
        while j > p and raw[j - 1] == 0x5C:  # backslashes before it: an odd run escapes it
            j -= 1
        if (k - j) % 2 == 0:
            return k
        k += 1
    e = _match_end(_BODY_RE, raw, p, q)
    return e if e < q and raw[e] == _QUOTE else -1


def _match_end(pattern: re.Pattern[bytes], raw: bytes, pos: int, endpos: int) -> int:
    m = pattern.match(raw, pos, endpos)
    return m.end() if m is not None else pos  # both patterns match the empty string: never None


def _cut(raw: bytes, p: int, want: int) -> int:
    """A place after `p`, at or a little before `want`, where no escape or character straddles; -1 if
    none is near."""
    for q in range(want, max(p, want - 64), -1):
        if raw[q - 1] not in _UNSAFE_BEFORE and not 0x80 <= raw[q] < 0xC0:
            return q
    return -1
