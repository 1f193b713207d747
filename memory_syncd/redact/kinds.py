"""The vocabulary of the redaction engine: secret kinds, the rules that find them, and the hits they report.

Owns `Kind` (the documented, public description of one kind of secret), the two rule shapes the engine runs
(`TokenRule` for self-identifying tokens, `TextRule` for secrets recognised by their surroundings), `Hit`
(one span to replace) and the shape mini-language that renders example secrets for the docs and the tests.

Invariants: everything here is an immutable value built once at import; rendering a shape without a random
generator is deterministic, so the reference doc generated from `KINDS` never changes by itself.
"""

from __future__ import annotations

import base64
import random
import re
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import IntEnum


class Tier(IntEnum):
    """How sure a rule is. On overlap the higher tier wins; within a tier overlapping hits are merged."""

    GENERIC = 1  # keyword + assignment + value heuristics
    CONTEXT = 2  # a structure around the secret (URL userinfo, Authorization header, curl -u)
    TOKEN = 3  # the secret identifies itself (unique prefix, PEM armour)


class Family(IntEnum):
    """Sections of the reference doc, in the order they appear."""

    AI = 1
    CODE = 2
    CLOUD = 3
    MESSAGING = 4
    PAYMENTS = 5
    KEYS = 6
    CONNECTIONS = 7
    GENERIC = 8


FAMILY_TITLES: dict[Family, str] = {
    Family.AI: "AI and LLM providers",
    Family.CODE: "Code hosting, CI and package registries",
    Family.CLOUD: "Cloud, infrastructure and SaaS",
    Family.MESSAGING: "Messaging and email",
    Family.PAYMENTS: "Payments and commerce",
    Family.KEYS: "Private keys and signed tokens",
    Family.CONNECTIONS: "Connection strings, headers and command lines",
    Family.GENERIC: "Generic assignments (keyword + value heuristics)",
}


@dataclass(frozen=True)
class Kind:
    """One kind of secret, as documented in references/SECRET_PATTERNS.md.

    `name` is what appears in the marker `[REDACTED-<name>]`. `shape` uses `<SLOT:n>` / `<SLOT:lo-hi>`
    slots (see `SLOT_CHARSETS`); `context` shows how the secret sits in text, `{}` standing for it.
    """

    name: str
    title: str
    family: Family
    tier: Tier
    pattern: str
    shape: str
    guard: str
    context: str = "{}"

    @property
    def marker(self) -> str:
        return f"[REDACTED-{self.name}]"

    @property
    def example(self) -> str:
        """An obviously fake instance in its context, rendered deterministically from `shape`."""
        return self.context.replace("{}", render_shape(self.shape))


@dataclass(frozen=True)
class Hit:
    """A span of the input to replace by the marker of `kind`."""

    start: int
    end: int
    kind: str
    tier: Tier
    priority: int = 0


@dataclass(frozen=True)
class TokenRule:
    """A self-identifying token. Runs on long runs of token characters only (see `scan`).

    The match (or group `group`) is the secret. The character before the match must not be in `left`
    (a word boundary that also accepts JSON escapes like a literal `\\n`), and `check`, when set, must
    accept the secret: that is where entropy or shape guards live for formats without a unique prefix.
    A format whose fixed part is not at its start (Mailchimp's `-usN` suffix) is matched from that part,
    with a look-behind, and the secret is extended left over up to `back_max` characters of `back`.
    """

    kind: Kind
    regex: re.Pattern[str]
    anchors: tuple[str, ...] = ()
    left: frozenset[str] = frozenset(string.ascii_letters + string.digits)
    group: int | str = 0
    check: Callable[[str], bool] | None = None
    priority: int = 20
    back: frozenset[str] = frozenset()
    back_max: int = 0


Resolver = Callable[[re.Match[str], str], Iterable[Hit]]


@dataclass(frozen=True)
class TextRule:
    """A context rule, run on the whole text. `resolve(match, text)` yields the hits to redact.

    With `lower`, `regex` is written for (and run on) the lowercased text, so keywords need no case
    folding; the offsets are the same as in the original text, which is what `resolve` reads values from.
    `regex_i` is the same pattern compiled with IGNORECASE, used when lowercasing would move offsets.
    With `requires`, the rule runs only if the token rules found that kind (a pair's second half).
    `anchors` are the rule's keywords; `needs` are further substrings every match contains (cheap gates).
    With `in_runs`, every match starts with the regex's literal prefix and that prefix lies in a run of token
    characters (see `scan`), so the engine looks for it in the runs instead of the whole text.
    """

    kinds: tuple[Kind, ...]
    regex: re.Pattern[str]
    resolve: Resolver
    anchors: tuple[str, ...] = ()
    lower: bool = False
    regex_i: re.Pattern[str] | None = None
    requires: str = ""
    needs: tuple[str, ...] = ()
    in_runs: bool = False


def lower_rule(kinds: tuple[Kind, ...], source: str, resolve: Resolver, anchors: tuple[str, ...],
               flags: int = 0, needs: tuple[str, ...] = ()) -> TextRule:
    """A `TextRule` over the lowercased text, with its case-insensitive twin for non-ASCII input."""
    return TextRule(kinds, re.compile(source, flags), resolve, anchors, True,
                    re.compile(source, flags | re.IGNORECASE), needs=needs)


# --- shapes ----------------------------------------------------------------------------------------------

_B62 = string.ascii_letters + string.digits
_BECH32 = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"
# Slot charsets, and the fixed filler each one renders to in docs: patterned, so obviously not a real key.
SLOT_CHARSETS: dict[str, str] = {
    "B62": _B62,
    "B64U": _B62 + "_-",
    "B64": _B62 + "+/",
    "HEX": "0123456789abcdef",
    "DIG": string.digits,
    "B32": string.ascii_uppercase + "234567",
    "UPAN": string.ascii_uppercase + string.digits,
    "LOWAN": string.ascii_lowercase + string.digits,
    "ALPHA": string.ascii_letters,
    "BECH32": _BECH32,
    "PW": _B62 + "!%*_+-~^",
    "UPW": _B62 + "!#$%&*+,-.:;=@^_~",  # URL passwords: the userinfo's punctuation, `@` and `:` included
}
_FILLER = "Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp9Oo8Nn7Mm6Ll5Kk4Jj3Ii2Hh1Gg0Ff9Ee8Dd7Cc6Bb5Aa4"
_FILLERS: dict[str, str] = {
    "HEX": "0123456789abcdef",
    "DIG": "1234567890",
    "B32": "ZYXWVUTSRQPONMLKJIHGFEDCBA765432",
    "BECH32": _BECH32[::-1],
    "PW": "Zz9!Yy8%Xx7*Ww6~Vv5^Uu4+Tt3-Ss2_Rr1",
    "UPW": "Zz9!Yy8#Xx7@Ww6:Vv5&Uu4%Tt3=Ss2$Rr1",
}
_SLOT = re.compile(r"<([A-Z0-9]+)(?::(\d+)(?:-(\d+))?)?>")


def _fill(slot: str, n: int, rng: random.Random | None) -> str:
    if slot == "UUID":
        if rng is None:
            return "01234567-89ab-4def-8123-456789abcdef"
        h = "".join(rng.choice("0123456789abcdef") for _ in range(32))
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:]}"
    if slot == "BASIC":
        user = "deploy" if rng is None else "".join(rng.choice(string.ascii_lowercase) for _ in range(6))
        return base64.b64encode(f"{user}:{_fill('PW', n or 14, rng)}".encode()).decode()
    charset = SLOT_CHARSETS[slot]
    if rng is None:
        filler = _FILLERS.get(slot) or "".join(c for c in _FILLER if c in charset)
        return (filler * (n // len(filler) + 1))[:n]
    out = [rng.choice(charset) for _ in range(n)]
    if slot in ("PW", "UPW", "B62", "B64U", "B64") and n >= 8:
        # Real keys of these alphabets practically always mix digits and letters; passwords need a digit.
        out[rng.randrange(n)] = rng.choice(string.digits)
        out[0] = rng.choice(string.ascii_letters)
    return "".join(out)


def render_shape(shape: str, rng: random.Random | None = None) -> str:
    """Expand the `<SLOT:n>` slots of `shape`: the fixed filler without `rng`, random characters with it."""

    def one(m: re.Match[str]) -> str:
        lo = int(m.group(2) or 0)
        hi = int(m.group(3) or lo)
        n = lo if rng is None else rng.randint(lo, hi)
        return _fill(m.group(1), n, rng)

    return _SLOT.sub(one, shape)


# --- building token rules ---------------------------------------------------------------------------------

TOKEN_GUARD = ("unique prefix, no letter or digit right before it; exact charset and length; a body of one "
               "repeated character or too few distinct ones (`xxxx…`, `0000…`) is a placeholder")
ALNUM = frozenset(string.ascii_letters + string.digits)


@dataclass(frozen=True)
class Fast:
    """A faster form of (part of) a documented token regex, for formats whose fixed part is not at the
    start: it starts at that fixed part, checks what comes before with a look-behind, and the secret is then
    extended left over up to `back_max` characters of `back`. The regex engine skips ahead to a literal
    prefix far faster than it tries a character class at every position."""

    regex: str
    back: str = ""
    back_max: int = 0
    anchors: tuple[str, ...] = ()


def token(name: str, title: str, family: Family, regex: str, shape: str, *, guard: str = TOKEN_GUARD,
          anchors: tuple[str, ...] = (), left: frozenset[str] = ALNUM, group: int | str = 0,
          check: Callable[[str], bool] | None = None, priority: int = 20, context: str = "{}",
          fast: tuple[Fast, ...] = ()) -> tuple[TokenRule, ...]:
    """The rules of one documented `Kind`: `regex` itself, or its `fast` forms. The doc shows `regex`.

    Without `anchors`, a regex's literal prefix is its anchor (the rule runs only where it occurs)."""
    kind = Kind(name, title, family, Tier.TOKEN, regex, shape, guard, context)
    out = []
    for spec in fast or (Fast(regex, anchors=anchors),):
        found = spec.anchors
        if not found and len(prefix := literal_prefix(spec.regex)) >= 2:
            found = (prefix,)
        out.append(TokenRule(kind, re.compile(spec.regex), found, left, group, check, priority,
                             frozenset(spec.back), spec.back_max))
    return tuple(out)


def rules(*groups: tuple[TokenRule, ...]) -> tuple[TokenRule, ...]:
    return tuple(rule for group in groups for rule in group)


def literal_prefix(regex: str) -> str:
    """The literal text every match of `regex` starts with (`ghp_` for `ghp_[A-Za-z0-9]{36}`)."""
    return split_literal(regex)[0]


def split_literal(regex: str) -> tuple[str, str]:
    """`regex` as its literal prefix (see `literal_prefix`) and the source of the rest of the pattern."""
    out: list[str] = []
    i = 0
    ends = [0]  # source offset after each literal character
    while i < len(regex):
        c = regex[i]
        if c == "\\" and i + 1 < len(regex) and regex[i + 1] in ".-/+":
            out.append(regex[i + 1])
            i += 2
        elif c in "[(?*+{|^$\\.":
            break
        else:
            out.append(c)
            i += 1
        ends.append(i)
    if i < len(regex) and regex[i] in "?*{" and out:
        out.pop()  # a quantifier makes the last literal optional
    return "".join(out), regex[ends[len(out)]:]
