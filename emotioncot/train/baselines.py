"""Baselines a reader needs beside a trained policy's accuracy: chance, the majority class, and a rule that maps
the measured levels straight to a label (how much of the task the cues alone carry). Plain Python, no torch.

The level rule is a lookup table fitted on the training split: each combination of the measured cues
(pitch, energy, speed level and intonation) votes for its most frequent label. A test row whose combination was
never seen backs off to fewer cues, in the order of ``BACKOFF`` (energy and pitch carry most of the arousal
signal), and finally to the majority class. Ties go to the label first in sorted order, so the rule is
deterministic.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable, Sequence

CUES = ("pitch_level", "energy_level", "speed_level", "intonation")
BACKOFF = (
    ("pitch_level", "energy_level", "speed_level", "intonation"),
    ("pitch_level", "energy_level", "speed_level"),
    ("pitch_level", "energy_level"),
    ("energy_level",),
)


def _top(counter: Counter) -> str:
    best = max(counter.values())
    return sorted(k for k, v in counter.items() if v == best)[0]


def majority_label(labels: Iterable[str]) -> str:
    """The most frequent label (ties: first in sorted order)."""
    counter = Counter(labels)
    if not counter:
        raise ValueError("no labels to take a majority of")
    return _top(counter)


class LevelRule:
    """Measured levels -> label, fitted on training rows (dicts with the CUES and ``label_key``)."""

    def __init__(self, label_key: str = "solution"):
        self.label_key = label_key
        self.tables: list[dict[tuple, str]] = []
        self.majority = ""

    @staticmethod
    def _key(row: dict, cues: Sequence[str]) -> tuple:
        return tuple(str(row.get(c) or "not measured") for c in cues)

    def fit(self, rows: Sequence[dict]) -> "LevelRule":
        if not rows:
            raise ValueError("the level rule needs training rows")
        self.majority = majority_label(r[self.label_key] for r in rows)
        self.tables = []
        for cues in BACKOFF:
            votes: dict[tuple, Counter] = {}
            for r in rows:
                votes.setdefault(self._key(r, cues), Counter())[r[self.label_key]] += 1
            self.tables.append({k: _top(v) for k, v in votes.items()})
        return self

    def predict_one(self, row: dict) -> str:
        for cues, table in zip(BACKOFF, self.tables):
            label = table.get(self._key(row, cues))
            if label is not None:
                return label
        return self.majority

    def predict(self, rows: Sequence[dict]) -> list[str]:
        return [self.predict_one(r) for r in rows]
