"""Which measurements are trustworthy enough to fit thresholds on and to label.

An unreliable value is excluded from fitting (it would move the cut points) and its level is null with
the reason, never a guess."""

from __future__ import annotations

import math

from emotioncot.config import CalibrateConfig


def valid(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def check(row: dict, level: str, config: CalibrateConfig) -> str | None:
    """None when the measurement behind ``level`` can be trusted, else the reason it cannot."""
    if row.get("error"):
        return f"measurement failed: {row['error']}"
    if level == "pitch_level":
        if not valid(row.get("f0_median_hz")):
            return "f0_median_hz not measured" + _why(row, "f0_median_hz")
        vf = row.get("voiced_fraction")
        if valid(vf) and vf < config.min_voiced_fraction:
            return f"too little voicing for a reliable pitch ({vf:.2f} of speech voiced, need {config.min_voiced_fraction})"
    elif level == "energy_level":
        if not valid(row.get("alpha_ratio_db")):
            return "alpha_ratio_db not measured" + _why(row, "alpha_ratio_db")
        snr = row.get("snr_db")
        if valid(snr) and snr < config.min_snr_db:
            return f"too noisy for a reliable vocal effort (SNR {snr:.1f} dB, need {config.min_snr_db})"
    elif level == "speed_level":
        feature = config.speed_feature
        rate = row.get(feature)
        if not valid(rate):
            return f"{feature} not measured" + _why(row, feature)
        sp = row.get("speech_s")
        if valid(sp) and sp < config.min_speech_s:
            return f"too little speech for a reliable rate ({sp:.2f} s, need {config.min_speech_s})"
        lo, hi = config.rate_range_sps
        if feature == "articulation_rate_sps" and not lo <= rate <= hi:
            return f"implausible articulation rate {rate:.1f} syllables/s (outside {lo}-{hi})"
    return None


def _why(row: dict, field: str) -> str:
    reasons = row.get("null_reasons") or {}
    if isinstance(reasons, str):  # tables store dicts as JSON text
        import json

        try:
            reasons = json.loads(reasons)
        except ValueError:
            reasons = {}
    return f" ({reasons[field]})" if field in reasons else ""
