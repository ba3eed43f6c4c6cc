"""Jitter (local) and shimmer (local) from pulse times for the frame-matrix engine: Praat 6.1.38's "PointProcess:
Get jitter (local)" and "Sound & PointProcess: Get shimmer (local)" over the whole pulse train (Praat's time range
0 to 0: the Sound's domain, which holds every pulse ``periods.pulses`` finds), compiled from ``_perturbation.pyx``
(the port, line by line).

Why not Praat itself: handing the pulses to Praat costs a Matrix, a PointProcess and two Praat calls through
parselmouth per clip (about 0.2 ms per audio second, a fifth of the measurement's voice-quality share), and keeps
parselmouth imported by the frames engine.
"""

from __future__ import annotations

import numpy as np

from emotioncot.measure.compiled import load
from emotioncot.measure.voice_quality import (MAX_AMPLITUDE_FACTOR, MAX_PERIOD_FACTOR, MIN_PULSES, PERIOD_CEILING_S,
                                              PERIOD_FLOOR_S, TOO_FEW_PERIODS, UNDEFINED)

_kernels = load("_perturbation")
jitter_local = _kernels.jitter_local
shimmer_local = _kernels.shimmer_local


def jitter_shimmer(span: np.ndarray, sr: int, times: np.ndarray) -> tuple[float | None, float | None, str | None]:
    """Jitter (local) and shimmer (local) with Praat's standard settings from pulse times on ``span`` (as
    ``periods.pulses`` gives them: first sample at half a sample), with the reasons ``voice_quality`` gives."""
    if len(times) < MIN_PULSES:
        return None, None, TOO_FEW_PERIODS
    t = np.ascontiguousarray(times, dtype=np.float64)
    z = np.ascontiguousarray(span, dtype=np.float64)
    dx = 1.0 / sr
    jitter = jitter_local(t, PERIOD_FLOOR_S, PERIOD_CEILING_S, MAX_PERIOD_FACTOR)
    shimmer = shimmer_local(z, 0.5 * dx, dx, t, PERIOD_FLOOR_S, PERIOD_CEILING_S, MAX_PERIOD_FACTOR,
                            MAX_AMPLITUDE_FACTOR)
    if not (np.isfinite(jitter) and np.isfinite(shimmer)):  # the port answers undefined exactly where Praat does
        return None, None, UNDEFINED
    return float(jitter), float(shimmer), None
