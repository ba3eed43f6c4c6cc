"""Measurements move the way the demo corpus's synthesis parameters do (its ground truth)."""

from __future__ import annotations

import json
from collections import defaultdict

import numpy as np
import pytest
from scipy.stats import spearmanr

from emotioncot.config import MeasureConfig
from emotioncot.measure import measure_signal, measure_utterance


@pytest.fixture(scope="module")
def demo_measured(demo_corpus):
    """Two speakers (one male, one female), every sentence and emotion but whisper: 96 clips."""
    rows = [json.loads(line) for line in (demo_corpus / "metadata.jsonl").read_text().splitlines()]
    out = []
    for r in rows:
        if r["speaker_id"] not in ("m1", "f2") or r["emotion"] == "whisper":
            continue
        row = {"id": r["id"], "audio_path": str(demo_corpus / r["audio_path"]), "transcript": r["transcript"],
               "language": "en", "gender": r["gender"]}
        out.append((r, measure_utterance(row, MeasureConfig(stress_method="none"))))
    return out


@pytest.mark.parametrize("speaker", ["m1", "f2"])
def test_measured_f0_rises_with_synthesised_pitch(demo_measured, speaker):
    pairs = [(r["pitch"], m["f0_median_hz"]) for r, m in demo_measured if r["speaker_id"] == speaker]
    rho = spearmanr(*zip(*pairs))[0]
    assert rho > 0.8, rho
    by_sentence = defaultdict(list)  # the same words: only the synthesis parameters differ
    for r, m in demo_measured:
        if r["speaker_id"] == speaker:
            by_sentence[r["sentence_id"]].append((r["pitch"], m["f0_median_hz"]))
    rhos = [spearmanr(*zip(*p))[0] for p in by_sentence.values()]
    assert np.median(rhos) > 0.85, rhos
    # the low and high ends of the synthesised pitch range are far apart in measured F0
    lo = np.median([f for p, f in pairs if p <= 40])
    hi = np.median([f for p, f in pairs if p >= 70])
    assert hi > lo * 1.3, (lo, hi)


@pytest.mark.parametrize("speaker", ["m1", "f2"])
def test_measured_rate_rises_with_synthesised_rate(demo_measured, speaker):
    by_sentence = defaultdict(list)
    for r, m in demo_measured:
        if r["speaker_id"] == speaker:
            by_sentence[r["sentence_id"]].append((r["rate"], m["articulation_rate_sps"]))
    # same sentence, same syllables: the rate ordering must follow eSpeak's words per minute
    rhos = [spearmanr(*zip(*pairs))[0] for pairs in by_sentence.values()]
    assert np.median(rhos) > 0.8, rhos


def test_female_voices_measure_higher_and_gender_estimate_agrees(demo_measured):
    for r, m in demo_measured:
        assert m.get("estimated_gender") is None  # metadata gives the gender: no estimate is offered
    f0 = {g: np.median([m["f0_median_hz"] for r, m in demo_measured if r["gender"] == g]) for g in ("Male", "Female")}
    assert f0["Female"] > f0["Male"] * 1.3


def test_questions_end_rising_and_statements_do_not(demo_measured):
    q = [m["intonation"] for r, m in demo_measured if r["transcript"].endswith("?")]
    s = [m["intonation"] for r, m in demo_measured if r["transcript"].endswith(".")]
    rising = ("rising", "falling-rising")
    assert np.mean([i in rising for i in q]) > 0.8
    assert np.mean([i in rising for i in s]) < 0.2


def test_level_follows_synthesised_volume(demo_measured):
    for speaker in ("m1", "f2"):
        pairs = [(r["volume"], m["energy_dbfs"]) for r, m in demo_measured if r["speaker_id"] == speaker]
        assert spearmanr(*zip(*pairs))[0] > 0.8


def test_word_alignment_recovers_espeak_word_starts(demo_corpus):
    """The aligner against eSpeak's own word events (recorded at synthesis): a different voice, pitch
    and rate from the neutral reference reading, so the warp is real."""
    import soundfile as sf

    rows = [json.loads(line) for line in (demo_corpus / "metadata.jsonl").read_text().splitlines()]
    errors = []
    for r in rows[::9]:
        if r["emotion"] == "whisper":
            continue
        y, sr = sf.read(demo_corpus / r["audio_path"])
        details: dict = {}
        measure_signal(y, sr, r["transcript"], details=details)
        words = details["word_scores"]
        assert [w["word"] for w in words] == r["transcript"].rstrip(".!?").split()
        # eSpeak reports no event for some unstressed words: compare the words it timed
        k = 0
        for word, t in r["word_starts_s"][1:]:  # the first word starts at speech onset
            while words[k]["word"] != word:
                k += 1
            errors.append(abs(words[k]["start_s"] - t))
    assert np.median(errors) < 0.05 and np.percentile(errors, 90) < 0.12, np.percentile(errors, [50, 90])


def _emphasise(y, sr, start, end, f0_factor=1.35, gain=2.0):
    """Make one word prominent: F0 x 1.35 (WORLD resynthesis) and +6 dB over its span."""
    import pyworld as pw

    f0, t = pw.dio(y, sr, frame_period=5)
    f0 = pw.stonemask(y, f0, t, sr)
    sp, ap = pw.cheaptrick(y, f0, t, sr), pw.d4c(y, f0, t, sr)
    f0 = np.where((t >= start) & (t < end), f0 * f0_factor, f0)
    out = pw.synthesize(f0, sp, ap, sr, frame_period=5)[: len(y)]
    g = np.ones(len(out))
    g[int(start * sr) : int(end * sr)] = gain
    return out * g


@pytest.mark.parametrize("clip", ["demo_m1_s5_neutral", "demo_f2_s2_neutral"])
def test_the_emphasised_word_is_reported_as_stressed(demo_corpus, clip):
    import soundfile as sf

    from emotioncot.measure.signal import prepare
    from emotioncot.measure.stress import FUNCTION_WORDS

    r = next(json.loads(line) for line in (demo_corpus / "metadata.jsonl").read_text().splitlines() if clip in line)
    y, sr = sf.read(demo_corpus / r["audio_path"])
    y = prepare(y, sr)
    starts = r["word_starts_s"]
    tried = 0
    for k, (word, start) in enumerate(starts):
        if word.lower() in FUNCTION_WORDS:
            continue
        end = starts[k + 1][1] if k + 1 < len(starts) else len(y) / 16000
        got = measure_signal(_emphasise(y, 16000, start, end), 16000, r["transcript"])["stressed_words"]
        assert word in got and len(got) <= 2, (word, got)
        tried += 1
    assert tried >= 4


def test_speech_and_pauses_fit_inside_the_clip(demo_build):
    """The activity mask counts whole frames on a grid running a hop past the last sample; before the clamp,
    34 of the 216 demo records had more speech than clip (by up to 9.8 ms). Rounding to ms allows 1.5 ms."""
    rows = [json.loads(line) for line in (demo_build / "emotioncot.jsonl").read_text().splitlines()]
    measured = [r for r in rows if r.get("speech_s") is not None]
    assert len(measured) >= 200
    over = [(r["id"], r["speech_s"], r["pause_total_s"], r["duration_s"]) for r in measured
            if r["speech_s"] + r["pause_total_s"] > r["duration_s"] + 0.0015]
    assert not over, over[:5]
