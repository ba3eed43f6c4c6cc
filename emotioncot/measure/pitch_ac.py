"""Praat's "Sound: To Pitch (ac)" with its standard settings, re-implemented on the whole frame matrix.

As ``harmonicity.py`` does for To Harmonicity (ac): every frame's Hanning-windowed autocorrelation in
batched FFTs (Boersma 1993: 3 periods of the pitch floor per window, local mean over one longest period to
each side removed, normalised by the window's own autocorrelation), then per frame Praat's candidate search
(local maxima above half the voicing threshold, parabolic first estimate, sinc strength, at most 15 kept by
strength with the octave cost), the refinement of each candidate to the maximum of Praat's 70-deep sinc
interpolation (by parabolas where Praat runs Brent's search: ``pitch_kernels.refine_maximum``), and the path
finder (Viterbi with voicing, octave-jump and voiced/unvoiced costs): ``pitch_kernels.py``. The FFTs run in
float32 (as harmonicity.py's): a third less time, no frame of the tests changes voicing by it.

One shortcut Praat does not take: a frame so quiet that its unvoiced candidate beats any voiced one by more
than two voiced/unvoiced transitions (intensity under about 2.4 % of the global peak) cannot lie on the
best path voiced (swapping it to unvoiced gains more than any transition can cost), so its autocorrelation
is not computed. tests/test_measure_pitch_ac.py compares the result with Praat frame by frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emotioncot.measure.fft import irfft, next_fast_len, rfft

PERIODS_PER_WINDOW = 3.0
MAX_CANDIDATES = 15
SILENCE_THRESHOLD = 0.03
VOICING_THRESHOLD = 0.45
OCTAVE_COST = 0.01
OCTAVE_JUMP_COST = 0.35
VOICED_UNVOICED_COST = 0.14
SINC_DEPTH = 70  # the refinement interpolates 70 lags to each side
CHUNK_FRAMES = 64


@dataclass
class PitchAC:
    times: np.ndarray  # frame centres, s from the start of the sound
    frequency: np.ndarray  # Hz, 0 where unvoiced
    strength: np.ndarray
    time_step: float
    first_time: float


def _hanning(n: int) -> np.ndarray:
    i = np.arange(1, n + 1)
    return 0.5 - 0.5 * np.cos(i * 2 * np.pi / (n + 1))


def _live_intensity() -> float:
    """The intensity (local peak / global peak) under which a frame's unvoiced strength exceeds any voiced
    candidate's local score (at most 1) by more than two voiced/unvoiced transitions."""
    # unvoiced = VOICING + max(0, 2 - intensity / (SILENCE / (1 + VOICING))) > 1 + 2 * VU_COST; a hair lower
    # than the exact bound, so that rounding can only keep a frame that could have been skipped
    return (2.0 - (1.0 + 2 * VOICED_UNVOICED_COST - VOICING_THRESHOLD)) * SILENCE_THRESHOLD / (1.0 + VOICING_THRESHOLD) - 1e-12


def supports(sr: int, pitch_floor: float, pitch_ceiling: float) -> bool:
    """Whether these settings stay where the port follows Praat: a ceiling under 0.3 sr (above it Praat refines
    with 700-deep sinc interpolation, not ported) and a window long enough that the 70-deep interpolation
    around the longest candidate lag never reaches its end (Praat would cut the depth there; not ported): at
    16 kHz a floor up to about 109 Hz."""
    dx = 1.0 / sr
    nsamp_window = (int(np.floor(PERIODS_PER_WINDOW / pitch_floor / dx)) // 2 - 1) * 2
    max_lag = min(int(np.floor(nsamp_window / PERIODS_PER_WINDOW)) + 2, nsamp_window)
    brent_ixmax = int(np.floor(nsamp_window * 0.5))
    return pitch_ceiling < 0.3 * sr and brent_ixmax - (max_lag + 1) >= SINC_DEPTH and nsamp_window >= 4


def frame_times(n_samples: int, sr: int, time_step: float, window_s: float) -> tuple[int, float]:
    """Praat's Sampled_shortTermAnalysis: as many frames as fit, centred in the sound."""
    dx = 1.0 / sr
    duration = dx * n_samples
    if window_s > duration:
        return 0, 0.0
    n = int(np.floor((duration - window_s) / time_step)) + 1
    x1 = 0.5 * dx
    mid = x1 - 0.5 * dx + 0.5 * duration
    return n, mid - 0.5 * (n * time_step) + 0.5 * time_step


def to_pitch_ac(x: np.ndarray, sr: int, time_step: float = 0.01, pitch_floor: float = 75.0,
                pitch_ceiling: float = 600.0, exact: bool = False) -> PitchAC:
    """``exact``: refine candidates with Praat's own Brent search (slower; for the comparison tests). Settings
    outside ``supports`` raise ValueError."""
    from emotioncot.measure import pitch_kernels as kern

    if not supports(sr, pitch_floor, pitch_ceiling):
        raise ValueError(f"pitch floor {pitch_floor} Hz / ceiling {pitch_ceiling} Hz at {sr} Hz: outside what the "
                         "frame-matrix port of Praat covers (pitch_ac.supports)")
    x = np.asarray(x, dtype=np.float64)
    dx = 1.0 / sr
    max_candidates = max(MAX_CANDIDATES, int(np.floor(pitch_ceiling / pitch_floor)))
    nsamp_period = int(np.floor(1.0 / dx / pitch_floor))
    halfnsamp_period = nsamp_period // 2 + 1
    ceiling = min(pitch_ceiling, 0.5 / dx)
    window_s = PERIODS_PER_WINDOW / pitch_floor
    halfnsamp_window = int(np.floor(window_s / dx)) // 2 - 1
    nsamp_window = halfnsamp_window * 2
    max_lag = min(int(np.floor(nsamp_window / PERIODS_PER_WINDOW)) + 2, nsamp_window)
    brent_ixmax = int(np.floor(nsamp_window * 0.5))
    n_frames, t1 = frame_times(len(x), sr, time_step, window_s)
    empty = PitchAC(np.zeros(0), np.zeros(0), np.zeros(0), time_step, t1)
    if n_frames < 1 or halfnsamp_window < 2:
        return empty
    times = t1 + np.arange(n_frames) * time_step
    freq = np.zeros((n_frames, max_candidates))
    strength = np.zeros((n_frames, max_candidates))
    counts = np.ones(n_frames, dtype=np.int64)
    intensity = np.zeros(n_frames)
    global_peak = float(np.abs(x - x.mean()).max()) if len(x) else 0.0
    if global_peak > 0:
        # 0-based index of Praat's leftSample (Sampled_xToLowIndex): floor((t - x1) / dx + 1) - 1
        left = np.floor((times - 0.5 * dx) / dx + 1.0).astype(np.int64) - 1
        window = _hanning(nsamp_window)
        nfft = next_fast_len(nsamp_window + brent_ixmax + 1)  # no circular wrap up to brent_ixmax
        live, buf = kern.frame_matrix(x, left, nsamp_period, halfnsamp_window, halfnsamp_period, window,
                                      global_peak, _live_intensity(), nfft, intensity)
        if live.size:
            wspec = rfft(window, nfft)
            wac = irfft(wspec.real**2 + wspec.imag**2, nfft)[: brent_ixmax + 1]
            window_r = wac / wac[0]
            # CHUNK_FRAMES frames at a time: each chunk's spectra and autocorrelations stay in the processor's
            # cache from the FFTs to the candidate search (the FFTs treat every frame alike: the same values)
            for i in range(0, live.size, CHUNK_FRAMES):
                spec = rfft(buf[i : i + CHUNK_FRAMES])
                kern.power_in_place(spec)
                kern.all_candidates(irfft(spec, nfft), live[i : i + CHUNK_FRAMES], window_r, float(sr), pitch_floor,
                                    ceiling, max_lag, brent_ixmax, VOICING_THRESHOLD, OCTAVE_COST, max_candidates,
                                    freq, strength, counts, exact)
    chosen = kern.path_finder(freq, strength, counts, intensity, SILENCE_THRESHOLD, VOICING_THRESHOLD, OCTAVE_COST,
                              OCTAVE_JUMP_COST, VOICED_UNVOICED_COST, ceiling, time_step)
    rows = np.arange(n_frames)
    return PitchAC(times, freq[rows, chosen], strength[rows, chosen], time_step, t1)
