"""Reward functions in the TRL style: plain functions of ``completions`` and keyword dataset columns, returning
one float per completion (TRL's GRPOTrainer passes every column but ``prompt`` as a keyword argument).

The output format is ``<think> reasoning </think><answer> label </answer>`` (DESIGN.md section 6).
"""

from __future__ import annotations

import re
from typing import Callable, Optional, Sequence

from emotioncot.taxonomy import normalize_emotion

FORMAT_RE = re.compile(r"^\s*<think>(?P<think>.*?)</think>\s*<answer>(?P<answer>.*?)</answer>\s*$", re.DOTALL)
ANSWER_RE = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
THINK_RE = re.compile(r"<think>(.*?)</think>", re.DOTALL)
TAGS = ("<think>", "</think>", "<answer>", "</answer>")

GRADE_NAMES = ("factual_alignment", "interpretative_quality", "caption_completeness", "fluency_structure")


def completion_text(completion) -> str:
    """The text of a completion, plain (``"..."``) or conversational (``[{"role": "assistant", "content": ...}]``)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        content = str(completion.get("content") or "")
        # Chat templates with a response schema (TRL's parse_response) split the reasoning off the content.
        reasoning = completion.get("reasoning_content") or completion.get("thinking") or completion.get("reasoning")
        if reasoning and "<think>" not in content:
            content = f"<think>{reasoning}</think>{content}"
        return content
    if isinstance(completion, (list, tuple)):
        return "".join(completion_text(part) for part in completion)
    return str(completion)


def parse_answer(text: str) -> Optional[str]:
    """The emotion class in the last ``<answer>`` block, normalised through the label aliases, or None.

    >>> parse_answer("<think>...</think><answer> Angry. </answer>")
    'angry'
    >>> parse_answer("no tags at all") is None
    True
    """
    found = ANSWER_RE.findall(text)
    if not found:
        return None
    return normalize_emotion(found[-1])


def parse_reasoning(text: str) -> str:
    """The content of the first ``<think>`` block ('' when there is none)."""
    found = THINK_RE.search(text)
    return found.group(1).strip() if found else ""


def is_well_formed(text: str) -> bool:
    """Exactly one non-empty ``<think>`` block followed by exactly one non-empty ``<answer>`` block, nothing else."""
    match = FORMAT_RE.match(text)
    if not match or not match.group("think").strip() or not match.group("answer").strip():
        return False
    return all(text.count(tag) == 1 for tag in TAGS)


def format_reward(completions: Sequence, **kwargs) -> list[float]:
    """R_f: 1.0 for a completion of the form ``<think>...</think><answer>...</answer>``, else 0.0.

    >>> format_reward(["<think>high pitch, fast</think>\\n<answer>angry</answer>", "angry"])
    [1.0, 0.0]
    """
    return [1.0 if is_well_formed(completion_text(c)) else 0.0 for c in completions]


def accuracy_reward(completions: Sequence, solution: Sequence[str], **kwargs) -> list[float]:
    """R_o: 1.0 when the ``<answer>`` label, normalised ("Angry." and "anger" are angry), equals the gold label.

    >>> accuracy_reward(["<answer>Anger</answer>", "<answer>sad</answer>", "angry"], solution=["angry"] * 3)
    [1.0, 0.0, 0.0]
    """
    rewards = []
    for completion, gold in zip(completions, solution, strict=True):
        predicted = parse_answer(completion_text(completion))
        gold_class = normalize_emotion(gold)
        rewards.append(1.0 if predicted is not None and predicted == gold_class else 0.0)
    return rewards


def weighted_grade(grades: Sequence[float], weights: Sequence[float]) -> float:
    """R_t = sum_j w_j * g_j / 5 over the four 1-5 grades.

    >>> weighted_grade([5, 4, 3, 2], [0.25, 0.25, 0.25, 0.25])
    0.7
    """
    if len(grades) != 4 or len(weights) != 4:
        raise ValueError("four grades and four weights are expected")
    return round(sum(w * g / 5.0 for w, g in zip(weights, grades)), 12)


def make_reasoning_reward(grader, weights: Sequence[float] = (0.25, 0.25, 0.25, 0.25)) -> Callable[..., list]:
    """A TRL reward function R_t over ``grader`` (see ``emotioncot.train.graders``).

    A completion without a ``<think>`` block has nothing to grade and gets 0.0; one the grader could not grade
    (a judge that failed after retries) gets None, which TRL treats as missing (NaN), not as zero.

    >>> from emotioncot.train.graders import OfflineGrader
    >>> reward = make_reasoning_reward(OfflineGrader())
    >>> reward(["<answer>sad</answer>"], pitch_level=["low"])
    [0.0]
    """
    weights = tuple(float(w) for w in weights)
    if any(w < 0 for w in weights) or abs(sum(weights) - 1.0) > 1e-6:
        raise ValueError(f"reasoning weights must be >= 0 and sum to 1, got {list(weights)}")

    def reasoning_reward(completions: Sequence, **columns) -> list:
        texts = [completion_text(c) for c in completions]
        rows = _rows(columns, len(texts))
        todo = [i for i, t in enumerate(texts) if parse_reasoning(t)]
        grades = grader.grade([texts[i] for i in todo], [rows[i] for i in todo]) if todo else []
        out: list = [0.0] * len(texts)
        for i, g in zip(todo, grades, strict=True):
            out[i] = None if g is None else weighted_grade(g.as_tuple(), weights)
        return out

    reasoning_reward.__name__ = "reasoning_reward"
    return reasoning_reward


def _rows(columns: dict, n: int) -> list[dict]:
    """Column lists (as TRL passes them) -> one dict per completion; non-list extras are ignored."""
    keys = [k for k, v in columns.items() if isinstance(v, (list, tuple)) and len(v) == n]
    return [{k: columns[k][i] for k in keys} for i in range(n)]
