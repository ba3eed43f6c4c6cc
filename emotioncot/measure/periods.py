"""Glottal periods for jitter and shimmer: Praat's "Sound & Pitch: To PointProcess (cc)" (Praat 6.1.38,
fon/Pitch_to_PointProcess.cpp) ported with numba, for the frame-matrix pitch engine (``pitch_ac.py``).

Why: Praat's point process spends its time in the cross-correlation of each period with the next (about
0.45 period of lags times one period of samples, 0.9 ms per audio second); there the port keeps the norm of
the fixed period once instead of once per lag and sums the products in four interleaved accumulators, which
the processor runs side by side. Summing in another order moves a correlation by about 1e-16, so a pulse
time can move by as little; the test (tests/test_measure_periods.py) holds jitter and shimmer within 1e-9
of Praat's on every real file. Everything else (the voiced intervals, the walk left and right from the middle
of each, the thresholds, the parabolic refinement, the insertion of points) is Praat's, line by line.
Jitter and shimmer are then Praat's own, from a PointProcess made of these times ("Matrix: To PointProcess").
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True)
def _voiced(f, ceiling):
    return f > 0.0 and f < ceiling


@njit(cache=True)
def _pitch_at(f0, p_xmin, p_xmax, p_x1, p_dx, ceiling, t):
    """Pitch_getValueAtTime (Hertz, linear): NaN where Praat says undefined."""
    if t < p_xmin or t > p_xmax:
        return math.nan
    index_real = (t - p_x1) / p_dx + 1.0
    left = math.floor(index_real)
    phase = index_real - left
    if phase < 0.5:
        near = int(left)
        far = near + 1
    else:
        far = int(left)
        near = far + 1
        phase = 1.0 - phase
    nx = f0.shape[0]
    if near < 1 or near > nx:
        return math.nan
    near_value = f0[near - 1]
    if not _voiced(near_value, ceiling):
        return math.nan
    if far < 1 or far > nx:
        return near_value
    far_value = f0[far - 1]
    if not _voiced(far_value, ceiling):
        return near_value
    return near_value + phase * (far_value - near_value)


@njit(cache=True)
def _voiced_interval_after(f0, p_xmin, p_xmax, p_x1, p_dx, ceiling, after):
    """Pitch_getVoicedIntervalAfter: (found, tleft, tright)."""
    nx = f0.shape[0]
    ileft = int(math.ceil((after - p_x1) / p_dx + 1.0))
    if ileft > nx:
        return False, 0.0, 0.0
    if ileft < 1:
        ileft = 1
    while ileft <= nx and not _voiced(f0[ileft - 1], ceiling):
        ileft += 1
    if ileft > nx:
        return False, 0.0, 0.0
    iright = ileft
    while iright <= nx and _voiced(f0[iright - 1], ceiling):
        iright += 1
    iright -= 1
    tleft = p_x1 + (ileft - 1) * p_dx - 0.5 * p_dx
    tright = p_x1 + (iright - 1) * p_dx + 0.5 * p_dx
    if tleft >= p_xmax - 0.5 * p_dx:
        return False, 0.0, 0.0
    if tleft < p_xmin:
        tleft = p_xmin
    if tright > p_xmax:
        tright = p_xmax
    if tright <= after:
        return False, 0.0, 0.0
    return True, tleft, tright


@njit(cache=True)
def _find_extremum(z, s_x1, s_dx, tmin, tmax):
    """Sound_findExtremum with maxima and minima (findExtremum_3 on one channel)."""
    nx = z.shape[0]
    imin = int(math.floor((tmin - s_x1) / s_dx + 1.0))
    imax = int(math.ceil((tmax - s_x1) / s_dx + 1.0))
    if imin < 1:
        imin = 1
    if imax > nx:
        imax = nx
    n = imax - imin + 1
    base = imin - 2  # channel[i] (1-based i) is z[base + i]
    if n < 3:
        if n <= 0:
            iext = 0.0
        elif n == 1:
            iext = 1.0
        else:
            left = abs(z[base + 1])
            right = abs(z[base + 2])
            iext = 1.0 if left > right else (2.0 if left < right else 1.5)
    else:
        minimum = z[base + 1]
        maximum = minimum
        i_min = 1
        i_max = 1
        for i in range(2, n + 1):
            value = z[base + i]
            if value < minimum:
                minimum = value
                i_min = i
            if value > maximum:
                maximum = value
                i_max = i
        if minimum == maximum:
            iext = 0.5 * (n + 1.0)
        else:
            iextr = i_min if abs(minimum) > abs(maximum) else i_max
            if iextr == 1:
                iext = 1.0
            elif iextr == n:
                iext = float(n)
            else:
                mid = z[base + iextr]
                left = z[base + iextr - 1]
                right = z[base + iextr + 1]
                iext = iextr + 0.5 * (right - left) / (2 * mid - left - right)
    if iext != 0.0:
        return s_x1 + (imin - 1 + iext - 1) * s_dx
    return (tmin + tmax) / 2


@njit(cache=True)
def _max_correlation(z, s_x1, s_dx, t1, window_length, tmin2, tmax2):
    """Sound_findMaximumCorrelation: (correlation, time, peak); the time is ``t1`` when none was found."""
    nx = z.shape[0]
    half = 0.5 * window_length
    ileft1 = int(math.floor((t1 - half - s_x1) / s_dx + 1.0 + 0.5))
    iright1 = int(math.floor((t1 + half - s_x1) / s_dx + 1.0 + 0.5))
    ileft2min = int(math.floor((tmin2 - half - s_x1) / s_dx + 1.0))
    ileft2max = int(math.ceil((tmax2 - half - s_x1) / s_dx + 1.0))
    maximum = -1.0
    r1 = r2 = r3 = 0.0
    r1_best = r3_best = ir = 0.0
    peak = 0.0
    width = iright1 - ileft1 + 1
    n1 = 0.0
    n1_lo = n1_hi = -1
    for ileft2 in range(ileft2min, ileft2max + 1):
        # the samples both windows have inside the sound (Praat skips the others)
        lo = max(0, 1 - ileft1, 1 - ileft2)
        hi = min(width, nx + 1 - ileft1, nx + 1 - ileft2)
        if lo != n1_lo or hi != n1_hi:  # the fixed window's norm, again only where the overlap changes
            n1 = 0.0
            for k in range(lo, hi):
                n1 += z[ileft1 + k - 1] * z[ileft1 + k - 1]
            n1_lo = lo
            n1_hi = hi
        n2a = n2b = n2c = n2d = 0.0
        pa = pb = pc = pd = 0.0
        k = lo
        while k + 3 < hi:
            a0 = z[ileft1 + k - 1]
            a1 = z[ileft1 + k]
            a2 = z[ileft1 + k + 1]
            a3 = z[ileft1 + k + 2]
            b0 = z[ileft2 + k - 1]
            b1 = z[ileft2 + k]
            b2 = z[ileft2 + k + 1]
            b3 = z[ileft2 + k + 2]
            n2a += b0 * b0
            n2b += b1 * b1
            n2c += b2 * b2
            n2d += b3 * b3
            pa += a0 * b0
            pb += a1 * b1
            pc += a2 * b2
            pd += a3 * b3
            k += 4
        while k < hi:
            a0 = z[ileft1 + k - 1]
            b0 = z[ileft2 + k - 1]
            n2a += b0 * b0
            pa += a0 * b0
            k += 1
        norm2 = (n2a + n2b) + (n2c + n2d)
        product = (pa + pb) + (pc + pd)
        r1 = r2
        r2 = r3
        r3 = product / math.sqrt(n1 * norm2) if product != 0.0 else 0.0
        if r2 > maximum and r2 >= r1 and r2 >= r3:
            r1_best = r1
            maximum = r2
            r3_best = r3
            ir = float(ileft2 - 1)
            # Praat's peak: of this lag's window (one lag past the best), taken only when it is kept
            peak = 0.0
            for k in range(lo, hi):
                peak = max(peak, abs(z[ileft2 + k - 1]))
    tout = t1
    if maximum > -1.0:
        d2r = 2 * maximum - r1_best - r3_best
        if d2r != 0.0:
            dr = 0.5 * (r3_best - r1_best)
            maximum += 0.5 * dr * dr / d2r
            ir += dr / d2r
        tout = t1 + (ir - ileft1) * s_dx
    return maximum, tout, peak


@njit(cache=True)
def _add_point(points, n, t):
    """PointProcess_addPoint into ``points[:n]`` (sorted): appended when not before the last, else inserted
    unless that very time is there. Returns the new count."""
    if n == 0 or t >= points[n - 1]:
        points[n] = t
        return n + 1
    left = np.searchsorted(points[:n], t, side="right")  # PointProcess_getLowIndex: points <= t
    if left == 0 or points[left - 1] != t:
        points[left + 1 : n + 1] = points[left:n].copy()
        points[left] = t
        return n + 1
    return n


@njit(cache=True)
def _with_room(points, n):
    """``points`` with room for two more after ``points[:n]`` (doubled when full)."""
    if n + 2 < points.shape[0]:
        return points
    grown = np.empty(2 * points.shape[0])
    grown[:n] = points[:n]
    return grown


@njit(cache=True)
def point_process_cc(z, s_xmin, s_xmax, s_x1, s_dx, f0, p_xmin, p_xmax, p_x1, p_dx, ceiling):
    """Sound_Pitch_to_PointProcess_cc: the sorted pulse times."""
    points = np.empty(64)
    n = 0
    t = p_xmin
    added_right = -1e308
    global_peak = 0.0
    for i in range(z.shape[0]):
        global_peak = max(global_peak, abs(z[i]))
    while True:
        found, tleft, tright = _voiced_interval_after(f0, p_xmin, p_xmax, p_x1, p_dx, ceiling, t)
        if not found:
            break
        tmiddle = (tleft + tright) / 2.0
        f0middle = _pitch_at(f0, p_xmin, p_xmax, p_x1, p_dx, ceiling, tmiddle)
        if math.isnan(f0middle):
            break  # Praat stops with a fatal error here; it cannot happen for a voiced interval
        tmax = _find_extremum(z, s_x1, s_dx, tmiddle - 0.5 / f0middle, tmiddle + 0.5 / f0middle)
        points = _with_room(points, n)
        n = _add_point(points, n, tmax)
        tsave = tmax
        while True:
            f0_here = _pitch_at(f0, p_xmin, p_xmax, p_x1, p_dx, ceiling, tmax)
            if math.isnan(f0_here):
                break
            correlation, tmax, peak = _max_correlation(z, s_x1, s_dx, tmax, 1.0 / f0_here, tmax - 1.25 / f0_here,
                                                       tmax - 0.8 / f0_here)
            if correlation == -1.0:
                tmax -= 1.0 / f0_here
            points = _with_room(points, n)
            if tmax < tleft:
                if correlation > 0.7 and peak > 0.023333 * global_peak and tmax - added_right > 0.8 / f0_here:
                    n = _add_point(points, n, tmax)
                break
            if correlation > 0.3 and (peak == 0.0 or peak > 0.01 * global_peak):
                if tmax - added_right > 0.8 / f0_here:
                    n = _add_point(points, n, tmax)
        tmax = tsave
        while True:
            f0_here = _pitch_at(f0, p_xmin, p_xmax, p_x1, p_dx, ceiling, tmax)
            if math.isnan(f0_here):
                break
            correlation, tmax, peak = _max_correlation(z, s_x1, s_dx, tmax, 1.0 / f0_here, tmax + 0.8 / f0_here,
                                                       tmax + 1.25 / f0_here)
            if correlation == -1.0:
                tmax += 1.0 / f0_here
            points = _with_room(points, n)
            if tmax > tright:
                if correlation > 0.7 and peak > 0.023333 * global_peak:
                    n = _add_point(points, n, tmax)
                    added_right = tmax
                break
            if correlation > 0.3 and (peak == 0.0 or peak > 0.01 * global_peak):
                n = _add_point(points, n, tmax)
                added_right = tmax
        t = tright
    return points[:n].copy()


def pulses(span: np.ndarray, sr: int, f0: np.ndarray, first_time: float, time_step: float,
           ceiling: float = 5000.0) -> np.ndarray:
    """The pulse times Praat's "To PointProcess (cc)" finds in ``span`` (a parselmouth Sound of it: domain 0 ..
    n / sr, first sample at half a sample) with a Pitch of frames ``f0`` (0 unvoiced) from ``first_time``, a
    frame every ``time_step`` s, over the same domain."""
    z = np.ascontiguousarray(span, dtype=np.float64)
    dx = 1.0 / sr
    duration = len(z) * dx
    return point_process_cc(z, 0.0, duration, 0.5 * dx, dx, np.ascontiguousarray(f0, dtype=np.float64), 0.0, duration,
                            float(first_time), float(time_step), float(ceiling))
