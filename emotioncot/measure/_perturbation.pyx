# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Jitter (local) and shimmer (local) from pulse times in Cython: Praat 6.1.38's "PointProcess: Get jitter
(local)" (PointProcess_getJitter_local, with PointProcess_getMeanPeriod and its period test) and "Sound &
PointProcess: Get shimmer (local)" (PointProcess_Sound_to_AmplitudeTier_period, Sound_getHannWindowedRms,
AmplitudeTier_getShimmer_local), line by line; ``perturbation.py`` loads it and checks that this build matches
this source. Praat sums some of these in long double (80 bits); here they are doubles (no fast-math), which
moves a value by about 1e-16 relative: tests/test_measure_periods.py holds both within 1e-9 of Praat's own.
A division by zero gives inf or NaN as Praat's does (cdivision), never an exception.
"""

from libc.math cimport M_PI, NAN, ceil, cos, floor, isnan, sqrt

import numpy as np

cdef extern from *:
    """
    #ifndef EMOTIONCOT_PYX_DIGEST
    #define EMOTIONCOT_PYX_DIGEST ""
    #endif
    """
    const char *EMOTIONCOT_PYX_DIGEST

SOURCE_DIGEST = EMOTIONCOT_PYX_DIGEST.decode("ascii")


cdef bint _is_period(const double[::1] t, Py_ssize_t ileft, double pmin, double pmax, double max_factor) noexcept nogil:
    """PointProcess_isPeriod (0-based ``ileft``): is t[ileft] .. t[ileft + 1] a period?"""
    cdef Py_ssize_t n = t.shape[0]
    cdef Py_ssize_t iright = ileft + 1
    if ileft < 0 or iright > n - 1:
        return False
    if pmin == pmax:
        return True
    cdef double interval = t[iright] - t[ileft]
    if interval <= 0.0 or interval < pmin or interval > pmax:
        return False
    if isnan(max_factor) or max_factor < 1.0:
        return True
    cdef double previous_factor = NAN
    cdef double next_factor = NAN
    cdef double previous, following
    if ileft >= 1:
        previous = t[ileft] - t[ileft - 1]
        if previous > 0.0:
            previous_factor = interval / previous
    if iright < n - 1:
        following = t[iright + 1] - t[iright]
        if following > 0.0:
            next_factor = interval / following
    if isnan(previous_factor) and isnan(next_factor):
        return True
    if not isnan(previous_factor) and 0.0 < previous_factor < 1.0:
        previous_factor = 1.0 / previous_factor
    if not isnan(next_factor) and 0.0 < next_factor < 1.0:
        next_factor = 1.0 / next_factor
    if (not isnan(previous_factor) and previous_factor > max_factor
            and not isnan(next_factor) and next_factor > max_factor):
        return False
    return True


cdef double _mean_period(const double[::1] t, double pmin, double pmax, double max_factor) noexcept nogil:
    """PointProcess_getMeanPeriod over all points; NaN where no interval is a period."""
    cdef Py_ssize_t count = 0
    cdef double total = 0.0
    cdef Py_ssize_t i
    for i in range(t.shape[0] - 1):
        if _is_period(t, i, pmin, pmax, max_factor):
            count += 1
            total += t[i + 1] - t[i]
    return total / count if count > 0 else NAN


def jitter_local(const double[::1] t, double pmin, double pmax, double max_factor):
    """PointProcess_getJitter_local over all points; NaN where Praat says undefined."""
    cdef Py_ssize_t n_periods = t.shape[0] - 1
    cdef double total = 0.0
    cdef double p1, p2, factor
    cdef Py_ssize_t i
    if n_periods < 2:
        return NAN
    for i in range(1, t.shape[0] - 1):
        p1 = t[i] - t[i - 1]
        p2 = t[i + 1] - t[i]
        factor = p1 / p2 if p1 > p2 else p2 / p1
        if pmin == pmax or (p1 >= pmin and p1 <= pmax and p2 >= pmin and p2 <= pmax and factor <= max_factor):
            total += abs(p1 - p2)
        else:
            n_periods -= 1
    if n_periods < 2:
        return NAN
    return total / (n_periods - 1) / _mean_period(t, pmin, pmax, max_factor)


cdef double _hann_windowed_rms(const double[::1] z, double s_x1, double s_dx, double tmid, double width_left,
                               double width_right) noexcept nogil:
    """Sound_getHannWindowedRms on one channel; NaN under 3 samples."""
    cdef Py_ssize_t nx = z.shape[0]
    # Sampled_getWindowSamples
    cdef Py_ssize_t imin = <Py_ssize_t>(1.0 + ceil((tmid - width_left - s_x1) / s_dx))
    cdef Py_ssize_t imax = <Py_ssize_t>(1.0 + floor((tmid + width_right - s_x1) / s_dx))
    if imin < 1:
        imin = 1
    if imax > nx:
        imax = nx
    if imax - imin + 1 < 3:
        return NAN
    cdef double sum_of_squares = 0.0
    cdef double window_sum_of_squares = 0.0
    cdef double t, width, phase, window, value
    cdef Py_ssize_t i
    for i in range(imin, imax + 1):
        t = s_x1 + (i - 1) * s_dx
        width = width_left if t < tmid else width_right
        phase = (t - tmid) / width
        window = 0.5 + 0.5 * cos(M_PI * phase)
        value = z[i - 1] * window
        sum_of_squares += value * value
        window_sum_of_squares += window * window
    return sqrt(sum_of_squares / window_sum_of_squares)


def shimmer_local(const double[::1] z, double s_x1, double s_dx, const double[::1] t, double pmin, double pmax,
                  double max_factor, double max_amplitude_factor):
    """PointProcess_Sound_getShimmer_local over all points; NaN where Praat says undefined (or, under 3 points,
    where Praat raises "too few pulses")."""
    cdef Py_ssize_t n = t.shape[0]
    if n < 3:
        return NAN
    times_a = np.empty(n)
    amplitudes_a = np.empty(n)
    cdef double[::1] times = times_a
    cdef double[::1] amplitudes = amplitudes_a
    cdef Py_ssize_t m = 0
    cdef Py_ssize_t i
    cdef Py_ssize_t n_peaks = 0
    cdef double p1, p2, p, factor, peak, a1, a2, amplitude_factor
    cdef double numerator = 0.0
    cdef double denominator = 0.0
    with nogil:
        # PointProcess_Sound_to_AmplitudeTier_period: the points are appended in time order
        for i in range(1, n - 1):
            p1 = t[i] - t[i - 1]
            p2 = t[i + 1] - t[i]
            factor = p1 / p2 if p1 > p2 else p2 / p1
            if pmin == pmax or (p1 >= pmin and p1 <= pmax and p2 >= pmin and p2 <= pmax and factor <= max_factor):
                peak = _hann_windowed_rms(z, s_x1, s_dx, t[i], 0.2 * p1, 0.2 * p2)
                if not isnan(peak) and peak > 0.0:
                    times[m] = t[i]
                    amplitudes[m] = peak
                    m += 1
        # AmplitudeTier_getShimmer_local
        for i in range(1, m):
            p = times[i] - times[i - 1]
            if pmin == pmax or (p >= pmin and p <= pmax):
                a1 = amplitudes[i - 1]
                a2 = amplitudes[i]
                amplitude_factor = a1 / a2 if a1 > a2 else a2 / a1
                if amplitude_factor <= max_amplitude_factor:
                    numerator += abs(a1 - a2)
                    n_peaks += 1
    if n_peaks < 1:
        return NAN
    numerator /= n_peaks
    for i in range(m - 1):  # Praat's mean leaves the last point out
        denominator += amplitudes[i]
    denominator /= m - 1
    if denominator == 0.0:
        return NAN
    return numerator / denominator
