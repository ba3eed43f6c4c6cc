"""Level and vocal effort.

* ``energy_dbfs``: active speech level, the RMS of the speech frames in dB re full scale (pauses and
  padding excluded, so silence padding does not change it; a gain change moves it by the gain).
* ``alpha_ratio_db``: power 1-5 kHz over power 50 Hz-1 kHz in the speech frames (voiced and
  unvoiced: on EmoDB this separates aroused from calm speech better than voiced frames alone). Raising the voice
  flattens the glottal source spectrum, so more energy reaches the upper band: alpha ratio follows vocal
  effort and is unchanged by gain or peak normalisation, where level in dBFS is not.
* ``peak_dbfs``: the sample peak; a corpus whose files all peak at 0 dBFS is peak-normalised, and
  calibration then ignores level and grades energy by vocal effort alone (see docs/measurement.md).
"""

from __future__ import annotations

import numpy as np

from emotioncot.measure.frames import Frames, band_power


def active_level_dbfs(frames: Frames, mask: np.ndarray) -> float | None:
    if not mask.any():
        return None
    ms = np.mean(10 ** (frames.rms_db[mask] / 10))
    return float(10 * np.log10(ms)) if ms > 0 else None


def alpha_ratio_db(frames: Frames, mask: np.ndarray) -> float | None:
    if not mask.any():
        return None
    lo = band_power(frames, 50, 1000, mask).sum()
    hi = band_power(frames, 1000, 5000, mask).sum()
    if lo <= 0 or hi <= 0:
        return None
    return float(10 * np.log10(hi / lo))


def peak_dbfs(y: np.ndarray) -> float | None:
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    return float(20 * np.log10(peak)) if peak > 0 else None
