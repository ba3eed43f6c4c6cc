"""Rewards, the GRPO-PTR trust weight, total reward and progressive switch, checked against hand-computed values."""

from __future__ import annotations

import math

import pytest

from emotioncot.train.graders import Grades
from emotioncot.train.ptr import ProgressiveSwitch, group_trust_weights, total_rewards, trust_weight
from emotioncot.train.rewards import (
    accuracy_reward,
    format_reward,
    make_reasoning_reward,
    parse_answer,
    weighted_grade,
)


def test_format_reward_cases():
    completions = [
        "<think>The pitch is high.</think>\n<answer>angry</answer>",
        "  <think>ok</think><answer>sad</answer>  ",
        "<think></think><answer>sad</answer>",  # empty reasoning
        "<answer>sad</answer>",  # no reasoning block
        "<think>a</think><answer>sad</answer> trailing words",
        "<think>a</think><think>b</think><answer>sad</answer>",  # two think blocks
        "<answer>sad</answer><think>a</think>",  # wrong order
        [{"role": "assistant", "content": "<think>x</think><answer>happy</answer>"}],  # conversational
    ]
    assert format_reward(completions) == [1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]


def test_accuracy_reward_normalises_aliases():
    completions = [
        "<think>r</think><answer>Angry.</answer>",
        "<think>r</think><answer> anger </answer>",
        "<think>r</think><answer>furious</answer>",
        "<think>r</think><answer>Contempt</answer>",
        "<think>r</think><answer>sad</answer>",
        "angry",  # no answer tag
        "<answer>happy</answer> then <answer>angry</answer>",  # the last answer counts
        "<answer>banana</answer>",
    ]
    solution = ["angry", "angry", "angry", "contempt or disgust", "angry", "angry", "angry", "angry"]
    assert accuracy_reward(completions, solution=solution) == [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0]
    assert parse_answer("<answer>Surprised!</answer>") == "surprise"


def test_weighted_grade_hand_computed():
    # (0.4*5 + 0.3*4 + 0.2*2 + 0.1*1) / 5 = (2 + 1.2 + 0.4 + 0.1) / 5 = 0.74
    assert weighted_grade([5, 4, 2, 1], [0.4, 0.3, 0.2, 0.1]) == pytest.approx(0.74)
    assert weighted_grade([1, 1, 1, 1], [0.25] * 4) == pytest.approx(0.2)
    assert weighted_grade([5, 5, 5, 5], [0.1, 0.2, 0.3, 0.4]) == pytest.approx(1.0)


class _ScriptedGrader:
    """Returns fixed grades in order and records what it was asked to grade."""

    name = "scripted"

    def __init__(self, grades):
        self.grades = list(grades)
        self.seen = []

    def grade(self, texts, rows):
        self.seen.extend(zip(texts, rows))
        return [self.grades.pop(0) for _ in texts]


def test_reasoning_reward_weights_and_missing():
    grader = _ScriptedGrader([Grades(5, 3, 4, 2), None])
    reward = make_reasoning_reward(grader, weights=(0.5, 0.2, 0.2, 0.1))
    out = reward(
        ["<think>pitch high</think><answer>angry</answer>", "<answer>sad</answer>", "<think>x</think><answer>sad</answer>"],
        pitch_level=["high", "low", "normal"],
        solution=["angry", "sad", "sad"],
    )
    # (0.5*5 + 0.2*3 + 0.2*4 + 0.1*2) / 5 = (2.5 + 0.6 + 0.8 + 0.2) / 5 = 0.82; no <think>: 0.0; judge failed: None
    assert out[0] == pytest.approx(0.82)
    assert out[1] == 0.0
    assert out[2] is None
    # the grader saw only the completions with reasoning, each with its own row
    assert [row["pitch_level"] for _, row in grader.seen] == ["high", "normal"]


def test_reasoning_weights_must_sum_to_one():
    with pytest.raises(ValueError, match="sum to 1"):
        make_reasoning_reward(_ScriptedGrader([]), weights=(0.5, 0.5, 0.5, 0.0))


def test_trust_weight_constructed_groups():
    # c = mean(0.8, 0.6) = 0.7 >= w = 0.5 -> 1
    assert trust_weight([True, True, False, False], [0.8, 0.6, 0.5, 0.5]) == 1.0
    # c = 0.3 < w = mean(0.9, 0.7) = 0.8 -> exp(-0.5)
    assert trust_weight([True, False, False], [0.3, 0.9, 0.7]) == pytest.approx(math.exp(-0.5))
    # equal means -> 1
    assert trust_weight([True, False], [0.4, 0.4]) == 1.0
    # missing R_t values are left out of the means: c = 0.2, w = 0.6
    assert trust_weight([True, True, False], [0.2, float("nan"), 0.6]) == pytest.approx(math.exp(-0.4))


def test_trust_weight_degenerate_groups():
    assert trust_weight([True, True, True], [0.1, 0.2, 0.3]) == 1.0
    assert trust_weight([False, False], [0.9, 0.1]) == 1.0
    assert trust_weight([False, False], [0.9, 0.1], degenerate=0.0) == 0.0
    assert trust_weight([True, True], [0.1, 0.2], degenerate=0.25) == 0.25
    # all wrong answers have R_t but the correct one's is missing: no comparison either
    assert trust_weight([True, False], [None, 0.5]) == 1.0


def test_group_trust_weights_layout():
    correct = [True, False, True, True]
    reasoning = [0.2, 0.6, 0.9, 0.1]
    taus = group_trust_weights(correct, reasoning, group_size=2)
    assert taus == pytest.approx([math.exp(-0.4), math.exp(-0.4), 1.0, 1.0])
    with pytest.raises(ValueError):
        group_trust_weights(correct[:3], reasoning[:3], group_size=2)


def test_total_reward_hand_computed():
    fmt = [1.0, 1.0, 0.0, 1.0]
    out = [1.0, 0.0, 0.0, 1.0]
    rt = [0.4, 0.9, 0.5, 0.6]
    # group 1: c=0.4 < w=0.9 -> tau=exp(-0.5); group 2: all wrong? no: [wrong, right] c=0.6 >= w=0.5 -> 1
    tau1 = math.exp(-0.5)
    expected = [0.3 + 1.0 + 0.5 * tau1 * 0.4, 0.3 + 0.5 * tau1 * 0.9, 0.5 * 1.0 * 0.5, 0.3 + 1.0 + 0.5 * 0.6]
    assert total_rewards(fmt, out, rt, group_size=2) == pytest.approx(expected)
    # reasoning off: R = 0.3 R_f + 1.0 R_o
    assert total_rewards(fmt, out, rt, group_size=2, reasoning_on=False) == pytest.approx([1.3, 0.3, 0.0, 1.3])
    # custom coefficients
    assert total_rewards([1.0], [1.0], [1.0], group_size=1, coefs=(0.1, 2.0, 1.0)) == pytest.approx([3.1])


def test_switch_timing_on_scripted_accuracy():
    switch = ProgressiveSwitch(threshold=0.5, tolerance=0.05, window=3, patience=2)
    accuracies = [0.1, 0.2, 0.3, 0.5, 0.6, 0.6, 0.6, 0.7]
    # moving averages (window 3): -, -, 0.2, 0.333, 0.467, 0.567, 0.6, 0.633
    # near (>= 0.45): steps 5, 6 -> streak reaches 2 at step 6
    fired = [switch.update(a, step=i + 1) for i, a in enumerate(accuracies)]
    assert fired == [False, False, False, False, False, True, False, False]
    assert switch.enabled and switch.switched_at == 6


def test_switch_streak_resets_and_band():
    switch = ProgressiveSwitch(threshold=0.5, tolerance=0.05, window=1, patience=3, upper_tolerance=0.1)
    for i, a in enumerate([0.5, 0.5, 0.2, 0.5, 0.9, 0.55, 0.48]):
        assert not switch.update(a, step=i)
    # 0.9 is above the closed band (0.45..0.6), so the streak restarted there
    assert switch.update(0.52, step=7)
    assert switch.switched_at == 7


def test_switch_needs_full_window_and_state_roundtrip():
    switch = ProgressiveSwitch(threshold=0.5, window=4, patience=1)
    assert not switch.update(0.9) and switch.moving_average is None
    state = switch.state_dict()
    restored = ProgressiveSwitch(threshold=0.5, window=4, patience=1)
    restored.load_state_dict(state)
    fired = [restored.update(0.9) for _ in range(3)]
    assert fired == [False, False, True]
    assert restored.switched_at == 4


def test_switch_logs_when_it_fires(caplog):
    switch = ProgressiveSwitch(window=1, patience=1)
    with caplog.at_level("WARNING", logger="emotioncot.train.ptr"):
        switch.update(0.5, step=42)
    assert "switched ON at step 42" in caplog.text


def test_completions_with_reasoning_split_off():
    # TRL's parse_response (chat templates with a response schema) moves the think block to reasoning_content
    parsed = [{"role": "assistant", "reasoning_content": "pitch high", "content": "<answer>angry</answer>"}]
    assert format_reward([parsed]) == [1.0]
    assert accuracy_reward([parsed], solution=["angry"]) == [1.0]
