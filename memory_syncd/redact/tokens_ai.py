"""Self-identifying API keys of AI and LLM providers (OpenAI, Anthropic, OpenRouter, Groq, Hugging Face, …).

Formats as listed in references/SECRET_PATTERNS.md. Every rule here is a `TokenRule`:
the engine runs them on runs of token characters only, and checks the character before each match.
"""

from __future__ import annotations

from memory_syncd.redact.kinds import Family, Fast, TokenRule, rules, token
from memory_syncd.redact.values import looks_random

_AI = Family.AI
_END62 = r"(?![A-Za-z0-9])"
_END64 = r"(?![A-Za-z0-9_-])"

RULES: tuple[TokenRule, ...] = rules(
    token("OPENAI-KEY", "OpenAI API key (legacy user, project, service account)", _AI,
          r"sk-(?:(?:proj|svcacct|None)-[A-Za-z0-9_-]{40,}|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}" + _END62
          + r"|[A-Za-z0-9_-]{16,}T3BlbkFJ[A-Za-z0-9_-]{16,})",
          "sk-proj-<B64U:74>T3BlbkFJ<B64U:74>", priority=30),
    token("OPENAI-ADMIN-KEY", "OpenAI admin key", _AI, r"sk-admin-[A-Za-z0-9_-]{40,}",
          "sk-admin-<B64U:58>T3BlbkFJ<B64U:58>", priority=31),
    token("ANTHROPIC-KEY", "Anthropic API key", _AI, r"sk-ant-api\d\d-[A-Za-z0-9_-]{32,}",
          "sk-ant-api03-<B64U:93>AA", priority=30),
    token("ANTHROPIC-ADMIN-KEY", "Anthropic admin key", _AI, r"sk-ant-admin\d\d-[A-Za-z0-9_-]{32,}",
          "sk-ant-admin01-<B64U:93>AA", priority=30),
    token("ANTHROPIC-OAUTH-TOKEN", "Anthropic OAuth access / refresh token (Claude Code credentials)", _AI,
          r"sk-ant-o[ar]t\d\d-[A-Za-z0-9_-]{32,}", "sk-ant-oat01-<B64U:93>AA", priority=30),
    token("OPENROUTER-KEY", "OpenRouter API key", _AI, r"sk-or-v1-[a-f0-9]{64}" + _END62,
          "sk-or-v1-<HEX:64>", priority=30),
    token("LANGFUSE-SECRET-KEY", "Langfuse secret key", _AI,
          r"sk-lf-[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}" + _END62, "sk-lf-<UUID>",
          priority=30),
    token("SK-KEY", "Other `sk-` keys (DeepSeek, Moonshot, many OpenAI-compatible gateways)", _AI,
          r"sk-[A-Za-z0-9][A-Za-z0-9_-]{31,}", "sk-<LOWAN:32>",
          guard="`sk-` then 32+ key characters; the body must mix letters and digits and clear an entropy "
                "floor, so `sk-...` and slugs like `sk-this-is-not-a-key` stay",
          check=lambda s: looks_random(s[3:]), priority=10),
    token("GROQ-KEY", "Groq API key", _AI, r"gsk_[A-Za-z0-9]{48,56}" + _END62, "gsk_<B62:52>"),
    token("XAI-KEY", "xAI (Grok) API key", _AI, r"xai-[A-Za-z0-9_]{70,90}" + _END62, "xai-<B62:80>"),
    token("PERPLEXITY-KEY", "Perplexity API key", _AI, r"pplx-[A-Za-z0-9]{40,56}" + _END62, "pplx-<B62:48>"),
    token("REPLICATE-TOKEN", "Replicate API token", _AI, r"r8_[A-Za-z0-9_-]{35,40}" + _END64, "r8_<B64U:37>"),
    token("HUGGINGFACE-TOKEN", "Hugging Face user access token", _AI, r"hf_[A-Za-z0-9]{33,40}" + _END62,
          "hf_<ALPHA:34>"),
    token("HUGGINGFACE-ORG-TOKEN", "Hugging Face organisation token", _AI,
          r"api_org_[A-Za-z0-9]{34}" + _END62, "api_org_<B62:34>"),
    token("LANGSMITH-KEY", "LangSmith personal / service key", _AI,
          r"lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}" + _END62, "lsv2_pt_<HEX:32>_<HEX:10>"),
    token("ELEVENLABS-KEY", "ElevenLabs API key", _AI, r"sk_[a-f0-9]{48}" + _END62, "sk_<HEX:48>"),
    token("TAVILY-KEY", "Tavily API key", _AI, r"tvly-(?:dev-|prod-)?[A-Za-z0-9]{32}" + _END62,
          "tvly-dev-<B62:32>"),
    token("COMPOSIO-KEY", "Composio project / organisation API key", _AI, r"(?:o?ak[_-])[A-Za-z0-9]{20,}",
          "ak_<B62:24>",
          guard="`ak_` / `oak_` then 20+ letters and digits with no `_` (identifiers such as "
                "`ak_model_name` have them); the body must mix letters and digits and clear an entropy floor",
          check=lambda s: looks_random(s.split("_", 1)[-1].split("-", 1)[-1]), priority=10,
          fast=(Fast(r"ak[_-][A-Za-z0-9]{20,}", back="o", back_max=1),)),
)
