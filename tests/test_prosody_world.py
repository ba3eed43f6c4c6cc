"""WORLD resynthesis for prosody tasks: pitch, level and tempo come out as intended, on a synthetic voice
with known F0 and on real recordings; the re-measurement catches a clip whose change is not the intended one."""

from __future__ import annotations

import numpy as np
import pytest

from emotioncot.audio.io import read_audio
from emotioncot.config import ProsodyConfig
from emotioncot.measure import measure_signal
from emotioncot.prosody import world
from emotioncot.prosody.verify import Change, measure, measured_change, mismatch, span_change

SR = 16000
CONFIG = ProsodyConfig()


def synthetic_voice(f0_start=110.0, f0_end=150.0, seconds=2.0, sr=SR, seed=0):
    """A glottal-pulse-like harmonic voice with a gliding F0, five 'syllables' separated by pauses, and
    a little noise floor. Returns the signal and the true F0 (Hz) per sample (0 in pauses)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    f0 = f0_start * (f0_end / f0_start) ** (t / seconds)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    y = sum((0.8 ** k) * np.sin(k * phase) for k in range(1, 25))
    envelope = np.zeros(n)
    for i in range(5):  # syllables of 0.25 s with 0.13 s pauses, starting at 0.1 s
        a, b = int((0.1 + i * 0.38) * sr), int((0.35 + i * 0.38) * sr)
        envelope[a:b] = np.hanning(b - a)
    y = 0.3 * y / np.max(np.abs(y)) * envelope + 1e-4 * rng.standard_normal(n)
    return y.astype(np.float32), np.where(envelope > 0.3, f0, 0.0)


def syllable_centres(y, sr):
    """Centres of the five energy bursts of ``synthetic_voice`` (energy-weighted mean time of each burst)."""
    power = np.convolve(y.astype(np.float64) ** 2, np.hanning(801) / 400, "same")  # 50 ms smoothing
    active = power > power.max() * 0.1
    edges = np.flatnonzero(np.diff(np.concatenate([[0], active.astype(np.int8), [0]])))
    t = np.arange(len(y)) / sr
    centres = [np.sum(t[a:b] * power[a:b]) / np.sum(power[a:b]) for a, b in zip(edges[::2], edges[1::2])]
    assert len(centres) == 5
    return np.array(centres)


def praat_median_f0(y, sr):
    return measure_signal(y, sr)["f0_median_hz"]


@pytest.fixture(scope="module")
def synthetic():
    y, true_f0 = synthetic_voice()
    return y, true_f0, world.Source(world.analyze(y, SR))


@pytest.mark.parametrize("semitones", [-4.0, -2.0, 1.0, 4.0])
def test_pitch_shift_on_synthetic_voice_matches_known_f0(synthetic, semitones):
    y, true_f0, source = synthetic
    shifted = world.synthesize(source.analysis, semitones=semitones)
    measured = praat_median_f0(shifted, SR)
    truth = np.median(true_f0[true_f0 > 0]) * 2 ** (semitones / 12)
    assert abs(12 * np.log2(measured / truth)) < 0.5
    # and, frame by frame, against the unchanged resynthesis (the pipeline's check)
    got = measured_change(measure(source.reference, SR), measure(shifted, SR))
    assert abs(got.semitones - semitones) < 0.1
    assert abs(got.tempo - 1.0) < 0.03


@pytest.mark.parametrize("tempo", [1 / 1.3, 1.15, 1.3])
def test_tempo_change_on_synthetic_voice(synthetic, tempo):
    y, _, source = synthetic
    out = world.synthesize(source.analysis, tempo=tempo)
    assert len(out) == round(len(y) / tempo)  # no truncation, no padding
    # ground truth: syllable centres are 0.38 s apart in the input, so 0.38 / tempo apart in the output
    spacing = np.diff(syllable_centres(out, SR)).mean()
    assert abs((0.38 / spacing) / tempo - 1) < 0.03
    got = measured_change(measure(source.reference, SR), measure(out, SR), tempo)
    assert abs(got.tempo / tempo - 1) < 0.03
    assert abs(got.semitones) < 0.5  # tempo leaves pitch alone


@pytest.mark.parametrize("gain_db", [-6.0, 3.0, 6.0])
def test_level_change_on_synthetic_voice(synthetic, gain_db):
    _, _, source = synthetic
    out = world.set_level(source.reference, SR, source.reference_level_db + gain_db)
    got = measured_change(measure(source.reference, SR), measure(out, SR))
    assert abs(got.gain_db - gain_db) < 0.5
    assert abs(got.semitones) < 0.5 and abs(got.tempo - 1) < 0.03


def _real_files(test_data):
    return [
        test_data / "emodb" / "wav" / "03a01Wa.wav",  # anger: wide F0 excursions
        test_data / "emodb" / "wav" / "03a04Ta.wav",  # sadness
        test_data / "ravdess" / "03-01-05-02-01-01-01.wav",
        test_data / "cmu_arctic" / "arctic_a0009_slt.wav",
    ]


CHANGES = [Change(semitones=4.0), Change(semitones=-4.0), Change(gain_db=6.0), Change(gain_db=-6.0),
           Change(tempo=1.3), Change(tempo=1 / 1.3), Change(semitones=2.5, tempo=1.15)]


def test_changes_on_real_recordings(test_data):
    files = [f for f in _real_files(test_data) if f.exists()]
    if len(files) < 3:
        files = sorted((test_data / "emodb" / "wav").glob("*.wav"))[:3]
    assert files, "no real recordings found"
    worst = {"semitones": 0.0, "gain_db": 0.0, "tempo": 0.0}
    for path in files:
        y, sr = world.resample(*read_audio(path), SR)
        source = world.Source(world.analyze(y, sr))
        ref = measure(source.reference, sr)
        # the reference resynthesis keeps the original's speech, neither cut nor padded
        assert len(source.reference) == len(y)
        for change in CHANGES:
            out = world.synthesize(source.analysis, change.semitones, change.tempo)
            out = world.set_level(out, sr, source.reference_level_db + change.gain_db)
            assert len(out) == round(len(y) / change.tempo), path.name
            got = measured_change(ref, measure(out, sr), change.tempo)
            assert mismatch(change, got, CONFIG) is None, f"{path.name} {change}: {got}"
            worst["semitones"] = max(worst["semitones"], abs(got.semitones - change.semitones))
            worst["gain_db"] = max(worst["gain_db"], abs(got.gain_db - change.gain_db))
            worst["tempo"] = max(worst["tempo"], abs(got.tempo / change.tempo - 1))
    assert worst["semitones"] < 0.5 and worst["gain_db"] < 0.5 and worst["tempo"] < 0.03, worst


def _speech_span(x, sr, below_peak_db):
    p = 10 * np.log10(np.maximum(np.convolve(x.astype(np.float64) ** 2, np.ones(320) / 320, "same"), 1e-20))
    active = np.flatnonzero(p > p.max() - below_peak_db)
    return active[0] / sr, active[-1] / sr


@pytest.mark.parametrize("name", ["arctic_a0007_awb.wav", "arctic_a0009_slt.wav"])
def test_speech_span_kept_and_scaled_on_real_recording(test_data, name):
    """The resynthesis keeps the whole utterance (speech starts and ends where the original's do) and a
    tempo change scales that span, nothing cut at the end and nothing padded."""
    y, sr = world.resample(*read_audio(test_data / "cmu_arctic" / name), SR)
    source = world.Source(world.analyze(y, sr))
    # 25 dB below the peak: a breath at -28 dB after the last word of a0007 is softened by WORLD
    start0, end0 = _speech_span(y, sr, 25)
    start_r, end_r = _speech_span(source.reference, sr, 25)
    assert abs(start_r - start0) < 0.03 and abs(end_r - end0) < 0.03
    start_r, end_r = _speech_span(source.reference, sr, 30)
    for tempo in (1.3, 1 / 1.3):
        start, end = _speech_span(world.synthesize(source.analysis, tempo=tempo), sr, 30)
        assert abs(start - start_r / tempo) < 0.03
        assert abs(end - end_r / tempo) < 0.03


def test_mismatched_clips_are_caught(synthetic):
    """The check fails when the clip carries a different change than the one it is labelled with."""
    _, _, source = synthetic
    ref = measure(source.reference, SR)
    wrong_pitch = measure(world.synthesize(source.analysis, semitones=3.0), SR)
    assert "pitch change" in mismatch(Change(semitones=4.0), measured_change(ref, wrong_pitch), CONFIG)
    wrong_tempo = measure(world.synthesize(source.analysis, tempo=1.2), SR)
    assert "tempo ratio" in mismatch(Change(tempo=1.3), measured_change(ref, wrong_tempo, 1.3), CONFIG)
    wrong_level = measure(world.set_level(source.reference, SR, source.reference_level_db + 5.0), SR)
    assert "level change" in mismatch(Change(gain_db=6.0), measured_change(ref, wrong_level), CONFIG)
    # a pitch question must not be answerable by loudness: an unmatched level is caught too
    loud_shift = measure(world.synthesize(source.analysis, semitones=4.0) * 2.0, SR)
    assert "level change" in mismatch(Change(semitones=4.0), measured_change(ref, loud_shift), CONFIG)


def test_word_emphasis_is_local(synthetic):
    _, _, source = synthetic
    start, end = 0.48, 0.73  # the second syllable
    out = world.synthesize(source.analysis, emphasis=(start, end, 3.0, 5.0))
    ramp = world.ramp_length(start, end)
    inside, outside = span_change(source.reference, out, SR, start + ramp, end - ramp)
    assert abs(inside.semitones - 3.0) < 0.5
    assert inside.gain_db > 3.0
    assert abs(outside.semitones) < 0.2 and abs(outside.gain_db) < 0.5


def test_join_adds_only_the_silences():
    a, b = np.ones(1000, np.float32), np.ones(500, np.float32)
    joined = world.join([a, b, a], SR, 0.5)
    assert len(joined) == 1000 + 500 + 1000 + 2 * 8000
    assert np.all(joined[1000:9000] == 0) and joined[0] == 1 and joined[-1] == 1


def test_headroom_keeps_relative_levels():
    clips = [np.full(100, 0.5, np.float32), np.full(100, 1.4, np.float32)]
    out, shift_db = world.fit_headroom(clips)
    assert max(np.max(np.abs(c)) for c in out) <= 0.89 + 1e-6
    assert shift_db < 0
    assert np.isclose(out[1][0] / out[0][0], 1.4 / 0.5)


def test_analysis_rejects_bad_input():
    with pytest.raises(ValueError, match="too short"):
        world.analyze(np.zeros(100, np.float32), SR)
    with pytest.raises(ValueError, match="mono"):
        world.analyze(np.zeros((2, 16000), np.float32), SR)
