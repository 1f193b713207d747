"""references/SECRET_PATTERNS.md, generated from `KINDS` so the doc and the code cannot drift.

Regenerate with `python -m memory_syncd.redact.doc > references/SECRET_PATTERNS.md`; a test compares the
file with `render_markdown()`.
"""

from __future__ import annotations

from memory_syncd.redact.engine import KINDS
from memory_syncd.redact.kinds import FAMILY_TITLES, Kind, Tier

_INTRO = """\
# Secret patterns

Generated from `memory_syncd.redact.KINDS` by `python -m memory_syncd.redact.doc`; do not edit by hand.

Every text memory-syncd writes to disk or sends to an LLM goes through `memory_syncd.redact.redact` first.
Each secret found is replaced by `[REDACTED-<KIND>]`; every other byte is kept, and redacting twice changes
nothing more. `memory-syncd redact --report` shows the counts per kind.

How a text is searched:

1. **Tokens that identify themselves** (tier 3: unique prefixes, PEM armour, JWTs) are looked for only in
   runs of at least 16 token characters (`[A-Za-z0-9_+/=.~:-]`). One pass over those runs finds where a
   rule's literal anchor (usually its prefix) starts a word, and only those rules run, only on those runs;
   long pure-base64 runs (images, archives) are searched by none. The character before a token must not
   be a letter or digit, except when it ends an escape (`\\n`, `%3D`, `\\u0022`): tokens inside JSON
   strings are caught.
2. **Context rules** (tier 2: URL userinfo, `Authorization` headers, `curl -u`, `mysql -p`, an AWS secret
   key next to its key id) run where their keyword occurs; rules whose keywords share a literal share one
   scan. Only the secret part is replaced.
3. **Generic assignments** (tier 1): a value assigned to a name that says password, secret, token or key,
   in env, shell, YAML, JSON (also JSON-escaped), TOML, INI, Python, Go, PHP, XML, CLI-flag, query-string
   and prose forms. The name must name a credential and the value must pass entropy, placeholder,
   reference and shape checks (see the guards below).

Overlaps: a higher tier wins the part two findings share, and what the lower one holds besides goes under its
own kind; overlapping findings of one tier are merged. So a secret is never half redacted. Existing
`[REDACTED-…]` markers are never matched again.

Example shapes use `<SLOT:n>` for n characters of: `B62` `[A-Za-z0-9]`, `B64U` `[A-Za-z0-9_-]`, `B64`
`[A-Za-z0-9+/]`, `HEX` `[0-9a-f]`, `DIG` digits, `B32` `[A-Z2-7]`, `UPAN` `[A-Z0-9]`, `LOWAN` `[a-z0-9]`,
`ALPHA` letters, `BECH32` bech32 upper case, `PW` password characters, `UPW` URL-password characters
(`PW` plus `#$&,.:;=@`), `UUID`, `BASIC` base64 of `user:password`. The examples are rendered from the
shapes with patterned filler: obviously fake.
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "↵")


def _code(text: str) -> str:
    body = _cell(text)
    return f"`` {body} ``" if "`" in body else f"`{body}`"


def _row(kind: Kind) -> str:
    pattern = _code(kind.pattern) if kind.tier is Tier.TOKEN else _cell(kind.pattern)
    return (f"| `{kind.name}` | {_cell(kind.title)} | {pattern} | {_code(kind.example)} | "
            f"{_cell(kind.guard)} |")


def render_markdown() -> str:
    """The whole reference doc."""
    lines = [_INTRO]
    specific = sum(1 for k in KINDS if k.tier is not Tier.GENERIC)
    lines.append(f"{len(KINDS)} kinds: {specific} with specific formats or contexts, "
                 f"{len(KINDS) - specific} generic.\n")
    for family, title in FAMILY_TITLES.items():
        kinds = [k for k in KINDS if k.family is family]
        if not kinds:
            continue
        lines.append(f"## {title}\n")
        lines.append("| kind | what | pattern | example (fake) | false-positive guard |")
        lines.append("|---|---|---|---|---|")
        lines.extend(_row(k) for k in kinds)
        lines.append("")
    lines.append(_PASS_THROUGH)
    return "\n".join(lines)


_PASS_THROUGH = """\
## Left alone on purpose

Git SHAs (full and short), UUIDs and other ids (`toolu_…`, `msg_…`, `req_…`, `cus_…`, `chatcmpl-…`),
sha256/sha512 digests (`sha256sum` output, lock files, `sha512-…` integrity strings, `sha256:…` docker
digests, go.sum `h1:`), ordinary base64 (images, thinking signatures), public keys and certificates, long
paths, URLs without credentials, CSS colours, versions, timestamps, identifiers and variable references
(`$VAR`, `${VAR}`, `${{ secrets.X }}`, `{{ … }}`, `os.environ[…]`, `process.env.X`), placeholders
(`your-api-key-here`, `sk-...`, `<token>`, `xxxx`, `****`, `changeme`) and prose about passwords.
These are checked by `tests/test_redact_passthrough.py` and the look-alike corpus in
`tests/redact_corpus.py`.
"""


if __name__ == "__main__":
    print(render_markdown(), end="")
