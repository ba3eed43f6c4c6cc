"""The argument check (reason code ``argument``): the balance a rationale states must be the record's.

Grounding checks each statement about the voice; this checks how the statements are put together, against
the build's evidence table (``emotioncot.calibrate.evidence``: which levels count for, against or neither way
for the emotion). A rationale is rejected when it

- calls a cue support for the emotion that the table counts against it, or calls a supporting cue evidence
  against it, or counts one cue on both sides, or counts middle levels that the table counts neither way for
  the emotion in one place and against it in another (a clause that names another emotion is not read);
- says the cues against it are fewer or weigh less ("outweigh", "outnumber", "only ... against") when they are
  not, says the two sides are even when they are not, or states a count of cues for or against that is wrong;
- concludes "clearly" (or "unambiguously", "every cue") from a case that is not clear (``Case.strength``), or
  "best explains these cues" / "therefore" from a weak one, or says every cue is on one side ("every weighed cue
  on one side", "all the cues point") of a clear case in which some cue counts neither way;
- refers to the speaker with pronouns or nouns of both genders, or of the other gender at all.

The reader is deliberately plain: a clause is read as *for* the emotion when it holds a support phrase
("points toward", "suggests", "fits", "clearest sign") and no opposing or neutral phrase, as *against* when
it holds an opposing phrase ("against", "less typical", "not what") and no support phrase; anything else is
not judged. Quoted transcription is masked first, as in grounding.
"""

from __future__ import annotations

import re
from functools import lru_cache

from emotioncot.calibrate.evidence import AGAINST, FOR, Case, measured_levels, weigh
from emotioncot.filter.grounding import STATEMENTS_DIGIT_BLIND, _gender_evidence, _level_claims
from emotioncot.filter.label import PATTERNS, held_words, may_name
from emotioncot.filter.prefilter import Guard, blind_to
from emotioncot.filter.text import OTHER_DIGIT, clauses, digits_as_nine, mask_transcript_quotes, sentences, think_part

_SUPPORT = re.compile(r"\b(?:points?|pointing) (?:to|toward)|\bsuggest(?:s|ing)?\b|\bfits?\b|\bfitting\b|\badds? up to\b"
                      r"|\bsupport(?:s|ing)?\b|\bconsistent with\b|\btypical of\b|\bin keeping with\b|\bgoes with\b"
                      r"|\bindicat(?:es?|ing)\b|\bsignal(?:s|ling)?\b|\bhints? at\b|\bcharacteristic of\b|\bclearest sign\b"
                      r"|\bspeaks? for\b|\bargues? for\b", re.I)
_OPPOSE = re.compile(r"\bagainst\b|\bless typical\b|\bnot typical\b|\batypical\b|\bunusual\b|\bnot what\b"
                     r"|\bcontradict|\bat odds\b|\binconsistent\b|\bdoes not fit\b|\bdo not fit\b|\bdoesn't fit\b", re.I)
# a clause that says a cue is neither way, or denies the support, is not read as taking a side
_NEITHER = re.compile(r"\bno sign\b|\beither way\b|\bfor or against\b|\bneither\b|\bleaves? room\b|\bnot\b|\bno\b"
                      r"|\bnone\b|\bnothing\b|\bwithout\b|\bn't\b", re.I)
_CUE_WORD = {"intonation": re.compile(r"\b(?:contour|melody|intonation)\b", re.I)}
_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "a single": 1, "single": 1}
_NUM = r"\b(one|two|three|four|a single|\d)"  # \b: "none", "someone", the 0 of "150"
_COUNT_FOR = re.compile(_NUM + r"\s+(?:cues?\s+)?(?:\w+\s+)?for (?:it|this|the|that)\b", re.I)
_COUNT_AGAINST = re.compile(_NUM + r"\s+(?:cues?\s+)?(?:\w+\s+)?against\b", re.I)
# claims about the balance, read per sentence
_FEWER_AGAINST = re.compile(r"\bweighs? less\b|\boutweigh\w*|\boutnumber\w*|\bfewer\b|\bonly\b[^.,]*\b(?:is|are)\s+against\b", re.I)
_AGAINST_FIRST = re.compile(r"\b(?:cues?|ones?|they)\s+against\s+(?:it\s+|this reading\s+)?(?:\w+\s+)?(?:outweigh|outnumber)"
                            r"|\bmore cues? (?:\w+ )?against\b", re.I)
_EVEN = re.compile(r"\bevenly (?:split|balanced)\b|\beven split\b|\bon each side\b|\bbalance each other\b", re.I)
# "every cue points one way": false where a cue counts neither way, even in a clear case
# ("not every cue ..." says just that, as _CLEAR's "not clear" says no clear case)
_EVERY_CUE = re.compile(r"(?<!not )\b(?:every (?:weighed |measured )?cue|all (?:of )?the (?:measured |weighed )?cues)\b",
                        re.I)
_CLEAR = re.compile(r"(?<!not )(?<!no )\b(?:clear(?:ly)?|unambiguous(?:ly)?|obvious(?:ly)?|every (?:weighed |measured )?cue"
                    r"|all (?:of )?the (?:measured )?cues)\b", re.I)
# a conclusion that says the cues point to the label, which a weak case (no cue for it, one, or more against) cannot
_FOLLOWS = re.compile(r"\bbest explains (?:these|the|all) cues\b|\ball (?:of )?this points\b|\beverything points\b"
                      r"|\bthe cues (?:all )?point\b|\btherefore\b", re.I)


# "set against this speaker's own range", "judged against how ... sound": what a level is relative to
_REFERENCE_AGAINST = re.compile(r"\b(?:set|judged|graded|measured|cut|calibrated|compared|relative)\s+against\b", re.I)


_NO_SIDE = re.compile(r"\bno sign\b|\beither way\b|\bfor or against\b", re.I)
_AGAINST_OR_REST = re.compile(r"\bagainst\b|\bthe rest\b", re.I)

# Each pattern behind a substring test of the strings its matches need (prefilter.Guard): most clauses hold none.
_GUARD = {p: Guard(p) for p in (_REFERENCE_AGAINST, _OPPOSE, _SUPPORT, _NEITHER, _AGAINST_FIRST, _FEWER_AGAINST,
                                _COUNT_FOR, _COUNT_AGAINST, _EVEN)}


@lru_cache(maxsize=1 << 14)  # clauses recur across records (the template's, a model's stock phrasing)
def _side(clause: str) -> str | None:
    lowered = clause.lower()
    if _GUARD[_REFERENCE_AGAINST].may_match(clause, lowered):
        clause = _REFERENCE_AGAINST.sub(" ", clause)
        lowered = clause.lower()
    # "less typical of it", "does not fit": an opposing phrase that holds a support phrase is read as opposing
    oppose = bool(_GUARD[_OPPOSE].search(clause, lowered))
    support = bool(_GUARD[_SUPPORT].search(_OPPOSE.sub(" ", clause)) if oppose else _GUARD[_SUPPORT].search(clause, lowered))
    if support == oppose:
        return None
    if support and _GUARD[_NEITHER].search(clause, lowered):
        return None
    if oppose and _NO_SIDE.search(clause):
        return None
    return FOR if support else AGAINST


@lru_cache(maxsize=1 << 14)
def _mentioned(clause: str) -> tuple[str, ...]:
    """The cues a clause speaks of, in a fixed order (pitch, energy, speed, intonation): a set's order changes with
    the process's string hashing, and so would the explanations of a rejected record."""
    cues = {c.aspect for c in _level_claims(clause, skip_generic=False) if c.aspect in ("pitch", "energy", "speed")}
    if _CUE_WORD["intonation"].search(clause):
        cues.add("intonation")
    return tuple(cue for cue in ("pitch", "energy", "speed", "intonation") if cue in cues)


@lru_cache(maxsize=1 << 14)
def _emotions_named(clause: str) -> frozenset:
    """The emotions whose words (``label.PATTERNS``) a clause holds."""
    held = held_words(clause)
    return frozenset(e for e, p in PATTERNS.items() if may_name(e, held) and p.search(clause))


# Every pattern the argument reads a clause or sentence with treats the digits 1-9 alike (checked here, with
# the grounding reader's own check), so its side, the emotions it names, the cues it speaks of and what it
# says of the balance are those of the same text with other numbers; only the counts it gives ("two cues")
# are read as written.
_DIGIT_BLIND = STATEMENTS_DIGIT_BLIND and all(
    blind_to(p, "123456789") for p in (*_GUARD, _NO_SIDE, _AGAINST_OR_REST, _CUE_WORD["intonation"], *PATTERNS.values()))


def _numbers_alike(text: str) -> str:
    """``text`` with its digits 1-8 written as 9, where that reads the same (a shared cache key)."""
    return digits_as_nine(text) if _DIGIT_BLIND else text


@lru_cache(maxsize=1 << 14)  # sentences recur across records
def _sided_clauses(sentence: str) -> tuple[tuple[str, str, frozenset, tuple[str, ...]], ...]:
    """(clause, the side it takes, the emotions it names, the cues it speaks of) of each clause of a sentence
    that speaks of a cue and takes a side, whatever the case. A clause of no cue counts nothing for or against
    (``_side_problems`` reads the cues of each), so its side is not read."""
    if _DIGIT_BLIND and OTHER_DIGIT.search(sentence):
        # its clauses are those of the sentence with other numbers, and read with their numbers as 9s below:
        # where none of the clauses that take a side holds a 9 there, they are this sentence's clauses too
        alike = _sided_clauses(digits_as_nine(sentence))
        if not any("9" in clause for clause, *_ in alike):
            return alike
    out = []
    for clause in clauses(sentence):
        read = _numbers_alike(clause)  # what a clause argues does not depend on the numbers it quotes
        cues = _mentioned(read)
        side = _side(read) if cues else None
        if side is not None:
            out.append((clause, side, _emotions_named(read), cues))
    return tuple(out)


def _side_problems(masked: str, case: Case, levels: dict[str, str]) -> list[str]:
    said: dict[str, set[str]] = {}
    middle_sides: set[str] = set()  # sides on which a middle level is counted where the table does not put it
    out = []
    for sentence in sentences(masked):
        for clause, side, named, cues in _sided_clauses(sentence):
            # "the slow pace argues against anger": a clause about another emotion is not this case's balance
            if not named <= {case.emotion}:
                continue
            for cue in cues:
                actual = case.stance(cue)
                if actual is None:
                    continue
                said.setdefault(cue, set()).add(side)
                if levels.get(cue) == "normal" and actual != side:
                    middle_sides.add(side)
                if actual != side and actual in (FOR, AGAINST):
                    out.append(f"counts the {cue} {'for' if side == FOR else 'against'} {case.emotion} "
                               f"(“{clause.strip()[:80]}”) but the evidence table counts it {actual} it")
    out += [f"counts the {cue} both for and against {case.emotion}" for cue, sides in said.items() if len(sides) > 1]
    if len(middle_sides) > 1:
        out.append(f"counts middle levels for {case.emotion} in one place and against it in another, where the "
                   f"evidence table counts them neither way")
    return out


def _count(m: re.Match) -> int:
    word = m.group(1).lower()
    return int(word) if word.isdigit() else _NUMBERS[word]


def _balance_problems(masked: str, case: Case) -> list[str]:
    n_for, n_against = len(case.supporting), len(case.opposing)
    out = []
    for sentence in sentences(masked):
        claim, even, counts_for, counts_against = _balance_of(sentence)
        if claim == "against_first":
            if n_against <= n_for:
                out.append(f"says the cues against outweigh those for it (“{sentence[:80]}”) but the table gives "
                           f"{n_for} for and {n_against} against")
        elif claim == "fewer_against":
            if n_against >= n_for or not n_against:
                out.append(f"says the cues against weigh less (“{sentence[:80]}”) but the table gives "
                           f"{n_for} for and {n_against} against")
        if even and n_for != n_against:
            out.append(f"calls the cues evenly split but the table gives {n_for} for and {n_against} against")
        for written, n in counts_for:
            if n != n_for:
                out.append(f"counts {written} cue(s) for {case.emotion} but the table gives {n_for}")
        for written, n in counts_against:
            if n != n_against:
                out.append(f"counts {written} cue(s) against {case.emotion} but the table gives {n_against}")
    return out


@lru_cache(maxsize=1 << 14)
def _balance_of(sentence: str) -> tuple[str | None, bool, tuple[tuple[str, int], ...], tuple[tuple[str, int], ...]]:
    """``_balance_reading`` of the sentence, read with its numbers as 9s where it gives no count of cues."""
    reading = _balance_reading(_numbers_alike(sentence))
    if reading[2] or reading[3]:  # counts are read as written: read the sentence itself
        reading = _balance_reading(sentence)
    return reading


@lru_cache(maxsize=1 << 14)
def _balance_reading(sentence: str) -> tuple[str | None, bool, tuple[tuple[str, int], ...], tuple[tuple[str, int], ...]]:
    """What a sentence says about the balance, whatever the table: "against_first" (the cues against outweigh),
    "fewer_against" (they weigh less) or None; whether it calls the sides even; the counts of cues it gives
    for and against, each as (written, number)."""
    lowered = sentence.lower()
    claim = None
    if _GUARD[_AGAINST_FIRST].search(sentence, lowered):
        claim = "against_first"
    elif _GUARD[_FEWER_AGAINST].search(sentence, lowered) and _AGAINST_OR_REST.search(sentence):
        claim = "fewer_against"
    counts_for = counts_against = ()
    if _GUARD[_COUNT_FOR].may_match(sentence, lowered):
        counts_for = tuple((m.group(1), _count(m)) for m in _COUNT_FOR.finditer(sentence))
    if _GUARD[_COUNT_AGAINST].may_match(sentence, lowered):
        counts_against = tuple((m.group(1), _count(m)) for m in _COUNT_AGAINST.finditer(sentence))
    return claim, bool(_GUARD[_EVEN].search(sentence, lowered)), counts_for, counts_against


def _strength_problems(masked: str, case: Case, conclusion_sentences: int = 2) -> list[str]:
    if case.strength == "clear":
        for sentence in sentences(masked)[-conclusion_sentences:]:
            m = _EVERY_CUE.search(sentence) if case.neutral else None
            if m:
                return [f"concludes “{m.group(0)}” on one side, but {len(case.neutral)} cue(s) count neither way"]
        return []
    for sentence in sentences(masked)[-conclusion_sentences:]:
        m = _CLEAR.search(sentence) or (_FOLLOWS.search(sentence) if case.strength == "weak" else None)
        if m:
            return [f"concludes “{m.group(0)}” but the case from the voice is {case.strength} "
                    f"({len(case.supporting)} for, {len(case.opposing)} against)"]
    return []


def _pronoun_problems(masked: str, gender: str | None) -> list[str]:
    """Both genders for one speaker. Where the other gender is the majority, grounding_gender says so already."""
    found = _gender_evidence(masked)
    if gender in ("Male", "Female"):
        other = "Female" if gender == "Male" else "Male"
        if 0 < len(found[other]) <= len(found[gender]):
            return [f"refers to the {gender.lower()} speaker as {gender.lower()} ({found[gender][0]}) and as "
                    f"{other.lower()} ({', '.join(found[other][:3])})"]
        return []
    if found["Male"] and found["Female"]:
        return [f"mixes male ({found['Male'][0]}) and female ({found['Female'][0]}) references to the speaker"]
    return []


def argument_problems(record: dict, evidence: dict | None = None) -> list[tuple[str, str]]:
    """(``argument``, explanation) for each way the rationale's argument contradicts the record."""
    text = think_part(record.get("cot_analysis") or "")
    masked = mask_transcript_quotes(text, record.get("transcript"))
    out = _pronoun_problems(masked, record.get("gender"))
    blind = record.get("label_mode") == "blind"
    emotion = record.get("inferred_emotion") if blind else record.get("emotion")
    if emotion:
        from emotioncot.taxonomy import EMOTIONS

        if emotion in EMOTIONS:
            case = weigh(record, emotion, evidence)
            out += _side_problems(masked, case, measured_levels(record)) + _balance_problems(masked, case) + _strength_problems(masked, case)
    return [("argument", message) for message in out]
