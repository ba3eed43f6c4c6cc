"""The grounding check on the held-out rationales (tests/data/rationales/README.md): precision and recall of
the contradiction check >= 0.9, and at most 5 % of the faithful rationales wrongly rejected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emotioncot.filter.grounding import grounding_problems

DATA = Path(__file__).parent / "data" / "rationales"


def scores(path: Path) -> dict:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    tp = fp = fn = tn = right_code = 0
    for row in rows:
        codes = [c for c, _ in grounding_problems(row)]
        planted = row["expected"] != "faithful"
        if planted and codes:
            tp += 1
            right_code += row["expected"] in codes
        elif planted:
            fn += 1
        elif codes:
            fp += 1
        else:
            tn += 1
    return {
        "rows": len(rows),
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "false_rejection": fp / (fp + tn) if fp + tn else 0.0,
        "right_code": right_code / tp if tp else 0.0,
    }


@pytest.mark.parametrize("name", ["heldout.jsonl", "heldout_b.jsonl", "heldout_c.jsonl", "heldout_d.jsonl", "heldout_independent.jsonl"])
def test_contradiction_check_on_held_out_set(name):
    s = scores(DATA / name)
    print(name, s)
    assert s["rows"] >= 32
    assert s["precision"] >= 0.9, s
    assert s["recall"] >= 0.9, s
    assert s["false_rejection"] <= 0.05, s
    assert s["right_code"] >= 0.9, s


def test_held_out_set_is_balanced_and_covers_every_kind():
    rows = [json.loads(line) for line in (DATA / "heldout.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) >= 60
    kinds = {r["expected"] for r in rows}
    assert kinds == {"faithful", "grounding_pitch", "grounding_energy", "grounding_speed", "grounding_intonation",
                     "grounding_stress", "grounding_gender", "grounding_age"}
    faithful = sum(r["expected"] == "faithful" for r in rows)
    assert 0.4 <= faithful / len(rows) <= 0.6


@pytest.mark.parametrize("name", ["real_smollm2.jsonl", "real_smollm2_dev.jsonl"])
def test_contradiction_check_on_real_model_rationales(name):
    """Rationales SmolLM2-135M wrote for real (tests/data/rationales/README.md), labelled by hand."""
    s = scores(DATA / name)
    print(name, s)
    assert s["rows"] >= (35 if name == "real_smollm2.jsonl" else 11)
    assert s["precision"] >= 0.9, s
    assert s["recall"] >= 0.9, s
    assert s["false_rejection"] <= 0.05, s
