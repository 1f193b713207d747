"""Shortening text for people: one helper for every place that cuts a string to fit a line or a budget."""

from __future__ import annotations


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending in "…" when it was cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def one_line(text: object, limit: int) -> str:
    """`text` with its white space folded to single spaces, clipped to `limit` (for error messages)."""
    return clip(" ".join(str(text).split()), limit)


def headline(text: str, limit: int = 100) -> str:
    """The first non-blank line of `text`, clipped to `limit`."""
    return clip(next((ln.strip() for ln in text.splitlines() if ln.strip()), ""), limit)
