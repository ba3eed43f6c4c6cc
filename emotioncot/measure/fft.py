"""The real FFTs and the DCT the measurement uses: scipy's pocketfft, without importing ``scipy.fft``.

Why: ``import scipy.fft`` costs about 0.2 CPU-seconds (it loads scipy's array-API layer, which touches every
lazily imported numpy submodule, f2py and numpy.testing included, and scipy.special), more than measuring a
short clip, and a fresh ``emotioncot analyze`` process pays it before its first clip. ``numpy.fft`` would
avoid it but transforms one row at a time (about 4x slower on the frame matrices here), where scipy's
compiled module runs several rows at once. So that compiled module is loaded from scipy's installation by
itself and called with the arguments ``scipy.fft`` passes it (the same library, the same calls: the same
numbers to the bit; tests/test_measure_fft.py compares them). When it cannot be loaded (a scipy laid out
differently), ``scipy.fft`` itself is used.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np

_MODULE = "scipy.fft._pocketfft.pypocketfft"
_WORKERS = 1  # scipy.fft's default: one thread per call


@lru_cache(maxsize=1)
def _pocketfft():
    """scipy's compiled pocketfft module, or None when it is not where scipy keeps it."""
    try:
        spec = importlib.util.find_spec("scipy")  # finds the package without running its __init__
        if spec is None or not spec.submodule_search_locations:
            return None
        folder = Path(next(iter(spec.submodule_search_locations))) / "fft" / "_pocketfft"
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = folder / f"pypocketfft{suffix}"
            if path.is_file():
                loader = importlib.machinery.ExtensionFileLoader(_MODULE, str(path))
                module = importlib.util.module_from_spec(importlib.util.spec_from_loader(_MODULE, loader))
                loader.exec_module(module)
                if _answers_as_scipy_fft_calls_it(module):
                    return module
    except Exception:  # any failure to load it by hand leaves scipy.fft, which gives the same numbers
        pass
    return None


def _answers_as_scipy_fft_calls_it(lib) -> bool:
    """The module is private to scipy: a release that changes its call signatures must send us back to
    ``scipy.fft`` rather than fail mid-measurement. One small call of each, checked against numpy."""
    x = np.arange(1.0, 9.0).reshape(1, 8)
    n = np.arange(8)
    basis = np.cos(np.pi * (2 * n[None, :] + 1) * n[:, None] / 16) * np.sqrt(2 / 8)
    basis[0] /= np.sqrt(2)
    try:
        spectrum = lib.r2c(x, (1,), True, 0, None, _WORKERS)
        return bool(np.allclose(spectrum, np.fft.rfft(x, axis=1))
                    and np.allclose(lib.c2r(spectrum, (1,), 8, False, 2, None, _WORKERS), x)
                    and np.allclose(lib.dct(x, 2, (1,), 1, None, _WORKERS, None), x @ basis.T))
    except Exception:
        return False


def _float(x) -> np.ndarray:
    # what scipy.fft does to its input: floating point in native byte order, aligned
    x = np.asarray(x)
    if x.dtype == np.float16:
        return x.astype(np.float32)
    if x.dtype.kind not in "fc":
        return x.astype(np.float64)
    return np.asarray(x, dtype=x.dtype.newbyteorder("="))


def _fit_last(x: np.ndarray, n: int) -> np.ndarray:
    """``x`` cut or zero-padded to ``n`` along its last axis."""
    m = x.shape[-1]
    if m == n:
        return x
    if m > n:
        return x[..., :n]
    out = np.zeros(x.shape[:-1] + (n,), dtype=x.dtype)
    out[..., :m] = x
    return out


def rfft(x, n: int | None = None) -> np.ndarray:
    """``scipy.fft.rfft(x, n, axis=-1)``."""
    lib = _pocketfft()
    if lib is None:
        import scipy.fft

        return scipy.fft.rfft(x, n, axis=-1)
    x = _float(x)
    if n is not None:
        x = _fit_last(x, n)
    return lib.r2c(x, (x.ndim - 1,), True, 0, None, _WORKERS)


def irfft(x, n: int) -> np.ndarray:
    """``scipy.fft.irfft(x, n, axis=-1)``."""
    lib = _pocketfft()
    if lib is None:
        import scipy.fft

        return scipy.fft.irfft(x, n, axis=-1)
    x = _float(x)
    if np.isrealobj(x):
        x = x + 0.0j
    x = _fit_last(x, n // 2 + 1)
    return lib.c2r(x, (x.ndim - 1,), n, False, 2, None, _WORKERS)


def dct_ortho(x) -> np.ndarray:
    """``scipy.fft.dct(x, type=2, axis=-1, norm="ortho")``."""
    lib = _pocketfft()
    if lib is None:
        import scipy.fft

        return scipy.fft.dct(x, type=2, axis=-1, norm="ortho")
    x = _float(x)
    return lib.dct(x, 2, (x.ndim - 1,), 1, None, _WORKERS, None)


def next_fast_len(target: int) -> int:
    """``scipy.fft.next_fast_len(target, real=True)``: the least 2^a 3^b 5^c at or above ``target``."""
    if target <= 6:
        return max(1, target)
    best = 1 << (target - 1).bit_length()  # a power of two always qualifies
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            # the least power of two taking p35 to target or beyond
            q = -(-target // p35)
            p2 = 1 << (q - 1).bit_length()
            best = min(best, p35 * p2)
            p35 *= 3
        p5 *= 5
    return best
