"""Deterministic corpora for the redaction tests and benchmark.

- `planted_cases(seed)`: every kind's secrets (random instances of its documented shape) planted into
  realistic contexts: prose, .env, shell, JSON tool results (plain and JSON-escaped), YAML, TOML, Python,
  logs, curl commands, Python reprs, and at the very start and end of the text.
- `lookalike_cases(seed)`: things that look like secrets and are not: git SHAs, UUIDs, digests, lock files,
  docker digests, base64, paths, URLs, colours, versions, timestamps, identifiers, placeholders, prose.
- `transcript_text(seed, size)`: transcript-like JSONL mixing all of that, with a low density of secrets.

Every random choice comes from a `random.Random(seed)`: same seed, same bytes.
"""

from __future__ import annotations

import json
import random
import string
import uuid
from dataclasses import dataclass

from memory_syncd.redact import KINDS, Kind, Tier, render_shape


@dataclass(frozen=True)
class Case:
    """A text with secrets planted in it; `secrets` are the substrings that must not survive redaction."""

    kind: str
    context: str
    text: str
    secrets: tuple[str, ...]


_WORD_TEXT = """the a of to and in is that for it with as was on be at by this had not are but from or have an they
which you one were all we when your can said there use each she do how their if will up other about out many
then them these so some her would make like him into time has look two more write go see number no way could
people my than first water been call who its now find long down day did get come made may part deploy server
backup script restic nightly timer config memory agent session build test merge branch commit release file
directory cache queue worker database migration schema index query latency error retry timeout request
response header payload token budget password rotate vault secret key access policy review note plan"""
WORDS = _WORD_TEXT.split()

CODE_LINES = [
    "def load(path: Path) -> dict[str, Any]:\n    return json.loads(path.read_text())\n",
    "for i, item in enumerate(items):\n    if item.done:\n        continue\n",
    "const total = items.reduce((acc, x) => acc + x.price, 0);\n",
    "if err != nil {\n\treturn fmt.Errorf(\"read %s: %w\", path, err)\n}\n",
    "SELECT id, name FROM users WHERE created_at > NOW() - INTERVAL '7 days';\n",
    "    api_key = os.environ[\"OPENAI_API_KEY\"]\n    client = OpenAI(api_key=api_key)\n",
    "    token = request.headers.get(\"Authorization\", \"\").removeprefix(\"Bearer \")\n",
    "def login(username: str, password: str) -> bool:\n    return check(username, password)\n",
    "password = getpass.getpass(\"Password: \")\n",
    "max_tokens = 4096\ntemperature = 0.2\n",
    "export PATH=\"$HOME/.local/bin:$PATH\"\n",
    "self.secret_name = secret_name\nself.key_id = key_id\n",
    "headers = {\"Authorization\": f\"Bearer {token}\", \"Content-Type\": \"application/json\"}\n",
    "color: #1e90ff; background: #fafafa; margin: 0 auto;\n",
]


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _b64(rng: random.Random, n: int, alphabet: str = string.ascii_letters + string.digits + "+/") -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _sentence(rng: random.Random, n: int = 12) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


# --- planted secrets ------------------------------------------------------------------------------------

def _escape(s: str) -> str:
    """As the text sits inside a JSON string (tool output embedded in a transcript line)."""
    return json.dumps(s)[1:-1]


# Contexts for a self-identifying token; `{}` is the token.
TOKEN_CONTEXTS: dict[str, str] = {
    "prose": "Here is the key you asked for: {} - please keep it safe.",
    "env": "NODE_ENV=production\nSERVICE_CREDENTIAL={}\nLOG_LEVEL=info\n",
    "shell": "$ export SERVICE_CREDENTIAL='{}' && ./deploy.sh --env prod\n",
    "json": '{{"type": "tool_result", "content": {{"stdout": "configured", "value": "{}"}}}}',
    "json-escaped": '{{"content":"{{\\"config\\": {{\\"value\\": \\"{}\\"}}}}\\nok"}}',
    "yaml": "service:\n  name: billing\n  credential: {}\n  replicas: 2\n",
    "toml": '[service]\nname = "billing"\ncredential = "{}"\n',
    "python": 'client = Client("{}", timeout=30)\n',
    "log": "2026-04-13T06:58:46.910Z INFO worker[4182]: using credential {} for upstream\n",
    "curl": "curl -sS -H 'X-Service-Credential: {}' https://api.example.com/v1/items\n",
    "repr": "{{'type': 'text', 'text': 'export SERVICE_CREDENTIAL={}\\n'}}",
    "start": "{} was printed by the setup script.",
    "end": "The setup script printed the credential {}",
    "alone": "{}",
}
# Contexts for secrets that need a name (generic kinds); `{n}` is a name, `{}` the value.
NAMED_CONTEXTS: dict[str, str] = {
    "env": "HOST=db.internal\n{N}={}\nPORT=5432\n",
    "shell": "$ export {N}=\"{}\"\n",
    "json": '{{"{n}": "{}", "region": "eu-west-1"}}',
    "json-escaped": '{{"text":"{{\\"{n}\\": \\"{}\\", \\"ok\\": true}}"}}',
    "yaml": "settings:\n  {n}: {}\n  retries: 3\n",
    "toml": '[auth]\n{n} = "{}"\n',
    "python": 'conn = connect(host="db", {n}="{}")\n',
    "log": "2026-04-13 06:58:46 DEBUG request params {n}={} user=maya\n",
    "start": "{N}={}\nDEBUG=false",
    "end": "DEBUG=false\n{N}={}",
    "prose": "ok, the {n} is: {} (rotate it after the demo)\n",
    "flag": "$ ./manage.py deploy --{n}={} --region eu-west-1\n",
    "query": "GET /v1/callback?state=ok&{n}={}&page=2 HTTP/1.1\n",
    "inline-env": "$ cd app && {N}={} ./run.sh --verbose\n",
}
# Real passwords are often words (the planted `<PW:n>` shape never is): a password slot must take them. A bare
# word is left alone where it may be code or prose (`log`, `prose`), unless it has a digit.
WORD_PASSWORDS = ("supersecret", "hunter2", "Tr0ub4dor&3x", "correcthorse", "letmein!", "P@ssw0rd2024",
                  "s3cr3tpass", "dragon42", "Xk9!mQ2#vL8z")
# AWS secret access keys: `+` and `/` are base64 characters like any other, also in the first place.
AWS_SECRET_NAMES = ("aws_secret_access_key", "AWS_SECRET_ACCESS_KEY", "SecretAccessKey", "aws_secret_key")
GENERIC_NAMES: dict[str, tuple[str, ...]] = {
    "PASSWORD": ("db_password", "password", "smtp_pass", "admin_pwd", "passphrase"),
    "SECRET": ("client_secret", "secret_key", "jwt_secret", "webhook_secret", "app_secret"),
    "TOKEN": ("access_token", "auth_token", "refresh_token", "session_token", "bot_token"),
    "API-KEY": ("api_key", "apikey", "service_key", "access_key", "license_key"),
}


def _pem_cases(kind: Kind, rng: random.Random) -> list[Case]:
    cases = []
    for label in ("RSA ", "EC ", "DSA ", "OPENSSH ", "", "ENCRYPTED ", "PGP "):
        block = "BLOCK" if label == "PGP " else ""
        tail = f" {block}" if block else ""
        lines = [_b64(rng, 64) for _ in range(rng.randint(3, 8))] + [_b64(rng, rng.randint(8, 60)) + "=="]
        pem = (f"-----BEGIN {label}PRIVATE KEY{tail}-----\n" + "\n".join(lines)
               + f"\n-----END {label}PRIVATE KEY{tail}-----\n")
        body = tuple(lines[:-1])
        cases.append(Case(kind.name, f"file:{label or 'PKCS8 '}", f"$ cat key.pem\n{pem}$ ls\n", body))
        cases.append(Case(kind.name, f"json-escaped:{label}", '{"private_key": "' + _escape(pem) + '"}', body))
        cases.append(Case(kind.name, f"truncated:{label}", pem.split("-----END")[0][:300] + "\n[truncated]",
                          body[:2]))
        cases.append(Case(kind.name, f"start-end:{label}", pem.strip(), body))
    return cases


def _token_cases(kind: Kind, rng: random.Random, per_context: int) -> list[Case]:
    cases = []
    for ctx_name, ctx in TOKEN_CONTEXTS.items():
        for _ in range(per_context):
            secret = render_shape(kind.shape, rng)
            planted = kind.context.replace("{}", secret)
            if ctx_name in ("json-escaped", "repr"):
                planted = _escape(planted)
            text = planted if ctx_name == "alone" else ctx.format(planted)
            cases.append(Case(kind.name, ctx_name, text, (secret,)))
    return cases


def _context_cases(kind: Kind, rng: random.Random, per_context: int) -> list[Case]:
    """Kinds whose secret needs its surroundings (URL userinfo, headers): the kind's own context, placed
    in prose, logs, JSON, shell and at the ends of the text."""
    wrappers = {k: TOKEN_CONTEXTS[k] for k in ("prose", "json", "json-escaped", "log", "repr", "start", "end",
                                                 "alone")}
    wrappers["shell"] = "$ {}\n"
    cases = []
    for ctx_name, wrap in wrappers.items():
        for _ in range(per_context):
            secret = render_shape(kind.shape, rng)
            planted = kind.context.replace("{}", secret)
            if ctx_name in ("json-escaped", "repr"):
                planted = _escape(planted)
            text = planted if ctx_name == "alone" else wrap.format(planted)
            cases.append(Case(kind.name, ctx_name, text, (secret,)))
    return cases


def _generic_cases(kind: Kind, rng: random.Random, per_context: int) -> list[Case]:
    cases = []
    for ctx_name, ctx in NAMED_CONTEXTS.items():
        for _ in range(per_context):
            name = rng.choice(GENERIC_NAMES[kind.name])
            secret = render_shape(kind.shape, rng)
            text = ctx.replace("{n}", name).replace("{N}", name.upper()).format(secret)
            cases.append(Case(kind.name, ctx_name, text, (secret,)))
    return cases


def _word_password_cases(rng: random.Random) -> list[Case]:
    cases = []
    for ctx_name, ctx in NAMED_CONTEXTS.items():
        for word in WORD_PASSWORDS:
            if ctx_name in ("log", "prose") and not any(c.isdigit() for c in word):
                continue
            name = rng.choice(GENERIC_NAMES["PASSWORD"])
            text = ctx.replace("{n}", name).replace("{N}", name.upper()).format(word)
            cases.append(Case("PASSWORD", f"{ctx_name}:word", text, (word,)))
    return cases


def _aws_secret_cases(rng: random.Random, per_context: int) -> list[Case]:
    cases = []
    for ctx_name, ctx in NAMED_CONTEXTS.items():
        for _ in range(per_context):
            name = rng.choice(AWS_SECRET_NAMES)
            secret = rng.choice("/+") + _b64(rng, 39)
            text = ctx.replace("{n}", name).replace("{N}", name.upper()).format(secret)
            cases.append(Case("AWS-SECRET-ACCESS-KEY", f"{ctx_name}:aws", text, (secret,)))
    return cases


def planted_cases(seed: int = 7, per_context: int = 2) -> list[Case]:
    """Every kind, planted `per_context` times into each of its contexts; plus word passwords and AWS
    secret keys that start with `/` or `+`."""
    rng = random.Random(seed)
    cases: list[Case] = []
    for kind in KINDS:
        if kind.name == "PRIVATE-KEY":
            cases += _pem_cases(kind, rng)
        elif kind.tier is Tier.GENERIC:
            cases += _generic_cases(kind, rng, per_context)
        elif kind.context == "{}":
            cases += _token_cases(kind, rng, per_context)
        else:
            cases += _context_cases(kind, rng, per_context)
    return cases + _word_password_cases(rng) + _aws_secret_cases(rng, per_context)


# --- look-alikes ----------------------------------------------------------------------------------------

def _lookalike_makers(rng: random.Random) -> dict[str, list[str]]:
    sha = _hex(rng, 40)
    sha256 = _hex(rng, 64)
    u = _uuid(rng)
    b64 = _b64(rng, rng.randint(40, 120)) + "=="
    return {
        "git": [f"commit {sha}\nAuthor: Maya <maya@example.org>\n\n    fix: retry on timeout\n",
                f"{sha[:7]} fix: retry on timeout\n{_hex(rng, 7)} feat: nightly backup timer\n",
                f"HEAD is now at {sha[:12]} merge branch 'main'", f"git checkout {sha}",
                f'"sha": "{sha}", "parents": [{{"sha": "{_hex(rng, 40)}"}}]'],
        "uuid": [f'{{"id": "{u}", "parentId": "{_uuid(rng)}", "sessionId": "{_uuid(rng)}"}}',
                 f"request_id={u} status=200 duration_ms=41", f"session {u} started",
                 f'"toolCallId":"toolu_01{_b64(rng, 22, string.ascii_letters + string.digits)}"',
                 f"trace_id={_hex(rng, 32)} span_id={_hex(rng, 16)}"],
        "digest": [f"{sha256}  restic_0.17.3_linux_amd64.bz2", f"sha256:{sha256}",
                   f"SHA512 ({'archive.tar.gz'}) = {_hex(rng, 128)}",
                   f'"integrity": "sha512-{_b64(rng, 86)}=="', f'hash = "sha256:{sha256}"',
                   f'checksum = "{sha256}"', f"golang.org/x/sys v0.21.0 h1:{_b64(rng, 43)}=",
                   f"  resolution: {{integrity: sha512-{_b64(rng, 86)}==}}", f"ETag: \"{_hex(rng, 32)}\"",
                   f'"cache_key": "{sha256}"', f"md5: {_hex(rng, 32)}"],
        "docker": [f"docker pull nginx@sha256:{sha256}", f"Digest: sha256:{sha256}",
                   f"{_hex(rng, 12)}   postgres:16   \"docker-entrypoint.s…\"   Up 2 hours",
                   f'"Image": "sha256:{sha256}"'],
        "base64": [f'logo = "data:image/png;base64,{b64}"', f"b64decode(\"{b64}\")",
                   f'"thinkingSignature":"{_b64(rng, 120)}=="', f'"data": "{_b64(rng, 200)}"',
                   f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{_b64(rng, 43)} maya@laptop",
                   f"-----BEGIN PUBLIC KEY-----\n{_b64(rng, 64)}\n{_b64(rng, 24)}==\n-----END PUBLIC KEY-----",
                   "-----BEGIN CERTIFICATE-----\n" + _b64(rng, 64) + "\n-----END CERTIFICATE-----"],
        "path": ["/home/maya/.openclaw/agents/main/sessions/3f0c2a9e-5b1d-4c7e-9a41-2d8e6f0b7c13.jsonl",
                 "/usr/lib/python3.11/site-packages/pydantic_core/_pydantic_core.cpython-311-x86_64-linux-gnu.so",
                 f"~/.cache/pip/wheels/{_hex(rng, 2)}/{_hex(rng, 2)}/{_hex(rng, 56)}",
                 "node_modules/@typescript-eslint/eslint-plugin/dist/rules/no-unsafe-argument.js",
                 'key_file = "~/.ssh/id_ed25519"', "private_key_path: /etc/ssl/private/server.key"],
        "url": ["https://github.com/openclaw/openclaw/blob/main/src/agents/session-store.ts#L120",
                "https://api.example.com/v1/items?page=2&per_page=50&sort=created_at",
                "https://docs.python.org/3/library/re.html#re.Pattern.finditer",
                "postgres://localhost:5432/app", "redis://cache.internal:6379/0",
                "https://user@example.com/path", "git@github.com:openclaw/openclaw.git",
                "https://oauth2.googleapis.com/token", f"https://example.com/reset?code={_hex(rng, 6)}"],
        "css": ["color: #ff00aa;", "background: linear-gradient(#1e90ff, #fafafa 80%);", "fill=\"#00FF7F\""],
        "version": ["v1.2.3", "python 3.11.7", "openclaw@2026.4.12", "anthropic==0.40.0",
                    "api_version = \"2024-02-15-preview\"", "node v20.11.1, npm 10.2.4"],
        "time": ["2026-04-13T06:58:46.910Z", "Mon 2026-04-13 08:58 GMT+2", "1776063521239",
                 "elapsed 00:03:41.207", "Date: Mon, 13 Apr 2026 06:58:46 GMT"],
        "identifier": ["OPENAI_API_KEY", "getAccessTokenSilently()", "max_tokens: 4096", "token_count=1523",
                       '"input_tokens": 1523, "output_tokens": 88, "totalTokens": 19307',
                       "secret_name: prod-db-password", "key_id: 3", "public_key: ssh-rsa",
                       "auth_method = \"client_secret_post\"", "token_type: bearer",
                       "next_page_token: null", "api_key=api_key,", "self.password = password",
                       "password_min_length: 12", "\"cache_key\": \"user:42:profile\"", "secretKeyRef:",
                       "csrf_token = get_token(request)", "keyboard_layout: us", "primary_key=True",
                       "- key: app.kubernetes.io/name", "author: Maya Lindqvist", "auth: oauth2"],
        "placeholder": ["OPENAI_API_KEY=", "OPENAI_API_KEY=your-api-key-here", "api_key: sk-...", "token: <token>",
                        "password: xxxx", "export GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                        "API_KEY=${API_KEY}", "token: ${{ secrets.GITHUB_TOKEN }}", "password: \"{{ db_password }}\"",
                        "Authorization: Bearer $TOKEN", "Authorization: Bearer <token>", "password: ********",
                        "DB_PASSWORD=changeme", "curl -u $USER:$PASS https://x", "postgres://user:password@host/db",
                        "api_key = \"YOUR_API_KEY\"", "secret: REPLACE_ME", "token = os.getenv(\"TOKEN\")",
                        "password = os.environ['DB_PASSWORD']", "[REDACTED-OPENAI-KEY]",
                        "AWS_SECRET_ACCESS_KEY=<your-secret-key>", "sk-proj-...", "DB_PASSWORD=your_password",
                        "DB_PASSWORD=your-password-here", "password: '<password>'", "PGPASSWORD=${PGPASSWORD} psql",
                        "--password=$DB_PASSWORD", "mysql -u root -p'<password>' shop",
                        "postgres://user:your_password@host/db", "redis://:${REDIS_PASSWORD}@cache:6379/0"],
        "prose": ["The password must be at least 12 characters long.",
                  "Rotate the API key every 90 days and store the token in the vault.",
                  "Bearer tokens are passed in the Authorization header.",
                  "We need basic authentication for the staging server.",
                  "The secret is stored in AWS Secrets Manager, not in the repo.",
                  "Password: the one we agreed on yesterday.", "the key is in the drawer",
                  "password is required", "the password is: required", "Your password was reset.",
                  "the password is stored in 1Password", "passwordless sudo is enabled on the runner",
                  "Use `memory-syncd redact --report` to check a file."],
        "code": [
            *CODE_LINES,
            "token = tokens[i]\nif token.type == \"NAME\":\n    names.append(token.value)\n",
            "items.sort(key=lambda kv: kv[1])\nfor key, value in sorted(d.items(), key=str.lower):\n",
            'auth_header = f"token {gh_token}"',
            "password_hash = \"$2b$12$" + _b64(rng, 53, "./" + string.ascii_letters) + "\"",
            "raise KeyError('api_key')", 'File "/usr/lib/python3.11/site-packages/auth.py", line 42, in get_token',
            "tests/test_auth.py::test_login_with_password PASSED", "export API_BASE=https://api.openai.com/v1",
            "const { data: session } = await supabase.auth.getSession();", "$ mysql -u root -p shop",
            "ssh -p 2222 deploy@10.0.0.5", "git clone git@github.com:openclaw/openclaw.git",
            "http://localhost:3000/@vite/client",
            f"http://127.0.0.1:{rng.randint(1024, 65535)}/api?email=maya@example.org",
            'FORCE_CHANGE_PASSWORD = "FORCE_CHANGE_PASSWORD"', 'NOPASSWORD = "no-password-required"',
            "passwd:         files systemd", '"git add -p" (and "patch" action)', "pytest -p'no:cacheprovider'",
            "npm install @types/node@20.11.1 --save-dev", "https://medium.com/@maya/notes-on-restic-1f2e3d",
            'env:\n  - name: DB_PASSWORD\n    valueFrom:\n      secretKeyRef:\n        name: db\n        key: password',
            "POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?required}", '- "POSTGRES_PASSWORD=${DB_PASS}"',
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-" + _b64(rng, 6, string.ascii_letters),
            "arn:aws:iam::123456789012:role/deploy", "curl -u \"$GH_USER:$GH_TOKEN\" https://api.github.com/user",
            '{"key": "ArrowUp", "code": "ArrowUp", "keyCode": 38}', '"tokenizer": "cl100k_base"',
            '{"key": "user-settings/theme", "value": "dark"}', '"auth": {"type": "oauth", "scopes": ["repo"]}',
            "index 3f78685..e69de29 100644", "Successfully installed anthropic-0.40.0 httpx-0.27.2",
            '"id": "msg_01XFDUDYJgAACzvnptvVoYEL", "request_id": "req_011CSHYiN9ZQJ6PaHKq2XrVb"',
            "cus_NffrFeUfNV2Hib pi_3MtwBwLkdIwHu7ix28a3tqPa chatcmpl-8Z3kLmNoPqRsTuVwXyZaBcDeFgHi",
            f"file-{_b64(rng, 24, string.ascii_letters + string.digits)} asst_{_b64(rng, 24, string.ascii_letters)}",
            "Authorization: Bearer <redacted>", "Authorization: Bearer ***", "password: <hidden>",
            "| API key | where it lives |\n|---|---|\n| OpenAI | 1Password vault `dev` |",
            "feature/ask-user-for-token-refresh", "/dev/disk/by-uuid/" + _uuid(rng),
            f"github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{_b64(rng, 43)}",
            "set -euo pipefail\nKEY_FILE=\"$HOME/.ssh/id_ed25519\"", "token_count=1523 keys=5",
            "We use Basic Authentication behind the VPN.", "the bearer token expired at 10:42",
            "session_id=" + _uuid(rng), '"idempotency_key": "' + _uuid(rng) + '"',
            '"key": "' + _uuid(rng) + '"', "X-Request-Id: " + _uuid(rng),
        ],
    }


def lookalike_cases(seed: int = 11, rounds: int = 12) -> list[tuple[str, str]]:
    """(category, text) pairs that must pass through unchanged; `rounds` fresh random draws of each."""
    rng = random.Random(seed)
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for _ in range(rounds):
        for category, texts in _lookalike_makers(rng).items():
            for text in texts:
                if text not in seen:
                    seen.add(text)
                    out.append((category, text))
    return out


# --- transcript-like text -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Record:
    """One transcript line, the text fields memory-syncd redacts from it, and the secrets planted in it."""

    line: str
    fields: tuple[str, ...]
    secrets: tuple[str, ...]


def _tool_output(rng: random.Random, alikes: list[str]) -> str:
    """Shell / file / JSON tool output, from a few lines to tens of kB."""
    kind = rng.random()
    if kind < 0.35:
        return "".join(rng.choice(CODE_LINES) for _ in range(rng.randint(3, 120)))
    if kind < 0.6:
        return "\n".join(rng.choice(alikes) for _ in range(rng.randint(3, 80)))
    if kind < 0.8:
        return "\n".join(f"{_hex(rng, 7)} {_sentence(rng, rng.randint(3, 9))}" for _ in range(rng.randint(5, 200)))
    if kind < 0.97:
        rows = [{"id": _uuid(rng), "name": rng.choice(WORDS), "size": rng.randint(0, 10**6),
                 "sha256": _hex(rng, 64), "updated": "2026-04-13T06:58:46Z"} for _ in range(rng.randint(2, 60))]
        return json.dumps(rows, indent=2)
    return "data:image/png;base64," + _b64(rng, rng.randint(20_000, 120_000))  # a browser screenshot


def transcript_records(seed: int, size: int, secret_rate: float = 0.01) -> list[Record]:
    """About `size` characters of transcript JSONL: user and assistant messages, tool calls and tool
    results (code, logs, JSON, look-alikes, an occasional base64 screenshot), with a planted secret in
    about `secret_rate` of the records. Texts sit JSON-escaped in the lines, as in real transcripts.

    Its own random stream, apart from `planted_cases(seed)`: drawn from one stream, a screenshot's base64
    could repeat a planted key's body word for word (one base64 character is one 32-bit draw)."""
    rng = random.Random(f"transcript:{seed}")
    planted = planted_cases(seed, per_context=1)
    alikes = [t for _, t in lookalike_cases(seed, rounds=3)]
    records: list[Record] = []
    total = 0
    while total < size:
        role = rng.choice(("user", "assistant", "assistant", "toolResult", "toolResult"))
        if role == "user":
            text = " ".join(_sentence(rng, rng.randint(4, 25)) for _ in range(rng.randint(1, 4)))
        elif role == "assistant":
            text = " ".join(_sentence(rng, rng.randint(6, 30)) for _ in range(rng.randint(1, 12)))
        else:
            text = _tool_output(rng, alikes)
        secrets: tuple[str, ...] = ()
        if rng.random() < secret_rate:
            case = rng.choice(planted)
            cut = rng.randint(0, len(text))
            text = text[:cut] + "\n" + case.text + "\n" + text[cut:]
            secrets = case.secrets
        message: dict[str, object] = {"role": role, "content": [{"type": "text", "text": text}],
                                      "timestamp": 1776063521239 + total}
        if role == "assistant":
            message["usage"] = {"input": rng.randint(1, 9), "output": rng.randint(10, 900),
                                "cacheRead": rng.randint(0, 90000), "totalTokens": rng.randint(100, 99999)}
        line = json.dumps({"type": "message", "id": _hex(rng, 8), "parentId": _hex(rng, 8),
                           "timestamp": "2026-04-13T06:58:46.955Z", "message": message})
        records.append(Record(line, (text,), secrets))
        total += len(line) + 1
    return records


def transcript_text(seed: int = 3, size: int = 1_000_000) -> str:
    return "\n".join(r.line for r in transcript_records(seed, size)) + "\n"
