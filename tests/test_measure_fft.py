"""``emotioncot.measure.fft`` gives ``scipy.fft``'s results to the bit (it calls the same compiled module),
through its loader and through its fallback, and the measurement no longer imports ``scipy.fft``."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import scipy.fft

from emotioncot.measure import fft


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,n", [((7, 400), 512), ((3, 1921), 2160), ((500,), 512), ((4, 600), 512), ((2, 64), None)])
def test_real_transforms_equal_scipy(dtype, shape, n):
    x = np.random.default_rng(sum(shape)).standard_normal(shape).astype(dtype)
    ours = fft.rfft(x, n)
    theirs = scipy.fft.rfft(x, n, axis=-1)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    assert np.array_equal(ours, theirs)
    size = n or shape[-1]
    power = (theirs.real**2 + theirs.imag**2).astype(dtype)
    back, expected = fft.irfft(power, size), scipy.fft.irfft(power, size, axis=-1)
    assert back.dtype == expected.dtype and np.array_equal(back, expected)
    assert np.array_equal(fft.irfft(theirs, size), scipy.fft.irfft(theirs, size, axis=-1))


def test_dct_equals_scipy():
    x = np.log(np.random.default_rng(1).uniform(1e-6, 1.0, (50, 26)))
    assert np.array_equal(fft.dct_ortho(x), scipy.fft.dct(x, type=2, axis=-1, norm="ortho"))


def test_next_fast_len_equals_scipy():
    for target in range(1, 5000):
        assert fft.next_fast_len(target) == scipy.fft.next_fast_len(target, real=True), target


def test_fallback_when_the_compiled_module_is_missing(monkeypatch):
    x = np.random.default_rng(2).standard_normal((3, 400)).astype(np.float32)
    direct = (fft.rfft(x, 512), fft.irfft(np.abs(fft.rfft(x, 512)), 512), fft.dct_ortho(x[:, :26]))
    monkeypatch.setattr(fft, "_pocketfft", lambda: None)
    fallback = (fft.rfft(x, 512), fft.irfft(np.abs(fft.rfft(x, 512)), 512), fft.dct_ortho(x[:, :26]))
    for a, b in zip(direct, fallback):
        assert np.array_equal(a, b)


def test_measurement_does_not_import_scipy_fft():
    code = (
        "import sys, numpy as np\n"
        "from emotioncot.measure import measure_signal\n"
        "t = np.arange(16000) / 16000\n"
        "y = 0.3 * np.sign(np.sin(2 * np.pi * 140 * t)) * (t > 0.2) * (t < 0.8)\n"
        "m = measure_signal(y, 16000, 'a test', language='en')\n"
        "print(m['f0_median_hz'] is not None, m['hnr_db'] is not None, 'scipy.fft' in sys.modules, 'scipy.special' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "True", "False", "False"], out


def test_scipy_fft_imported_after_the_loader_still_works():
    # a pipeline worker may import scipy.fft (through another library) after measuring a clip: the compiled
    # module then loads a second time under its own name, and both must still give the same numbers
    code = (
        "import numpy as np\n"
        "from emotioncot.measure import fft\n"
        "x = np.random.default_rng(3).standard_normal((4, 400)).astype(np.float32)\n"
        "ours = fft.rfft(x, 512)\n"
        "import scipy.fft\n"
        "print(np.array_equal(ours, scipy.fft.rfft(x, 512, axis=-1)), np.array_equal(fft.rfft(x, 512), ours))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "True"], out


def test_a_module_that_answers_differently_is_not_used():
    """A scipy release whose private module takes other arguments (or computes something else) must leave the
    measurement on scipy.fft, not crash it or change its numbers."""
    from emotioncot.measure import fft

    lib = fft._pocketfft()
    assert lib is not None and fft._answers_as_scipy_fft_calls_it(lib)

    class Renamed:  # the same functions, an argument dropped
        def r2c(self, x, axes, forward, inorm, out):
            return lib.r2c(x, axes, forward, inorm, out, 1)

    class Wrong:  # answers, but not the transform scipy.fft asks for
        def r2c(self, x, axes, forward, inorm, out, workers):
            return lib.r2c(x, axes, forward, 2, out, workers)

    assert not fft._answers_as_scipy_fft_calls_it(Renamed())
    assert not fft._answers_as_scipy_fft_calls_it(Wrong())
