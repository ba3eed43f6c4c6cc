"""The two kinds of policy.

- text: any causal LM (``AutoModelForCausalLM``) reading the transcript and the measured cues in place of audio
  (``data.cue_text``). Cheap; runs anywhere.
- audio: an audio LLM of the Qwen2-Audio / Qwen2.5-Omni family. TRL has no audio input of its own, so
  ``AudioAdapter`` does the audio side: it renders the chat with the model's audio markup in place of the
  ``<audio>`` placeholder, decodes and resamples the clip, and runs the processor, which expands the audio token
  to one token per encoder frame and returns ``input_features`` / ``feature_attention_mask``.
  ``sft.AudioSFTCollator`` and ``grpo.AudioGRPOPTRTrainer`` feed those features to TRL's trainers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from emotioncot.export.views import AUDIO_PLACEHOLDER

# model_type in config.json -> (model class name in transformers)
AUDIO_MODEL_CLASSES = {
    "qwen2_audio": "Qwen2AudioForConditionalGeneration",
    "qwen2_5_omni": "Qwen2_5OmniThinkerForConditionalGeneration",
    "qwen2_5_omni_thinker": "Qwen2_5OmniThinkerForConditionalGeneration",
}


def model_type(model_path: str) -> Optional[str]:
    config = Path(model_path) / "config.json"
    if not config.is_file():
        return None
    try:
        return json.loads(config.read_text(encoding="utf-8")).get("model_type")
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{config}: unreadable model config ({exc})") from exc


def detect_kind(model_path: str, requested: str = "auto") -> str:
    """``text`` or ``audio``: as requested, or (``auto``) from the model's config.json."""
    if requested in ("text", "audio"):
        return requested
    return "audio" if model_type(model_path) in AUDIO_MODEL_CLASSES else "text"


def resolve_dtype(name: str, use_cpu: bool = False):
    """The torch dtype to load a policy in. ``auto`` is float32 on the CPU and the checkpoint's own dtype on an
    accelerator: most CPUs (AVX2 without AMX or AVX512-BF16) have no bfloat16 matrix units, and PyTorch's
    bfloat16 fallback made a forward and backward of SmolLM2-135M on 4 x 320 tokens 17x slower than float32
    here (307 s against 18 s, a one-off probe on 2026-12-01; bf16 autocast, measured by
    ``benchmarks/bench_sft_step.py``, cost 13x)."""
    import torch

    if name == "auto":
        on_cpu = use_cpu or not (torch.cuda.is_available() or _mps_available(torch))
        return torch.float32 if on_cpu else "auto"
    return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[name]


def precision_args(use_cpu: bool = False, mixed_precision: str = "auto") -> dict:
    """Mixed-precision arguments for TRL's configs. TRL turns bf16 autocast on by default; on a CPU that sends
    every matrix product through bfloat16 kernels this machine lacks (13x, see above), so ``auto`` turns it on
    only where a GPU supports it."""
    import torch

    if mixed_precision != "auto":
        return {"bf16": mixed_precision == "bf16", "fp16": mixed_precision == "fp16"}
    on_gpu = not use_cpu and torch.cuda.is_available()
    bf16 = bool(on_gpu and torch.cuda.is_bf16_supported())
    return {"bf16": bf16, "fp16": False}


def checkpointing_args(policy) -> dict:  # policy: emotioncot.train.config.PolicyConfig
    """Activation checkpointing as ``policy.gradient_checkpointing`` says, under the name transformers 5 reads:
    TRL's configs default the deprecated ``gradient_checkpointing`` to True, which printed a FutureWarning on every
    train command and turned checkpointing on (recomputing every activation) whatever the policy config said."""
    return {"activation_checkpointing": bool(policy.gradient_checkpointing)}


def _mps_available(torch) -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps and mps.is_available())


@dataclass
class AudioAdapter:
    """Audio in, model inputs out, for Qwen2-Audio-style processors."""

    processor: Any
    max_audio_s: float = 30.0
    audio_markup: str = field(init=False)

    def __post_init__(self):
        bos = getattr(self.processor, "audio_bos_token", "<|audio_bos|>")
        token = getattr(self.processor, "audio_token", "<|AUDIO|>")
        eos = getattr(self.processor, "audio_eos_token", "<|audio_eos|>")
        self.audio_markup = f"{bos}{token}{eos}"
        self.audio_markup_token = token
        fe = self.processor.feature_extractor
        self.sampling_rate = int(fe.sampling_rate)
        chunk = getattr(fe, "chunk_length", None)
        self.max_audio_s = min(self.max_audio_s, float(chunk)) if chunk else self.max_audio_s

    @property
    def tokenizer(self):
        return self.processor.tokenizer

    def with_markup(self, messages: list[dict]) -> list[dict]:
        out = []
        for m in messages:
            content = m["content"]
            if m["role"] == "user" and isinstance(content, str):
                if AUDIO_PLACEHOLDER in content:
                    content = content.replace(AUDIO_PLACEHOLDER, self.audio_markup, 1)
                else:
                    content = self.audio_markup + "\n" + content
            out.append({"role": m["role"], "content": content})
        return out

    def render(self, messages: list[dict], add_generation_prompt: bool) -> str:
        return self.tokenizer.apply_chat_template(
            self.with_markup(messages), tokenize=False, add_generation_prompt=add_generation_prompt
        )

    def audio_arrays(self, cells) -> list:
        from emotioncot.train.data import load_audio

        return [load_audio(c, self.sampling_rate, self.max_audio_s) for c in cells]

    def encode(self, texts: list[str], cells, padding_side: str = "right") -> dict:
        """Token ids (audio token expanded) + audio features for a batch of rendered texts and audio cells."""
        self.tokenizer.padding_side = padding_side
        return self.processor(
            text=texts, audio=self.audio_arrays(cells), sampling_rate=self.sampling_rate, return_tensors="pt",
            padding=True,
        )


@dataclass
class Policy:
    kind: str
    model: Any
    processing_class: Any  # tokenizer (text) or processor (audio)
    tokenizer: Any
    adapter: Optional[AudioAdapter] = None
    path: str = ""  # the folder it was loaded from (a GGUF's converted folder)


def load_policy(model_path: str, cfg, kind: str = "auto", use_cpu: bool = False) -> Policy:
    """Model + tokenizer/processor from a local folder, a GGUF file or a folder holding one (converted once,
    ``emotioncot.train.gguf``), or a Hub id when the environment can reach it."""
    import transformers
    from transformers import AutoModelForCausalLM, AutoProcessor, AutoTokenizer

    from emotioncot.train.gguf import resolve_model_path

    model_path = resolve_model_path(str(model_path))
    kind = detect_kind(model_path, kind if kind != "auto" else cfg.kind)
    dtype = resolve_dtype(cfg.dtype, use_cpu)
    if kind == "text":
        tokenizer = AutoTokenizer.from_pretrained(model_path)
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        model = AutoModelForCausalLM.from_pretrained(model_path, dtype=dtype)
        return Policy("text", _maybe_lora(model, cfg), tokenizer, tokenizer, path=model_path)
    mtype = model_type(model_path)
    class_name = AUDIO_MODEL_CLASSES.get(mtype or "", "Qwen2AudioForConditionalGeneration")
    model_cls = getattr(transformers, class_name)
    processor = AutoProcessor.from_pretrained(model_path)
    model = model_cls.from_pretrained(model_path, dtype=dtype)
    tokenizer = processor.tokenizer
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    adapter = AudioAdapter(processor, cfg.max_audio_s)
    return Policy("audio", _maybe_lora(model, cfg), processor, tokenizer, adapter, path=model_path)


def _maybe_lora(model, cfg):
    if cfg.gradient_checkpointing:
        model.gradient_checkpointing_enable()
    if cfg.lora_rank <= 0:
        return model
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(
        r=cfg.lora_rank, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout, target_modules="all-linear",
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, lora)
