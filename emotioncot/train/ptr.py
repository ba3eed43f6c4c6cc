"""GRPO-PTR (progressive trust-weighted reasoning reward), as published (DESIGN.md section 6).

- trust weight per group of K samples: with c the mean R_t of the correct answers and w that of the wrong ones,
  tau = 1 if c >= w, else exp(c - w);
- total reward R = 0.3 R_f + 1.0 R_o + 0.5 tau R_t (coefficients configurable);
- R_t is off at first and switched on once training accuracy has stabilised near 0.5 (``ProgressiveSwitch``).

Degenerate groups (only correct or only wrong answers) have no comparison to make. Our rule: tau =
``degenerate_trust``, 1.0 by default. Why 1 and not 0: the trust weight exists to stop the policy from being
paid for reasoning that the grader likes but that leads to wrong answers; a group without a mix of outcomes
gives no evidence of that, and it is exactly in such groups (where R_o is constant and carries no advantage
signal) that the reasoning grade is the only thing telling good rationales from bad ones. Set it to 0.0 to use
R_t only where outcomes differ.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from typing import Optional, Sequence

logger = logging.getLogger("emotioncot.train.ptr")


def trust_weight(correct: Sequence[bool], reasoning: Sequence[float], degenerate: float = 1.0) -> float:
    """tau for one group: 1 if c >= w else exp(c - w); ``degenerate`` when the group is all-correct or all-wrong.

    Completions whose R_t is missing (None / NaN) are left out of the means.

    >>> trust_weight([True, False], [0.4, 0.9])  # c = 0.4 < w = 0.9
    0.6065306597126334
    >>> trust_weight([True, True], [0.2, 0.3])
    1.0
    """
    if len(correct) != len(reasoning):
        raise ValueError("correct and reasoning must have the same length")
    good = [r for ok, r in zip(correct, reasoning) if ok and _finite(r)]
    bad = [r for ok, r in zip(correct, reasoning) if not ok and _finite(r)]
    if not good or not bad:
        return float(degenerate)
    c = sum(good) / len(good)
    w = sum(bad) / len(bad)
    return 1.0 if c >= w else math.exp(c - w)


def group_trust_weights(
    correct: Sequence[bool], reasoning: Sequence[float], group_size: int, degenerate: float = 1.0
) -> list[float]:
    """tau for every completion of a flat batch made of consecutive groups of ``group_size`` (TRL's layout)."""
    if group_size < 1 or len(correct) % group_size:
        raise ValueError(f"batch of {len(correct)} is not made of groups of {group_size}")
    return keyed_trust_weights(correct, reasoning, [i // group_size for i in range(len(correct))], degenerate)


def keyed_trust_weights(
    correct: Sequence[bool], reasoning: Sequence[float], keys: Sequence, degenerate: float = 1.0
) -> list[float]:
    """tau for every completion, a group being the completions that share a key (their prompt's record id):
    for trainers that may reorder a batch (verl's balancing) or hand over no group size (ms-swift's reward
    plugins).

    >>> keyed_trust_weights([True, True, False, False], [0.2, 0.9, 0.6, 0.1], ["a", "b", "a", "b"])
    [0.6703200460356393, 1.0, 0.6703200460356393, 1.0]
    """
    if not len(correct) == len(reasoning) == len(keys):
        raise ValueError("correct, reasoning and keys must have the same length")
    members: dict = {}
    for i, key in enumerate(keys):
        members.setdefault(key, []).append(i)
    taus = {
        key: trust_weight([correct[i] for i in idx], [reasoning[i] for i in idx], degenerate)
        for key, idx in members.items()
    }
    return [taus[key] for key in keys]


def total_rewards(
    format_r: Sequence[float],
    outcome_r: Sequence[float],
    reasoning_r: Optional[Sequence[float]],
    group_size: int,
    coefs: tuple[float, float, float] = (0.3, 1.0, 0.5),
    reasoning_on: bool = True,
    degenerate: float = 1.0,
) -> list[float]:
    """R = a R_f + b R_o + c tau R_t per completion; the last term is 0 while the reasoning reward is off or
    where R_t is missing.

    >>> total_rewards([1, 1], [1, 0], [0.8, 0.6], group_size=2)
    [1.7, 0.6]
    """
    a, b, c = coefs
    n = len(format_r)
    if len(outcome_r) != n:
        raise ValueError("format and outcome rewards differ in length")
    if not reasoning_on or reasoning_r is None:
        return [round(a * f + b * o, 12) for f, o in zip(format_r, outcome_r)]
    taus = group_trust_weights([o >= 0.5 for o in outcome_r], reasoning_r, group_size, degenerate)
    return [
        round(a * f + b * o + (c * tau * r if _finite(r) else 0.0), 12)
        for f, o, r, tau in zip(format_r, outcome_r, reasoning_r, taus)
    ]


class ProgressiveSwitch:
    """Turns R_t on once the moving average of training accuracy has stayed near ``threshold`` for ``patience``
    consecutive updates. Once on, it stays on.

    "Near" is ``threshold - tolerance <= average <= threshold + upper_tolerance``; ``upper_tolerance=None`` leaves
    the band open above, so a policy that learns past the threshold is switched on too (a closed band would never
    switch on a fast learner). The average is taken over the last ``window`` updates and only once ``window``
    values exist, so a lucky first batch cannot trigger it.
    """

    def __init__(
        self,
        threshold: float = 0.5,
        tolerance: float = 0.05,
        window: int = 20,
        patience: int = 10,
        upper_tolerance: Optional[float] = None,
        enabled: bool = False,
    ):
        if window < 1 or patience < 1:
            raise ValueError("window and patience must be >= 1")
        self.threshold = threshold
        self.tolerance = tolerance
        self.upper_tolerance = upper_tolerance
        self.window = window
        self.patience = patience
        self.history: deque[float] = deque(maxlen=window)
        self.streak = 0
        self.updates = 0
        self.enabled = enabled
        self.switched_at: Optional[int] = 0 if enabled else None

    @classmethod
    def from_config(cls, cfg) -> "ProgressiveSwitch":
        return cls(cfg.threshold, cfg.tolerance, cfg.window, cfg.patience, cfg.upper_tolerance, cfg.enabled_from_start)

    @property
    def moving_average(self) -> Optional[float]:
        if len(self.history) < self.window:
            return None
        return sum(self.history) / len(self.history)

    def near(self, value: float) -> bool:
        upper = math.inf if self.upper_tolerance is None else self.threshold + self.upper_tolerance
        return self.threshold - self.tolerance <= value <= upper

    def update(self, accuracy: float, step: Optional[int] = None) -> bool:
        """Record one step's training accuracy; return True exactly when this update turns R_t on."""
        self.updates += 1
        self.history.append(float(accuracy))
        if self.enabled:
            return False
        avg = self.moving_average
        self.streak = self.streak + 1 if avg is not None and self.near(avg) else 0
        if self.streak >= self.patience:
            self.enabled = True
            self.switched_at = step if step is not None else self.updates
            logger.warning(
                "GRPO-PTR: reasoning reward switched ON at step %s (moving accuracy %.3f over %d steps, near %.2f "
                "for %d steps)", self.switched_at, avg, self.window, self.threshold, self.patience,
            )
            return True
        return False

    def state_dict(self) -> dict:
        return {
            "history": list(self.history),
            "streak": self.streak,
            "updates": self.updates,
            "enabled": self.enabled,
            "switched_at": self.switched_at,
        }

    def load_state_dict(self, state: dict) -> None:
        self.history = deque(state.get("history", []), maxlen=self.window)
        self.streak = int(state.get("streak", 0))
        self.updates = int(state.get("updates", 0))
        self.enabled = bool(state.get("enabled", False))
        self.switched_at = state.get("switched_at")


def _finite(x) -> bool:
    return x is not None and isinstance(x, (int, float)) and math.isfinite(x)
