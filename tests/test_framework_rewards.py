"""GRPO-PTR rewards under other trainers' calling conventions: verl's per-sample and batch reward functions
(``emotioncot.train.verl_reward``) and ms-swift's ORM plugin (``emotioncot.train.swift_orm``, where ms-swift is
installed). The batch reward must find groups by record id in a reordered batch."""

from __future__ import annotations

import json
import random

import pytest

from emotioncot.export.frameworks.common import reward_fields
from emotioncot.export.synthetic import synthetic_records
from emotioncot.train.ptr import total_rewards
from emotioncot.train.rewards import accuracy_reward, format_reward, make_reasoning_reward
from emotioncot.train.graders import OfflineGrader


@pytest.fixture
def verl_reward(monkeypatch, tmp_path):
    """The verl module with fresh state, configured through EMOTIONCOT_TRAIN_CONFIG (R_t on from the start)."""
    import importlib

    cfg = tmp_path / "train.json"
    cfg.write_text(json.dumps({"ptr": {"switch": {"enabled_from_start": True}}}))
    monkeypatch.setenv("EMOTIONCOT_TRAIN_CONFIG", str(cfg))
    import emotioncot.train.verl_reward as module

    return importlib.reload(module)


def _group(rec: dict, wrong: str) -> list[str]:
    """Four completions for one prompt: the right answer after a rationale that says nothing, its own rationale
    with a wrong answer, a contradicting rationale with a wrong answer, and an untagged answer (so the wrong
    answers' reasoning grades above the right one's: the case the trust weight exists for)."""
    good = rec["cot_analysis"]
    flipped = good.replace("high", "low") if "high" in good else good + " The pitch is very high and the voice is loud."
    return [
        f"<think>It is hard to say.</think><answer>{rec['emotion']}</answer>",
        f"<think>{good}</think><answer>{wrong}</answer>",
        f"<think>{flipped}</think><answer>{wrong}</answer>",
        rec["emotion"],
    ]


def test_verl_compute_score_is_format_plus_accuracy(verl_reward):
    rec = synthetic_records(1, "x.wav", seed=1)[0]
    texts = _group(rec, "neutral" if rec["emotion"] != "neutral" else "sad")
    scores = [verl_reward.compute_score("emotioncot", t, rec["emotion"], reward_fields(rec)) for t in texts]
    assert scores == pytest.approx([1.3, 0.3, 0.3, 0.0])


def test_verl_batch_reward_groups_by_id_in_a_reordered_batch(verl_reward):
    recs = synthetic_records(3, "x.wav", seed=2)
    texts, golds, infos = [], [], []
    for rec in recs:
        wrong = "neutral" if rec["emotion"] != "neutral" else "sad"
        for text in _group(rec, wrong):
            texts.append(text), golds.append(rec["emotion"]), infos.append(reward_fields(rec))
    # Expected: GRPO-PTR over the consecutive groups, as emotioncot's own trainer computes it.
    graded = make_reasoning_reward(OfflineGrader())(texts, **{k: [i[k] for i in infos] for k in infos[0]})
    want = total_rewards(format_reward(texts), accuracy_reward(texts, solution=golds), graded, group_size=4)
    order = list(range(len(texts)))
    random.Random(0).shuffle(order)
    got = verl_reward.compute_score_batch(["emotioncot"] * len(texts), [texts[i] for i in order],
                                          [golds[i] for i in order], [infos[i] for i in order])
    assert got == pytest.approx([want[i] for i in order])
    # The trust weight did something here: the groups' wrong answers were graded above their right ones.
    plain = total_rewards(format_reward(texts), accuracy_reward(texts, solution=golds), graded, group_size=1)
    assert want != pytest.approx(plain)


def test_verl_batch_reward_without_switch_leaves_reasoning_out(monkeypatch):
    import importlib

    monkeypatch.delenv("EMOTIONCOT_TRAIN_CONFIG", raising=False)
    import emotioncot.train.verl_reward as module

    module = importlib.reload(module)
    rec = synthetic_records(1, "x.wav", seed=3)[0]
    texts = _group(rec, "neutral" if rec["emotion"] != "neutral" else "sad")
    got = module.compute_score_batch(["emotioncot"] * 4, texts, [rec["emotion"]] * 4, [reward_fields(rec)] * 4)
    assert got == pytest.approx([1.3, 0.3, 0.3, 0.0])


def test_swift_orm_plugin_registers_and_scores():
    pytest.importorskip("swift", reason="ms-swift is not installed here (benchmarks/interop_check.py runs it)")
    import emotioncot.train.swift_orm as plugin

    rec = synthetic_records(1, "x.wav", seed=4)[0]
    texts = _group(rec, "neutral" if rec["emotion"] != "neutral" else "sad")
    cols = {k: [v] * 4 for k, v in reward_fields(rec).items()}
    assert plugin.orms["emotioncot_format"](args=None)(texts, **cols) == [1.0, 1.0, 1.0, 0.0]
    assert plugin.orms["emotioncot_accuracy"](args=None)(texts, solution=[rec["emotion"]] * 4, **cols) == [1.0, 0.0, 0.0, 0.0]
    assert plugin.orms["emotioncot_reasoning"](args=None)(texts, solution=[rec["emotion"]] * 4, **cols) == [0.0] * 4
