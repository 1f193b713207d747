"""Properties of `redact`, checked with hypothesis:

- idempotent: redacting twice changes nothing more, whatever the mix of text, code, secrets and markers;
- ordinary words and code (credential-sounding names included, with ordinary values) pass unchanged;
- a planted secret never survives, wherever it sits: random text before and after it, joined by the
  delimiters real text puts around secrets (whitespace, quotes, brackets, `=`, `:`, JSON escapes);
- a keyword match that the generic rule refuses from the end of its name alone (`generic._ends_unnamed`) has
  a name that `name_kind` refuses too, whatever the case and whatever comes before.
"""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redact_corpus import CODE_LINES, WORDS

from memory_syncd.redact import KINDS, Tier, generic, redact, render_shape

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Words and code pieces; password names are left out because a quoted word assigned to one is a password.
_VOCAB = [w for w in WORDS if not w.startswith("pass")] + [
    "def", "return", "import", "from", "class", "self", "None", "True", "False", "if", "else", "for", "in",
    "api_key", "token", "secret_name", "key_id", "max_tokens", "auth", "credentials", "get_token()",
    "os.environ", "config.key", "user_id", "42", "3.14", "0", "2026-04-13", "v1.2.3", "main", "HEAD",
]
_PUNCT = [" ", " ", " ", "\n", "(", ")", "[", "]", "{", "}", ",", ".", ":", ": ", " = ", "=", '"', "'", "#",
          "\\n", '\\"', " -> ", " == ", "/", "-", "_"]
ordinary = st.lists(st.one_of(st.sampled_from(_VOCAB), st.sampled_from(_PUNCT), st.sampled_from(CODE_LINES)),
                    max_size=60).map("".join)


@st.composite
def planted(draw: st.DrawFn) -> tuple[str, str]:
    """A kind's secret in its documented context; returns (text, secret)."""
    kind = draw(st.sampled_from(KINDS))
    secret = render_shape(kind.shape, random.Random(draw(st.integers(0, 2**32))))
    return kind.context.replace("{}", secret), secret


noise = st.one_of(ordinary, st.text(max_size=40), st.sampled_from(["", "[REDACTED-GITHUB-PAT]"]))
mixed = st.lists(st.one_of(ordinary, planted().map(lambda p: p[0]), st.text(max_size=30),
                           st.just("[REDACTED-PASSWORD]")), max_size=8).map(lambda parts: "\n".join(parts))


@SETTINGS
@given(mixed)
def test_redaction_is_idempotent(text: str) -> None:
    once = redact(text)
    assert redact(once) == once


@SETTINGS
@given(st.lists(st.one_of(planted().map(lambda p: p[0]), st.sampled_from(_PUNCT), st.sampled_from(_VOCAB)),
                max_size=12).map("".join))
def test_redaction_is_idempotent_when_secrets_touch(text: str) -> None:
    once = redact(text)
    assert redact(once) == once


@SETTINGS
@given(ordinary)
def test_ordinary_words_and_code_pass_unchanged(text: str) -> None:
    assert redact(text) == text


_TOKEN_DELIMS = [" ", "\n", "\t", '"', "'", "`", "(", ")", "[", "]", "{", "}", ",", ";", "=", ": ", "\\n", '\\"',
                 "<", ">", "|"]
_CONTEXT_DELIMS = [" ", "\n", "\t", "\\n", "\n\n", "; "]


@SETTINGS
@given(planted(), noise, noise, st.data())
def test_planted_secret_never_survives(plant: tuple[str, str], before: str, after: str, data: st.DataObject) -> None:
    text, secret = plant
    self_identifying = any(k.tier is Tier.TOKEN and k.context == "{}" and k.context.replace("{}", secret) == text
                           for k in KINDS)
    delims = _TOKEN_DELIMS if self_identifying else _CONTEXT_DELIMS
    left, right = data.draw(st.sampled_from(delims)), data.draw(st.sampled_from(delims))
    out = redact(before + left + text + right + after)
    assert secret not in out


_NAME_PIECES = ["token", "tokens", "key", "secret", "pass", "pw", "auth", "cred", "id", "name", "max", "total",
                "self", "api", "count", "s", "type", "word", "x", "2", "12", "k", "\u212a"]
_NAME_JOINS = ["", "", "_", ".", "-", "$", "@"]


@st.composite
def name_part(draw: st.DrawFn) -> str:
    """A piece of a name in any mix of case, and what joins it to the next piece."""
    piece = draw(st.sampled_from(_NAME_PIECES))
    case = draw(st.sampled_from(["lower", "upper", "title", "mixed"]))
    if case == "mixed":
        upper = draw(st.lists(st.booleans(), min_size=len(piece), max_size=len(piece)))
        piece = "".join(c.upper() if u else c for c, u in zip(piece, upper, strict=True))
    else:
        piece = getattr(piece, case)()
    return piece + draw(st.sampled_from(_NAME_JOINS))


@settings(max_examples=3000, deadline=None)
@given(st.sampled_from(["", " ", '"', "\\", "\\n", "(", "1"]), st.lists(name_part(), max_size=3).map("".join),
       st.lists(name_part(), min_size=1, max_size=3).map("".join))
def test_a_name_refused_by_its_end_is_refused_whole(lead: str, before: str, tail: str) -> None:
    text = lead + before + tail
    at = len(lead + before)
    window = text[at - 1:] if at else " " + text
    if generic._ends_unnamed(window):
        name = text[generic._name_start(text, at):]
        assert generic.name_kind(name.lstrip("-$@.")) is None
