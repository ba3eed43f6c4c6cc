"""The filter's fast paths read what the plain ones read: rewritten regexes match where the originals did,
ASCII shortcuts give the Unicode paths' words, substring guards never skip a match, and the cached and
shortened look-ups give the answers of the loops they replace. Random texts are drawn from the characters
the patterns care about, so that the corner cases (quotes against apostrophes, a sentence end before a
quote mark, words inside words) come up thousands of times."""

from __future__ import annotations

import random
import re
import string
from collections import Counter

import pytest

# The patterns as they were written before the rewrite (commit 2844aa1), the reference for the new ones.
OLD_QUOTED = re.compile(r"“[^”]*”|„[^“”]*[“”]|\"[^\"]*\"|‘[^’]*’|«[^»]*»|(?<![\w’'])'(?:[^'\n]|'(?=\w))+'(?![\w])")
OLD_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z“\"‘(\[]|QQ)|\n\s*\n")
OLD_CLAUSE_BREAK = re.compile(
    r"\s*[;:()\u2014\u2013]\s*|\s+-\s+|,?\s+\b(?:but|while|whereas|although|though|yet|which|whose|so)\b\s+", re.I)


def _texts(alphabet: str, n: int, longest: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    return ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, longest))) for _ in range(n)]


WORDY = ["it's", "'Kids'", "the", "sad", "sadly", "mad", "made", "angry", "not", "he", "she", "’", "“", "”", "\"",
         "'", "‘", "«", "»", "„", ".", "!", "?", " ", "\n", "QQ", "A", "Kids", "café", "naïve", "matter-of-fact", "x"]


def _phrases(n: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    return ["".join(rnd.choice(WORDY) + rnd.choice(["", " "]) for _ in range(rnd.randint(0, 12))) for _ in range(n)]


def test_quote_sentence_and_clause_patterns_match_where_the_originals_did():
    from emotioncot.filter.text import (_BREAK_WORDS, _CLAUSE_BREAK, _QUOTED, _SENTENCE_END, _breaks, _clauses, _may_quote,
                                        _sentences)

    texts = _texts("ab'’\"“”‘«»„ \n.!?QA(", 20000, 30, 1) + _phrases(20000, 2)
    texts += _texts(" ,;:()\u2014\u2013-\tab1907", 10000, 20, 10)
    texts += [" ".join(random.Random(i).choices(["but", "So", "yet", "which", ",", "-", "x", "\u2014", "("], k=8)) for i in range(5000)]
    texts += ["".join(random.Random(i).choices(["But", "so", "whose", "sounds", "also", "x", " ", " ", "\t", "\n", ",", ";", "-"], k=9))
              for i in range(5000)]
    for text in texts:
        assert [m.span() for m in _QUOTED.finditer(text)] == [m.span() for m in OLD_QUOTED.finditer(text)], text
        assert _SENTENCE_END.split(text) == OLD_SENTENCE_END.split(text), text
        assert _CLAUSE_BREAK.split(text) == OLD_CLAUSE_BREAK.split(text), text
        assert _clauses(text) == tuple(c for c in OLD_CLAUSE_BREAK.split(text) if c and c.strip()), text
        assert _sentences.__wrapped__(text) == tuple(p.strip() for p in OLD_SENTENCE_END.split(text) if p and p.strip()), text
        assert _may_quote(text) == any(c in text for c in "“„\"‘«'"), text
        assert _breaks.__wrapped__(text) == tuple(m.span() for m in _CLAUSE_BREAK.finditer(text)), text
    # the words the shortcut looks for are the pattern's own
    assert _BREAK_WORDS == set(re.search(r"\(\?:(but\|[^)]*)\)", _CLAUSE_BREAK.pattern).group(1).split("|"))


def test_ascii_shortcuts_give_the_unicode_words():
    from emotioncot.filter import grounding, surface, text as tx

    texts = _texts(string.printable, 5000, 60, 3) + _phrases(5000, 4) + _texts("aB'-’ 1.", 5000, 12, 15)
    for text in texts:
        assert tx.word_count(text) == len(tx.words(text)), text
        unicode_path = tuple(tx._NORMAL_WORD.findall(text.lower().replace("’", "'").replace("'", "")))
        assert grounding._gender_tokens(text) == grounding._GENDER_TOKEN.findall(text.lower()), text
        if text.isascii():
            assert tx._normal_tokens.__wrapped__(text) == unicode_path, text
            runs = text.encode("ascii").translate(surface._ASCII_LETTER_RUNS).decode("ascii").split()
            assert runs == [t.lower() for t in surface._LETTERS.findall(text)], text


def test_language_scores_count_the_same_words():
    from emotioncot.filter.surface import FUNCTION_WORDS, detect_language

    words = [w for ws in FUNCTION_WORDS.values() for w in ws] + ["voice", "Pitch", "DER", "la", "x"]
    rnd = random.Random(5)
    for _ in range(3000):
        text = "".join(rnd.choice(words) + rnd.choice([" ", " ", ", ", "_", "2", ". "]) for _ in range(rnd.randint(0, 30)))
        tokens = [t.lower() for t in re.findall(r"[^\W\d_]+", text)]
        expected = None
        if len(tokens) >= 8:
            counts = Counter(tokens)
            scores = {lang: sum(counts[w] for w in set(ws) if w in counts) / len(tokens) for lang, ws in FUNCTION_WORDS.items()}
            best = max(scores, key=scores.get)
            expected = best if scores[best] >= 0.08 else "unknown"
        assert detect_language(text) == expected, text


@pytest.mark.parametrize("name", ["_OPPOSE", "_SUPPORT", "_NEITHER", "_REFERENCE_AGAINST", "_COUNT_FOR", "_COUNT_AGAINST",
                                  "_FEWER_AGAINST", "_AGAINST_FIRST", "_EVEN"])
def test_a_guard_never_skips_a_match(name):
    from emotioncot.filter import argument

    pattern = getattr(argument, name)
    guard = argument._GUARD[pattern]
    pieces = [p for keys in guard.needs for p in keys] + ["Against", "FOR", "two", "one cue", "x", " ", ",", "."]
    rnd = random.Random(6)
    skipped = 0
    for _ in range(4000):
        text = " ".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 8)))
        if not guard.may_match(text):
            skipped += 1
            assert pattern.search(text) is None, text
        assert (guard.search(text) is None) == (pattern.search(text) is None), text
    assert skipped, "the random texts never exercised the guard"


def test_named_emotions_are_the_patterns_that_match():
    from emotioncot.filter.argument import _emotions_named
    from emotioncot.filter.label import PATTERNS, WORDS

    vocabulary = [w for ws in WORDS.values() for w in ws] + ["Sadly", "MADE", "unhappiness", "calmly", "fear-", "the", "é"]
    rnd = random.Random(7)
    for _ in range(4000):
        text = rnd.choice(["", " "]).join(rnd.choice(vocabulary) + rnd.choice(["", " ", "-", ",", "s"])
                                          for _ in range(rnd.randint(0, 4)))
        assert _emotions_named.__wrapped__(text) == frozenset(e for e, p in PATTERNS.items() if p.search(text)), text


def test_prompt_shingles_are_found_where_the_window_scan_finds_them():
    from emotioncot.filter import surface

    surface.copied_prompt_problems("warm the shingles")
    shingles = sorted(surface._SHINGLES)
    rnd = random.Random(8)
    pool = [t for s in shingles[:40] for t in s] + ["voice", "pitch", "zebra"]
    for _ in range(3000):
        toks = [rnd.choice(pool) for _ in range(rnd.randint(0, 20))]
        if rnd.random() < 0.3:
            at = rnd.randint(0, len(toks))
            toks[at:at] = list(rnd.choice(shingles))
        window = next((i for i in range(len(toks) - surface._SHINGLE + 1)
                       if tuple(toks[i : i + surface._SHINGLE]) in surface._SHINGLES), None)
        assert surface._first_shingle(toks) == window, toks


def test_mentions_and_inferred_emotion_read_every_match():
    from emotioncot.filter import label

    vocabulary = [w for ws in label.WORDS.values() for w in ws] + ["not", "Sad", "ANGER", "made", "The", ".", "calmly"]
    rnd = random.Random(9)
    for _ in range(3000):
        text = " ".join(rnd.choice(vocabulary) for _ in range(rnd.randint(0, 6))) + rnd.choice(["", "."])
        for emotion, pattern in label.PATTERNS.items():
            masked = label._mask(text, None)
            expected = [m.group(0) for m in pattern.finditer(masked) if not label._denied(masked, m)]
            assert label.mentions(text, emotion) == expected, (text, emotion)
        closing = label.conclusion(text)
        last = max(((m.start(), i, e) for i, (e, p) in enumerate(label.PATTERNS.items())
                    for m in p.finditer(closing) if not label._denied(closing, m)), default=None)
        # the last match wins; at one position the first emotion in order (a later one needs a later start)
        firsts = {}
        for i, (e, p) in enumerate(label.PATTERNS.items()):
            for m in p.finditer(closing):
                if not label._denied(closing, m):
                    firsts.setdefault(m.start(), e)
        expected = None if last is None else firsts[last[0]]
        assert label.inferred_emotion(text) == expected, text


def test_blind_to_rejects_what_tells_digits_apart():
    from emotioncot.filter.prefilter import blind_to

    digits = "123456789"
    for source in (r"[a-z0-9]+", r"\d+(?:[.,]\d+)?", r"\w{2,3}", r"(?<![\w.,])x", r"[^a-z]", r"f0", r"\bup\b"):
        assert blind_to(re.compile(source), digits), source
    for source in (r"f1", r"[1-5]", r"[^5]", r"(\d)\1", r"20s", r"(?i:x7)"):
        assert not blind_to(re.compile(source), digits), source


def test_the_numbers_a_clause_quotes_do_not_change_what_it_claims(monkeypatch):
    from emotioncot.filter import grounding, lexicon as lx, numeric

    assert grounding._DIGIT_BLIND and grounding.STATEMENTS_DIGIT_BLIND  # else the shortcut is off: nothing to test
    words = sorted({*lx.SELF, *lx.AMBIGUOUS, *lx.ASPECT_NOUNS, *lx.NEGATORS, *lx.HEDGES, *lx.RISE, *lx.FALL, *lx.FLAT,
                    *lx.END_WORDS, *lx.GENERIC_MARKERS, "the", "and", "or", "is", "voice", "pitch"})
    numbers = ["93", "4.6", "0.5", "12", "f0", "F0", "f1", "180 Hz", "3 semitones", "(about 211 Hz)", "1-2", "7th"]
    rnd = random.Random(11)
    texts = [" ".join(rnd.choice(words if rnd.random() < 0.7 else numbers) for _ in range(rnd.randint(1, 9)))
             + rnd.choice(["", ".", " at the end."]) for _ in range(3000)]
    # sentences of several clauses, some with numbers and some without: a sentence's claims are read from its
    # copy with 9s only where that gives this sentence's words
    breaks = ["; ", ", but ", " (", ") ", " - ", ", which ", ": "]
    texts += [rnd.choice(breaks).join(rnd.choice(texts[:3000]) for _ in range(rnd.randint(2, 4))) for _ in range(2000)]

    def read():
        for f in (grounding._level_claims, grounding._intonation_claims, grounding._prepare, grounding._sentence_claims,
                  numeric._statements):
            f.cache_clear()
        return [(grounding._level_claims(t), grounding._level_claims(t, False), grounding._intonation_claims(t),
                 grounding._sentence_claims(t), grounding._sentence_claims(t, False), numeric._said(t)) for t in texts]

    fast = read()
    monkeypatch.setattr(grounding, "_DIGIT_BLIND", False)
    monkeypatch.setattr(grounding, "STATEMENTS_DIGIT_BLIND", False)
    monkeypatch.setattr(numeric, "STATEMENTS_DIGIT_BLIND", False)
    assert read() == fast
    assert sum(bool(re.search("[1-8]", t)) and any(r) for t, r in zip(texts, fast)) > 100  # claims with numbers came up
    # sentences with numbers whose claims quote clauses without them, and ones whose claims quote a 9 there: both paths
    nine = [grounding._sentence_claims(grounding.digits_as_nine(t))[0] for t in texts[3000:] if re.search("[1-8]", t)]
    assert sum(bool(c) and not any("9" in x.context for x in c) for c in nine) > 100
    assert sum(any("9" in x.context for x in c) for c in nine) > 100


def test_the_argument_reads_the_same_whatever_the_numbers(monkeypatch):
    import json
    from pathlib import Path

    from emotioncot.filter import argument
    from emotioncot.filter.io import canonical

    assert argument._DIGIT_BLIND  # else the shortcut is off: nothing to test
    rows = [json.loads(line) for path in sorted((Path(__file__).parent / "data" / "rationales").glob("*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    extra = ["Two cues speak for it and 3 against, at 182 Hz.", "The 4.2 syllables per second pace suggests anger.",
             "So 1 cue for it and two against; the 7 dB rise is against it.", "The pitch (211 Hz) fits sadness clearly.",
             "Cues against outnumber those for it by 2 to 1.", "The 3 semitone range is no sign either way.",
             "The high 182 Hz pitch suggests anger.", "The slow pace of 3.1 syllables per second argues against joy."]
    rnd = random.Random(12)
    records = []
    for row in rows:
        record = canonical(row)
        text = record.get("cot_analysis") or ""
        records.append(record)
        records.append({**record, "cot_analysis": text + " " + " ".join(rnd.sample(extra, 3))})

    def read():
        for f in (argument._side, argument._mentioned, argument._emotions_named, argument._balance_reading,
                  argument._balance_of, argument._sided_clauses):
            f.cache_clear()
        # the clauses that take a side, as written (the explanations quote them), and the problems
        sided = [argument._sided_clauses(s) for r in records for s in argument.sentences(r.get("cot_analysis") or "")]
        return [argument.argument_problems(r) for r in records], sided

    fast = read()
    monkeypatch.setattr(argument, "_DIGIT_BLIND", False)
    assert read() == fast
    assert any(any(re.search("[1-8]", m) for _, m in problems) for problems in fast[0])  # counts as written came up
    assert any(re.search("[1-8]", c[0]) for sided in fast[1] for c in sided)  # sided clauses with numbers came up


def test_arguments_read_without_the_sides_of_clauses_of_no_cue(monkeypatch):
    import json
    from pathlib import Path

    from emotioncot.filter import argument
    from emotioncot.filter.io import canonical

    def every_sided_clause(sentence):  # _sided_clauses as it was (796115a): every clause that takes a side
        out = []
        for clause in argument.clauses(sentence):
            side = argument._side(clause)
            if side is not None:
                out.append((clause, side, argument._emotions_named(clause), argument._mentioned(clause)))
        return tuple(out)

    rows = [json.loads(line) for path in sorted((Path(__file__).parent / "data" / "rationales").glob("*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    extra = ["The high pitch fits anger, but the slow pace argues against it.", "This suggests sadness.",
             "The exclamatory form supports it.", "The melody is not what anger brings.", "Nothing argues for fear.",
             "The loud voice is typical of happiness, while the contour is at odds with it.", "It fits, clearly."]
    rnd = random.Random(23)
    records = []
    for row in rows:
        record = canonical(row)
        records.append(record)
        records.append({**record, "cot_analysis": " ".join(rnd.sample(extra, 4))})
    fast = [argument.argument_problems(r) for r in records]
    monkeypatch.setattr(argument, "_sided_clauses", every_sided_clause)
    assert [argument.argument_problems(r) for r in records] == fast
    assert sum("counts the" in m for problems in fast for _, m in problems) > 20  # sides against the table came up


def test_a_rewriter_finds_every_key_a_text_holds():
    from emotioncot.filter import grounding

    for rewriter in (grounding._PHRASES, grounding._AGE_PATTERNS):
        assert rewriter.below  # keys that hold others are looked for below them: the path under test
        pieces = list(rewriter.keys) + [k[:-1] for k in rewriter.keys] + ["s", "ing", " ", "-", "x"]
        rnd = random.Random(13)
        for _ in range(3000):
            text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 6)))
            assert sorted(rewriter._held(text)) == sorted(k for k in rewriter.keys if k in text), text


def test_a_rewriter_runs_the_patterns_every_key_test_would_run():
    from emotioncot.filter import grounding

    for rewriter in (grounding._PHRASES, grounding._AGE_PATTERNS):
        spaced = [k for keys in rewriter._spaced_by_piece.values() for k in keys]
        assert spaced and rewriter._solid  # keys with and without white space: both paths under test
        pieces = list(rewriter.keys) + [k[:-1] for k in rewriter.keys] + [k[1:] for k in spaced]
        pieces += ["s", "ing", " ", "  ", "\t", "\n", "\xa0", "-", "x", ","]
        rnd = random.Random(16)
        for _ in range(6000):
            text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 8)))
            after = rnd.choice([-1, -1, 0, 3, 10])
            assert rewriter._due(text, after) == rewriter._due_plain(text, after), text


def test_branches_anchored_at_line_starts_find_every_match():
    from emotioncot.filter import prefilter, surface

    own = [re.compile(p, f) for p, f in ((r"^\s*-\s+\S|^x", re.M), (r"^\s*-\s+\S|^x", 0), (r"\A\s*x|y", re.M),
                                         (r"^(?:a|-)\s*:", re.M | re.I), (r"^$", re.M))]
    searches = [fm for fm, _ in surface._MARKUP] + [surface._PROMPT_SEARCH] + [prefilter.FirstMatch(p) for p in own]
    anchored = [s for fm in searches for s in fm.starts if s is prefilter._LINE_START or s is prefilter._TEXT_START]
    assert len(anchored) >= 8  # branches opening with "^" and "\A", with re.M and without: the paths under test
    pieces = ["- ", "-", "* ", "1. ", "12) ", "# ", "## x", "**bold**", "step 2:", "Speaker:", "pitch: ", "x", "y", "a:",
              "the", "voice", "\n", "\n", "\n\n", " ", "\t", "\r", "\u2028", ":"]
    rnd = random.Random(19)
    for _ in range(5000):
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 10)))
        for fm in searches:
            for pos in (0, 1, rnd.randint(0, len(text) + 1)):
                m, plain = fm.search(text, pos), fm.pattern.search(text, pos)
                assert (m and m.span()) == (plain and plain.span()), (fm.pattern.pattern, text, pos)
            if not fm.pattern.search(""):  # finditer is for patterns that never match the empty string
                assert [m.span() for m in fm.finditer(text)] == [m.span() for m in fm.pattern.finditer(text)], text


def test_branch_openings_find_every_match():
    from emotioncot.filter import grounding, numeric, surface

    searches = [grounding._STRESS_BEFORE_SEARCH, numeric._PAUSE_SEARCH, surface._PROMPT_SEARCH]
    assert all(fm.starts[-1] for fm in searches[:2])  # openings read inside a group: the path under test
    pieces = ["stresses", "lands", "on", "Leans", "heavily", "the", "word", "\"Kids\"", "“door”", "emphasis", "Stress",
              "two", "pauses", "once", "3", "times", "pause", "A single", "no", "Gold label", ":", "\n", "speaker", ","]
    rnd = random.Random(14)
    for _ in range(4000):
        text = "".join(rnd.choice(pieces) + rnd.choice([" ", " ", "", "\n"]) for _ in range(rnd.randint(0, 10)))
        for fm in searches:
            assert [m.span() for m in fm.finditer(text)] == [m.span() for m in fm.pattern.finditer(text)], text


def _value_as_before(field: str, value):
    """A field's value as filter.io.canonical converted it before its rewrites (commit 796115a)."""
    from emotioncot.filter import io
    from emotioncot.taxonomy import PITCH_LEVELS, SPEED_LEVELS, normalize_emotion

    if field == "emotion":
        value = normalize_emotion(str(value)) or str(value)
    elif field == "gender":
        value = io._GENDER_ALIASES.get(str(value).strip().lower(), str(value))
    elif field == "age_level":
        value = io._AGE_ALIASES.get(str(value).strip().lower().replace("-", " ").replace("_", " "), str(value))
    elif field == "stressed_words":
        value = io._stressed(value)
    elif field == "intonation":
        text = str(value).strip().lower()
        value = io._INTONATION_ALIASES.get(text, text)
    elif field in ("pitch_level", "energy_level"):
        value = io._level(value, PITCH_LEVELS)
    elif field == "speed_level":
        value = io._level(value, SPEED_LEVELS)
    return value


def test_canonical_rows_keep_the_fields_and_order_of_the_comprehension():
    from emotioncot.filter import io

    def reference(row: dict) -> dict:  # canonical() as written before the rewrite
        out = {k: v for k, v in row.items() if k not in io._ALIAS_KEYS}
        for field, names in io.ALIASES.items():
            value = next((row[n] for n in names if n in row and row[n] not in (None, "")), None)
            if value is None:
                continue
            out[field] = _value_as_before(field, value)
        return out

    keys = sorted(io._ALIAS_KEYS) + ["id", "caption", "writer", "f0_median_hz", "meta"]
    values = [None, "", "Angry", "gt", "male", "F", "teen", "Middle-aged", "rise", "High", "low", "Kids, door",
              '["a", "b"]', ["x"], [], 3.5, "neutral", "weird"]
    rnd = random.Random(16)
    for _ in range(3000):
        row = {k: rnd.choice(values) for k in rnd.sample(keys, rnd.randint(0, len(keys)))}
        try:
            expected = list(reference(row).items())
        except TypeError:  # a number for the stressed words: neither reading takes it
            with pytest.raises(TypeError):
                io.canonical(row)
            continue
        assert list(io.canonical(row).items()) == expected, row


def test_numbers_are_read_where_the_copy_with_nines_has_them():
    from emotioncot.filter import numeric

    assert numeric._SPANS_DIGIT_BLIND  # else the shortcut is off: nothing to test

    def reference(sentence: str) -> tuple:  # _sentence_numbers as written before: both patterns on the sentence
        found = []
        for m in numeric._MEASURE.finditer(sentence):
            value, tol = numeric._parse(m.group("num"))
            found.append((numeric._unit_of(m.group("unit")), value, tol, m.group(0).strip()))
        for m in numeric._PAUSE_WORDS.finditer(sentence):
            if m.group("times"):
                k = m.group("k")
                n = numeric._TIMES.get(m.group("times").lower()) if not k else (int(k) if k.isdigit() else numeric._WORD_NUMBERS[k.lower()])
            else:
                n = numeric._WORD_NUMBERS[m.group("n").lower()]
            found.append(("pauses", float(n), 0.5, m.group(0).strip()))
        return tuple(found)

    pieces = ["93", "4.6", "0.5", "-3", "−12", "2,5", "211", "7", "1", "Hz", "kHz", "dB", "dBFS", "dB FS", "semitones",
              "st", "seconds", "s", "sec", "syllables per second", "syl/s", "per", "pauses", "pause", "long", "no", "two",
              "Two", "once", "twice", "times", "3 times", "a single", "about", "(", ")", ",", ".", "the", "f0"]
    rnd = random.Random(17)
    texts = [" ".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 10))) for _ in range(6000)]
    texts += [re.sub("[1-9]", lambda m: rnd.choice("123456789"), t) for t in texts[:2000]]  # other numbers, same places
    numeric._sentence_numbers.cache_clear()
    numeric._number_spans.cache_clear()
    for text in texts:
        assert numeric._sentence_numbers(text) == reference(text), text
    assert numeric._number_spans.cache_info().hits > 500  # numbers found once for sentences alike but for digits
    assert sum(bool(reference(t)) for t in texts) > 2000  # most texts hold a number or a count of pauses


def test_first_match_finds_what_the_markup_patterns_find():
    from emotioncot.filter import surface
    from emotioncot.filter.prefilter import FirstMatch

    searches = [m for m, _ in surface._MARKUP] + [FirstMatch(re.compile(r"\bab+c|x[yz]w|\bq", re.I))]
    pieces = ["**", "__", "*", "_", "-", "•", "+", "#", "##", "1.", "12)", "Step", "step 3:", "STEP", "4", "bold", "x",
              "ab", "ABBC", "xyw", "xzw", "Q", "q", "\n", " "]
    rnd = random.Random(18)
    for _ in range(6000):
        text = "".join(rnd.choice(pieces) + rnd.choice([" ", "", "\n"]) for _ in range(rnd.randint(0, 10)))
        for fm in searches:
            assert [m.span() for m in fm.finditer(text)] == [m.span() for m in fm.pattern.finditer(text)], text
            found, expected = fm.search(text), fm.pattern.search(text)
            assert (found and found.span()) == (expected and expected.span()), text


def test_claims_read_from_the_level_and_contour_words_alone_are_the_plain_loops(monkeypatch):
    from emotioncot.filter import grounding, lexicon as lx

    assert grounding._BY_WORDS  # else the shortcut is off: nothing to test
    words = sorted({*lx.SELF, *lx.AMBIGUOUS, *lx.ASPECT_NOUNS, *lx.NEGATORS, *lx.HEDGES, *lx.RISE, *lx.FALL, *lx.FLAT,
                    *lx.EXPRESSIVE, *lx.CONTOUR_CONTEXT, *lx.END_WORDS, *lx.GENERIC_MARKERS, *lx.LINKING,
                    *lx.DETERMINERS, "the", "and", "or", "nor", ",", "is", "voice", "pitch", "x", "QQ"})
    rnd = random.Random(19)
    texts = [" ".join(rnd.choice(words) for _ in range(rnd.randint(0, 12))) for _ in range(6000)]

    def read():
        for f in (grounding._level_claims, grounding._intonation_claims, grounding._sentence_claims):
            f.cache_clear()
        return [(grounding._level_claims(t), grounding._level_claims(t, False), grounding._intonation_claims(t),
                 grounding._intonation_claims(t, False)) for t in texts]

    fast = read()
    monkeypatch.setattr(grounding, "_BY_WORDS", False)
    assert read() == fast
    assert sum(bool(r[0]) for r in fast) > 1000 and sum(bool(r[2]) for r in fast) > 300  # claims of both kinds came up
    assert sum(r[0] != r[1] for r in fast) > 50  # and clauses whose generic part is read only without skipping it


def test_a_rewriter_gives_what_every_pattern_in_turn_gives():
    from emotioncot.filter import grounding
    from emotioncot.filter.prefilter import required_literals

    for rewriter, repl in ((grounding._PHRASES, grounding._PHRASE_REPLACEMENTS), (grounding._AGE_PATTERNS, None)):
        # the texts are made of what the patterns need ("in his", "forties", "this", ...) and words about them
        pieces = sorted({w for p in rewriter.patterns for lit in (required_literals(p) or ()) for w in (lit, *lit.split())})
        pieces += ["this", "there", "the", "pitch", "voice", "not", ",", "20s", "40s", "90s", "-", "x"]
        rnd = random.Random(21)
        for _ in range(3000):
            text = " ".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 8))).lower()
            replace = repl.__getitem__ if repl else (lambda i: " ")
            expected = text
            for i, pattern in enumerate(rewriter.patterns):
                expected = pattern.sub(replace(i), expected)
            assert rewriter.rewrite(text, replace) == expected, text


def test_age_words_are_read_alike_whatever_the_numbers(monkeypatch):
    from emotioncot.filter import grounding

    assert grounding._AGE_DIGIT_BLIND  # else the shortcut is off: nothing to test
    pieces = ["in his", "in her", "in their", "20s", "30s", "40s", "90s", "25s", "twenties", "young", "adult", "kid",
              "old", "older", "speaker", "voice", "sounds", "a", "the", "this", "93", "4.6", "211 hz", "1", "8", ",", "x"]
    rnd = random.Random(22)
    texts = [" ".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 9))) for _ in range(4000)]
    texts += [re.sub("[1-9]", lambda m: rnd.choice("123456789"), t) for t in texts[:2000]]

    def read():
        grounding._sentence_age_claims.cache_clear()
        return [(grounding._sentence_age_claims(t, True), grounding._sentence_age_claims(t, False)) for t in texts]

    fast = read()
    monkeypatch.setattr(grounding, "_AGE_DIGIT_BLIND", False)
    assert read() == fast
    with_digits = [r for t, r in zip(texts, fast) if re.search("[1-8]", t)]
    assert sum(not any(r) for r in with_digits) > 300 and sum(bool(r[0]) for r in with_digits) > 300


def _canonical_as_before(row: dict) -> dict:
    """filter.io.canonical as it was before its vocabulary words were kept read (commit 796115a)."""
    from emotioncot.filter import io

    out = dict(row)
    for key in io._ALIAS_KEYS.intersection(row):
        del out[key]
    for field, names in io.ALIASES.items():
        for name in names:
            if name in row and row[name] not in (None, ""):
                value = row[name]
                break
        else:
            continue
        out[field] = _value_as_before(field, value)
    return out


def test_canonical_rows_are_those_of_the_plain_conversion():
    from emotioncot.filter import io

    values = ["Angry", " anger.", "ANGRY", "male", "M", " Female ", "woman", "teen", "Young-Adult", "middle_aged", "old",
              "rise", "Fall-Rise", "too short", "LOW", "normal ", "Fast", "slow", "high", "xyz", "", None, 1, 2.5, True,
              ["Kids", "door"], "Kids, door", '["Kids"]', "Kids are talking by the door."]
    keys = [k for names in io.ALIASES.values() for k in names] + ["id", "corpus", "writer"]
    rnd = random.Random(17)
    rows = [{k: rnd.choice(values) for k in rnd.sample(keys, rnd.randint(0, len(keys)))} for _ in range(4000)]
    def outcome(convert, row):
        try:
            out = convert(row)
        except Exception as exc:  # a value neither reads (stressed_words = True): the same error
            return type(exc)
        return out, list(out), [type(v) for v in out.values()]  # the same values, field order and types

    for row in rows + rows:  # the second time round, the words are read already
        assert outcome(io.canonical, row) == outcome(_canonical_as_before, row), row
    a, b = io.canonical({"stressed_words": "Kids, door"}), io.canonical({"stressed_words": "Kids, door"})
    assert a["stressed_words"] is not b["stressed_words"]  # each row owns its list


def test_kept_mentions_are_those_of_the_text_read_again():
    from emotioncot.filter import label
    from emotioncot.taxonomy import EMOTIONS

    pieces = ["angry", "anger", "not", "angrily", "sad", "does not emerge", "rather than", "happy", "the", "clip", "“angry”",
              "\"sad\"", "'happy'", "Kids", "are", "is", "absent", "fear", ".", ",", "QQ"]
    transcripts = [None, "", "angry kids", "sad", "happy days are here"]
    rnd = random.Random(18)
    texts = [" ".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 12))) for _ in range(1500)]
    checked = quoted = 0
    for text in texts + texts:
        for emotion in rnd.sample(EMOTIONS, 3):
            transcript, skip = rnd.choice(transcripts), rnd.random() < 0.8
            expected = label._naming(label._mask(text, transcript), emotion, skip)
            assert label.mentions(text, emotion, skip, transcript) == expected, (text, emotion, transcript)
            checked += bool(expected)
            quoted += bool(expected) and label._may_quote(text)
    assert checked > 500 and quoted > 50  # words found, in texts with quotes and without


def _mask_transcript_quotes_as_before(text: str, transcript: str | None) -> str:
    """text.mask_transcript_quotes as it was before a quote's verdict was kept (commit 796115a)."""
    from emotioncot.filter.text import _QUOTED, _may_quote, mask_quotes, normalize_tokens

    if not _may_quote(text):
        return text
    said = set(normalize_tokens(transcript or ""))
    if not said:
        return mask_quotes(text)

    def mark(m):
        inner = m.group(0)[1:-1]
        toks = normalize_tokens(inner)
        if toks and sum(t in said for t in toks) >= 0.75 * len(toks):
            return mask_quotes(m.group(0))
        return f" {inner} "

    return _QUOTED.sub(mark, text)


def test_transcript_quotes_are_masked_as_before():
    from emotioncot.filter import text as tx

    transcripts = [None, "", "...", "Kids are talking by the door.", "I hate him!", "Kids", "the door", "Café, naïve?"]
    rnd = random.Random(20)
    texts = _phrases(6000, 21) + [" ".join(rnd.choice(['"Kids are talking by the door."', "“I hate him!”", "'Kids'", "‘the door’",
                                                       "«door»", '"low"', "says", "Kids", "the", ".", "QQ", "'s"])
                                           for _ in range(rnd.randint(0, 8))) for _ in range(6000)]
    masked = kept = 0
    for text in texts + texts:  # the second time round, the quotes' verdicts are kept
        transcript = rnd.choice(transcripts)
        expected = _mask_transcript_quotes_as_before(text, transcript)
        assert tx.mask_transcript_quotes.__wrapped__(text, transcript) == expected, (text, transcript)
        masked += "QQ" in expected and "QQ" not in text
        kept += expected != text and "QQ" not in expected
    assert masked > 500 and kept > 500  # quotes of the transcription masked, other quotes kept as words
