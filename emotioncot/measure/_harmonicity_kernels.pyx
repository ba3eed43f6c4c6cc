# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Loops for ``harmonicity.py``'s array steps in Cython (the frames engine's; ``harmonicity_kernels.py`` loads
this module and checks that this build matches this source).

Why: in numpy the steps around the FFTs pass over the frames several times: the windows gathered into a
copy, their means, the mean removed, the Gaussian applied, then the power spectrum in two passes, and after
the inverse FFT the normalised autocorrelation, its non-finite values cleared, three shifted slices compared
and the peaks gathered (about half of harmonicity's time). Here each is one pass over a frame that stays in
the cache. Each loop does numpy's arithmetic in numpy's order, float32 where numpy is float32 (the window's
mean is numpy's pairwise sum: ``pairwise_sum``), with no fast-math, so every value is the same to the bit;
tests/test_measure_harmonicity.py compares the two on every real file.
"""

from libc.math cimport INFINITY, isfinite

import numpy as np

cdef extern from *:
    """
    #ifndef EMOTIONCOT_PYX_DIGEST
    #define EMOTIONCOT_PYX_DIGEST ""
    #endif
    """
    const char *EMOTIONCOT_PYX_DIGEST

SOURCE_DIGEST = EMOTIONCOT_PYX_DIGEST.decode("ascii")

cdef Py_ssize_t _PAIRWISE_BLOCK = 128  # numpy's PW_BLOCKSIZE


cdef float _pairwise_sum(const float[::1] a, Py_ssize_t start, Py_ssize_t n) noexcept nogil:
    """numpy's float32 add.reduce of ``a[start:start + n]`` (contiguous): eight running sums per block of up
    to 128, halves above that (numpy's pairwise_sum, numpy/_core/src/umath/loops_utils.h.src)."""
    cdef float res, r0, r1, r2, r3, r4, r5, r6, r7
    cdef Py_ssize_t i, end, n2
    if n < 8:
        res = 0.0
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


def pairwise_sum(const float[::1] a, Py_ssize_t start, Py_ssize_t n):
    """``_pairwise_sum`` for the tests (a float32 value as a Python float)."""
    return _pairwise_sum(a, start, n)


def windowed_frames(const float[::1] padded, const long long[::1] starts, Py_ssize_t nwin, const float[::1] window,
                    Py_ssize_t nfft):
    """The FFT input: row k is ``padded[starts[k]:starts[k] + nwin]`` less its float32 mean, times ``window``,
    then zeros up to ``nfft`` (float32 throughout, as harmonicity.py's numpy steps)."""
    cdef Py_ssize_t n = starts.shape[0]
    out_a = np.zeros((n, nfft), dtype=np.float32)
    cdef float[:, ::1] out = out_a
    cdef float count = <float>nwin
    cdef float mean
    cdef Py_ssize_t k, j, s
    with nogil:
        for k in range(n):
            s = starts[k]
            mean = _pairwise_sum(padded, s, nwin) / count
            for j in range(nwin):
                out[k, j] = (padded[s + j] - mean) * window[j]
    return out_a


def power(spec):
    """|spec|^2 in float32: re^2 + im^2, each rounded as numpy's square does. ``spec``: complex64,
    C-contiguous (as the FFT gives it)."""
    cdef const float[:, ::1] pairs = spec.view(np.float32)  # each row's (real, imaginary) pairs side by side
    cdef Py_ssize_t n = pairs.shape[0]
    cdef Py_ssize_t m = pairs.shape[1] // 2
    out_a = np.empty((n, m), dtype=np.float32)
    cdef float[:, ::1] out = out_a
    cdef Py_ssize_t k, j
    cdef float re, im
    with nogil:
        for k in range(n):
            for j in range(m):
                re = pairs[k, 2 * j]
                im = pairs[k, 2 * j + 1]
                out[k, j] = re * re + im * im
    return out_a


def best_peaks(const float[:, ::1] ac, const double[::1] window_ac, Py_ssize_t maxlag):
    """Per frame, the highest parabola-interpolated local maximum of the normalised autocorrelation over lags
    2 .. ``maxlag`` (values above 1 reflected to 1 / r), -inf where there is none. ``ac``: each frame's
    autocorrelation (float32, lag 0 first, at least ``maxlag + 2`` lags); ``window_ac``: the window's, divided by
    its lag 0 (float32 values, as float64)."""
    cdef Py_ssize_t n = ac.shape[0]
    best_a = np.full(n, -np.inf)
    r_a = np.empty(maxlag + 2)
    cdef double[::1] best = best_a
    cdef double[::1] r = r_a
    cdef Py_ssize_t k, j
    cdef double lag0, v, top, a, b, c, den, shift, value
    with nogil:
        for k in range(n):
            lag0 = <double>ac[k, 0]
            for j in range(maxlag + 2):
                v = (<double>ac[k, j] / lag0) / window_ac[j]
                r[j] = v if isfinite(v) else 0.0
            top = -INFINITY
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
    return best_a
