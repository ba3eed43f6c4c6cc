"""Percentile cut points per calibration group, and level labelling."""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from emotioncot.config import CalibrateConfig
from emotioncot.workspace import stable_hash

# level column -> (measurement it is cut from, names of the three bins)
LEVEL_FEATURES: dict[str, tuple[str, tuple[str, str, str]]] = {
    "pitch_level": ("f0_median_hz", ("low", "normal", "high")),
    "energy_level": ("energy_dbfs", ("low", "normal", "high")),
    "speed_level": ("articulation_rate_sps", ("slow", "normal", "fast")),
}


def _mode(config: CalibrateConfig, rows: list[dict]) -> str:
    if config.group_by != "auto":
        return config.group_by
    return "speaker" if rows and all(r.get("speaker_id") for r in rows) else "corpus_gender"


def group_key(row: dict, mode: str) -> str:
    corpus = row.get("corpus") or "?"
    if mode == "speaker":
        return f"{corpus}/speaker={row.get('speaker_id')}"
    if mode == "corpus_gender":
        return f"{corpus}/gender={row.get('gender') or 'unknown'}"
    return corpus


def _valid(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def fit_thresholds(rows: list[dict], config: CalibrateConfig | None = None) -> dict:
    """Cut points per group and feature, from rows joining utterance and measurement fields."""
    config = config or CalibrateConfig()
    mode = _mode(config, rows)
    values: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        key = group_key(row, mode)
        for level, (feature, _) in LEVEL_FEATURES.items():
            if _valid(row.get(feature)):
                values[key][feature].append(float(row[feature]))
    groups = {}
    for key, feats in sorted(values.items()):
        groups[key] = {}
        for feature, vals in feats.items():
            if len(vals) >= config.min_group_size:
                cuts = [float(np.quantile(vals, q)) for q in config.quantiles]
                groups[key][feature] = {"cuts": cuts, "n": len(vals)}
    thresholds = {"group_by": mode, "quantiles": list(config.quantiles), "groups": groups}
    thresholds["version"] = stable_hash(thresholds, length=12)
    return thresholds


def apply_thresholds(rows: list[dict], thresholds: dict) -> list[dict]:
    """One ``Levels`` row per input row. A level that cannot be given is None with its reason."""
    mode = thresholds["group_by"]
    out = []
    for row in rows:
        key = group_key(row, mode)
        group = thresholds["groups"].get(key, {})
        levels = {"id": row["id"], "level_group": key, "level_reasons": {}}
        for level, (feature, names) in LEVEL_FEATURES.items():
            value = row.get(feature)
            cut = group.get(feature)
            if not _valid(value):
                levels[level] = None
                levels["level_reasons"][level] = f"{feature} not measured"
            elif cut is None:
                levels[level] = None
                levels["level_reasons"][level] = f"no thresholds for group {key!r} (too few reliable measurements)"
            else:
                lo, hi = cut["cuts"]
                levels[level] = names[0] if value < lo else names[2] if value > hi else names[1]
        out.append(levels)
    return out
