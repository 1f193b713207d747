"""Self-identifying credentials of cloud platforms and infrastructure SaaS.

AWS, Google Cloud, Azure, DigitalOcean, Databricks, Cloudflare, Fly.io, Heroku, 1Password, age, Notion,
Supabase, PlanetScale. Formats as listed in references/SECRET_PATTERNS.md.
The AWS secret access key has no prefix: it is found by context in `generic` and `structural`.
"""

from __future__ import annotations

from memory_syncd.redact.kinds import ALNUM, Family, Fast, TokenRule, rules, token
from memory_syncd.redact.values import looks_random

_CLOUD = Family.CLOUD
_END62 = r"(?![A-Za-z0-9])"
_END64 = r"(?![A-Za-z0-9_-])"
_END_B64 = r"(?![A-Za-z0-9+/=])"

RULES: tuple[TokenRule, ...] = rules(
    token("AWS-ACCESS-KEY-ID", "AWS access key id (long-term AKIA, temporary ASIA, …)", _CLOUD,
          r"(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16}" + _END62, "AKIA<B32:16>",
          guard="one of five 4-character prefixes, then exactly 16 base32 upper-case characters; the AWS "
                "documentation key `AKIAIOSFODNN7EXAMPLE` is redacted too (cheap, and it keeps the rule "
                "simple)",
          fast=(Fast(r"A(?:KIA|SIA|BIA|CCA|3T[A-Z0-9])[A-Z2-7]{16}" + _END62,
                     anchors=("AKIA", "ASIA", "ABIA", "ACCA", "A3T")),)),
    token("AWS-SESSION-TOKEN", "AWS STS session token", _CLOUD,
          r"(?:IQoJb3JpZ2luX2Vj|FwoGZXIvYXdzE)[A-Za-z0-9/+=]{40,}", "IQoJb3JpZ2luX2Vj<B64:300>",
          fast=(Fast(r"IQoJb3JpZ2luX2Vj[A-Za-z0-9/+=]{40,}"), Fast(r"FwoGZXIvYXdzE[A-Za-z0-9/+=]{40,}"))),
    token("AWS-BEDROCK-KEY", "Amazon Bedrock long-term API key", _CLOUD, r"ABSK[A-Za-z0-9+/]{100,270}={0,2}"
          + _END_B64, "ABSK<B64:132>"),
    token("GOOGLE-API-KEY", "Google API key (GCP, Gemini, Maps, Firebase)", _CLOUD,
          r"AIza[A-Za-z0-9_-]{35}" + _END64, "AIzaSy<B64U:33>"),
    token("GOOGLE-OAUTH-CLIENT-SECRET", "Google OAuth client secret", _CLOUD,
          r"GOCSPX-[A-Za-z0-9_-]{28}" + _END64, "GOCSPX-<B64U:28>"),
    token("GOOGLE-OAUTH-TOKEN", "Google OAuth 2.0 access token", _CLOUD, r"ya29\.[A-Za-z0-9_-]{20,}",
          "ya29.<B64U:160>"),
    token("AZURE-AD-CLIENT-SECRET", "Azure AD / Entra ID client secret", _CLOUD,
          r"[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])", "abc8Q~<B62:34>",
          left=ALNUM | frozenset("_~."),
          fast=(Fast(r"Q~(?<=[A-Za-z0-9_~.]{3}\dQ~)[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])",
                     back="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_~.", back_max=4),)),
    token("AZURE-STORAGE-KEY", "Azure storage account key (in a connection string)", _CLOUD,
          r"AccountKey=(?P<s>[A-Za-z0-9+/]{86}==)", "<B64:86>==", group="s",
          context="DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={};EndpointSuffix=core.windows.net"),
    token("AZURE-SHARED-ACCESS-KEY", "Azure Service Bus / Event Hubs shared access key", _CLOUD,
          r"SharedAccessKey=(?P<s>[A-Za-z0-9+/]{42,44}=)", "<B64:43>=", group="s",
          context="Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=root;SharedAccessKey={}"),
    token("DIGITALOCEAN-TOKEN", "DigitalOcean personal / OAuth / refresh token", _CLOUD,
          r"do[por]_v1_[a-f0-9]{64}" + _END62, "dop_v1_<HEX:64>", anchors=("_v1_",)),
    token("DATABRICKS-TOKEN", "Databricks personal access token", _CLOUD, r"dapi[a-f0-9]{32}(?:-\d)?" + _END62,
          "dapi<HEX:32>"),
    token("CLOUDFLARE-ORIGIN-CA-KEY", "Cloudflare Origin CA key", _CLOUD,
          r"v1\.0-[a-f0-9]{24}-[a-f0-9]{146}" + _END62, "v1.0-<HEX:24>-<HEX:146>"),
    token("FLYIO-TOKEN", "Fly.io access / macaroon token", _CLOUD,
          r"(?:fo1_[A-Za-z0-9_-]{43}" + _END64 + r"|fm[12][ar]?_[A-Za-z0-9+/=_-]{64,})", "fm2_<B64:120>",
          fast=(Fast(r"fo1_[A-Za-z0-9_-]{43}" + _END64),
                Fast(r"fm[12][ar]?_[A-Za-z0-9+/=_-]{64,}", anchors=("fm1", "fm2")))),
    token("HEROKU-API-KEY", "Heroku API key (v2)", _CLOUD, r"HRKU-AA[A-Za-z0-9_-]{58}" + _END64,
          "HRKU-AA<B64U:58>"),
    token("ONEPASSWORD-SERVICE-ACCOUNT-TOKEN", "1Password service-account token", _CLOUD,
          r"ops_eyJ[A-Za-z0-9+/=_-]{100,}", "ops_eyJ<B64:260>"),
    token("ONEPASSWORD-SECRET-KEY", "1Password account secret key", _CLOUD,
          r"A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}"
          + _END62, "A3-<UPAN:6>-<UPAN:6>-<UPAN:5>-<UPAN:5>-<UPAN:5>-<UPAN:5>"),
    token("AGE-SECRET-KEY", "age encryption secret key", _CLOUD,
          r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}" + _END62, "AGE-SECRET-KEY-1<BECH32:58>"),
    token("NOTION-TOKEN", "Notion integration token", _CLOUD,
          r"(?:ntn_\d{11}[A-Za-z0-9]{35}|secret_[A-Za-z0-9]{43})" + _END62, "ntn_<DIG:11><B62:35>",
          fast=(Fast(r"ntn_\d{11}[A-Za-z0-9]{35}" + _END62), Fast(r"secret_[A-Za-z0-9]{43}" + _END62))),
    token("BRAVE-SEARCH-KEY", "Brave Search API subscription token", _CLOUD, r"BSA[A-Za-z0-9_-]{25,40}" + _END64,
          "BSA<B62:28>", check=lambda s: looks_random(s[3:]),
          guard="`BSA` then 25-40 key characters that mix letters and digits and clear an entropy floor"),
    token("SUPABASE-TOKEN", "Supabase personal access token", _CLOUD, r"sbp_[a-f0-9]{40}" + _END62,
          "sbp_<HEX:40>"),
    token("PLANETSCALE-TOKEN", "PlanetScale service token / password / OAuth token", _CLOUD,
          r"pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_=.-]{32,64}", "pscale_pw_<B64U:43>"),
)
