"""Calibration: physical measurements -> levels, with thresholds that are saved and re-applied.

Fit once, apply many: ``fit_thresholds`` computes cut points per group (tertiles by default) and
``apply_thresholds`` labels any rows with them, so a label never depends on the batch it came in.
"""

from __future__ import annotations

from emotioncot.calibrate.levels import LEVEL_FEATURES, apply_thresholds, fit_thresholds, group_key

__all__ = ["LEVEL_FEATURES", "apply_thresholds", "fit_thresholds", "group_key"]
