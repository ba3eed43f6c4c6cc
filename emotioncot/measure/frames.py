"""Short-time analysis shared by every feature: one STFT per utterance, 10 ms hop, 25 ms Hann window."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from emotioncot.measure.fft import rfft
from emotioncot.measure.signal import ANALYSIS_SR, HOP, NFFT, WIN

FLOOR_DB = -120.0


@dataclass
class Frames:
    power: np.ndarray  # (n_frames, NFFT // 2 + 1) power spectrum, full-scale sine -> about 0 dB total
    level_db: np.ndarray  # frame level in dBFS (RMS over the window, 60 Hz - 8 kHz band)
    rms_db: np.ndarray  # broadband frame RMS in dBFS
    times: np.ndarray  # frame centre times in seconds

    @property
    def n(self) -> int:
        return len(self.times)


@lru_cache(maxsize=4)
def _window() -> np.ndarray:
    return np.hanning(WIN)


def freqs() -> np.ndarray:
    return np.fft.rfftfreq(NFFT, 1.0 / ANALYSIS_SR)


def analyse(y: np.ndarray) -> Frames:
    """Frame ``y`` (16 kHz mono) with frame i centred at i * 10 ms (edges zero-padded)."""
    pad = WIN // 2
    padded = np.pad(y, (pad, pad + HOP))
    n = max(0, (len(padded) - WIN) // HOP + 1)
    n = min(n, int(np.ceil(len(y) / HOP)))
    if n == 0:
        empty = np.zeros(0)
        return Frames(np.zeros((0, NFFT // 2 + 1)), empty, empty, empty)
    raw = np.lib.stride_tricks.sliding_window_view(padded, WIN)[::HOP][:n]
    rms = np.sqrt(np.einsum("ij,ij->i", raw, raw) / WIN)
    win = _window()
    spec = rfft((raw * win).astype(np.float32), NFFT)  # float32: twice as fast, ample precision
    # scale so that the sum over bins of one frame equals that frame's mean square (Parseval, Hann-corrected)
    power = (spec.real.astype(np.float64) ** 2 + spec.imag.astype(np.float64) ** 2) * (2.0 / (np.sum(win**2) * NFFT))
    f = freqs()
    band = (f >= 60) & (f <= 8000)
    level = 10 * np.log10(np.maximum(power[:, band].sum(axis=1), 1e-12))
    rms_db = 20 * np.log10(np.maximum(rms, 1e-6))
    return Frames(power, np.maximum(level, FLOOR_DB), np.maximum(rms_db, FLOOR_DB), np.arange(n) * (HOP / ANALYSIS_SR))


def band_power(frames: Frames, lo_hz: float, hi_hz: float, mask: np.ndarray | None = None) -> np.ndarray:
    """Per-frame power in [lo, hi) Hz (optionally of the masked frames only)."""
    f = freqs()
    sel = (f >= lo_hz) & (f < hi_hz)
    p = frames.power if mask is None else frames.power[mask]
    return p[:, sel].sum(axis=1)
