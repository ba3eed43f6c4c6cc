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


def _crosstabs(rows: list[dict], levels: list[dict]) -> list[str]:
    """Emotion-by-level tables per cue, from the joined rows (emotion, intonation) and their levels."""
    import pandas as pd

    from emotioncot.calibrate.crosstab import CUES, emotion_by_level, text

    by_id = {lv["id"]: lv for lv in levels}
    table = pd.DataFrame([{**{k: r.get(k) for k in ("id", "emotion", "intonation")}, **by_id.get(r["id"], {})}
                          for r in rows])
    lines = ["emotion by level (clips whose label the taxonomy excludes count as '(no class)'; they are in the",
             "baseline because they are the speaker's real speech):"]
    for cue in CUES:
        lines += [f" {cue}:", text(emotion_by_level(table, cue))]
    return lines


def report_text(thresholds: dict, levels: list[dict], rows: list[dict] | None = None) -> str:
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
        counts = Counter(str(lv.get(level)) for lv in levels)
        lines.append(f"  {level:14s} " + "  ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    fallbacks = sum(1 for lv in levels if lv.get("level_fallback"))
    if fallbacks:
        lines.append(f"{count(fallbacks, 'record')} graded on a coarser group than their own (see their level_fallback)")
    if rows:
        lines += _crosstabs(rows, levels)
    reasons = Counter(r for lv in levels for r in (lv.get("level_reasons") or {}).values())
    if reasons:
        lines.append("null levels, by reason:")
        for reason, n in reasons.most_common(20):
            lines.append(f"  {n:5d}  {reason}")
    return "\n".join(lines) + "\n"


def plot(thresholds: dict, rows: list[dict], path: Path) -> bool:
    """Box plots of each feature per group with the cut points; False when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    from emotioncot.calibrate.levels import group_key, vocal_effort, whispered
    from emotioncot.calibrate.reliability import check, valid

    cfg = _config_from(thresholds)

    keys = list(thresholds["groups"])[:MAX_PLOT_GROUPS]
    features = [(lvl, f) for lvl, (f, _) in level_features(cfg).items()]
    fig, axes = plt.subplots(len(features), 1, figsize=(max(6, 0.5 * len(keys) + 3), 3.2 * len(features)), squeeze=False)
    for ax, (level, feature) in zip(axes[:, 0], features):
        data, labels, cuts = [], [], []
        for key in keys:
            cut = thresholds["groups"][key].get(feature)
            if not cut:
                continue
            vals = []
            for r in rows:
                if key not in {group_key(r, m) for m in thresholds.get("fallback", [])}:
                    continue
                if check(r, level, cfg) is not None or (level == "energy_level" and whispered(r, cfg)):
                    continue  # the plot shows what the cut points were fitted on
                v = vocal_effort(r, cut.get("level_weight", 0.0)) if feature == "vocal_effort_db" else r.get(feature)
                if valid(v):
                    vals.append(v)
            data.append(vals or [float("nan")])
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


def write_report(rows: list[dict], thresholds: dict, levels: list[dict], out_dir: Path) -> dict[str, Path | None]:
    """Write ``calibration_report.txt`` (and ``.png``) into ``out_dir``; returns the paths written."""
    out_dir = Path(out_dir)
    text = report_text(thresholds, levels, rows)
    png = out_dir / "calibration_report.png"
    made = plot(thresholds, rows, png)
    if not made:
        text += "\n(plot skipped: matplotlib is not installed; pip install 'emotioncot[test]')\n"
    txt = out_dir / "calibration_report.txt"
    write_text_atomic(txt, text)
    return {"text": txt, "plot": png if made else None}
