"""End to end on CPU without downloads: tiny random policies built locally, SFT then GRPO-PTR, for the text and
the audio policy; checkpoints, resume, evaluate, and the CLI."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

pytest.importorskip("trl")
torch = pytest.importorskip("torch")

from emotioncot.train.config import TrainConfig  # noqa: E402

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="module")
def short_export(demo_build, tmp_path_factory):
    """The demo export with short assistant turns (levels + label), so a tiny model learns the format in a few
    dozen steps. Prompts, solutions, levels and audio are the real export's."""
    import datasets

    from emotioncot.export import load_dataset_dir

    dd = load_dataset_dir(demo_build / "dataset")

    def shorten(row):
        think = f"pitch {row['pitch_level']}, energy {row['energy_level']}, rate {row['speed_level']}."
        messages = [dict(m) for m in row["messages"]]
        messages[-1]["content"] = f"<think>{think}</think>\n<answer>{row['emotion']}</answer>"
        return {"messages": messages}

    out = tmp_path_factory.mktemp("short-export") / "dataset"
    datasets.DatasetDict({k: v.map(shorten) for k, v in dd.items()}).save_to_disk(str(out))
    return out.parent


@pytest.fixture(scope="module")
def tiny_text(short_export, tmp_path_factory):
    from emotioncot.train.tiny import build_tiny_text_policy

    return build_tiny_text_policy(short_export, tmp_path_factory.mktemp("tiny-text"))


@pytest.fixture(scope="module")
def tiny_audio(short_export, tmp_path_factory):
    from emotioncot.train.tiny import build_tiny_audio_policy

    return build_tiny_audio_policy(short_export, tmp_path_factory.mktemp("tiny-audio"))


def _cpu_config() -> TrainConfig:
    cfg = TrainConfig(use_cpu=True)
    cfg.sft.per_device_train_batch_size = 8
    cfg.sft.logging_steps = 1
    cfg.sft.max_length = 512
    g = cfg.grpo
    g.per_device_train_batch_size = 8
    g.num_generations = 4
    g.max_completion_length = 24
    g.logging_steps = 1
    g.save_steps = 2
    return cfg


def _log_history(checkpoint: Path) -> list[dict]:
    return json.loads((checkpoint / "trainer_state.json").read_text())["log_history"]


@pytest.fixture(scope="module")
def sft_text(short_export, tiny_text, tmp_path_factory):
    from emotioncot.train.sft import run_sft

    cfg = _cpu_config()
    cfg.sft.learning_rate = 3e-3
    cfg.sft.warmup_ratio = 0.0
    cfg.sft.max_steps = 80
    cfg.sft.save_steps = 40
    out = tmp_path_factory.mktemp("sft-text")
    return out, run_sft(short_export, str(tiny_text), out, cfg)


def test_sft_text_learns_the_format(sft_text, short_export):
    from emotioncot.train.evaluate import run_evaluate

    out, summary = sft_text
    assert summary["global_step"] == 80 and summary["policy"] == "text"
    assert (out / "checkpoint-40").is_dir() and (out / "checkpoint-80").is_dir()
    losses = [e["loss"] for e in _log_history(out / "checkpoint-80") if "loss" in e]
    assert losses[-1] < 0.5 * losses[0]
    report = run_evaluate(short_export, str(out), split="test", limit=8, max_new_tokens=32, output=out / "eval.json",
                          progress=False)
    # the random model never writes the format; the fine-tuned one does
    assert report["format_rate"] >= 0.5
    assert report["graded"] >= 1 and set(report["reasoning_grades"]) == {
        "factual_alignment", "interpretative_quality", "caption_completeness", "fluency_structure"}
    assert (out / "eval.predictions.jsonl").read_text().count("\n") == 8


def test_sft_resume_continues(sft_text, short_export, tmp_path):
    from emotioncot.train.sft import run_sft

    out, _ = sft_text
    cfg = _cpu_config()
    cfg.sft.max_steps = 82
    summary = run_sft(short_export, str(out), out, cfg)
    assert summary["resumed_from"].endswith("checkpoint-80")
    assert summary["global_step"] == 82


def test_grpo_ptr_text_switch_and_resume(sft_text, short_export, tmp_path):
    from emotioncot.train.grpo import run_grpo_ptr

    model, _ = sft_text
    cfg = _cpu_config()
    cfg.grpo.learning_rate = 1e-3
    cfg.grpo.temperature = 0.5
    cfg.grpo.max_steps = 2
    # switch on after the first batch whatever its accuracy, to see R_t, tau and the switch inside the trainer
    cfg.ptr.switch.threshold = 0.0
    cfg.ptr.switch.window = 1
    cfg.ptr.switch.patience = 1
    out = tmp_path / "grpo"
    first = run_grpo_ptr(short_export, str(model), out, cfg)
    assert first["global_step"] == 2 and first["reasoning_reward_on"] and first["switched_at_step"] == 0
    assert json.loads((out / "ptr_switch.json").read_text())["switched_at_step"] == 0
    state = json.loads((out / "checkpoint-2" / "ptr_state.json").read_text())
    assert state["enabled"] and state["updates"] == 2
    history = _log_history(out / "checkpoint-2")
    flat = sum(e.get("frac_reward_zero_std") == 1.0 for e in history)
    assert (first["logged_steps"], first["steps_without_reward_variance"]) == (2, flat)
    assert [e["ptr/reasoning_on"] for e in history if "ptr/reasoning_on" in e] == [0.0, 1.0]
    assert max(e["rewards/format_reward/mean"] for e in history if "reward" in e) > 0
    on = [e for e in history if e.get("ptr/reasoning_on") == 1.0][0]
    assert on["rewards/reasoning_reward/mean"] > 0 and 0 < on["ptr/trust_weight"] <= 1
    # the logged total is R = 0.3 R_f + 1.0 R_o + 0.5 tau R_t (the reasoning column is logged after tau)
    for e in history:
        if "reward" in e:
            expected = 0.3 * e["rewards/format_reward/mean"] + e["rewards/accuracy_reward/mean"] \
                + 0.5 * e["rewards/reasoning_reward/mean"]
            assert e["reward"] == pytest.approx(expected, abs=1e-5)
    before = {k: v.clone() for k, v in _weights(model).items()}
    after = _weights(out)
    assert any(not torch.equal(before[k], after[k]) for k in before)

    cfg.grpo.max_steps = 3
    resumed = run_grpo_ptr(short_export, str(model), out, cfg)
    assert resumed["resumed_from"].endswith("checkpoint-2")
    assert resumed["global_step"] == 3 and resumed["switched_at_step"] == 0
    assert json.loads((out / "checkpoint-3" / "ptr_state.json").read_text())["updates"] == 3


def test_grpo_from_a_policy_that_never_scores_warns_that_it_learns_nothing(tiny_text, short_export, tmp_path, caplog):
    """The old quick-start: GRPO straight on a random policy. Every completion gets reward 0, every group has zero
    variance, and nothing is learned; the run now says so instead of logging zeros in silence."""
    import logging

    from emotioncot.train.grpo import run_grpo_ptr

    cfg = _cpu_config()
    cfg.grpo.max_steps = 2
    with caplog.at_level(logging.WARNING, logger="emotioncot.train.grpo"):
        summary = run_grpo_ptr(short_export, str(tiny_text), tmp_path / "grpo", cfg)
    history = _log_history(tmp_path / "grpo" / "checkpoint-2")
    assert all(e["frac_reward_zero_std"] == 1.0 for e in history if "frac_reward_zero_std" in e)
    assert summary["steps_without_reward_variance"] == summary["logged_steps"] == 2
    said = [r.getMessage() for r in caplog.records]
    assert sum("teaches nothing" in m for m in said) == 1 and any("learned nothing" in m for m in said), said


def test_train_configs_carry_no_deprecated_checkpointing_flag():
    import warnings

    from trl import GRPOConfig, SFTConfig

    from emotioncot.train.policies import checkpointing_args

    cfg = TrainConfig()
    for make in (SFTConfig, GRPOConfig):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            args = make(output_dir="unused", use_cpu=True, **checkpointing_args(cfg.policy))
        assert not [w for w in caught if "gradient_checkpointing" in str(w.message)], [str(w.message) for w in caught]
        assert args.activation_checkpointing is cfg.policy.gradient_checkpointing is False


def test_apply_trust_on_gathered_rewards():
    import math

    from emotioncot.train.grpo import apply_trust

    # two groups of 3: (R_f, R_o, R_t). Group 1 mixed with c = 0.2 < w = mean(0.8, 0.6) = 0.7; group 2 all wrong.
    rewards = torch.tensor([
        [1.0, 1.0, 0.2], [1.0, 0.0, 0.8], [0.0, 0.0, 0.6],
        [1.0, 0.0, 0.5], [1.0, 0.0, float("nan")], [0.0, 0.0, 0.1],
    ])
    out, tau_mean = apply_trust(rewards, group=3, reasoning_on=True, degenerate=1.0)
    tau = math.exp(-0.5)
    assert out[:, 2].tolist() == pytest.approx([0.2 * tau, 0.8 * tau, 0.6 * tau, 0.5, 0.0, 0.1])
    assert tau_mean == pytest.approx((3 * tau + 3) / 6)
    assert torch.equal(out[:, :2], rewards[:, :2]) and torch.isnan(rewards[4, 2])  # input untouched
    off, none = apply_trust(rewards, group=3, reasoning_on=False)
    assert none is None and off[:, 2].tolist() == [0.0] * 6
    strict, _ = apply_trust(rewards, group=3, reasoning_on=True, degenerate=0.0)
    assert strict[3:, 2].tolist() == [0.0] * 3


def _weights(folder: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(Path(folder) / "model.safetensors"))


def test_audio_collator_feeds_the_clip(tiny_audio, short_export):
    from emotioncot.train.data import load_split, prepare_audio
    from emotioncot.train.policies import load_policy
    from emotioncot.train.sft import AudioSFTCollator

    cfg = TrainConfig()
    policy = load_policy(str(tiny_audio), cfg.policy)
    assert policy.kind == "audio"
    rows = [dict(r) for r in prepare_audio(load_split(short_export), with_sft=True).select(range(3))]
    batch = AudioSFTCollator(policy.adapter)(rows)
    audio_id = policy.model.config.audio_token_id
    frames = batch["feature_attention_mask"].sum(-1)
    expected = ((frames - 1) // 2 + 1 - 2) // 2 + 1
    assert torch.equal((batch["input_ids"] == audio_id).sum(-1), expected)
    # labels cover exactly the assistant turn (+ its end token): prompt and padding are masked
    for i, row in enumerate(rows):
        kept = batch["labels"][i][batch["labels"][i] != -100]
        text = policy.tokenizer.decode(kept, skip_special_tokens=True)
        assert text.strip() == row["messages"][-1]["content"]
    # the audio reaches the model: other clips, other logits
    policy.model.eval()
    inputs = {k: batch[k] for k in ("input_ids", "attention_mask", "input_features", "feature_attention_mask")}
    with torch.no_grad():
        a = policy.model(**inputs).logits
        b = policy.model(**dict(inputs, input_features=inputs["input_features"].roll(1, dims=0))).logits
    assert not torch.allclose(a, b)


def test_audio_policy_sft_grpo_resume(tiny_audio, short_export, tmp_path):
    from emotioncot.train.grpo import run_grpo_ptr
    from emotioncot.train.sft import run_sft

    cfg = _cpu_config()
    cfg.sft.per_device_train_batch_size = 2
    cfg.sft.max_steps = 2
    cfg.sft.save_steps = 2
    sft_out = tmp_path / "sft"
    assert run_sft(short_export, str(tiny_audio), sft_out, cfg)["global_step"] == 2
    assert (sft_out / "checkpoint-2").is_dir() and (sft_out / "processor_config.json").is_file()

    cfg.grpo.per_device_train_batch_size = 4
    cfg.grpo.num_generations = 2
    cfg.grpo.max_completion_length = 8
    cfg.grpo.max_steps = 2
    cfg.ptr.switch.enabled_from_start = True
    out = tmp_path / "grpo"
    first = run_grpo_ptr(short_export, str(sft_out), out, cfg)
    assert first["policy"] == "audio" and first["global_step"] == 2
    assert (out / "checkpoint-2" / "ptr_state.json").is_file()
    history = _log_history(out / "checkpoint-2")
    assert all(e["completions/mean_length"] > 0 for e in history if "completions/mean_length" in e)
    cfg.grpo.max_steps = 3
    resumed = run_grpo_ptr(short_export, str(sft_out), out, cfg)
    assert resumed["resumed_from"].endswith("checkpoint-2") and resumed["global_step"] == 3


def test_cli_train_and_evaluate(short_export, tiny_text, tmp_path):
    from typer.testing import CliRunner

    from emotioncot.cli import app

    runner = CliRunner()
    config = tmp_path / "train.yaml"
    config.write_text("sft:\n  per_device_train_batch_size: 2\n  save_steps: 1\n  max_length: 256\nuse_cpu: true\n")
    result = runner.invoke(app, ["train", "sft", "--data", str(short_export), "--model", str(tiny_text),
                                 "--output", str(tmp_path / "out"), "--config", str(config), "--max-steps", "1"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1])["global_step"] == 1
    assert (tmp_path / "out" / "checkpoint-1").is_dir()
    result = runner.invoke(app, ["evaluate", "--data", str(short_export), "--model", str(tmp_path / "out"),
                                 "--limit", "2", "--max-new-tokens", "4"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1])["n"] == 2
    # bad input: a clear error naming the folder
    result = runner.invoke(app, ["train", "sft", "--data", str(tmp_path), "--model", str(tiny_text),
                                 "--output", str(tmp_path / "x")])
    assert result.exit_code == 2 and str(tmp_path) in result.output and "no exported dataset" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("grader:\n  weights: [0.5, 0.5, 0.5, 0.5]\n")
    result = runner.invoke(app, ["train", "grpo-ptr", "--data", str(short_export), "--model", str(tiny_text),
                                 "--output", str(tmp_path / "y"), "--config", str(bad)])
    assert result.exit_code == 2 and "bad.yaml" in result.output and "sum to 1" in result.output
