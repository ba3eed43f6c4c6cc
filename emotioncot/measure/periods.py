"""Glottal periods for jitter and shimmer: Praat's "Sound & Pitch: To PointProcess (cc)" (Praat 6.1.38,
fon/Pitch_to_PointProcess.cpp) for the frame-matrix pitch engine (``pitch_ac.py``), compiled from
``_periods.pyx`` (the port, line by line, and why its correlation sums in four accumulators). Jitter and
shimmer are then Praat's own, from these times (``perturbation.py``).
"""

from __future__ import annotations

import numpy as np

from emotioncot.measure.compiled import load

point_process_cc = load("_periods").point_process_cc


def pulses(span: np.ndarray, sr: int, f0: np.ndarray, first_time: float, time_step: float,
           ceiling: float = 5000.0) -> np.ndarray:
    """The pulse times Praat's "To PointProcess (cc)" finds in ``span`` (a parselmouth Sound of it: domain 0 ..
    n / sr, first sample at half a sample) with a Pitch of frames ``f0`` (0 unvoiced) from ``first_time``, a
    frame every ``time_step`` s, over the same domain."""
    z = np.ascontiguousarray(span, dtype=np.float64)
    dx = 1.0 / sr
    duration = len(z) * dx
    return point_process_cc(z, 0.0, duration, 0.5 * dx, dx, np.ascontiguousarray(f0, dtype=np.float64), 0.0, duration,
                            float(first_time), float(time_step), float(ceiling))
