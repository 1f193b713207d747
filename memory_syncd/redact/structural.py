"""Secrets recognised by the structure around them: URL userinfo, HTTP auth headers, command-line passwords.

Owns the connection-string kinds (postgres, mysql, mongodb, redis, amqp, any other `scheme://user:pass@`),
`Authorization: Bearer|Basic|…` values, session cookies, `curl -u user:pass`, `mysql -pPASS` /
`sshpass -p`, and the AWS secret access key found next to its access key id. Only the secret part is
replaced: user names, hosts, ports and databases stay, because they are what a memory file needs.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator

from memory_syncd.redact.kinds import Family, Hit, Kind, TextRule, Tier, lower_rule
from memory_syncd.redact.values import (
    is_reference,
    is_template,
    looks_password,
    looks_secret,
    shannon,
    words,
)

_CONN = Family.CONNECTIONS


def _kind(name: str, title: str, pattern: str, shape: str, guard: str, context: str,
          family: Family = _CONN) -> Kind:
    return Kind(name, title, family, Tier.CONTEXT, pattern, shape, guard, context)


_URL_GUARD = ("only the password between `:` and the last `@` before the host is replaced (the host is "
              "what follows the last `@` before the first `/` after an `@`); templates (`password`, `<pass>`, "
              "`${PASS}`, `****`, `your_password`, `changeme`) and `host:port/path@…` look-alikes stay")
_URL_PATTERN = ("`{scheme}://[user]:PASSWORD@host` (the password may hold any punctuation: `@` `:` `#` `!` "
                "`?` `/` `%XX` …)")
URL_KINDS: dict[str, Kind] = {
    "postgres": _kind("POSTGRES-PASSWORD", "Password in a PostgreSQL connection URL",
                      _URL_PATTERN.format(scheme="postgres(ql)[+driver]"), "<UPW:16>", _URL_GUARD,
                      "postgres://app:{}@db.internal:5432/app"),
    "mysql": _kind("MYSQL-PASSWORD", "Password in a MySQL / MariaDB connection URL",
                   _URL_PATTERN.format(scheme="mysql|mariadb[+driver]"), "<UPW:16>", _URL_GUARD,
                   "mysql+pymysql://root:{}@127.0.0.1:3306/shop"),
    "mongodb": _kind("MONGODB-PASSWORD", "Password in a MongoDB connection URL",
                     _URL_PATTERN.format(scheme="mongodb[+srv]"), "<UPW:16>", _URL_GUARD,
                     "mongodb+srv://svc:{}@cluster0.ab1cd.mongodb.net/prod?retryWrites=true"),
    "redis": _kind("REDIS-PASSWORD", "Password in a Redis / Valkey connection URL",
                   _URL_PATTERN.format(scheme="redis|rediss|valkey"), "<UPW:16>", _URL_GUARD,
                   "redis://:{}@cache.internal:6379/0"),
    "amqp": _kind("AMQP-PASSWORD", "Password in an AMQP (RabbitMQ) connection URL",
                  _URL_PATTERN.format(scheme="amqp|amqps"), "<UPW:16>", _URL_GUARD,
                  "amqps://worker:{}@mq.internal:5671/vhost"),
    "": _kind("URL-PASSWORD", "Password in any other URL (`https://user:pass@host`, ftp, ldap, smtp, …)",
              _URL_PATTERN.format(scheme="any"), "<UPW:16>", _URL_GUARD,
              "https://deploy:{}@git.example.org/team/repo.git"),
}
BEARER = _kind("BEARER-TOKEN", "Opaque token after `Bearer` (Authorization header, curl -H, code)",
               "`Bearer TOKEN` (case-insensitive), TOKEN = `[\\w.~+/-]{8,}=*`", "<B62:40>",
               "the token must look random (digits, entropy, not a word or identifier); `$TOKEN`, `{token}`, "
               "`<token>` and `YOUR_TOKEN` stay", "curl -H 'Authorization: Bearer {}' https://api.example.com")
BASIC = _kind("BASIC-AUTH", "HTTP Basic credentials (`Authorization: Basic base64(user:pass)`)",
              "`Basic B64` where B64 decodes to printable `user:pass`", "<BASIC:14>",
              "the value must base64-decode to printable text containing `:` and a password that is not a "
              "template, so `basic usage` stays",
              "Authorization: Basic {}")
AUTH_HEADER = _kind("AUTH-HEADER", "Other `Authorization:` header values (`token …`, `Bot …`, raw keys)",
                    "`Authorization: [token|apikey|key|bot|sso-key|otp|dpop ]VALUE`", "<B62:32>",
                    "value must look random; Bearer and Basic have their own kinds",
                    "Authorization: token {}")
CURL_USER = _kind("CURL-USER-PASSWORD", "Password given to curl / wget / httpie with `-u user:pass`",
                  "`curl|wget|http … -u|--user [\"']user:PASSWORD`", "<PW:16>",
                  "only on curl/wget/http command lines; `$VAR`, placeholders and numeric `uid:gid` stay",
                  "curl -u deploy:{} https://ci.example.com/api")
CLI_PASSWORD = _kind("CLI-PASSWORD", "Password on a command line (`mysql -pPASS`, `sshpass -p`, `docker login -p`, "
                     "`-p'PASS'`)",
                     "`mysql… -pPASS` (glued, lower-case p), `sshpass -p PASS`, `docker login … -p PASS`, and "
                     "`-p'PASS'` / `-p\"PASS\"` (glued and quoted) after any command (`7z`, `rar`, …)",
                     "<PW:14>", "`-P` (port) is not `-p`; templates and `$VAR` stay; after other commands only the "
                     "glued quoted form counts, not for numbers (`ssh -p'2222'`), paths, or commands whose -p is "
                     "something else (pytest, ssh, psql, git, mkdir, …)",
                     "mysql -h db -u root -p{} shop")
COOKIE = _kind("SESSION-COOKIE", "Session or auth cookie in a `Cookie:` / `Set-Cookie:` header or `--cookie`",
               "`Cookie: …; NAME=VALUE; …` where NAME says session, sess, sid, auth, token, jwt, remember or login",
               "<B64U:40>", "only cookies named for a session or login, with a random-looking value; preference "
               "and tracking cookies stay", "Cookie: theme=dark; session_id={}; lang=en")
AWS_SECRET = _kind("AWS-SECRET-ACCESS-KEY", "AWS secret access key", "40 base64 characters after an "
                   "`aws…secret…key` name, a `SecretAccessKey` JSON field, or on the same line as an access "
                   "key id", "<B64:40>", "no prefix, so context is required; must mix upper, lower and digits "
                   "(a 40-hex git SHA next to a key id stays)", "aws_secret_access_key = {}", Family.CLOUD)

# The password group runs greedily to the last `@` of the run; `_url` then picks the `@` that ends it.
_URL_CRED = re.compile(r"://(?P<user>[^\s:/?#@\"'`<>\\\[\]{}]{0,128}):(?P<pw>[^\s\"'`<>\\]{1,256})@"
                       r"(?=[A-Za-z0-9\[._-])")
_HOST_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789[._-")
_QUERY_START = re.compile(r"\?[\w.-]+=")
_PORT_PATH = re.compile(r"\d{1,5}[/?#]")
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")
_URL_PLACEHOLDERS = words("pass pw pwd passwd password secret changeme user username token x")


def _scheme(text: str, at: int) -> str:
    i = at
    while i > 0 and at - i < 32 and text[i - 1] in _SCHEME_CHARS:
        i -= 1
    scheme = text[i:at].lower()
    for key in ("postgres", "mysql", "mariadb", "mongodb", "redis", "valkey", "amqp"):
        if scheme.startswith(key) or f"+{key}" in scheme or f":{key}" in scheme:
            return {"mariadb": "mysql", "valkey": "redis"}.get(key, key)
    return ""


def _password_end(text: str, start: int, last: int) -> int:
    """Where a URL password starting at `start` ends, `last` being the last `@` of the run: at the last
    `@` before the end of the authority, which is the first `/` (or `?name=`) after the first `@`. So
    `p@ss:w0rd@host/db` keeps `@` and `:` in the password, and `…@host/x?email=a@b.org` does not."""
    first = text.find("@", start, last + 1)
    limit = last + 1
    if (slash := text.find("/", first, limit)) >= 0:
        limit = slash
    if (query := _QUERY_START.search(text, first, limit)) is not None:
        limit = query.start()
    at = text.rfind("@", first, limit)
    while at > first and text[at + 1] not in _HOST_START:
        at = text.rfind("@", first, at)
    return at


def _url(m: re.Match[str], text: str) -> Iterator[Hit]:
    user = m.group("user")
    s = m.start("pw")
    e = _password_end(text, s, m.end("pw"))
    pw = text[s:e]
    if not pw or pw.lower() in _URL_PLACEHOLDERS or is_template(pw) or is_reference(pw):
        return
    if _PORT_PATH.match(pw):
        return  # host:port/path/…@…: a port, then `@` in the path or the query
    if pw.isdigit() and len(pw) <= 5 and ("." in user or user.lower() == "localhost" or not user):
        return  # host:port@…, not credentials
    kind = URL_KINDS[_scheme(text, m.start())]
    yield Hit(s, e, kind.name, Tier.CONTEXT, 20)


def _bearer(m: re.Match[str], text: str) -> Iterator[Hit]:
    if m.start() > 0 and text[m.start() - 1].isalpha():
        return
    s, e = m.span("v")
    if looks_secret(text[s:e]):
        yield Hit(s, e, BEARER.name, Tier.CONTEXT, 15)


def _basic(m: re.Match[str], text: str) -> Iterator[Hit]:
    if m.start() > 0 and text[m.start() - 1].isalpha():
        return
    s, e = m.span("v")
    try:
        decoded = base64.b64decode(text[s:e], validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return
    _user, sep, pw = decoded.partition(":")
    if sep and pw and decoded.isprintable() and not is_template(pw):
        yield Hit(s, e, BASIC.name, Tier.CONTEXT, 15)


def _auth_header(m: re.Match[str], text: str) -> Iterator[Hit]:
    s, e = m.span("v")
    if looks_secret(text[s:e]):
        yield Hit(s, e, AUTH_HEADER.name, Tier.CONTEXT, 10)


_CURL_LINE = re.compile(r"\b(?:curl|wget|https?|xh)\b")
_CLI_LINE = re.compile(r"\b(?:(?:mysql(?:dump|admin|sh|import|check|slap)?|mariadb)\b(?P<glued>)|sshpass\b"
                       r"|docker[ \t]+login\b)")
_FLAG_LEFT = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
# Commands whose `-p` is a port, a plugin, a path or a patch, never a password.
_P_NOT_PASSWORD = re.compile(r"\b(?:pytest|py\.test|ssh|scp|sftp|mosh|psql|pg_\w+|mkdir|cp|rsync|git|perl|ruby"
                             r"|kubectl|nc|ncat|nmap|telnet|redis-cli|mongo\w*|uvicorn|gunicorn|flask|npm|npx)\b")


def _line_before(text: str, at: int) -> str:
    """The line holding `at`, up to `at` (lines end at newlines, literal `\\n` escapes, `;`, `|`, `&`)."""
    head = text[max(0, at - 300):at]
    cut = max((i + len(sep) for sep in ("\n", "\\n", ";", "|", "&") if (i := head.rfind(sep)) >= 0), default=0)
    return head[cut:]


def _curl_user(m: re.Match[str], text: str) -> Iterator[Hit]:
    if m.start() > 0 and text[m.start() - 1] in _FLAG_LEFT:
        return
    if not _CURL_LINE.search(_line_before(text, m.start()).lower()):
        return  # `-u` means something else to git, docker, sort, …
    user, pw = text[m.start("user"):m.end("user")], text[m.start("pw"):m.end("pw")]
    if user.isdigit() and pw.isdigit():
        return
    if pw.lower() in _URL_PLACEHOLDERS or is_template(pw) or is_reference(pw):
        return
    yield Hit(m.start("pw"), m.end("pw"), CURL_USER.name, Tier.CONTEXT, 15)


def _cli_password(m: re.Match[str], text: str) -> Iterator[Hit]:
    if text[m.start() + 1] != "p" or (m.start() > 0 and text[m.start() - 1] not in " \t"):
        return  # -P is a port (the match ran on lowercased text); -p must start a word
    line = _line_before(text, m.start()).lower()
    tool = _CLI_LINE.search(line)
    group = next(g for g in ("a", "b", "c") if m.group(g) is not None)
    s, e = m.span(group)
    if tool is None:
        # Any other command: only `-p'…'` / `-p"…"` without spaces (7z, rar, mysql clients under other
        # names). Numbers are ports (`ssh -p'2222'`), and paths are for `mkdir -p'…'`.
        value = text[s:e]
        if group == "c" or text[m.start() + 2] not in "'\"" or value.isdigit() or any(c.isspace() for c in value):
            return  # `"git add -p" (and …`: the quote closed a string, it did not open a password
        if _P_NOT_PASSWORD.search(line):
            return  # `pytest -p'no:cacheprovider'`, `psql -p'5433'`
    elif tool.group("glued") is not None and text[m.start() + 2] in " \t":
        return  # mysql -p<space> prompts for the password; what follows is the database
    if looks_password(text[s:e], quoted=group != "c", literal=True):
        yield Hit(s, e, CLI_PASSWORD.name, Tier.CONTEXT, 15)


_COOKIE_PAIR = re.compile(r"(?P<n>[A-Za-z0-9_.-]{1,64})=(?P<v>[^;,\s\"'\\]{1,4096})")
_COOKIE_NAMES = ("sess", "sid", "auth", "token", "jwt", "remember", "login")


def _cookie(m: re.Match[str], text: str) -> Iterator[Hit]:
    for pair in _COOKIE_PAIR.finditer(text, m.start("v"), m.end("v")):
        name = pair.group("n").lower()
        if any(w in name for w in _COOKIE_NAMES) and looks_secret(pair.group("v")):
            yield Hit(pair.start("v"), pair.end("v"), COOKIE.name, Tier.CONTEXT, 12)


def _aws_pair(m: re.Match[str], text: str) -> Iterator[Hit]:
    s = m.group("s")
    if (any(c.isupper() for c in s) and any(c.islower() for c in s) and any(c.isdigit() for c in s)
            and shannon(s) > 4.2):
        yield Hit(m.start("s"), m.end("s"), AWS_SECRET.name, Tier.CONTEXT, 25)


_Q = r"(?:\\{0,3}[\"'])?"
TEXT_RULES: tuple[TextRule, ...] = (
    # On the lowercased copy (the pattern has no letters to fold) so that, like keyword rules, it skips blobs.
    lower_rule(tuple(URL_KINDS.values()), _URL_CRED.pattern, _url, ("://",), needs=("@",)),
    lower_rule((BEARER,), r"bearer[ \t]+(?P<v>[a-z0-9._~+/-]{8,}=*)", _bearer, ("bearer",)),
    lower_rule((BASIC,), r"basic[ \t]+(?P<v>[a-z0-9+/]{6,}={0,2})(?![a-z0-9+/=])", _basic, ("basic",)),
    lower_rule((AUTH_HEADER,),
               r"authorization" + _Q + r"[ \t]*[:=][ \t]*" + _Q
               + r"(?:(?:token|apikey|api-key|key|sso-key|bot|otp|dpop|ssws)[ \t]+)?(?P<v>[a-z0-9._~+/=-]{8,})",
               _auth_header, ("authorization",)),
    lower_rule((CURL_USER,),
               r"-(?:u|-user|-http-user)(?:[ \t]+|=)?(?:\\{0,3}[\"'])?(?P<user>[^\s:\"'\\]{1,128}):"
               r"(?P<pw>[^\s\"'\\]{1,256})", _curl_user, ("-u", "--user"), needs=(":",)),
    lower_rule((CLI_PASSWORD,),
               r"-p[ \t]*(?:'(?P<a>[^'\n]+)'|\"(?P<b>[^\"\n]+)\"|(?P<c>[^\s'\"\\-][^\s'\"\\]*))",
               _cli_password, ("mysql", "mariadb", "sshpass", "docker", "-p'", '-p"')),
    lower_rule((COOKIE,), r"cookie(?:\\{0,3}[\"'])?(?:[ \t]*[:=]|[ \t]+(?=\\{0,3}[\"']))[ \t]*(?:\\{0,3}[\"'])?"
               r"(?P<v>[^\n\"'\\]{3,4000})", _cookie, ("cookie",)),
    TextRule((AWS_SECRET,),
             re.compile(r"A(?:KIA|SIA|BIA|CCA)[A-Z2-7]{16}[^\n]{1,100}?(?<![A-Za-z0-9/+=])"
                        r"(?P<s>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"),
             _aws_pair, requires="AWS-ACCESS-KEY-ID"),
)
