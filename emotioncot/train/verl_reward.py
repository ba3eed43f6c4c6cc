"""GRPO-PTR rewards for verl (``reward.custom_reward_function.path`` = this file), over a ``--for verl`` export.

- ``compute_score`` (verl's default per-sample reward manager, ``name=compute_score``): R = a R_f + b R_o. A
  per-sample function sees one completion and never its group, so it has no trust weight and no progressive
  switch: this is the first phase of GRPO-PTR (R_t off), which is also what it stays.
- ``compute_score_batch`` (verl's ``BatchRewardManager`` calling convention; verl 0.9.1's default reward loop
  scores one sample at a time and does not call it): the whole GRPO-PTR reward, R = a R_f + b R_o + c tau R_t, over the batch the manager hands over; a group is the
  completions whose ``extra_info.id`` is the same (verl's batch balancing reorders rows, so position is not
  used). Limits: ``emotioncot.train.plugin_ptr``.

``ground_truth`` is the gold label (``reward_model.ground_truth``); ``extra_info`` carries the record fields the
grader reads. Needs emotioncot importable in verl's environment (``pip install --no-deps emotioncot``).
"""

from __future__ import annotations

from functools import cache
from typing import Optional

from emotioncot.train.plugin_ptr import PTRScorer, plugin_config
from emotioncot.train.rewards import accuracy_reward, format_reward

_scorer: Optional[PTRScorer] = None


@cache
def _ptr_config():
    return plugin_config().ptr


def compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs) -> float:
    ptr = _ptr_config()
    fmt = format_reward([solution_str])[0]
    acc = accuracy_reward([solution_str], solution=[ground_truth])[0]
    return round(ptr.format_coef * fmt + ptr.outcome_coef * acc, 12)


def compute_score_batch(data_sources, solution_strs, ground_truths, extra_infos, **kwargs) -> list[float]:
    global _scorer
    if _scorer is None:
        _scorer = PTRScorer()
    rows = [dict(info or {}) for info in extra_infos]
    keys = [row.get("id", i) for i, row in enumerate(rows)]
    return _scorer.total(_scorer.parts(list(solution_strs), list(ground_truths), keys, rows))
