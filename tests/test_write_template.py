"""The offline writer: deterministic, grounded in what was measured, varied, 50-200 words, label last."""

from __future__ import annotations

import itertools
import re

import pytest

from emotioncot.filter.checks import word_count
from emotioncot.taxonomy import EMOTIONS
from emotioncot.workspace import Workspace
from emotioncot.write.template import write_caption, write_rationale, write_template

LABEL_WORDS = re.compile(r"\b(neutral|happ\w*|sad\w*|angr\w*|anger|contempt\w*|disgust\w*|confus\w*|whisper\w*|surpris\w*|fear\w*)\b", re.I)


@pytest.fixture(scope="module")
def records(demo_build):
    from emotioncot.pipeline import load_records

    return load_records(Workspace(demo_build), with_texts=False)


def _unquoted(text: str) -> str:
    return re.sub(r'"[^"]*"', "", text)


def _synthetic() -> list[dict]:
    """Every combination of levels (and missing ones), speakers and contours."""
    out = []
    combos = itertools.product(("low", "normal", "high", None), ("low", "normal", "high", None),
                               ("slow", "normal", "fast", None), ("rising", "flat", None, "uncertain"),
                               ("Male", "Female", None))
    for i, (p, e, s, into, g) in enumerate(combos):
        out.append({"id": f"syn{i}", "transcript": ["Open the door.", "Are you sure?", "", "Not again!"][i % 4],
                    "gender": g, "age_level": ["Elderly", None, "Child"][i % 3], "pitch_level": p,
                    "energy_level": e, "speed_level": s, "intonation": into,
                    "stressed_words": ["door"] if i % 5 == 0 else [], "pause_count": i % 3,
                    "f0_median_hz": 180.0 if p else None, "energy_dbfs": -20.0 if e else None})
    return out


def test_rationales_are_50_to_200_words_and_name_the_label_only_at_the_end(records):
    for rec in records + _synthetic():
        for emotion in (EMOTIONS if rec["id"].startswith("syn") else [rec["emotion"]]):
            text = write_rationale(rec, emotion)
            assert 50 <= word_count(text) <= 200, (rec["id"], emotion, text)
            *body, last = re.split(r"(?<=[.!?])\s+(?=[A-Z])", text)
            assert emotion in last
            # No class name (or its word family) anywhere before the last sentence, quotes aside.
            assert not LABEL_WORDS.search(_unquoted(" ".join(body))), (emotion, text)


def test_deterministic_and_varied(records):
    first = [write_template(r) for r in records]
    again = [write_template(r) for r in records]
    assert first == again
    openers = {re.split(r"(?<=[.!?\"])\s", r["cot_analysis"])[0].split('"')[0] for r in first}
    endings = {r["cot_analysis"].rsplit(". ", 1)[-1].split(" ")[0] for r in first}
    assert len(openers) >= 5 and len(endings) >= 4
    texts = [r["cot_analysis"] for r in first]
    assert len(set(texts)) == len(texts)


def test_only_measured_cues_are_described():
    base = {"id": "g1", "transcript": "Open the door.", "gender": "Female", "age_level": "Elderly"}
    none = write_rationale(base, "sad")
    assert "could not be judged" in none and "Hz" not in none and "dBFS" not in none
    assert "elderly female speaker" in none and '"Open the door."' in none
    rich_record = {**base, "pitch_level": "high", "f0_median_hz": 231.4, "f0_range_st": 9.04,
                   "energy_level": "low", "energy_dbfs": -31.2, "alpha_ratio_db": -17.26, "energy_basis": "alpha_ratio",
                   "speed_level": "fast", "speaking_rate_sps": 5.25, "articulation_rate_sps": 6.24,
                   "intonation": "rising"}
    rich = write_rationale(rich_record, "fear")
    # only the quantity each level was graded on (write/facts.py): F0 median, alpha ratio, articulation rate
    assert "231 Hz" in rich and "-17.3 dB" in rich and "6.2 syllables" in rich
    assert "dBFS" not in rich and "semitones" not in rich and "5.2" not in rich
    # energy graded on alpha ratio + level: no single number agrees with the level, so none is quoted
    effort = write_rationale({**rich_record, "energy_basis": "vocal_effort"}, "fear")
    assert "dB" not in effort and "vocal effort" in effort
    assert "rises toward the end" in rich and "could not be judged" not in rich
    # a contour that could not be judged is never described
    assert "melody" not in write_rationale({**base, "intonation": "uncertain"}, "sad")
    caption = write_caption({**base, "pitch_level": "low"})
    assert "pitch" in caption.lower() and "loud" not in caption and "tempo" not in caption


def test_cues_that_contradict_the_label_are_said_to_be_against_it():
    """template-v7: cues are weighed by the evidence table (here the documented prior): every cue against the
    class is said to be against it, none is said to point toward it, and the case is called weak."""
    rec = {"id": "c1", "transcript": "Fine.", "pitch_level": "high", "energy_level": "high", "speed_level": "fast"}
    text = write_rationale(rec, "sad")  # the prior counts high pitch, high effort and a fast tempo against sad
    assert re.search(r"None of these cues points toward|No measured cue marks", text), text
    assert re.search(r"speak against it|not what that reading usually brings", text), text
    assert re.search(r"weak", text.rsplit(". ", 1)[-1]), text
    fitting = write_rationale(rec, "angry")
    assert "against it" not in fitting and re.search(r"clear|consistent", fitting.rsplit(". ", 1)[-1]), fitting


_CLAIMS = re.compile(r"add up to|suggests?\b|point(s)? toward|hints at|clearest sign|therefore|points to|best explains")


def test_middle_levels_are_no_sign_for_a_marked_class():
    """A middle level is neutral evidence unless the table says otherwise: with only middle levels a marked
    class gets no claim that the cues point to it, and the conclusion says the case is weak."""
    for i, emotion in enumerate(e for e in EMOTIONS if e != "neutral"):
        rec = {"id": f"m{i}", "transcript": "Open the door.", "pitch_level": "normal", "energy_level": "normal",
               "speed_level": "normal"}
        text = write_rationale(rec, emotion)
        for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z])", text)[:-1]:
            if not sentence.startswith(("None of these cues", "No measured cue")):
                assert not _CLAIMS.search(sentence) and not re.search(r"\bfits?\b", sentence), (emotion, text)
        assert re.search(r"no sign either way|little for or against", text), text
        assert "weak" in text.rsplit(". ", 1)[-1] or "Little in the voice" in text, text


def test_captions_never_name_an_emotion(records):
    for rec in records:
        caption = write_caption(rec)
        assert not LABEL_WORDS.search(_unquoted(caption)), caption
        assert rec["transcript"] in caption


def test_template_needs_the_gold_label():
    with pytest.raises(ValueError, match="label-aware"):
        write_template({"id": "x", "transcript": "hi"}, "blind")
    with pytest.raises(ValueError, match="unknown emotion"):
        write_rationale({"id": "x"}, "bored")


def test_a_label_blind_template_build_is_refused_before_any_work(tmp_path):
    """Every record would fail (the template needs the gold label): that is the run's error, said at once, not one
    errors.jsonl line per clip blaming the clip (a RAVDESS build with --label-mode blind wrote 15 such lines)."""
    from typer.testing import CliRunner

    from emotioncot.cli import app

    out = tmp_path / "blind"
    for command in (["build", "--corpus", f"ravdess={tmp_path}", "-o", str(out)], ["generate", str(out)]):
        result = CliRunner().invoke(app, [*command, "--label-mode", "blind", "-q"])
        assert result.exit_code != 0 and "label-aware rationales only" in result.output, result.output
        assert not (out / "errors.jsonl").exists() and not (out / "stages").exists()


def test_every_level_the_template_states_is_read_back_by_the_grounding_reader():
    """The offline writer and the quality filter (and the offline grader) share one reading of the text:
    whatever level the template writes for pitch, energy and speed must be read back as exactly that level."""
    from itertools import product

    from emotioncot.filter.grounding import level_statements
    from emotioncot.taxonomy import EMOTIONS

    unread = []
    for emotion in EMOTIONS:
        for i, (p, e, s) in enumerate(product(("low", "normal", "high"), ("low", "normal", "high"), ("slow", "normal", "fast"))):
            for k in range(4):
                record = dict(id=f"r{i}-{k}-{emotion}", pitch_level=p, energy_level=e, speed_level=s,
                              transcript="Kids are talking by the door.", gender="Female")
                said = level_statements(write_rationale(record, emotion))
                for aspect, level in (("pitch", p), ("energy", e), ("speed", s)):
                    if not said[aspect] or not all(level in allowed for allowed in said[aspect]):
                        unread.append((record["id"], aspect, level, said[aspect]))
    assert unread == []


def test_a_new_template_version_is_written_again_on_rerun(records, tmp_path, monkeypatch):
    """A rerun after the template changed (a new release) writes the texts again: the write stage's skip key
    holds the template's version, so template-v5 texts are not exported under a v6 build."""
    import emotioncot.write.template as template
    from emotioncot.config import BuildConfig
    from emotioncot.pipeline import run_write

    ws, cfg = Workspace(tmp_path), BuildConfig()
    first, _ = run_write(ws, records[:6], cfg, progress=False)
    assert {r["prompt_id"] for r in first} == {template.PROMPT_ID}
    monkeypatch.setattr(template, "PROMPT_ID", "template-next")
    again, info = run_write(ws, records[:6], cfg, progress=False)
    assert not info.get("skipped") and {r["prompt_id"] for r in again} == {"template-next"}
