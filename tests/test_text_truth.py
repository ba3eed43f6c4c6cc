"""Every sentence true (issue 13): numbers beside levels are the graded measurements, the offline writer is
grammatical, the numeric check rejects planted contradictions, excluded labels are exclusions, thresholds
fall back or fail loudly, and the emotion-by-level tables add up."""

from __future__ import annotations

import json
import re
import shutil
from itertools import product
from pathlib import Path

import pandas as pd
import pytest

from emotioncot.config import FilterConfig
from emotioncot.filter import filter_records
from emotioncot.filter.grounding import level_statements
from emotioncot.filter.numeric import numeric_problems
from emotioncot.filter.text import mask_quotes, sentences
from emotioncot.taxonomy import EMOTIONS
from emotioncot.write.template import _NOUN, _WORDS, write_caption, write_rationale

# ---------------------------------------------------------------- an independent reader of the numbers

# What each writer phrase quotes, and which field it must equal (written in the test, not imported).
_QUOTES = [
    (re.compile(r"(-?\d+(?:\.\d+)?) Hz"), "f0_median_hz", "pitch"),
    (re.compile(r"(-?\d+(?:\.\d+)?) dB(?!FS)"), "alpha_ratio_db", "energy"),
    (re.compile(r"(-?\d+(?:\.\d+)?) syllables per second"), "articulation_rate_sps", "speed"),
    (re.compile(r"(-?\d+(?:\.\d+)?) seconds"), "duration_s", None),
]
_LEVEL = {"pitch": "pitch_level", "energy": "energy_level", "speed": "speed_level"}


def _untrue(record: dict, text: str) -> list[str]:
    """Numbers in ``text`` that are not the record's graded value within rounding, or sit in a sentence
    whose level words disagree with the level."""
    bad = []
    assert "dBFS" not in text, text
    for sentence in sentences(mask_quotes(text)):
        for pattern, field, cue in _QUOTES:
            for m in pattern.finditer(sentence):
                written = m.group(1)
                decimals = len(written.split(".")[1]) if "." in written else 0
                if record.get(field) is None or abs(float(written) - record[field]) > 0.5 * 10 ** -decimals + 1e-9:
                    bad.append(f"{written} for {field}={record.get(field)}")
                if cue:
                    said = level_statements(sentence)[cue]
                    if not said or any(record[_LEVEL[cue]] not in allowed for allowed in said):
                        bad.append(f"{sentence!r} vs {_LEVEL[cue]}={record[_LEVEL[cue]]}")
    return bad


def _jsonl(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "emotioncot.jsonl").read_text().splitlines()]


def _assert_every_number_true(folder: Path) -> list[dict]:
    rows = _jsonl(folder)
    assert rows
    for r in rows:
        r["transcript"] = r.get("transcription")
        for text in (r["caption"], r["cot_analysis"]):
            assert _untrue(r, text) == [], (r["id"], text)
        assert numeric_problems(r) == [] and numeric_problems(r, r["caption"], "caption") == []
    rejected = [json.loads(line) for line in (folder / "rejected.jsonl").read_text().splitlines() if line.strip()]
    assert not [r["id"] for r in rejected if "numeric" in r["reject_reasons"]]
    return rows


def test_demo_build_every_number_is_the_measurement(demo_build):
    rows = _assert_every_number_true(demo_build)
    quoted = sum(" Hz" in r["cot_analysis"] for r in rows)
    assert quoted >= 0.8 * len(rows)  # the numbers are there to be checked, not left out


def test_real_build_every_number_is_the_measurement(real_build):
    folder, _ = real_build
    rows = _assert_every_number_true(folder)
    emodb = [r for r in rows if r["corpus"] == "emodb"]
    assert emodb and all(r["energy_basis"] == "alpha_ratio" for r in emodb)  # EmoDB is peak-normalised
    # the example: beside a level, a "high" clip's quoted number is above every "low" clip's
    quoted = {}
    for r in emodb:
        m = re.search(r"(-?\d+\.\d) dB\b", r["cot_analysis"])
        assert m, r["cot_analysis"]
        quoted.setdefault(r["energy_level"], []).append(float(m.group(1)))
    assert quoted.get("high") and quoted.get("low") and min(quoted["high"]) > max(quoted["low"])


# ---------------------------------------------------------------- planted rationales

_RECORD = {
    "id": "p1", "transcript": "Open the door.", "emotion": "fear", "gender": "Female", "age_level": "Elderly",
    "pitch_level": "high", "f0_median_hz": 231.4, "f0_range_st": 9.04, "energy_level": "low",
    "energy_dbfs": -31.2, "alpha_ratio_db": -17.26, "energy_basis": "alpha_ratio", "speed_level": "fast",
    "articulation_rate_sps": 6.24, "speaking_rate_sps": 5.1, "pause_count": 2, "pause_total_s": 0.45,
    "duration_s": 2.43, "intonation": "rising", "stressed_words": ["door"],
}
_FAITHFUL = (
    'An elderly female speaker says "Open the door." The pitch is high for this speaker, with a median of about '
    '{hz} Hz. Vocal effort is low, an alpha ratio of {alpha} dB. The tempo is fast at {rate} syllables per second '
    "once pauses are left out. She pauses twice, {pause} s in total, and the clip lasts {dur} seconds. The melody "
    "rises toward the end. These cues together suggest an uneasy, apprehensive tone rather than calm. The emotion "
    "is best described as fear."
)
_GOOD = {"hz": "231", "alpha": "-17.3", "rate": "6.2", "pause": "0.45", "dur": "2.4"}


def _filtered(text: str, **changes) -> list[str]:
    rec = {**_RECORD, **changes, "cot_analysis": text}
    cfg = FilterConfig(check_duplicates=False)
    kept, rejected = filter_records([rec], cfg)
    return [] if kept else rejected[0]["reject_reasons"]


def test_faithful_numbers_are_kept():
    assert _filtered(_FAITHFUL.format(**_GOOD)) == []
    assert _filtered(_FAITHFUL.format(**{**_GOOD, "hz": "231.4", "dur": "2.43"})) == []


@pytest.mark.parametrize("planted", [
    {"hz": "250"},  # another pitch than measured
    {"hz": "232"},  # 231.4 rounds to 231, not 232
    {"rate": "6.3"},  # 6.24 rounds to 6.2
    {"rate": "5.1"},  # the speaking rate (pauses in) is measured, but the level was graded on articulation rate
    {"alpha": "-12.0"},
    {"pause": "0.9"},
    {"dur": "3.1"},
])
def test_planted_numbers_are_rejected_with_the_numeric_code(planted):
    assert "numeric" in _filtered(_FAITHFUL.format(**{**_GOOD, **planted})), planted


@pytest.mark.parametrize("text", [
    # a level in dBFS beside a loudness statement, where energy was graded on the alpha ratio (EmoDB's bug)
    'An elderly female speaker says "Open the door." The pitch is high, about 231 Hz. Her voice is soft, '
    "about -31 dBFS. The tempo is fast. The melody rises toward the end. Taken together the cues point to "
    "an uneasy, apprehensive tone and a worried manner of speaking throughout. The emotion is best described as fear.",
    # the right number beside the wrong direction word
    'An elderly female speaker says "Open the door." The pitch is low at 231 Hz. Vocal effort is low. The '
    "tempo is fast. The melody rises toward the end. Taken together the cues point to an uneasy, "
    "apprehensive tone and a worried manner of speaking throughout the line. The emotion is best described as fear.",
    # a pause count that is not the measurement
    'An elderly female speaker says "Open the door." The pitch is high, 231 Hz. Vocal effort is low. The '
    "tempo is fast, and there are three pauses in the line. The melody rises toward the end. Taken together "
    "the cues point to an uneasy, apprehensive tone throughout. The emotion is best described as fear.",
])
def test_planted_contradictions_are_rejected(text):
    assert "numeric" in _filtered(text)


def test_a_number_for_a_quantity_never_measured_is_rejected():
    reasons = _filtered(_FAITHFUL.format(**_GOOD), f0_median_hz=None)
    assert "numeric" in reasons
    assert numeric_problems({**_RECORD, "f0_median_hz": None}, "The pitch sits at 231 Hz.")[0][1].count("none of them")


def test_numbers_inside_the_quoted_transcription_are_not_measurements():
    text = 'She says "Meet me at 5 s past noon, 440 Hz." The pitch is high at 231 Hz.'
    assert numeric_problems(_RECORD, text) == []


# ---------------------------------------------------------------- the template writer, enumerated

_CUE_WORDS = {w for cue in _WORDS.values() for words in cue.values() for w in words} | {
    n for nouns in _NOUN.values() for n in nouns} | {"typical"}
_VOWEL = set("aeiou")


def _grammar_problems(text: str, stressed: list[str]) -> list[str]:
    problems = []
    # a quoted statement that runs on into the sentence keeps no full stop: 'The utterance "Hi." is spoken'
    problems += [f"stop inside a sentence: {m.group(0)!r}" for m in re.finditer(r'(?<!\.)\."\s+[a-z]\w*', text)]
    plain = mask_quotes(text)
    for m in re.finditer(r"\b(a|an|A|An) ([A-Za-z][\w-]*)", plain):
        want = "an" if m.group(2)[0].lower() in _VOWEL else "a"
        if m.group(1).lower() != want:
            problems.append(f"article: {m.group(0)!r}")
    tokens = [t for t in re.findall(r"[a-z][a-z-]*", plain.lower()) if t != "qq"]  # qq: a masked quote
    problems += [f"doubled: {a}" for a, b in zip(tokens, tokens[1:]) if a == b or a.endswith(f"-{b}")]  # "mid-level level"
    for sentence in sentences(plain):
        words = re.findall(r"[a-z][a-z-]*", sentence.lower())
        # "the loudness stays loud", "slow slowness": a word and its own derivative in one sentence
        long = {w for w in words if len(w) >= 4}
        problems += [f"tautology: {a} / {b}" for a in long for b in long if a != b and b.startswith(a)]
        for w in _CUE_WORDS - {"pitch", "vocal effort", "tempo", "pace", "contour"}:
            if words.count(w) > 1:
                problems.append(f"repeated {w!r} in {sentence!r}")
    for word in stressed:
        if f'"{word}"' not in text:
            problems.append(f"stressed word {word!r} not named")
    return problems


# every kind of calibration group a record can be graded against (calibrate/levels.py group_key)
_LEVEL_GROUPS = ("demo/speaker=m1", "meld/gender=Female", "meld/gender=Male", "meld/gender=unknown", "meld", "global",
                 "meld/speaker=x + meld/gender=Female", None)


def test_template_enumeration_is_grammatical_and_names_every_stressed_word():
    levels = product(("low", "normal", "high", None), ("low", "normal", "high", None), ("slow", "normal", "fast", None),
                     ("rising", "falling", "flat", None))
    stress_options = ([], ["door"], ["Kids", "door"], ["Heute", "Papier", "Tüten"])
    texts, problems, n = set(), [], 0
    for i, (p, e, s, tone) in enumerate(levels):
        for seed in range(3):
            stressed = stress_options[(i + seed) % len(stress_options)]
            record = {
                "id": f"enum-{i}-{seed}", "transcript": "Kids are talking by the door.", "gender": ("Male", "Female", None)[seed],
                "age_level": ("Elderly", "Young Adult", None)[(i + seed) % 3], "pitch_level": p, "energy_level": e,
                "speed_level": s, "intonation": tone, "stressed_words": stressed, "f0_median_hz": 150.0 + i,
                "alpha_ratio_db": -10.0 - seed, "energy_basis": ("alpha_ratio", "vocal_effort", "whisper")[i % 3],
                "articulation_rate_sps": 4.0 + seed / 10, "pause_count": seed, "duration_s": 2.0,
                "level_group": _LEVEL_GROUPS[(i + 2 * seed) % len(_LEVEL_GROUPS)],
            }
            emotion = EMOTIONS[(i + seed) % len(EMOTIONS)]
            for text in (write_caption(record), write_rationale(record, emotion)):
                problems += [(record["id"], p) for p in _grammar_problems(text, stressed)]
                texts.add(text)
                n += 1
    assert problems == []
    assert len(texts) == n  # still varied: no two records get the same text


def test_article_rule_catches_the_old_errors():
    """The checker itself fails on the texts the old writer produced."""
    assert _grammar_problems("It has a ordinary tone and a unhurried pace.", [])
    assert _grammar_problems("The loudness stays loud loudness.", [])
    assert _grammar_problems('The emphasis falls on "Kids".', ["Kids", "door"])
    assert _grammar_problems('The utterance "Kids are talking by the door." is spoken by a male speaker.', [])
    assert not _grammar_problems('The utterance "Are you sure?" is spoken by a male speaker.', [])
    assert not _grammar_problems('The utterance "I thought..." is spoken by a male speaker.', [])


# ---------------------------------------------------------------- excluded labels, thresholds


def _expected_exclusions(test_data: Path) -> dict[str, int]:
    boredom = sum(1 for p in (test_data / "emodb").rglob("*.wav") if p.stem[5] == "L")
    calm = sum(1 for p in (test_data / "ravdess").rglob("*.wav") if p.stem.split("-")[2] == "02")
    return {"boredom": boredom, "calm": calm}


def test_excluded_labels_are_exclusions_not_errors(real_build, test_data):
    folder, stdout = real_build
    expected = _expected_exclusions(test_data)
    assert expected["boredom"] > 0 and expected["calm"] > 0
    assert f"emodb 'boredom' {expected['boredom']}" in stdout and f"ravdess 'calm' {expected['calm']}" in stdout
    summary = json.loads((folder / "build.json").read_text())
    assert summary["excluded"]["total"] == sum(expected.values())
    errors = [json.loads(line) for line in (folder / "errors.jsonl").read_text().splitlines() if line.strip()]
    assert not [e for e in errors if "_03" in (e.get("id") or "") and (e["id"][-2] == "L")]
    assert not [e for e in errors if "-02-" in (e.get("id") or "")[:16]]
    assert not [e for e in errors if "gold emotion" in e["reason"]]
    card = (folder / "README.md").read_text()
    assert f"| emodb | boredom | excluded by manifest | {expected['boredom']} |" in card


def test_the_card_does_not_claim_every_utterance_when_clips_were_left_out(real_build):
    """EmoDB boredom and RAVDESS calm have no record: the card's opening must not say the dataset holds every
    utterance of its corpora, and it points at the count of what was left out."""
    folder, _ = real_build
    summary = json.loads((folder / "build.json").read_text())
    assert summary["excluded"]["total"] > 0 and summary["counts"]["export"] < summary["counts"]["ingest"]
    card = (folder / "README.md").read_text()
    opening = card.split("\n# ", 1)[1].split("\n## ", 1)[0]
    assert not re.search(r"\b(?:every|all (?:the )?)utterances?\b", opening, re.I), opening
    assert "left out" in opening, opening


def test_null_reasons_explain_only_fields_the_record_has(real_build):
    """A record's null_reasons say why one of its own fields is empty. The per-clip gender guess is not a record
    field (metadata, or the per-speaker estimate, decides gender), so a reason for it beside a speaker stated male
    by the corpus (EmoDB 03: "median F0 too near the 165 Hz boundary") only misleads."""
    folder, _ = real_build
    rows = _jsonl(folder)
    stray = []
    for r in rows:
        reasons = r["null_reasons"] if isinstance(r["null_reasons"], dict) else json.loads(r["null_reasons"] or "{}")
        for field in reasons:
            base = field[: -len("_detail")] if field.endswith("_detail") else field
            if base not in r:
                stray.append((r["id"], field, reasons[field]))
    assert rows and stray == [], stray[:3]


def test_thresholds_for_other_groups_fall_back_and_say_so(real_build):
    from emotioncot.calibrate.levels import apply_thresholds, fit_thresholds
    from emotioncot.pipeline import load_records
    from emotioncot.workspace import Workspace

    rows = load_records(Workspace(real_build[0]), with_texts=False)
    ravdess = [r for r in rows if r["corpus"] == "ravdess"]
    emodb = [r for r in rows if r["corpus"] == "emodb"]
    levels = apply_thresholds(emodb, fit_thresholds(ravdess))
    graded = [lv for lv in levels if lv["pitch_level"]]
    assert len(graded) >= 0.8 * len(emodb)  # not silent nulls
    assert all("emodb/speaker=03 (not in the thresholds) -> global" in lv["level_fallback"] for lv in graded)
    assert all(lv["level_group"] == "global" for lv in graded)


def test_thresholds_without_any_covering_group_fail_naming_them(real_build, tmp_path):
    from emotioncot.calibrate.levels import fit_thresholds
    from emotioncot.config import BuildConfig
    from emotioncot.pipeline import BuildError, build, load_records
    from emotioncot.workspace import Workspace

    rows = load_records(Workspace(real_build[0]), with_texts=False)
    thresholds = fit_thresholds([r for r in rows if r["corpus"] == "ravdess"])
    ws = tmp_path / "ws"
    shutil.copytree(real_build[0], ws)  # ingest and measure are reused
    sources = json.loads((ws / "build.json").read_text())["sources"]
    cfg = BuildConfig()
    # with its global group, the RAVDESS file grades EmoDB and every record says so
    cfg.calibrate.thresholds_file = tmp_path / "ravdess.json"
    cfg.calibrate.thresholds_file.write_text(json.dumps(thresholds))
    build(sources, ws, cfg, progress=False, log=lambda m: None)
    emodb = [r for r in _jsonl(ws) if r["corpus"] == "emodb"]
    assert emodb and all("(not in the thresholds) -> global" in r["level_fallback"] for r in emodb)
    assert sum(r["pitch_level"] is not None for r in emodb) >= 0.8 * len(emodb)
    # without it, nothing covers EmoDB: the build stops and names the group
    thresholds["groups"].pop("global")
    thresholds["fallback"] = [m for m in thresholds["fallback"] if m != "global"]
    cfg.calibrate.thresholds_file = tmp_path / "ravdess-only.json"
    cfg.calibrate.thresholds_file.write_text(json.dumps(thresholds))
    with pytest.raises(BuildError, match=r"emodb/speaker=03"):
        build(sources, ws, cfg, progress=False, log=lambda m: None)


# ---------------------------------------------------------------- emotion by level


def test_emotion_by_level_counts():
    from emotioncot.calibrate.crosstab import emotion_by_level

    table = pd.DataFrame({"emotion": ["sad", "angry", "angry", None, "sad"],
                          "energy_level": ["low", "high", "high", "low", None]})
    out = emotion_by_level(table, "energy")
    assert list(out.index) == ["sad", "angry", "(no class)"]
    assert list(out.columns) == ["low", "high", "not measured"]
    assert out.loc["angry", "high"] == 2 and out.loc["sad", "low"] == 1 and out.loc["sad", "not measured"] == 1
    assert int(out.values.sum()) == len(table)
    with pytest.raises(ValueError):
        emotion_by_level(table, "loudness")


def test_card_and_report_show_emotion_by_level(real_build):
    folder, _ = real_build
    rows = _jsonl(folder)
    angry_high = sum(1 for r in rows if r["emotion"] == "angry" and r["energy_level"] == "high")
    card = (folder / "README.md").read_text()
    section = card.split("## Emotion by level", 1)[1].split("### speed", 1)[0]
    energy = section.split("### energy", 1)[1]
    angry_row = next(line for line in energy.splitlines() if line.startswith("| angry |"))
    header = next(line for line in energy.splitlines() if line.startswith("| emotion |"))
    cells = dict(zip([c.strip() for c in header.strip("|").split("|")], [c.strip() for c in angry_row.strip("|").split("|")]))
    assert int(cells["high"]) == angry_high > 0
    report = (folder / "calibration_report.txt").read_text()
    assert "emotion by level" in report and "(no class)" in report  # the excluded clips are in the baseline


# ---------------------------------------------------------------- filter input, stress


def test_filter_rejects_rows_missing_what_the_checks_need():
    text = _FAITHFUL.format(**_GOOD)
    base = {k: v for k, v in _RECORD.items() if k not in ("transcript", "emotion")}
    rows = [
        {**base, "id": "no-emotion", "transcription": "Open the door.", "cot_analysis": text},
        {**base, "id": "no-text", "gt": "fear", "cot_analysis": text},
        {**base, "id": "ok", "gt": "fear", "transcription": "Open the door.", "cot_analysis": text},
    ]
    kept, rejected = filter_records(rows, FilterConfig(check_duplicates=False))
    assert [r["id"] for r in kept] == ["ok"]
    why = {r["id"]: r for r in rejected}
    assert why["no-emotion"]["reject_reasons"] == ["missing_field"] and "emotion" in why["no-emotion"]["explanation"]
    assert why["no-text"]["reject_reasons"] == ["missing_field"] and "transcription" in why["no-text"]["explanation"]


def test_function_words_are_data_per_language_and_never_stressed(real_build):
    from emotioncot.measure.stress import function_words

    german = function_words("de")
    assert {"wird", "habe", "haben", "sein", "da", "denn", "könnte", "unter"} <= german
    assert "the" in function_words("en-US") and "the" not in german
    rows = _jsonl(real_build[0])
    stressed = [w for r in rows if r["corpus"] == "emodb" for w in r["stressed_words"]]
    assert stressed and not [w for w in stressed if w.lower() in german]


def test_words_too_short_to_measure_stay_out_of_the_prominence_statistics(test_data):
    import soundfile as sf

    from emotioncot.ingest.manifest import load_manifest
    from emotioncot.measure.features import measure_signal
    from emotioncot.measure.stress import MIN_WORD_S

    sentences_by_code = load_manifest("emodb")["sentences"]
    short = 0
    for path in sorted((test_data / "emodb").rglob("*.wav")):
        y, sr = sf.read(path)
        details: dict = {}
        got = measure_signal(y, sr, sentences_by_code[path.stem[2:5]], language="de", details=details)
        for w in details.get("word_scores", []):
            too_short = w["end_s"] - w["start_s"] < MIN_WORD_S
            short += too_short
            assert (w["prominence"] is None) == too_short, (path.name, w)
            assert not (too_short and w["word"] in got["stressed_words"])
    assert short > 0  # EmoDB has words aligned to 10-30 ms: the rule is exercised


def test_prompt_cue_lines_carry_only_the_graded_numbers():
    from emotioncot.write.prompts import cue_lines

    lines = cue_lines(_RECORD)
    assert "231 Hz" in lines and "-17.3 dB" in lines and "6.2 syllables per second" in lines
    assert "dBFS" not in lines and "5.1" not in lines  # the level and the speaking rate were not graded
    assert "peak-normalised" in lines
    effort = cue_lines({**_RECORD, "energy_basis": "vocal_effort"})
    assert "-17.3" not in effort and "alpha ratio combined with the speech level" in effort
    assert numeric_problems(_RECORD, lines.replace("- ", "").replace("\n", ". ")) == []


@pytest.mark.parametrize("group, words", [
    ("demo/speaker=m1", "this speaker's own other clips"),
    ("meld/gender=Female", "the female voices of this corpus"),
    ("meld/gender=unknown", "the voices of this corpus"),
    ("global", "all the voices in this dataset"),
    (None, "similar speakers"),
])
def test_llm_prompts_say_what_the_levels_were_graded_against(group, words):
    from emotioncot.write.prompts import default_prompt_path, load_prompt, prompt_values

    record = {**_RECORD, "level_group": group}
    for task, mode in (("rationale", "aware"), ("rationale", "blind"), ("caption", None)):
        prompt = load_prompt(default_prompt_path(task, mode or "aware"), task, mode)
        user = prompt.fill(prompt_values(record, mode or "aware"))[1]["content"]
        assert f"(each level compared with {words}):" in user, user
        others = {"this speaker's own", "female voices", "voices of this corpus", "voices in this dataset"} - {
            w for w in ("this speaker's own", "female voices", "voices of this corpus", "voices in this dataset") if w in words}
        assert not any(o in user for o in others), user


_REFERENCE_WORDS = {  # level_group -> words every pitch sentence must carry
    "demo/speaker=m1": ("this speaker",),
    "meld/gender=Female": ("female voice", "female voices"),
    "meld/gender=unknown": ("voice in this corpus", "voices of this corpus"),
    "meld": ("voice in this corpus", "voices of this corpus"),
    "global": ("voice in this dataset", "voices in this dataset"),
    "meld/speaker=x + meld/gender=Female": ("group it is compared with", "group of voices it is compared with"),
}


@pytest.mark.parametrize("group", list(_REFERENCE_WORDS))
def test_pitch_sentences_name_the_group_the_level_was_graded_against(group):
    """"Low for this speaker" is true only where the thresholds were fitted on the speaker's own clips; a level
    graded against the corpus's female voices, the corpus or the whole dataset says so."""
    records = []
    for i in range(30):
        rec = {"id": f"ref-{i}", "corpus": "meld", "audio_path": "/x.wav", "transcript": "Kids are talking by the door.",
               "emotion": EMOTIONS[i % len(EMOTIONS)], "gender": "Female", "age_level": "Young Adult",
               "pitch_level": ("low", "normal", "high")[i % 3], "energy_level": "normal", "speed_level": "normal",
               "intonation": "falling", "stressed_words": ["door"], "f0_median_hz": 180.0 + i, "alpha_ratio_db": -12.0,
               "energy_basis": "alpha_ratio", "articulation_rate_sps": 4.2, "pause_count": 0, "duration_s": 2.0,
               "language": "en", "level_group": group, "writer": "template", "label_mode": "aware"}
        rec["caption"], rec["cot_analysis"] = write_caption(rec), write_rationale(rec, rec["emotion"])
        records.append(rec)
        for text in (rec["caption"], rec["cot_analysis"]):
            pitch = [s for s in sentences(mask_quotes(text)) if "pitch" in s and "Hz" in s]
            assert len(pitch) == 1, text
            assert any(w in pitch[0] for w in _REFERENCE_WORDS[group]), pitch[0]
            if "speaker=" not in group or " + " in group:
                assert "this speaker" not in text and "speaker's own" not in text, text
            # a group may hold this speaker alone (a corpus with one female speaker): "the other female voices"
            # would say there are others
            assert not re.search(r"\bother (?:\w+ )?voices\b", text), text
    kept, rejected = filter_records(records, FilterConfig(check_duplicates=False, check_schema=False))
    assert rejected == [], rejected[0]["explanation"]


def test_demo_build_states_levels_relative_to_the_speaker(demo_build):
    rows = pd.read_parquet(demo_build / "stages" / "filter.parquet").to_dict("records")
    assert {r["level_group"].split("/")[1].split("=")[0] for r in rows} == {"speaker"}
    for r in rows:
        for text in (r["caption"], r["cot_analysis"]):
            pitch = [s for s in sentences(mask_quotes(text)) if "pitch" in s and "Hz" in s]
            assert all("this speaker" in s for s in pitch), pitch
