"""The numpy ``find_peaks`` / ``medfilt`` give scipy.signal's results exactly (the measurement uses them so
that single-file commands need not import scipy.signal)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from emotioncot.measure.peaks import find_peaks, medfilt


def _cases():
    rng = np.random.default_rng(0)
    for n in (0, 1, 2, 3, 5, 40, 300, 2000):
        yield rng.normal(size=n)
        yield np.round(rng.normal(size=n), 1)  # many ties and flat tops
        yield np.convolve(rng.normal(size=n + 6), np.hanning(7) / np.hanning(7).sum(), mode="valid")[:n]
    yield np.array([0, 1, 1, 1, 0, 2, 2, 0, 3, 3, 3, 3, 0], float)
    yield np.zeros(50)


@pytest.mark.parametrize("prominence,distance", [(None, None), (2.0, 7), (0.5, None), (None, 3), (0.1, 1.5)])
def test_find_peaks_equals_scipy(prominence, distance):
    for x in _cases():
        want, wprops = signal.find_peaks(x, prominence=prominence, distance=distance)
        got, props = find_peaks(x, prominence=prominence, distance=distance)
        assert np.array_equal(got, want), (len(x), prominence, distance)
        if prominence is not None:
            assert np.array_equal(props["prominences"], wprops["prominences"])


def test_find_peaks_on_real_speech_band_energy(test_data):
    from emotioncot.audio.io import read_audio

    for path in sorted((test_data / "emodb" / "wav").glob("*.wav"))[:8]:
        y, sr = read_audio(path)
        frames = y[: len(y) // 160 * 160].reshape(-1, 160)
        db = 10 * np.log10(np.maximum((frames ** 2).mean(axis=1), 1e-12))
        smooth = np.convolve(db, np.hanning(7) / np.hanning(7).sum(), mode="same")
        assert np.array_equal(find_peaks(smooth, prominence=2.0, distance=7)[0],
                              signal.find_peaks(smooth, prominence=2.0, distance=7)[0]), path.name


def test_medfilt_equals_scipy():
    rng = np.random.default_rng(1)
    for n in (8, 51, 400):
        x = rng.normal(size=n)
        for k in (3, 5, 7):
            assert np.array_equal(medfilt(x, k), signal.medfilt(x, k))


def test_medfilt_is_the_running_np_median_to_the_bit_nan_included():
    rng = np.random.default_rng(2)
    for n in (1, 2, 5, 60, 999):
        x = np.round(rng.normal(size=n), 1)
        x[::7] = -0.0
        for k in (1, 3, 5):
            padded = np.concatenate([np.zeros(k // 2), x, np.zeros(k // 2)])
            want = np.median(np.lib.stride_tricks.sliding_window_view(padded, k), axis=1)
            got = medfilt(x, k)
            assert np.array_equal(got, want) and np.array_equal(np.signbit(got), np.signbit(want))
    x = np.array([1.0, 2.0, np.nan, 4.0, 5.0, 6.0, 7.0])
    assert np.array_equal(medfilt(x, 3), np.array([1.0, np.nan, np.nan, np.nan, 5.0, 6.0, 6.0]), equal_nan=True)
