"""Private keys and signed tokens: PEM blocks of every flavour, PuTTY key files, bare OpenSSH key bodies, JWTs.

A PEM block is redacted whole, from its BEGIN line to its END line, whether its lines are real newlines,
literal `\\n` escapes (JSON strings, Python reprs) or doubled `\\\\n`, and whatever wraps its body. A block
whose END line is missing (cut-off tool output) is redacted through the last line that still looks like key
body. Public keys and certificates (`BEGIN PUBLIC KEY`, `BEGIN CERTIFICATE`) are not secrets and stay.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from memory_syncd.redact.kinds import Family, Hit, Kind, TextRule, Tier, TokenRule, rules, token

_KEYS = Family.KEYS
# A separator inside armour: whitespace, or a JSON / repr escaped newline.
_WS = r"(?:[ \t\r\n]|\\{1,2}[nrt])"
_NL = r"(?:[ \t]*(?:\r?\n|\\{1,2}[nr])[ \t]*)"
_LABEL = r"(?:" + _WS + r"+[A-Z0-9]+){0,3}?"
_ARMOUR = _LABEL + _WS + r"+PRIVATE" + _WS + r"+KEY(?:" + _WS + r"+BLOCK)?" + _WS + r"*-{3,5}"
_BODY_LINE = r"(?:[A-Za-z0-9+/]{16,}={0,2}|[A-Za-z][A-Za-z-]*:[^\r\n\\]*)"
_PEM_SOURCE = (
    r"BEGIN" + _ARMOUR
    + r"(?:.{0,20000}?-{3,5}" + _WS + r"*END" + _ARMOUR
    + r"|(?:" + _WS + r"+" + _BODY_LINE + r")*(?:" + _NL + r"+[A-Za-z0-9+/]{1,15}={0,2}(?![A-Za-z0-9+/=]))?)"
)
# A body line is base64 to its end: `Private` of the `Private-MAC:` line that follows is not one.
_PUTTY_SOURCE = (
    r"PuTTY-User-Key-File-\d+:.{0,20000}?Private-Lines:" + _WS + r"*\d+(?:" + _WS
    + r"+[A-Za-z0-9+/]{4,}={0,2}(?![A-Za-z0-9+/=:-]))+(?:" + _WS + r"+Private-(?:MAC|Hash):" + _WS
    + r"*[0-9a-fA-F]+)?"
)
_OPENSSH_SOURCE = r"b3BlbnNzaC1rZXktdjE[A-Za-z0-9+/]{20,}={0,2}(?:" + _NL + r"+[A-Za-z0-9+/]{4,}={0,2})*"

PRIVATE_KEY = Kind(
    "PRIVATE-KEY", "PEM private key block (RSA, EC, DSA, OPENSSH, PKCS#8, ENCRYPTED, PGP, SSH2) or bare "
    "OpenSSH key body", _KEYS, Tier.TOKEN,
    "`-----BEGIN [LABEL ]PRIVATE KEY[ BLOCK]-----` … `-----END …-----` (newlines real, `\\n`-escaped or "
    "wrapped; END optional); bare body `b3BlbnNzaC1rZXktdjE…` (base64 of `openssh-key-v1`)",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA<B64:48>\n<B64:64>\n<B64:64>\n<B64:20>==\n"
    "-----END RSA PRIVATE KEY-----",
    "armour must say PRIVATE KEY (public keys and certificates stay); the whole block goes, never half a "
    "key; without an END line only base64-looking lines after BEGIN are taken",
)
PUTTY_KEY = Kind(
    "PUTTY-PRIVATE-KEY", "PuTTY private key file (.ppk)", _KEYS, Tier.TOKEN,
    "`PuTTY-User-Key-File-N:` … `Private-Lines: N` + base64 lines [+ `Private-MAC:`]",
    "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: deploy\nPublic-Lines: 2\n<B64:64>\n"
    "<B64:16>\nPrivate-Lines: 1\n<B64:44>\nPrivate-MAC: <HEX:64>",
    "only the fixed PuTTY header starts a match; it ends at the private lines (and MAC)",
)


def _pem(m: re.Match[str], text: str) -> Iterator[Hit]:
    start = m.start()
    # Take the dashes that precede BEGIN along with the block, and the space of SSH2's `---- BEGIN`; never the
    # space before the dashes (`my key is -----BEGIN …` keeps its space).
    if start >= 2 and text[start - 1] == " " and text[start - 2] == "-":
        start -= 1
    floor = max(0, start - 5)
    while start > floor and text[start - 1] == "-":
        start -= 1
    yield Hit(start, m.end(), PRIVATE_KEY.name, Tier.TOKEN, 40)


def _bare_openssh(m: re.Match[str], text: str) -> Iterator[Hit]:
    yield Hit(m.start(), m.end(), PRIVATE_KEY.name, Tier.TOKEN, 40)


def _putty(m: re.Match[str], text: str) -> Iterator[Hit]:
    yield Hit(m.start(), m.end(), PUTTY_KEY.name, Tier.TOKEN, 40)


TEXT_RULES: tuple[TextRule, ...] = (
    TextRule((PRIVATE_KEY,), re.compile(_PEM_SOURCE, re.S), _pem, ("BEGIN",), needs=("PRIVATE",)),
    TextRule((PRIVATE_KEY,), re.compile(_OPENSSH_SOURCE), _bare_openssh, ("b3BlbnNzaC1rZXktdjE",), in_runs=True),
    TextRule((PUTTY_KEY,), re.compile(_PUTTY_SOURCE, re.S), _putty, ("PuTTY-User-Key-File",),
             needs=("Private-Lines",), in_runs=True),
)

TOKEN_RULES: tuple[TokenRule, ...] = rules(
    token("JWT", "JSON Web Token (OAuth access / ID tokens, Supabase keys, session tokens)", _KEYS,
          r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*", "eyJ<B64U:33>.eyJ<B64U:80>.<B64U:43>",
          guard="base64url of a JSON header and a JSON payload (both start `eyJ`, i.e. `{\"`), two dots; "
                "plain base64 blobs have no dots and stay"),
)
