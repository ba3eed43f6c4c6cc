"""Text helpers shared by the checks: think/answer parts, quoted spans, sentences, clauses, words.

Quoted spans are masked before a rationale is read for claims: the quoted transcription ("I hate him")
says nothing about how the clip sounds, and its pronouns are not the speaker's.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from emotioncot.filter.prefilter import blind_to

THINK_ANSWER = re.compile(r"^\s*<think>(.+?)</think>\s*<answer>(.+?)</answer>\s*$", re.S)
_TAG = re.compile(r"</?(think|answer)>")
_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.S)

# Double quotes of any style; single quotes only where they cannot be an apostrophe. The apostrophe test
# looks back from after the quote ("'(?<![\w’']')", the same as "(?<![\w’'])'"): every branch then opens
# with a quote mark, and the regex engine skips straight to those instead of trying each position.
_QUOTED = re.compile(
    r"“[^”]*”|„[^“”]*[“”]|\"[^\"]*\"|‘[^’]*’|«[^»]*»|'(?<![\w’']')(?:[^'\n]|'(?=\w))+'(?![\w])"
)
QUOTE_MARK = "QQ"  # placeholder word that stands where a quoted span was
_QUOTE_OPENERS = "“„\"‘«'"  # every quoted span starts with one of these


_QUOTE_OPENER = re.compile(f"[{re.escape(_QUOTE_OPENERS)}]")  # one scan for any of them


def _may_quote(text: str) -> bool:
    return _QUOTE_OPENER.search(text) is not None

# The checks of one record read the same text many times over (think part, masked quotes, sentences):
# each is worked out once per text. Small: only the texts of the record at hand need to stay.
_PER_TEXT = lru_cache(maxsize=256)

_WORD = re.compile(r"[\w][\w'’-]*")


@_PER_TEXT
def think_part(text: str) -> str:
    """The reasoning part: the <think> contents when tagged, else the whole text."""
    if "<" not in (text or ""):  # no tag of any kind: the three patterns below have nothing to find
        return (text or "").strip()
    m = THINK_ANSWER.match(text or "")
    if m:
        return m.group(1).strip()
    return _TAG.sub(" ", _ANSWER.sub(" ", text or "")).strip()


def answer_part(text: str) -> str | None:
    m = _ANSWER.search(text or "")
    return m.group(1).strip() if m else None


def quoted_spans(text: str) -> list[str]:
    """The contents of every quoted span, quote marks stripped."""
    return [m.group(0)[1:-1] for m in _QUOTED.finditer(text)]


@_PER_TEXT
def mask_quotes(text: str) -> str:
    """Each quoted span replaced by a placeholder word, so that claims are read outside quotes only."""
    def mark(m: re.Match) -> str:
        # keep a sentence end inside the quote visible: '... says “Are we late?” Her pitch ...' is two sentences
        inner = m.group(0)[1:-1].rstrip()
        return f" {QUOTE_MARK}{inner[-1] if inner[-1:] in ('.', '!', '?') else ''} "

    return _QUOTED.sub(mark, text) if _may_quote(text) else text


@_PER_TEXT
def mask_transcript_quotes(text: str, transcript: str | None) -> str:
    """Like ``mask_quotes``, but only spans that quote the transcription (or a part of it) are masked; other
    quoted text loses its quote marks and is read like the rest: a model that writes ``a "low" pitch`` or
    ``the gold emotion label "angry"`` makes a claim. Without a transcription every span is masked."""
    if not _may_quote(text):
        return text
    if not _normal_tokens(transcript or ""):
        return mask_quotes(text)

    def mark(m: re.Match) -> str:
        return _quote_mark(m.group(0), transcript)

    return _QUOTED.sub(mark, text)


@lru_cache(maxsize=1 << 12)  # a quote recurs with its transcription (the transcription itself, a stressed word)
def _quote_mark(quote: str, transcript: str) -> str:
    """What ``mask_transcript_quotes`` puts for one quoted span (quote marks included): the placeholder where it
    quotes the transcription, else its words without the marks."""
    inner = quote[1:-1]
    toks = _normal_tokens(inner)
    if toks and sum(t in _transcript_words(transcript) for t in toks) >= 0.75 * len(toks):
        return mask_quotes(quote)
    return f" {inner} "


@lru_cache(maxsize=256)
def _transcript_words(transcript: str) -> frozenset:
    return frozenset(_normal_tokens(transcript))


def words(text: str) -> list[str]:
    return _WORD.findall(text)


# On ASCII text a word (a word character, then word characters, apostrophes and hyphens) is a run of those
# characters that holds a word character: with apostrophes and hyphens deleted and every other non-word
# byte blanked, bytes.split() finds each one in one pass.
_ASCII_WORD_RUNS = bytes(c if chr(c).isalnum() or c == ord("_") else ord(" ") for c in range(128)) + b" " * 128


def word_count(text: str) -> int:
    if text.isascii():
        return len(text.encode("ascii").translate(_ASCII_WORD_RUNS, b"'-").split())
    return len(words(text))


_NORMAL_WORD = re.compile(r"[^\W_]+")
# ASCII letters lower-cased, digits kept, every other byte blanked (apostrophes are deleted before)
_ASCII_NORMAL_RUNS = bytes(c | 0x20 if chr(c).isalpha() else c if chr(c).isdigit() else 0x20 for c in range(128)) + b" " * 128


def normalize_tokens(text: str) -> list[str]:
    """Lower-case word tokens without punctuation or accents, apostrophes unified ("I’m" == "im")."""
    return list(_normal_tokens(text or ""))


@_PER_TEXT  # the transcription alone is read by four checks of a record
def _normal_tokens(text: str) -> tuple[str, ...]:
    if text.isascii():  # nothing to decompose, no combining marks, no ’; the words are the runs of [a-z0-9]
        return tuple(text.encode("ascii").translate(_ASCII_NORMAL_RUNS, b"'").decode("ascii").split())
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.lower().replace("’", "'").replace("'", "")
    return tuple(_NORMAL_WORD.findall(text))


# "(?<=[.!?])\s+" written as "\s(?<=[.!?]\s)\s*" (the same matches): opening with a space, not a look-behind,
# lets the regex engine skip to spaces.
_SENTENCE_END = re.compile(r"\s(?<=[.!?]\s)\s*(?=[A-Z“\"‘(\[]|QQ)|\n\s*\n")


def sentences(text: str) -> list[str]:
    """Sentences of a text (call on masked text so quoted punctuation does not split)."""
    return list(_sentences(text))


@_PER_TEXT
def _sentences(text: str) -> tuple[str, ...]:
    return tuple(filter(None, map(str.strip, _SENTENCE_END.split(text))))  # the non-blank parts, stripped (in C)


# Clause breaks: punctuation that separates statements, and conjunctions that start a new one. Every break
# opens with a space, a comma or one of the marks; the look-ahead says so, and the regex engine then skips
# to those characters instead of trying each position (the same matches).
_CLAUSE_BREAK = re.compile(
    r"(?=[\s,;:()\u2014\u2013])"
    r"(?:\s*[;:()\u2014\u2013]\s*|\s+-\s+|,?\s+\b(?:but|while|whereas|although|though|yet|which|whose|so)\b\s+)",
    re.I,
)


def text_patterns() -> tuple[re.Pattern, ...]:
    """The patterns that think_part, mask_quotes, sentences and clauses read a text with."""
    return THINK_ANSWER, _TAG, _ANSWER, _QUOTED, _SENTENCE_END, _CLAUSE_BREAK


def clauses(sentence: str) -> list[str]:
    return list(_clauses(sentence))


@lru_cache(maxsize=1 << 14)  # sentences recur across records (the template's, a model's stock phrasing)
def _clauses(sentence: str) -> tuple[str, ...]:
    # a sentence that differs from another only by its numbers breaks at the same places: read those once
    breaks = _breaks(digits_as_nine(sentence) if _CLAUSE_BREAK_DIGIT_BLIND else sentence)
    if not breaks:
        return (sentence,) if sentence.strip() else ()
    starts = (0, *(end for _, end in breaks))
    ends = (*(start for start, _ in breaks), len(sentence))
    return tuple([c for c in [sentence[a:b] for a, b in zip(starts, ends)] if c.strip()])


@lru_cache(maxsize=1 << 14)
def _breaks(sentence: str) -> tuple[tuple[int, int], ...]:
    """Where the clause breaks of a sentence are (the matches ``_CLAUSE_BREAK.split`` splits at)."""
    if sentence.isascii() and not any(map(sentence.__contains__, _BREAK_MARKS)) \
            and _BREAK_WORDS.isdisjoint(sentence.lower().split()):
        return ()  # no mark a break holds, and no conjunction standing between spaces: nothing to break at
    return tuple(m.span() for m in _CLAUSE_BREAK.finditer(sentence))


# Every break holds one of these marks or, between white space, one of these words (in any case; on ASCII
# text, where ignoring case folds ASCII letters only, the lower-cased word).
_BREAK_MARKS = ";:()-\u2014\u2013"
_BREAK_WORDS = frozenset({"but", "while", "whereas", "although", "though", "yet", "which", "whose", "so"})


# Digits 1-8 written as 9: a text that differs from another only by its numbers ("about 93 Hz", "about 211
# Hz") then reads the same to a pattern that treats the digits 1-9 alike (prefilter.blind_to), so a reading
# kept for one serves the other. 0 is left alone ("f0" is a word of the lexicon).
OTHER_DIGIT = re.compile("[1-8]")


@lru_cache(maxsize=1 << 12)  # one sentence is asked for by several readers (claims, sides, balance, numbers)
def digits_as_nine(text: str) -> str:
    """``text`` with its digits 1-8 written as 9 (the text itself when it has none)."""
    return OTHER_DIGIT.sub("9", text)


_CLAUSE_BREAK_DIGIT_BLIND = blind_to(_CLAUSE_BREAK, "123456789")
