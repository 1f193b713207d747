"""How the context rules run: which scans they share, and what is checked before a scan.

Owns `Plan`: one scan of a text (or of its lowercased copy) and the rules it serves. Every context rule's
regex starts with a literal, which the regex engine skips to as fast as a substring test would, but one such
scan costs about half a nanosecond per character, and there are twenty rules. So rules whose literals share a
piece that is no more common than their own literals (`auth` for `auth=`, `auth=(…)` and `Authorization:`;
`-` for `-u`, `-p` and `--flag`, where `-u` already stopped at every `-`; `b` for `bearer` and `basic`, whose
own scans both stopped at every `b`) share ONE scan: it finds that piece
wherever at least one member's whole pattern matches (the members sit in a lookahead), and each member is
then matched again at its own start with its own regex, skipping what its own `finditer` would have skipped.
So a shared scan reports exactly the matches the members would report alone (`tests/test_redact_contexts.py`
checks this). A commoner piece (`ke` in `key` and `token`) would stop the scan more often than it saves.

Checks before a scan: in short texts, the plan's literal, or for a shared scan its members' literals (a failed
substring test costs a fraction of a regex call; in long texts the regex engine finds the literal about as fast
as a substring test, so checking first only adds work where it occurs); the plan's `needs`; its `requires`;
for `in_runs` rules, their literal in the token runs (the engine then tries the rule only where it is).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from memory_syncd.redact.kinds import TextRule, split_literal

GATE_BELOW = 1024  # characters: below this a plan's literal is checked before its scan
# The pieces rules share a scan on (see the module docstring); each must not overlap itself (`aa`), so that
# a scan which consumes it never steps over another occurrence. A rule joins the first piece its literal
# prefix holds (SHARED) or starts with (LEADING).
SHARED = ("auth", "-")
LEADING = ("b", "c")


@dataclass(frozen=True)
class Member:
    """A rule served by a plan. The plan's literal starts `offset` characters into the rule's literal."""

    rule: TextRule
    offset: int = 0
    needs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    """One scan: `regex` finds `literal` where a member may match (or is the member's own regex, alone).
    `alone` is that member's rule; `needs` are substrings every match of the plan contains; every match
    contains one of `gates` (the members' literals: what short texts are checked for)."""

    literal: str
    regex: re.Pattern[str]
    members: tuple[Member, ...]
    lower: bool
    requires: str = ""
    in_runs: bytes = b""
    alone: TextRule | None = None
    needs: tuple[str, ...] = ()
    gates: tuple[str, ...] = ()

    def matches(self, haystack: str, lo: int, hi: int,
                first: int | None = None) -> Iterator[tuple[TextRule, re.Match[str]]]:
        """Each member's matches in `haystack[lo:hi]`, as its own `finditer` would give them. `first`, when
        known, is where this plan's regex first matches there (so that stretch is not scanned again)."""
        scan_from = lo if first is None else first
        if len(self.members) == 1:
            rule = self.members[0].rule
            for alone in self.regex.finditer(haystack, scan_from, hi):
                yield rule, alone
            return
        ends = [lo] * len(self.members)
        members = tuple(enumerate(self.members))
        for found in self.regex.finditer(haystack, scan_from, hi):
            at = found.start()
            # The alternatives are tried in order: the one that matched (its marker group closed last) is the
            # first member that can match here.
            for i, member in members[int(found.lastgroup[1:]) if found.lastgroup else 0:]:
                start = at - member.offset
                if start < ends[i]:
                    continue
                m = member.rule.regex.match(haystack, start, hi)
                if m is not None:
                    ends[i] = m.end()
                    yield member.rule, m


def _rename_groups(source: str, tag: str) -> str:
    """`source` with its named groups (and references to them) renamed, so alternatives can sit together."""
    source = re.sub(r"\(\?P<(\w+)>", rf"(?P<{tag}\1>", source)
    return re.sub(r"\(\?P=(\w+)\)", rf"(?P={tag}\1)", source)


def _alone(rule: TextRule) -> Plan:
    prefix = split_literal(rule.regex.pattern)[0]
    if not prefix and rule.anchors:
        prefix = _common_prefix(rule.anchors)
    return Plan(prefix, rule.regex, (Member(rule, 0, rule.needs),), rule.lower, rule.requires,
                prefix.encode() if rule.in_runs else b"", rule, rule.needs, (prefix,) if prefix else ())


def _common_prefix(words: Sequence[str]) -> str:
    first, last = min(words), max(words)
    size = 0
    while size < len(first) and first[size] == last[size]:
        size += 1
    return first[:size]


def _shared(piece: str, rules: Sequence[TextRule]) -> Plan:
    """One scan for `rules`, every one of which is lowercased and has `piece` in its literal prefix."""
    members: list[Member] = []
    alternatives: list[str] = []
    prefixes: list[str] = []
    for index, rule in enumerate(rules):
        prefix, rest = split_literal(rule.regex.pattern)
        prefixes.append(prefix)
        offset = prefix.index(piece)
        before = prefix[:offset + len(piece)]
        behind = f"(?<={re.escape(before)})" if offset else ""
        tail = re.escape(prefix[offset + len(piece):]) + f"(?:{_rename_groups(rest, f'm{index}_')})"
        alternatives.append(behind + tail + f"(?P<m{index}>)")
        members.append(Member(rule, offset, rule.needs))
    flags = {rule.regex.flags for rule in rules}
    assert len(flags) == 1, "rules sharing a scan must share their flags"
    regex = re.compile(re.escape(piece) + "(?=" + "|".join(alternatives) + ")", flags.pop())
    # A literal that holds another one adds nothing to the check (`authorization` beside `auth`).
    gates = tuple(dict.fromkeys(p for p in prefixes if not any(q != p and q in p for q in prefixes)))
    return Plan(piece, regex, tuple(members), True, gates=gates)


def build(rules: Sequence[TextRule]) -> tuple[Plan, ...]:
    """The plans for `rules`: rules sharing a piece of `SHARED` or `LEADING` share a scan; every other rule
    runs alone.
    Plans keep the order of their first rule."""
    groups: dict[str, list[TextRule]] = {}
    owner: dict[int, str] = {}
    for rule in rules:
        prefix = split_literal(rule.regex.pattern)[0]
        if not rule.lower or rule.requires or rule.in_runs or _has_top_level_bar(rule.regex.pattern):
            continue
        piece = next((p for p in SHARED if p in prefix), None) or next(
            (p for p in LEADING if prefix.startswith(p)), None)
        if piece is not None:
            groups.setdefault(piece, []).append(rule)
            owner[id(rule)] = piece
    plans: list[Plan] = []
    done: set[str] = set()
    for rule in rules:
        shared = owner.get(id(rule))
        if shared is None or len(groups[shared]) == 1:
            plans.append(_alone(rule))
        elif shared not in done:
            done.add(shared)
            plans.append(_shared(shared, groups[shared]))
    return tuple(plans)


def ungated(rules: Sequence[TextRule]) -> tuple[Plan, ...]:
    """Every rule alone and unchecked: slower, same hits (what the tests compare `build` with)."""
    return tuple(Plan("", rule.regex, (Member(rule),), rule.lower, rule.requires, alone=rule) for rule in rules)


def _has_top_level_bar(pattern: str) -> bool:
    """Does `pattern` have an alternation outside any group (so its literal prefix is not every match's)?"""
    depth = 0
    in_class = False
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if pattern[i + 1:i + 2] == "]":
                i += 1
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            return True
        i += 1
    return False

