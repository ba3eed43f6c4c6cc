"""GRPO-PTR's reward for trainers other than emotioncot's own (ms-swift's ORM plugins, verl's reward
functions): the same R_f, R_o, R_t and trust weight (``rewards``, ``ptr``), computed over the completions one
reward call receives.

What differs from ``emotioncot train grpo`` (the limits ``docs/training.md`` states):
- a group is the completions of one call that share their prompt's record id (``ptr.keyed_trust_weights``): a
  group split across calls or processes gets its trust weight from the part each call sees;
- the progressive switch lives in the process that computes rewards and is updated with each call's accuracy
  (one call's mean R_o per update); it is not saved in checkpoints, so a resumed run starts with R_t off
  unless ``ptr.switch.enabled_from_start`` is set.

Configuration: the ``TrainConfig`` file named by ``EMOTIONCOT_TRAIN_CONFIG`` (its ``ptr`` and ``grader``
sections), else the defaults (offline grader, R = 0.3 R_f + 1.0 R_o + 0.5 tau R_t). Imports only emotioncot's
pure-Python training pieces and pydantic, so ``pip install --no-deps emotioncot`` in the framework's own
environment is enough.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Sequence

from emotioncot.train.config import TrainConfig, load_train_config
from emotioncot.train.ptr import ProgressiveSwitch, keyed_trust_weights
from emotioncot.train.rewards import accuracy_reward, format_reward, make_reasoning_reward

CONFIG_ENV = "EMOTIONCOT_TRAIN_CONFIG"


def plugin_config() -> TrainConfig:
    path = os.environ.get(CONFIG_ENV)
    return load_train_config(Path(path) if path else None)


class PTRScorer:
    """R_f, R_o and tau R_t per completion of one reward call, and the switch that turns R_t on."""

    def __init__(self, cfg: Optional[TrainConfig] = None, grader=None):
        from emotioncot.train.graders import make_grader

        cfg = cfg or plugin_config()
        self.ptr = cfg.ptr
        self.switch = ProgressiveSwitch.from_config(cfg.ptr.switch)
        self._reasoning = make_reasoning_reward(grader or make_grader(cfg.grader), cfg.grader.weights)

    def parts(self, completions: Sequence, solutions: Sequence[str], keys: Sequence, rows: Sequence[dict]) -> dict:
        """``{"format", "accuracy", "reasoning"}`` lists; ``reasoning`` is tau R_t (0 while the switch is off,
        or where the grader could not grade). Updates the switch with this call's accuracy."""
        fmt = format_reward(completions)
        acc = accuracy_reward(completions, solution=list(solutions))
        reasoning = [0.0] * len(completions)
        if self.switch.enabled:
            columns = {k: [r.get(k) for r in rows] for k in (rows[0] if rows else {})}
            graded = self._reasoning(completions, **columns)
            taus = keyed_trust_weights([a >= 0.5 for a in acc], graded, keys, self.ptr.degenerate_trust)
            reasoning = [0.0 if g is None else tau * g for g, tau in zip(graded, taus)]
        if acc:
            self.switch.update(sum(acc) / len(acc))
        return {"format": fmt, "accuracy": acc, "reasoning": reasoning}

    def total(self, parts: dict) -> list[float]:
        """R = a R_f + b R_o + c tau R_t with the configured coefficients."""
        a, b, c = self.ptr.format_coef, self.ptr.outcome_coef, self.ptr.reasoning_coef
        return [round(a * f + b * o + c * r, 12) for f, o, r in zip(parts["format"], parts["accuracy"], parts["reasoning"])]
