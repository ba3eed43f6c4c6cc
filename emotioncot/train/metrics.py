"""Evaluation metrics over completions: emotion accuracy (weighted = overall, unweighted = mean per-class
recall, the usual WA / UA of speech emotion recognition), per-class confusion, format rate, reasoning grades.
Pure Python, no torch."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Optional, Sequence

from emotioncot.taxonomy import normalize_emotion
from emotioncot.train.rewards import GRADE_NAMES, is_well_formed, parse_answer

INVALID = "(no valid answer)"


def compute_metrics(golds: Sequence[str], texts: Sequence[str], grades: Optional[Sequence] = None) -> dict:
    """Metrics of completions ``texts`` against gold labels.

    >>> m = compute_metrics(["angry", "angry", "sad"], ["<think>x</think><answer>Anger</answer>", "sad", "<answer>sad</answer>"])
    >>> m["weighted_accuracy"], m["unweighted_accuracy"], m["format_rate"]
    (0.6667, 0.75, 0.3333)
    """
    if len(golds) != len(texts):
        raise ValueError("golds and texts differ in length")
    n = len(golds)
    if n == 0:
        raise ValueError("nothing to evaluate")
    confusion: dict[str, Counter] = defaultdict(Counter)
    correct = 0
    for gold, text in zip(golds, texts):
        g = normalize_emotion(gold) or gold
        p = parse_answer(text) or INVALID
        confusion[g][p] += 1
        correct += int(p == g)
    per_class = {
        g: {"support": sum(row.values()), "recall": round(row[g] / sum(row.values()), 4)}
        for g, row in sorted(confusion.items())
    }
    out = {
        "n": n,
        "weighted_accuracy": round(correct / n, 4),
        "unweighted_accuracy": round(sum(c["recall"] for c in per_class.values()) / len(per_class), 4),
        "format_rate": round(sum(is_well_formed(t) for t in texts) / n, 4),
        "per_class": per_class,
        "confusion": {g: dict(row) for g, row in sorted(confusion.items())},
    }
    if grades is not None:
        graded = [g for g in grades if g is not None]
        out["graded"] = len(graded)
        out["reasoning_grades"] = (
            {name: round(sum(g.as_dict()[name] for g in graded) / len(graded), 4) for name in GRADE_NAMES}
            if graded else None
        )
    return out
