"""Harmonicity's compiled loops (emotioncot/measure/_harmonicity_kernels.pyx, the frames engine's) against its numpy
steps (the default engine's, which tests/test_measure_references.py holds against Praat): the same per-frame
values to the bit on every real recording, on synthetic voices and on the edge cases."""

from __future__ import annotations

import numpy as np

from emotioncot.audio.io import read_audio
from emotioncot.measure import harmonicity
from emotioncot.measure.harmonicity_kernels import _pairwise_sum
from emotioncot.measure.signal import prepare
from emotioncot.measure.synthetic import add_white_noise, pad, voice

SR = 16000


def _assert_same(x: np.ndarray, global_peak: float | None = None) -> int:
    expected = harmonicity.harmonicity_frames(x, SR, global_peak)
    got = harmonicity.harmonicity_frames(x, SR, global_peak, compiled=True)
    np.testing.assert_array_equal(got, expected)
    assert harmonicity.mean_hnr_db(x, SR, global_peak, compiled=True) == harmonicity.mean_hnr_db(x, SR, global_peak)
    return int((expected > harmonicity.SILENT_DB).sum())


def test_kernels_equal_numpy_on_every_real_recording(test_data):
    wavs = sorted((test_data / "emodb" / "wav").glob("*.wav")) + sorted((test_data / "ravdess").glob("*.wav"))
    wavs += sorted((test_data / "cmu_arctic").glob("*.wav"))
    assert len(wavs) >= 60
    n_voiced = 0
    for w in wavs:
        x = prepare(*read_audio(w))
        n_voiced += _assert_same(x)
        # a cut with the recording's peak, as measure_signal hands it over (more frames than 64 at a time)
        n_voiced += _assert_same(x[len(x) // 4 :], float(np.abs(x).max()))
    assert n_voiced >= 10000


def test_kernels_equal_numpy_on_synthetic_voices_and_edges():
    n_voiced = 0
    for f0 in (80, 140, 220, 330):
        clean = pad(voice(f0, 1.0), SR, 0.3, 0.3)
        n_voiced += _assert_same(clean) + _assert_same(add_white_noise(clean, 5.0, seed=f0))
    assert n_voiced >= 400
    assert len(harmonicity.harmonicity_frames(np.zeros(SR // 20), SR, compiled=True)) == 0  # shorter than a window
    silent = harmonicity.harmonicity_frames(np.zeros(SR), SR, compiled=True)
    assert len(silent) > 0 and (silent == harmonicity.SILENT_DB).all()
    rng = np.random.default_rng(3)
    _assert_same(rng.standard_normal(SR) * 1e-3)  # noise: frames live by the silence test, few or none voiced


def test_pairwise_sum_is_numpys_float32_sum():
    rng = np.random.default_rng(5)
    a = (rng.standard_normal(5000) * 1e3).astype(np.float32)
    for n in (0, 1, 7, 8, 9, 127, 128, 129, 255, 1000, 1921, 4996):
        for start in (0, 1, 3):
            assert _pairwise_sum(a, start, n) == a[start : start + n].sum(), (n, start)
