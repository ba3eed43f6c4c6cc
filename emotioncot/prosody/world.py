"""WORLD vocoder: analyse an utterance once, resynthesise it many times with pitch, level, tempo or local
emphasis changed.

Analysis (F0 by Harvest or DIO + StoneMask, spectral envelope by CheapTrick, aperiodicity by D4C) is the
expensive part; a ``WorldAnalysis`` keeps its result so every version of one utterance reuses it.

Every version of a comparison set, the unchanged one included, goes through the vocoder, so a listener
cannot tell the reference from the modified clips by vocoder artefacts. Level is set on the waveform
after synthesis, relative to the active speech level of the unchanged resynthesis, because shifting F0
alone moves WORLD's output level by one or two dB (measured on EmoDB), which would make a pitch question
answerable by loudness.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyworld
from scipy.signal import resample_poly

F0_FLOOR_HZ = 60.0
F0_CEIL_HZ = 700.0


@dataclass(frozen=True)
class WorldAnalysis:
    """The WORLD parameters of one utterance and the length of the signal they came from."""

    f0: np.ndarray  # Hz per frame, 0 where unvoiced
    sp: np.ndarray  # spectral envelope (frames x bins)
    ap: np.ndarray  # aperiodicity (frames x bins)
    sr: int
    frame_period_ms: float
    n_samples: int

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.sr

    def frame_times(self) -> np.ndarray:
        return np.arange(len(self.f0)) * self.frame_period_ms / 1000.0


class Source:
    """One utterance ready for resynthesis: its analysis, done once, and its unchanged resynthesis (the
    reference every version is set and measured against), made on first use."""

    def __init__(self, analysis: WorldAnalysis):
        self.analysis = analysis
        self._reference: np.ndarray | None = None
        self._level: float | None = None
        self.cache: dict = {}

    @property
    def reference(self) -> np.ndarray:
        if self._reference is None:
            self._reference = synthesize(self.analysis)
        return self._reference

    @property
    def reference_level_db(self) -> float:
        if self._level is None:
            self._level = active_level_db(self.reference, self.analysis.sr)
        return self._level


def resample(y: np.ndarray, sr: int, target_sr: int | None) -> tuple[np.ndarray, int]:
    """Polyphase resampling to ``target_sr`` (None or equal rate: unchanged)."""
    if not target_sr or target_sr == sr:
        return y, sr
    g = np.gcd(int(sr), int(target_sr))
    return resample_poly(y, target_sr // g, sr // g).astype(np.float32), int(target_sr)


def analyze(y: np.ndarray, sr: int, frame_period_ms: float = 5.0, f0_method: str = "harvest") -> WorldAnalysis:
    """WORLD analysis of a mono float signal."""
    if y.ndim != 1:
        raise ValueError(f"analyze expects mono audio, got shape {y.shape}")
    if len(y) < sr * 0.1:
        raise ValueError(f"audio too short for WORLD analysis ({len(y) / sr:.3f} s)")
    x = np.ascontiguousarray(y, dtype=np.float64)
    if f0_method == "harvest":
        f0, t = pyworld.harvest(x, sr, f0_floor=F0_FLOOR_HZ, f0_ceil=F0_CEIL_HZ, frame_period=frame_period_ms)
    elif f0_method == "dio":
        f0, t = pyworld.dio(x, sr, f0_floor=F0_FLOOR_HZ, f0_ceil=F0_CEIL_HZ, frame_period=frame_period_ms)
        f0 = pyworld.stonemask(x, f0, t, sr)
    else:
        raise ValueError(f"unknown f0 method {f0_method!r} (harvest or dio)")
    sp = pyworld.cheaptrick(x, f0, t, sr, f0_floor=F0_FLOOR_HZ)
    ap = pyworld.d4c(x, f0, t, sr)
    return WorldAnalysis(f0=f0, sp=sp, ap=ap, sr=int(sr), frame_period_ms=frame_period_ms, n_samples=len(y))


def _stretch(analysis: WorldAnalysis, tempo: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frames resampled in time for a tempo change (tempo > 1: faster, fewer frames).

    Envelope and aperiodicity are interpolated linearly (log domain for the envelope); F0 is interpolated
    only between two voiced frames, and the voicing decision is taken from the nearest frame, so no
    voiced frame is invented or lost at voicing edges.
    """
    f0, sp, ap = analysis.f0, analysis.sp, analysis.ap
    if tempo == 1.0:
        return f0, sp, ap
    n = len(f0)
    n_out = max(2, int(round((n - 1) / tempo)) + 1)
    pos = np.minimum(np.arange(n_out) * (n - 1) / (n_out - 1), n - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    w = (pos - lo)[:, None]
    log_sp = (1 - w) * np.log(sp[lo]) + w * np.log(sp[hi])
    ap_out = (1 - w) * ap[lo] + w * ap[hi]
    w1 = w[:, 0]
    nearest = np.where(w1 < 0.5, lo, hi)
    both = (f0[lo] > 0) & (f0[hi] > 0)
    f0_out = np.where(both, (1 - w1) * f0[lo] + w1 * f0[hi], f0[nearest])
    f0_out = np.where(f0[nearest] > 0, f0_out, 0.0)
    return np.ascontiguousarray(f0_out), np.ascontiguousarray(np.exp(log_sp)), np.ascontiguousarray(ap_out)


def ramp_length(start_s: float, end_s: float, ramp_s: float = 0.03) -> float:
    """The ramp used at each edge of an emphasised span (at most a third of the span)."""
    return min(ramp_s, max(1e-3, (end_s - start_s) / 3))


def smooth_window(times: np.ndarray, start_s: float, end_s: float) -> np.ndarray:
    """1 inside [start_s, end_s], 0 outside, raised-cosine ramps inside the edges."""
    w = np.zeros_like(times, dtype=np.float64)
    inside = (times >= start_s) & (times <= end_s)
    w[inside] = 1.0
    ramp_s = ramp_length(start_s, end_s)
    up = inside & (times < start_s + ramp_s)
    w[up] = 0.5 - 0.5 * np.cos(np.pi * (times[up] - start_s) / ramp_s)
    down = inside & (times > end_s - ramp_s)
    w[down] = np.minimum(w[down], 0.5 - 0.5 * np.cos(np.pi * (end_s - times[down]) / ramp_s))
    return w


def synthesize(
    analysis: WorldAnalysis,
    semitones: float = 0.0,
    tempo: float = 1.0,
    emphasis: tuple[float, float, float, float] | None = None,
) -> np.ndarray:
    """One resynthesis (float32, at ``analysis.sr``), exactly ``round(n_samples / tempo)`` samples long.

    ``semitones`` shifts every voiced frame; ``tempo`` changes duration only; ``emphasis`` =
    (start_s, end_s, semitones, gain_db) raises pitch and level of one stretch (a word) with smooth edges.
    Level changes of the whole clip are applied to the waveform by the caller (see ``set_level``).
    """
    if tempo <= 0:
        raise ValueError(f"tempo must be positive, got {tempo}")
    f0, sp, ap = _stretch(analysis, tempo)
    f0 = f0 * (2.0 ** (semitones / 12.0))
    if emphasis is not None:
        start_s, end_s, st, gain_db = emphasis
        times = np.arange(len(f0)) * analysis.frame_period_ms / 1000.0
        w = smooth_window(times, start_s / tempo, end_s / tempo)
        f0 = f0 * 2.0 ** (w * st / 12.0)
        sp = sp * (10.0 ** (w * gain_db / 10.0))[:, None]  # envelope is a power spectrum
    y = pyworld.synthesize(np.ascontiguousarray(f0), np.ascontiguousarray(sp), np.ascontiguousarray(ap), analysis.sr, analysis.frame_period_ms)
    target = int(round(analysis.n_samples / tempo))
    # WORLD's output is the frame count times the frame period: within one frame of the target.
    if len(y) >= target:
        y = y[:target]
    else:
        y = np.concatenate([y, np.zeros(target - len(y))])
    return y.astype(np.float32)


def active_level_db(y: np.ndarray, sr: int) -> float:
    """Active speech level (dBFS): mean power of the 10 ms frames above the speech threshold, the
    definition of the project analyzer's ``energy_dbfs`` (which ``verify`` re-measures every clip with;
    this copy avoids running its pitch tracker just to set a level)."""
    hop = max(1, int(sr * 0.01))
    n = len(y) // hop
    if n < 20 or not np.any(y):
        raise ValueError("no active speech to measure the level of")
    power = np.mean(y[: n * hop].astype(np.float64).reshape(n, hop) ** 2, axis=1)
    db = 10 * np.log10(np.maximum(power, 1e-20))
    floor, peak = np.percentile(db, 10), np.percentile(db, 95)
    active = db > max(floor + 0.35 * (peak - floor), peak - 35.0)
    return float(10 * np.log10(np.mean(power[active])))


def set_level(y: np.ndarray, sr: int, target_dbfs: float) -> np.ndarray:
    """``y`` scaled so that its active speech level is ``target_dbfs``."""
    return (y * 10.0 ** ((target_dbfs - active_level_db(y, sr)) / 20.0)).astype(np.float32)


def fit_headroom(clips: list[np.ndarray], peak: float = 0.89) -> tuple[list[np.ndarray], float]:
    """Scale a set of clips by one common factor so that none clips (relative levels are kept); return
    the clips and the factor in dB (0 when nothing had to change)."""
    top = max(float(np.max(np.abs(c))) for c in clips)
    if top <= peak:
        return clips, 0.0
    g = peak / top
    return [(c * g).astype(np.float32) for c in clips], float(20 * np.log10(g))


def join(clips: list[np.ndarray], sr: int, silence_s: float) -> np.ndarray:
    """Clips joined with ``silence_s`` of digital silence between them (none before or after)."""
    gap = np.zeros(int(round(silence_s * sr)), dtype=np.float32)
    parts: list[np.ndarray] = []
    for i, c in enumerate(clips):
        if i:
            parts.append(gap)
        parts.append(c.astype(np.float32))
    return np.concatenate(parts)
