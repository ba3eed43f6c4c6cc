"""Harmonicity's array steps around the FFTs (the frames engine's), compiled from ``_harmonicity_kernels.pyx``:
the same values as harmonicity.py's numpy steps to the bit (see that file)."""

from emotioncot.measure.compiled import load

_kernels = load("_harmonicity_kernels")

windowed_frames = _kernels.windowed_frames
power = _kernels.power
best_peaks = _kernels.best_peaks
_pairwise_sum = _kernels.pairwise_sum
