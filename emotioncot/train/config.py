"""Training configuration: one pydantic model, read from a JSON or YAML file and filled by the CLI.

It lives in ``BuildConfig.train`` too, so a single config file can describe a build and its training runs.
Defaults follow the published GRPO-PTR settings (K = 8, KL beta 0.04, learning rate 1e-6, 3000 steps,
R = 0.3 R_f + 1.0 R_o + 0.5 tau R_t, switch near 0.5 accuracy).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PolicyConfig(_Section):
    # "auto": audio when the model's config.json names a supported speech LLM (train/architectures.py), an error
    # when it takes audio but is not supported, else text.
    kind: Literal["auto", "text", "audio"] = "auto"
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    # LoRA through peft when > 0 (the full model is trained otherwise).
    lora_rank: int = 0
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    # Audio longer than this is cut before feature extraction (the Whisper-style encoder takes 30 s at most).
    max_audio_s: float = 30.0
    gradient_checkpointing: bool = False


class SFTConfig(_Section):
    learning_rate: float = 1e-5
    num_train_epochs: float = 1.0
    max_steps: int = -1
    per_device_train_batch_size: int = 4
    gradient_accumulation_steps: int = 1
    max_length: int = 2048
    warmup_ratio: float = 0.03
    lr_scheduler_type: str = "linear"
    logging_steps: int = 10
    save_steps: int = 500
    save_total_limit: Optional[int] = 3
    seed: int = 42


class SwitchConfig(_Section):
    """When the reasoning reward R_t is switched on (the progressive part of GRPO-PTR)."""

    enabled_from_start: bool = False
    threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    # "near": threshold - tolerance <= moving average <= threshold + upper_tolerance (None: no upper bound, so a
    # policy that has already passed the threshold is also switched on).
    tolerance: float = Field(default=0.05, ge=0.0)
    upper_tolerance: Optional[float] = Field(default=None, ge=0.0)
    window: int = Field(default=20, ge=1)
    patience: int = Field(default=10, ge=1)


class PTRConfig(_Section):
    format_coef: float = 0.3
    outcome_coef: float = 1.0
    reasoning_coef: float = 0.5
    # tau for a group whose answers are all correct or all wrong (no comparison between the two is possible).
    degenerate_trust: float = Field(default=1.0, ge=0.0, le=1.0)
    switch: SwitchConfig = Field(default_factory=SwitchConfig)


class GraderConfig(_Section):
    kind: Literal["offline", "openai", "local"] = "offline"
    # Weights of (factual alignment, interpretative quality, caption completeness, fluency and structure).
    weights: tuple[float, float, float, float] = (0.25, 0.25, 0.25, 0.25)
    base_url: Optional[str] = None
    model: Optional[str] = None
    api_key_env: str = "OPENAI_API_KEY"
    rubric_prompt: Optional[Path] = None
    concurrency: int = 8
    max_retries: int = 3
    timeout_s: float = 60.0
    max_new_tokens: int = 96
    # the offline grader's factual alignment weighs the argument by this build's evidence table (its
    # thresholds.json, calibrate/evidence.py); None: the documented literature prior
    evidence_file: Optional[Path] = None

    @model_validator(mode="after")
    def _weights_sum_to_one(self):
        if any(w < 0 for w in self.weights) or abs(sum(self.weights) - 1.0) > 1e-6:
            raise ValueError(f"grader weights must be >= 0 and sum to 1, got {list(self.weights)}")
        return self


class GRPOConfig(_Section):
    learning_rate: float = 1e-6
    max_steps: int = 3000
    num_generations: int = 8
    beta: float = 0.04
    per_device_train_batch_size: int = 8
    gradient_accumulation_steps: int = 1
    max_completion_length: int = 512
    temperature: float = 1.0
    logging_steps: int = 10
    save_steps: int = 250
    save_total_limit: Optional[int] = 3
    seed: int = 42
    use_vllm: bool = False


class EvaluateConfig(_Section):
    """``emotioncot evaluate``: the bootstrap intervals, and the endpoint when the model is served."""

    bootstrap_resamples: int = Field(default=1000, ge=10)
    ci_level: float = Field(default=0.95, gt=0.0, lt=1.0)
    seed: int = 0  # of the bootstrap resampling, so a report is reproducible
    # An OpenAI-compatible audio endpoint: the model is then the name it serves, not a local folder.
    base_url: Optional[str] = None
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = Field(default=8, ge=1)
    timeout_s: float = 120.0
    max_retries: int = Field(default=3, ge=0)


class TrainConfig(_Section):
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    sft: SFTConfig = Field(default_factory=SFTConfig)
    grpo: GRPOConfig = Field(default_factory=GRPOConfig)
    ptr: PTRConfig = Field(default_factory=PTRConfig)
    grader: GraderConfig = Field(default_factory=GraderConfig)
    evaluate: EvaluateConfig = Field(default_factory=EvaluateConfig)
    # Run on the CPU even when an accelerator is present (tests, smoke runs).
    use_cpu: bool = False
    # Mixed precision of the trainers. auto: bf16 autocast on a GPU that supports it, none on the CPU (TRL's own
    # default, bf16 everywhere, made a CPU SFT step 13x slower: benchmarks/bench_sft_step.py). no: full float32.
    mixed_precision: Literal["auto", "bf16", "fp16", "no"] = "auto"
    # The trainers' progress bars (--quiet turns them off).
    progress: bool = True
    # Render the prompts (and SFT targets) in this style instead of the one the export was made with:
    # "emotionthinker" reproduces the released EmotionThinker model's prompt (emotioncot.export.views).
    prompt_style: Optional[Literal["emotioncot", "emotionthinker"]] = None
    report_to: str = "none"


def load_train_config(path: Optional[Path]) -> TrainConfig:
    """A TrainConfig from a JSON/YAML file holding either the training sections or a whole build config with a
    ``train:`` section. Errors name the file."""
    if path is None:
        return TrainConfig()
    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path}: config file not found")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text) or {}
        else:
            data = json.loads(text)
        if isinstance(data, dict) and "train" in data and isinstance(data["train"], dict):
            data = data["train"]
        return TrainConfig.model_validate(data)
    except Exception as exc:
        raise ValueError(f"{path}: not a valid emotioncot training config ({exc})") from exc
