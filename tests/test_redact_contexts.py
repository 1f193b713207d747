"""Where secrets hide in transcripts: JSON strings (escaped quotes, literal `\\n`), Python reprs, shell and
curl commands, PEM blocks of every flavour however wrapped, the very start and end of the text; and the
engine's invariants: only secret bytes change, markers are never re-matched, counts are reported."""

from __future__ import annotations

import json
import random

import pytest
from redact_corpus import planted_cases, transcript_records

from memory_syncd.redact import KINDS_BY_NAME, engine, redact, redact_report, render_shape

GHP = "ghp_" + render_shape("<B62:36>", random.Random(1))
PW = "Tr0ub4dor-3xq"
RAND = render_shape("<B62:32>", random.Random(2))


def _pem(label: str, rng: random.Random, lines: int = 6) -> tuple[str, list[str]]:
    tail = " BLOCK" if label == "PGP " else ""
    body = [render_shape("<B64:64>", rng) for _ in range(lines)] + [render_shape("<B64:20>", rng) + "=="]
    return (f"-----BEGIN {label}PRIVATE KEY{tail}-----\n" + "\n".join(body)
            + f"\n-----END {label}PRIVATE KEY{tail}-----"), body


@pytest.mark.parametrize("text,kind", [
    ('{\\"api_key\\": \\"' + RAND + '\\"}', "API-KEY"),
    ('{"content": "{\\"token\\": \\"' + GHP + '\\"}"}', "GITHUB-PAT"),
    ('"stdout": "GITHUB_TOKEN=' + GHP + '\\nDEBUG=1\\n"', "GITHUB-PAT"),
    ('"tokens": "' + GHP + "\\n" + GHP.replace("ghp_", "gho_") + '"', "GITHUB-OAUTH-TOKEN"),
    ("{'type': 'text', 'text': 'export DB_PASSWORD=" + PW + "\\n'}", "PASSWORD"),
    ('{\\\\\\"password\\\\\\": \\\\\\"' + PW + '\\\\\\"}', "PASSWORD"),
    ("curl -H 'Authorization: Bearer " + RAND + "' https://api.example.com", "BEARER-TOKEN"),
    ('curl -sS -H "x-api-key: ' + RAND + '" https://api.example.com', "API-KEY"),
    ("curl -u deploy:" + PW + " https://ci.example.com", "CURL-USER-PASSWORD"),
    ("$ PGPASSWORD='" + PW + "' psql -h db -U app", "PASSWORD"),
    ("docker run -e API_KEY=" + RAND + " app:latest", "API-KEY"),
    ("mysql -h db -u root -p'" + PW + "' shop", "CLI-PASSWORD"),
    ("sshpass -p " + PW + " ssh deploy@10.0.0.5", "CLI-PASSWORD"),
    ("https://api.telegram.org/bot123456789:AA" + render_shape("<B64U:33>", random.Random(3)) + "/getMe",
     "TELEGRAM-BOT-TOKEN"),
    ("git push https://x-access-token:" + GHP + "@github.com/org/repo.git", "GITHUB-PAT"),
    ("postgresql+psycopg://app:p@ss:w0rd!@db.internal:5432/app", "POSTGRES-PASSWORD"),
    ("redis://default:" + PW + "@cache:6379/0", "REDIS-PASSWORD"),
    ("[mysqld]\npassword = " + PW, "PASSWORD"),
    ("<add key=\"ApiKey\" value=\"x\"/><password>" + PW + "</password>", "PASSWORD"),
    ("$client_secret = '" + RAND + "';", "SECRET"),
    ("'password' => '" + PW + "',", "PASSWORD"),
    ("apiKey := \"" + RAND + "\"", "API-KEY"),
    ("API_TOKEN ?= " + RAND, "TOKEN"),
    ("GET /v1/items?api_key=" + RAND + "&page=2", "API-KEY"),
    ("myapp --db-password " + PW + " --verbose", "PASSWORD"),
    ("$env:OPENAI_API_KEY = \"" + RAND + "\"", "API-KEY"),
    ("my password is " + PW, "PASSWORD"),
    ("machine api.github.com login maya password " + PW, "PASSWORD"),
    ('requests.get(url, auth=("maya", "' + PW + '"))', "PASSWORD"),
    ('s.auth = HTTPBasicAuth("maya", "' + PW + '")', "PASSWORD"),
    ("requests.get(url, auth=HTTPDigestAuth('maya', '" + PW + "'))", "PASSWORD"),
    ('proxies=p, auth=requests.auth.HTTPProxyAuth("maya", "' + PW + '")', "PASSWORD"),
    ("Cookie: theme=dark; sessionid=" + RAND + "; lang=en", "SESSION-COOKIE"),
    ("- name: STRIPE_KEY\n  value: \"" + RAND + "\"", "API-KEY"),
    ('{"name": "SLACK_TOKEN", "value": "' + RAND + '"}', "TOKEN"),
    ("password: correct horse battery staple\nuser: maya", "PASSWORD"),
    ("aws_access_key_id,aws_secret_access_key\nAKIA" + render_shape("<B32:16>", random.Random(4)) + ","
     + render_shape("<B64:40>", random.Random(5)), "AWS-SECRET-ACCESS-KEY"),
])
def test_secret_in_context_is_replaced(text: str, kind: str) -> None:
    out = redact(text)
    assert f"[REDACTED-{kind}]" in out, out
    for secret in (GHP, PW, RAND):
        assert secret not in out


# Gaps reported by other engineers, and the neighbouring forms checked with them: (text, exact output).
GAPS = [
    # AWS secret access keys: `+` and `/` are valid anywhere, also first; no path, whatever the length
    ("AWS_SECRET_ACCESS_KEY=/wJalrXUtnFEMIK7MDENGbPxRfiCYzEXAMPLEK",
     "AWS_SECRET_ACCESS_KEY=[REDACTED-AWS-SECRET-ACCESS-KEY]"),
    ("aws_secret_access_key = /Ab3dEfGhIjKlMnOpQrStUvWxYz0123456789abcd",
     "aws_secret_access_key = [REDACTED-AWS-SECRET-ACCESS-KEY]"),
    ("aws_secret_access_key: +Ab3dEfGhIjKlMnOpQrStUvWxYz0123456789/bc",
     "aws_secret_access_key: [REDACTED-AWS-SECRET-ACCESS-KEY]"),
    ('{"SecretAccessKey": "/Ab3dEfGhIjKlMnOpQrStUvWxYz012345678+/bc"}',
     '{"SecretAccessKey": "[REDACTED-AWS-SECRET-ACCESS-KEY]"}'),
    ("client_secret=/q8Vx2LmR7tKpZ4wN9sJc3HbY6fGd1Ae+u",
     "client_secret=[REDACTED-SECRET]"),
    # URL passwords: any punctuation, up to the last `@` before the host
    ("postgres://admin:Xk9!mQ2#vL8z@db:5432/app", "postgres://admin:[REDACTED-POSTGRES-PASSWORD]@db:5432/app"),
    ("postgres://admin:Xk9!mQ2#vL8z@db:5432/app?sslmode=require",
     "postgres://admin:[REDACTED-POSTGRES-PASSWORD]@db:5432/app?sslmode=require"),
    ("mysql://root:p@ss:w0rd@host/db", "mysql://root:[REDACTED-MYSQL-PASSWORD]@host/db"),
    ("https://user:p%40ss@host", "https://user:[REDACTED-URL-PASSWORD]@host"),
    ("redis://:s3cr3tpass@host:6379", "redis://:[REDACTED-REDIS-PASSWORD]@host:6379"),
    ("postgres://admin:supersecret@db/app", "postgres://admin:[REDACTED-POSTGRES-PASSWORD]@db/app"),
    ("amqp://app:ab/cd+ef?g@mq/vhost", "amqp://app:[REDACTED-AMQP-PASSWORD]@mq/vhost"),
    ("https://u:p@ss@host/path?email=maya@example.org",
     "https://u:[REDACTED-URL-PASSWORD]@host/path?email=maya@example.org"),
    ("// Prints https://abc:123@example.com/", "// Prints https://abc:[REDACTED-URL-PASSWORD]@example.com/"),
    ("('http://username:pass/word@localhost:22',", "('http://username:[REDACTED-URL-PASSWORD]@localhost:22',"),
    ("DATABASE_URL='postgresql://app:K#9x$q!w@db.internal/app' ./run",
     "DATABASE_URL='postgresql://app:[REDACTED-POSTGRES-PASSWORD]@db.internal/app' ./run"),
    # a password slot takes any real-looking value, words included
    ("DB_PASSWORD=supersecret", "DB_PASSWORD=[REDACTED-PASSWORD]"),
    ("DB_PASSWORD=Passw0rd1234", "DB_PASSWORD=[REDACTED-PASSWORD]"),
    ('{"password": "supersecret"}', '{"password": "[REDACTED-PASSWORD]"}'),
    ('password: "hunter2"', 'password: "[REDACTED-PASSWORD]"'),
    ("password: hunter2", "password: [REDACTED-PASSWORD]"),
    ("PGPASSWORD=supersecret psql -h db -U app", "PGPASSWORD=[REDACTED-PASSWORD] psql -h db -U app"),
    ("$ PGPASSWORD=supersecret psql -h db", "$ PGPASSWORD=[REDACTED-PASSWORD] psql -h db"),
    ("cd app && PGPASSWORD=supersecret pg_dump app", "cd app && PGPASSWORD=[REDACTED-PASSWORD] pg_dump app"),
    ("docker run -e DB_PASSWORD=supersecret app", "docker run -e DB_PASSWORD=[REDACTED-PASSWORD] app"),
    ("--password=supersecret", "--password=[REDACTED-PASSWORD]"),
    ("mysqldump --user=root --password=supersecret shop", "mysqldump --user=root --password=[REDACTED-PASSWORD] shop"),
    ("GET /login?user=maya&password=supersecret HTTP/1.1",
     "GET /login?user=maya&password=[REDACTED-PASSWORD] HTTP/1.1"),
    ("-p'supersecret'", "-p'[REDACTED-CLI-PASSWORD]'"),
    ("mysql -u root -p'supersecret' shop", "mysql -u root -p'[REDACTED-CLI-PASSWORD]' shop"),
    ('7z a -p"supersecret" backup.7z src/', '7z a -p"[REDACTED-CLI-PASSWORD]" backup.7z src/'),
    # prose
    ("the db password is: Tr0ub4dor&3x", "the db password is: [REDACTED-PASSWORD]"),
    ("the db password is Tr0ub4dor&3x", "the db password is [REDACTED-PASSWORD]"),
    ("the db password: Tr0ub4dor&3x", "the db password: [REDACTED-PASSWORD]"),
    ("my pw is hunter2, ok?", "my pw is [REDACTED-PASSWORD], ok?"),
    ("The admin password was p@ss!word now.", "The admin password was [REDACTED-PASSWORD] now."),
    ("the wifi password is `Tr0ub4dor&3x`", "the wifi password is `[REDACTED-PASSWORD]`"),
]


@pytest.mark.parametrize("text,expected", GAPS)
def test_reported_gaps_are_closed(text: str, expected: str) -> None:
    assert redact(text) == expected
    assert redact(expected) == expected


@pytest.mark.parametrize("label", ["RSA ", "EC ", "DSA ", "OPENSSH ", "", "ENCRYPTED ", "PGP "])
@pytest.mark.parametrize("form", ["plain", "crlf", "json", "double-json", "repr", "joined", "truncated",
                                  "indented"])
def test_pem_blocks_of_every_flavour_and_wrapping(label: str, form: str) -> None:
    pem, body = _pem(label, random.Random(label + form))
    if form == "crlf":
        pem = pem.replace("\n", "\r\n")
    elif form == "json":
        pem = json.dumps({"private_key": pem})
    elif form == "double-json":
        pem = json.dumps({"content": json.dumps({"private_key": pem})})
    elif form == "repr":
        pem = repr({"text": pem})
    elif form == "joined":
        pem = pem.replace("\n", " ")  # newlines lost, body wrapped by spaces
    elif form == "truncated":
        pem = pem.split("-----END")[0].rstrip() + "\n... (output truncated)"
    elif form == "indented":
        pem = "key: |\n" + "\n".join("  " + line for line in pem.splitlines())
    out, counts = redact_report(f"before\n{pem}\nafter")
    assert counts.get("PRIVATE-KEY") == 1, out
    assert not any(line in out for line in body), out
    assert out.startswith("before") and out.rstrip().endswith("after")


def test_ssh2_and_putty_keys() -> None:
    rng = random.Random(9)
    ssh2 = ("---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nComment: \"rsa-key\"\n"
            + "\n".join(render_shape("<B64:64>", rng) for _ in range(4)) + "\n---- END SSH2 ENCRYPTED PRIVATE KEY ----")
    out = redact(ssh2)
    assert out == "[REDACTED-PRIVATE-KEY]"
    bare = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ" + render_shape("<B64:40>", rng)
    assert redact(f"body: {bare}") == "body: [REDACTED-PRIVATE-KEY]"
    ppk = KINDS_BY_NAME["PUTTY-PRIVATE-KEY"].context.replace("{}", render_shape(
        KINDS_BY_NAME["PUTTY-PRIVATE-KEY"].shape, rng))
    out = redact(f"$ cat id.ppk\n{ppk}\n$ ")
    # the whole file goes, its MAC line too: `Private` there is no base64 body line that ends the match
    assert out == "$ cat id.ppk\n[REDACTED-PUTTY-PRIVATE-KEY]\n$ "


@pytest.mark.parametrize("lead", ["my key is ", "key:\t", "(", "x"])
def test_a_pem_block_takes_its_dashes_not_the_text_before_them(lead: str) -> None:
    pem, _ = _pem("RSA ", random.Random(lead))
    assert redact(f"{lead}{pem} ok") == f"{lead}[REDACTED-PRIVATE-KEY] ok"


@pytest.mark.parametrize("text, expected", [
    ("postgres://admin:hunter2-{t}@db.example.com/app",
     "postgres://admin:[REDACTED-POSTGRES-PASSWORD][REDACTED-GITHUB-PAT]@db.example.com/app"),
    ('password = "Winter2026-{t}"', 'password = "[REDACTED-PASSWORD][REDACTED-GITHUB-PAT]"'),
    ("curl -u admin:Pa55-{t} https://api.example.com",
     "curl -u admin:[REDACTED-CURL-USER-PASSWORD][REDACTED-GITHUB-PAT] https://api.example.com"),
])
def test_a_secret_that_holds_a_token_goes_whole(text: str, expected: str) -> None:
    """The token is the token's; what the password has besides goes too, under the password's kind."""
    once = redact(text.format(t=GHP))
    assert once == expected
    assert redact(once) == once


@pytest.mark.parametrize("n", [2, 5, 9])
def test_a_chain_of_glued_tokens_goes_in_one_pass(n: int) -> None:
    """Each token of `a-b-c…` is found only once its right-hand neighbour is a marker: one round each."""
    kind = KINDS_BY_NAME["REPLICATE-TOKEN"]
    tokens = [render_shape(kind.shape, random.Random(i)) for i in range(n)]
    once = redact("tokens: " + "-".join(tokens))
    assert not any(t in once for t in tokens), once
    assert redact(once) == once


def test_public_keys_and_certificates_stay() -> None:
    rng = random.Random(10)
    for label in ("PUBLIC KEY", "CERTIFICATE", "RSA PUBLIC KEY", "OPENSSH PUBLIC KEY"):
        text = f"-----BEGIN {label}-----\n{render_shape('<B64:64>', rng)}\n-----END {label}-----\n"
        assert redact(text) == text


@pytest.mark.parametrize("where", ["start", "end", "alone"])
def test_secret_at_the_edges_of_the_text(where: str) -> None:
    text = {"start": f"{GHP} is the token", "end": f"the token is {GHP}", "alone": GHP}[where]
    out = redact(text)
    assert GHP not in out and "[REDACTED-GITHUB-PAT]" in out


def test_only_the_secret_bytes_change() -> None:
    text = f"  \tprefix ünïcödé → NAME={GHP}\r\n  suffix 🙂 \x00 end"
    out = redact(text)
    assert out == text.replace(GHP, "[REDACTED-GITHUB-PAT]")


def test_report_counts_each_kind() -> None:
    text = f"a={GHP}\nb={GHP}\nDB_PASSWORD={PW}\npostgres://u:{PW}@h/db"
    out, counts = redact_report(text)
    assert counts == {"GITHUB-PAT": 2, "PASSWORD": 1, "POSTGRES-PASSWORD": 1}
    assert out.count("[REDACTED-") == 4


def test_markers_are_never_matched_again() -> None:
    for text in ("password=[REDACTED-PASSWORD]", "Authorization: Bearer [REDACTED-BEARER-TOKEN]",
                 "postgres://u:[REDACTED-POSTGRES-PASSWORD]@h/db", "token: \"[REDACTED-GITHUB-PAT]\"",
                 "[REDACTED-PRIVATE-KEY]" * 3):
        assert redact(text) == text


def test_redaction_is_idempotent_on_the_planted_corpus() -> None:
    for case in planted_cases(seed=21, per_context=1):
        once = redact(case.text)
        assert redact(once) == once, case


def test_non_ascii_text_whose_lowercase_is_longer() -> None:
    """`'İ'.lower()` is two characters: keyword rules then run case-insensitively on the original."""
    text = f"İstanbul ofisi: DB_PASSWORD={PW} ve Authorization: Bearer {RAND} İ"
    out = redact(text)
    assert PW not in out and RAND not in out
    assert out.startswith("İstanbul ofisi: DB_PASSWORD=[REDACTED-PASSWORD]") and out.endswith(" İ")


@pytest.mark.parametrize("secret_rate", [0.01, 0.3])
def test_run_prefilter_and_direct_scan_agree(secret_rate: float) -> None:
    """The token prefilter (one pass over the runs, then only the rules whose anchor starts a word there)
    finds exactly what running every token rule over the whole text finds."""
    text = "\n".join(r.line for r in transcript_records(seed=4, size=300_000, secret_rate=secret_rate))
    prefiltered = engine._token_hits(text, engine._runs(text))
    assert prefiltered == engine._token_hits(text)
    if secret_rate > 0.1:
        assert len(prefiltered) > 10
    for case in planted_cases(seed=23, per_context=1):
        assert engine._token_hits(case.text, engine._runs(case.text)) == engine._token_hits(case.text), case


def test_gated_and_ungated_keyword_rules_agree() -> None:
    """Context rules skipped because their anchors or needs are absent would have found nothing."""
    texts = [case.text for case in planted_cases(seed=22, per_context=1)]
    texts += [r.line for r in transcript_records(seed=5, size=200_000, secret_rate=0.3)]
    for text in texts:
        gated = {(h.start, h.end, h.kind) for h in engine._text_hits(text)}
        ungated = {(h.start, h.end, h.kind) for h in engine._text_hits(text, plan_list=engine.UNGATED)}
        assert gated == ungated, text


def _shortcut_texts() -> list[str]:
    """Texts where the context scans take their shortcuts: literals found through the token runs (OpenSSH key
    bodies and PuTTY headers, also inside and beside base64 blobs, several in one text), rules sharing the scan
    of a first letter or of `auth`, and short texts that are checked for literals first."""
    rng = random.Random(12)
    blob = render_shape("<B64:5000>", rng)
    bare = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ" + render_shape("<B64:40>", rng)
    ppk = KINDS_BY_NAME["PUTTY-PRIVATE-KEY"].context.replace("{}", render_shape(
        KINDS_BY_NAME["PUTTY-PRIVATE-KEY"].shape, rng))
    words = [f"Bearer {RAND}", f"Basic {render_shape('<BASIC:14>', rng)}", f"Cookie: session={RAND}",
             f"credential = '{RAND}'", f"HTTPBasicAuth('maya', '{PW}')", f"auth=('maya', '{PW}')",
             f"Authorization: token {RAND}", "basic bearer cookie cred", bare, ppk, "PuTTY-User-Key-File-3",
             f"{blob[:300]}{bare}", "b3BlbnNzaC1rZXktdjE" * 3, f"curl -u deploy:{PW}"]
    texts = [f"{blob}{bare}", f"{bare}{blob}", f"{blob} {bare} {ppk}\n{bare}", f"{ppk}\n{ppk}"]
    for _ in range(200):
        picked = rng.sample(words, rng.randint(1, 4))
        texts.append(rng.choice([" ", "\n", "\\n", "; ", ""]).join(picked))
        texts.append(blob.join(picked))
    return texts


def test_context_shortcuts_agree_with_plain_scans() -> None:
    for text in _shortcut_texts():
        gated = {(h.start, h.end, h.kind) for h in engine._text_hits(text)}
        ungated = {(h.start, h.end, h.kind) for h in engine._text_hits(text, plan_list=engine.UNGATED)}
        assert gated == ungated, text


def test_literal_offsets_in_runs() -> None:
    """`Runs.where` finds a literal wherever it sits in the runs: the offsets `str.find` gives."""
    for text in _shortcut_texts()[:60]:
        found_runs = engine._runs(text)
        for needle in ("b3BlbnNzaC1rZXktdjE", "PuTTY-User-Key-File-"):
            offsets, at = [], text.find(needle)
            while at >= 0:
                offsets.append(at)
                at = text.find(needle, at + 1)
            assert found_runs.where(needle.encode()) == offsets, text


def test_base64_blobs_are_skipped_but_their_neighbours_are_not() -> None:
    blob = render_shape("<B64:6000>", random.Random(6))
    text = f'{{"data": "{blob}", "api_key": "{RAND}", "auth": "Bearer {GHP}"}}'
    out = redact(text)
    assert blob in out and RAND not in out and GHP not in out
