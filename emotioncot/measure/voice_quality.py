"""Jitter and shimmer (Praat, via parselmouth); HNR is in ``harmonicity.py``.

Jitter (local) and shimmer (local) use Praat's standard settings (period 0.1-20 ms, max period factor
1.3, max amplitude factor 1.6) on a cross-correlation point process built from the pitch track already
computed: by Praat ("To PointProcess (cc)") from its Pitch. The frame-matrix pitch engine does not come here:
it finds the pulses with the port in ``periods.py`` and measures them with the port in ``perturbation.py``;
``jitter_shimmer_from_pulses`` (those pulses handed to Praat) is what the tests hold that port against."""

from __future__ import annotations

import numpy as np


def jitter_shimmer(sound, praat_pitch) -> tuple[float | None, float | None, str | None]:
    from parselmouth.praat import call

    try:
        points = call([sound, praat_pitch], "To PointProcess (cc)")
    except Exception as exc:  # Praat raises on degenerate input; the value is then unmeasurable
        return None, None, f"Praat could not measure periods ({exc})"
    return _from_points(sound, points)


def jitter_shimmer_from_pulses(sound, times: np.ndarray) -> tuple[float | None, float | None, str | None]:
    """The same from pulse times found outside Praat (``periods.pulses``): Praat's "Matrix: To PointProcess"
    adds them as "To PointProcess (cc)" does, and jitter and shimmer come from Praat as above."""
    from parselmouth.praat import call

    if len(times) < 11:
        return None, None, "fewer than 10 glottal periods"
    try:
        matrix = call("Create Matrix", "pulses", 0.0, float(len(times)), len(times), 1.0, 0.5, 1, 1, 1, 1, 1, "0")
        matrix.values = np.asarray(times, dtype=np.float64)[None, :]
        points = call(matrix, "To PointProcess")
    except Exception as exc:
        return None, None, f"Praat could not measure periods ({exc})"
    return _from_points(sound, points)


def _from_points(sound, points) -> tuple[float | None, float | None, str | None]:
    from parselmouth.praat import call

    try:
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
