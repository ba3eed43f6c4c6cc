"""numba loops for ``harmonicity.py``'s array steps, used with the frame-matrix pitch engine (which loads numba
anyway; the default engine keeps the numpy steps and never imports numba).

Why: in numpy the steps around the FFTs pass over the frames several times: the windows gathered into a
copy, their means, the mean removed, the Gaussian applied, then the power spectrum in two passes, and after
the inverse FFT the normalised autocorrelation, its non-finite values cleared, three shifted slices compared
and the peaks gathered (about half of harmonicity's time). Here each is one pass over a frame that stays in
the cache. Each loop does numpy's arithmetic in numpy's order, float32 where numpy is float32 (the window's
mean is numpy's pairwise sum: ``_pairwise_sum``), so every value is the same to the bit;
tests/test_measure_harmonicity.py compares the two on every real file.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_PAIRWISE_BLOCK = 128  # numpy's PW_BLOCKSIZE


@njit(cache=True)
def _pairwise_sum(a, start, n):
    """numpy's float32 add.reduce of ``a[start:start + n]`` (contiguous): eight running sums per block of up
    to 128, halves above that (numpy's pairwise_sum, numpy/_core/src/umath/loops_utils.h.src)."""
    if n < 8:
        res = np.float32(0.0)
        for i in range(n):
            res += a[start + i]
        return res
    if n <= _PAIRWISE_BLOCK:
        r0 = a[start]
        r1 = a[start + 1]
        r2 = a[start + 2]
        r3 = a[start + 3]
        r4 = a[start + 4]
        r5 = a[start + 5]
        r6 = a[start + 6]
        r7 = a[start + 7]
        i = 8
        end = n - n % 8
        while i < end:
            r0 += a[start + i]
            r1 += a[start + i + 1]
            r2 += a[start + i + 2]
            r3 += a[start + i + 3]
            r4 += a[start + i + 4]
            r5 += a[start + i + 5]
            r6 += a[start + i + 6]
            r7 += a[start + i + 7]
            i += 8
        res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        while i < n:
            res += a[start + i]
            i += 1
        return res
    n2 = n // 2
    n2 -= n2 % 8
    return _pairwise_sum(a, start, n2) + _pairwise_sum(a, start + n2, n - n2)


@njit(cache=True)
def windowed_frames(padded, starts, nwin, window, nfft):
    """The FFT input: row k is ``padded[starts[k]:starts[k] + nwin]`` less its float32 mean, times ``window``,
    then zeros up to ``nfft`` (float32 throughout, as harmonicity.py's numpy steps)."""
    n = starts.shape[0]
    out = np.empty((n, nfft), dtype=np.float32)
    count = np.float32(nwin)
    for k in range(n):
        s = starts[k]
        mean = _pairwise_sum(padded, s, nwin) / count
        for j in range(nwin):
            out[k, j] = (padded[s + j] - mean) * window[j]
        for j in range(nwin, nfft):
            out[k, j] = np.float32(0.0)
    return out


@njit(cache=True)
def power(spec):
    """|spec|^2 in float32: re^2 + im^2, each rounded as numpy's square does."""
    n, m = spec.shape
    out = np.empty((n, m), dtype=np.float32)
    for k in range(n):
        for j in range(m):
            re = spec[k, j].real
            im = spec[k, j].imag
            out[k, j] = re * re + im * im
    return out


@njit(cache=True, error_model="numpy")
def best_peaks(ac, window_ac, maxlag):
    """Per frame, the highest parabola-interpolated local maximum of the normalised autocorrelation over lags
    2 .. ``maxlag`` (values above 1 reflected to 1 / r), -inf where there is none. ``ac``: each frame's
    autocorrelation (float32, lag 0 first, at least ``maxlag + 2`` lags); ``window_ac``: the window's, divided by
    its lag 0 (float32 values, as float64)."""
    n = ac.shape[0]
    best = np.full(n, -np.inf)
    r = np.empty(maxlag + 2)
    for k in range(n):
        lag0 = np.float64(ac[k, 0])
        for j in range(maxlag + 2):
            v = (np.float64(ac[k, j]) / lag0) / window_ac[j]
            r[j] = v if math.isfinite(v) else 0.0
        top = -np.inf
        for j in range(2, maxlag + 1):
            a = r[j - 1]
            b = r[j]
            c = r[j + 1]
            if b > a and b >= c:
                den = a - 2 * b + c
                shift = 0.5 * (a - c) / den if den != 0 else 0.0
                value = b - 0.25 * (a - c) * shift
                if value > 1:
                    value = 1 / value
                if value > top:
                    top = value
        best[k] = top
    return best
