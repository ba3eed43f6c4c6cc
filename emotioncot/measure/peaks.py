"""``find_peaks`` (prominence and distance only) and ``medfilt``, with scipy.signal's exact results, in numpy.

Why: importing scipy.signal costs about half a second (it pulls in scipy.stats), more than measuring a short
clip; these two functions are all the measurement uses of it, so ``emotioncot analyze`` of one file starts
without it. tests/test_measure_peaks.py checks the results against scipy.signal's on random and real signals.
"""

from __future__ import annotations

import math

import numpy as np


def _local_maxima(x: list[float]) -> list[int]:
    """Indices of local maxima; a flat top counts once, at its middle (rounded down); edges never count."""
    peaks = []
    i, i_max = 1, len(x) - 1
    while i < i_max:
        if x[i - 1] < x[i]:
            ahead = i + 1
            while ahead < i_max and x[ahead] == x[i]:
                ahead += 1
            if x[ahead] < x[i]:
                peaks.append((i + ahead - 1) // 2)
                i = ahead
        i += 1
    return peaks


def _select_by_distance(peaks: np.ndarray, heights: np.ndarray, distance: float) -> np.ndarray:
    """Keep the highest peaks first, dropping every neighbour closer than ``distance`` samples."""
    keep = np.ones(len(peaks), dtype=bool)
    d = math.ceil(distance)
    pos = peaks.tolist()
    for j in np.argsort(heights)[::-1].tolist():  # the same argsort as scipy, so ties fall the same way
        if not keep[j]:
            continue
        k = j - 1
        while k >= 0 and pos[j] - pos[k] < d:
            keep[k] = False
            k -= 1
        k = j + 1
        while k < len(pos) and pos[k] - pos[j] < d:
            keep[k] = False
            k += 1
    return keep


def _prominences(x: list[float], peaks: list[int]) -> np.ndarray:
    out = np.empty(len(peaks))
    n = len(x)
    for p_nr, p in enumerate(peaks):
        top = x[p]
        i, left_min = p, top
        while i >= 0 and x[i] <= top:
            left_min = min(left_min, x[i])
            i -= 1
        i, right_min = p, top
        while i < n and x[i] <= top:
            right_min = min(right_min, x[i])
            i += 1
        out[p_nr] = top - max(left_min, right_min)
    return out


def find_peaks(x, prominence: float | None = None, distance: float | None = None) -> tuple[np.ndarray, dict]:
    """Like ``scipy.signal.find_peaks(x, prominence=..., distance=...)``: the peak indices and, when
    ``prominence`` is given, their ``prominences``."""
    if distance is not None and distance < 1:
        raise ValueError("distance must be >= 1")
    values = np.ascontiguousarray(x, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError("x must be one-dimensional")
    xs = values.tolist()
    peaks = np.array(_local_maxima(xs), dtype=np.intp)
    props: dict = {}
    if distance is not None and len(peaks):
        peaks = peaks[_select_by_distance(peaks, values[peaks], distance)]
    if prominence is not None:
        prom = _prominences(xs, peaks.tolist())
        keep = prom >= prominence
        peaks, props["prominences"] = peaks[keep], prom[keep]
    return peaks, props


def medfilt(x, kernel_size: int = 3) -> np.ndarray:
    """Like ``scipy.signal.medfilt`` on a 1-D array: the running median, zero-padded at both ends."""
    if kernel_size % 2 != 1:
        raise ValueError("kernel_size must be odd")
    values = np.asarray(x, dtype=np.float64)
    half = kernel_size // 2
    padded = np.concatenate([np.zeros(half), values, np.zeros(half)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, kernel_size)
    if np.isnan(values).any():  # a window holding a NaN has a NaN median; partitioning would not say so
        return np.median(windows, axis=1)
    # the middle of each partitioned window is np.median's value (an odd window has one middle value; numpy
    # takes its mean, a sum from 0.0, which turns -0.0 into 0.0) without np.median's per-call cost and its
    # import of numpy.ma
    return np.partition(windows, half, axis=1)[:, half] + 0.0
