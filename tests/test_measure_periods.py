"""Glottal periods: the port of Praat's "To PointProcess (cc)" (emotioncot/measure/periods.py) against Praat itself,
on every real recording and on synthetic voices (with their jitter and shimmer).

Tolerances: the same number of pulses in every file, each within 1e-12 s of Praat's (the port sums the
cross-correlations in another order, which moves a correlation by about 1e-16; measured when written: 15,968
pulses on the 66 real files' speech spans, within 6e-15 s), and jitter and shimmer within 1e-9 relative."""

from __future__ import annotations

import numpy as np
import pytest

from emotioncot.audio.io import read_audio
from emotioncot.measure import perturbation, pitch
from emotioncot.measure.periods import pulses
from emotioncot.measure.signal import prepare
from emotioncot.measure.synthetic import add_white_noise, pad, voice
from emotioncot.measure import voice_quality
from emotioncot.measure.voice_quality import jitter_shimmer

SR = 16000


def _praat_pulses(sound, praat_pitch) -> np.ndarray:
    from parselmouth.praat import call

    points = call([sound, praat_pitch], "To PointProcess (cc)")
    if call(points, "Get number of points") == 0:
        return np.zeros(0)
    return call(points, "To Matrix").values[0]


def jitter_shimmer_from_pulses(sound, times: np.ndarray) -> tuple[float | None, float | None, str | None]:
    """Praat's jitter and shimmer from pulse times found outside Praat: "Matrix: To PointProcess" adds them as
    "To PointProcess (cc)" does, then Praat measures them as ``voice_quality.jitter_shimmer`` does."""
    from parselmouth.praat import call

    if len(times) < voice_quality.MIN_PULSES:
        return None, None, voice_quality.TOO_FEW_PERIODS
    try:
        matrix = call("Create Matrix", "pulses", 0.0, float(len(times)), len(times), 1.0, 0.5, 1, 1, 1, 1, 1, "0")
        matrix.values = np.asarray(times, dtype=np.float64)[None, :]
        points = call(matrix, "To PointProcess")
    except Exception as exc:
        return None, None, f"Praat could not measure periods ({exc})"
    return voice_quality._from_points(sound, points)


def _compare(signals) -> tuple[int, int]:
    import parselmouth

    n_pulses = n_measured = 0
    for x in signals:
        sound = parselmouth.Sound(x, sampling_frequency=SR)
        for engine in ("frames", "parselmouth"):  # a Pitch made of the frames, and Praat's own (ceiling 600)
            track = pitch.track_praat(x, 75.0, 600.0, engine, sound)
            ceiling = 600.0 if engine == "parselmouth" else 5000.0
            theirs = _praat_pulses(sound, pitch.praat_pitch(track))
            ours = pulses(x, SR, track.f0, track.times[0], 0.01, ceiling)
            assert len(ours) == len(theirs)
            if len(ours):
                np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)
            n_pulses += len(ours)
            expected = jitter_shimmer(sound, pitch.praat_pitch(track))
            got = jitter_shimmer_from_pulses(sound, ours)
            ported = perturbation.jitter_shimmer(x, SR, ours)
            if expected[0] is None:
                assert got[0] is None and got[1] is None
                assert ported == expected
            else:
                assert got[0] == pytest.approx(expected[0], rel=1e-9, abs=0)
                assert got[1] == pytest.approx(expected[1], rel=1e-9, abs=0)
                assert ported[0] == pytest.approx(expected[0], rel=1e-9, abs=0)
                assert ported[1] == pytest.approx(expected[1], rel=1e-9, abs=0)
                assert ported[2] is None
                n_measured += 1
    return n_pulses, n_measured


def test_pulses_as_praats_on_every_real_recording(test_data):
    wavs = sorted((test_data / "emodb" / "wav").glob("*.wav")) + sorted((test_data / "ravdess").glob("*.wav"))
    wavs += sorted((test_data / "cmu_arctic").glob("*.wav"))
    n_pulses, n_measured = _compare([prepare(*read_audio(w)) for w in wavs])
    assert n_pulses >= 25000  # two tracks per file
    assert n_measured >= 120


def test_pulses_as_praats_on_synthetic_voices():
    signals = []
    for f0 in (80, 140, 220, 330):
        clean = pad(voice(f0, 1.0), SR, 0.3, 0.3)
        signals += [clean, add_white_noise(clean, 10.0, seed=f0)]
    signals.append(pad(voice(np.geomspace(100, 300, 40), 1.5), SR, 0.2, 0.2))
    n_pulses, n_measured = _compare(signals)
    assert n_pulses >= 2000
    assert n_measured >= 14


def test_too_few_pulses_give_the_reason_not_a_value():
    import parselmouth

    sound = parselmouth.Sound(np.zeros(SR), sampling_frequency=SR)
    assert jitter_shimmer_from_pulses(sound, np.arange(5) * 0.01) == (None, None, "fewer than 10 glottal periods")
    assert perturbation.jitter_shimmer(np.zeros(SR), SR, np.arange(5) * 0.01) == (None, None, "fewer than 10 glottal periods")
    assert len(pulses(np.zeros(SR), SR, np.zeros(98), 0.015, 0.01)) == 0


def test_ported_jitter_and_shimmer_as_praats_on_irregular_pulses():
    """Pulse trains that exercise every period test (intervals outside 0.1-20 ms, neighbours more than 1.3x apart,
    amplitudes more than 1.6x apart, a pulse near the sound's edges) against Praat's own queries."""
    import parselmouth
    from parselmouth.praat import call

    rng = np.random.default_rng(7)
    n_checked = 0
    for trial in range(40):
        x = rng.standard_normal(SR) * rng.uniform(0.01, 1.0, SR)
        periods = rng.uniform(0.002, 0.012, 120)
        periods[rng.random(120) < 0.1] *= rng.uniform(1.5, 4.0)  # breaks and outliers
        periods[rng.random(120) < 0.03] = rng.uniform(1e-5, 1e-4)  # under the period floor
        times = np.cumsum(periods) + rng.uniform(0.0, 0.002)
        times = times[times < 1.0 - 1e-4]
        sound = parselmouth.Sound(x, sampling_frequency=SR)
        points = call("Create empty PointProcess", "p", 0.0, 1.0)
        for t in times:
            call(points, "Add point", float(t))
        jitter = call(points, "Get jitter (local)", 0, 0, 0.0001, 0.02, 1.3)
        shimmer = call([sound, points], "Get shimmer (local)", 0, 0, 0.0001, 0.02, 1.3, 1.6)
        dx = 1.0 / SR
        t = np.asarray(times, dtype=np.float64)
        ours_j = perturbation.jitter_local(t, 0.0001, 0.02, 1.3)
        ours_s = perturbation.shimmer_local(x, 0.5 * dx, dx, t, 0.0001, 0.02, 1.3, 1.6)
        for theirs, ours in ((jitter, ours_j), (shimmer, ours_s)):
            if theirs is None or not np.isfinite(theirs):
                assert not np.isfinite(ours)
            else:
                assert ours == pytest.approx(theirs, rel=1e-9, abs=0)
                n_checked += 1
    assert n_checked >= 60
