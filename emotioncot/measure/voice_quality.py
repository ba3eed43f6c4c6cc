"""Jitter and shimmer (Praat, via parselmouth); HNR is in ``harmonicity.py``.

Jitter (local) and shimmer (local) use Praat's standard settings (period 0.1-20 ms, max period factor
1.3, max amplitude factor 1.6) on a cross-correlation point process built from the pitch track already
computed: by Praat ("To PointProcess (cc)") from its Pitch. The frame-matrix pitch engine does not come here:
it finds the pulses with the port in ``periods.py`` and measures them with the port in ``perturbation.py``, with
the settings and reasons below."""

from __future__ import annotations

import numpy as np

# Praat's standard settings for jitter (local) and shimmer (local)
PERIOD_FLOOR_S = 0.0001
PERIOD_CEILING_S = 0.02
MAX_PERIOD_FACTOR = 1.3
MAX_AMPLITUDE_FACTOR = 1.6
MIN_PULSES = 11  # jitter and shimmer over fewer than 10 periods are not reported
TOO_FEW_PERIODS = "fewer than 10 glottal periods"
UNDEFINED = "Praat returned undefined jitter / shimmer"


def jitter_shimmer(sound, praat_pitch) -> tuple[float | None, float | None, str | None]:
    from parselmouth.praat import call

    try:
        points = call([sound, praat_pitch], "To PointProcess (cc)")
    except Exception as exc:  # Praat raises on degenerate input; the value is then unmeasurable
        return None, None, f"Praat could not measure periods ({exc})"
    return _from_points(sound, points)


def _from_points(sound, points) -> tuple[float | None, float | None, str | None]:
    from parselmouth.praat import call

    try:
        if call(points, "Get number of points") < MIN_PULSES:
            return None, None, TOO_FEW_PERIODS
        jitter = call(points, "Get jitter (local)", 0, 0, PERIOD_FLOOR_S, PERIOD_CEILING_S, MAX_PERIOD_FACTOR)
        shimmer = call([sound, points], "Get shimmer (local)", 0, 0, PERIOD_FLOOR_S, PERIOD_CEILING_S,
                       MAX_PERIOD_FACTOR, MAX_AMPLITUDE_FACTOR)
    except Exception as exc:  # Praat raises on degenerate input; the value is then unmeasurable
        return None, None, f"Praat could not measure periods ({exc})"
    ok = lambda v: v is not None and np.isfinite(v)  # noqa: E731
    if not (ok(jitter) and ok(shimmer)):
        return None, None, UNDEFINED
    return float(jitter), float(shimmer), None
