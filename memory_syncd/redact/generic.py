"""Generic secrets: a value assigned to a password / secret / token / key name, in any common syntax.

Owns the keyword-assignment rule (env and shell `NAME=v`, `export`, YAML `name: v`, JSON `"name": "v"` also
JSON-escaped `\\"name\\": \\"v\\"`, TOML and INI `name = "v"`, Python kwargs and annotations, Go `:=`, PHP
`=>`, Makefile `?=`, XML `<name>v</name>`, CLI flags `--password v`, query strings `?token=v`, prose
`the password is v`), the name/value pair rule (Kubernetes `- name: API_KEY` / `value: …`, JSON
`{"name": "API_KEY", "value": "…"}`), `.netrc` lines and Python `auth=("user", "password")` tuples.

How false positives are kept out (gitleaks' generic-api-key and detect-secrets' keyword detector, adapted):
the name is split into words and must name a credential (`max_tokens`, `public_key`, `key_id`,
`secret_name`, `next_page_token`, `password_length` do not); the value must pass `values.looks_password`
or `values.looks_secret` (entropy floor, not a word or identifier, not a placeholder, reference, template,
path, URL or digest). Only the value is replaced; the name stays, so the memory still says what was set.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache

from memory_syncd.redact.kinds import Family, Hit, Kind, TextRule, Tier, lower_rule
from memory_syncd.redact.structural import AWS_SECRET
from memory_syncd.redact.values import is_filler, is_template, looks_password, looks_secret, shannon, words

_GEN = Family.GENERIC
_ASSIGN_DOC = ("NAME containing the keyword, then `=` `:` `:=` `=>` `?=` `==` (or a space after a `--flag`, "
               "or ` is ` in prose), then a quoted or bare value")


def _kind(name: str, title: str, keywords: str, shape: str, guard: str, context: str) -> Kind:
    return Kind(name, title, _GEN, Tier.GENERIC, f"{keywords}; {_ASSIGN_DOC}", shape, guard, context)


PASSWORD = _kind("PASSWORD", "Password assigned to a password-like name",
                 "name with `passw…`, `passphrase`, `pass`, `pwd`, `pw`", "<PW:14>",
                 "any real-looking value counts, words too (`supersecret`, `hunter2`); only clear templates "
                 "stay: empty, `<…>`, `$VAR` `${VAR}` `{{ var }}`, `***` `xxxx` `...`, `your-password-here`, "
                 "`your_password`, the slot's own name (`password`), `changeme` (a known default) and "
                 "sequences (`123456`); bare words must not be code (variables, attributes, calls, types) "
                 "unless the syntax makes them literals (.env and shell `NAME=`, `--flag=`, `?name=`, YAML); "
                 "prose (`the password is X`) needs a value with a digit or a symbol, so `password is required` "
                 "stays", "DB_PASSWORD={}")
SECRET = _kind("SECRET", "Secret assigned to a secret / credential / private-key name",
               "name with `secret`, `credential(s)`, `creds`, or `private|signing|encryption|master…_key`",
               "<B62:40>", "value must look random: entropy floor, digits or mixed case, not a word, "
               "identifier, placeholder, reference, path, URL or digest", "client_secret: {}")
TOKEN = _kind("TOKEN", "Token assigned to a token / auth name", "name with `token` or `auth(orization)`",
              "<B64U:40>", "as SECRET; counts and pagination (`max_tokens`, `next_page_token`, `csrf_token`, "
              "`token_type`) are not credentials", '"session_token": "{}"')
API_KEY = _kind("API-KEY", "API key assigned to a key name", "name with `key` / `apikey` / `access_key`",
                "<B62:32>", "as SECRET; structural keys (`public_key`, `primary_key`, `cache_key`, `key_id`, "
                "`sort_key`, …) are not credentials; a UUID under a bare `key` is an identifier",
                "API_KEY={}")
KINDS: tuple[Kind, ...] = (PASSWORD, SECRET, TOKEN, API_KEY)

# --- names ----------------------------------------------------------------------------------------------

_SEG = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_NOT_SECRET_LAST = words("""
id ids name names type types file files path paths dir directory url urls uri uris endpoint endpoints env
var vars field fields label labels hint prompt policy policies pattern regex format version expires expiry
expiration expire exp ttl header headers param params prefix suffix index idx length len size count counts
limit limits max min tokens usage rotation created updated at required enabled disabled changed reset
strength rules rule example examples description desc help title text message msg error errors valid invalid
source kind class method methods mode scheme provider providers manager store ref refs arn location algorithm
alg encoding bits hash hashed digest fingerprint exists missing present status state ok flow grant callback
redirect domain host port user username login email rate fail mask len schema spec option options config
settings visible visibility input selector button link page form icon tooltip show hide toggle lifetime
timeout interval age duration period cache cached storage strategy handler helper factory service fn func
function cb impl validator validation command cmd script level set get is has use used
""")
_TOKEN_MODS = words("""
next page pagination continuation sync csrf xsrf cancel cancellation resume cursor start end stop eos bos pad
unk sep cls mask special max num input output cache prompt completion reasoning total vocab new bad lexer
unknown last first current image audio text
""")
_KEY_MODS = words("""
public pub primary foreign sort partition range cache idempotency dedup dedupe deduplication lookup map row
group routing object s3 i18n translation unique composite natural surrogate shortcut hot bind binding registry
host search index config setting settings option column col field attr prop item entry order grouping react
list cursor page next start end sharding shard join json yaml toml env label tag type input output memory
message content prompt state context media image file dict hash redis storage sql db table record doc
document metadata meta query param header bucket track event trace span parent child node foreign
""")
_SECRET_KEY_MODS = words("private secret signing encryption master hmac jwt session shared")
_KEY_COMPOUNDS = ("apikey", "accesskey", "secretkey", "privatekey", "authkey", "signingkey", "masterkey")


@lru_cache(maxsize=4096)
def name_kind(name: str) -> tuple[Kind, bool] | None:
    """The generic kind a name asks for and whether the name is weak (a bare `key` / `auth`), or None."""
    segs = [s.lower() for s in _SEG.findall(name)]
    if not segs or segs[-1] in _NOT_SECRET_LAST:
        return None
    if any("passw" in s or "passphrase" in s or s in ("pass", "pwd", "pw", "pword") for s in segs):
        return PASSWORD, False
    if any("secret" in s for s in segs):
        return SECRET, False
    for i, s in enumerate(segs):
        if s == "token":
            return None if i and segs[i - 1] in _TOKEN_MODS else (TOKEN, False)
        if s.endswith("token") and len(s) > 5:
            return TOKEN, False
    if any(s in ("auth", "authorization", "authkey") for s in segs):
        return TOKEN, segs == ["auth"]
    if any(s in ("credential", "credentials", "creds", "cred") for s in segs):
        return SECRET, False
    for i, s in enumerate(segs):
        prev = segs[i - 1] if i else ""
        if s == "key":
            if prev in _KEY_MODS:
                return None
            return (SECRET if prev in _SECRET_KEY_MODS else API_KEY), len(segs) == 1
        if s.endswith(_KEY_COMPOUNDS):
            return (SECRET if s.endswith(("secretkey", "privatekey")) else API_KEY), False
    return None


# --- the assignment rule --------------------------------------------------------------------------------

_NAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-$@"
_LINE_LEADERS = frozenset(("", "-", "export", "set", "-e", "--env", "env", "readonly", "declare -x", "setenv",
                           "$env:"))
_KEYWORDS = r"(?:pass|pw|secret|token|key|auth|cred)"
# Values shorter than 4 characters are never judged a secret, and a bare `$…` is a reference: both are
# refused here, which spares most candidates in code (`: str`, `= f"…"`, `= $TOKEN`) a trip to Python.
_VALUE = (r"(?:\\{1,3}\"(?P<v1>[^\"\\\n]{4,300})\\{1,3}\"|\"(?P<v2>[^\"\n]{4,300}?)\"|'(?P<v3>[^'\n]{4,300}?)'"
          r"|`(?P<v4>[^`\n]{4,300}?)`|(?P<v5>[^\s\"'`,;&<>\\(){}\[\]|$][^\s\"'`,;&<>\\(){}\[\]|]{3,299}+)(?![(\[]))")
# The value sits in a lookahead: the match ends at the operator, so a keyword inside a rejected value
# (`credential aws_secret_access_key = …`) is still seen by the next search.
# Runs of name characters and blanks are possessive: what follows each can never start with one of them, so
# giving characters back would never help, and failing keyword sites (most of them) fail sooner.
_ASSIGN = (r"{keyword}(?P<rest>[a-z0-9_.-]{0,48}+)(?:\\{0,3}[\"'`])?\]?"
           r"(?:[ \t]*+:[ \t]*+(?:optional\[)?(?:str|bytes|secretstr|secretbytes|any|object|string)\]?"
           r"(?:[ \t]*+\|[ \t]*+none)?(?=[ \t]*=[^=>]))?"  # a Python annotation: `password: str = "…"`
           r"(?P<op>[ \t]*+(?:::=|:=|\?=|=>|[!=]==?|=|:|>)[ \t]*+|[ \t]++(?:is|was)(?:[ \t]*+:)?[ \t]++)(?="
           + _VALUE + ")")
_FLAG = (r"--(?P<name>[a-z0-9_.-]{0,40}?" + _KEYWORDS + r"[a-z0-9_.-]{0,40}+)[ \t]+(?="
         + _VALUE + ")")
_PAIR = (r"name(?:\\{0,3}[\"'])?[ \t]*[:=][ \t]*(?:\\{0,3}[\"'])?"
         r"(?P<name>[a-z0-9_.-]{0,40}?" + _KEYWORDS + r"[a-z0-9_.-]{0,40}+)(?:\\{0,3}[\"'])?[ \t]*"
         r"(?:,[ \t]*|(?:\r?\n|\\{1,2}n)[ \t]*(?:-[ \t]+)?)(?:\\{0,3}[\"'])?value(?:\\{0,3}[\"'])?[ \t]*[:=][ \t]*"
         r"(?=" + _VALUE + ")")
_FLAG_LEFT = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
_WORDY = re.compile(r"[A-Za-z_$][A-Za-z_$.]*")
_AWS_SECRET_VALUE = re.compile(r"[A-Za-z0-9/+]{30,60}={0,2}")
_PROSE_SYMBOLS = frozenset("!@#$%^*~+=")  # not `&` (`&quot;`) nor `?`
# Shell words after which `NAME=value` is an environment assignment: prompts, separators, env setters.
_SHELL_LEADS = frozenset(("$", "#", "%", ">", "&&", "||", ";", "|", "sudo", "env", "export", "-e", "--env",
                          "set", "readonly", "declare", "-x", "setenv", "ENV", "ARG"))
_ENV_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=\S*")
# nsswitch.conf `passwd: files systemd` names lookup services, not a password.
_NSS_SOURCES = words("files systemd compat sss ldap nis nisplus db winbind dns myhostname mymachines resolve "
                     "altfiles cache hesiod extrausers oslogin")
# `&` ends a bare value only where a query string goes on (`&next=`); inside a password it is a character.
_AMP_TAIL = re.compile(r"&(?![\w.\[\]-]*=)[^\s\"'`,;<>\\(){}\[\]|&]*")


def _name_start(text: str, at: int) -> int:
    head = text[max(0, at - 64):at]
    i = at - len(head) + len(head.rstrip(_NAME_CHARS))
    if i > 0 and text[i - 1] == "\\" and text[i] in "nrt":
        i += 1  # `\nAPI_KEY=…` inside a JSON string: the `n` belongs to the escape
    return i


def _line_prefix(text: str, at: int) -> str:
    """What stands between the start of the line (a newline, or a literal `\\n` escape) and `at`."""
    i = at
    while i > 0 and at - i < 200:
        c = text[i - 1]
        if c in "\r\n" or (c == "n" and i >= 2 and text[i - 2] == "\\"):
            break
        i -= 1
    return text[i:at].strip()


def _rest_of_line(text: str, end: int) -> str:
    """The text after `end` up to the end of its line (a newline or a literal `\\n` escape)."""
    tail = text[end:end + 200]
    cut = min((i for i in (tail.find("\n"), tail.find("\r"), tail.find("\\n")) if i >= 0), default=len(tail))
    return tail[:cut]


def _shell_lead(prefix: str) -> bool:
    """Does `prefix` (the line before a NAME) end where a shell would take `NAME=value` as an assignment?"""
    tokens = prefix.rstrip("\"' \t").split()
    if not tokens:
        return True
    last = tokens[-1]
    return last in _SHELL_LEADS or last.endswith((";", "&&", "||", "|")) or _ENV_WORD.fullmatch(last) is not None


def _prose_value(value: str) -> bool:
    """After `the password is`, a secret has letters and a digit or a symbol inside (`Tr0ub4dor&3x`,
    `p@ss!word`); a word does not (`required`, `correct.&quot;`)."""
    core = value.rstrip(".,;:!?")
    if not any(c.isalpha() for c in core):
        return False
    return any(c.isdigit() for c in core) or any(c in _PROSE_SYMBOLS for c in core[1:-1])


def _aws_secret(name: str, value: str) -> bool:
    """A 30-60 character base64 value (`+` and `/` anywhere, also first) in an `aws…secret` / `SecretAccessKey`
    slot. The documentation's EXAMPLE keys are redacted too, as their `AKIA…EXAMPLE` ids are."""
    flat = name.lower().replace("_", "").replace("-", "")
    if not ("aws" in flat or "secretaccesskey" in flat) or not _AWS_SECRET_VALUE.fullmatch(value):
        return False
    if not (any(c.isupper() for c in value) and any(c.islower() for c in value) and any(c.isdigit() for c in value)):
        return False
    return shannon(value) > 4.0 and not is_filler(value) and not is_template(value.lower().replace("example", ""))


def _value_span(m: re.Match[str]) -> tuple[int, int, bool]:
    """The value's span and whether it was quoted: the value group is the last one the match closed."""
    group = m.lastgroup or "v5"
    return m.start(group), m.end(group), group != "v5"


LiteralCheck = Callable[[], bool]


def _emit(text: str, name: str, s: int, e: int, *, quoted: bool, op: str, literal: LiteralCheck,
          found: tuple[Kind, bool] | None = None) -> Iterator[Hit]:
    """Judge the value `text[s:e]` assigned to `name` (`found`: its `name_kind`, when already known);
    `literal()` says whether bare words are literals."""
    if found is None:
        found = name_kind(name)
    if found is None:
        return
    kind, weak = found
    is_password = kind is PASSWORD
    if not quoted:
        if not is_password and _WORDY.fullmatch(text, s, e):
            return  # fast path: a bare identifier or word is never a random key
        while (tail := _AMP_TAIL.match(text, e)) is not None and tail.end() > e and e - s < 300:
            e = tail.end()
        if is_password and op == ":" and literal():
            # YAML: a bare value runs to the end of the line (passphrases have spaces).
            while e < len(text) and e - s < 256 and text[e] not in "\r\n#" and not text.startswith("\\n", e):
                e += 1
            while e > s and text[e - 1] in " \t":
                e -= 1
        while e > s + 1 and text[e - 1] in ".:" and (e == len(text) or text[e] in " \t\r\n\\"):
            e -= 1  # sentence punctuation after a bare value
    value = text[s:e]
    if op in ("is", "was") and not _prose_value(value):
        return  # prose: `the token is expired`, `the password is required` have no secret in them
    if kind is SECRET and _aws_secret(name, value):
        kind = AWS_SECRET
    elif is_password:
        if not looks_password(value, quoted=quoted, literal=not quoted and literal()):
            return
        if op == ":" and name.lower() == "passwd" and all(w in _NSS_SOURCES for w in value.split() if w[0] != "["):
            return
    elif not looks_secret(value, weak_name=weak):
        return
    yield Hit(s, e, kind.name, kind.tier, 5)


_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


@lru_cache(maxsize=4096)
def _ends_unnamed(window: str) -> bool:
    """Does a name that ends with `window[1:]` (`window[0]` is the character before that) surely name no
    credential, whatever else it holds? It does when its last segment is one `name_kind` refuses first
    (`max_tokens`, `totalTokens`, `self.key_id`) and that segment cannot depend on what comes before: there is
    a separator after which it lies, or the case or the kind of character changes right where the window
    starts. Segments follow the original case (`tokenS` ends in `s`), so the window is the original text."""
    prev, tail = window[0], window[1:]
    cut = max(tail.rfind(c) for c in "_.-$@") + 1
    if not cut and (prev in _ALNUM or prev == "\\"):  # `\\` may be an escape whose letter `_name_start` skips
        first, second = tail[:1], tail[1:2]
        same_kind = prev.isdigit() == first.isdigit()
        case_break = (prev.islower() and first.isupper()) or (first.isupper() and second.islower())
        if prev == "\\" or (same_kind and not case_break):
            return False  # the last segment may have begun before the window
    segs = _SEG.findall(tail, cut)
    return bool(segs) and segs[-1].lower() in _NOT_SECRET_LAST


def _assign(m: re.Match[str], text: str) -> Iterable[Hit]:
    # A plain function that returns `()` for the common refusals (a name that names no credential, a bare
    # identifier as the value): most matches end there, and a generator would cost more than the checks.
    at = m.start()
    end = m.end("rest")
    if _ends_unnamed(text[at - 1:end] if at else " " + text[:end]):
        return ()  # `max_tokens = 4096`, `self.key_id = key_id`, without looking for where the name starts
    start = _name_start(text, at)
    name = text[start:end]
    found = name_kind(name.lstrip("-$@."))
    if found is None:
        return ()  # most matches end here: `max_tokens = 4096`, `self.key_id = key_id`
    s, e, quoted = _value_span(m)
    if not quoted and found[0] is not PASSWORD and _WORDY.fullmatch(text, s, e):
        return ()  # `api_key=api_key`: what `_emit` would refuse first, whatever the operator
    return _assigned(m, text, start, name, found, s, e, quoted)


def _assigned(m: re.Match[str], text: str, start: int, name: str, found: tuple[Kind, bool], s: int, e: int,
              quoted: bool) -> Iterator[Hit]:
    op = m.group("op").strip()
    if op.startswith(("is", "was")):
        op = op.rstrip(": \t")  # prose: `is`, `is:`, `was :`
    if text.endswith(("${", "%("), 0, start):
        return  # `${DB_PASSWORD:-default}`, `%(password)s`: a reference, not an assignment
    if text.startswith("[REDACTED-", start - 1):
        return  # the kind named in a marker (`[REDACTED-OPENAI-KEY]:…`) is not an assignment
    if op == ">" and (start == 0 or text[start - 1] != "<" or not text.startswith("</", e)):
        return  # `>` only assigns in XML: `<password>value</password>`

    def literal() -> bool:
        if op == "=" and (name.startswith("--") or (start > 0 and text[start - 1] in "?&")):
            return True  # `--password=…` on a command line, `?password=…` in a query string
        prefix = _line_prefix(text, start)
        if op == "=" and name.isupper():
            return prefix in _LINE_LEADERS or _shell_lead(prefix)  # .env, `$ PGPASSWORD=… psql`
        return op == ":" and prefix in _LINE_LEADERS and "=" not in _rest_of_line(text, e)

    yield from _emit(text, name.lstrip("-$@."), s, e, quoted=quoted, op=op, literal=literal, found=found)


def _flag(m: re.Match[str], text: str) -> Iterator[Hit]:
    if m.start() > 0 and text[m.start() - 1] in _FLAG_LEFT:
        return  # `x-api-key` inside a word, not a command-line flag
    s, e, quoted = _value_span(m)
    name = text[m.start("name"):m.end("name")]
    yield from _emit(text, name, s, e, quoted=quoted, op="--", literal=lambda: False)


def _netrc_or_tuple(m: re.Match[str], text: str) -> Iterator[Hit]:
    """`.netrc` (`machine h login u password P`) and Python `auth=("user", "P")` / `HTTPBasicAuth(…)`."""
    s, e = m.span("v")
    if looks_password(text[s:e], quoted=True, literal=True):  # both are literals
        yield Hit(s, e, PASSWORD.name, PASSWORD.tier, 5)


def _pair(m: re.Match[str], text: str) -> Iterator[Hit]:
    s, e, quoted = _value_span(m)
    name = text[m.start("name"):m.end("name")]
    yield from _emit(text, name, s, e, quoted=quoted, op=":",
                     literal=lambda: not _rest_of_line(text, e).strip(" \t\"'"))


_NETRC = r"machine[ \t]+\S+(?:\s+login[ \t]+\S+)?\s+password[ \t]+(?P<v>[^\s\\]+)"
_PAIR_ARGS = (r"[ \t]*(?P<q>\\{0,3}[\"'])[^\"'\\\n]{1,128}(?P=q)[ \t]*,[ \t]*(?P=q)(?P<v>[^\"'\\\n]{1,256})"
              r"(?P=q)")
# Separate rules rather than one alternation: a pattern that starts with a literal is found far faster. One
# rule per requests auth class, so that `auth` sits at a fixed place in each literal: they then share the
# scan for `auth` (see `plans`) instead of scanning for `http` on their own.
_AUTH_TUPLE = r"auth[ \t]*=[ \t]*\(" + _PAIR_ARGS
_AUTH_CLASSES = tuple(rf"http{name}auth\(" + _PAIR_ARGS for name in ("basic", "digest", "proxy"))
_OTHER_RULES = (lower_rule(KINDS, _FLAG, _flag, ("--",)), lower_rule(KINDS, _PAIR, _pair, ("value",), needs=("value",)),
                lower_rule(KINDS, _NETRC, _netrc_or_tuple, ("machine",)),
                lower_rule(KINDS, _AUTH_TUPLE, _netrc_or_tuple, ("auth",), needs=("=", "(", ",")),
                *(lower_rule(KINDS, source, _netrc_or_tuple, ("auth(",), needs=("(", ",")) for source in _AUTH_CLASSES))
_KEYWORD_LIST = ("pass", "pw", "secret", "token", "key", "auth", "cred")
# One regex per keyword: each starts with a literal, which the regex engine finds many times faster than an
# alternation it would try at every position (a name holding two keywords is found twice; identical hits merge).
TEXT_RULES: tuple[TextRule, ...] = tuple(
    lower_rule((*KINDS, AWS_SECRET), _ASSIGN.replace("{keyword}", kw), _assign, (kw,)) for kw in _KEYWORD_LIST
) + _OTHER_RULES
