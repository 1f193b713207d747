"""Catch rate and false-positive rate on the seeded corpus, asserted and printed (`pytest -s` shows them).

Floors: at least 95% of planted secrets caught, at most 2% of look-alikes altered (the aim is 98% / 1%).
"""

from __future__ import annotations

from collections import Counter

from redact_corpus import lookalike_cases, planted_cases, transcript_records

from memory_syncd.redact import KINDS, redact


def test_catch_rate_on_planted_secrets() -> None:
    cases = planted_cases(seed=7, per_context=2)
    missed = [c for c in cases if any(s in redact(c.text) for s in c.secrets)]
    rate = 1 - len(missed) / len(cases)
    contexts = sorted({c.context.split(":")[0] for c in cases})
    print(f"\ncatch rate {rate:.2%} ({len(cases) - len(missed)}/{len(cases)} planted secrets, "
          f"{len({c.kind for c in cases})} kinds, contexts: {', '.join(contexts)})")
    by_kind = Counter(c.kind for c in missed)
    assert {c.kind for c in cases} == {k.name for k in KINDS}
    assert rate >= 0.98, by_kind.most_common(10)


def test_false_positive_rate_on_lookalikes() -> None:
    cases = lookalike_cases(seed=11, rounds=12)
    altered = [(c, t, redact(t)) for c, t in cases if redact(t) != t]
    rate = len(altered) / len(cases)
    print(f"\nfalse-positive rate {rate:.2%} ({len(altered)}/{len(cases)} look-alikes altered, "
          f"{len({c for c, _ in cases})} categories)")
    assert rate <= 0.01, altered[:5]


def test_transcript_keeps_no_planted_secret() -> None:
    """Secrets planted in transcript-like JSONL (where they arrive JSON-escaped) and in the text fields
    memory-syncd redacts do not survive."""
    records = transcript_records(seed=8, size=1_000_000, secret_rate=0.3)
    planted = [r for r in records if r.secrets]
    assert len(planted) > 50
    for record in planted:
        for text in (record.line, *record.fields):
            out = redact(text)
            assert not any(s in out for s in record.secrets), record.secrets
