"""emotioncot.measure.quantiles gives numpy's median and percentile to the bit (it replaces them for speed)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from emotioncot.measure.quantiles import median, percentile


def _arrays():
    rng = np.random.default_rng(7)
    for n in list(range(1, 40)) + [97, 100, 1001, 4096]:
        yield rng.normal(100, 30, n)
        yield np.round(rng.normal(0, 3, n))  # ties
        yield rng.lognormal(4, 1, n) * 1e-3
    yield np.array([-np.inf, 1.0, 2.0])
    yield np.array([1.0, np.inf, np.inf, 2.0])
    yield np.array([-0.0, 0.0, -0.0])
    yield np.array([-0.0, -0.0])
    yield np.array([-0.0])


@pytest.mark.parametrize("q", [0, 5, 10, 50, 90, 95, 99.5, 100])
def test_percentile_is_numpys_to_the_bit(q):
    for v in _arrays():
        want = np.percentile(v, q)
        got = percentile(v, q)
        assert type(got) is type(want) and (got == want or (np.isnan(got) and np.isnan(want))), (v, q, got, want)
        assert np.signbit(got) == np.signbit(want)


def test_median_is_numpys_to_the_bit():
    for v in _arrays():
        want, got = np.median(v), median(v)
        assert type(got) is type(want) and (got == want or (np.isnan(got) and np.isnan(want))), (v, got, want)
        assert np.signbit(got) == np.signbit(want)


def test_what_it_does_not_cover_goes_to_numpy():
    with_nan = np.array([1.0, np.nan, 3.0])
    assert np.isnan(median(with_nan)) and np.isnan(percentile(with_nan, 95))
    f32 = np.array([1.0, 2.0, 4.0], dtype=np.float32)
    assert percentile(f32, 95).dtype == np.percentile(f32, 95).dtype and percentile(f32, 95) == np.percentile(f32, 95)
    assert median([3.0, 1.0, 2.0]) == 2.0
    with pytest.raises(ValueError):
        percentile(np.array([1.0, 2.0]), 101)
    v = np.array([3.0, 1.0, 2.0])
    median(v), percentile(v, 90)
    assert v.tolist() == [3.0, 1.0, 2.0]  # the input is left as it was


def test_measuring_does_not_import_numpy_ma(tmp_path):
    import soundfile as sf

    from emotioncot.measure.synthetic import pad, voice  # (it imports scipy, which imports numpy.ma: not in the child)

    wav = tmp_path / "v.wav"
    sf.write(wav, pad(voice(150, 1.5), 16000, 0.3, 0.3), 16000)
    code = ("import sys; from emotioncot.measure import measure_utterance\n"
            "m = measure_utterance({'id': 'v', 'audio_path': sys.argv[1], 'transcript': 'one two three', 'language': 'en'})\n"
            "print(m['f0_range_st'] is not None, m['intonation'] is not None, 'numpy.ma' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(wav)], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "True", "False"]
