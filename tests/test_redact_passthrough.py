"""What must pass through untouched: hashes, ids, digests, base64, paths, URLs, colours, versions, times,
identifiers, placeholders and prose about secrets. Listed by hand from the issue, then the seeded
look-alike corpus category by category."""

from __future__ import annotations

import pytest
from redact_corpus import lookalike_cases

from memory_syncd.redact import redact

PASS_THROUGH = [
    # git
    "commit 3f786850e387550fdab836ed7e6dc881de23001b\nMerge: 9fceb02 e69de29",
    "3f78685 fix: retry on timeout", "git diff e69de29bb2d1d6434b8b29ae775ad8c2e48c5391..HEAD",
    # UUIDs and ids
    "session 550e8400-e29b-41d4-a716-446655440000 started",
    '{"id": "6e0762ca", "parentId": "2d6cde91", "toolCallId": "toolu_01HxQv7mZk3PcT9wYb2RnE4s"}',
    # digests
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  restic_0.17.3_linux_amd64.bz2",
    "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931"
    "bd47417a81a538327af927da3e  -",
    '"integrity": "sha512-v2kDEe57lecTulaDIuNTPy3Ry4gLGJ6Z1O3vE1krgXZNrsQ+5Ym2Nm4ZiaAAPnEn2jcNhLdYpuABf8OROJcyA=="',
    "docker pull postgres@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31",
    'hash = "sha256:1a2f3e4d5c6b7a8998877665544332211aabbccddeeff00112233445566778899"',
    "github.com/spf13/cobra v1.8.0 h1:7aJaZx1B85qltLMc546zn58BxxfZdR/W22ej9CFoEf0=",
    # base64 and keys that are public
    'const pixel = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";',
    '"thinkingSignature":"EqQCCkYIBxgCKkDq3v1cZ0mXn2Yb7Jm9rKcN0sX8aT2pQwE4yL6uV1hG3fD5sA7jK9lZ2xC4vB6nM8qW0eR1tY3'
    'uI5oP7aS9dF=="',
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl maya@laptop",
    # paths and URLs
    "/home/maya/.openclaw/agents/main/sessions/3f0c2a9e-5b1d-4c7e-9a41-2d8e6f0b7c13.jsonl.reset.2026-04-13T04-00-00",
    "https://github.com/openclaw/openclaw/blob/9fceb02/src/agents/session-store.ts#L120-L188",
    "https://api.example.com/v1/search?q=restic+backup&page=2", "postgres://localhost:5432/app",
    # colours, versions, timestamps
    "color: #ff00aa; border: 1px solid #1E90FF;", "restic 0.17.3 compiled with go1.22.5 on linux/amd64",
    "2026-04-13T06:58:46.910Z", "1776063521239", "[Mon 2026-04-13 08:58 GMT+2]",
    # identifiers and code
    "OPENAI_API_KEY", "def get_api_key(self) -> str:", "max_tokens=4096, temperature=0.2",
    '"usage":{"input":3,"output":148,"cacheRead":18744,"totalTokens":19307}',
    "if not api_key:\n    raise ConfigError(path, ['api_key missing'])",
    "token = os.environ.get('GITHUB_TOKEN')", "client = Anthropic(api_key=settings.anthropic_api_key)",
    # placeholders
    "OPENAI_API_KEY=", "OPENAI_API_KEY=your-api-key-here", "sk-...", "<token>", "xxxx",
    "api_key: sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "token: ${{ secrets.GITHUB_TOKEN }}",
    "password: {{ vault_db_password }}", "Authorization: Bearer <YOUR_TOKEN>", "PASSWORD=********",
    # clear templates in a password slot (`changeme` stays too: a well-known default, not a secret)
    "DB_PASSWORD=", "DB_PASSWORD=<password>", "DB_PASSWORD=${DB_PASSWORD}", "DB_PASSWORD=$DB_PASSWORD",
    "DB_PASSWORD={{ db_password }}", "DB_PASSWORD=***", "DB_PASSWORD=xxxx", "DB_PASSWORD=...",
    "DB_PASSWORD=your-password-here", "DB_PASSWORD=your_password", "DB_PASSWORD=YOUR_DB_PASSWORD",
    "DB_PASSWORD=changeme", '"password": "your_password"', "password: '<password>'", "password: password",
    "postgres://user:your_password@host/db", "postgres://app:<password>@db/app", "redis://:${REDIS_PASS}@cache:6379",
    "mysql -u root -p'<password>' shop", "--password=$DB_PASSWORD", "PGPASSWORD=${PGPASSWORD} psql -h db",
    "-p'$MYSQL_PWD'", "ssh -p'2222' host", "mkdir -p'/tmp/a b'",
    # URLs whose `:` is a port and whose `@` is in the path or query
    "http://localhost:3000/@vite/client", "https://example.com:8443/users/@maya",
    "http://127.0.0.1:8000/api?email=maya@example.org", "ssh://git@github.com:22/org/repo.git",
    # config and code that only look like a password (found by diffing redactions over site-packages and /etc)
    "passwd:         files systemd", "passwd: compat sss", 'FORCE_CHANGE_PASSWORD = "FORCE_CHANGE_PASSWORD"',
    'NOPASSWORD = "no-password-required"', 'AttributeOID.CHALLENGE_PASSWORD: "challengePassword",',
    'Passwords="enterapasswordhere",Type=password', "printf(&quot;Password is correct.&quot;);",
    '* "git add -p" (and "patch" action in "git add -i") was broken',
    '* "git diff -c -p" (and "diff --cc") did not expect to see submodule',
    "python -m pytest -p'no:cacheprovider' -q",
    # prose
    "password is required", "the password is: required", "The password was changed 3 days ago.",
    "your password is incorrect", "the password is stored in 1Password", "passwordless sudo is enabled",
    "the password must be at least 12 characters", "Rotate the API key and revoke the old token.",
    "I stored the secret in 1Password; the key is not in the repo.",
]


@pytest.mark.parametrize("text", PASS_THROUGH)
def test_passes_through_unchanged(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize("category", sorted({c for c, _ in lookalike_cases(rounds=1)}))
def test_lookalike_category_passes_through(category: str) -> None:
    altered = [t for c, t in lookalike_cases(seed=5, rounds=4) if c == category and redact(t) != t]
    assert not altered, altered[:3]
