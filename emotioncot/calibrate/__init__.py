"""Calibration: physical measurements -> levels, with thresholds that are saved and re-applied.

Fit once, apply many: ``fit_thresholds`` computes cut points per group (tertiles by default, per
speaker when speaker ids exist, with corpus+gender and corpus fallbacks) from reliable measurements only,
and ``apply_thresholds`` labels any rows with them, so a label never depends on the batch it came in.
``write_report`` shows each group's distribution and cut points (text, and a PNG with matplotlib).
"""

from __future__ import annotations

from emotioncot.calibrate.levels import LEVEL_FEATURES, apply_thresholds, fit_thresholds, group_key, vocal_effort
from emotioncot.calibrate.report import write_report

__all__ = ["LEVEL_FEATURES", "apply_thresholds", "fit_thresholds", "group_key", "vocal_effort", "write_report"]
