"""facts.py's fast forms say what their plain forms say: the decision pattern matches where the plain
`\\b(?:word|…)\\b|已|决定|将` matches, and mentions are found in the same words whether or not the text holds
the CJK punctuation that words are split at."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from memory_syncd.content import facts

PLAIN = re.compile(r"\b(?:" + "|".join(facts._DECISION_WORDS) + r")\b|已|决定|将")
PIECES = st.sampled_from(["will", "next", "cancelled", "canceled", "decided", "agreement", "planner", "todo", "moved",
                          "xwill", "will_", "willy", "_next", "chose", "choose", "sent", "resent", "已", "决定", "将",
                          " ", "\n", ".", "-", "é", "1", "_", "a", "Z", "，"])


@given(st.lists(PIECES, max_size=12).map("".join))
def test_decision_pattern_matches_where_the_plain_one_does(text: str) -> None:
    assert (facts._DECISION.search(text) is None) == (PLAIN.search(text) is None)


def words_split_everywhere(text: str) -> list[str]:
    words = text.split()
    if not text.isascii():
        words = [w for word in words for w in (facts._WORDS.split(word) if not word.isascii() else (word,))]
    return words


@given(st.text(alphabet="ab1-_./ é✅，。（）「」\n", max_size=40))
def test_mentions_skip_the_cjk_split_only_when_it_changes_nothing(text: str) -> None:
    # no capitals and no backticks: every mention is a word
    expected = [w for w in map(facts._word, dict.fromkeys(words_split_everywhere(text))) if w]
    assert facts.find_mentions(text) == expected
