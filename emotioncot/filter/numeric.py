"""Numeric grounding: every number a text attaches to a cue is the record's own measurement.

A rationale or caption may quote numbers (``write.facts`` says which). Each number with a unit the toolkit
measures (Hz, semitones, dB, dBFS, syllables per second, seconds, a count of pauses) must equal one of the
record's measured quantities of that unit within the rounding it is written with ("183 Hz" matches 182.6,
"4.2 syllables per second" matches 4.24, not 4.3). Beside a level, the number must also be the quantity the
level was graded on: a level in dBFS next to an energy statement, where energy was graded on the alpha
ratio, says something the grading ignored (so does the speaking rate, pauses included, beside a speed
level graded on the articulation rate). And the direction words of the sentence around a graded number
must agree with the record's level (the reader of ``grounding.py`` says which aspect each word is about).

One reason code: ``numeric``. Quoted text (the transcription) is masked first, so numbers said by the
speaker are never read as measurements.
"""

from __future__ import annotations

import re
from functools import lru_cache

from emotioncot.filter.grounding import STATEMENTS_DIGIT_BLIND, level_statements
from emotioncot.filter.prefilter import FirstMatch, blind_to
from emotioncot.filter.text import digits_as_nine, mask_quotes, sentences, think_part
from emotioncot.write.facts import LEVEL_FIELDS, QUANTITIES_BY_UNIT, UNIT_CUE, energy_basis_words, graded_fact

_NUMBER = r"(?<![\w.,])(?P<num>[-−–]?\d+(?:[.,]\d+)?)"
_UNITS = [  # (regex after the number, unit key); longer spellings first
    (r"\s*(?:syllables?|syl)\s*(?:per|/|an?)\s*(?:second|sec|s)\b", "sps"),
    (r"\s*(?:syllables?|syl)/s\b", "sps"),
    (r"\s*dB\s?FS\b", "dBFS"),
    (r"\s*dB\b", "dB"),
    (r"\s*(?<![kKmM])Hz\b", "Hz"),
    (r"\s*(?:semitones?|st)\b", "semitones"),
    (r"\s*(?:seconds?|secs?|s)\b(?!\s*(?:per|/))", "s"),
    (r"\s+(?:\w+\s+)?pauses?\b", "pauses"),
]
_MEASURE = re.compile(_NUMBER + "(?P<unit>" + "|".join(f"(?:{u})" for u, _ in _UNITS) + ")", re.I)
_UNIT_KEYS = [(re.compile(u, re.I), key) for u, key in _UNITS]
_WORD_NUMBERS = {"no": 0, "one": 1, "a single": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                 "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_PAUSE_WORDS = re.compile(r"\b(?:(?P<n>no|one|a single|two|three|four|five|six|seven|eight|nine|ten)\s+"
                          r"(?:(?:short|brief|long|clear|noticeable|audible|single)\s+)?pauses?\b"
                          r"|pauses?\s+(?P<times>once|twice|(?P<k>\d+|two|three|four|five|six|seven|eight|nine|ten)\s+times))", re.I)
_TIMES = {"once": 1, "twice": 2}
_DIGIT = re.compile(r"\d")
_PAUSE_SEARCH = FirstMatch(_PAUSE_WORDS)  # the same matches, run only on text that holds "pause"


def _unit_of(text: str) -> str:
    for pattern, key in _UNIT_KEYS:
        if pattern.match(text):
            return key
    return ""


def _parse(num: str) -> tuple[float, float]:
    """(value, half a unit of the last written digit)."""
    num = num.replace("−", "-").replace("–", "-").replace(" ", "").replace(",", ".")
    decimals = len(num.split(".")[1]) if "." in num else 0
    return float(num), 0.5 * 10 ** -decimals + 1e-9


def quoted_numbers(text: str) -> list[tuple[str, float, float, str, str]]:
    """(unit key, value, tolerance, the words as written, the sentence they sit in) for every number with a
    measured unit in ``text`` (quotes masked). The sentence, not the clause: "high (183 Hz)" puts the
    level word and its number in different clauses."""
    found = []
    for sentence in sentences(mask_quotes(think_part(text or ""))):
        found += [(*number, sentence) for number in _sentence_numbers(sentence)]
    return found


@lru_cache(maxsize=1 << 14)  # sentences recur across records (the template's, a model's stock phrasing)
def _sentence_numbers(sentence: str) -> tuple[tuple[str, float, float, str], ...]:
    """(unit key, value, tolerance, the words as written) of each number with a measured unit in a sentence."""
    # where the numbers are does not depend on which digits they have: found once for "about 93 Hz" and
    # "about 211 Hz" alike, then read from the sentence itself
    spans = _number_spans(digits_as_nine(sentence) if _SPANS_DIGIT_BLIND else sentence)
    found = []
    for unit, num, whole, times, k, n in spans:
        written = sentence[whole[0]:whole[1]].strip()
        if num is not None:  # a number with its unit
            value, tol = _parse(sentence[num[0]:num[1]])
            found.append((unit, value, tol, written))
            continue
        if times is not None:
            times, k = sentence[times[0]:times[1]], k and sentence[k[0]:k[1]]
            count = _TIMES.get(times.lower()) if not k else (int(k) if k.isdigit() else _WORD_NUMBERS[k.lower()])
        else:
            count = _WORD_NUMBERS[sentence[n[0]:n[1]].lower()]
        found.append(("pauses", float(count), 0.5, written))
    return tuple(found)


def _group(m: re.Match, name: str) -> tuple[int, int] | None:
    return m.span(name) if m.group(name) else None


@lru_cache(maxsize=1 << 14)
def _number_spans(sentence: str) -> tuple:
    """Where each number with a measured unit is in a sentence: (unit key, the number, the whole match, and
    for a count of pauses the "times" / count / number-word groups), spans or None."""
    found = []
    for m in (_MEASURE.finditer(sentence) if _DIGIT.search(sentence) else ()):  # a measure needs a digit
        found.append((_unit_of(m.group("unit")), m.span("num"), m.span(), None, None, None))
    for m in _PAUSE_SEARCH.finditer(sentence):
        if m.group("times"):
            found.append(("pauses", None, m.span(), m.span("times"), _group(m, "k"), None))
        else:  # pauses counted in words
            found.append(("pauses", None, m.span(), None, None, m.span("n")))
    return tuple(found)


# Every pattern that finds a number or names its unit treats the digits 1-9 alike, so the numbers of a
# sentence stand where those of its copy with 9s stand, under the same units.
_SPANS_DIGIT_BLIND = all(blind_to(p, "123456789") for p in (_MEASURE, _PAUSE_WORDS, _DIGIT, *(u for u, _ in _UNIT_KEYS)))


def _said(sentence: str) -> dict[str, list[frozenset]]:
    """The aspects a sentence makes level statements about, with the levels each allows (shared: read only)."""
    if STATEMENTS_DIGIT_BLIND:  # the same statements whatever numbers the sentence quotes ("about 93 Hz")
        sentence = digits_as_nine(sentence)
    return _statements(sentence)


@lru_cache(maxsize=1 << 14)
def _statements(sentence: str) -> dict[str, list[frozenset]]:
    return {a: s for a, s in level_statements(sentence).items() if s}


def _measured(record: dict, field: str) -> float | None:
    value = record.get(field)
    try:
        return None if value is None or isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        return None


def numeric_problems(record: dict, text: str | None = None, where: str = "rationale") -> list[tuple[str, str]]:
    """("numeric", explanation) for the first number of ``text`` (default: the rationale) that is not the
    record's measurement, is not the graded quantity beside a level, or sits beside a contradicting word."""
    text = record.get("cot_analysis") if text is None else text
    for unit, value, tol, written, sentence in quoted_numbers(text or ""):
        fields = QUANTITIES_BY_UNIT[unit]
        measured = {f: v for f in fields if (v := _measured(record, f)) is not None}
        match = next((f for f, v in measured.items() if abs(v - value) <= tol), None)
        if match is None:
            have = ", ".join(f"{f} = {v:g}" for f, v in measured.items()) or "none of them was measured"
            return [("numeric", f"the {where} says “{written}” but no measured {'/'.join(fields)} rounds to it ({have})")]
        said = _said(sentence)
        cue = UNIT_CUE.get(unit)
        if cue in said and record.get(LEVEL_FIELDS[cue]):
            graded = graded_fact(record, cue)
            if graded is None or graded.field != match:
                basis = graded.field if graded else f"{energy_basis_words(record)}"
                return [("numeric", f"the {where} quotes “{written}” ({match}) beside a statement about {cue}, but "
                                    f"{LEVEL_FIELDS[cue]} was graded on {basis}: the number may disagree with the level")]
            level = record[LEVEL_FIELDS[cue]]
            for allowed in said[cue]:
                if level not in allowed:
                    return [("numeric", f"the {where} puts “{written}” in “{sentence.strip()[:80]}”, whose words "
                                        f"contradict {LEVEL_FIELDS[cue]} = {level}")]
    return []
