"""``emotioncot train sft``: supervised fine-tuning on an export's SFT view, with TRL's SFTTrainer.

Text policy: prompt/completion pairs (loss on the assistant turn only). Audio policy: the raw chat and the
undecoded audio go to ``AudioSFTCollator``, which renders, encodes audio and masks the prompt in the labels.
Checkpoints go to ``OUT/checkpoint-N``; a rerun on the same OUT resumes from the last one; the final model
(and tokenizer/processor) is saved in OUT itself.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Optional

from emotioncot.train.config import TrainConfig
from emotioncot.train.policies import model_input_ids

logger = logging.getLogger("emotioncot.train.sft")


class AudioSFTCollator:
    """Batches of ``{"messages", "audio"}`` -> input_ids, attention_mask, labels (prompt and padding = -100) and
    every audio field the processor returns. ``padding_side`` is asked of the processor; the labels are right
    whichever side it pads (the Omni processors default to the left)."""

    def __init__(self, adapter, max_length: Optional[int] = None, padding_side: str = "right"):
        self.adapter = adapter
        self.max_length = max_length
        self.padding_side = padding_side

    def __call__(self, examples: list[dict]) -> dict:
        chats = [ex["messages"] for ex in examples]
        cells = [ex["audio"] for ex in examples]
        side = self.padding_side
        batch = self.adapter.encode_chats(chats, cells, add_generation_prompt=False, padding_side=side)
        prompts = self.adapter.encode_chats([c[:-1] for c in chats], cells, add_generation_prompt=True,
                                            padding_side=side)
        prompt_lengths = prompts["attention_mask"].sum(1)
        _check_prompt_prefix(batch, prompts, prompt_lengths)
        batch["labels"] = answer_labels(batch["input_ids"], batch["attention_mask"], prompt_lengths)
        batch["input_ids"] = model_input_ids(self.adapter, batch["input_ids"], batch["attention_mask"])
        if self.max_length:
            for key in ("input_ids", "attention_mask", "labels"):
                batch[key] = batch[key][:, : self.max_length]
        return dict(batch)


def _check_prompt_prefix(full: dict, prompt: dict, prompt_lengths) -> None:
    """The prompt's tokens must open the full chat's, or the label mask would cut the answer elsewhere."""
    for i, n in enumerate(prompt_lengths.tolist()):
        full_ids = full["input_ids"][i][full["attention_mask"][i] == 1][:n]
        prompt_ids = prompt["input_ids"][i][prompt["attention_mask"][i] == 1]
        if len(full_ids) != n or not bool((full_ids == prompt_ids).all()):
            raise ValueError("the chat template does not render the prompt as a prefix of the full chat")


def answer_labels(input_ids, attention_mask, prompt_lengths):
    """Labels that train on the answer only: -100 on the padding, wherever it is, and on the first
    ``prompt_lengths[i]`` real tokens of each row (the rendered prompt)."""
    labels = input_ids.masked_fill(attention_mask == 0, -100)
    for i, n in enumerate(prompt_lengths.tolist()):
        start = int(attention_mask[i].nonzero()[0])  # the first real token: 0 when padded on the right
        labels[i, start : start + n] = -100
    return labels


def last_checkpoint(output_dir: Path) -> Optional[str]:
    from transformers.trainer_utils import get_last_checkpoint

    if not Path(output_dir).is_dir():
        return None
    return get_last_checkpoint(str(output_dir))


def make_sft_trainer(
    data_dir: Path,
    model_path: str,
    output_dir: Path,
    cfg: Optional[TrainConfig] = None,
    kind: str = "auto",
    split: str = "train",
    limit: Optional[int] = None,
    callbacks: Optional[list] = None,
):
    """TRL's SFTTrainer set up as ``emotioncot train sft`` runs it, and the policy it trains. ``limit`` keeps
    the first N rows of the split (smoke runs, benchmarks)."""
    from trl import SFTConfig as TRLSFTConfig
    from trl import SFTTrainer

    from emotioncot.train.data import load_split, prepare_audio, prepare_text_sft
    from emotioncot.train.policies import checkpointing_args, load_policy, precision_args

    cfg = cfg or TrainConfig()
    s = cfg.sft
    policy = load_policy(model_path, cfg.policy, kind, use_cpu=cfg.use_cpu)
    ds = load_split(data_dir, split, cfg.prompt_style)
    if limit:
        ds = ds.select(range(min(limit, len(ds))))
    audio = policy.kind == "audio"
    args = TRLSFTConfig(
        output_dir=str(output_dir),
        learning_rate=s.learning_rate,
        num_train_epochs=s.num_train_epochs,
        max_steps=s.max_steps,
        per_device_train_batch_size=s.per_device_train_batch_size,
        gradient_accumulation_steps=s.gradient_accumulation_steps,
        warmup_steps=s.warmup_ratio,  # a float < 1 is a ratio of the total steps in transformers 5
        lr_scheduler_type=s.lr_scheduler_type,
        logging_steps=s.logging_steps,
        save_steps=s.save_steps,
        save_total_limit=s.save_total_limit,
        seed=s.seed,
        max_length=s.max_length,
        use_cpu=cfg.use_cpu,
        **precision_args(cfg.use_cpu, cfg.mixed_precision),
        **checkpointing_args(cfg.policy),
        report_to=cfg.report_to,
        remove_unused_columns=not audio,
        dataset_kwargs={"skip_prepare_dataset": True} if audio else None,
        disable_tqdm=not cfg.progress,
    )
    if audio:
        train_ds = prepare_audio(ds, with_sft=True)
        collator = AudioSFTCollator(policy.adapter, s.max_length)
    else:
        train_ds = prepare_text_sft(ds)
        collator = None
    trainer = SFTTrainer(
        model=policy.model,
        args=args,
        train_dataset=train_ds,
        processing_class=policy.processing_class if not audio else policy.tokenizer,
        data_collator=collator,
        callbacks=callbacks,
    )
    return trainer, policy


def run_sft(
    data_dir: Path,
    model_path: str,
    output_dir: Path,
    cfg: Optional[TrainConfig] = None,
    kind: str = "auto",
    resume: str = "auto",
    split: str = "train",
    limit: Optional[int] = None,
    callbacks: Optional[list] = None,
) -> dict:
    """Train; return a summary (steps, loss, where the model is). ``resume``: auto (last checkpoint in
    ``output_dir`` if any), never, or a checkpoint folder."""
    output_dir = Path(output_dir)
    trainer, policy = make_sft_trainer(data_dir, model_path, output_dir, cfg, kind, split, limit, callbacks)
    checkpoint = last_checkpoint(output_dir) if resume == "auto" else (None if resume == "never" else resume)
    if checkpoint:
        logger.warning("resuming SFT from %s", checkpoint)
    result = trainer.train(resume_from_checkpoint=checkpoint)
    policy.reset_router_logits()
    trainer.save_model(str(output_dir))
    policy.processing_class.save_pretrained(str(output_dir))
    summary = {
        "stage": "sft",
        "policy": policy.kind,
        "model": policy.path,
        "global_step": trainer.state.global_step,
        "train_loss": result.training_loss,
        "train_runtime_s": result.metrics.get("train_runtime"),
        "resumed_from": checkpoint,
        "output": str(output_dir),
    }
    (output_dir / "emotioncot_train.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return summary
