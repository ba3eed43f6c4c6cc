"""Jitter (local) and shimmer (local) from pulse times, ported with numba for the frame-matrix engine: Praat
6.1.38's "PointProcess: Get jitter (local)" (PointProcess_getJitter_local, with PointProcess_getMeanPeriod and
its period test) and "Sound & PointProcess: Get shimmer (local)" (PointProcess_Sound_to_AmplitudeTier_period,
Sound_getHannWindowedRms, AmplitudeTier_getShimmer_local), line by line, over the whole pulse train (Praat's
time range 0 to 0: the Sound's domain, which holds every pulse ``periods.pulses`` finds).

Why: handing the pulses to Praat costs a Matrix, a PointProcess and two Praat calls through parselmouth per
clip (about 0.2 ms per audio second, a fifth of the measurement's voice-quality share), and keeps parselmouth
imported by the frames engine. Praat sums some of these in long double (80 bits); here they are doubles, which
moves a value by about 1e-16 relative: tests/test_measure_periods.py holds both within 1e-9 of Praat's own.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

PERIOD_FLOOR_S = 0.0001
PERIOD_CEILING_S = 0.02
MAX_PERIOD_FACTOR = 1.3
MAX_AMPLITUDE_FACTOR = 1.6
MIN_PULSES = 11  # the caller's floor: jitter and shimmer over fewer than 10 periods are not reported


@njit(cache=True, error_model="numpy")
def _is_period(t, ileft, pmin, pmax, max_factor):
    """PointProcess_isPeriod (0-based ``ileft``): is t[ileft] .. t[ileft + 1] a period?"""
    n = t.shape[0]
    iright = ileft + 1
    if ileft < 0 or iright > n - 1:
        return False
    if pmin == pmax:
        return True
    interval = t[iright] - t[ileft]
    if interval <= 0.0 or interval < pmin or interval > pmax:
        return False
    if math.isnan(max_factor) or max_factor < 1.0:
        return True
    previous_factor = math.nan
    if ileft >= 1:
        previous = t[ileft] - t[ileft - 1]
        if previous > 0.0:
            previous_factor = interval / previous
    next_factor = math.nan
    if iright < n - 1:
        following = t[iright + 1] - t[iright]
        if following > 0.0:
            next_factor = interval / following
    if math.isnan(previous_factor) and math.isnan(next_factor):
        return True
    if not math.isnan(previous_factor) and 0.0 < previous_factor < 1.0:
        previous_factor = 1.0 / previous_factor
    if not math.isnan(next_factor) and 0.0 < next_factor < 1.0:
        next_factor = 1.0 / next_factor
    if (not math.isnan(previous_factor) and previous_factor > max_factor
            and not math.isnan(next_factor) and next_factor > max_factor):
        return False
    return True


@njit(cache=True, error_model="numpy")
def _mean_period(t, pmin, pmax, max_factor):
    """PointProcess_getMeanPeriod over all points; NaN where no interval is a period."""
    count = 0
    total = 0.0
    for i in range(t.shape[0] - 1):
        if _is_period(t, i, pmin, pmax, max_factor):
            count += 1
            total += t[i + 1] - t[i]
    return total / count if count > 0 else math.nan


@njit(cache=True, error_model="numpy")
def jitter_local(t, pmin, pmax, max_factor):
    """PointProcess_getJitter_local over all points; NaN where Praat says undefined."""
    n_periods = t.shape[0] - 1
    if n_periods < 2:
        return math.nan
    total = 0.0
    for i in range(1, t.shape[0] - 1):
        p1 = t[i] - t[i - 1]
        p2 = t[i + 1] - t[i]
        factor = p1 / p2 if p1 > p2 else p2 / p1
        if pmin == pmax or (p1 >= pmin and p1 <= pmax and p2 >= pmin and p2 <= pmax and factor <= max_factor):
            total += abs(p1 - p2)
        else:
            n_periods -= 1
    if n_periods < 2:
        return math.nan
    return total / (n_periods - 1) / _mean_period(t, pmin, pmax, max_factor)


@njit(cache=True, error_model="numpy")
def _hann_windowed_rms(z, s_x1, s_dx, tmid, width_left, width_right):
    """Sound_getHannWindowedRms on one channel; NaN under 3 samples."""
    nx = z.shape[0]
    # Sampled_getWindowSamples
    imin = int(1.0 + math.ceil((tmid - width_left - s_x1) / s_dx))
    imax = int(1.0 + math.floor((tmid + width_right - s_x1) / s_dx))
    if imin < 1:
        imin = 1
    if imax > nx:
        imax = nx
    if imax - imin + 1 < 3:
        return math.nan
    sum_of_squares = 0.0
    window_sum_of_squares = 0.0
    for i in range(imin, imax + 1):
        t = s_x1 + (i - 1) * s_dx
        width = width_left if t < tmid else width_right
        phase = (t - tmid) / width
        window = 0.5 + 0.5 * math.cos(math.pi * phase)
        value = z[i - 1] * window
        sum_of_squares += value * value
        window_sum_of_squares += window * window
    return math.sqrt(sum_of_squares / window_sum_of_squares)


@njit(cache=True, error_model="numpy")
def shimmer_local(z, s_x1, s_dx, t, pmin, pmax, max_factor, max_amplitude_factor):
    """PointProcess_Sound_getShimmer_local over all points; NaN where Praat says undefined (or, under 3 points,
    where Praat raises "too few pulses")."""
    n = t.shape[0]
    if n < 3:
        return math.nan
    # PointProcess_Sound_to_AmplitudeTier_period: the points are appended in time order
    times = np.empty(n)
    amplitudes = np.empty(n)
    m = 0
    for i in range(1, n - 1):
        p1 = t[i] - t[i - 1]
        p2 = t[i + 1] - t[i]
        factor = p1 / p2 if p1 > p2 else p2 / p1
        if pmin == pmax or (p1 >= pmin and p1 <= pmax and p2 >= pmin and p2 <= pmax and factor <= max_factor):
            peak = _hann_windowed_rms(z, s_x1, s_dx, t[i], 0.2 * p1, 0.2 * p2)
            if not math.isnan(peak) and peak > 0.0:
                times[m] = t[i]
                amplitudes[m] = peak
                m += 1
    # AmplitudeTier_getShimmer_local
    n_peaks = 0
    numerator = 0.0
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
        return math.nan
    numerator /= n_peaks
    denominator = 0.0
    for i in range(m - 1):  # Praat's mean leaves the last point out
        denominator += amplitudes[i]
    denominator /= m - 1
    if denominator == 0.0:
        return math.nan
    return numerator / denominator


def jitter_shimmer(span: np.ndarray, sr: int, times: np.ndarray) -> tuple[float | None, float | None, str | None]:
    """Jitter (local) and shimmer (local) with Praat's standard settings from pulse times on ``span`` (as
    ``periods.pulses`` gives them: first sample at half a sample), with the reasons ``voice_quality`` gives."""
    if len(times) < MIN_PULSES:
        return None, None, "fewer than 10 glottal periods"
    t = np.ascontiguousarray(times, dtype=np.float64)
    z = np.ascontiguousarray(span, dtype=np.float64)
    dx = 1.0 / sr
    jitter = jitter_local(t, PERIOD_FLOOR_S, PERIOD_CEILING_S, MAX_PERIOD_FACTOR)
    shimmer = shimmer_local(z, 0.5 * dx, dx, t, PERIOD_FLOOR_S, PERIOD_CEILING_S, MAX_PERIOD_FACTOR,
                            MAX_AMPLITUDE_FACTOR)
    if not (np.isfinite(jitter) and np.isfinite(shimmer)):
        # the wording of voice_quality's Praat path: the port answers undefined exactly where Praat does
        return None, None, "Praat returned undefined jitter / shimmer"
    return float(jitter), float(shimmer), None
