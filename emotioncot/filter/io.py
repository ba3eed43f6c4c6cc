"""Reading rows in the public EmotionCoT JSONL field format, with the aliases released files use.

``canonical(row)`` returns the row under emotioncot's field names (``transcript``, ``emotion``,
``stressed_words`` as a list, levels in the release vocabularies) so that every check reads one format;
the original row is what the filter writes back, unchanged apart from the added reason fields.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from emotioncot.taxonomy import (
    AGE_LEVELS,
    EMOTIONS,
    ENERGY_LEVELS,
    GENDERS,
    INTONATIONS,
    PITCH_LEVELS,
    SPEED_LEVELS,
    normalize_emotion,
)

# alias -> canonical field, in order of preference (the first present wins)
ALIASES: dict[str, tuple[str, ...]] = {
    "transcript": ("transcript", "transcription", "text"),
    "emotion": ("emotion", "gt", "label"),
    "gender": ("gender", "gender_new"),
    "age_level": ("age_level", "age_group"),
    "stressed_words": ("stressed_words", "stress", "stress_words"),
    "intonation": ("intonation", "intonation_contour", "contour_shape"),
    "pitch_level": ("pitch_level",),
    "energy_level": ("energy_level",),
    "speed_level": ("speed_level",),
    "cot_analysis": ("cot_analysis",),
}
_ALIAS_KEYS = {alias for names in ALIASES.values() for alias in names}

_INTONATION_ALIASES = {
    "rise": "rising", "fall": "falling", "rise-fall": "rising-falling", "fall-rise": "falling-rising",
    "level": "flat", "monotone": "flat", "rise_fall": "rising-falling", "fall_rise": "falling-rising",
    "rising_falling": "rising-falling", "falling_rising": "falling-rising", "too short": "too_short",
}
_AGE_ALIASES = {a.lower().replace("-", " "): a for a in AGE_LEVELS}
_AGE_ALIASES.update({"teen": "Teenager", "adult": "Young Adult", "young": "Young Adult", "middle aged": "Middle-aged",
                     "senior": "Elderly", "old": "Elderly", "elder": "Elderly", "kid": "Child"})
_GENDER_ALIASES = {"male": "Male", "m": "Male", "man": "Male", "female": "Female", "f": "Female", "woman": "Female"}


class Problem(ValueError):
    """A value outside a vocabulary: (field, value, allowed)."""


def _stressed(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                return [str(v) for v in json.loads(text)]
            except json.JSONDecodeError:
                pass
        return [w.strip(" '\"") for w in re.split(r"[,;|]", text) if w.strip(" '\"")]
    return [str(v) for v in value]


def _level(value, vocabulary) -> str | None:
    if value is None or value == "":
        return None
    text = str(value).strip().lower()
    return text if text in vocabulary else str(value)


def canonical(row: dict) -> dict:
    """The row under canonical names with vocabulary values normalised; values that fit no vocabulary are
    kept as they are (the schema check names them)."""
    out = dict(row)  # the other fields in the row's order; the canonical ones go after them, as below
    for key in _ALIAS_KEYS.intersection(row):
        del out[key]
    for field, names in ALIASES.items():
        for name in names:  # the first present wins (a plain loop: no generator per field)
            if name in row and row[name] not in (None, ""):
                value = row[name]
                break
        else:
            continue
        if type(value) is str and field in _PLAIN_FIELDS:
            out[field] = _canonical_word(field, value)
        else:
            out[field] = _canonical_value(field, value)
    return out


def _canonical_value(field: str, value):
    """A field's value under canonical names (``value`` neither None nor "")."""
    if field == "emotion":
        return normalize_emotion(str(value)) or str(value)
    if field == "gender":
        return _GENDER_ALIASES.get(str(value).strip().lower(), str(value))
    if field == "age_level":
        return _AGE_ALIASES.get(str(value).strip().lower().replace("-", " ").replace("_", " "), str(value))
    if field == "stressed_words":
        return _stressed(value)
    if field == "intonation":
        text = str(value).strip().lower()
        return _INTONATION_ALIASES.get(text, text)
    if field in ("pitch_level", "energy_level"):
        return _level(value, PITCH_LEVELS)
    if field == "speed_level":
        return _level(value, SPEED_LEVELS)
    return value


# Fields whose canonical value, for a string, is a string worked out from it alone: a few vocabulary words
# recur in every row, so each is read once (not the free texts, and not stressed_words, whose list each row
# must own).
_PLAIN_FIELDS = frozenset({"emotion", "gender", "age_level", "intonation", "pitch_level", "energy_level", "speed_level"})


@lru_cache(maxsize=1 << 12)
def _canonical_word(field: str, value: str) -> str:
    return _canonical_value(field, value)


VOCABULARIES = {
    "emotion": EMOTIONS,
    "pitch_level": PITCH_LEVELS,
    "energy_level": ENERGY_LEVELS,
    "speed_level": SPEED_LEVELS,
    "intonation": INTONATIONS,
    "gender": GENDERS,
    "age_level": AGE_LEVELS,
}


def vocabulary_problems(record: dict) -> list[tuple[str, str]]:
    """(field, message) for every release field whose value is outside its vocabulary."""
    out = []
    for field, vocabulary in VOCABULARIES.items():
        value = record.get(field)
        if value is not None and value not in vocabulary:
            out.append((field, f"{field} {value!r} is not one of {', '.join(vocabulary)}"))
    if "stressed_words" in record and not isinstance(record["stressed_words"], list):
        out.append(("stressed_words", "stressed_words is not a list of words"))
    return out


def read_jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, row) for each non-empty line; a line that is not a JSON object raises ValueError naming it."""
    path = Path(path)
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{n}: not valid JSON ({exc.msg})") from None
            if not isinstance(row, dict):
                raise ValueError(f"{path}:{n}: a line is not a JSON object")
            yield n, row


def write_jsonl(path: Path, rows) -> int:
    """Write rows atomically (temporary file, then rename); return how many."""
    from emotioncot.tables import write_text_atomic

    lines = [json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(Path(path), "".join(lines))
    return len(lines)
