"""Every kind in the registry: a true example caught as that kind, a false one left alone, and the doc in step.

True examples are rendered from each kind's documented shape (the fixed fake in the doc, plus seeded random
instances); false examples are hand-written look-alikes of each format, one per kind.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from memory_syncd.redact import KINDS, KINDS_BY_NAME, Tier, redact, redact_report, render_shape
from memory_syncd.redact.doc import render_markdown

DOC = Path(__file__).resolve().parents[1] / "references" / "SECRET_PATTERNS.md"
H32 = "0123456789abcdef" * 2

# One look-alike per kind: a near miss of its format, a placeholder, or the format in a harmless context.
FALSE_EXAMPLES: dict[str, str] = {
    "OPENAI-KEY": "OPENAI_API_KEY=sk-proj-...  # paste yours here",
    "OPENAI-ADMIN-KEY": "sk-admin-key-rotation-runbook.md",
    "ANTHROPIC-KEY": "export ANTHROPIC_API_KEY=sk-ant-api03-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "ANTHROPIC-ADMIN-KEY": "keys start with sk-ant-admin01- and are long",
    "ANTHROPIC-OAUTH-TOKEN": "the file holds sk-ant-oat01-… tokens",
    "OPENROUTER-KEY": "sk-or-v1-0000000000000000000000000000000000000000000000000000000000000000",
    "LANGFUSE-SECRET-KEY": "pk-lf-1a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d is the public key",
    "SK-KEY": "git checkout ask-the-user-before-deleting-files-branch",
    "GROQ-KEY": "gsk_is_the_prefix_of_groq_keys",
    "XAI-KEY": "xai-grok-2-1212 is the model name",
    "PERPLEXITY-KEY": "pplx-70b-online",
    "REPLICATE-TOKEN": "r8_ prefix; see replicate docs",
    "HUGGINGFACE-TOKEN": "from transformers import hf_hub_download_with_retries_and_backoff",
    "HUGGINGFACE-ORG-TOKEN": "api_org_settings_page_for_the_team",
    "LANGSMITH-KEY": "LANGSMITH_API_KEY=lsv2_pt_...",
    "ELEVENLABS-KEY": "sk_test_is_for_stripe_not_elevenlabs",
    "TAVILY-KEY": "tvly-dev-key goes in TAVILY_API_KEY",
    "COMPOSIO-KEY": "oak_tree_species_catalogue_for_the_park",
    "GITHUB-PAT": "GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "GITHUB-OAUTH-TOKEN": "gho_ tokens come from the OAuth flow",
    "GITHUB-APP-TOKEN": "ghs_ and ghu_ are GitHub App tokens",
    "GITHUB-REFRESH-TOKEN": "ghr_ is a refresh token prefix",
    "GITHUB-FINE-GRAINED-PAT": "github_pat_ prefix, e.g. github_pat_...",
    "GITLAB-PAT": "glpat-xxxxxxxxxxxxxxxxxxxx",
    "GITLAB-RUNNER-TOKEN": "register with glrt-<token>",
    "GITLAB-DEPLOY-TOKEN": "gldt- tokens are deploy tokens",
    "GITLAB-FEED-TOKEN": "glft-feed-token-docs",
    "GITLAB-SCIM-TOKEN": "glsoat- is the SCIM prefix",
    "GITLAB-FEATURE-FLAG-TOKEN": "glffct-settings",
    "GITLAB-PIPELINE-TRIGGER-TOKEN": "glptt-" + "z" * 40,
    "NPM-TOKEN": "npm_config_registry=https://registry.npmjs.org/",
    "PYPI-TOKEN": "pypi-AgEIcHlwaS5vcmc is how every upload token starts",
    "RUBYGEMS-KEY": "rubygems_api_key: <paste>",
    "PULUMI-TOKEN": "pul-" + "0" * 40,
    "POSTMAN-API-KEY": "PMAK-<id>-<secret>",
    "ATLASSIAN-API-TOKEN": "ATATT3 tokens are long",
    "LINEAR-API-KEY": "lin_api_key_settings",
    "SENTRY-USER-TOKEN": "sntryu_" + "0" * 64,
    "SENTRY-ORG-TOKEN": "sntrys_ org tokens embed base64 JSON",
    "GRAFANA-SERVICE-ACCOUNT-TOKEN": "glsa_ service account tokens",
    "GRAFANA-CLOUD-TOKEN": "glc_ prefix",
    "VAULT-TOKEN": "hvs.CAESI... (truncated)",
    "TERRAFORM-CLOUD-TOKEN": "app.terraform.io uses <id>.atlasv1.<secret> tokens",
    "DOPPLER-TOKEN": "dp.pt.<token>",
    "AWS-ACCESS-KEY-ID": "AKIAXXXXXXXXXXXXXXXX",
    "AWS-SESSION-TOKEN": "SessionToken starts with IQoJb3JpZ2luX2Vj",
    "AWS-BEDROCK-KEY": "ABSK keys are Bedrock API keys",
    "GOOGLE-API-KEY": "AIzaSy... is a Google API key prefix",
    "GOOGLE-OAUTH-CLIENT-SECRET": "GOCSPX-<secret>",
    "GOOGLE-OAUTH-TOKEN": "ya29.<token>",
    "AZURE-AD-CLIENT-SECRET": "the secret has Q~ in it",
    "AZURE-STORAGE-KEY": "AccountKey=<key>;EndpointSuffix=core.windows.net",
    "AZURE-SHARED-ACCESS-KEY": "SharedAccessKeyName=RootManageSharedAccessKey",
    "DIGITALOCEAN-TOKEN": "dop_v1_ tokens",
    "DATABRICKS-TOKEN": "dapi_token_expiry_days",
    "CLOUDFLARE-ORIGIN-CA-KEY": "v1.0-origin-ca-docs",
    "FLYIO-TOKEN": "fm2_ macaroons",
    "HEROKU-API-KEY": "HRKU-AA<key>",
    "ONEPASSWORD-SERVICE-ACCOUNT-TOKEN": "ops_eyJ... tokens",
    "ONEPASSWORD-SECRET-KEY": "A3-XXXXXX-XXXXXX-XXXXX-XXXXX-XXXXX-XXXXX",
    "AGE-SECRET-KEY": "AGE-SECRET-KEY-1... lives in keys.txt",
    "NOTION-TOKEN": "secret_key_base_for_rails_sessions_is_long",
    "SUPABASE-TOKEN": "sbp_ tokens",
    "BRAVE-SEARCH-KEY": "BSA_SUBSCRIPTION_TOKEN_HEADER_NAME",
    "PLANETSCALE-TOKEN": "pscale_tkn_<token>",
    "SESSION-COOKIE": "Cookie: _ga=GA1.2.1234567890.1700000000; theme=dark; session_id=",
    "AWS-SECRET-ACCESS-KEY": "aws_secret_access_key = <your-secret-key>",
    "SLACK-BOT-TOKEN": "SLACK_BOT_TOKEN=xoxb-your-token",
    "SLACK-USER-TOKEN": "xoxp- is a user token",
    "SLACK-APP-TOKEN": "xapp-1-... app-level token",
    "SLACK-CONFIG-TOKEN": "xoxe.xoxp-1-... config token",
    "SLACK-LEGACY-TOKEN": "xoxs- tokens are deprecated",
    "SLACK-WEBHOOK": "https://hooks.slack.com/services/",
    "DISCORD-BOT-TOKEN": "Nothing.interesting.here_at_all_just_words_and_more_words",
    "DISCORD-WEBHOOK": "https://discord.com/api/webhooks/<id>/<token>",
    "TELEGRAM-BOT-TOKEN": "12:34:56 elapsed, 20260413:AM",
    "SENDGRID-KEY": "SG.<id>.<secret>",
    "MAILGUN-KEY": "key-rotation-policy-for-the-mail-service",
    "MAILCHIMP-KEY": "region eu-us1 failover",
    "TWILIO-API-KEY": "SKU 00000000000000000000000000000000",
    "STRIPE-SECRET-KEY": "STRIPE_SECRET_KEY=sk_test_xxxxxxxxxxxxxxxxxxxxxxxx",
    "STRIPE-RESTRICTED-KEY": "rk_live_ keys are restricted",
    "STRIPE-WEBHOOK-SECRET": "whsec_ signing secrets",
    "SQUARE-ACCESS-TOKEN": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9aw"
                           "AAAABJRU5ErkJggg==",
    "SQUARE-OAUTH-SECRET": "sq0csp-<secret>",
    "SHOPIFY-TOKEN": "shpat_ tokens",
    "JWT": '{"alg":"HS256"} base64 is eyJhbGciOiJIUzI1NiJ9 (no payload, no dots)',
    "PRIVATE-KEY": "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE" + "A" * 20
                   + "\n-----END PUBLIC KEY-----",
    "PUTTY-PRIVATE-KEY": "PuTTY-User-Key-File-3 is the .ppk header",
    "POSTGRES-PASSWORD": "postgres://app:${DB_PASSWORD}@db.internal:5432/app",
    "MYSQL-PASSWORD": "mysql://root:password@localhost:3306/shop",
    "MONGODB-PASSWORD": "mongodb+srv://<user>:<password>@cluster0.mongodb.net/",
    "REDIS-PASSWORD": "redis://localhost:6379/0",
    "AMQP-PASSWORD": "amqp://guest:guest@localhost:5672/",
    "URL-PASSWORD": "https://user@example.com:8443/path?q=1",
    "BEARER-TOKEN": "Authorization: Bearer $GITHUB_TOKEN",
    "BASIC-AUTH": "basic authentication is configured in nginx",
    "AUTH-HEADER": "Authorization: token {{ token }}",
    "CURL-USER-PASSWORD": 'curl -u "$USER:$PASS" https://ci.example.com/api',
    "CLI-PASSWORD": "mysql -h db -u root -p shop",
    "PASSWORD": "The password must be at least 12 characters long.",
    "SECRET": "secret_name: prod-db-password",
    "TOKEN": "max_tokens: 4096",
    "API-KEY": "OPENAI_API_KEY=your-api-key-here",
}


def test_registry_is_large_and_well_formed() -> None:
    names = [k.name for k in KINDS]
    assert len(names) == len(set(names))
    assert sum(1 for k in KINDS if k.tier is not Tier.GENERIC) >= 60
    for kind in KINDS:
        assert re.fullmatch(r"[A-Z0-9]+(?:-[A-Z0-9]+)*", kind.name), kind.name
        assert kind.title and kind.pattern and kind.shape and kind.guard
        assert "{}" in kind.context


def test_every_kind_has_a_false_example() -> None:
    assert set(FALSE_EXAMPLES) == set(KINDS_BY_NAME)


@pytest.mark.parametrize("name", [k.name for k in KINDS])
def test_documented_example_is_caught_as_its_kind(name: str) -> None:
    kind = KINDS_BY_NAME[name]
    out, counts = redact_report(kind.example)
    assert kind.marker in out, (kind.example, out)
    assert counts.get(name) == 1, counts


@pytest.mark.parametrize("name", [k.name for k in KINDS])
def test_random_instances_are_caught(name: str) -> None:
    kind = KINDS_BY_NAME[name]
    rng = random.Random(name)
    for _ in range(5):
        secret = render_shape(kind.shape, rng)
        text = "output:\n" + kind.context.replace("{}", secret) + "\ndone"
        out = redact(text)
        assert secret not in out, (text, out)
        assert out.startswith("output:\n") and out.endswith("\ndone")


@pytest.mark.parametrize("name", [k.name for k in KINDS])
def test_false_example_is_left_alone(name: str) -> None:
    text = FALSE_EXAMPLES[name]
    assert redact(text) == text


@pytest.mark.parametrize("name", [k.name for k in KINDS if k.tier is Tier.TOKEN and k.context == "{}"
                                  and k.name not in ("PRIVATE-KEY", "PUTTY-PRIVATE-KEY")])
def test_documented_pattern_matches_the_shape(name: str) -> None:
    """The doc shows the readable regex; the engine may run faster forms. Both must accept the shape."""
    kind = KINDS_BY_NAME[name]
    rng = random.Random(name)
    for _ in range(5):
        secret = render_shape(kind.shape, rng)
        assert re.fullmatch(kind.pattern, secret), (kind.pattern, secret)


def test_reference_doc_is_generated_from_the_registry() -> None:
    doc = DOC.read_text()
    for kind in KINDS:
        assert f"| `{kind.name}` |" in doc, kind.name
    assert doc == render_markdown(), (
        "references/SECRET_PATTERNS.md is stale: run "
        "`python -m memory_syncd.redact.doc > references/SECRET_PATTERNS.md`")

