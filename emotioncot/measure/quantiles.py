"""``np.median`` and ``np.percentile`` (its default, linear method) of a 1-D float64 array, the same to the bit,
for the small arrays the measurement takes them of (a voiced stretch, a word's F0, a clip's frame levels).

Why: numpy's general routines cost 30-60 µs a call in argument handling before any arithmetic, and the
measurement calls them about 35 times per clip (one median per voiced stretch in the octave check, one
percentile per word in the stress scores ...): 4 % of its CPU. ``np.percentile`` also imports ``numpy.ma``
on its first call (about 0.013 CPU-s of a fresh process). Here the arithmetic is numpy's own, step for step
(``numpy/lib/_function_base_impl.py``: ``_median``; ``_quantile`` with ``_get_indexes``, ``_get_gamma``,
``_lerp``), on the values ``np.partition`` puts in the needed places; anything else (another dtype, more
dimensions, an empty array, a NaN) is handed to numpy itself. ``tests/test_measure_quantiles.py`` compares
both with numpy on random and degenerate arrays."""

from __future__ import annotations

import math

import numpy as np


def _plain(v) -> bool:
    return isinstance(v, np.ndarray) and v.dtype == np.float64 and v.ndim == 1 and v.size > 0


def median(v: np.ndarray) -> np.float64:
    """``np.median(v)``."""
    if not _plain(v):
        return np.median(v)
    n = v.size
    half = n // 2
    if n % 2:
        part = np.partition(v, [half, n - 1])
        value = 0.0 + part[half]  # numpy's mean of one value: a sum from 0.0 (so -0.0 becomes 0.0) over 1
    else:
        part = np.partition(v, [half - 1, half, n - 1])
        value = (0.0 + part[half - 1] + part[half]) / 2  # numpy's mean of the two: their sum from 0.0 over 2
    if math.isnan(part[-1]):
        return np.median(v)
    return np.float64(value)


def percentile(v: np.ndarray, q: float) -> np.float64:
    """``np.percentile(v, q)`` for one q in [0, 100]."""
    if not _plain(v) or not 0 <= q <= 100:
        return np.percentile(v, q)
    n = v.size
    virtual = (n - 1) * (q / 100)
    below = math.floor(virtual)
    above = below + 1
    if virtual >= n - 1:  # numpy's _get_indexes: at or past the last value both neighbours are the last
        below = above = -1
    part = np.partition(v, sorted({0, n - 1, below % n, above % n}))
    if math.isnan(part[-1]):
        return np.percentile(v, q)
    a, b = float(part[below]), float(part[above])
    gamma = virtual - below
    diff = b - a
    value = b - diff * (1 - gamma) if gamma >= 0.5 else a + diff * gamma
    return np.float64(value)
