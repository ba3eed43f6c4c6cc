"""The report's figures (matplotlib, Agg, small PNGs): emotion-by-level heat maps, per-emotion distributions
with the calibration cut points, and a record's F0 contour and energy curve."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from emotioncot.calibrate.levels import LEVEL_FEATURES, vocal_effort
from emotioncot.taxonomy import EMOTIONS
from emotioncot.wording import count

DPI = 80
# The quantities shown per emotion; the three calibrated ones carry their cut points.
QUANTITIES = (
    ("f0_median_hz", "F0 median (Hz)"), ("vocal_effort_db", "vocal effort (dB)"),
    ("articulation_rate_sps", "articulation rate (syl/s)"), ("f0_range_st", "F0 range (st)"),
    ("energy_dbfs", "active level (dBFS)"), ("hnr_db", "HNR (dB)"), ("pause_total_s", "pauses (s)"),
    ("duration_s", "duration (s)"),
)


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp.png")
    fig.savefig(tmp, dpi=DPI)
    _plt().close(fig)
    tmp.replace(path)


def heatmap(table: pd.DataFrame, title: str, path: Path) -> None:
    """Counts as colour, each row normalised (the share of that emotion's records), counts written in."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(1.1 * max(3, table.shape[1]) + 2.2, 0.32 * max(3, table.shape[0]) + 1.2))
    values = table.to_numpy(dtype=float)
    share = values / np.maximum(values.sum(axis=1, keepdims=True), 1)
    ax.imshow(share if values.size else np.zeros((1, 1)), cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(table.shape[1]), [str(c) for c in table.columns], rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(table.shape[0]), [str(i) for i in table.index], fontsize=8)
    for i in range(table.shape[0]):
        for j in range(table.shape[1]):
            ax.text(j, i, int(values[i, j]), ha="center", va="center", fontsize=7,
                    color="black" if share[i, j] > 0.6 else "white")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    _save(fig, path)


def quantity_values(rec: dict, name: str, level_weight: float = 0.5) -> float | None:
    if name == "vocal_effort_db":
        return vocal_effort(rec, level_weight)
    v = rec.get(name)
    return float(v) if isinstance(v, (int, float)) and np.isfinite(v) else None


def distributions(records: list[dict], thresholds: dict, path: Path) -> None:
    """One panel per quantity, one box per emotion; on the calibrated ones, across each box, the cut points its
    records were graded with (levels are cut per group, so a box shows each of its records' groups)."""
    from emotioncot.report.summary import ReportSummary

    summary = ReportSummary(thresholds, 0)
    summary.add({**r, "status": r.get("status", "kept")} for r in records)
    summary_distributions(summary, path)


def summary_distributions(summary, path: Path) -> None:
    """``distributions`` from a ``ReportSummary``: its values per emotion (all of them, or a uniform sample of
    ``VALUES_KEPT`` per emotion where there were more, as the title then says) and the cut points in use."""
    from emotioncot.report.summary import VALUES_KEPT

    plt = _plt()
    present = {e for per in summary.values.values() for e in per} | {str(k[0]) for k in summary.cross["pitch"]}
    emotions = [e for e in EMOTIONS if e in present]
    emotions += sorted(e for e in present if e not in EMOTIONS)
    cut_feature = {feature: level for level, (feature, _) in LEVEL_FEATURES.items()}
    cols = 2
    rows = (len(QUANTITIES) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(11, 2.6 * rows), squeeze=False)
    for ax, (name, label) in zip(axes.ravel(), QUANTITIES):
        data = [np.frombuffer(summary.values[name][e], dtype=np.float64) if len(summary.values[name].get(e, ())) else [np.nan]
                for e in emotions]
        ax.boxplot(data, showfliers=False)
        ax.set_xticks(range(1, len(emotions) + 1), emotions, rotation=30, ha="right", fontsize=7)
        title = label
        if max(summary.seen[name].values(), default=0) > VALUES_KEPT:
            title += f" (a uniform sample of {VALUES_KEPT} values per emotion)"
        if name in cut_feature:
            used = summary.cuts.get(name) or {}
            for i, e in enumerate(emotions, start=1):
                pairs = sorted(used.get(e, ()))
                if pairs:  # one line collection per colour: a build of thousands of speakers has thousands of pairs
                    ax.hlines([lo for lo, _ in pairs], i - 0.4, i + 0.4, color="tab:blue", linestyle="--", linewidth=1)
                    ax.hlines([hi for _, hi in pairs], i - 0.4, i + 0.4, color="tab:red", linestyle="--", linewidth=1)
            groups = len({cut for per in used.values() for cut in per})
            if groups:
                title += f"; cut points of the {count(groups, 'group')} the records use"
        ax.set_title(title, fontsize=9)
    for ax in axes.ravel()[len(QUANTITIES):]:
        ax.set_visible(False)
    fig.tight_layout()
    _save(fig, path)


def contour(details: dict, stressed: list[str], path: Path) -> None:
    """F0 (Hz, voiced frames) and the frame level (dBFS) over time; pauses shaded; stressed words spanned."""
    plt = _plt()
    frames = details["frames"]
    times = frames.times
    f0 = np.where(details["f0"] > 0, details["f0"], np.nan)
    fig, ax = plt.subplots(figsize=(8, 2.8))
    level = ax.twinx()
    level.plot(times, frames.level_db, color="tab:gray", linewidth=0.8, label="energy (dBFS)")
    level.set_ylabel("level (dBFS)", fontsize=8, color="tab:gray")
    level.set_ylim(max(-90.0, float(np.min(frames.level_db))) - 5, float(np.max(frames.level_db)) + 5)
    ax.plot(times, f0, color="tab:blue", linewidth=1.6, label="F0 (Hz)")
    ax.set_zorder(level.get_zorder() + 1)
    ax.patch.set_visible(False)
    ax.set_ylabel("F0 (Hz)", fontsize=8, color="tab:blue")
    ax.set_xlabel("time (s)", fontsize=8)
    ax.set_xlim(0, float(times[-1]) if len(times) else 1)
    for a, b in details["activity"].pauses:
        ax.axvspan(a, b, color="tab:orange", alpha=0.25, linewidth=0)
    wanted = {w.lower() for w in stressed}
    for word in details.get("word_scores") or []:
        if word["word"].lower() in wanted:
            ax.axvspan(word["start_s"], word["end_s"], color="tab:red", alpha=0.15, linewidth=0)
            ax.text((word["start_s"] + word["end_s"]) / 2, 1.01, word["word"], transform=ax.get_xaxis_transform(),
                    ha="center", va="bottom", fontsize=8, color="tab:red")
    ax.tick_params(labelsize=7)
    level.tick_params(labelsize=7)
    fig.subplots_adjust(left=0.08, right=0.91, bottom=0.17, top=0.9)  # fixed: tight_layout costs a render per page
    _save(fig, path)
