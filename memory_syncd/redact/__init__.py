"""Secrets out, before anything is stored or sent: every text memory-syncd writes or sends to an LLM goes
through `redact` first.

API: `redact(text) -> text`, `redact_report(text) -> (text, {kind: count})`, and `KINDS`, the registry of
every kind of secret caught (name, pattern, example shape, false-positive guard) from which
references/SECRET_PATTERNS.md is generated. Each secret becomes `[REDACTED-<KIND>]`; every other byte is
kept; redaction is idempotent. Modules: `kinds` (vocabulary), `values` (value heuristics), `tokens_*` and
`keys` (self-identifying formats), `structural` (URLs, headers, command lines), `generic` (keyword
assignments), `scan` (token runs and the token prefilter), `plans` (how context rules share scans),
`engine` (order of work, overlap resolution, replacement), `doc` (the reference doc).
"""

from memory_syncd.redact.engine import KINDS, KINDS_BY_NAME, redact, redact_report
from memory_syncd.redact.kinds import Family, Kind, Tier, render_shape

__all__ = ["KINDS", "KINDS_BY_NAME", "Family", "Kind", "Tier", "redact", "redact_report", "render_shape"]
