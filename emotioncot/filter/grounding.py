"""Grounding: what a rationale says about the voice must agree with what was measured.

The reader is deliberately simple and transparent (no model): the rationale is split into sentences and
clauses with quoted text masked; in each clause level words ("high", "quietly", "rapid") are attached to
the aspect they describe (a neighbouring noun such as "pitch" or "pace", or the word itself), read with
their negation ("not particularly fast") and hedging ("slightly raised"), and turned into the set of
levels the statement allows. A statement whose set excludes the measured level is a contradiction.
Statements after a generic or hypothetical marker ("anger would typically bring a louder voice") are
not about this clip and are skipped.

Each contradiction has its own code: ``grounding_pitch``, ``grounding_energy``, ``grounding_speed``,
``grounding_intonation``, ``grounding_stress``, ``grounding_gender``, ``grounding_age``, and
``grounding_reference`` (a level put against "this speaker" when it was graded against a wider group;
filter/reference.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress

from emotioncot.filter import lexicon as lx
from emotioncot.filter.prefilter import FirstMatch, Rewriter, blind_to
from emotioncot.filter.reference import reference_problems
from emotioncot.filter.text import (OTHER_DIGIT, QUOTE_MARK, clauses, digits_as_nine, mask_quotes, mask_transcript_quotes,
                                    normalize_tokens, sentences, text_patterns, think_part)

ASPECTS = ("pitch", "energy", "speed", "intonation", "stress", "gender", "age", "reference")
LEVEL_FIELD = {"pitch": "pitch_level", "energy": "energy_level", "speed": "speed_level"}
_SPEED_NAMES = {"high": "fast", "low": "slow", "normal": "normal"}
_UNJUDGED_INTONATION = {None, "", "uncertain", "too_short"}

# Compiled once, each with the text a match needs, so that a clause is scanned only by the phrases it may
# hold (filter/prefilter.py); the rewrites still run in lexicon order on the text the earlier ones left.
_PHRASES = Rewriter([p for p, _ in lx.PHRASES])
_PHRASE_REPLACEMENTS = [r for _, r in lx.PHRASES]
_TOKEN = re.compile(r"[a-z0-9][a-z0-9'’-]*|,")
_QUOTE_MARK_LOWER = QUOTE_MARK.lower()


def _lexicon_words() -> list[str]:
    """Every word of the lexicon's word lists (the tokens a clause's tokens are compared with)."""
    return [w for v in vars(lx).values() if isinstance(v, (set, frozenset, dict, list, tuple)) for w in v
            if isinstance(w, str)]


# Clauses that differ only by the numbers they quote ("around 93 Hz", "around 211 Hz") read alike when every
# pattern and word list of the reader treats the digits 1-9 alike (checked here, at import): the clause with
# its digits 1-8 written as 9 then makes the same claims, but for the words quoted back in explanations. So
# a clause whose copy with 9s makes no claim makes none either, and is not read again (0 is left alone:
# "f0" is a word of the lexicon).
_SAME_DIGITS = "123456789"
_DIGIT_BLIND = (all(blind_to(p, _SAME_DIGITS) for p in (*_PHRASES.patterns, _TOKEN))
                and not any(isinstance(r, str) and re.search(r"[1-9\\]", r) for r in _PHRASE_REPLACEMENTS)
                and not any(re.search("[1-9]", w) for w in _lexicon_words()))
# Clauses recur across records (template sentences, stock phrasings of a model): the reading of one is kept.
_CLAUSE_CACHE = 1 << 15


@dataclass(frozen=True)
class Claim:
    aspect: str
    allowed: frozenset  # values of the record's field that agree with the statement
    evidence: str  # the words that made the claim, for the explanation
    context: str = ""  # the clause as written, so the explanation quotes words the rationale really has

    def describe(self) -> str:
        # The evidence alone is a window of normalised tokens ('"he quickly the"'): quote the clause with it.
        if self.context and self.context.lower() != self.evidence.lower():
            return f"“{self.evidence}” (in “{self.context}”)"
        return f"“{self.evidence}”"


def _context(clause: str, limit: int = 90) -> str:
    text = " ".join(clause.replace(QUOTE_MARK, "“…”").split()).strip(" ,;:.")
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + " …"


@lru_cache(maxsize=_CLAUSE_CACHE)
def _prepare(clause: str) -> tuple[str, ...]:
    text = clause.lower().replace(_QUOTE_MARK_LOWER, " ")
    text = _PHRASES.rewrite(text, _PHRASE_REPLACEMENTS.__getitem__)
    return tuple(_TOKEN.findall(text))


def _allowed(level: str, negated: bool, hedged: bool) -> frozenset:
    """The abstract levels a statement allows."""
    if level == "normal":
        return frozenset({"low", "high"}) if negated else frozenset({"normal"})
    if negated:
        return frozenset({"low", "normal", "high"} - {level})
    if hedged:
        return frozenset({level, "normal"})
    return frozenset({level})


def _negated(tokens: list[str], i: int, negated_at: set[int], window: int = 5) -> bool:
    for j in range(i - 1, max(-1, i - 1 - window), -1):
        if tokens[j] in lx.NEGATORS:
            return True
        if tokens[j] == "," or _is_level_word(tokens[j]):
            break  # the negation of an earlier word does not reach past a comma or another level word
        if tokens[j] in ("and", "with") and j + 1 < i and tokens[j + 1] in lx.DETERMINERS:
            break  # "the lack of pauses and the normal rate": a new noun phrase ends the negation's scope
    # "not loud or forceful": negation carries over a coordination of level words
    j = i - 1
    while j >= 0 and tokens[j] in (",", "or", "nor"):
        j -= 1
    if "or" not in tokens[j + 1 : i] and "nor" not in tokens[j + 1 : i]:
        return False
    return j >= 0 and j != i - 1 and j in negated_at


def _hedged(tokens: list[str], i: int, window: int = 3) -> bool:
    return any(tokens[j] in lx.HEDGES for j in range(max(0, i - window), i))


def _is_level_word(tok: str) -> bool:
    return tok in lx.SELF or tok in lx.AMBIGUOUS


def _adjective_before_noun(tokens: list[str], j: int) -> bool:
    """``tokens[j]`` may be one more adjective of a noun phrase ("a low, husky voice")."""
    return (
        j + 1 < len(tokens)
        and tokens[j + 1] in lx.ASPECT_NOUNS
        and tokens[j] not in lx.DETERMINERS
        and tokens[j] not in lx.LINKING
        and tokens[j] not in lx.NEGATORS
    )


def _forward_aspect(tokens: list[str], i: int) -> tuple[int, frozenset] | None:
    for j in range(i + 1, min(len(tokens), i + 5)):
        tok = tokens[j]
        if tok in lx.ASPECT_NOUNS:
            return j, lx.ASPECT_NOUNS[tok]
        if tok == ",":
            # "a deep, low-pitched voice", "a low, husky voice" but not "pitched low, energy stays ..."
            if j + 1 < len(tokens) and (_is_level_word(tokens[j + 1]) or tokens[j + 1] in lx.HEDGES):
                continue
            if _adjective_before_noun(tokens, j + 1):
                return j + 2, lx.ASPECT_NOUNS[tokens[j + 2]]
            return None
        if tok in lx.FORWARD_SKIP or _is_level_word(tok) or tok in lx.HEDGES:
            continue
        if _adjective_before_noun(tokens, j):
            return j + 1, lx.ASPECT_NOUNS[tokens[j + 1]]
        return None
    return None


def _backward_aspect(tokens: list[str], i: int) -> tuple[list[int], frozenset] | None:
    for j in range(i - 1, max(-1, i - 10), -1):
        tok = tokens[j]
        if tok in lx.ASPECT_NOUNS:
            # coordinated nouns share the level: "her pitch, loudness and speaking rate are all moderate"
            return _coordinated(tokens, j)
        if tok in lx.LINKING or _is_level_word(tok):
            continue
        return None
    return None


def _coordinated(tokens: list[str], j: int) -> tuple[list[int], frozenset]:
    """The noun at ``j`` with the nouns coordinated before it ("her pitch, loudness and rate are ..."): a
    list joined by "and"/"or", whose nouns are not already the object of another level word."""
    group, aspects = [j], set(lx.ASPECT_NOUNS[tokens[j]])
    joined = False
    k = j - 1
    while k >= 0:
        seps = []
        while k >= 0 and tokens[k] in (",", "and", "or", "his", "her", "their", "the", "its", "both", "vocal"):
            seps.append(tokens[k])
            k -= 1
        if not seps or k < 0 or tokens[k] not in lx.ASPECT_NOUNS or not set(seps) & {",", "and", "or"}:
            break
        joined = joined or "and" in seps or "or" in seps
        before = tokens[max(0, k - 2) : k]
        if any(_is_level_word(t) or t in ("in", "of") for t in before):
            break
        group.append(k)
        aspects |= lx.ASPECT_NOUNS[tokens[k]]
        k -= 1
    if not joined:
        return [j], frozenset(lx.ASPECT_NOUNS[tokens[j]])
    return group, frozenset(aspects)


def _generic_from(tokens: list[str], skip_generic: bool) -> int:
    """Where a generic or hypothetical statement starts in a clause (its end when there is none)."""
    if not skip_generic or (_BY_WORDS and lx.GENERIC_MARKERS.isdisjoint(tokens)):  # most clauses: no marker, tested in C
        return len(tokens)
    return next((i for i, t in enumerate(tokens) if t in lx.GENERIC_MARKERS), len(tokens))


# The words the readers below act on: a clause holding none of them makes no claim of that kind, and the
# token loops visit only the positions of those words (every other token is passed over there).
_LEVEL_WORDS = frozenset(lx.SELF) | frozenset(lx.AMBIGUOUS)
_CONTOUR_WORDS = lx.EXPRESSIVE | lx.FLAT | lx.RISE | lx.FALL
_BY_WORDS = True  # off: every token visited (the plain loops, which the tests compare with)


@lru_cache(maxsize=_CLAUSE_CACHE)
def _level_claims(clause: str, skip_generic: bool = True) -> tuple[Claim, ...]:
    if _DIGIT_BLIND and OTHER_DIGIT.search(clause):
        # The clause with other numbers makes the same claims from the same words (no lexicon word holds a
        # digit 1-9, so the evidence is digit-free); only the clause quoted beside them is this one's.
        alike = _level_claims(digits_as_nine(clause), skip_generic)
        if not alike:
            return ()
        context = _context(clause)
        return tuple(Claim(c.aspect, c.allowed, c.evidence, context) for c in alike)
    tokens = _prepare(clause)
    if not skip_generic and lx.GENERIC_MARKERS.isdisjoint(tokens):
        return _level_claims(clause, True)  # no generic statement to skip: the reading the grounding check made
    if _BY_WORDS and _LEVEL_WORDS.isdisjoint(tokens):
        return ()
    claims: list[Claim] = []
    context = None
    negated_at: set[int] = set()
    generic_from = _generic_from(tokens, skip_generic)
    positions = range(len(tokens))
    if _BY_WORDS:
        positions = compress(positions, map(_LEVEL_WORDS.__contains__, tokens))  # the level words, in order
    for i in positions:
        if i >= generic_from:
            break
        tok = tokens[i]
        if tok in lx.SELF:
            aspect, level, hedged = lx.SELF[tok]
            aspects = [aspect]
        elif tok in lx.AMBIGUOUS:
            level, candidates = lx.AMBIGUOUS[tok]
            hedged = False
            found = _forward_aspect(tokens, i)
            nouns = [found[0]] if found else None
            noun_aspects = found[1] if found else None
            if found is None:
                back = _backward_aspect(tokens, i)
                if back is None:
                    continue
                nouns, noun_aspects = back
            common = candidates & noun_aspects
            if not common:
                continue
            if len(common) > 1 and all(tokens[n] in ("voice", "voices") for n in nouns):
                pref = "energy" if tok == "raised" else next(a for a in lx.VOICE_PREFERENCE if a in common)
                aspects = [pref]
            else:
                aspects = sorted(common)
        else:
            continue
        negated = _negated(tokens, i, negated_at)
        if negated:
            negated_at.add(i)
            if tok in lx.EXTREME:
                continue
        hedged = hedged or _hedged(tokens, i)
        allowed = _allowed(level, negated, hedged)
        evidence = f"not {tok}" if negated else tok  # the word that made the claim; the clause goes with it
        if context is None:
            context = _context(clause)  # one quote of the clause for all its claims
        for aspect in aspects:
            values = frozenset(_SPEED_NAMES[a] for a in allowed) if aspect == "speed" else allowed
            claims.append(Claim(aspect, values, evidence, context))
    return tuple(claims)


@lru_cache(maxsize=_CLAUSE_CACHE)
def _intonation_claims(clause: str, skip_generic: bool = True) -> tuple[tuple[str, bool, str], ...]:
    """(contour claimed, whether the clause speaks of the end, evidence)."""
    if _DIGIT_BLIND and OTHER_DIGIT.search(clause):
        alike = _intonation_claims(digits_as_nine(clause), skip_generic)
        # as in _level_claims; the evidence is a window of the clause's tokens, the same words here where
        # it holds no 9 (every digit 1-8 of the clause is a 9 there)
        if not alike or not any("9" in evidence for _, _, evidence in alike):
            return alike
    tokens = _prepare(clause)
    if _BY_WORDS and _CONTOUR_WORDS.isdisjoint(tokens):
        return ()
    generic_from = _generic_from(tokens, skip_generic)
    context = not lx.CONTOUR_CONTEXT.isdisjoint(tokens)
    events: list[tuple[str, int]] = []
    for i, tok in enumerate(tokens[:generic_from]):
        kind = None
        if tok in lx.EXPRESSIVE:
            kind = "expressive"
        elif tok in lx.FLAT:
            kind = "flat"
        elif context and tok in lx.RISE:
            kind = "rise"
        elif context and tok in lx.FALL:
            kind = "fall"
        if kind is None:
            continue
        if any(tokens[j] in lx.NEGATORS for j in range(max(0, i - 4), i)):
            continue
        events.append((kind, i))
    if not events:
        return ()
    kinds = [k for k, _ in events]
    evidence = " ".join(tokens[max(0, events[0][1] - 3) : events[-1][1] + 2])
    end_ref = any(t in lx.END_WORDS for t in tokens)
    if "expressive" in kinds:
        return (("expressive", end_ref, evidence),)
    if "flat" in kinds:
        return () if ("rise" in kinds or "fall" in kinds) else (("flat", end_ref, evidence),)
    seq: list[str] = []
    for k in kinds:
        if not seq or seq[-1] != k:
            seq.append(k)
    shape = {("rise",): "rising", ("fall",): "falling", ("rise", "fall"): "rising-falling",
             ("fall", "rise"): "falling-rising"}.get(tuple(seq), "expressive")
    return ((shape, end_ref, evidence),)


def _intonation_allowed(shape: str, end_ref: bool) -> frozenset:
    allowed = {
        "rising": {"rising", "falling-rising", "expressive"},
        "falling": {"falling", "rising-falling", "expressive"},
        "rising-falling": {"rising-falling", "expressive"},
        "falling-rising": {"falling-rising", "expressive"},
        "flat": {"flat"},
        "expressive": {"expressive", "rising", "falling", "rising-falling", "falling-rising"},
    }[shape]
    if not end_ref and shape == "rising":
        allowed.add("rising-falling")
    if not end_ref and shape == "falling":
        allowed.add("falling-rising")
    return frozenset(allowed)


# ---------------------------------------------------------------- stress

_Q = r"[“\"‘'«]([^”\"’'»\n]{1,40}?)[”\"’'»]"
_TARGETS = re.compile(r"\s*(?:the\s+(?:first\s+|second\s+|last\s+|final\s+|opening\s+)?words?\s+)?" + _Q
                      + r"|\s*the\s+(?:first\s+|last\s+|final\s+)?word\s+([A-Za-z'’-]+)", re.I)
_MORE = re.compile(r"\s*(?:,\s*and|,|and|or|as well as|plus)\s+(?:(?:on\s+)?the\s+words?\s+)?(?:on\s+)?" + _Q, re.I)
_STRESS_BEFORE = re.compile(
    r"\b(?:emphasis|stress|accent|weight|prominence|focus)\b[^.;“”\"\n]{0,40}?\b(?:on|onto|upon)\b"
    r"|\b(?:stressed|emphasi[sz]ed|accented|key|prominent)\s+words?\b[^.;“”\"\n]{0,20}?(?:\b(?:are|is|include|includes|were|was)\b|:)"
    r"|\b(?:stresses|stressing|emphasi[sz]es|emphasi[sz]ing|accentuates|accentuating|accents|underlines|punches|hits"
    r"|lands\s+on|leans(?:\s+\w+)?\s+on|leaning(?:\s+\w+)?\s+on)\b(?=\s+(?:the\s+\w+\s+)?[“\"‘'«]|\s+the\s+word)",
    re.I,
)
_STRESS_BEFORE_SEARCH = FirstMatch(_STRESS_BEFORE)  # its matches, skipping branches the text cannot hold
_STRESS_AFTER = re.compile(
    _Q + r"[^.;“”\"\n]{0,30}?\b(?:stress|stressed|emphasis|emphasi[sz]ed|accent|accented|weight|prominence)\b", re.I
)


_ON_NEXT = re.compile(r"\s+(?:on|onto|upon)\b")  # matched where a match ends: no look-behind, as on the rest alone
_NOT_WORD = re.compile(r"\b(?:not|n['’]t|never|no)\b")


def _stress_targets(text: str) -> list[tuple[str, str]]:
    """(claimed stressed word or phrase, evidence)."""
    out = []
    for m in _STRESS_BEFORE_SEARCH.finditer(text):
        rest = text[m.end():]
        t = _TARGETS.match(rest)
        if not t:
            continue
        found = [t.group(1) or t.group(2)]
        pos = t.end()
        while True:
            more = _MORE.match(rest, pos)
            if not more:
                break
            found.append(more.group(1))
            pos = more.end()
        for f in found:
            out.append((f, (m.group(0) + rest[:pos]).strip()))
    for m in _STRESS_AFTER.finditer(text):
        # 'the conclusion of "sad" is the emphasis on "Kids"': the stress is on what follows, not on "sad"
        if _ON_NEXT.match(text, m.end()):
            continue
        # skip "... is stressed" read as "not stressed" and long quotes (the transcription itself)
        if _NOT_WORD.search(m.group(0)[len(m.group(1)) + 2 :]):
            continue
        out.append((m.group(1), m.group(0)))
    return [(t, e) for t, e in out if 0 < len(normalize_tokens(t)) <= 4]


def _stress_verdicts(text: str, stressed: list[str], transcript: str | None = None) -> list[tuple[str, bool]]:
    """(evidence, agrees) of each stress claim (a repeated target counts once): a claim disagrees when its
    words are not among the measured stressed words, or not in the transcription."""
    said = set(normalize_tokens(transcript or ""))
    measured = set()
    for w in stressed:
        measured.update(normalize_tokens(w))
    out = []
    seen = set()
    for target, evidence in _stress_targets(text):
        toks = normalize_tokens(target)
        key = tuple(toks)
        if key in seen:
            continue
        seen.add(key)
        bad = (measured and not measured.intersection(toks)) or (said and not said.intersection(toks))
        out.append((evidence, not bad))
    return out


def _stress_problems(text: str, stressed: list[str], transcript: str | None = None) -> list[Claim]:
    """Stress claims on words that are not among the measured stressed words, or not in the transcription."""
    return [Claim("stress", frozenset(), evidence) for evidence, ok in _stress_verdicts(text, stressed, transcript) if not ok]


# ---------------------------------------------------------------- speaker


_GENDER_TOKEN = re.compile(r"[a-z][a-z'’-]*")
# ASCII letters lower-cased, apostrophes and hyphens kept, every other byte blanked
_GENDER_TOKEN_BYTES = bytes(c | 0x20 if chr(c).isalpha() else c if chr(c) in "'-" else 0x20 for c in range(128)) + b" " * 128
_GENDER_WORDS = lx.MALE | lx.FEMALE | lx.MALE_NOUNS | lx.FEMALE_NOUNS
_AGE_PATTERNS = Rewriter([p for p, _ in lx.AGE_PATTERNS])
_AGE_WORD = re.compile(r"[a-z']+")


def _gender_tokens(masked: str) -> list[str]:
    """``_GENDER_TOKEN.findall(masked.lower())``; on ASCII text, the runs of letters, apostrophes and hyphens
    from their first letter on, split in one C pass."""
    if not masked.isascii():
        return _GENDER_TOKEN.findall(masked.lower())
    blanked = masked.encode("ascii").translate(_GENDER_TOKEN_BYTES).decode("ascii")
    runs = blanked.split()
    if blanked[:1] in ("'", "-") or " '" in blanked or " -" in blanked:  # some run opens with them: strip them
        return list(filter(None, [r.lstrip("'-") for r in runs]))
    return runs  # the only white space left is " ": no run opens with an apostrophe or a hyphen


def _gender_evidence(masked: str) -> dict[str, list[str]]:
    """The words that give the speaker a gender, per gender (a new dict each call: callers may keep it)."""
    male, female = _gender_words(masked)
    return {"Male": list(male), "Female": list(female)}


@lru_cache(maxsize=256)  # read by the grounding and the argument check of the same text
def _gender_words(masked: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    found: dict[str, list[str]] = {"Male": [], "Female": []}
    tokens = _gender_tokens(masked)
    for i in compress(range(len(tokens)), map(_GENDER_WORDS.__contains__, tokens)):  # the gender words, in C
        tok = tokens[i]
        nxt = tokens[i + 1 : i + 3]
        if tok in lx.MALE or tok in lx.FEMALE:
            following = [t for t in nxt if not t.endswith("ly")][:1]
            if following and following[0] in lx.SPEAKER_CONTEXT:
                found["Male" if tok in lx.MALE else "Female"].append(f"{tok} {following[0]}")
        elif tok in lx.MALE_NOUNS or tok in lx.FEMALE_NOUNS:
            near_start = i < 8 or any(t in lx.SPEAKER_NOUN_CONTEXT for t in nxt)
            if near_start or (tokens[i - 1] in ("a", "an", "the") if i else False):
                found["Male" if tok in lx.MALE_NOUNS else "Female"].append(tok)
    return tuple(found["Male"]), tuple(found["Female"])


def _age_claims(masked: str) -> list[tuple[frozenset, str]]:
    """Age words that describe the speaker: in the first sentence (where the speaker is introduced), or
    next to a word about the speaker ("sounds young", "an elderly voice"); a child mentioned in the content
    ("searching for a child") is not the speaker."""
    out = []
    for n, sentence in enumerate(sentences(masked)):
        out += _sentence_age_claims(sentence.lower(), n == 0)
    return out


@lru_cache(maxsize=_CLAUSE_CACHE)
def _sentence_age_claims(text: str, first: bool) -> tuple[tuple[frozenset, str], ...]:
    """The age claims of one lower-cased sentence (``first``: the opening one, where any age word counts).
    Each pattern reads the text the earlier ones left, as ``re.sub`` would."""
    if _AGE_DIGIT_BLIND and OTHER_DIGIT.search(text) and "0s" not in text and not _sentence_age_claims(digits_as_nine(text), first):
        return ()  # the sentence with other numbers names no age: neither does this one
    out = []

    def taker(i: int):
        groups = lx.AGE_PATTERNS[i][1]

        def take(m):
            # the text this pattern is run on: its own match's string, after the earlier patterns
            before = _AGE_WORD.findall(m.string[: m.start()])[-3:]
            after = _AGE_WORD.findall(m.string[m.end():])[:3]
            if first or lx.AGE_CONTEXT.intersection(before + after):
                out.append((groups, m.group(0)))
            return " "
        return take

    _AGE_PATTERNS.rewrite(text, taker)
    return tuple(out)


# The age patterns tell digits apart only by decades ("in his 20s"): with those taken out each is digit-blind,
# and so are the words around a match. A sentence without "0s" (which no rewrite to " " can bring in) then
# names an age where its copy with other digits 1-8 names one.
_AGE_DIGIT_BLIND = (all(blind_to(re.compile(re.sub(r"[1-9]0s", "", p.pattern), p.flags), _SAME_DIGITS)
                        for p in _AGE_PATTERNS.patterns)
                    and blind_to(_AGE_WORD, _SAME_DIGITS) and not any(re.search("[1-9]", w) for w in lx.AGE_CONTEXT))


# ---------------------------------------------------------------- the check


def _level_agrees(claim: Claim, measured: str, strictness: str) -> bool:
    allowed = set(claim.allowed)
    if strictness == "opposite":
        allowed |= {"normal"}
        if claim.allowed == {"normal"}:
            allowed = {"low", "normal", "high", "slow", "fast"}
    return measured in allowed


def _intonation_agrees(shape: str, end_ref: bool, measured: str, strictness: str) -> bool:
    if strictness == "opposite":
        opposite = {"rising": {"falling", "flat"}, "falling": {"rising", "flat"}, "flat": {"expressive"},
                    "expressive": {"flat"}}.get(shape, {"flat"})
        if measured not in opposite:
            return True
    return measured in _intonation_allowed(shape, end_ref)


@lru_cache(maxsize=_CLAUSE_CACHE)
def _sentence_claims(sentence: str, skip_generic: bool = True) -> tuple[tuple[Claim, ...], tuple[tuple[str, bool, str], ...]]:
    """The level and intonation claims of one sentence, clause by clause (sentences recur across records)."""
    if STATEMENTS_DIGIT_BLIND and OTHER_DIGIT.search(sentence):
        # Its clauses are those of the sentence with other numbers (clauses() is digit-blind), making the same
        # claims; where no clause quoted beside a claim, and no evidence, holds a 9 there, they are this
        # sentence's words too (every digit 1-8 here is a 9 there), and the reading is this one's.
        level, contour = alike = _sentence_claims(digits_as_nine(sentence), skip_generic)
        if not any("9" in c.context for c in level) and not any("9" in e for _, _, e in contour):
            return alike
    level_claims: list[Claim] = []
    intonation: list[tuple[str, bool, str]] = []
    for clause in clauses(sentence):
        level_claims.extend(_level_claims(clause, skip_generic))
        intonation.extend(_intonation_claims(clause, skip_generic))
    return tuple(level_claims), tuple(intonation)


def _claims(masked: str, skip_generic: bool = True) -> tuple[list[Claim], list[tuple[str, bool, str]]]:
    level_claims: list[Claim] = []
    intonation: list[tuple[str, bool, str]] = []
    for sentence in sentences(masked):
        level, contour = _sentence_claims(sentence, skip_generic)
        level_claims.extend(level)
        intonation.extend(contour)
    return level_claims, intonation


# level_statements reads through the text helpers too: when they are digit-blind as well, what a text says
# about the levels (the allowed sets alone, no words quoted back) does not depend on its digits 1-9.
STATEMENTS_DIGIT_BLIND = _DIGIT_BLIND and all(blind_to(p, _SAME_DIGITS) for p in text_patterns())


def level_statements(text: str, skip_generic: bool = True) -> dict[str, list[frozenset]]:
    """What a rationale says about pitch, energy and speed: per aspect, for each statement, the set of record
    levels it allows. ``level_statements("The pitch sits high")["pitch"] == [frozenset({"high"})]``.
    The same reader serves the filter and the training graders."""
    claims, _ = _claims(mask_quotes(think_part(text or "")), skip_generic)
    return {aspect: [c.allowed for c in claims if c.aspect == aspect] for aspect in ("pitch", "energy", "speed")}


def grounding_problems(record: dict, aspects=ASPECTS, strictness: str = "strict", skip_generic: bool = True) -> list[tuple[str, str]]:
    """(code, explanation) for every statement of the rationale that contradicts the record."""
    text = think_part(record.get("cot_analysis") or "")
    transcript = record.get("transcript") or record.get("transcription")
    # Only the quoted transcription says nothing about the voice; 'a "low" pitch' is a claim.
    masked = mask_transcript_quotes(text, transcript)
    problems: list[tuple[str, str]] = []
    level_claims, intonation = _claims(masked, skip_generic)

    for aspect in ("pitch", "energy", "speed"):
        if aspect not in aspects:
            continue
        measured = record.get(LEVEL_FIELD[aspect])
        if not measured:
            continue
        for claim in (c for c in level_claims if c.aspect == aspect):
            if not _level_agrees(claim, measured, strictness):
                problems.append((f"grounding_{aspect}", f"says {claim.describe()} but {LEVEL_FIELD[aspect]} is {measured}"))
                break

    measured_contour = record.get("intonation")
    if "intonation" in aspects and measured_contour not in _UNJUDGED_INTONATION:
        for shape, end_ref, evidence in intonation:
            if not _intonation_agrees(shape, end_ref, measured_contour, strictness):
                problems.append(("grounding_intonation", f"says “{evidence}” ({shape}) but intonation is {measured_contour}"))
                break

    stressed = record.get("stressed_words") or []
    if "stress" in aspects and (stressed or transcript):
        bad = _stress_problems(text, stressed, transcript)
        if bad:
            measured = f"the stressed words are {list(stressed)}" if stressed else "no stressed words were measured"
            problems.append(("grounding_stress", f"says {bad[0].describe()} but {measured} (transcription: “{(transcript or '')[:60]}”)"))

    gender = record.get("gender")
    if "gender" in aspects and gender in ("Male", "Female"):
        found = _gender_evidence(masked)
        other = "Female" if gender == "Male" else "Male"
        if len(found[other]) > len(found[gender]):
            problems.append(("grounding_gender", f"refers to the speaker as {other.lower()} ({', '.join(found[other][:3])}) but gender is {gender}"))
    elif "gender" in aspects and not gender:
        # no gender was given, or the estimate was too uncertain to state (docs/speakers.md): naming one is a guess
        said = [w for words in _gender_evidence(masked).values() for w in words]
        if said:
            problems.append(("grounding_gender", f"names the speaker's gender ({', '.join(said[:3])}) but the record "
                                                 "states none (none given, or too uncertain to estimate)"))

    age = record.get("age_level")
    if "age" in aspects and age:
        for groups, evidence in _age_claims(masked):
            if age not in groups:
                problems.append(("grounding_age", f"calls the speaker “{evidence}” but age_level is {age}"))
                break

    if "reference" in aspects:
        problems += reference_problems(record, masked)
    return problems


# ---------------------------------------------------------------- where the statements are (for display)

_VERDICT_RANK = {"contradicts": 2, "agrees": 1, "not_checked": 0}


def _masked_with_offsets(text: str) -> tuple[str, list[int], list[int]]:
    """``mask_quotes(text)`` and, for each of its characters, where it starts and ends in ``text`` (a
    placeholder covers its whole quoted span)."""
    from emotioncot.filter.text import _QUOTED  # the very pattern mask_quotes uses

    parts, starts, ends = [], [], []
    pos = 0
    for m in _QUOTED.finditer(text):
        parts.append(text[pos:m.start()])
        starts += range(pos, m.start())
        ends += range(pos + 1, m.start() + 1)
        mark = mask_quotes(m.group(0))
        parts.append(mark)
        starts += [m.start()] * len(mark)
        ends += [m.end()] * len(mark)
        pos = m.end()
    parts.append(text[pos:])
    starts += range(pos, len(text))
    ends += range(pos + 1, len(text) + 1)
    return "".join(parts), starts, ends


def statement_spans(record: dict, aspects=ASPECTS, strictness: str = "strict", skip_generic: bool = True) -> list[dict]:
    """Every statement about the voice that ``grounding_problems`` reads in the rationale, where it is, and
    what the check made of it: dicts with ``start``/``end`` (character offsets in
    ``think_part(record["cot_analysis"])``), ``aspect``, ``verdict`` ("agrees", "contradicts" or
    "not_checked": the aspect is not checked, or the record has no measured value for it) and ``detail``.
    Level and intonation statements are located by their clause, the others by their words. The same
    readers and the same judgements as the filter, so what a page highlights is what the filter saw."""
    text = think_part(record.get("cot_analysis") or "")
    masked, starts, ends = _masked_with_offsets(text)
    if masked != mask_quotes(text):  # cannot happen; never highlight the wrong words
        return []
    out: list[dict] = []

    def add(a: int, b: int, aspect: str, verdict: str, detail: str) -> None:
        if b > a:
            out.append({"start": starts[a], "end": ends[b - 1], "aspect": aspect, "verdict": verdict, "detail": detail})

    cursor = 0
    for sentence in sentences(masked):
        s0 = masked.find(sentence, cursor)
        cursor = s0 + len(sentence)
        c_cursor = 0
        for clause in clauses(sentence):
            c0 = sentence.find(clause, c_cursor)
            c_cursor = c0 + len(clause)
            a, b = s0 + c0, s0 + c0 + len(clause)
            for claim in _level_claims(clause, skip_generic):
                measured = record.get(LEVEL_FIELD[claim.aspect])
                if claim.aspect not in aspects or not measured:
                    verdict = "not_checked"
                else:
                    verdict = "agrees" if _level_agrees(claim, measured, strictness) else "contradicts"
                add(a, b, claim.aspect, verdict, f"{claim.describe()}: {LEVEL_FIELD[claim.aspect]} is {measured or 'not measured'}")
            contour = record.get("intonation")
            for shape, end_ref, evidence in _intonation_claims(clause, skip_generic):
                if "intonation" not in aspects or contour in _UNJUDGED_INTONATION:
                    verdict = "not_checked"
                else:
                    verdict = "agrees" if _intonation_agrees(shape, end_ref, contour, strictness) else "contradicts"
                add(a, b, "intonation", verdict, f"“{evidence}” ({shape}): intonation is {contour or 'not measured'}")

    stressed = record.get("stressed_words") or []
    transcript = record.get("transcript") or record.get("transcription")
    pos = 0
    for evidence, ok in _stress_verdicts(text, stressed, transcript):
        at = text.find(evidence)
        if at < 0:
            continue
        checked = "stress" in aspects and (stressed or transcript)
        verdict = ("agrees" if ok else "contradicts") if checked else "not_checked"
        out.append({"start": at, "end": at + len(evidence), "aspect": "stress", "verdict": verdict,
                    "detail": f"“{evidence}”: stressed words {list(stressed)}"})

    lowered = masked.lower()

    def locate(words: str, after: int) -> int:
        m = re.compile(r"\b" + re.escape(words) + r"\b").search(lowered, after)
        return -1 if m is None else m.start()

    gender = record.get("gender")
    if gender in ("Male", "Female"):
        found = _gender_evidence(masked)
        other = "Female" if gender == "Male" else "Male"
        flagged = "gender" in aspects and len(found[other]) > len(found[gender])
        for said in ("Male", "Female"):
            pos = 0
            for words in found[said]:
                at = locate(words, pos)
                if at < 0:
                    continue
                pos = at + len(words)
                if "gender" not in aspects or (said == other and not flagged):
                    verdict = "not_checked"  # an odd pronoun outweighed by the others is not held against it
                else:
                    verdict = "agrees" if said == gender else "contradicts"
                add(at, at + len(words), "gender", verdict, f"“{words}”: gender is {gender}")

    age = record.get("age_level")
    pos = 0
    for groups, words in _age_claims(masked):
        at = locate(words, pos)
        if at < 0:
            continue
        pos = at + len(words)
        verdict = "not_checked" if ("age" not in aspects or not age) else ("agrees" if age in groups else "contradicts")
        add(at, at + len(words), "age", verdict, f"“{words}”: age_level is {age or 'not known'}")
    return sorted(out, key=lambda s: (s["start"], -_VERDICT_RANK[s["verdict"]]))
