"""The grounding reader's substring guards (filter/prefilter.py) skip a pattern only where it cannot match:
rewriting with guards gives the text plain ``re.sub`` in turn gives, on every clause of the project's real
and hand-written rationales and on the demo build's text."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from emotioncot.filter import lexicon as lx
from emotioncot.filter.prefilter import Rewriter, guard_keys, required_literals
from emotioncot.filter.text import QUOTE_MARK, clauses, mask_quotes, sentences, think_part

RATIONALES = Path(__file__).resolve().parent / "data" / "rationales"


def _texts() -> list[str]:
    out = []
    for path in sorted(RATIONALES.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                out += [row[k] for k in ("cot_analysis", "caption") if isinstance(row.get(k), str)]
    return out


def _clauses(texts: list[str]) -> list[str]:
    found = []
    for text in texts:
        for sentence in sentences(mask_quotes(think_part(text))):
            found.append(sentence.lower())
            found += [c.lower().replace(QUOTE_MARK.lower(), " ") for c in clauses(sentence)]
    return found


# Hand-made text on which the phrase rules fire, several of them in one clause and one after another
# (an earlier rewrite brings in what a later pattern reads: "n't" becomes "neg").
FIRING = [
    "her speaking rate is a bit higher than her usual pace, and the pitch level is not only raised",
    "he doesn't raise his voice; the tempo, if anything, is below his usual rate of speech",
    "the melody goes up and down, a sing-song rise-and-fall with lots of pitch variation",
    "she takes her time, drawing the words out under her breath, barely above a whisper",
    "the words tumble out in quick succession at full volume; the voice was raised",
    "the contour stays fairly level with little melodic movement, kind of flat at times",
    "a young adult woman in her twenties, not a little girl or an elderly lady in her seventies",
    "an older man, middle-aged, perhaps a teenager's father; the child's toy is irrelevant",
    "the emotional intensity of her anger, not the vocal effort, carries a fundamental frequency in the mid-range",
]


def test_required_literals_are_the_spellings_a_match_needs():
    assert required_literals(re.compile(r"\bn['’]t\b")) == {"n't", "n’t"}
    assert required_literals(re.compile(r"\b(?:kind|sort) of\b")) == {"kind of", "sort of"}
    assert required_literals(re.compile(r"\bx\w*\s+up(?:ward|wards)?\b")) == {"up", "upward", "upwards"}
    # nothing is promised where case is ignored, or where a pattern needs no fixed text
    assert required_literals(re.compile(r"\bcannot\b", re.I)) is None
    assert required_literals(re.compile(r"(?i:can)not")) == {"not"}
    assert required_literals(re.compile(r"\w+ly\b")) == {"ly"}
    assert required_literals(re.compile(r"\d+|x")) is None
    assert guard_keys(frozenset({"takes her time", "took their time", "taking his time"})) == {"time"}


@pytest.mark.parametrize("table", [lx.PHRASES, lx.AGE_PATTERNS], ids=["phrases", "age"])
def test_every_match_holds_a_guard_key(table):
    rewriter = Rewriter([p for p, _ in table])
    checked = 0
    for text in _clauses(_texts()) + FIRING:
        for pattern, keys in zip(rewriter.patterns, rewriter.guards):
            for m in pattern.finditer(text):
                checked += 1
                assert keys is None or any(k in m.group(0) for k in keys), (pattern.pattern, m.group(0), keys)
    assert checked > 50  # the texts exercise the patterns


def _plain(table, text: str, repls) -> str:
    for (pattern, _), repl in zip(table, repls):
        text = re.sub(pattern, repl, text)
    return text


def test_rewriting_with_guards_equals_plain_substitution(demo_build):
    from emotioncot.pipeline import load_records
    from emotioncot.workspace import Workspace

    demo = [t for r in load_records(Workspace(demo_build)) for t in (r["cot_analysis"], r["caption"])]
    texts = _clauses(_texts() + demo[:120]) + FIRING
    phrases = Rewriter([p for p, _ in lx.PHRASES])
    repls = [r for _, r in lx.PHRASES]
    changed = 0
    for text in texts:
        expected = _plain(lx.PHRASES, text, repls)
        assert phrases.rewrite(text, repls.__getitem__) == expected, text
        changed += expected != text
    assert changed > 100
    # a callable replacement sees the text the earlier patterns left, as with re.sub in turn
    ages = Rewriter([p for p, _ in lx.AGE_PATTERNS])
    for text in texts:
        seen_plain, seen_guarded = [], []
        record = [lambda m, i=i, seen=seen_plain: seen.append((i, m.string, m.group(0))) or " " for i in range(len(lx.AGE_PATTERNS))]
        guarded = [lambda m, i=i, seen=seen_guarded: seen.append((i, m.string, m.group(0))) or " " for i in range(len(lx.AGE_PATTERNS))]
        assert ages.rewrite(text, guarded.__getitem__) == _plain(lx.AGE_PATTERNS, text, record)
        assert seen_guarded == seen_plain


def test_branch_by_branch_search_finds_what_the_alternation_finds():
    from emotioncot.filter.grounding import _STRESS_BEFORE
    from emotioncot.filter.prefilter import FirstMatch, top_level_branches
    from emotioncot.filter.surface import _PROMPT_PHRASES

    assert top_level_branches(r"a[|]b|c[]|]d|(e|f)|[^]|]g") == ["a[|]b", "c[]|]d", "(e|f)", "[^]|]g"]
    texts = _texts() + FIRING + [
        "Speaker: a man\nPitch: high\nThe gold emotion label is anger.",
        "SHE PUTS THE EMPHASIS ON “NOW” AND STRESSES “TODAY”.",  # case ignored by the patterns
        "The ſtress falls on “door” (a long s, which matches s when case is ignored).",
    ]
    found = 0
    from emotioncot.filter.numeric import _PAUSE_WORDS
    from emotioncot.filter.surface import _MARKUP

    texts += ["- a list item\n## a heading\nStep 2: **bold** and __bold__; she pauses twice, then three pauses."]
    for pattern in (_PROMPT_PHRASES, _STRESS_BEFORE, _PAUSE_WORDS, *(m.pattern for m, _ in _MARKUP)):
        split = FirstMatch(pattern)
        for text in texts:
            spans = [m.span() for m in pattern.finditer(text)]
            assert [m.span() for m in split.finditer(text)] == spans, text
            whole, first = pattern.search(text), split.search(text)
            assert (whole and whole.span()) == (first and first.span())
            found += len(spans)
    assert found > 40
