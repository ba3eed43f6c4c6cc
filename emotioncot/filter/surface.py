"""Surface checks of one rationale: length, language, <think>/<answer> format, transcription quoted."""

from __future__ import annotations

import re
from collections import Counter
from difflib import SequenceMatcher
from itertools import chain

from emotioncot.filter.prefilter import FirstMatch
from emotioncot.filter.text import THINK_ANSWER, answer_part, mask_quotes, normalize_tokens, think_part, word_count
from emotioncot.taxonomy import normalize_emotion


def length_problems(text: str, min_words: int, max_words: int) -> list[tuple[str, str]]:
    n = word_count(think_part(text))
    if n < min_words:
        return [("length_short", f"rationale has {n} words, fewer than {min_words}")]
    if n > max_words:
        return [("length_long", f"rationale has {n} words, more than {max_words}")]
    return []


def format_problems(text: str, require_format: bool) -> list[tuple[str, str]]:
    has_tags = bool(re.search(r"</?(think|answer)>", text))
    if has_tags:
        if not THINK_ANSWER.match(text):
            return [("format", "has <think>/<answer> tags that are not one <think>…</think><answer>…</answer> pair")]
        answer = answer_part(text) or ""
        if normalize_emotion(answer) is None:
            return [("format", f"<answer> holds {answer[:40]!r}, which is not one emotion label")]
        return []
    if require_format:
        return [("format", "lacks the <think>…</think><answer>…</answer> format")]
    return []


# Short function-word lists: enough to tell the language of a 50-200 word paragraph.
FUNCTION_WORDS = {
    "en": "the and of to a in is that it with as for this on are be by an or which at from was his her their".split(),
    "de": "der die das und ist nicht ein eine zu den mit sich des auf für im dem von wird auch es".split(),
    "fr": "le la les et est un une des du que qui dans pour pas sur au avec il elle ce se".split(),
    "es": "el la los las y es un una que de en por con para del se no su al lo como".split(),
    "it": "il la le e di che un una per non in con del della sono è si lo gli da".split(),
    "pt": "o a os as e de que um uma do da em para com não se no na por é".split(),
    "nl": "de het een en van is dat niet op te in met voor zijn die er ook".split(),
}
_FUNCTION_WORD_SETS = {lang: frozenset(words) for lang, words in FUNCTION_WORDS.items()}
_LETTERS = re.compile(r"[^\W\d_]+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
# The languages each function word counts for.
_LANGUAGES_OF: dict[str, list[str]] = {}
for _lang, _words in _FUNCTION_WORD_SETS.items():
    for _w in _words:
        _LANGUAGES_OF.setdefault(_w, []).append(_lang)
# On ASCII text the words of _LETTERS, lower-cased, are the runs of letters: with letters lower-cased and
# every other byte blanked, str.split() finds them in one pass.
_ASCII_LETTER_RUNS = bytes(c | 0x20 if chr(c).isalpha() else 0x20 for c in range(128)) + b" " * 128


def detect_language(text: str) -> str | None:
    """A best guess of the language of ``text`` (quoted text ignored), or None when too short to tell."""
    text = mask_quotes(think_part(text))
    if text.isascii():  # no CJK character to count
        tokens = text.encode("ascii").translate(_ASCII_LETTER_RUNS).decode("ascii").split()
    elif _CJK.search(text) and len(_CJK.findall(text)) > 0.3 * max(1, len(re.sub(r"\s", "", text))):
        return "zh/ja/ko"
    else:
        tokens = [t.lower() for t in _LETTERS.findall(text)]
    if len(tokens) < 8:
        return None
    # each function word counted once for every language it belongs to, in C: the only words a score counts
    totals = Counter(chain.from_iterable(map(_LANGUAGES_OF.__getitem__, filter(_LANGUAGES_OF.__contains__, tokens))))
    scores = {lang: totals[lang] / len(tokens) for lang in _FUNCTION_WORD_SETS}
    best = max(scores, key=scores.get)
    return best if scores[best] >= 0.08 else "unknown"


def language_problems(text: str, expected: str | None) -> list[tuple[str, str]]:
    if not expected:
        return []
    found = detect_language(text)
    if found is None or found == expected or (expected not in FUNCTION_WORDS and found == "unknown"):
        return []
    return [("language", f"rationale reads as {found!r}, not the expected language {expected!r}")]


def transcript_problems(text: str, transcript: str | None, min_similarity: float, long_words: int, min_excerpt_words: int) -> list[tuple[str, str]]:
    """The transcription must be quoted, allowing for small differences of punctuation, case and wording."""
    target = normalize_tokens(transcript or "")
    if not target:
        return []
    tokens = normalize_tokens(think_part(text))
    n = len(target)
    if " ".join(target) in " ".join(tokens):
        return []
    if n > long_words:
        # long transcriptions may be quoted in part: a verbatim excerpt is enough
        match = SequenceMatcher(None, tokens, target, autojunk=False).find_longest_match(0, len(tokens), 0, n)
        if match.size >= min_excerpt_words:
            return []
        return [("transcript_not_quoted", f"no excerpt of {min_excerpt_words}+ words of the transcription is quoted")]
    best = 0.0
    for width in {max(1, n - 1), n, n + 1}:
        for start in range(0, max(1, len(tokens) - width + 1)):
            ratio = SequenceMatcher(None, tokens[start : start + width], target, autojunk=False).ratio()
            if ratio > best:
                best = ratio
                if best == 1.0:
                    return []
    if best >= min_similarity:
        return []
    return [("transcript_not_quoted", f"the transcription “{(transcript or '').strip()[:60]}” is not quoted (best match {best:.2f})")]


# ---------------------------------------------------------------- form: prose, not Markdown

_MARKUP = [  # each run only on text that holds what it needs ("#", "**", "step": prefilter.FirstMatch)
    (FirstMatch(re.compile(r"^\s*(?:[-*•+]|\d{1,2}[.)])\s+\S", re.M)), "a list item"),
    (FirstMatch(re.compile(r"^\s*#{1,6}\s+\S", re.M)), "a Markdown heading"),
    (FirstMatch(re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__")), "bold text"),
    (FirstMatch(re.compile(r"\bstep\s+\d+\s*[:.)]", re.I)), "a numbered step"),
]


def markup_problems(text: str, code: str = "format_markup") -> list[tuple[str, str]]:
    """The prompts ask for plain prose; lists, headings, bold and numbered steps are rejected."""
    for pattern, what in _MARKUP:
        m = pattern.search(text or "")
        if m:
            return [(code, f"has {what} (“{m.group(0).strip()[:40]}”); plain prose is required")]
    return []


# ---------------------------------------------------------------- text copied from the prompt

# Headers and instructions of this project's prompts, old and new, that small models copy into their
# answers ("Measured cues: ...", "The gold emotion label ...", "without opening with it").
_PROMPT_PHRASES = re.compile(
    r"\bgold (?:emotion )?label\b|\bmeasured cues\b|\bwithout opening with it\b|\bthe final sentence of the reasoning\b"
    r"|\bstyle for this one\b|\bhow the voice measured\b|\bcompared with similar speakers\b|\bin your last sentence\b"
    r"|^\s*(?:speaker|transcription|the words are|style|emotion label)\s*:"
    r"|^\s*[-*]?\s*(?:pitch|loudness|speaking rate|pauses|melody \(intonation\)|stressed words|duration)\s*:\s",
    re.I | re.M,
)
_PROMPT_SEARCH = FirstMatch(_PROMPT_PHRASES)  # the same first match, skipping branches the text cannot hold
_SHINGLE = 7


def _prompt_shingles() -> frozenset:
    """7-word runs of the fixed text (placeholders removed) of the prompt files in prompts/."""
    from emotioncot.config import project_root

    out = set()
    for path in sorted((project_root() / "prompts").glob("*.md")):
        body = path.read_text(encoding="utf-8").split("---", 2)[-1]
        for chunk in re.split(r"\{[^{}]*\}", body):
            toks = normalize_tokens(chunk)
            out.update(tuple(toks[i : i + _SHINGLE]) for i in range(len(toks) - _SHINGLE + 1))
    return frozenset(out)


_SHINGLES: frozenset | None = None
_PROMPT_WORDS: frozenset = frozenset()  # every word of those runs


_RUN = b"\x01" * _SHINGLE  # seven prompt words in a row


def _first_shingle(toks: list[str]) -> int | None:
    """Where the first 7-word run of ``toks`` that is a prompt shingle starts. Only runs of prompt words
    are looked up: a window holding any other word is no shingle. Which tokens are prompt words is one byte
    each (tested in C), and the windows of seven of them are found by bytes.find, in order."""
    held = bytes(map(_PROMPT_WORDS.__contains__, toks))
    at = held.find(_RUN)
    while at >= 0:
        if tuple(toks[at : at + _SHINGLE]) in _SHINGLES:
            return at
        at = held.find(_RUN, at + 1)
    return None


def copied_prompt_problems(text: str, code: str = "copied_prompt") -> list[tuple[str, str]]:
    """Prompt headers or instructions repeated in the answer (they read badly in a dataset)."""
    global _SHINGLES, _PROMPT_WORDS
    m = _PROMPT_SEARCH.search(text or "")
    if m:
        return [(code, f"repeats the prompt (“{m.group(0).strip()[:50]}”)")]
    if _SHINGLES is None:
        _SHINGLES = _prompt_shingles()
        _PROMPT_WORDS = frozenset(tok for shingle in _SHINGLES for tok in shingle)
    toks = normalize_tokens(text or "")
    i = _first_shingle(toks)
    if i is not None:
        return [(code, f"repeats the prompt (“{' '.join(toks[i : i + _SHINGLE])}”)")]
    return []
