"""Jitter, shimmer (Praat, via parselmouth) and HNR.

Jitter (local) and shimmer (local) use Praat's standard settings (period 0.1-20 ms, max period factor
1.3, max amplitude factor 1.6) on a cross-correlation point process built from the pitch track already
computed. HNR is Praat's harmonicity by autocorrelation, 10 log10(r / (1 - r)) of the pitch
autocorrelation peak r, averaged over voiced frames: the same quantity as "To Harmonicity (ac)", taken
from the pitch analysis instead of a second pass (which would cost as much as the whole budget)."""

from __future__ import annotations

import numpy as np


def jitter_shimmer(sound, praat_pitch) -> tuple[float | None, float | None, str | None]:
    from parselmouth.praat import call

    try:
        points = call([sound, praat_pitch], "To PointProcess (cc)")
        if call(points, "Get number of points") < 11:
            return None, None, "fewer than 10 glottal periods"
        jitter = call(points, "Get jitter (local)", 0, 0, 0.0001, 0.02, 1.3)
        shimmer = call([sound, points], "Get shimmer (local)", 0, 0, 0.0001, 0.02, 1.3, 1.6)
    except Exception as exc:  # Praat raises on degenerate input; the value is then unmeasurable
        return None, None, f"Praat could not measure periods ({exc})"
    ok = lambda v: v is not None and np.isfinite(v)  # noqa: E731
    if not (ok(jitter) and ok(shimmer)):
        return None, None, "Praat returned undefined jitter / shimmer"
    return float(jitter), float(shimmer), None


def hnr_db(strength: np.ndarray, voiced: np.ndarray) -> float | None:
    r = strength[voiced]
    if len(r) < 10:
        return None
    r = np.clip(r, 1e-6, 1 - 1e-6)
    return float(np.mean(10 * np.log10(r / (1 - r))))
