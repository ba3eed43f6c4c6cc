"""Measurement on real recordings (../shared/data) against what is known about them."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest
import soundfile as sf

from emotioncot.measure import measure_signal, measure_utterance

A0009_TEXT = "He turned sharply, and faced Gregson across the table."
A0009_WORDS = ["He", "turned", "sharply", "and", "faced", "Gregson", "across", "the", "table"]


def _phones(path):
    """(start_s, end_s, phone) from the HTS full-context label (times in 100 ns)."""
    out = []
    for line in path.read_text().splitlines():
        a, b, label = line.split(maxsplit=2)
        out.append((int(a) / 1e7, int(b) / 1e7, label.split("-", 1)[1].split("+", 1)[0]))
    return out


def test_arctic_a0009_speech_time_and_pauses_match_the_phone_alignment(test_data):
    d = test_data / "cmu_arctic"
    phones = _phones(d / "arctic_a0009_slt_phone.lab")
    speech = [(a, b) for a, b, p in phones if p not in ("sil", "pau")]
    inner_pauses = [(a, b) for a, b, p in phones[1:-1] if p in ("sil", "pau") and b - a >= 0.2]
    truth_speech = speech[-1][1] - speech[0][0] - sum(b - a for a, b in inner_pauses)
    m = measure_utterance({"id": "a0009", "audio_path": str(d / "arctic_a0009_slt.wav"), "transcript": A0009_TEXT})
    assert m["error"] is None
    assert abs(m["speech_s"] / truth_speech - 1) < 0.10, (m["speech_s"], truth_speech)
    assert m["pause_count"] == len(inner_pauses)
    assert m["syllable_source"] == "cmudict" and m["syllable_count"] == 13
    assert 150 < m["f0_median_hz"] < 230  # slt: a female voice
    assert m["estimated_gender"] == "Female"


def test_arctic_a0009_word_alignment_agrees_with_the_phone_alignment(test_data):
    d = test_data / "cmu_arctic"
    phones = _phones(d / "arctic_a0009_slt_phone.lab")
    # word onsets from the alignment: he(hh) turned(t) sharply(sh) and(ae) faced(f) Gregson(g) across(ax) the(dh) table(t)
    onset_phones = ["hh", "t", "sh", "ae", "f", "g", "ax", "dh", "t"]
    truth, k = [], 0
    for a, _b, p in phones:
        if k < len(onset_phones) and p == onset_phones[k] and (not truth or a > truth[-1] + 0.1):
            truth.append(a)
            k += 1
    assert len(truth) == 9
    y, sr = sf.read(d / "arctic_a0009_slt.wav")
    details: dict = {}
    measure_signal(y, sr, A0009_TEXT, details=details)
    words = details["word_scores"]
    assert [w["word"] for w in words] == A0009_WORDS
    err = np.abs(np.array([w["start_s"] for w in words]) - truth)
    assert np.median(err) < 0.05 and err.max() < 0.1, err


@pytest.fixture(scope="module")
def emodb(test_data):
    d = test_data / "emodb"
    sentences = dict(line.split("\t", 1) for line in (d / "sentences.tsv").read_text().splitlines()[1:])
    out = defaultdict(dict)  # sentence -> file -> measurements
    for wav in sorted((d / "wav").glob("*.wav")):
        code, emotion = wav.name[2:5], wav.name[5]
        row = {"id": wav.stem, "audio_path": str(wav), "transcript": sentences[code].strip(), "language": "de"}
        out[code][wav.stem] = (emotion, measure_utterance(row))
    return out


@pytest.mark.parametrize("feature", ["f0_median_hz", "alpha_ratio_db"])
def test_emodb_anger_and_happiness_above_sadness_boredom_neutral(emodb, feature):
    compared = 0
    for code, clips in emodb.items():
        high = [m[feature] for e, m in clips.values() if e in "WF"]
        low = [m[feature] for e, m in clips.values() if e in "TLN"]
        if high and low:
            assert min(high) > max(low), (code, feature, high, low)
            compared += 1
    assert compared >= 8


def test_emodb_german_syllables_come_from_espeak_and_rates_are_plausible(emodb):
    for clips in emodb.values():
        for _e, m in clips.values():
            assert m["syllable_source"] == "espeak-ng:de"
            assert 2.5 < m["articulation_rate_sps"] < 10
    # sadness and boredom are slower than anger and happiness, on average per sentence
    diffs = []
    for clips in emodb.values():
        fast = [m["articulation_rate_sps"] for e, m in clips.values() if e in "WF"]
        slow = [m["articulation_rate_sps"] for e, m in clips.values() if e in "TL"]
        if fast and slow:
            diffs.append(np.mean(fast) - np.mean(slow))
    assert np.mean(diffs) > -0.5  # sadness/boredom not faster (EmoDB anger is often carefully articulated)


def test_emodb_energy_level_follows_vocal_effort_despite_peak_normalisation(emodb):
    from emotioncot.calibrate import apply_thresholds, fit_thresholds

    rows = []
    for clips in emodb.values():
        for name, (e, m) in clips.items():
            rows.append({**m, "id": name, "corpus": "emodb", "speaker_id": "03", "gender": "Male", "emo": e})
    th = fit_thresholds(rows)
    group = th["groups"]["emodb/speaker=03"]["vocal_effort_db"]
    assert group["peak_normalised"] and group["level_weight"] == 0.0
    levels = {lv["id"]: lv["energy_level"] for lv in apply_thresholds(rows, th)}
    anger = [levels[r["id"]] for r in rows if r["emo"] == "W"]
    calm = [levels[r["id"]] for r in rows if r["emo"] in "TL"]
    assert anger.count("high") >= 0.8 * len(anger)
    assert "high" not in calm and calm.count("low") >= 0.6 * len(calm)


def test_ravdess_quiet_stereo_48k_is_measured(test_data):
    files = sorted((test_data / "ravdess").glob("03-01-0*.wav")) or sorted((test_data / "ravdess").glob("*.wav"))
    by_emotion = {}
    for wav in files:
        m = measure_utterance({"id": wav.stem, "audio_path": str(wav), "transcript": "Kids are talking by the door"})
        assert m["error"] is None, (wav.name, m["error"])
        by_emotion.setdefault(wav.name.split("-")[2], []).append(m)
    # actor 01 is male; strong anger (05) is higher and more effortful than neutral (01)
    assert by_emotion["01"][0]["peak_dbfs"] < -20  # a quiet recording (about -28 dBFS), measured all the same
    assert all(m["estimated_gender"] == "Male" for m in by_emotion["01"])
    angry = max(by_emotion["05"], key=lambda m: m["alpha_ratio_db"])
    assert angry["f0_median_hz"] > by_emotion["01"][0]["f0_median_hz"]
    assert angry["alpha_ratio_db"] > by_emotion["01"][0]["alpha_ratio_db"]


def test_emodb_relative_rate_removes_what_the_text_does_to_the_rate(emodb, test_data):
    """Within one emotion, clips of different sentences vary less in speed against eSpeak's reading of
    the same sentence than in syllables per second (the sentences' own structure is divided out)."""
    from emotioncot.measure.expected import relative_rate

    sentences = dict(line.split("\t", 1) for line in (test_data / "emodb" / "sentences.tsv").read_text().splitlines()[1:])
    per_emotion: dict = defaultdict(lambda: ([], []))
    for code, clips in emodb.items():
        for _name, (e, m) in clips.items():
            rel, why = relative_rate(sentences[code].strip(), "de", m["speech_s"])
            assert why is None and 0.4 < rel < 2.0
            per_emotion[e][0].append(m["articulation_rate_sps"])
            per_emotion[e][1].append(rel)
    cv = lambda v: np.std(v) / np.mean(v)  # noqa: E731
    groups = [v for v in per_emotion.values() if len(v[0]) >= 4]
    assert len(groups) >= 5
    assert np.mean([cv(rel) for _, rel in groups]) < np.mean([cv(rate) for rate, _ in groups])


def test_emodb_thresholds_record_the_emotion_mix_they_were_fitted_on(emodb):
    from collections import Counter

    from emotioncot.calibrate import fit_thresholds
    from emotioncot.calibrate.report import report_text

    rows = [{**m, "id": name, "corpus": "emodb", "speaker_id": "03", "gender": "Male", "emotion": e}
            for clips in emodb.values() for name, (e, m) in clips.items()]
    th = fit_thresholds(rows)
    speed = th["groups"]["emodb/speaker=03"]["articulation_rate_sps"]
    assert speed["emotions"] == dict(sorted(Counter(r["emotion"] for r in rows).items()))
    without = fit_thresholds([r for r in rows if r["emotion"] != "E"])
    assert "E" not in without["groups"]["emodb/speaker=03"]["articulation_rate_sps"]["emotions"]
    assert without["version"] != th["version"]
    assert "fitted on: A 4" in report_text(th, [])
