"""The small text judgements the renderer makes: which words are facts, which lines say the same thing, which
sentences are statements, and how to shorten a text without losing its facts.

Owns:
- mentions: names, numbers and identifiers in prose (to weigh exchanges and keep their facts), and the
  stricter `is_identifier` (paths, URLs, code spans, ids with digits) for the "Also mentioned" list;
- `near_key` / `Seen`: near-identical lines (case, digits, punctuation and small edits ignored);
- `statement`: a sentence that records a decision, plan or result (no questions, headings or fragments);
- `clip`: a text cut to a length that keeps its first sentence and its most telling other sentences.
Pure functions of strings; nothing here redacts (its input is redacted already).
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Sequence

CODE_SPAN = re.compile(r"`([^`]{2,60})`")
CODE_BLOCK = re.compile(r"```.*?(?:```|$)", re.DOTALL)  # code the agent showed: not what a day is about
_NAME = re.compile(  # the capital first, then what precedes it: twice as fast as a leading lookbehind
    r"[A-ZÄÖÜ](?<=[a-z,;:(] [A-ZÄÖÜ])[\w&'-]+(?: (?:[A-ZÄÖÜ][\w&'-]+|GmbH|AG|Inc|Ltd))*")
_IDENTIFIER = re.compile(r"\d|\w[_/.:#]\w|[a-z][A-Z]|\w-\w+-\w")
_COMMON = ("Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June July "
           "August September October November December I I'm I'll I've OK Done Yes No")
_COMMON_NAMES = frozenset(_COMMON.split())
_COMPARED = 16  # a line is compared with at most this many recent lines of each bucket
_LETTERS = re.compile(r"[^\W\d_]+")
_LIST_MARK = re.compile(r"^(?:[-*•>]|\d+[.)])\s+")
_WORDS = re.compile(r"[\s，。：；！？、（）「」]+")
_CJK_PUNCTUATION = re.compile(r"[，。：；！？、（）「」]")  # what `_WORDS` splits at besides spaces
_SENTENCE = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])|\s+(?=- )")
_SENTENCE_LATIN = re.compile(r"(?<=[.!?])\s+|\s+(?=- )")  # the same without CJK ends: a third faster
_TIME_OR_NUMBER = re.compile(r"^[+-]?\d+(?:[.,:/-]\d+)*(?:%|h|m|s|ms|[KMGT]i?B)?$")
_CURRENCY = re.compile(r"[€$£¥₹]")
_FILE = re.compile(r"^[\w.-]+\.[A-Za-z][A-Za-z0-9]{0,5}$")
_DECISION_WORDS = (r"decid\w*", r"agree\w*", r"approv\w*", "chose", "choose", "picked", r"switch\w*", "will",
                   r"plan\w*", "scheduled", r"remind\w*", "todo", "next", "fixed", "merged", "deployed", "created",
                   "moved", "confirmed", "booked", "filed", "tagged", "pushed", "added", "opened", "rotated", "noted",
                   "saved", "sent", "cancel+ed", "postponed", "renamed", "released")


def _decision_pattern(words: Sequence[str]) -> re.Pattern[str]:
    """`\\b(?:word|…)\\b|已|决定|将`, written so that most places are passed over at their first character: the
    words grouped by their first letter behind a lookahead on those letters (a lookbehind instead of the
    leading `\\b`, which a letter makes equivalent). Matched against lower-cased text: twice as fast as
    re.IGNORECASE; this form another third faster."""
    groups: dict[str, list[str]] = {}
    for w in words:
        groups.setdefault(w[0], []).append(w[1:])
    alternatives = "|".join(f"{first}(?:{'|'.join(rest)})" for first, rest in groups.items())
    return re.compile(rf"(?=[{''.join(groups)}])(?<!\w)(?:{alternatives})\b|已|决定|将")


_DECISION = _decision_pattern(_DECISION_WORDS)


def find_mentions(text: str) -> list[str]:
    """Names, numbers and identifiers in `text`, lines of prose (redaction markers left out). Code spans
    are returned with their backticks, so that they can be told apart."""
    found, plain = [], text
    if "`" in text:
        found = [f"`{m}`" for m in CODE_SPAN.findall(text) if "REDACTED" not in m]
        plain = CODE_SPAN.sub(" ", text)
    found += [m for m in _NAME.findall(plain) if m not in _COMMON_NAMES]
    # Words one by one: a regex over the whole text is several times slower than this, as most words repeat.
    words = plain.split()
    if not plain.isascii() and _CJK_PUNCTUATION.search(plain):  # CJK runs words into its punctuation: split there
        words = [w for word in words for w in (_WORDS.split(word) if not word.isascii() else (word,))]
    found += filter(None, map(_word, dict.fromkeys(words)))
    return found


@functools.lru_cache(maxsize=1 << 16)
def _word(word: str) -> str:
    """`word` without surrounding punctuation if it is a number or identifier, else ""."""
    word = word.strip(".,:;!?'\"()[]{}<>*`，。：；！？（）")
    if (len(word) >= 4 or word[:1].isdigit()) and "REDACTED" not in word and _IDENTIFIER.search(word):
        return word
    return ""


@functools.lru_cache(maxsize=1 << 14)
def is_identifier(mention: str) -> bool:
    """A real identifier: a path, URL, file name or code span, or an id with digits (OPS-4417, v7.3.1-rc2,
    €18,750). Not a bare number, time or date, and not a capitalised word."""
    if mention.startswith("`"):
        return True  # a code span
    if " " in mention:
        return False  # a name
    if "://" in mention or "/" in mention.strip("/"):
        return True
    if _FILE.match(mention) and not mention[-1].isdigit():
        return True
    if not any(c.isdigit() for c in mention):
        return False
    return bool(_CURRENCY.search(mention)) or (any(c.isalpha() for c in mention)
                                                and not _TIME_OR_NUMBER.match(mention))


def sentences(text: str) -> list[str]:
    """`text` (one line) cut into sentences and list items."""
    cjk = "。" in text or "！" in text or "？" in text
    return [s for s in (p.strip() for p in (_SENTENCE if cjk else _SENTENCE_LATIN).split(text)) if s]


def clip(parts: Sequence[tuple[str, float]], full: str, cap: int) -> str:
    """`full` in at most `cap` characters: whole if it fits; else its most telling sentences after its first
    sentence (whole if it takes at most a third of `cap`, else a few words at least), in their order, with "…"
    where text was left out;
    just its head when no sentence names anything."""
    if len(full) <= cap:
        return full
    chosen, size = set(), 0
    # The first sentence says what the text is about: kept whole when it is short, else a few words of it.
    reserve = len(parts[0][0]) if parts and len(parts[0][0]) <= cap // 3 else 10
    for i in sorted(range(1, len(parts)), key=lambda k: (-parts[k][1], k)):
        if parts[i][1] <= 0:
            break
        if size + len(parts[i][0]) + 3 <= cap - reserve - 2:
            chosen.add(i)
            size += len(parts[i][0]) + 3
    if not chosen:
        best = max(range(1, len(parts)), key=lambda k: (parts[k][1], -k), default=0)
        if best and parts[best][1] > 0:  # the telling sentence alone is too long: its head, not the text's
            return "… " + parts[best][0][: cap - 3].rstrip() + "…"
        return full[: cap - 1].rstrip() + "…"
    first = parts[0][0]
    room = cap - size - 2
    if len(first) > room:
        first = first[: max(room - 1, 1)].rstrip() + "…"
    out, last = [first], 0
    for i in sorted(chosen):
        out.append(parts[i][0] if i == last + 1 else f"… {parts[i][0]}")
        last = i
    return " ".join(out) + (" …" if last < len(parts) - 1 else "")


def near_key(text: str) -> str:
    """What makes two lines the same line: case, digits, punctuation and spacing left out."""
    return " ".join(_LETTERS.findall(text[:320].lower()))[:200]  # the key keeps 200: the rest is not read


class Seen:
    """Lines already written. `first(text)` is the key of the line `text` equals or nearly equals (90%
    alike once case, digits and punctuation are left out), or a new key if there is none yet. Only lines
    that share their first or last 24 characters, and most of their words, are compared character by
    character, so a busy day costs no quadratic work."""

    def __init__(self) -> None:
        self.heads: dict[str, list[tuple[str, frozenset[str]]]] = {}
        self.tails: dict[str, list[tuple[str, frozenset[str]]]] = {}

    def first(self, text: str) -> tuple[str, bool]:
        """(key, whether `text` is new)."""
        key = near_key(text)
        words = frozenset(key.split())
        for other, their in (*self.heads.get(key[:24], ())[-_COMPARED:], *self.tails.get(key[-24:], ())[-_COMPARED:]):
            if other == key:
                return other, False
            if len(key) > 40 and abs(len(key) - len(other)) <= len(key) // 5 \
                    and len(words & their) >= 0.8 * len(words | their) \
                    and difflib.SequenceMatcher(None, key, other, autojunk=False).ratio() >= 0.9:
                return other, False
        self.heads.setdefault(key[:24], []).append((key, words))
        self.tails.setdefault(key[-24:], []).append((key, words))
        return key, True


def may_decide(text: str) -> bool:
    """Whether `text` has a word that a decision, plan or result needs (a cheap test before `statement`)."""
    return _DECISION.search(text.lower()) is not None


def statement(sentence: str) -> str:
    """`sentence` as a decision, plan or result worth listing, or "" (questions, headings, fragments such as
    "**Next:**", unbalanced markup, and sentences that record nothing)."""
    s = _LIST_MARK.sub("", sentence.strip()).strip()
    if not 20 <= len(s) <= 240 or s.startswith("#") or "?" in s or "？" in s:
        return ""
    if s.count("**") % 2 or s.count("`") % 2 or s.rstrip("*_\"')」】").endswith((":", "：", ",", "，")):
        return ""
    if not s.rstrip("*_\"')」】").endswith((".", "!", "。", "！")):
        return ""
    first = s.lstrip("*_\"'(`「【")[:1]
    if not first or (first.isalpha() and first.islower()):
        return ""
    cjk = sum(1 for c in s if "\u3000" <= c <= "\u9fff")
    if cjk < 8 and len(s.split()) < 4:
        return ""
    return s if _DECISION.search(s.lower()) else ""
