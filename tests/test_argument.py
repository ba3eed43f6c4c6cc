"""Rationales that argue correctly (issue 26): the evidence table, the template's argument over every level
combination, the filter's ``argument`` check on hand-written rationales, and real builds read end to end."""

from __future__ import annotations

import itertools
import re
from collections import Counter

import pytest

from emotioncot.calibrate.evidence import (AGAINST, CUE_LEVELS, FOR, NEUTRAL, EvidenceError, fit_evidence, load_prior,
                                           weigh)
from emotioncot.config import FilterConfig
from emotioncot.filter.argument import argument_problems
from emotioncot.filter.checks import filter_records, record_problems
from emotioncot.filter.grounding import level_statements
from emotioncot.filter.text import mask_quotes, sentences
from emotioncot.taxonomy import EMOTIONS
from emotioncot.write.template import write_rationale


# ------------------------------------------------------------------------------------ tables to write against

def _table(corpus: str, stance) -> dict:
    """An evidence table for one corpus in which ``stance(emotion, cue, level)`` decides every cell."""
    return {"corpora": {corpus: {e: {"clips": 9, "sources": {c: "data" for c in CUE_LEVELS}, "counts": {},
                                     "stances": {c: {lv: stance(e, c, lv) for lv in lvs} for c, lvs in CUE_LEVELS.items()}}
                                 for e in EMOTIONS}}}


def _inverted(e, c, lv):  # the prior turned around: what it counts for is against, and the reverse
    s = load_prior()["emotions"][e]["stances"][c][lv]
    return {FOR: AGAINST, AGAINST: FOR}.get(s, NEUTRAL)


def _middle_counts(e, c, lv):  # middle levels count for half the classes and against the others
    if lv == "normal":
        return FOR if EMOTIONS.index(e) % 2 else AGAINST
    return load_prior()["emotions"][e]["stances"][c][lv]


TABLES = {"prior": None, "inverted": _table("x", _inverted), "middle": _table("x", _middle_counts)}

_FOR_SENTENCE = re.compile(r"\b(?:points? toward|fits?|suggests?)\b")
_NEITHER_SENTENCE = re.compile(r"no sign either way|little for or against")
_AGAINST_SENTENCE = re.compile(r"speaks? against it|not what that reading usually brings")
_NUM = {"one": 1, "two": 2, "three": 3, "four": 4}


def _cues_in(sentence: str) -> set[str]:
    """The cues a sentence names, read by the grounding reader (not the template's own bookkeeping)."""
    said = {aspect for aspect, claims in level_statements(sentence).items() if claims}
    return said | ({"intonation"} if "contour" in sentence else set())


def _argument_errors(text: str, case) -> list[str]:
    errors = []
    n_for, n_against = len(case.supporting), len(case.opposing)
    body = sentences(mask_quotes(text))
    for_cues = {c for c, _ in case.supporting}
    against_cues = {c for c, _ in case.opposing}
    neither_cues = {c for c, _ in case.neutral}
    named: Counter = Counter()
    for s in body[:-1]:
        if s.startswith(("None of these cues", "No measured cue")):
            if n_for:
                errors.append(f"says no cue is for it, but {n_for} are")
            continue
        for pattern, expected, side in ((_FOR_SENTENCE, for_cues, "for"), (_NEITHER_SENTENCE, neither_cues, "neither"),
                                        (_AGAINST_SENTENCE, against_cues, "against")):
            if pattern.search(s) and _cues_in(s):
                named.update(_cues_in(s))
                if _cues_in(s) != expected:
                    errors.append(f"{side} sentence names {_cues_in(s)}, the table puts {expected} there: {s}")
        if re.search(r"weigh less|outnumber", s) and not n_for > n_against:
            errors.append(f"'weigh less/outnumber' with {n_for} for and {n_against} against")
        if "evenly split" in s or "even split" in s:
            if n_for != n_against:
                errors.append("even split claimed")
        for word, side_n in ((m.group(1), n_for) for m in re.finditer(r"\b(one|two|three|four) cues? (?:speaks? )?for it", s)):
            if _NUM[word] != side_n:
                errors.append(f"says {word} for, table {side_n}")
        for word, side_n in ((m.group(1), n_against) for m in re.finditer(r"\b(one|two|three|four) (?:cues? )?(?:speak )?against", s)):
            if _NUM[word] != side_n:
                errors.append(f"says {word} against, table {side_n}")
        if "clearest" in s:
            errors.append("'clearest' is never written")
    if any(n > 1 for n in named.values()):
        errors.append(f"a cue is named on two sides: {named}")
    last = body[-1]
    strength = case.strength
    said = ("clear" if re.search(r"\bclear|consistent", last) else "mixed" if re.search(r"mixed|open|both sides", last)
            else "weak" if re.search(r"weak|little", last) else None)
    if said != strength:
        errors.append(f"the conclusion reads {said}, the case is {strength}: {last}")
    return errors


def test_the_template_argues_validly_over_every_level_combination_emotion_and_table():
    """Every combination of pitch, energy, speed and contour (each also unmeasured), every emotion, three tables:
    no stated count, 'weigh less' / 'outnumber' claim or strength word is false, no cue is on two sides, and
    the filter's argument check passes the text."""
    checked = 0
    failures = []
    combos = itertools.product(("low", "normal", "high", None), ("low", "normal", "high", None),
                               ("slow", "normal", "fast", None), (*CUE_LEVELS["intonation"], None))
    for i, (p, e, s, into) in enumerate(combos):
        rec = {"id": f"g{i}", "corpus": "x", "transcript": "Kids are talking by the door.", "gender": "Male",
               "pitch_level": p, "energy_level": e, "speed_level": s, "intonation": into}
        for name, table in TABLES.items():
            for emotion in EMOTIONS:
                text = write_rationale(rec, emotion, table)
                case = weigh(rec, emotion, table)
                errors = _argument_errors(text, case)
                errors += [m for _, m in argument_problems({**rec, "emotion": emotion, "cot_analysis": text}, table)]
                if errors:
                    failures.append((name, emotion, rec, errors[:2], text))
                checked += 1
    assert checked == 4 * 4 * 4 * 7 * 3 * 9
    assert failures == [], failures[:3]


def test_the_table_decides_what_the_template_says():
    """The same clip reads differently under a table that turns the prior around: the cues for sad become cues
    against it, and a strong case becomes a weak one."""
    rec = {"id": "t1", "corpus": "x", "transcript": "Open the door.", "pitch_level": "low", "energy_level": "low",
           "speed_level": "slow"}
    prior = write_rationale(rec, "sad")
    inverted = write_rationale(rec, "sad", TABLES["inverted"])
    assert weigh(rec, "sad").strength == "clear" and re.search(r"clear|consistent", sentences(prior)[-1])
    assert weigh(rec, "sad", TABLES["inverted"]).strength == "weak" and "against it" in inverted


# ------------------------------------------------------------------------------------------ the evidence table

def _rows(corpus: str, emotion: str, pitch: list[str]) -> list[dict]:
    return [{"id": f"{corpus}-{emotion}-{i}", "corpus": corpus, "emotion": emotion, "pitch_level": lv}
            for i, lv in enumerate(pitch)]


def test_evidence_is_read_from_the_corpus_where_a_class_has_enough_clips_else_from_the_prior():
    rows = (_rows("c", "neutral", ["low"] * 6 + ["normal"]) + _rows("c", "angry", ["high"] * 5 + ["normal"] * 2)
            + _rows("c", "happy", ["high", "normal"]))  # happy: 2 clips, too few
    levels = [{"id": r["id"], "pitch_level": r["pitch_level"]} for r in rows]
    table = fit_evidence(rows, levels, min_clips=5, lift=1.5)
    neutral = table["corpora"]["c"]["neutral"]
    assert neutral["sources"]["pitch"] == "data" and neutral["stances"]["pitch"]["low"] == FOR
    assert neutral["stances"]["pitch"]["high"] == AGAINST  # the other clips are high, neutral's never
    assert table["corpora"]["c"]["angry"]["stances"]["pitch"]["high"] == FOR
    assert table["corpora"]["c"]["angry"]["stances"]["pitch"]["low"] == AGAINST  # neutral takes it, anger never
    happy = table["corpora"]["c"]["happy"]
    assert happy["sources"]["pitch"] == "prior" and happy["stances"]["pitch"] == load_prior()["emotions"]["happy"]["stances"]["pitch"]
    assert neutral["sources"]["energy"] == "prior"  # energy not measured here: the prior
    # a speaker's low neutral clips read as the baseline: the rationale counts the low pitch for neutral
    rec = {"id": "n1", "corpus": "c", "transcript": "Open the door.", "pitch_level": "low", "level_group": "c/speaker=1"}
    text = write_rationale(rec, "neutral", table)
    assert "baseline" in text and not argument_problems({**rec, "emotion": "neutral", "cot_analysis": text}, table)


def test_a_difference_the_number_of_clips_makes_by_chance_is_no_evidence():
    """EmoDB speaker 03's happy clips, four of seven slow against ten of the other 37 (one-sided Fisher p = 0.13),
    made "the unhurried pace points toward a cheerful tone"; here four of seven against a third (lift 1.6,
    p = 0.21). The same lift from three times the clips, and a strong difference in seven, still count."""
    from scipy.stats import fisher_exact

    rest = _rows("c", "neutral", ["low"] * 14 + ["normal"] * 14 + ["high"] * 14)
    few = _rows("c", "happy", ["low"] * 4 + ["normal"] + ["high"] * 2)
    p = fisher_exact([[4, 3], [14, 28]], alternative="greater").pvalue
    assert 0.05 < p < 0.5
    for rows, alpha, stance in ((rest + few, 0.05, NEUTRAL), (rest + few, 1.0, FOR),
                                (rest * 3 + few * 3, 0.05, FOR)):
        rows = [{**r, "id": f"{r['id']}-{i}"} for i, r in enumerate(rows)]
        levels = [{"id": r["id"], "pitch_level": r["pitch_level"]} for r in rows]
        table = fit_evidence(rows, levels, min_clips=5, lift=1.5, alpha=alpha)
        assert table["corpora"]["c"]["happy"]["stances"]["pitch"]["low"] == stance, (len(rows), alpha)
        assert table["alpha"] == alpha
    strong = _rows("c", "angry", ["high"] * 7)
    rows = [{**r, "id": f"{r['id']}-{i}"} for i, r in enumerate(rest + strong)]
    table = fit_evidence(rows, [{"id": r["id"], "pitch_level": r["pitch_level"]} for r in rows])
    # seven high of seven against a third: p = 0.001; none low of seven against a third: p = 0.08, by chance
    # alike, so low keeps the prior's stance (against anger: the clips lean that way too); normal, which the prior
    # leaves neither way, stays so
    angry = table["corpora"]["c"]["angry"]
    assert angry["stances"]["pitch"] == {"low": AGAINST, "normal": NEUTRAL, "high": FOR}
    assert angry["sources"]["pitch"] == "data and prior"


def test_the_chance_of_a_difference_is_fishers_exact_test():
    """The evidence table's one-sided test is written out (scipy.stats costs the calibrate stage 70 MB to import):
    held to scipy's fisher_exact on random tables, the EmoDB ones and a million clips' worth."""
    import random

    from scipy.stats import fisher_exact

    from emotioncot.calibrate.evidence import _chance

    rng = random.Random(7)
    tables = [(4, 7, 10, 37), (8, 14, 8, 30), (0, 7, 14, 42), (7, 7, 14, 42), (0, 0, 0, 5),
              (12000, 100000, 100000, 900000)]
    for _ in range(500):
        n_own, n_rest = rng.randint(0, 60), rng.randint(0, 300)
        tables.append((rng.randint(0, n_own), n_own, rng.randint(0, n_rest), n_rest))
    for own_at, n_own, rest_at, n_rest in tables:
        for side, alternative in ((FOR, "greater"), (AGAINST, "less")):
            expected = fisher_exact([[own_at, n_own - own_at], [rest_at, n_rest - rest_at]], alternative=alternative).pvalue
            assert _chance(own_at, n_own, rest_at, n_rest, side) == pytest.approx(expected, rel=1e-7, abs=1e-300)


def test_where_the_clips_show_no_difference_the_prior_holds_unless_they_lean_against_it():
    """EmoDB speaker 03's angry clips, eight of fourteen high against eight of his other 30 (p = 0.054): high pitch
    keeps the prior's 'for anger'. His happy clips lean slow, which the prior counts against happy: neither way."""
    rest = _rows("c", "neutral", ["low"] * 11 + ["normal"] * 11 + ["high"] * 8)
    angry = _rows("c", "angry", ["high"] * 8 + ["normal"] * 6)
    rows = rest + angry
    table = fit_evidence(rows, [{"id": r["id"], "pitch_level": r["pitch_level"]} for r in rows])
    stances = table["corpora"]["c"]["angry"]["stances"]["pitch"]
    assert stances["high"] == FOR and table["corpora"]["c"]["angry"]["sources"]["pitch"] == "data and prior"
    # clips that lean the other way from the prior (a happy class leaning low, which the prior counts against
    # happy) leave the level neither way
    happy = _rows("c", "happy", ["low"] * 4 + ["normal"] + ["high"] * 2)
    rows = rest + happy
    table = fit_evidence(rows, [{"id": r["id"], "pitch_level": r["pitch_level"]} for r in rows])
    assert table["corpora"]["c"]["happy"]["stances"]["pitch"]["low"] == NEUTRAL
    assert load_prior()["emotions"]["happy"]["stances"]["pitch"]["low"] == AGAINST


def test_the_prior_names_its_source_and_a_bad_prior_names_the_file(tmp_path):
    prior = load_prior()
    assert set(prior["emotions"]) == set(EMOTIONS)
    assert "Banse" in prior["sources"]["BS1996"] and "Juslin" in prior["sources"]["JL2003"]
    assert all(e["source"] in prior["sources"] for e in prior["emotions"].values())
    assert prior["emotions"]["angry"]["stances"]["pitch"]["normal"] == NEUTRAL  # middle levels neutral unless stated
    bad = tmp_path / "prior.yaml"
    bad.write_text("sources: {A: x}\nemotions:\n  angry: {source: A, pitch: {for: [loud]}}\n")
    with pytest.raises(EvidenceError, match=str(bad)):
        load_prior(str(bad))


def test_fit_thresholds_saves_the_table_in_the_thresholds():
    from emotioncot.calibrate import fit_thresholds

    rows = [{"id": f"r{i}", "corpus": "c", "speaker_id": "s", "emotion": ["angry", "sad"][i % 2],
             "f0_median_hz": 100.0 + (50 if i % 2 == 0 else 0) + i, "voiced_fraction": 0.8, "snr_db": 30.0,
             "speech_s": 2.0} for i in range(20)]
    thresholds = fit_thresholds(rows)
    table = thresholds["evidence"]["corpora"]["c"]
    assert table["angry"]["stances"]["pitch"]["high"] == FOR and table["sad"]["stances"]["pitch"]["high"] == AGAINST


# -------------------------------------------------------------------------------- the filter's argument check

FEAR = {"id": "ravdess_fear", "corpus": "ravdess", "emotion": "fear", "gender": "Male", "transcript": "Kids are talking by the door.",
        "pitch_level": "high", "energy_level": "high", "speed_level": "slow", "intonation": "rising-falling"}
NEUTRAL_SPEAKER = {"id": "emodb_n", "corpus": "emodb", "emotion": "neutral", "gender": "Male",
                   "transcript": "Der Lappen liegt auf dem Eisschrank.", "pitch_level": "low", "energy_level": "low",
                   "speed_level": "slow", "intonation": "falling"}
SPEAKER_TABLE = {"corpora": {"emodb": {"neutral": {
    "clips": 7, "sources": {c: "data" for c in CUE_LEVELS}, "counts": {},
    "stances": {"pitch": {"low": FOR, "normal": AGAINST, "high": AGAINST}, "energy": {"low": FOR, "normal": NEUTRAL, "high": AGAINST},
                "speed": {"slow": FOR, "normal": NEUTRAL, "fast": AGAINST},
                "intonation": {lv: NEUTRAL for lv in CUE_LEVELS["intonation"]}}}}}}

INVALID = [
    # one cue for (the high pitch), one against (the slow pace): "weigh less than the rest" is false
    (FEAR, None, 'A male speaker says "Kids are talking by the door." The pitch is high, the vocal effort is high '
                 "and the tempo is slow, with a melody that climbs and then falls away. The clearest sign is the high "
                 "pitch, which points toward a strained, worried manner. Only the high vocal effort, unhurried pace and "
                 "rising-falling contour are against this reading, and they weigh less than the rest. So the emotion "
                 "that best explains these cues is fear."),
    # the speaker's neutral clips are the low and slow ones: calling them against neutral contradicts the table
    (NEUTRAL_SPEAKER, SPEAKER_TABLE,
     'A male speaker says "Der Lappen liegt auf dem Eisschrank." The pitch is low, the vocal effort is low and the '
     "pace is slow, and the melody falls toward the end. The falling contour suggests an even, unmarked way of "
     "speaking. Only the low pitch, the low vocal effort and the slow pace are against this reading, and they weigh "
     "less than the rest. So the emotion that best explains these cues is neutral."),
    # "every weighed cue on one side" beside two cues it has just called no sign either way (EmoDB 03a04Ad, template-v7)
    ({**FEAR, "energy_level": "normal", "speed_level": "fast", "transcript": "Heute abend könnte ich es ihm sagen."}, None,
     'A young adult male speaker says "Heute abend könnte ich es ihm sagen." The pitch is high for this speaker. '
     "Vocal effort sounds ordinary. The speech moves at a rapid pace. The melody climbs and then falls away. The "
     "elevated pitch and the fast pace fit a nervous, unsettled quality. The moderate vocal effort and the "
     "rising-falling contour are no sign either way. With every weighed cue on one side, the emotion is clearly fear."),
    # a clear conclusion from a mixed case
    (FEAR, None, 'A male speaker says "Kids are talking by the door." His pitch is high and his vocal effort is high, '
                 "but his tempo is slow and the melody climbs and then falls away. The high pitch points toward a "
                 "strained, worried manner, while the slow pace speaks against it. Even so, the voice is clearly "
                 "frightened, and the emotion is clearly fear."),
    # middle levels counted for happy in one clause and against it in the next (EmoDB 03a01Fa, template-v6)
    ({**FEAR, "emotion": "happy", "pitch_level": "normal", "energy_level": "normal", "speed_level": "slow"}, None,
     'A male speaker says "Kids are talking by the door." The pitch is medium, the vocal effort is moderate and the '
     "pace is slow, and the melody climbs and then falls away. The moderate vocal effort and the rising-falling "
     "contour add up to a bright, cheerful tone. Only the medium pitch and slow pace are against this reading. "
     "The emotion is happy."),
    # the same for fear (EmoDB 03a05Aa): a middle level for it, another middle level against it
    ({**FEAR, "pitch_level": "high", "energy_level": "normal", "speed_level": "normal"}, None,
     'A male speaker says "Kids are talking by the door." The pitch is high, the vocal effort is medium and the '
     "tempo is moderate. The elevated pitch and the medium vocal effort suggest a strained, worried manner. The "
     "moderate tempo is less typical of it, so the picture is not entirely uniform. The emotion is fear."),
    # mixed pronouns for a male speaker
    ({**FEAR, "pitch_level": "high", "speed_level": "fast"}, None,
     'A male speaker says "Kids are talking by the door." The pitch is high and the tempo is fast. Her voice stays '
     "tense throughout, with strong vocal effort, and the melody climbs and then falls away. The high pitch and the "
     "fast tempo point toward a strained, worried manner, and nothing speaks against it. The emotion is fear."),
    # a cue the prior counts against sad (high pitch) called support for it
    ({**FEAR, "emotion": "sad"}, None,
     'A male speaker says "Kids are talking by the door." The pitch is high, the vocal effort is high and the pace '
     "is slow, with a melody that climbs and then falls away. The high pitch and the slow pace both point toward a "
     "heavy-hearted, deflated tone, though the high vocal effort is less typical of it. The emotion is sad."),
]

VALID = [
    (FEAR, None, 'A male speaker says "Kids are talking by the door." His pitch is high and his vocal effort is high, '
                 "but his tempo is slow and the melody climbs and then falls away. The high pitch points toward a "
                 "strained, worried manner, while the slow pace speaks against it. The vocal effort and the contour say "
                 "little either way. With one cue on each side, the case from the voice is mixed, and the emotion is "
                 "given as fear."),
    (NEUTRAL_SPEAKER, SPEAKER_TABLE,
     'A male speaker says "Der Lappen liegt auf dem Eisschrank." His pitch is low, his vocal effort is low and his '
     "pace is slow, and the melody falls toward the end. For this speaker, the low pitch, the low vocal effort and "
     "the slow pace point toward his own resting baseline, and nothing speaks against it. The voice makes a clear "
     "case, and the emotion is neutral."),
    # the 03a04Ad case again, its conclusion true: "not every cue" is what the neutral cues make of it, and "none
    # speaks against it" counts no cue (it was read as "one ... against")
    ({**FEAR, "energy_level": "normal", "speed_level": "fast", "transcript": "Heute abend könnte ich es ihm sagen."}, None,
     'A young adult male speaker says "Heute abend könnte ich es ihm sagen." The pitch is high for this speaker. '
     "Vocal effort sounds ordinary. The speech moves at a rapid pace. The melody climbs and then falls away. The "
     "elevated pitch and the fast pace fit a nervous, unsettled quality. The moderate vocal effort and the "
     "rising-falling contour are no sign either way. Not every cue takes a side, but none speaks against it, so the "
     "emotion is clearly fear."),
]


@pytest.mark.parametrize("record,table,text", INVALID)
def test_hand_written_invalid_arguments_are_rejected_with_argument(record, table, text):
    problems, _ = record_problems({**record, "cot_analysis": text}, FilterConfig(), table)
    assert "argument" in [code for code, _ in problems], problems


@pytest.mark.parametrize("record,table,text", VALID)
def test_hand_written_valid_arguments_are_kept(record, table, text):
    problems, _ = record_problems({**record, "cot_analysis": text}, FilterConfig(), table)
    assert problems == [], problems


def test_template_rationales_pass_the_whole_filter():
    """A sample of the level grid, every emotion, under the prior: the filter keeps every template rationale
    (the argument check and every other one: 'the measured cues' once read as a copied prompt)."""
    combos = list(itertools.product(("low", "normal", "high", None), ("low", "normal", "high"),
                                    ("slow", "normal", "fast", None), ("rising", "falling", "expressive", None)))
    records = []
    for i, (p, e, s, into) in enumerate(combos[::3]):
        for emotion in EMOTIONS:
            rec = {"id": f"w{i}-{emotion}", "corpus": "x", "transcript": ["Kids are talking by the door.", "Are you sure?",
                                                                         "Not again!"][i % 3],
                   "gender": ["Male", "Female"][i % 2], "emotion": emotion, "pitch_level": p, "energy_level": e,
                   "speed_level": s, "intonation": into, "stressed_words": ["door"] if i % 3 == 0 else []}
            records.append({**rec, "cot_analysis": write_rationale(rec, emotion)})
    kept, rejected = filter_records(records, FilterConfig(check_duplicates=False))
    assert rejected == [], [(r["explanation"], r["cot_analysis"]) for r in rejected[:3]]
    for record, table, _ in INVALID + VALID:
        text = write_rationale(record, record["emotion"], table)
        assert argument_problems({**record, "cot_analysis": text}, table) == [], text


def test_the_offline_grader_scores_the_argument():
    from emotioncot.train.graders import OfflineGrader

    record, table, bad = INVALID[1]
    good = VALID[1][2]
    grader = OfflineGrader(table)
    row = {k: record[k] for k in ("id", "corpus", "emotion", "gender", "transcript", "pitch_level", "energy_level",
                                  "speed_level", "intonation")}
    assert grader.grade_one(good, row).factual_alignment > grader.grade_one(bad, row).factual_alignment


def test_the_llm_prompt_gets_the_table():
    from emotioncot.write.prompts import default_prompt_path, load_prompt, prompt_values

    aware = load_prompt(default_prompt_path("rationale", "aware"), "rationale", "aware")
    user = aware.fill(prompt_values(FEAR, "aware"))[1]["content"]
    assert "cues for it: high pitch; cues against it: slow tempo" in user and "mixed (1 for, 1 against)" in user
    blind = load_prompt(default_prompt_path("rationale", "blind"), "rationale", "blind")
    user = blind.fill(prompt_values(NEUTRAL_SPEAKER, "blind", SPEAKER_TABLE))[1]["content"]
    assert "- neutral (this corpus's clips): pitch: for low; against normal, high" in user
    assert all(f"- {e} (" in user for e in EMOTIONS)


# ------------------------------------------------------------------------------------------ whole builds

_WORDS = re.compile(r"\b(?:words?|wording|sentence|semantic|content|question|exclamat\w*|phrased|transcri\w*|meaning)\b", re.I)


def _word_sentence_shares(records: list[dict]) -> Counter:
    seen: Counter = Counter()
    for rec in records:
        masked = re.sub(r"-?\d+(?:\.\d+)?", "N", mask_quotes(rec["cot_analysis"]))
        seen.update({s for s in sentences(masked) if _WORDS.search(s)})
    return seen


def _records(build):
    from emotioncot.pipeline import load_records
    from emotioncot.workspace import Workspace

    return load_records(Workspace(build))


@pytest.mark.slow
def test_demo_build_has_no_boilerplate_about_the_words(demo_build):
    records = _records(demo_build)
    top = _word_sentence_shares(records).most_common(1)
    assert not top or top[0][1] <= 0.05 * len(records), top


@pytest.mark.slow
def test_real_build_argues_by_its_own_table(real_build):
    """EmoDB speaker 03 + RAVDESS actor 01: no sentence about the words in more than 5 % of the rationales, the
    table is in thresholds.json, and every neutral rationale is consistent with it."""
    import json

    build, _ = real_build
    records = _records(build)
    evidence = json.loads((build / "thresholds.json").read_text())["evidence"]
    # seven clips: read from the data ("data and prior" where a level shows no difference beyond chance)
    assert evidence["corpora"]["emodb"]["neutral"]["sources"]["pitch"] in ("data", "data and prior")
    assert evidence["corpora"]["ravdess"]["neutral"]["sources"]["pitch"] == "prior"  # one clip
    top = _word_sentence_shares(records).most_common(1)
    assert not top or top[0][1] <= 0.05 * len(records), top
    neutral = [r for r in records if r["emotion"] == "neutral"]
    assert len(neutral) >= 8
    for rec in neutral:
        assert argument_problems(rec, evidence) == [], rec["cot_analysis"]
        case = weigh(rec, "neutral", evidence)
        assert not case.opposing or "against" in rec["cot_analysis"], rec["cot_analysis"]


def test_the_cues_of_a_clause_come_in_the_same_order_in_every_process():
    """Explanations name cues in the order a clause is read in; a set's order would change with string hashing."""
    import subprocess
    import sys

    code = ("from emotioncot.filter.argument import _mentioned; "
            "print(_mentioned('the high pitch, the loud voice, the fast pace and the rising intonation all point to it'))")
    seen = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**__import__("os").environ, "PYTHONHASHSEED": str(seed)}).stdout.strip()
            for seed in range(6)}
    assert len(seen) == 1, seen
    assert seen.pop().startswith("('pitch', 'energy', 'speed'")
