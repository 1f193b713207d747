"""Value heuristics for the context rules: is this string a secret, or only sitting where one could be?

Owns entropy, the placeholder / stopword lists, variable-reference and template detection, and the two
verdicts the rules use: `looks_secret` (API keys and tokens: random-looking) and `looks_password` (any
literal a person could have typed, minus clear templates (`is_template`) and code). Pure functions of their
arguments.

The lists follow gitleaks (stopwords, value allowlists), detect-secrets (sequential strings, templated and
indirect references) and trufflehog (default false positives); see references/SECRET_PATTERNS.md.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache

MARKER_PREFIX = "[REDACTED-"


def words(text: str) -> frozenset[str]:
    """A set of whitespace-separated words: long word lists read better as a block of text."""
    return frozenset(text.split())


# Substrings that mark a value as an example or a placeholder rather than a secret.
_STOP_SUBSTRINGS = (
    "example", "sample", "placeholder", "your", "changeme", "change_me", "change-me", "dummy", "redacted",
    "xxxx", "****", "....", "…", "password", "passwd", "secret", "apikey", "api_key", "api-key", "insert",
    "replace", "lorem", "ipsum", "todo", "fixme", "foobar", "abc123", "123abc", "qwerty", "asdf", "1234",
    "abcdef", "here", "mytoken", "my-token", "my_token", "token-", "-token", "_token", "token_",
)
# Whole values (lowercased) that are words, types or literals, not secrets.
_STOP_VALUES = words("""
none null nil true false undefined empty default required optional string str bytes int bool any value
values env unset n/a na tbd foo bar baz qux test admin root user guest pass changeit secretstr object dict
list mask masked hidden self this new get set yes no on off auto inherit prompt ask stdin file keychain
keyring bearer basic oauth oauth2 jwt token tokens key keys write read sensitive private public field type
text input output optional[str] str|none none|str sha256 sha512 md5 hmac aes rsa ed25519 string[]
""")
_TYPE_WORDS = words("str bytes int bool float any none optional secretstr secretbytes string text")

_REFERENCE = re.compile(
    r"""^(?:\$|%[\w(]|\{\{|\{%|<%|<[\w\s./-]*>$|@\w+@$|!\w|&\w|\*\w)"""  # $VAR, %s %(x)s %VAR%, {{ }}, <x>
    r"""|\$\{|\{\{|\}\}|\$\(|^%\w+%|os\.environ|process\.env|getenv|\benv\(|\bENV\[|\bsecrets\.|\bvault:"""
    r"""|\bvar\.|\blocal\.|\bdata\.|\bref\+|\{[a-z_][a-z0-9_.]*\}""",
    re.IGNORECASE,
)
# Every alternative of _REFERENCE needs one of these characters or `getenv`: a single character class rules
# most values out before the alternation, which the regex engine has to try at every position.
_REFERENCE_HINT = re.compile(r"[$%{}<@!&*.(\[:+]|getenv", re.IGNORECASE)
_DIGEST = re.compile(r"^(?:sha(?:1|224|256|384|512)|md5|blake2[bs]?|h1|sri)[:=-]", re.IGNORECASE)
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_PARTS = re.compile(r"[A-Za-z0-9]+")
# A part of a value that reads as a word, a number or an ordinary identifier piece, not as random text.
_PLAIN_PART = re.compile(
    r"[a-z]+|[A-Z][a-z]+|[A-Z]+|\d+|[a-z]+(?:[A-Z][a-z]{2,}|[A-Z]{2,})+|(?:[A-Z][a-z]{2,}){2,8}"
    r"|[A-Z]{2,}(?:[A-Z][a-z]{2,})+|(?:[A-Z][a-z]{2,}|[a-z]+)+[A-Z]{2,}|[A-Za-z]{1,12}\d{1,4}"
    r"|\d{1,4}[A-Za-z]{1,3}|v\d+[a-z]\d+"
)
_DOTTED_IDENT = re.compile(r"^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z_]*$")
_FUNCTION_WORDS = words("""
the a an is are be must should at least of to for and or not your enter please invalid incorrect required
characters character chars long with without missing wrong expired failed new old this that it
""")
_SPACE = re.compile(r"\s")  # the characters str.isspace() accepts
_SIX_SAME = re.compile(r"(.)\1{5}")
_DRIVE = re.compile(r"^[A-Za-z]:\\")
_FILE_EXTENSION = re.compile(r"\.[A-Za-z]{1,5}$")
_FILL_CHARACTERS = "x*.#-_0<>?•·"
_SEQUENCES = ("0123456789012345678901234567890", "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
              "9876543210987654321098765432109", "qwertyuiopasdfghjklzxcvbnm")


def shannon(value: str) -> float:
    """Shannon entropy in bits per character."""
    n = len(value)
    if not n:
        return 0.0
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def entropy_floor(value: str) -> float:
    """The entropy a random string of this length and alphabet clears with room to spare.

    Capped at detect-secrets' hex limit (3.0) and gitleaks' generic floor (3.5); shorter strings cannot
    reach those, so the floor scales with log2(length)."""
    bits = math.log2(max(len(value), 2))
    if _HEX.match(value):
        return min(3.0, 0.75 * bits)
    return min(3.5, 0.8 * bits)


def is_filler(value: str) -> bool:
    """Runs of one character (`xxxxxx`, `000000`) or too few distinct characters for a real key."""
    if len(set(value)) < min(5, max(2, len(value) // 3)):
        return True
    return _SIX_SAME.search(value) is not None


def is_sequential(value: str) -> bool:
    v = value.lower()
    return len(v) >= 4 and any(v in seq for seq in _SEQUENCES)


def is_placeholder(value: str) -> bool:
    """An example, a stand-in or an already redacted value (`your-api-key-here`, `<token>`, `xxxx`)."""
    v = value.lower()
    if not v or v.startswith(MARKER_PREFIX.lower()) or v in _STOP_VALUES:
        return True
    if not v.strip(_FILL_CHARACTERS):  # made only of filler characters
        return True
    return _STOP.search(v) is not None or is_sequential(v)


# In a password slot almost anything is a password (`supersecret`, `Passw0rd1234`, `hunter2`): only clear
# templates stay. `changeme` / `changeit` stay too: well-known defaults, so they reveal nothing.
_TEMPLATE_SUBSTRINGS = (
    "your", "example", "sample", "placeholder", "changeme", "change_me", "change-me", "replace_me",
    "replace-me", "replaceme", "redacted", "dummy", "lorem", "ipsum", "xxxx", "****", "....", "…",
)
_STOP = re.compile("|".join(map(re.escape, _STOP_SUBSTRINGS)))  # any of them, in one search
_TEMPLATE = re.compile("|".join(map(re.escape, _TEMPLATE_SUBSTRINGS)))
_TEMPLATE_TAIL = re.compile(r"(?:^|[-_. ])here$", re.IGNORECASE)
_TEMPLATE_VALUES = _STOP_VALUES | words("password passwd passwort pwd secret changeit todo fixme tbd")
# Letters-only words about passwords name the slot, not fill it: enum values (`FORCE_CHANGE_PASSWORD`,
# `challengePassword`), descriptions (`no-password-required`, `smb-server-password`). `password123` has a digit.
_NAMES_THE_SLOT = re.compile(r"[A-Za-z_. -]*pass(?:word|wd|phrase)[A-Za-z_. -]*", re.IGNORECASE)


def is_template(value: str) -> bool:
    """A stand-in where a password goes: empty, a filler run (`***`, `xxxx`, `...`), words that name the
    slot (`password`, `secret`, `none`, `USER_PASSWORD_AUTH`), `your-password-here`, `changeme`, an example,
    or a marker.
    Narrower than `is_placeholder`, whose stopwords (`secret`, `1234`, `qwerty`) are often in real passwords."""
    v = value.lower()
    if not v or v.startswith(MARKER_PREFIX.lower()) or v in _TEMPLATE_VALUES:
        return True
    if not v.strip(_FILL_CHARACTERS) or _NAMES_THE_SLOT.fullmatch(v):
        return True
    return _TEMPLATE.search(v) is not None or _TEMPLATE_TAIL.search(v) is not None


def is_reference(value: str) -> bool:
    """A variable, template or lookup standing for the secret: `$VAR`, `${{ secrets.X }}`, `os.environ[…]`."""
    return _REFERENCE_HINT.search(value) is not None and _REFERENCE.search(value) is not None


def is_plain(value: str) -> bool:
    """Every alphanumeric part reads as a word, a number or an identifier piece (`prod-db-password`)."""
    return all(_PLAIN_PART.fullmatch(p) for p in _PARTS.findall(value))


_B64_VALUE = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")
_WORD_PIECE = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


def is_random_base64(value: str) -> bool:
    """Base64 that reads as noise, not as `/a/path/like/this`: `+` and `/` may come anywhere in a key
    (also first), but a path's segments are words, and a key breaks into many short pieces."""
    if not _B64_VALUE.fullmatch(value):
        return False
    longest = max(value.split("/"), key=len)
    if len(longest) < 16 or not (any(map(str.isupper, longest)) and any(map(str.islower, longest))
                                 and any(map(str.isdigit, longest))):
        return False
    return len(_WORD_PIECE.findall(longest)) * 3 >= len(longest) and not is_plain(longest)


def is_path_or_url(value: str) -> bool:
    if "://" in value or value.startswith(("~/", "./", "../", "file:")):
        return True
    if value.startswith("/"):
        return not is_random_base64(value)
    if _DRIVE.match(value):
        return True
    # a/b/c.ext: a relative path with a file extension
    return "/" in value and _FILE_EXTENSION.search(value) is not None and is_plain(value)


def is_uuid(value: str) -> bool:
    return _UUID.match(value) is not None


# The two verdicts are pure and cost microseconds; transcripts repeat the same config, code and tool output,
# so the same values come back again and again (as `generic.name_kind` does for names).
@lru_cache(maxsize=4096)
def looks_secret(value: str, *, weak_name: bool = False) -> bool:
    """Is `value`, assigned to a key/token/secret name, a random-looking credential?

    `weak_name` is for names that only say `key` or `auth`: there a UUID is taken for an identifier."""
    v = value
    if len(v) < 8 or len(v) > 1000 or _SPACE.search(v):
        return False
    if is_reference(v) or is_placeholder(v) or _DIGEST.match(v) or is_path_or_url(v):
        return False
    if is_uuid(v):
        return not weak_name
    if v.isdigit() or is_plain(v) or is_filler(v):
        return False
    if shannon(v) <= entropy_floor(v):
        return False
    return any(map(str.isdigit, v)) or (len(v) >= 16 and any(map(str.isupper, v)) and any(map(str.islower, v)))


def _is_passphrase(value: str) -> bool:
    """A quoted value with spaces: a passphrase unless it reads like a sentence or a message."""
    words = value.lower().split()
    if len(words) > 8 or any(w.strip(".,:;!?") in _FUNCTION_WORDS for w in words):
        return False
    return not value.endswith((".", ":", "?"))


@lru_cache(maxsize=4096)
def looks_password(value: str, *, quoted: bool, literal: bool) -> bool:
    """Is `value`, assigned to a password name, a password someone typed?

    `quoted` values are string literals, so almost anything counts. Unquoted values may be code (a
    variable, an attribute, a type); `literal` says the syntax makes them literals anyway (`.env`, YAML)."""
    v = value
    if len(v) < 4 or len(v) > 256:
        return False
    if is_reference(v) or is_template(v) or is_filler(v) or is_sequential(v):
        return False
    if v.lower() in _TYPE_WORDS or v.startswith(("/", "~/", "./")):
        return False
    if quoted:
        if v[0] in "),;]}" or v.rstrip().endswith("("):
            return False
        return _is_passphrase(v) if _SPACE.search(v) else True
    if _SPACE.search(v):
        return literal and _is_passphrase(v)
    if _DOTTED_IDENT.match(v):
        return False
    if _IDENT.match(v):
        # Letters only: in code this is a variable name; in .env or YAML it is the password itself.
        return literal and len(v) >= 6
    return not v.isdigit() or len(v) >= 6


def looks_random(value: str) -> bool:
    """For token formats whose prefix alone is not unique (`sk-`, `ak_`, Discord): digits, letters, entropy."""
    return (any(map(str.isdigit, value)) and any(map(str.isalpha, value)) and not is_plain(value)
            and shannon(value) > entropy_floor(value))
