"""Input normalisation: any channel layout and sample rate in, one mono 16 kHz float64 signal out.

Every feature is computed on this one analysis signal, so stereo, 44.1 kHz and 48 kHz input give the
same numbers as mono 16 kHz input (the acceptance tests check it)."""

from __future__ import annotations

import numpy as np

ANALYSIS_SR = 16000
HOP_S = 0.01
HOP = int(ANALYSIS_SR * HOP_S)  # 160 samples
WIN = 400  # 25 ms analysis window
NFFT = 512


def to_mono(y: np.ndarray) -> np.ndarray:
    """Channel mean. Accepts (samples,), (samples, channels) or (channels, samples)."""
    y = np.asarray(y)
    if y.ndim == 1:
        return y
    if y.ndim != 2:
        raise ValueError(f"audio must be 1-D or 2-D, got shape {y.shape}")
    channel_axis = 1 if y.shape[1] <= y.shape[0] else 0
    return y.mean(axis=channel_axis)


def resample(y: np.ndarray, sr: int, target: int = ANALYSIS_SR) -> np.ndarray:
    if sr == target:
        return y
    try:
        import soxr

        return soxr.resample(y, sr, target, quality="HQ")
    except ImportError:  # soxr comes with librosa; scipy is the slower, always-present fallback
        from math import gcd

        from scipy.signal import resample_poly

        g = gcd(int(sr), int(target))
        return resample_poly(y, target // g, int(sr) // g)


def prepare(y: np.ndarray, sr: int) -> np.ndarray:
    """Mono, 16 kHz, float64, DC removed."""
    if sr <= 0:
        raise ValueError(f"sample rate must be positive, got {sr}")
    y = np.asarray(y)
    if np.issubdtype(y.dtype, np.integer):  # PCM integers: full scale is the type's range
        y = y.astype(np.float64) / float(-np.iinfo(y.dtype).min)
    mono = to_mono(y).astype(np.float64)
    out = resample(mono, int(sr))
    if out.size:
        out = out - out.mean()
    return np.ascontiguousarray(out)
