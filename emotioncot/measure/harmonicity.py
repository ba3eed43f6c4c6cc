"""Harmonics-to-noise ratio: Praat's "Sound: To Harmonicity (ac)" with its standard settings (time step
0.01 s, minimum pitch 75 Hz, silence threshold 0.1, 4.5 periods per window) followed by "Get mean",
re-implemented on the whole frame matrix at once.

Why not call Praat: its harmonicity pass costs ten times the pitch pass (0.1 s per second of speech),
which alone would make measurement slower than openSMILE. The algorithm is Boersma (1993), as Praat runs
it for this command: a Gaussian window of twice the periods per window (9 periods of the minimum pitch,
120 ms), local mean removed, autocorrelation normalised by the window's own autocorrelation, the highest
local maximum over lags from 2 samples to one period of the minimum pitch (parabolic interpolation; a
value above 1 reflected to 1/r). A frame is silent (Praat's -200 dB, left out of the mean) when its peak
within half a longest period of the centre, relative to the sound's global peak, is too low for any
periodicity to beat Praat's unvoiced candidate, 2 - peak / (silence threshold x global peak). Each frame
is 10 log10(r / (1 - r)) dB. tests/test_measure_references.py checks it against Praat itself."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from emotioncot.measure.fft import irfft, next_fast_len, rfft

TIME_STEP_S = 0.01
MIN_PITCH_HZ = 75.0
SILENCE_THRESHOLD = 0.1
PERIODS_PER_WINDOW = 4.5
SILENT_DB = -200.0
KERNEL_CHUNK_FRAMES = 64


def _gaussian_window(n: int) -> np.ndarray:
    t = (np.arange(n) - (n - 1) / 2) / n
    edge = np.exp(-12.0)
    return (np.exp(-48.0 * t**2) - edge) / (1 - edge)


@lru_cache(maxsize=4)
def _window_and_its_autocorrelation(nwin: int, nfft: int, maxlag: int) -> tuple[np.ndarray, np.ndarray]:
    """The float32 Gaussian window and its autocorrelation up to ``maxlag + 1``, the same for every clip at one
    rate (kept: an exp over the window and two FFTs per clip otherwise). Read-only: they are shared."""
    w = _gaussian_window(nwin).astype(np.float32)
    wspec = rfft(w, nfft)
    wac = irfft(wspec.real**2 + wspec.imag**2, nfft)[: maxlag + 2].copy()
    w.flags.writeable = False
    wac.flags.writeable = False
    return w, wac


def _local_peaks(magnitude: np.ndarray, centres: np.ndarray, half: int) -> np.ndarray:
    """The maximum of ``magnitude`` within ``half`` samples of each centre (cut at the ends), in one pass over
    the signal: every other frame's windows do not overlap (frames are 10 ms apart, windows 2 x 6.7 ms wide),
    so two ``maximum.reduceat`` calls over [start, end) pairs give them all (7x faster than gathering a
    window per frame, the same values)."""
    padded = np.append(magnitude, 0.0)  # an end index may equal len(magnitude); a zero changes no maximum
    starts = np.maximum(centres - half, 0)
    ends = np.minimum(centres + half + 1, len(magnitude))
    out = np.empty(len(centres))
    for parity in (0, 1):
        bounds = np.stack([starts[parity::2], ends[parity::2]], axis=1).ravel()
        if bounds.size:
            out[parity::2] = np.maximum.reduceat(padded, bounds)[::2]
    return out


def harmonicity_frames(x: np.ndarray, sr: int, global_peak: float | None = None, compiled: bool = False) -> np.ndarray:
    """Per-frame harmonicity in dB (``SILENT_DB`` for silent frames), frames centred as Praat centres them.
    ``global_peak`` is the peak of the whole recording when ``x`` is a cut from it (the silence decision is
    relative to it). ``compiled``: the array steps in ``harmonicity_kernels`` (the same values to the bit; for the
    frame-matrix pitch engine), else in numpy."""
    win_s = 2 * PERIODS_PER_WINDOW / MIN_PITCH_HZ  # Gaussian windows are twice as long (Praat)
    nwin = int(round(win_s * sr)) | 1
    half = nwin // 2
    duration = len(x) / sr
    n_frames = int((duration - win_s) / TIME_STEP_S) + 1
    if n_frames < 1:
        return np.zeros(0)
    t0 = (duration - (n_frames - 1) * TIME_STEP_S) / 2
    centres = np.round((t0 + np.arange(n_frames) * TIME_STEP_S) * sr).astype(int)
    centred = x - x.mean()
    gpeak = float(np.abs(centred).max()) if global_peak is None else float(global_peak)
    out = np.full(n_frames, SILENT_DB)
    if gpeak <= 0:
        return out
    # the silence test first: frames that cannot be voiced skip the FFT
    lpeak = _local_peaks(np.abs(centred), centres, int(round(sr / MIN_PITCH_HZ / 2)))  # centres lie inside x
    unvoiced_strength = np.maximum(0.0, 2 - (lpeak / gpeak) / SILENCE_THRESHOLD)
    live = np.flatnonzero(unvoiced_strength < 1.0)
    if live.size == 0:
        return out
    padded = np.pad(centred.astype(np.float32), half)  # float32: half the memory traffic, ample precision
    maxlag = int(np.floor(sr / MIN_PITCH_HZ))
    nfft = next_fast_len(nwin + maxlag + 2)
    w, wac = _window_and_its_autocorrelation(nwin, nfft, maxlag)
    if compiled:
        best = _best_by_kernels(padded, centres[live], nwin, w, nfft, wac, maxlag)
    else:
        best = _best_by_numpy(padded, centres[live], nwin, w, nfft, wac, maxlag)
    voiced = best > unvoiced_strength[live]
    rr = np.clip(best, 1e-15, 1 - 1e-15)
    out[live[voiced]] = 10 * np.log10(rr[voiced] / (1 - rr[voiced]))
    return out


def _best_by_numpy(padded, starts, nwin, w, nfft, wac, maxlag) -> np.ndarray:
    """Each frame's highest interpolated autocorrelation peak over lags 2 .. maxlag (-inf where none)."""
    windows = np.lib.stride_tricks.sliding_window_view(padded, nwin)[starts]
    # each frame, its mean removed and windowed, written once into the zero-padded FFT input (the same
    # float32 operations as before, without a temporary per step)
    buf = np.zeros((len(starts), nfft), dtype=np.float32)
    frames = buf[:, :nwin]
    np.subtract(windows, windows.mean(axis=1, keepdims=True), out=frames)
    frames *= w
    spec = rfft(buf)
    del buf, windows
    power = np.square(spec.real)
    power += np.square(spec.imag)
    del spec
    ac = irfft(power, nfft)[:, : maxlag + 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (ac.astype(np.float64) / ac[:, :1]) / (wac / wac[0])
    r = np.nan_to_num(r, nan=0.0, posinf=0.0, neginf=0.0)
    a, b, c = r[:, 1:-2], r[:, 2:-1], r[:, 3:]  # centre lags 2 .. maxlag
    # parabolic interpolation at the local maxima only (a tenth of the lags): the same arithmetic per peak
    rows, cols = np.nonzero((b > a) & (b >= c))
    a, b, c = a[rows, cols], b[rows, cols], c[rows, cols]
    den = a - 2 * b + c
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(den != 0, 0.5 * (a - c) / den, 0.0)
        value = b - 0.25 * (a - c) * shift
        value = np.where(value > 1, 1 / value, value)  # Praat reflects r > 1
    best = np.full(len(starts), -np.inf)
    np.maximum.at(best, rows, value)
    return best


def _best_by_kernels(padded, starts, nwin, w, nfft, wac, maxlag) -> np.ndarray:
    """``_best_by_numpy`` with its array steps in compiled loops (the same values to the bit)."""
    from emotioncot.measure import harmonicity_kernels as k

    window_ac = (wac / wac[0]).astype(np.float64)
    best = np.empty(len(starts))
    # 64 frames at a time: their FFT input, spectra and autocorrelations (about 0.5 MB each) stay in the
    # processor's cache from one step to the next (15 % less time than all frames at once)
    for i in range(0, len(starts), KERNEL_CHUNK_FRAMES):
        spec = rfft(k.windowed_frames(padded, starts[i : i + KERNEL_CHUNK_FRAMES], nwin, w, nfft))
        best[i : i + KERNEL_CHUNK_FRAMES] = k.best_peaks(irfft(k.power(spec), nfft), window_ac, maxlag)
    return best


def mean_hnr_db(x: np.ndarray, sr: int, global_peak: float | None = None,
                compiled: bool = False) -> tuple[float | None, int]:
    """Praat's "Get mean" of the harmonicity (silent frames left out) and the number of frames it rests on."""
    h = harmonicity_frames(x, sr, global_peak, compiled)
    live = h[h > SILENT_DB]
    if live.size == 0:
        return None, 0
    return float(live.mean()), int(live.size)
