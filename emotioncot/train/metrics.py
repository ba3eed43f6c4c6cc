"""Evaluation metrics over completions: emotion accuracy (weighted = overall, unweighted = mean per-class
recall, the usual WA / UA of speech emotion recognition) with bootstrap confidence intervals, per corpus and per
class, the per-class confusion, the format rate and the reasoning grades. numpy only, no torch.

The intervals are percentile bootstrap intervals: the evaluated items are resampled with replacement
(``n_resamples`` times, a fixed ``seed``, so a report is reproducible), the statistic is computed on each
resample, and the interval is the (1 - level) / 2 and (1 + level) / 2 quantiles of those values. UA on a
resample averages the classes that resample holds.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Optional, Sequence

import numpy as np

from emotioncot.taxonomy import normalize_emotion
from emotioncot.train.rewards import GRADE_NAMES, is_well_formed, parse_answer

INVALID = "(no valid answer)"
N_RESAMPLES = 1000
LEVEL = 0.95


def _resample_counts(n: int, n_resamples: int, seed: int) -> np.ndarray:
    """(n_resamples, n) counts: how often each item is drawn in each resample of n draws."""
    rng = np.random.default_rng(seed)
    return rng.multinomial(n, np.full(n, 1.0 / n), size=n_resamples)


def accuracy_with_ci(golds: Sequence[str], preds: Sequence[str], n_resamples: int = N_RESAMPLES,
                     level: float = LEVEL, seed: int = 0) -> dict:
    """WA and UA of ``preds`` against ``golds`` (class names), each with its bootstrap interval, and each
    class's recall with its interval.

    >>> r = accuracy_with_ci(["a", "a", "b", "b"], ["a", "a", "b", "b"], n_resamples=50)
    >>> r["weighted_accuracy"], r["weighted_accuracy_ci"], r["unweighted_accuracy_ci"]
    (1.0, [1.0, 1.0], [1.0, 1.0])
    """
    n = len(golds)
    if n == 0 or n != len(preds):
        raise ValueError(f"need as many predictions as gold labels, and some ({n} gold, {len(preds)} predicted)")
    classes = sorted(set(golds))
    gold_idx = np.array([classes.index(g) for g in golds])
    correct = np.array([p == g for g, p in zip(golds, preds)], dtype=float)
    onehot = np.eye(len(classes))[gold_idx]  # (n, C)
    support = onehot.sum(0)
    recall = (onehot * correct[:, None]).sum(0) / support
    m = _resample_counts(n, n_resamples, seed).astype(float)  # (B, n)
    wa_b = m @ correct / n
    counts_b = m @ onehot  # (B, C)
    hits_b = m @ (onehot * correct[:, None])
    with np.errstate(invalid="ignore", divide="ignore"):
        recall_b = hits_b / counts_b  # NaN where a resample lacks the class
    ua_b = np.nanmean(recall_b, axis=1)
    q = [(1 - level) / 2, (1 + level) / 2]

    def ci(values: np.ndarray) -> list[float]:
        values = values[~np.isnan(values)]
        return [round(float(v), 4) for v in np.quantile(values, q)]

    return {
        "n": n,
        "weighted_accuracy": round(float(correct.mean()), 4),
        "weighted_accuracy_ci": ci(wa_b),
        "unweighted_accuracy": round(float(recall.mean()), 4),
        "unweighted_accuracy_ci": ci(ua_b),
        "per_class": {
            c: {"support": int(support[k]), "recall": round(float(recall[k]), 4), "recall_ci": ci(recall_b[:, k])}
            for k, c in enumerate(classes)
        },
    }


def compute_metrics(golds: Sequence[str], texts: Sequence[str], grades: Optional[Sequence] = None,
                    corpora: Optional[Sequence[str]] = None, n_resamples: int = N_RESAMPLES, level: float = LEVEL,
                    seed: int = 0) -> dict:
    """Metrics of completions ``texts`` against gold labels; ``corpora`` (one name per item) adds a
    ``per_corpus`` section with the same accuracies and intervals.

    >>> m = compute_metrics(["angry", "angry", "sad"], ["<think>x</think><answer>Anger</answer>", "sad", "<answer>sad</answer>"])
    >>> m["weighted_accuracy"], m["unweighted_accuracy"], m["format_rate"]
    (0.6667, 0.75, 0.3333)
    """
    if len(golds) != len(texts):
        raise ValueError("golds and texts differ in length")
    n = len(golds)
    if n == 0:
        raise ValueError("nothing to evaluate")
    golds = [normalize_emotion(g) or g for g in golds]
    preds = [parse_answer(t) or INVALID for t in texts]
    confusion: dict[str, Counter] = defaultdict(Counter)
    for g, p in zip(golds, preds):
        confusion[g][p] += 1
    out = {
        **accuracy_with_ci(golds, preds, n_resamples, level, seed),
        "ci_level": level,
        "bootstrap_resamples": n_resamples,
        "format_rate": round(sum(is_well_formed(t) for t in texts) / n, 4),
        "confusion": {g: dict(row) for g, row in sorted(confusion.items())},
    }
    if corpora is not None:
        if len(corpora) != n:
            raise ValueError("corpora and golds differ in length")
        out["per_corpus"] = {}
        for name in sorted(set(corpora)):
            idx = [i for i, c in enumerate(corpora) if c == name]
            sub = accuracy_with_ci([golds[i] for i in idx], [preds[i] for i in idx], n_resamples, level, seed)
            out["per_corpus"][name] = sub
    if grades is not None:
        graded = [g for g in grades if g is not None]
        out["graded"] = len(graded)
        out["reasoning_grades"] = (
            {name: round(sum(g.as_dict()[name] for g in graded) / len(graded), 4) for name in GRADE_NAMES}
            if graded else None
        )
    return out


def _pct(value: float) -> str:
    return f"{100 * value:.1f}"


def _with_ci(value: float, ci: list[float]) -> str:
    return f"{_pct(value)} [{_pct(ci[0])}, {_pct(ci[1])}]"


def format_report(report: dict) -> str:
    """The report as Markdown tables: overall and per corpus (WA, UA), then per class (recall), in percent
    with the bootstrap interval in brackets."""
    level = int(round(100 * report.get("ci_level", LEVEL)))
    head = [
        f"# Evaluation: {report.get('model', '?')} on split {report.get('split', '?')!r}",
        "",
        f"{report['n']} items; format rate {_pct(report['format_rate'])} %; intervals: {level} % percentile "
        f"bootstrap over {report.get('bootstrap_resamples', N_RESAMPLES)} resamples.",
        "",
        f"| set | n | WA % [{level} % CI] | UA % [{level} % CI] |",
        "|---|---|---|---|",
    ]
    rows = [("all", report)] + sorted((report.get("per_corpus") or {}).items())
    for name, r in rows:
        head.append(f"| {name} | {r['n']} | {_with_ci(r['weighted_accuracy'], r['weighted_accuracy_ci'])} | "
                    f"{_with_ci(r['unweighted_accuracy'], r['unweighted_accuracy_ci'])} |")
    head += ["", f"| class | support | recall % [{level} % CI] |", "|---|---|---|"]
    for c, r in report["per_class"].items():
        head.append(f"| {c} | {r['support']} | {_with_ci(r['recall'], r['recall_ci'])} |")
    return "\n".join(head) + "\n"
