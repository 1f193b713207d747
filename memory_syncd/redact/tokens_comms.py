"""Self-identifying credentials of messaging, email and payment services.

Slack, Discord, Telegram, SendGrid, Mailgun, Mailchimp, Twilio, Stripe, Square, Shopify. Formats from
the token formats in references/SECRET_PATTERNS.md. Discord bot tokens and Square `EAAA`
tokens have no unique prefix, so their rules carry an entropy check and a stricter left boundary.
"""

from __future__ import annotations

from memory_syncd.redact.kinds import ALNUM, Family, Fast, TokenRule, rules, token
from memory_syncd.redact.values import looks_random

_MSG = Family.MESSAGING
_PAY = Family.PAYMENTS
_END62 = r"(?![A-Za-z0-9])"
_END64 = r"(?![A-Za-z0-9_-])"
_DIGITS = frozenset("0123456789")
_B64_LEFT = ALNUM | frozenset("+/_-")  # not "=": base64 never goes on after padding


_B64U = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"


def _discord(s: str) -> bool:
    """The fast rule starts at the first dot; the part before it is a base64 user id of 24-26 characters."""
    head = s.split(".", 1)[0]
    return s[0] in "MNO" and 24 <= len(head) <= 26 and looks_random(s)


def _hex_mix(s: str) -> bool:
    body = s[2:] if s.startswith("SK") else s
    return any(c.isdigit() for c in body) and any(c.isalpha() for c in body)


RULES: tuple[TokenRule, ...] = rules(
    token("SLACK-BOT-TOKEN", "Slack bot token", _MSG, r"xoxb-\d{8,13}-[A-Za-z0-9-]{10,}",
          "xoxb-<DIG:12>-<DIG:13>-<B62:24>"),
    token("SLACK-USER-TOKEN", "Slack user token", _MSG, r"xoxp-\d{8,13}-[A-Za-z0-9-]{10,}",
          "xoxp-<DIG:12>-<DIG:12>-<DIG:13>-<HEX:32>"),
    token("SLACK-APP-TOKEN", "Slack app-level token", _MSG, r"xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]{30,}",
          "xapp-1-A<UPAN:10>-<DIG:13>-<HEX:64>"),
    token("SLACK-CONFIG-TOKEN", "Slack configuration access / refresh token", _MSG,
          r"xoxe(?:\.xox[bp])?-\d-[A-Za-z0-9]{60,}", "xoxe.xoxp-1-<B62:160>"),
    token("SLACK-LEGACY-TOKEN", "Slack legacy / workspace / OAuth token", _MSG,
          r"xox[aors]-(?:\d+-){1,3}[A-Za-z0-9-]{10,}", "xoxa-2-<DIG:12>-<DIG:12>-<HEX:32>"),
    token("SLACK-WEBHOOK", "Slack incoming webhook / workflow URL", _MSG,
          r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_-]{30,}",
          "https://hooks.slack.com/services/T<UPAN:10>/B<UPAN:10>/<B62:24>"),
    token("DISCORD-BOT-TOKEN", "Discord bot token", _MSG,
          r"[MNO][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}" + _END64,
          "MTE<B64U:23>.<B64U:6>.<B64U:38>",
          guard="no prefix: base64 of a numeric user id (starts M/N/O), then 6 and 27-38 characters split by "
                "dots; must mix letters and digits and clear an entropy floor, with no `+`, `/` or `=` before",
          check=_discord, left=_B64_LEFT,
          fast=(Fast(r"\.(?<=[A-Za-z0-9_-]{24}\.)[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}" + _END64,
                     back=_B64U, back_max=26),)),
    token("DISCORD-WEBHOOK", "Discord webhook URL", _MSG,
          r"https://(?:(?:ptb|canary)\.)?discord(?:app)?\.com/api/webhooks/\d{17,20}/[A-Za-z0-9_-]{60,70}"
          + _END64, "https://discord.com/api/webhooks/<DIG:19>/<B64U:68>",
          anchors=("/api/webhooks/",)),
    token("TELEGRAM-BOT-TOKEN", "Telegram bot token", _MSG, r"\d{8,10}:A[A-Za-z0-9_-]{34}" + _END64,
          "<DIG:10>:AA<B64U:33>",
          fast=(Fast(r":A(?<=\d{8}:A)[A-Za-z0-9_-]{34}" + _END64, back="0123456789", back_max=10),),
          guard="bot id of 8-10 digits, `:A`, then exactly 34 base64url characters; only a digit before it "
                "breaks the match, so `api.telegram.org/bot<token>/` is caught",
          left=_DIGITS),
    token("SENDGRID-KEY", "SendGrid API key", _MSG, r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}" + _END64,
          "SG.<B64U:22>.<B64U:43>"),
    token("MAILGUN-KEY", "Mailgun private API key", _MSG, r"key-[a-f0-9]{32}" + _END62, "key-<HEX:32>"),
    token("MAILCHIMP-KEY", "Mailchimp API key", _MSG, r"[a-f0-9]{32}-us\d{1,2}" + _END62,
          "<HEX:32>-us14",
          fast=(Fast(r"-us(?<=[a-f0-9]{32}-us)\d{1,2}" + _END62, back="0123456789abcdef", back_max=32),),
          guard="32 lower-case hex characters glued to a `-usN` data-centre suffix; hex must mix digits and "
                "letters", check=_hex_mix),
    token("TWILIO-API-KEY", "Twilio API key SID", _MSG, r"SK[0-9a-fA-F]{32}" + _END62, "SK<HEX:32>",
          check=_hex_mix),
    token("STRIPE-SECRET-KEY", "Stripe secret key", _PAY, r"sk_(?:live|test)_[A-Za-z0-9]{10,247}" + _END62,
          "sk_live_<B62:99>"),
    token("STRIPE-RESTRICTED-KEY", "Stripe restricted key", _PAY, r"rk_(?:live|test)_[A-Za-z0-9]{10,247}"
          + _END62, "rk_live_<B62:99>"),
    token("STRIPE-WEBHOOK-SECRET", "Stripe webhook signing secret", _PAY, r"whsec_[A-Za-z0-9+/=]{32,}",
          "whsec_<B62:32>"),
    token("SQUARE-ACCESS-TOKEN", "Square access token", _PAY,
          r"(?:sq0atp-[A-Za-z0-9_-]{22,60}|EAAA[A-Za-z0-9_-]{56,60})" + _END64, "EAAA<B64U:60>",
          guard="`sq0atp-` prefix, or `EAAA` + 56-60 base64url characters with no base64 character before it "
                "(so `EAAA` inside ordinary base64 is left alone) and an entropy floor",
          check=lambda s: s.startswith("sq0") or looks_random(s[4:]), left=_B64_LEFT,
          fast=(Fast(r"sq0atp-[A-Za-z0-9_-]{22,60}" + _END64), Fast(r"EAAA[A-Za-z0-9_-]{56,60}" + _END64))),
    token("SQUARE-OAUTH-SECRET", "Square OAuth application secret", _PAY, r"sq0csp-[A-Za-z0-9_-]{43}" + _END64,
          "sq0csp-<B64U:43>"),
    token("SHOPIFY-TOKEN", "Shopify access / custom-app / private-app / shared secret", _PAY,
          r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}" + _END62, "shpat_<HEX:32>"),
)
