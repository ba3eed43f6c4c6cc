"""``emotioncot train grpo-ptr``: GRPO with the progressive trust-weighted reasoning reward (DESIGN.md section 6).

Built on TRL's GRPOTrainer (so accelerate, DeepSpeed, multi-GPU and vLLM come from it). Three reward functions
run per completion: format R_f, outcome R_o, reasoning R_t (a grader). ``GRPOPTRTrainer`` then, on the rewards
gathered from all processes (where each group of K = num_generations completions is contiguous), replaces the
R_t column by tau * R_t per group (``ptr.group_trust_weights``), or by 0 while the progressive switch is off,
and TRL sums the columns with the weights (0.3, 1.0, 0.5) and computes group-normalised advantages as usual.
The switch is fed each generation batch's training accuracy (mean R_o); while it is off the grader is not
called at all. Its state is saved in each checkpoint (``ptr_state.json``) and restored on resume; the step at
which it turned on is logged and written to ``OUT/ptr_switch.json``.

``AudioGRPOPTRTrainer`` adds the audio: it tokenizes prompts through ``policies.AudioAdapter`` and passes every
audio field the processor returns (``input_features`` and its mask, Phi-4's ``audio_input_features``...) to
generation, to the old/reference log-prob passes and to the loss pass (TRL itself only knows images).
"""

from __future__ import annotations

import json
import logging
import math
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import torch
from transformers import TrainerCallback
from trl import GRPOConfig as TRLGRPOConfig
from trl import GRPOTrainer

from emotioncot.train.config import TrainConfig
from emotioncot.train.policies import model_input_ids, unwrapped
from emotioncot.train.ptr import ProgressiveSwitch, group_trust_weights
from emotioncot.train.rewards import accuracy_reward, format_reward, make_reasoning_reward

logger = logging.getLogger("emotioncot.train.grpo")
# TRL 1.16 reads the model's deprecated `is_gradient_checkpointing` alias at every generation; the warning it
# prints is about TRL's code, not anything the user passed, so it is silenced here (and only this one).
warnings.filterwarnings("ignore", message="`is_gradient_checkpointing` is deprecated", category=FutureWarning)
PTR_STATE = "ptr_state.json"


def apply_trust(rewards: torch.Tensor, group: int, reasoning_on: bool, degenerate: float = 1.0):
    """Columns (R_f, R_o, R_t) of gathered rewards -> (R_f, R_o, tau * R_t), or (R_f, R_o, 0) while the reasoning
    reward is off; missing R_t count as 0. Returns the new tensor and the mean tau (None when off). TRL then sums
    the columns with the weights (0.3, 1.0, 0.5)."""
    rewards = rewards.clone()
    if not reasoning_on:
        rewards[:, 2] = 0.0
        return rewards, None
    correct = (rewards[:, 1] >= 0.5).tolist()
    taus = group_trust_weights(correct, rewards[:, 2].tolist(), group, degenerate)
    tau = torch.tensor(taus, dtype=rewards.dtype, device=rewards.device)
    rewards[:, 2] = torch.nan_to_num(rewards[:, 2], nan=0.0) * tau
    return rewards, float(tau.mean())


class GRPOPTRTrainer(GRPOTrainer):
    """GRPOTrainer whose reward functions are (format, accuracy, reasoning), combined by GRPO-PTR."""

    def __init__(self, *args, ptr_cfg, switch: ProgressiveSwitch, **kwargs):
        self.ptr_cfg = ptr_cfg
        self.switch = switch
        super().__init__(*args, **kwargs)
        self.add_callback(_SavePTRState(self))

    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        rewards = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
        training = self.model.training
        group = self.num_generations if training else self.num_generations_eval
        reasoning_on = self.switch.enabled  # what the reasoning function saw for this batch
        outcome = rewards[:, 1].clone()
        rewards, tau_mean = apply_trust(rewards, group, reasoning_on, self.ptr_cfg.degenerate_trust)
        if tau_mean is not None:
            self._log_metric("ptr/trust_weight", tau_mean)
        if training:
            accuracy = float(outcome.mean())
            if self.switch.update(accuracy, step=self.state.global_step):
                self._record_switch()
            average = self.switch.moving_average
            if average is not None:
                self._log_metric("ptr/accuracy_moving_average", average)
        self._log_metric("ptr/reasoning_on", 1.0 if reasoning_on else 0.0)
        return rewards

    def _record_switch(self) -> None:
        event = {"switched_at_step": self.switch.switched_at, "moving_average": self.switch.moving_average}
        if self.accelerator.is_main_process:
            out = Path(self.args.output_dir)
            out.mkdir(parents=True, exist_ok=True)
            (out / "ptr_switch.json").write_text(json.dumps(event), encoding="utf-8")

    def load_ptr_state(self, checkpoint: Optional[str]) -> None:
        if checkpoint and (Path(checkpoint) / PTR_STATE).is_file():
            self.switch.load_state_dict(json.loads((Path(checkpoint) / PTR_STATE).read_text(encoding="utf-8")))


class _SavePTRState(TrainerCallback):
    def __init__(self, trainer: GRPOPTRTrainer):
        self.trainer = trainer

    def on_save(self, args, state, control, **kwargs):
        folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        if folder.is_dir() and state.is_world_process_zero:
            (folder / PTR_STATE).write_text(json.dumps(self.trainer.switch.state_dict()), encoding="utf-8")
        return control


class AudioGRPOPTRTrainer(GRPOPTRTrainer):
    """GRPO-PTR for audio policies: the dataset keeps an undecoded ``audio`` column; every audio field the
    processor returns (``input_features``, its mask, Phi-4's ``audio_embed_sizes``...) goes with the rows."""

    def __init__(self, *args, adapter, **kwargs):
        self.adapter = adapter
        self._audio_cells = None
        self._audio = {}  # the audio fields of the rows being scored, one row each
        with _reference_model_as(type(unwrapped(kwargs["model"]))):
            super().__init__(*args, **kwargs)

    def _generate_and_score_completions(self, inputs):
        self._audio_cells = [x["audio"] for x in inputs]
        output = super()._generate_and_score_completions(inputs)
        output.update(self._audio)
        return output

    def _tokenize_prompts(self, prompts):
        encoded = self.adapter.encode_chats(prompts, self._audio_cells, add_generation_prompt=True,
                                            padding_side="right")
        prompt_ids = [ids[mask.bool()].tolist() for ids, mask in zip(encoded["input_ids"], encoded["attention_mask"])]
        device = self.accelerator.device
        self._audio = {k: v.to(device) for k, v in self.adapter.audio_fields(encoded).items()}
        for key, value in self._audio.items():
            if value.size(0) != len(prompts):
                raise RuntimeError(f"audio field {key} has {value.size(0)} rows for {len(prompts)} prompts")
        return prompt_ids, None, dict(self._audio)

    def _compute_loss(self, model, inputs):
        self._audio = {k: inputs[k] for k in self._audio}
        return super()._compute_loss(model, inputs)

    def _get_per_token_logps_and_entropies(
        self, model, input_ids, attention_mask, logits_to_keep, batch_size=None, compute_entropy=False,
        compute_aux_loss=False, **unused,
    ):
        for key, value in self._audio.items():
            if value.size(0) != input_ids.size(0):
                raise RuntimeError(f"audio field {key} for {value.size(0)} rows, token rows {input_ids.size(0)}")
        batch_size = batch_size or input_ids.size(0)
        logps, entropies = [], []
        for start in range(0, input_ids.size(0), batch_size):
            end = min(start + batch_size, input_ids.size(0))
            ids = input_ids[start:end]
            mask = attention_mask[start:end]
            labels = ids.masked_fill(mask == 0, -100)
            labels[:, :-logits_to_keep] = -100
            audio = {k: v[start:end] for k, v in self._audio.items()}
            with self.accelerator.autocast():
                outputs = model(input_ids=model_input_ids(self.adapter, ids, mask), attention_mask=mask, labels=labels,
                                fused_lm_head=True, **audio)
            logps.append(outputs.log_probs[:, -logits_to_keep:])
            if compute_entropy:
                entropies.append(outputs.entropy[:, -logits_to_keep:])
        return torch.cat(logps), (torch.cat(entropies) if compute_entropy else None), None


@contextmanager
def _reference_model_as(model_class):
    """TRL builds the KL reference model from the checkpoint's ``architectures[0]``: for a released Omni
    checkpoint the whole Omni model (thinker + talker), whose forward takes no ``input_ids``. While this is open,
    TRL builds it as the class the policy was loaded as (the Thinker)."""
    import trl.trainer.grpo_trainer as grpo_module

    original = grpo_module.create_model_from_path

    def create(model_id, architecture=None, **kwargs):
        return original(model_id, architecture or model_class, **kwargs)

    grpo_module.create_model_from_path = create
    try:
        yield
    finally:
        grpo_module.create_model_from_path = original


def _reward_funcs(cfg: TrainConfig, switch: ProgressiveSwitch, grader=None, data_dir: Path | None = None):
    from emotioncot.train.graders import make_grader

    graded = make_reasoning_reward(grader or make_grader(cfg.grader, data_dir), cfg.grader.weights)

    def reasoning_reward(completions, **columns):
        """R_t, or None (missing) for every completion while the progressive switch is off: no grader calls."""
        if not switch.enabled:
            return [None] * len(completions)
        return graded(completions, **columns)

    return [format_reward, accuracy_reward, reasoning_reward]


def run_grpo_ptr(
    data_dir: Path,
    model_path: str,
    output_dir: Path,
    cfg: Optional[TrainConfig] = None,
    kind: str = "auto",
    resume: str = "auto",
    split: str = "train",
    grader=None,
) -> dict:
    """Train with GRPO-PTR; return a summary. ``resume``: auto (last checkpoint in ``output_dir``), never, or a
    checkpoint folder. ``grader`` overrides the configured one (an object with ``grade(texts, rows)``)."""
    from emotioncot.train.data import load_split, prepare_audio, prepare_text_grpo
    from emotioncot.train.policies import checkpointing_args, load_policy, precision_args
    from emotioncot.train.reward_variance import RewardVarianceWatch
    from emotioncot.train.sft import last_checkpoint

    cfg = cfg or TrainConfig()
    g, p = cfg.grpo, cfg.ptr
    output_dir = Path(output_dir)
    policy = load_policy(model_path, cfg.policy, kind, use_cpu=cfg.use_cpu)
    audio = policy.kind == "audio"
    ds = load_split(data_dir, split, cfg.prompt_style)
    train_ds = prepare_audio(ds, with_sft=False) if audio else prepare_text_grpo(ds)
    switch = ProgressiveSwitch.from_config(p.switch)
    # A sampled audio token would not match the audio features; no other special token belongs in an answer.
    # vLLM's SamplingParams has no suppress_tokens: there the policy is left to what it learnt.
    generation_kwargs = None if g.use_vllm else {"suppress_tokens": policy.forbidden_token_ids()}
    if g.use_vllm:
        logger.warning("GRPO-PTR with vLLM: special tokens are not suppressed in sampling")
    args = TRLGRPOConfig(
        output_dir=str(output_dir),
        learning_rate=g.learning_rate,
        max_steps=g.max_steps,
        num_generations=g.num_generations,
        beta=g.beta,
        per_device_train_batch_size=g.per_device_train_batch_size,
        gradient_accumulation_steps=g.gradient_accumulation_steps,
        max_completion_length=g.max_completion_length,
        temperature=g.temperature,
        logging_steps=g.logging_steps,
        save_steps=g.save_steps,
        save_total_limit=g.save_total_limit,
        seed=g.seed,
        use_vllm=g.use_vllm,
        reward_weights=[p.format_coef, p.outcome_coef, p.reasoning_coef],
        use_cpu=cfg.use_cpu,
        **precision_args(cfg.use_cpu, cfg.mixed_precision),
        **checkpointing_args(cfg.policy),
        report_to=cfg.report_to,
        disable_tqdm=not cfg.progress,
        remove_unused_columns=False,
        generation_kwargs=generation_kwargs,
        **policy.rl_args(),
    )
    common = dict(
        model=policy.model,
        reward_funcs=_reward_funcs(cfg, switch, grader, data_dir),
        args=args,
        train_dataset=train_ds,
        processing_class=policy.tokenizer,
        ptr_cfg=p,
        switch=switch,
    )
    trainer = AudioGRPOPTRTrainer(adapter=policy.adapter, **common) if audio else GRPOPTRTrainer(**common)
    watch = RewardVarianceWatch()
    trainer.add_callback(watch)
    checkpoint = last_checkpoint(output_dir) if resume == "auto" else (None if resume == "never" else resume)
    if checkpoint:
        logger.warning("resuming GRPO-PTR from %s", checkpoint)
        trainer.load_ptr_state(checkpoint)
    result = trainer.train(resume_from_checkpoint=checkpoint)
    trainer.save_model(str(output_dir))
    policy.processing_class.save_pretrained(str(output_dir))
    summary = {
        "stage": "grpo-ptr",
        "policy": policy.kind,
        "global_step": trainer.state.global_step,
        "train_loss": result.training_loss,
        "train_runtime_s": result.metrics.get("train_runtime"),
        "reasoning_reward_on": switch.enabled,
        "switched_at_step": switch.switched_at,
        "resumed_from": checkpoint,
        "output": str(output_dir),
        **watch.summary(),
    }
    if not math.isfinite(summary["train_loss"] or 0.0):
        logger.warning("GRPO-PTR loss is not finite")
    (output_dir / "emotioncot_train.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return summary
