"""The calibration report: per group and feature, the distribution, the cut points and the labels given.

Text always; a PNG (one panel per feature, one box per group, cut points marked) when matplotlib is
installed (it is in the ``test`` extra; the report says so when it is missing)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from emotioncot.calibrate.levels import LEVEL_FEATURES, _config_from, level_features
from emotioncot.tables import write_text_atomic
from emotioncot.wording import count

UNITS = {"f0_median_hz": "Hz", "vocal_effort_db": "dB", "articulation_rate_sps": "syl/s", "relative_rate": "x eSpeak"}
MAX_PLOT_GROUPS = 40


class CalibrationTally:
    """What the report counts over the labelled rows, fed batch by batch: the labels given, the records graded on
    a coarser group, the reasons of null levels, and emotion by level for each cue."""

    def __init__(self):
        from emotioncot.calibrate.crosstab import CUES

        self.labels = {level: Counter() for level in LEVEL_FEATURES}
        self.fallbacks = 0
        self.reasons: Counter = Counter()
        self.cross = {cue: Counter() for cue in CUES}

    def add(self, rows: list[dict] | None, levels: list[dict]) -> None:
        from emotioncot.calibrate.crosstab import CUES

        for lv in levels:
            for level in LEVEL_FEATURES:
                self.labels[level][str(lv.get(level))] += 1
            self.fallbacks += bool(lv.get("level_fallback"))
            self.reasons.update((lv.get("level_reasons") or {}).values())
        if rows is None:
            return
        by_id = {lv["id"]: lv for lv in levels}
        for r in rows:
            merged = {"emotion": r.get("emotion"), "intonation": r.get("intonation"), **by_id.get(r["id"], {})}
            for cue, (field, _) in CUES.items():
                self.cross[cue][(merged.get("emotion"), merged.get(field))] += 1

    def crosstabs(self) -> list[str]:
        """Emotion-by-level tables per cue."""
        from emotioncot.calibrate.crosstab import CUES, counts_frame, text

        lines = ["emotion by level (clips whose label the taxonomy excludes count as '(no class)'; they are in the",
                 "baseline because they are the speaker's real speech):"]
        for cue in CUES:
            lines += [f" {cue}:", text(counts_frame(self.cross[cue], cue))]
        return lines


def report_text(thresholds: dict, levels, rows: list[dict] | None = None) -> str:
    """The text report; ``levels``: the Levels rows (with ``rows``, the joined rows they label), or a
    ``CalibrationTally`` of them."""
    if isinstance(levels, CalibrationTally):
        tally, crosstab = levels, any(levels.cross.values())
    else:
        tally, crosstab = CalibrationTally(), bool(rows)
        tally.add(rows, levels)
    lines = [
        f"emotioncot calibration report  (thresholds version {thresholds.get('version')})",
        f"grouping: {thresholds['group_by']} (fallback {' -> '.join(thresholds.get('fallback', []))}); "
        f"quantiles {', '.join(f'{q:.3f}' for q in thresholds.get('quantiles', []))}",
        "",
    ]
    for key, entry in thresholds["groups"].items():
        lines.append(f"[{key}]")
        for level, (feature, names) in level_features(_config_from(thresholds)).items():
            cut = entry.get(feature)
            if not cut:
                continue
            unit = UNITS.get(feature, "")
            mn, q1, med, q3, mx = cut["summary"]
            extra = ""
            if feature == "vocal_effort_db":
                extra = f"  level_weight={cut['level_weight']}" + ("  (peak-normalised: level ignored)" if cut["peak_normalised"] else "")
            lines.append(
                f"  {feature:24s} n={cut['n']:<5d} excluded={cut['excluded']:<4d} "
                f"min {mn:.2f}  q1 {q1:.2f}  median {med:.2f}  q3 {q3:.2f}  max {mx:.2f} {unit}"
            )
            lines.append(f"  {'':24s} {names[0]} < {cut['cuts'][0]:.2f} <= {names[1]} <= {cut['cuts'][1]:.2f} < {names[2]}{extra}")
            if cut.get("emotions"):
                lines.append(f"  {'':24s} fitted on: " + ", ".join(f"{e} {n}" for e, n in cut["emotions"].items()))
        lines.append("")
    lines.append("labels given:")
    for level in LEVEL_FEATURES:
        counts = tally.labels[level]
        lines.append(f"  {level:14s} " + "  ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    if tally.fallbacks:
        lines.append(f"{count(tally.fallbacks, 'record')} graded on a coarser group than their own (see their level_fallback)")
    if crosstab:
        lines += tally.crosstabs()
    if tally.reasons:
        lines.append("null levels, by reason:")
        for reason, n in tally.reasons.most_common(20):
            lines.append(f"  {n:5d}  {reason}")
    return "\n".join(lines) + "\n"


def plot(thresholds: dict, fit, path: Path) -> bool:
    """Box plots of each feature per group with the cut points; False when matplotlib is missing. ``fit``: the
    ``ThresholdFit`` the cut points came from (or the joined rows, fitted here with the thresholds' settings)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    from emotioncot.calibrate.levels import ThresholdFit

    cfg = _config_from(thresholds)
    if not isinstance(fit, ThresholdFit):
        rows, fit = fit, ThresholdFit(cfg)
        fit.add(rows)
    members = fit.members(thresholds.get("fallback", []))

    keys = list(thresholds["groups"])[:MAX_PLOT_GROUPS]
    features = [(lvl, f) for lvl, (f, _) in level_features(cfg).items()]
    fig, axes = plt.subplots(len(features), 1, figsize=(max(6, 0.5 * len(keys) + 3), 3.2 * len(features)), squeeze=False)
    for ax, (level, feature) in zip(axes[:, 0], features):
        data, labels, cuts = [], [], []
        for key in keys:
            cut = thresholds["groups"][key].get(feature)
            if not cut:
                continue
            # the plot shows what the cut points were fitted on
            vals = fit.values(members.get(key, []), level, cut.get("level_weight", 0.0))[0] if members.get(key) else []
            data.append(list(vals) or [float("nan")])
            labels.append(key)
            cuts.append(cut["cuts"])
        if not data:
            ax.set_visible(False)
            continue
        ax.boxplot(data, showfliers=True)
        for i, (lo, hi) in enumerate(cuts, start=1):
            ax.hlines([lo, hi], i - 0.4, i + 0.4, colors=["tab:blue", "tab:red"], linestyles="--")
        ax.set_xticks(range(1, len(labels) + 1))
        ax.set_xticklabels(labels, rotation=60, ha="right", fontsize=7)
        ax.set_ylabel(f"{feature} ({UNITS.get(feature, '')})")
        ax.set_title(f"{level}: reliable values per group, cut points dashed", fontsize=9)
    fig.tight_layout()
    tmp = path.with_name(path.name + ".tmp.png")
    fig.savefig(tmp, dpi=80)
    plt.close(fig)
    tmp.replace(path)
    return True


def write_report(rows, thresholds: dict, levels, out_dir: Path) -> dict[str, Path | None]:
    """Write ``calibration_report.txt`` (and ``.png``) into ``out_dir``; returns the paths written. ``rows`` and
    ``levels``: the joined rows and their Levels rows, or (a streamed build) the ``ThresholdFit`` and the
    ``CalibrationTally`` of them."""
    out_dir = Path(out_dir)
    text = report_text(thresholds, levels, None if isinstance(levels, CalibrationTally) else rows)
    png = out_dir / "calibration_report.png"
    made = plot(thresholds, rows, png)
    if not made:
        text += "\n(plot skipped: matplotlib is not installed; pip install 'emotioncot[test]')\n"
    txt = out_dir / "calibration_report.txt"
    write_text_atomic(txt, text)
    return {"text": txt, "plot": png if made else None}
