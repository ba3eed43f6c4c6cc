# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Glottal periods for jitter and shimmer: Praat's "Sound & Pitch: To PointProcess (cc)" (Praat 6.1.38,
fon/Pitch_to_PointProcess.cpp) in Cython, for the frame-matrix pitch engine (``pitch_ac.py``); ``periods.py``
loads it and checks that this build matches this source.

Praat's point process spends its time in the cross-correlation of each period with the next (about 0.45
period of lags times one period of samples); here the norm of the fixed period is kept once instead of once
per lag and the products are summed in four interleaved accumulators, which the processor runs side by side.
Summing in another order moves a correlation by about 1e-16, so a pulse time can move by as little; the test
(tests/test_measure_periods.py) holds jitter and shimmer within 1e-9 of Praat's on every real file. Everything
else (the voiced intervals, the walk left and right from the middle of each, the thresholds, the parabolic
refinement, the insertion of points) is Praat's, line by line. No fast-math: IEEE double throughout.
"""

from libc.math cimport NAN, ceil, floor, isnan, sqrt
from libc.string cimport memmove

import numpy as np

cdef extern from *:
    """
    #ifndef EMOTIONCOT_PYX_DIGEST
    #define EMOTIONCOT_PYX_DIGEST ""
    #endif
    """
    const char *EMOTIONCOT_PYX_DIGEST

SOURCE_DIGEST = EMOTIONCOT_PYX_DIGEST.decode("ascii")


cdef struct PitchTrack:
    const double *f0
    Py_ssize_t nx
    double xmin, xmax, x1, dx, ceiling


cdef struct Sound:
    const double *z
    Py_ssize_t nx
    double x1, dx


cdef inline bint _voiced(double f, double ceiling) noexcept nogil:
    return f > 0.0 and f < ceiling


cdef double _pitch_at(const PitchTrack *p, double t) noexcept nogil:
    """Pitch_getValueAtTime (Hertz, linear): NaN where Praat says undefined."""
    if t < p.xmin or t > p.xmax:
        return NAN
    cdef double index_real = (t - p.x1) / p.dx + 1.0
    cdef double left = floor(index_real)
    cdef double phase = index_real - left
    cdef Py_ssize_t near, far
    if phase < 0.5:
        near = <Py_ssize_t>left
        far = near + 1
    else:
        far = <Py_ssize_t>left
        near = far + 1
        phase = 1.0 - phase
    if near < 1 or near > p.nx:
        return NAN
    cdef double near_value = p.f0[near - 1]
    if not _voiced(near_value, p.ceiling):
        return NAN
    if far < 1 or far > p.nx:
        return near_value
    cdef double far_value = p.f0[far - 1]
    if not _voiced(far_value, p.ceiling):
        return near_value
    return near_value + phase * (far_value - near_value)


cdef bint _voiced_interval_after(const PitchTrack *p, double after, double *tleft, double *tright) noexcept nogil:
    """Pitch_getVoicedIntervalAfter: whether one was found, into (tleft, tright)."""
    cdef Py_ssize_t ileft = <Py_ssize_t>ceil((after - p.x1) / p.dx + 1.0)
    if ileft > p.nx:
        return False
    if ileft < 1:
        ileft = 1
    while ileft <= p.nx and not _voiced(p.f0[ileft - 1], p.ceiling):
        ileft += 1
    if ileft > p.nx:
        return False
    cdef Py_ssize_t iright = ileft
    while iright <= p.nx and _voiced(p.f0[iright - 1], p.ceiling):
        iright += 1
    iright -= 1
    tleft[0] = p.x1 + (ileft - 1) * p.dx - 0.5 * p.dx
    tright[0] = p.x1 + (iright - 1) * p.dx + 0.5 * p.dx
    if tleft[0] >= p.xmax - 0.5 * p.dx:
        return False
    if tleft[0] < p.xmin:
        tleft[0] = p.xmin
    if tright[0] > p.xmax:
        tright[0] = p.xmax
    if tright[0] <= after:
        return False
    return True


cdef double _find_extremum(const Sound *s, double tmin, double tmax) noexcept nogil:
    """Sound_findExtremum with maxima and minima (findExtremum_3 on one channel)."""
    cdef const double *z = s.z
    cdef Py_ssize_t imin = <Py_ssize_t>floor((tmin - s.x1) / s.dx + 1.0)
    cdef Py_ssize_t imax = <Py_ssize_t>ceil((tmax - s.x1) / s.dx + 1.0)
    if imin < 1:
        imin = 1
    if imax > s.nx:
        imax = s.nx
    cdef Py_ssize_t n = imax - imin + 1
    cdef Py_ssize_t base = imin - 2  # channel[i] (1-based i) is z[base + i]
    cdef double iext, left, right, minimum, maximum, value, mid
    cdef Py_ssize_t i, i_min, i_max, iextr
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
                iext = <double>n
            else:
                mid = z[base + iextr]
                left = z[base + iextr - 1]
                right = z[base + iextr + 1]
                iext = iextr + 0.5 * (right - left) / (2 * mid - left - right)
    if iext != 0.0:
        return s.x1 + (imin - 1 + iext - 1) * s.dx
    return (tmin + tmax) / 2


cdef double _max_correlation(const Sound *s, double t1, double window_length, double tmin2, double tmax2,
                             double *tout, double *peak_out) noexcept nogil:
    """Sound_findMaximumCorrelation: the correlation, with the time into ``tout`` (``t1`` when none was
    found) and the peak into ``peak_out``."""
    cdef const double *z = s.z
    cdef Py_ssize_t nx = s.nx
    cdef double half = 0.5 * window_length
    cdef Py_ssize_t ileft1 = <Py_ssize_t>floor((t1 - half - s.x1) / s.dx + 1.0 + 0.5)
    cdef Py_ssize_t iright1 = <Py_ssize_t>floor((t1 + half - s.x1) / s.dx + 1.0 + 0.5)
    cdef Py_ssize_t ileft2min = <Py_ssize_t>floor((tmin2 - half - s.x1) / s.dx + 1.0)
    cdef Py_ssize_t ileft2max = <Py_ssize_t>ceil((tmax2 - half - s.x1) / s.dx + 1.0)
    cdef double maximum = -1.0
    cdef double r1 = 0.0, r2 = 0.0, r3 = 0.0
    cdef double r1_best = 0.0, r3_best = 0.0, ir = 0.0
    cdef double peak = 0.0
    cdef Py_ssize_t width = iright1 - ileft1 + 1
    cdef double n1 = 0.0
    cdef Py_ssize_t n1_lo = -1, n1_hi = -1
    cdef Py_ssize_t ileft2, lo, hi, k
    cdef double n2a, n2b, n2c, n2d, pa, pb, pc, pd, a0, a1, a2, a3, b0, b1, b2, b3, norm2, product
    cdef double d2r, dr, v
    for ileft2 in range(ileft2min, ileft2max + 1):
        # the samples both windows have inside the sound (Praat skips the others)
        lo = 0
        if 1 - ileft1 > lo:
            lo = 1 - ileft1
        if 1 - ileft2 > lo:
            lo = 1 - ileft2
        hi = width
        if nx + 1 - ileft1 < hi:
            hi = nx + 1 - ileft1
        if nx + 1 - ileft2 < hi:
            hi = nx + 1 - ileft2
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
        r3 = product / sqrt(n1 * norm2) if product != 0.0 else 0.0
        if r2 > maximum and r2 >= r1 and r2 >= r3:
            r1_best = r1
            maximum = r2
            r3_best = r3
            ir = <double>(ileft2 - 1)
            # Praat's peak: of this lag's window (one lag past the best), taken only when it is kept
            peak = 0.0
            for k in range(lo, hi):
                v = abs(z[ileft2 + k - 1])
                if v > peak:
                    peak = v
    tout[0] = t1
    if maximum > -1.0:
        d2r = 2 * maximum - r1_best - r3_best
        if d2r != 0.0:
            dr = 0.5 * (r3_best - r1_best)
            maximum += 0.5 * dr * dr / d2r
            ir += dr / d2r
        tout[0] = t1 + (ir - ileft1) * s.dx
    peak_out[0] = peak
    return maximum


cdef class _Points:
    """A growing sorted array of pulse times (PointProcess_addPoint's semantics)."""
    cdef object array
    cdef double[::1] t
    cdef Py_ssize_t n

    def __cinit__(self):
        self.array = np.empty(64)
        self.t = self.array
        self.n = 0

    cdef void make_room(self):
        """Room for two more after ``t[:n]`` (doubled when full)."""
        if self.n + 2 < self.t.shape[0]:
            return
        grown = np.empty(2 * self.t.shape[0])
        grown[: self.n] = self.array[: self.n]
        self.array = grown
        self.t = grown

    cdef void add(self, double x) noexcept:
        """PointProcess_addPoint: appended when not before the last, else inserted unless that very time is
        there."""
        cdef Py_ssize_t n = self.n
        cdef Py_ssize_t lo = 0, hi = n, mid
        if n == 0 or x >= self.t[n - 1]:
            self.t[n] = x
            self.n = n + 1
            return
        while lo < hi:  # PointProcess_getLowIndex: the number of points <= x
            mid = (lo + hi) // 2
            if self.t[mid] <= x:
                lo = mid + 1
            else:
                hi = mid
        if lo == 0 or self.t[lo - 1] != x:
            memmove(&self.t[lo + 1], &self.t[lo], (n - lo) * sizeof(double))
            self.t[lo] = x
            self.n = n + 1


def point_process_cc(const double[::1] z, double s_xmin, double s_xmax, double s_x1, double s_dx,
                     const double[::1] f0, double p_xmin, double p_xmax, double p_x1, double p_dx, double ceiling):
    """Sound_Pitch_to_PointProcess_cc: the sorted pulse times."""
    cdef Sound s
    cdef PitchTrack p
    s.z = &z[0] if z.shape[0] else NULL
    s.nx = z.shape[0]
    s.x1 = s_x1
    s.dx = s_dx
    p.f0 = &f0[0] if f0.shape[0] else NULL
    p.nx = f0.shape[0]
    p.xmin = p_xmin
    p.xmax = p_xmax
    p.x1 = p_x1
    p.dx = p_dx
    p.ceiling = ceiling
    cdef _Points points = _Points()
    cdef double t = p_xmin
    cdef double added_right = -1e308
    cdef double global_peak = 0.0
    cdef double tleft, tright, tmiddle, f0middle, tmax, tsave, f0_here, correlation, peak
    cdef Py_ssize_t i
    for i in range(z.shape[0]):
        if abs(z[i]) > global_peak:
            global_peak = abs(z[i])
    while True:
        if not _voiced_interval_after(&p, t, &tleft, &tright):
            break
        tmiddle = (tleft + tright) / 2.0
        f0middle = _pitch_at(&p, tmiddle)
        if isnan(f0middle):
            break  # Praat stops with a fatal error here; it cannot happen for a voiced interval
        tmax = _find_extremum(&s, tmiddle - 0.5 / f0middle, tmiddle + 0.5 / f0middle)
        points.make_room()
        points.add(tmax)
        tsave = tmax
        while True:
            f0_here = _pitch_at(&p, tmax)
            if isnan(f0_here):
                break
            correlation = _max_correlation(&s, tmax, 1.0 / f0_here, tmax - 1.25 / f0_here, tmax - 0.8 / f0_here,
                                           &tmax, &peak)
            if correlation == -1.0:
                tmax -= 1.0 / f0_here
            points.make_room()
            if tmax < tleft:
                if correlation > 0.7 and peak > 0.023333 * global_peak and tmax - added_right > 0.8 / f0_here:
                    points.add(tmax)
                break
            if correlation > 0.3 and (peak == 0.0 or peak > 0.01 * global_peak):
                if tmax - added_right > 0.8 / f0_here:
                    points.add(tmax)
        tmax = tsave
        while True:
            f0_here = _pitch_at(&p, tmax)
            if isnan(f0_here):
                break
            correlation = _max_correlation(&s, tmax, 1.0 / f0_here, tmax + 0.8 / f0_here, tmax + 1.25 / f0_here,
                                           &tmax, &peak)
            if correlation == -1.0:
                tmax += 1.0 / f0_here
            points.make_room()
            if tmax > tright:
                if correlation > 0.7 and peak > 0.023333 * global_peak:
                    points.add(tmax)
                    added_right = tmax
                break
            if correlation > 0.3 and (peak == 0.0 or peak > 0.01 * global_peak):
                points.add(tmax)
                added_right = tmax
        t = tright
    return points.array[: points.n].copy()
