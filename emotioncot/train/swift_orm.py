"""GRPO-PTR rewards as an ms-swift ORM plugin (``--external_plugins``): three reward classes registered in
ms-swift's ``orms`` table, used together with the paper's weights::

    swift rlhf --rlhf_type grpo --external_plugins "$(python -c 'import emotioncot.train.swift_orm as m; print(m.__file__)')" \\
        --reward_funcs emotioncot_format emotioncot_accuracy emotioncot_reasoning --reward_weights 0.3 1.0 0.5 ...

- ``emotioncot_format``: R_f; ``emotioncot_accuracy``: R_o against the ``solution`` column;
- ``emotioncot_reasoning``: tau R_t, 0 until the progressive switch turns it on. ms-swift passes every dataset
  column as a keyword argument, so the grader sees the record fields the ``grpo_<split>.jsonl`` rows carry and
  the groups are the completions sharing an ``id``. Limits: ``emotioncot.train.plugin_ptr``.

Needs emotioncot importable in ms-swift's environment (``pip install --no-deps emotioncot``: the reward code is
pure Python).
"""

from __future__ import annotations

from typing import Optional

from emotioncot.train.plugin_ptr import PTRScorer
from emotioncot.train.rewards import accuracy_reward, format_reward


def _orm_registry():
    """ms-swift's ``ORM`` base class and ``orms`` table (their module moved between ms-swift releases)."""
    import importlib

    for name in ("swift.plugin", "swift.plugin.orm", "swift.rewards", "swift.rewards.orm"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if hasattr(module, "ORM") and hasattr(module, "orms"):
            return module.ORM, module.orms
    raise ImportError("ms-swift's ORM registry (swift.plugin.orms) was not found: is ms-swift installed here?")


ORM, orms = _orm_registry()
_scorer: Optional[PTRScorer] = None


def scorer() -> PTRScorer:
    """One scorer (and progressive switch) per process."""
    global _scorer
    if _scorer is None:
        _scorer = PTRScorer()
    return _scorer


class EmotionCoTFormat(ORM):
    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, completions, **kwargs) -> list[float]:
        return format_reward(completions)


class EmotionCoTAccuracy(ORM):
    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, completions, solution, **kwargs) -> list[float]:
        return accuracy_reward(completions, solution=solution)


class EmotionCoTReasoning(ORM):
    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, completions, solution, id=None, **kwargs) -> list[float]:
        n = len(completions)
        keys = list(id) if id is not None else list(range(n))  # no id column: every completion its own group
        columns = {k: v for k, v in kwargs.items() if isinstance(v, (list, tuple)) and len(v) == n}
        rows = [{k: v[i] for k, v in columns.items()} for i in range(n)]
        return scorer().parts(completions, solution, keys, rows)["reasoning"]


orms["emotioncot_format"] = EmotionCoTFormat
orms["emotioncot_accuracy"] = EmotionCoTAccuracy
orms["emotioncot_reasoning"] = EmotionCoTReasoning
