"""The training config: defaults follow the published settings; files with or without a build config around."""

from __future__ import annotations

import pytest

from emotioncot.config import BuildConfig
from emotioncot.train.config import TrainConfig, load_train_config


def test_defaults_are_the_published_settings():
    cfg = TrainConfig()
    assert (cfg.grpo.num_generations, cfg.grpo.beta, cfg.grpo.learning_rate, cfg.grpo.max_steps) == (8, 0.04, 1e-6, 3000)
    assert (cfg.ptr.format_coef, cfg.ptr.outcome_coef, cfg.ptr.reasoning_coef) == (0.3, 1.0, 0.5)
    assert cfg.ptr.switch.threshold == 0.5 and not cfg.ptr.switch.enabled_from_start


def test_load_train_section_of_a_build_config(tmp_path):
    path = tmp_path / "build.yaml"
    path.write_text("ingest:\n  seed: 3\ntrain:\n  grpo:\n    num_generations: 4\n  grader:\n    weights: [0.4, 0.3, 0.2, 0.1]\n")
    assert load_train_config(path).grpo.num_generations == 4
    assert BuildConfig.model_validate({"train": {"ptr": {"reasoning_coef": 0.7}}}).train.ptr.reasoning_coef == 0.7
    plain = tmp_path / "train.json"
    plain.write_text('{"ptr": {"switch": {"patience": 3}}}')
    assert load_train_config(plain).ptr.switch.patience == 3


def test_bad_configs_name_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("grader:\n  weights: [0.5, 0.5, 0.5, 0.5]\n")
    with pytest.raises(ValueError, match="(?s)bad.yaml.*sum to 1"):
        load_train_config(bad)
    typo = tmp_path / "typo.yaml"
    typo.write_text("grpo:\n  num_generation: 4\n")
    with pytest.raises(ValueError, match="typo.yaml"):
        load_train_config(typo)
    with pytest.raises(ValueError, match="not found"):
        load_train_config(tmp_path / "missing.yaml")
