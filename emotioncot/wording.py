"""Counts in messages with the noun in the right number ("1 clip", "2 clips"), never "1 clips"."""

from __future__ import annotations

IRREGULAR = {"utterance": "utterances", "query": "queries", "family": "families", "commit": "commits"}


def plural(noun: str) -> str:
    if noun in IRREGULAR:
        return IRREGULAR[noun]
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


def count(n: int, noun: str) -> str:
    """``count(1, "clip")`` -> "1 clip"; ``count(3, "clip")`` -> "3 clips" (thousands with a comma)."""
    return f"{n:,} {noun if n == 1 else plural(noun)}"
