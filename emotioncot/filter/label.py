"""The label checks: a label-aware rationale concludes with the gold emotion and does not open with it;
a label-blind one has its inferred emotion recorded, and a disagreement with the gold label is flagged.

Codes: ``label_leading`` (the first sentence names the gold emotion), ``label_conclusion`` (the closing
sentences or the <answer> do not name the gold emotion), ``label_not_inferred`` (blind: no emotion can be
read from the rationale), ``label_disagreement`` (blind: the inferred emotion is not the gold one).
"""

from __future__ import annotations

import re
from functools import lru_cache

from emotioncot.filter.text import _may_quote, answer_part, mask_quotes, mask_transcript_quotes, sentences, think_part
from emotioncot.taxonomy import EMOTION_ALIASES, EMOTIONS, normalize_emotion

# Inflections the alias list does not carry ("angrily", "frustration"); the taxonomy's list stays the source.
_EXTRA = {
    "neutral": ("neutrally", "indifferent", "indifference"),
    "happy": ("happily", "delight", "elation", "joyfully", "cheerfully", "happier"),
    "sad": ("sadly", "sadder", "saddened", "grieving", "mournful", "despair", "dejected"),
    "angry": ("angrily", "irritation", "annoyance", "frustration", "furiously", "outrage", "outraged", "enraged", "angrier"),
    "contempt or disgust": ("disdainful", "disgusted", "distaste", "contemptuously", "scorn"),
    "confused": ("confusedly", "bewilderment", "puzzlement"),
    "whisper": ("whispers",),
    "surprise": ("surprising", "astonishing", "amazed"),
    "fear": ("fearfully", "afraid", "panic", "panicked", "dread", "terror", "frightened"),
}
_NEGATION_BEFORE = re.compile(r"\b(?:not|n['’]t|no|never|rather than|instead of|rules? out|ruling out|than)\s+(?:\w+\s+){0,2}$", re.I)
# "The emotion of anger does not emerge", "anger is absent": the label is named and denied.
_NEGATION_AFTER = re.compile(
    r"^\W*(?:\w+\W+){0,3}?(?:(?:does|do|did|is|was|are|were|can|could|would|will|should|has|have)\s*(?:not|n['’]t)"
    r"|(?:is|was|seems|appears)\s+(?:absent|missing|unlikely|ruled out|out of the question))\b", re.I)


def _pattern(words) -> re.Pattern:
    alts = sorted({w for w in words}, key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(re.escape(a) for a in alts) + r")\b", re.I)


WORDS = {e: EMOTION_ALIASES[e] + _EXTRA.get(e, ()) for e in EMOTIONS}  # the words that name each emotion
PATTERNS = {e: _pattern(words) for e, words in WORDS.items()}

# A pattern above ("\b(?:sad|sadly|...)\b", ignoring case) matches an ASCII text only where the first word of
# one of its words stands whole in the text, lower-cased: those first words, per emotion.
_WORD_RUN = re.compile(r"\w+")
FIRST_WORDS = {e: frozenset(_WORD_RUN.findall(w.lower())[0] for w in words) for e, words in WORDS.items()}
# ASCII word characters (\w) lower-cased, every other byte blanked: str.split() then gives the \w+ runs
_ASCII_WORD_CHARS = bytes(c | 0x20 if chr(c).isalpha() else c if chr(c).isalnum() or c == ord("_") else 0x20
                          for c in range(128)) + b" " * 128


def held_words(text: str) -> set[str] | None:
    """The lower-cased words (``\\w+`` runs) of an ASCII text, to test ``FIRST_WORDS`` against; None for other text,
    where case folding may match more than these words spell."""
    if not text.isascii():
        return None
    return set(text.encode("ascii").translate(_ASCII_WORD_CHARS).decode("ascii").split())


def may_name(emotion: str, held: set[str] | None) -> bool:
    """False only where ``PATTERNS[emotion]`` cannot match the text whose ``held_words`` are ``held``."""
    return held is None or not FIRST_WORDS[emotion].isdisjoint(held)


def _denied(text: str, m: re.Match) -> bool:
    return bool(_NEGATION_BEFORE.search(text[max(0, m.start() - 40) : m.start()])
                or _NEGATION_AFTER.match(text[m.end() : m.end() + 50]))


def _mask(text: str, transcript: str | None) -> str:
    return mask_transcript_quotes(text, transcript) if transcript else mask_quotes(text)


def mentions(text: str, emotion: str, skip_negated: bool = True, transcript: str | None = None) -> list[str]:
    """Words naming ``emotion`` in ``text``, leaving out negated ones ("not angry", "anger does not
    emerge"). Quoted text is excluded; with ``transcript``, only quotes of the transcription are."""
    if not _may_quote(text):  # nothing to mask, whatever the transcription: the reading of this text is kept
        return list(_unquoted_mentions(text, emotion, skip_negated))
    return _naming(_mask(text, transcript), emotion, skip_negated)


@lru_cache(maxsize=1 << 12)  # the opening and closing sentences recur across records (the label check's texts)
def _unquoted_mentions(text: str, emotion: str, skip_negated: bool) -> tuple[str, ...]:
    return tuple(_naming(text, emotion, skip_negated))


def _naming(text: str, emotion: str, skip_negated: bool) -> list[str]:
    """``mentions`` of a text whose quotes are masked already."""
    if not may_name(emotion, held_words(text)):
        return []
    return [m.group(0) for m in PATTERNS[emotion].finditer(text) if not (skip_negated and _denied(text, m))]


def conclusion(text: str, n_sentences: int = 2, transcript: str | None = None) -> str:
    parts = sentences(_mask(think_part(text), transcript))
    return " ".join(parts[-n_sentences:])


def opening(text: str, transcript: str | None = None) -> str:
    parts = sentences(_mask(think_part(text), transcript))
    return parts[0] if parts else ""


def inferred_emotion(text: str, n_sentences: int = 2) -> str | None:
    """The emotion a rationale concludes with: its <answer>, else the last emotion named in the conclusion."""
    answer = answer_part(text)
    if answer is not None:
        return normalize_emotion(answer)
    closing = conclusion(text, n_sentences)
    best, best_pos = None, -1
    held = held_words(closing)
    for emotion in EMOTIONS:
        if not may_name(emotion, held):
            continue
        for m in PATTERNS[emotion].finditer(closing):
            if _denied(closing, m):
                continue
            if m.start() > best_pos:
                best, best_pos = emotion, m.start()
    return best


def label_problems(record: dict, mode: str, n_sentences: int = 2, blind_disagreement: str = "reject") -> tuple[list[tuple[str, str]], str | None]:
    """(problems, inferred emotion for blind records)."""
    text = record.get("cot_analysis") or ""
    gold = record.get("emotion")
    problems: list[tuple[str, str]] = []
    if mode == "blind":
        inferred = record.get("inferred_emotion") or inferred_emotion(text, n_sentences)
        if inferred is None:
            problems.append(("label_not_inferred", "label-blind rationale names no emotion in its conclusion or <answer>"))
        elif gold and inferred != gold and blind_disagreement == "reject":
            problems.append(("label_disagreement", f"label-blind rationale concludes {inferred!r} but the gold label is {gold!r}"))
        return problems, inferred
    if not gold or gold not in PATTERNS:
        return problems, None
    transcript = record.get("transcript") or record.get("transcription")
    first = opening(text, transcript)
    leading = mentions(first, gold, transcript=transcript)
    if leading:
        problems.append(("label_leading", f"opens with the emotion (“{leading[0]}” in the first sentence) instead of reasoning toward it"))
    answer = answer_part(text)
    if answer is not None:
        if normalize_emotion(answer) != gold:
            problems.append(("label_conclusion", f"<answer> is {answer!r}, not the gold emotion {gold!r}"))
    elif not mentions(conclusion(text, n_sentences, transcript), gold, transcript=transcript):
        problems.append(("label_conclusion", f"the closing sentences do not name the gold emotion {gold!r} (or a synonym)"))
    return problems, None
