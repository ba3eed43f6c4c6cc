"""Synthetic voices with known truth, for tests and the benchmark.

A glottal-like harmonic source (harmonics with a -12 dB/octave roll-off, no jitter or shimmer) is shaped by a cascade of formant resonators (an /a/-like vowel), and optionally chopped into
syllables by a smooth amplitude envelope. The F0 contour is exactly known, frame by frame."""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

FORMANTS = ((700, 80), (1220, 90), (2600, 120), (3300, 150))


def _resonator(freq: float, bw: float, sr: int) -> tuple[np.ndarray, np.ndarray]:
    r = np.exp(-np.pi * bw / sr)
    theta = 2 * np.pi * freq / sr
    a = np.array([1.0, -2 * r * np.cos(theta), r * r])
    return np.array([a.sum()]), a  # unity gain at DC


def voice(f0: float | np.ndarray, duration_s: float, sr: int = 16000, syllables_per_s: float | None = None,
          tilt_db_per_octave: float = -12.0, amplitude: float = 0.3) -> np.ndarray:
    """A vowel-like voice. ``f0`` is a constant or a contour in Hz (sampled evenly over the duration)."""
    n = int(round(duration_s * sr))
    t = np.arange(n) / sr
    if np.ndim(f0) == 0:
        f0_t = np.full(n, float(f0))
    else:
        f0 = np.asarray(f0, float)
        f0_t = np.interp(t, np.linspace(0, duration_s, len(f0)), f0)
    phase = 2 * np.pi * np.cumsum(f0_t) / sr
    src = np.zeros(n)
    k_max = int(0.45 * sr / np.min(f0_t))
    for k in range(1, k_max + 1):
        amp = 10 ** (tilt_db_per_octave * np.log2(k) / 20)
        alive = (k * f0_t) < 0.45 * sr  # no aliasing as F0 moves
        src += alive * amp * np.sin(k * phase)
    y = src
    for freq, bw in FORMANTS:
        if freq < 0.45 * sr:
            b, a = _resonator(freq, bw, sr)
            y = lfilter(b, a, y)
    if syllables_per_s:
        # syllables as raised-cosine bumps separated by 20 % dips (kept voiced: one "word" of syllables)
        env = 0.6 + 0.4 * np.cos(np.pi * syllables_per_s * t) ** 2  # one bump per syllable
        y = y * env
    ramp = min(n // 2, int(0.01 * sr))
    if ramp:
        w = np.ones(n)
        w[:ramp] = np.linspace(0, 1, ramp)
        w[-ramp:] = np.linspace(1, 0, ramp)
        y = y * w
    return (amplitude * y / (np.max(np.abs(y)) + 1e-12)).astype(np.float64)


def pad(y: np.ndarray, sr: int, before_s: float, after_s: float) -> np.ndarray:
    return np.concatenate([np.zeros(int(before_s * sr)), y, np.zeros(int(after_s * sr))])


def add_white_noise(y: np.ndarray, snr_db: float, seed: int = 0) -> np.ndarray:
    """White noise at ``snr_db`` relative to the power of the non-zero part of ``y``."""
    rng = np.random.default_rng(seed)
    active = y[np.abs(y) > 0]
    p = np.mean(active**2) if active.size else 0.0
    noise = rng.standard_normal(len(y)) * np.sqrt(p / 10 ** (snr_db / 10))
    return y + noise
