"""The offline writer's English, read as a copy editor would: no participle that dangles ("Listening to this
clip, a male speaker says" makes the speaker the listener), no phrase said twice in adjacent sentences ("evenly
split. ... mixed and evenly split"), and no "every weighed cue on one side" beside a cue that took no side.
Checked over every level combination, emotion and two evidence tables, and on the real recordings' build."""

from __future__ import annotations

import itertools
import json
import re

import pytest

from emotioncot.calibrate.evidence import AGAINST, CUE_LEVELS, FOR, NEUTRAL, load_prior, weigh
from emotioncot.filter.text import mask_quotes, sentences
from emotioncot.taxonomy import EMOTIONS
from emotioncot.write.template import write_caption, write_rationale

# the nouns a rationale names its cues with: a cue named in its own sentence and again in the argument ("the
# strong vocal effort") is a reference back, not a repetition; the same adjective for two cues in a row ("the
# pitch sounds moderate. Vocal effort sounds moderate") is
_CUE_WORDS = {"pitch", "vocal", "effort", "tempo", "pace", "contour", "melody", "level", "speaking", "rate"}
_STOP = {"the", "a", "an", "and", "of", "to", "it", "is", "are", "for", "that", "this", "in", "on", "with", "its",
         "at", "as", "by", "be", "or", "than", "but", "so", "one", "two", "three", "four"}
# "Listening to this clip, <subject> ...": the subject after the comma is who does the -ing
_ING_OPENER = re.compile(r"^([A-Z][a-z]+ing)\b[^,]*,\s+(\w+)")
_LISTENERS = {"we", "you", "one"}
_RELATIVE = re.compile(r"\bjudged against\b|\brelative to\b", re.I)
_EVERY_CUE = re.compile(r"\bevery (?:weighed |measured )?cue\b|\ball (?:of )?the (?:measured )?cues\b", re.I)


def _prose_problems(text: str, case=None) -> list[str]:
    out = []
    said = sentences(mask_quotes(text))
    for s in said:
        m = _ING_OPENER.match(s)
        if m and m.group(2).lower() not in _LISTENERS:
            out.append(f"dangling participle: {s}")
    grams = [{(a, b) for a, b in zip(w, w[1:]) if not {a, b} & (_STOP | _CUE_WORDS)}
             for w in (re.findall(r"[a-z'-]+", s.lower()) for s in said)]
    for k in range(len(said) - 1):
        for gram in grams[k] & grams[k + 1]:
            out.append(f"{' '.join(gram)!r} in two adjacent sentences: {said[k]} / {said[k + 1]}")
    # the sentence saying the levels are relative repeats no phrase of another ("Set against this speaker's own
    # range, the pitch sounds raised ... These levels are relative to the speaker's own range")
    for k, s in enumerate(said):
        if _RELATIVE.search(s):
            for j, other in enumerate(said):
                if j != k and grams[k] & grams[j]:
                    out.append(f"{sorted(grams[k] & grams[j])[0]} again in the relative note: {other} / {s}")
    if case is not None and case.neutral and any(_EVERY_CUE.search(s) for s in said):
        out.append(f"says every cue is on one side beside {len(case.neutral)} that took none: {said[-1]}")
    return out


def _inverted(e, c, lv):  # the prior turned around, so that every side of the argument is written
    s = load_prior()["emotions"][e]["stances"][c][lv]
    return {FOR: AGAINST, AGAINST: FOR}.get(s, NEUTRAL)


_TABLES = {"prior": None, "inverted": {"corpora": {"x": {
    e: {"clips": 9, "sources": {c: "data" for c in CUE_LEVELS}, "counts": {},
        "stances": {c: {lv: _inverted(e, c, lv) for lv in lvs} for c, lvs in CUE_LEVELS.items()}} for e in EMOTIONS}}}}


def test_every_level_combination_reads_as_plain_english():
    failures, checked = [], 0
    combos = itertools.product(("low", "normal", "high", None), ("low", "normal", "high", None),
                               ("slow", "normal", "fast", None), (*CUE_LEVELS["intonation"], None), (0, 1))
    for i, (p, e, s, into, extra) in enumerate(combos):
        rec = {"id": f"p{i}", "corpus": "x", "transcript": "Kids are talking by the door.",
               "level_group": ("x/speaker=1", "x/gender=Female", "x", "global", None)[i % 5],
               "gender": ("Male", None)[extra], "age_level": ("Young Adult", None)[extra], "pitch_level": p,
               "energy_level": e, "speed_level": s, "intonation": into, "stressed_words": ["door"] * extra,
               "pause_count": extra}
        texts = [(write_caption(rec), None)]
        for table in _TABLES.values():
            texts += [(write_rationale(rec, emotion, table), weigh(rec, emotion, table)) for emotion in EMOTIONS]
        for text, case in texts:
            checked += 1
            problems = _prose_problems(text, case)
            if problems:
                failures.append((problems[0], text))
    assert checked == 4 * 4 * 4 * 7 * 2 * (1 + 2 * len(EMOTIONS))
    assert failures == [], (len(failures), failures[:3])


@pytest.mark.slow
def test_real_build_captions_and_rationales_read_as_plain_english(real_build):
    """EmoDB speaker 03 and RAVDESS actor 01, every caption and rationale, weighed by the build's own table."""
    folder, _ = real_build
    evidence = json.loads((folder / "thresholds.json").read_text())["evidence"]
    rows = [json.loads(line) for line in (folder / "emotioncot.jsonl").read_text().splitlines()]
    assert len(rows) >= 50
    failures = []
    for r in rows:
        record = {**r, "transcript": r["transcription"]}
        for text, case in ((r["caption"], None), (r["cot_analysis"], weigh(record, r["emotion"], evidence))):
            failures += [(r["id"], p) for p in _prose_problems(text, case)]
    assert failures == [], failures[:5]



@pytest.mark.slow
def test_real_build_says_tempo_and_effort_levels_are_relative(real_build):
    """Levels are cut per speaker, so the same rate is "slow" for EmoDB speaker 03 and "rapid" for RAVDESS actor 01;
    a text that names a tempo or effort level beside its number without saying it is relative states a falsehood to
    anyone who reads it as absolute ("The tempo is rapid (around 4.7 syllables per second)")."""
    folder, _ = real_build
    rows = [json.loads(line) for line in (folder / "emotioncot.jsonl").read_text().splitlines()]
    slow = [r["articulation_rate_sps"] for r in rows if r["speed_level"] == "slow"]
    fast = [r["articulation_rate_sps"] for r in rows if r["speed_level"] == "fast"]
    assert max(slow) > min(fast)  # what makes the absolute reading false on these clips
    unsaid = [(r["id"], field) for r in rows for field in ("caption", "cot_analysis")
              if (r["speed_level"] or r["energy_level"]) and not _RELATIVE.search(r[field])]
    assert unsaid == [], unsaid[:5]
