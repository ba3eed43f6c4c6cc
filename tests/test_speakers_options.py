"""Switches and override columns of the estimates for sources that do not say (issue 27), on real clips."""

from __future__ import annotations

import json

import pytest

from emotioncot.config import IngestConfig


def _list(tmp_path, test_data, **columns) -> str:
    wavs = sorted((test_data / "ravdess").glob("*.wav"))[:3] + sorted((test_data / "emodb" / "wav").glob("*.wav"))[:3]
    texts = ["Kids are talking by the door."] * 3 + ["Das will sie am Mittwoch abgeben."] * 3
    lines = []
    for i, (wav, text) in enumerate(zip(wavs, texts)):
        row = {"audio_path": str(wav), "transcription": text, "emotion": "neutral"}
        row.update({k: v[i] for k, v in columns.items()})
        lines.append(row)
    path = tmp_path / "clips.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return f"jsonl:{path}?allow_outside=1"


def _ingest(spec, **config):
    from emotioncot.ingest import ingest_sources

    rows, errors = ingest_sources([spec], IngestConfig(workers=1, **config), progress=False)
    assert not errors, errors
    return rows


def test_a_list_with_speaker_ids_and_languages_is_left_as_it_is(tmp_path, test_data, monkeypatch):
    import emotioncot.ingest.speakers as speakers

    def no_embedding(rows):
        raise AssertionError("a list with speaker ids must not be clustered")

    monkeypatch.setattr(speakers, "embed_clips", no_embedding)
    spec = _list(tmp_path, test_data, speaker="a a a b b b".split(), language=["en"] * 3 + ["fr"] * 3)
    rows = _ingest(spec)
    assert [r["speaker_id"] for r in rows] == list("aaabbb")
    assert {r["speaker_source"] for r in rows} == {"metadata"}
    # the column wins even where it is wrong: German sentences said to be French stay French
    assert [r["language"] for r in rows] == ["en"] * 3 + ["fr"] * 3 and {r["language_source"] for r in rows} == {"metadata"}


def test_switches_turn_each_estimate_off(tmp_path, test_data):
    rows = _ingest(_list(tmp_path, test_data), cluster_speakers=False, estimate_language=False)
    assert all(r["speaker_id"] is None and r["speaker_source"] is None for r in rows)
    assert all(r["language"] is None and r["language_source"] is None for r in rows)


def test_languages_are_estimated_per_transcript_and_marked(tmp_path, test_data):
    rows = _ingest(_list(tmp_path, test_data), cluster_speakers=False)
    assert [(r["language"], r["language_source"]) for r in rows] == [("en", "estimated")] * 3 + [("de", "estimated")] * 3
    assert all(0.5 <= r["meta"]["language_confidence"] <= 1 for r in rows)


def test_a_too_short_transcript_gets_no_language():
    from emotioncot.ingest.language import detect

    code, confidence = detect("Ja.", IngestConfig().language_candidates, 0.5)
    assert code is None and confidence < 0.5
    assert detect("Das will sie am Mittwoch abgeben.", IngestConfig().language_candidates, 0.5)[0] == "de"


def test_an_unknown_candidate_language_is_a_clear_error():
    from emotioncot.ingest.language import detect

    with pytest.raises(ValueError, match="'xx' is not an ISO 639-1 code"):
        detect("hello there", ("en", "xx"), 0.5)


def test_too_many_clips_to_cluster_is_refused_before_any_work(tmp_path, test_data):
    from emotioncot.errors import BuildError

    with pytest.raises(BuildError, match=r"6 clips have no speaker id.*--no-speaker-clusters"):
        _ingest(_list(tmp_path, test_data), max_cluster_clips=5)


def _rows(f0s, speaker="s", **extra):
    utts = [{"id": f"u{i}", "corpus": "c", "speaker_id": speaker, **extra} for i in range(len(f0s))]
    ms = [{"id": f"u{i}", "f0_median_hz": f, "estimated_gender_confidence": 0.9} for i, f in enumerate(f0s)]
    return [{**u, "f0_median_hz": m["f0_median_hz"]} for u, m in zip(utts, ms)], ms


@pytest.mark.parametrize("f0s,expected", [
    ((110.0, 118.0, 125.0, 300.0), "Male"),       # one shouted clip does not decide
    ((210.0, 220.0, 230.0), "Female"),
    ((105.0, 168.0, 170.0, 230.0, 250.0), None),  # a median of 170 Hz: too near the boundary to say
    ((110.0, 115.0), None),                       # two clips are too few
])
def test_gender_is_per_speaker_and_withheld_when_unsure(f0s, expected):
    from emotioncot.measure.gender import apply_speaker_genders

    rows, ms = _rows(f0s)
    apply_speaker_genders(rows, ms)
    assert {r.get("gender") for r in rows} == {expected}
    assert {r.get("gender_source") for r in rows} == {"estimated" if expected else None}


def test_the_card_states_the_gender_rule_the_estimator_applies():
    """The card's "under N Hz or over M Hz": a speaker median just inside each stated bound gets a gender, one a
    hertz outside it does not (the card said "under about 151 Hz", and 150.5 Hz was withheld)."""
    import re

    from emotioncot.ingest.estimates import _how
    from emotioncot.measure.gender import MIN_CONFIDENCE, estimate_gender

    m = re.search(r"under (?:about )?(\d+) Hz or over (?:about )?(\d+) Hz", _how("gender"))
    assert m, _how("gender")
    male_below, female_above = int(m.group(1)), int(m.group(2))
    assert estimate_gender(male_below - 0.01)[0] == "Male" and estimate_gender(male_below - 0.01)[1] >= MIN_CONFIDENCE
    assert estimate_gender(female_above + 0.01)[0] == "Female" and estimate_gender(female_above + 0.01)[1] >= MIN_CONFIDENCE
    assert estimate_gender(male_below + 1)[1] < MIN_CONFIDENCE and estimate_gender(female_above - 1)[1] < MIN_CONFIDENCE


def test_gender_from_the_source_wins_and_the_switch_offers_none():
    from emotioncot.measure.gender import apply_speaker_genders

    rows, ms = _rows((110.0, 115.0, 120.0), gender="Female", gender_source="metadata")
    apply_speaker_genders(rows, ms)
    assert {(r["gender"], r["gender_source"]) for r in rows} == {("Female", "metadata")}
    rows, ms = _rows((110.0, 115.0, 120.0))
    apply_speaker_genders(rows, [{**m, "estimated_gender_confidence": None} for m in ms])  # measure.estimate_gender off
    assert {r.get("gender") for r in rows} == {None}


def test_a_row_without_speaker_gets_no_gender_from_its_own_clip():
    from emotioncot.measure.gender import apply_speaker_genders

    rows, ms = _rows((100.0,), speaker=None)
    apply_speaker_genders(rows, ms)
    assert rows[0].get("gender") is None


@pytest.mark.parametrize("text, flagged", [
    ('A male speaker says "Kids are talking by the door." His pitch is moderate.', True),
    ('She says "He never listens." Her voice is firm.', True),
    ('The speaker says "He turned sharply." The pitch is moderate and the pace even.', False),  # the quote is not a claim
])
def test_a_text_naming_a_gender_the_record_does_not_state_is_flagged(text, flagged):
    """EmoDB speaker 03 built from a plain list gets no gender (his median F0 is too near the boundary): a
    writer that names one anyway guessed it."""
    from emotioncot.filter.grounding import grounding_problems

    record = dict(gender=None, pitch_level="normal", energy_level="normal", speed_level="normal", intonation="falling",
                  cot_analysis=text)
    codes = [c for c, _ in grounding_problems(record, aspects=("gender",))]
    assert (codes == ["grounding_gender"]) == flagged, codes


def test_analyze_offers_no_per_clip_gender_near_the_boundary():
    from emotioncot.measure import measure_signal
    from emotioncot.measure.synthetic import pad, voice

    SR = 16000
    near = measure_signal(pad(voice(170, 1.5), SR, 0.2, 0.2), SR)
    assert near["estimated_gender"] is None and 0.5 <= near["estimated_gender_confidence"] < 0.75
    assert "too near" in near["null_reasons"]["estimated_gender"]
    low = measure_signal(pad(voice(110, 1.5), SR, 0.2, 0.2), SR)
    assert low["estimated_gender"] == "Male"
