"""Bootstrap confidence intervals on constructed predictions whose answer is known in closed form."""

from __future__ import annotations

import math

import pytest

from emotioncot.train.metrics import accuracy_with_ci, compute_metrics, format_report


def _answer(label: str) -> str:
    return f"<think>cues</think><answer>{label}</answer>"


def test_perfect_and_hopeless_predictions_have_degenerate_intervals():
    golds = ["angry"] * 30 + ["sad"] * 10
    right = accuracy_with_ci(golds, golds, n_resamples=200)
    assert right["weighted_accuracy_ci"] == [1.0, 1.0] and right["unweighted_accuracy_ci"] == [1.0, 1.0]
    wrong = accuracy_with_ci(golds, ["neutral"] * 40, n_resamples=200)
    assert wrong["weighted_accuracy_ci"] == [0.0, 0.0] and wrong["per_class"]["sad"]["recall_ci"] == [0.0, 0.0]


def test_wa_interval_matches_the_binomial_normal_interval():
    # 200 of 400 right: WA = 0.5, standard error sqrt(0.25 / 400) = 0.025, 95 % interval 0.5 +- 1.96 * 0.025.
    golds = ["happy"] * 400
    preds = ["happy", "sad"] * 200
    r = accuracy_with_ci(golds, preds, n_resamples=4000, seed=1)
    assert r["weighted_accuracy"] == 0.5
    half = 1.96 * math.sqrt(0.25 / 400)
    assert r["weighted_accuracy_ci"][0] == pytest.approx(0.5 - half, abs=0.006)
    assert r["weighted_accuracy_ci"][1] == pytest.approx(0.5 + half, abs=0.006)


def test_ua_interval_matches_the_two_class_delta_interval():
    # Class a: 270 of 300 right (recall 0.9); class b: 50 of 100 (0.5). WA = 0.8, UA = 0.7, and
    # var(UA) = (0.9 * 0.1 / 300 + 0.5 * 0.5 / 100) / 4.
    golds = ["a"] * 300 + ["b"] * 100
    preds = ["a"] * 270 + ["x"] * 30 + ["b"] * 50 + ["x"] * 50
    r = accuracy_with_ci(golds, preds, n_resamples=4000, seed=2)
    assert (r["weighted_accuracy"], r["unweighted_accuracy"]) == (0.8, 0.7)
    half = 1.96 * math.sqrt((0.9 * 0.1 / 300 + 0.25 / 100) / 4)
    assert r["unweighted_accuracy_ci"][0] == pytest.approx(0.7 - half, abs=0.012)
    assert r["unweighted_accuracy_ci"][1] == pytest.approx(0.7 + half, abs=0.012)
    half_b = 1.96 * math.sqrt(0.25 / 100)
    assert r["per_class"]["b"]["recall_ci"][0] == pytest.approx(0.5 - half_b, abs=0.02)
    # The same seed gives the same report; another seed moves the interval only by resampling noise.
    assert accuracy_with_ci(golds, preds, n_resamples=4000, seed=2) == r


def test_per_corpus_sections_and_table():
    golds = ["angry", "sad"] * 20 + ["fear"] * 10
    texts = [_answer(g) for g in golds[:40]] + [_answer("happy")] * 10
    corpora = ["crema_d"] * 40 + ["emodb"] * 10
    m = compute_metrics(golds, texts, corpora=corpora, n_resamples=300)
    assert m["weighted_accuracy"] == 0.8
    assert m["per_corpus"]["crema_d"]["weighted_accuracy_ci"] == [1.0, 1.0]
    assert m["per_corpus"]["emodb"]["weighted_accuracy_ci"] == [0.0, 0.0]
    assert m["per_class"]["fear"]["recall"] == 0.0 and m["per_class"]["angry"]["support"] == 20
    lo, hi = m["weighted_accuracy_ci"]
    assert lo < 0.8 < hi
    m.update(model="m", split="test")
    table = format_report(m)
    assert "| crema_d | 40 | 100.0 [100.0, 100.0] |" in table
    assert f"| all | 50 | 80.0 [{100 * lo:.1f}, {100 * hi:.1f}] |" in table
    assert "| fear | 10 | 0.0 [0.0, 0.0] |" in table
