# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The per-frame loops of Praat's "Sound: To Pitch (ac)" in Cython: candidate peaks of each frame's
autocorrelation, their refinement, and the path finder. ``pitch_ac.py`` prepares the frames; the loader
``pitch_kernels.py`` checks that this build matches this source.

Why compiled: the candidate search, the refinement and the Viterbi path finder are sequential loops over about
100 frames per second of speech. In numpy they cost a Python iteration per frame or per step of a search (a
numpy version took 7 to 13 ms per audio second, against 0.9 here and 2.9 for Praat itself). Compiled at install
(setup.py), the module imports in about a millisecond, where numba's import and cached-code load cost a fresh
process about 0.9 s. No fast-math: the arithmetic is IEEE double as Praat's, in the order written here.

The code follows Praat 6.1.38 (the version parselmouth 0.4 bundles; later versions changed NUM_interpolate_sinc's
window) line by line, so that it makes the same choices: ``Sound_into_PitchFrame`` (fon/Sound_to_Pitch.cpp),
``NUM_interpolate_sinc`` (melder/NUMinterpol.cpp), ``NUMminimize_brent`` (dwsys/NUM2.cpp) and ``Pitch_pathFinder``
(fon/Pitch.cpp). One step differs: the refinement of each candidate finds the maximum of the same interpolated
curve with parabolas (``refine_maximum``) instead of Brent's search, which costs 2.5 times more; Brent's own
search (``improve_maximum``) is kept for the tests. Praat indexes its autocorrelation ``r`` from lag
-brent_ixmax; here ``r`` holds lags 0.. and a negative lag reads ``r[-lag]`` (the autocorrelation is
symmetric), while Brent runs on Praat's index (lag + offset) so that its tolerance, which scales with the
abscissa, is the same.
"""

from libc.math cimport M_PI, cos, floor, log2, sin, sqrt
from libc.stdint cimport int64_t

import numpy as np

cdef extern from *:
    """
    #ifndef EMOTIONCOT_PYX_DIGEST
    #define EMOTIONCOT_PYX_DIGEST ""
    #endif
    """
    const char *EMOTIONCOT_PYX_DIGEST

SOURCE_DIGEST = EMOTIONCOT_PYX_DIGEST.decode("ascii")

cdef double GOLDEN = 1.0 - 0.6180339887498948482045868343656381177203
cdef double SQRT_EPSILON = sqrt(2.0**-53)  # Praat's NUMfpp->eps is LAPACK's dlamch("Epsilon"), 2^-53
cdef double BRENT_TOL = 1e-10
cdef int BRENT_ITERMAX = 60


cdef inline Py_ssize_t _iabs(Py_ssize_t i) noexcept nogil:
    return -i if i < 0 else i


cdef double sinc_interpolate(const double[::1] r, double x, Py_ssize_t depth) noexcept nogil:
    """Praat 6.1.38's NUM_interpolate_sinc on the symmetric autocorrelation, at the real lag ``x``."""
    cdef double midleft_f = floor(x)
    if x == midleft_f:
        return r[_iabs(<Py_ssize_t>midleft_f)]
    cdef Py_ssize_t midleft = <Py_ssize_t>midleft_f
    cdef Py_ssize_t midright = midleft + 1
    cdef Py_ssize_t left = midright - depth
    cdef Py_ssize_t right = midleft + depth
    cdef double result = 0.0
    cdef double a, halfsina, aa, daa, cosaa, sinaa, cosdaa, sindaa, d, help_
    cdef Py_ssize_t ix
    a = M_PI * (x - midleft)
    halfsina = 0.5 * sin(a)
    aa = a / (x - left + 1.0)
    daa = M_PI / (x - left + 1.0)
    cosaa = cos(aa)
    sinaa = sin(aa)
    cosdaa = cos(daa)
    sindaa = sin(daa)
    ix = midleft
    while ix >= left:
        d = halfsina / a * (1.0 + cosaa)
        result += r[_iabs(ix)] * d
        a += M_PI
        help_ = cosaa * cosdaa - sinaa * sindaa
        sinaa = cosaa * sindaa + sinaa * cosdaa
        cosaa = help_
        halfsina = -halfsina
        ix -= 1
    a = M_PI * (midright - x)
    halfsina = 0.5 * sin(a)
    aa = a / (right - x + 1.0)
    daa = M_PI / (right - x + 1.0)
    cosaa = cos(aa)
    sinaa = sin(aa)
    cosdaa = cos(daa)
    sindaa = sin(daa)
    for ix in range(midright, right + 1):
        d = halfsina / a * (1.0 + cosaa)
        result += r[_iabs(ix)] * d
        a += M_PI
        help_ = cosaa * cosdaa - sinaa * sindaa
        sinaa = cosaa * sindaa + sinaa * cosdaa
        cosaa = help_
        halfsina = -halfsina
    return result


cdef void improve_maximum(const double[::1] r, Py_ssize_t imax, Py_ssize_t offset, Py_ssize_t depth,
                          double *lag, double *value) noexcept nogil:
    """Praat's NUMimproveMaximum with sinc interpolation: Brent's minimiser of minus the interpolated ``r``
    over [imax - 1, imax + 1], on Praat's index (lag - offset). Writes (lag, value)."""
    cdef double a = <double>(imax - offset - 1)
    cdef double b = <double>(imax - offset + 1)
    cdef double v = a + GOLDEN * (b - a)
    cdef double fv = -sinc_interpolate(r, v + offset, depth)
    cdef double x = v
    cdef double w = v
    cdef double fx = fv
    cdef double fw = fv
    cdef double middle_range, tol_act, rng, new_step, t, q, p, ft
    cdef int it
    for it in range(BRENT_ITERMAX):
        middle_range = (a + b) / 2.0
        tol_act = SQRT_EPSILON * abs(x) + BRENT_TOL / 3.0
        rng = b - a
        if abs(x - middle_range) + rng / 2.0 <= 2.0 * tol_act:
            break
        new_step = GOLDEN * (b - x if x < middle_range else a - x)
        if abs(x - w) >= tol_act:
            t = (x - w) * (fx - fv)
            q = (x - v) * (fx - fw)
            p = (x - v) * q - (x - w) * t
            q = 2.0 * (q - t)
            if q > 0.0:
                p = -p
            else:
                q = -q
            if abs(p) < abs(new_step * q) and p > q * (a - x + 2.0 * tol_act) and p < q * (b - x - 2.0 * tol_act):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0.0 else -tol_act
        t = x + new_step
        ft = -sinc_interpolate(r, t + offset, depth)
        if ft <= fx:
            if t < x:
                b = x
            else:
                a = x
            v = w
            w = x
            x = t
            fv = fw
            fw = fx
            fx = ft
        else:
            if t < x:
                a = t
            else:
                b = t
            if ft <= fw or w == x:
                v = w
                w = t
                fv = fw
                fw = ft
            elif ft <= fv or v == x or v == w:
                v = t
                fv = ft
    lag[0] = x + offset
    value[0] = -fx


cdef inline void _half_start(double x, double edge_distance, double *a, double *hs, double *cd, double *sd,
                             double *c, double *s) noexcept nogil:
    """The phase state of one half of ``sinc_interpolate``'s loop: sinc phase a, 0.5 sin a, and the
    raised-cosine window's phase step and current cosine / sine."""
    a[0] = M_PI * x
    cdef double d = M_PI / edge_distance
    hs[0] = 0.5 * sin(a[0])
    cd[0] = cos(d)
    sd[0] = sin(d)
    c[0] = cos(a[0] / edge_distance)
    s[0] = sin(a[0] / edge_distance)


cdef void sinc_interpolate3(const double[::1] r, double xa, double xb, double xc, Py_ssize_t depth,
                            double *ya, double *yb, double *yc) noexcept nogil:
    """``sinc_interpolate`` at three abscissae in one loop. Each value is the same sum in the same order;
    the three recurrences run side by side, so the processor overlaps them (one evaluation's loop is bound
    by the latency of its cosine recurrence, not by arithmetic): three values for little more than one."""
    cdef Py_ssize_t ml_a = <Py_ssize_t>floor(xa)
    cdef Py_ssize_t ml_b = <Py_ssize_t>floor(xb)
    cdef Py_ssize_t ml_c = <Py_ssize_t>floor(xc)
    cdef double la, lha, lcd_a, lsd_a, lc_a, ls_a
    cdef double lb, lhb, lcd_b, lsd_b, lc_b, ls_b
    cdef double lc, lhc, lcd_c, lsd_c, lc_c, ls_c
    cdef double ra, rha, rcd_a, rsd_a, rc_a, rs_a
    cdef double rb, rhb, rcd_b, rsd_b, rc_b, rs_b
    cdef double rc, rhc, rcd_c, rsd_c, rc_c, rs_c
    # left halves: samples midleft, midleft - 1, ..., midright - depth; window distance x - left + 1
    _half_start(xa - ml_a, xa - (ml_a + 1 - depth) + 1.0, &la, &lha, &lcd_a, &lsd_a, &lc_a, &ls_a)
    _half_start(xb - ml_b, xb - (ml_b + 1 - depth) + 1.0, &lb, &lhb, &lcd_b, &lsd_b, &lc_b, &ls_b)
    _half_start(xc - ml_c, xc - (ml_c + 1 - depth) + 1.0, &lc, &lhc, &lcd_c, &lsd_c, &lc_c, &ls_c)
    # right halves: samples midright, ..., midleft + depth; window distance right - x + 1
    _half_start(ml_a + 1 - xa, (ml_a + depth) - xa + 1.0, &ra, &rha, &rcd_a, &rsd_a, &rc_a, &rs_a)
    _half_start(ml_b + 1 - xb, (ml_b + depth) - xb + 1.0, &rb, &rhb, &rcd_b, &rsd_b, &rc_b, &rs_b)
    _half_start(ml_c + 1 - xc, (ml_c + depth) - xc + 1.0, &rc, &rhc, &rcd_c, &rsd_c, &rc_c, &rs_c)
    cdef double suml_a = 0.0, suml_b = 0.0, suml_c = 0.0
    cdef double sumr_a = 0.0, sumr_b = 0.0, sumr_c = 0.0
    cdef double pa, pb, pc, q, ia, ib, ic, t
    cdef Py_ssize_t j
    for j in range(depth):
        # one division for the six reciprocals 1 / phase (division, not the rest, bounds this loop)
        pa = la * ra
        pb = lb * rb
        pc = lc * rc
        q = 1.0 / (pa * pb * pc)
        ia = pb * pc * q
        ib = pa * pc * q
        ic = pa * pb * q
        suml_a += r[_iabs(ml_a - j)] * (lha * (ra * ia) * (1.0 + lc_a))
        suml_b += r[_iabs(ml_b - j)] * (lhb * (rb * ib) * (1.0 + lc_b))
        suml_c += r[_iabs(ml_c - j)] * (lhc * (rc * ic) * (1.0 + lc_c))
        sumr_a += r[_iabs(ml_a + 1 + j)] * (rha * (la * ia) * (1.0 + rc_a))
        sumr_b += r[_iabs(ml_b + 1 + j)] * (rhb * (lb * ib) * (1.0 + rc_b))
        sumr_c += r[_iabs(ml_c + 1 + j)] * (rhc * (lc * ic) * (1.0 + rc_c))
        la += M_PI
        lb += M_PI
        lc += M_PI
        ra += M_PI
        rb += M_PI
        rc += M_PI
        lha = -lha
        lhb = -lhb
        lhc = -lhc
        rha = -rha
        rhb = -rhb
        rhc = -rhc
        t = lc_a * lcd_a - ls_a * lsd_a
        ls_a = lc_a * lsd_a + ls_a * lcd_a
        lc_a = t
        t = lc_b * lcd_b - ls_b * lsd_b
        ls_b = lc_b * lsd_b + ls_b * lcd_b
        lc_b = t
        t = lc_c * lcd_c - ls_c * lsd_c
        ls_c = lc_c * lsd_c + ls_c * lcd_c
        lc_c = t
        t = rc_a * rcd_a - rs_a * rsd_a
        rs_a = rc_a * rsd_a + rs_a * rcd_a
        rc_a = t
        t = rc_b * rcd_b - rs_b * rsd_b
        rs_b = rc_b * rsd_b + rs_b * rcd_b
        rc_b = t
        t = rc_c * rcd_c - rs_c * rsd_c
        rs_c = rc_c * rsd_c + rs_c * rcd_c
        rc_c = t
    # on a sample the curve is the sample (Praat)
    ya[0] = r[_iabs(ml_a)] if xa == ml_a else suml_a + sumr_a
    yb[0] = r[_iabs(ml_b)] if xb == ml_b else suml_b + sumr_b
    yc[0] = r[_iabs(ml_c)] if xc == ml_c else suml_c + sumr_c


cdef void refine_maximum(const double[::1] r, Py_ssize_t imax, double x0, Py_ssize_t depth, double *lag,
                         double *value) noexcept nogil:
    """The maximum of the ``depth``-deep sinc interpolation of ``r`` near lag ``x0``, as Praat's Brent finds
    it within [imax - 1, imax + 1]: the vertex of the parabola through the interpolated curve at x - 0.05,
    x, x + 0.05 lag, taken once it lies within that spacing (otherwise the parabola moves x and is drawn
    again). On the 66 real files' 8,653 candidates (every other frame of a third of the files) this is 1.55
    evaluations of three points on average, against Brent's 10 to 14 single ones, and the frequency is
    within 6e-4 semitone of Brent's (median 8e-6), the strength within 7e-6 (the curve is flat at its
    maximum). Where the curve is not concave around the point, the vertex leaves Brent's interval, or it
    takes more than 12 steps: Brent itself."""
    cdef double x = x0
    cdef double h = 0.05
    cdef double y0, y1, y2, d2, shift, xv
    cdef int it
    for it in range(12):
        sinc_interpolate3(r, x - h, x, x + h, depth, &y0, &y1, &y2)
        d2 = y0 - 2.0 * y1 + y2
        if not d2 < 0.0:
            break
        shift = 0.5 * h * (y0 - y2) / d2
        if abs(shift) <= h:
            if h <= 0.051:
                xv = x + shift
                if xv < imax - 1 or xv > imax + 1:
                    break
                lag[0] = xv
                value[0] = y1 - 0.125 * (y2 - y0) * (y2 - y0) / d2
                return
            x += shift
            h *= 0.1
        else:
            x += shift
            if x < imax - 1 or x > imax + 1:
                break
    improve_maximum(r, imax, -(r.shape[0] - 1) - 1, depth, lag, value)


cdef Py_ssize_t frame_candidates(const double[::1] r, double sr, double pitch_floor, double ceiling,
                                 Py_ssize_t max_lag, Py_ssize_t brent_ixmax, double voicing_threshold,
                                 double octave_cost, Py_ssize_t max_candidates, double[::1] freq,
                                 double[::1] strength, int64_t[::1] imax, double[::1] first,
                                 bint exact) noexcept nogil:
    """One frame's candidates into ``freq`` / ``strength`` (slot 0: unvoiced); returns their number.
    ``r`` is the normalised autocorrelation at lags 0..brent_ixmax. ``exact``: refine with Praat's Brent
    (slow, for tests) instead of ``refine_maximum``."""
    cdef double dx = 1.0 / sr
    cdef double fs = 1.0 / dx
    cdef Py_ssize_t offset = -brent_ixmax - 1
    cdef Py_ssize_t n = 1
    cdef Py_ssize_t top = max_lag if max_lag < brent_ixmax else brent_ixmax
    cdef Py_ssize_t maxima = 0
    cdef Py_ssize_t i, k, place, iweak
    cdef double dr, d2r, f, x, s, weakest, local, lag, value
    freq[0] = 0.0
    strength[0] = 0.0
    for i in range(2, top):
        if r[i] > 0.5 * voicing_threshold and r[i] > r[i - 1] and r[i] >= r[i + 1]:
            maxima += 1
    # the first strengths (30-deep sinc at the parabola's vertex) only choose which maxima keep a place when
    # there are more than places; otherwise every maximum keeps one, the refinement replaces the strength of
    # those a voice can use, and the others are unvoiced for the path finder whatever their strength
    cdef bint crowded = maxima > max_candidates - 1
    for i in range(2, top):
        if r[i] > 0.5 * voicing_threshold and r[i] > r[i - 1] and r[i] >= r[i + 1]:
            place = -1
            dr = 0.5 * (r[i + 1] - r[i - 1])
            d2r = 2.0 * r[i] - r[i - 1] - r[i + 1]
            f = fs / (i + dr / d2r)
            x = (fs / f - offset) + offset  # Praat's abscissa, rounded as Praat rounds it
            s = 0.0
            if crowded:
                s = sinc_interpolate(r, x, 30)
                if s > 1.0:
                    s = 1.0 / s
            if n < max_candidates:
                place = n
                n += 1
            else:
                weakest = 2.0
                for iweak in range(1, max_candidates):
                    local = strength[iweak] - octave_cost * log2(pitch_floor / freq[iweak])
                    if local < weakest:
                        weakest = local
                        place = iweak
                if s - octave_cost * log2(pitch_floor / f) <= weakest:
                    place = -1
            if place >= 0:
                freq[place] = f
                strength[place] = s
                imax[place] = i
                first[place] = x
    for k in range(1, n):
        if fs / (imax[k] + 1) >= ceiling:
            # the refinement stays within a lag of imax, so this candidate stays above the ceiling: unvoiced for
            # the path finder whatever its refinement (Praat refines it, with 700-deep sinc above 0.3 sr; the
            # ceiling is under that: pitch_ac.supports)
            continue
        if exact:
            improve_maximum(r, imax[k], offset, 70, &lag, &value)
        else:
            refine_maximum(r, imax[k], first[k], 70, &lag, &value)
        freq[k] = fs / lag
        if value > 1.0:
            value = 1.0 / value
        strength[k] = value
    return n


def frame_matrix(const double[::1] x, const int64_t[::1] left, Py_ssize_t nsamp_period, Py_ssize_t halfnsamp_window,
                 Py_ssize_t halfnsamp_period, const double[::1] window, double global_peak, double live_below,
                 Py_ssize_t nfft, double[::1] intensity):
    """Praat's frame preparation for every frame: the local mean (one longest period to each side of the
    centre), the windowed frame, its local peak (half a longest period around the centre) as ``intensity``
    relative to the global peak. Returns the indices of the frames whose unvoiced strength is at most
    ``live_below`` and their windowed frames, zero-padded to ``nfft``."""
    cdef Py_ssize_t n = left.shape[0]
    cdef Py_ssize_t nwin = window.shape[0]
    means_a = np.empty(n)
    live_a = np.empty(n, dtype=np.int64)
    cdef double[::1] means = means_a
    cdef int64_t[::1] live = live_a
    cdef Py_ssize_t n_live = 0
    cdef Py_ssize_t a = halfnsamp_window - halfnsamp_period
    if a < 0:
        a = 0
    cdef Py_ssize_t b = halfnsamp_window + halfnsamp_period
    if b > nwin:
        b = nwin
    cdef Py_ssize_t k, i, j, lo, start
    cdef double total, mean, peak, v
    with nogil:
        for k in range(n):
            lo = left[k] + 1 - nsamp_period
            total = 0.0
            for i in range(lo, left[k] + nsamp_period + 1):
                total += x[i]
            mean = total / (2 * nsamp_period)
            means[k] = mean
            start = left[k] + 1 - halfnsamp_window
            peak = 0.0
            for j in range(a, b):
                v = abs((x[start + j] - mean) * window[j])
                if v > peak:
                    peak = v
            intensity[k] = 1.0 if peak > global_peak else peak / global_peak
            if peak > 0.0 and intensity[k] >= live_below:
                live[n_live] = k
                n_live += 1
    buf_a = np.zeros((n_live, nfft), dtype=np.float32)  # float32 FFTs: a third faster, the same path (tests)
    cdef float[:, ::1] buf = buf_a
    with nogil:
        for j in range(n_live):
            k = live[j]
            start = left[k] + 1 - halfnsamp_window
            mean = means[k]
            for i in range(nwin):
                buf[j, i] = <float>((x[start + i] - mean) * window[i])
    return live_a[:n_live], buf_a


def power_in_place(spec):
    """|X|^2 written over the spectrum (imaginary parts zero): the FFT of the autocorrelation. ``spec``:
    complex64, C-contiguous (as the FFT gives it)."""
    _power_in_place(spec.view(np.float32))


cdef void _power_in_place(float[:, ::1] pairs) noexcept nogil:
    # ``pairs`` holds each row's (real, imaginary) pairs side by side
    cdef Py_ssize_t n = pairs.shape[0]
    cdef Py_ssize_t m = pairs.shape[1]
    cdef Py_ssize_t i, j
    cdef float re, im
    for i in range(n):
        for j in range(0, m, 2):
            re = pairs[i, j]
            im = pairs[i, j + 1]
            pairs[i, j] = re * re + im * im
            pairs[i, j + 1] = 0.0


def all_candidates(const float[:, ::1] ac, const int64_t[::1] live, const double[::1] window_r, double sr,
                   double pitch_floor, double ceiling, Py_ssize_t max_lag, Py_ssize_t brent_ixmax,
                   double voicing_threshold, double octave_cost, Py_ssize_t max_candidates, double[:, ::1] freq,
                   double[:, ::1] strength, int64_t[::1] counts, bint exact):
    """Candidates of every live frame; ``ac`` rows are the raw autocorrelations of the live frames,
    normalised here as Praat does (by lag 0 and by the window's normalised autocorrelation)."""
    r_a = np.empty(brent_ixmax + 1)
    imax_a = np.zeros(max_candidates, dtype=np.int64)
    first_a = np.zeros(max_candidates)
    cdef double[::1] r = r_a
    cdef int64_t[::1] imax = imax_a
    cdef double[::1] first = first_a
    cdef Py_ssize_t j, k, i
    with nogil:
        for j in range(live.shape[0]):
            k = live[j]
            r[0] = 1.0
            for i in range(1, brent_ixmax + 1):
                r[i] = ac[j, i] / (ac[j, 0] * window_r[i])
            counts[k] = frame_candidates(r, sr, pitch_floor, ceiling, max_lag, brent_ixmax, voicing_threshold,
                                         octave_cost, max_candidates, freq[k], strength[k], imax, first, exact)


def path_finder(const double[:, ::1] freq, const double[:, ::1] strength, const int64_t[::1] counts,
                const double[::1] intensity, double silence_threshold, double voicing_threshold, double octave_cost,
                double octave_jump_cost, double voiced_unvoiced_cost, double ceiling, double time_step):
    """Praat's Pitch_pathFinder (no formant pulling): the index of the chosen candidate in each frame."""
    cdef Py_ssize_t nx = freq.shape[0]
    cdef Py_ssize_t maxc = freq.shape[1]
    cdef double correction = 0.01 / time_step
    octave_jump_cost *= correction
    voiced_unvoiced_cost *= correction
    delta_a = np.zeros((nx, maxc))
    psi_a = np.zeros((nx, maxc), dtype=np.int64)
    chosen_a = np.zeros(nx, dtype=np.int64)
    cdef double[:, ::1] delta = delta_a
    cdef int64_t[:, ::1] psi = psi_a
    cdef int64_t[::1] chosen = chosen_a
    cdef Py_ssize_t i, c, c1, c2, place
    cdef double unvoiced, f, f1, f2, maximum, cost, value
    cdef bint cur_voiceless, prev_voiceless
    if nx == 0:
        return chosen_a
    with nogil:
        for i in range(nx):
            unvoiced = 0.0 if silence_threshold <= 0 else 2.0 - intensity[i] / (silence_threshold / (1.0 + voicing_threshold))
            unvoiced = voicing_threshold + (unvoiced if unvoiced > 0.0 else 0.0)
            for c in range(counts[i]):
                f = freq[i, c]
                if f > 0.0 and f < ceiling:
                    delta[i, c] = strength[i, c] - octave_cost * log2(ceiling / f)
                else:
                    delta[i, c] = unvoiced
        for i in range(1, nx):
            for c2 in range(counts[i]):
                f2 = freq[i, c2]
                cur_voiceless = not (f2 > 0.0 and f2 < ceiling)
                maximum = -1e30
                place = 0
                for c1 in range(counts[i - 1]):
                    f1 = freq[i - 1, c1]
                    prev_voiceless = not (f1 > 0.0 and f1 < ceiling)
                    if cur_voiceless:
                        cost = 0.0 if prev_voiceless else voiced_unvoiced_cost
                    elif prev_voiceless:
                        cost = voiced_unvoiced_cost
                    else:
                        cost = octave_jump_cost * abs(log2(f1 / f2))
                    value = delta[i - 1, c1] - cost + delta[i, c2]
                    if value > maximum:
                        maximum = value
                        place = c1
                delta[i, c2] = maximum
                psi[i, c2] = place
        place = 0
        maximum = delta[nx - 1, 0]
        for c in range(1, counts[nx - 1]):
            if delta[nx - 1, c] > maximum:
                place = c
                maximum = delta[nx - 1, c]
        i = nx - 1
        while i >= 0:
            chosen[i] = place
            place = psi[i, place]
            i -= 1
    return chosen_a
