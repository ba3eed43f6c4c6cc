"""The two kinds of policy.

- text: any causal LM (``AutoModelForCausalLM``) reading the transcript and the measured cues in place of audio
  (``data.cue_text``). Cheap; runs anywhere.
- audio: an audio LLM of a type in ``architectures.AUDIO_ARCHITECTURES`` (Qwen2-Audio, Qwen2.5-Omni, Qwen3-Omni, Audio
  Flamingo 3, Phi-4-multimodal, Gemma 3n, Voxtral). TRL has no audio input of its own, so ``AudioAdapter`` does the
  audio side: it renders the chat with the model's audio markup in place of the ``<audio>`` placeholder, decodes and
  resamples the clip, and runs the processor, which expands the audio token to one token per encoder frame and returns
  the audio fields (``input_features`` and its mask, or Phi-4's ``audio_input_features``...). ``sft.AudioSFTCollator``
  and ``grpo.AudioGRPOPTRTrainer`` feed every one of those fields to TRL's trainers.
  Voxtral's mistral-common tokenizer reads no markup from text: ``voxtral.VoxtralAdapter`` encodes the chat itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from emotioncot.export.views import AUDIO_PLACEHOLDER
from emotioncot.train.architectures import AudioArchitecture, audio_architecture, detect_kind, read_config

# What the processor returns about the text; everything else it returns is an audio field.
TEXT_FIELDS = ("input_ids", "attention_mask", "token_type_ids", "mm_token_type_ids")
# Counts the processor reports for its own bookkeeping, which no model's forward takes.
NOT_MODEL_INPUTS = ("num_audio_tokens",)


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


def _named_token(processor, name: str) -> str:
    """A named special token of the processor or its tokenizer (``audio_bos_token``...), or '' where neither has it."""
    for owner in (processor, processor.tokenizer):
        value = getattr(owner, name, None)
        if isinstance(value, str):
            return value
    return ""


@dataclass
class AudioAdapter:
    """Audio in, model inputs out, for any processor that expands an ``audio_token`` per encoder frame."""

    processor: Any
    max_audio_s: float = 30.0
    # the id the model is given at padded positions (``model_input_ids``); None: the pad id, as the processor pads
    padding_fill_id: Optional[int] = None
    audio_markup: str = field(init=False)

    def __post_init__(self):
        # The markup the model was trained with around the audio: Qwen's <|audio_bos|><|AUDIO|><|audio_eos|>,
        # Qwen3-Omni's <|audio_start|><|audio_pad|><|audio_end|>; the others' processors add any frame themselves.
        self.audio_token = _named_token(self.processor, "audio_token")
        if not self.audio_token:
            raise ValueError(f"{type(self.processor).__name__}: the processor names no audio_token")
        bos = _named_token(self.processor, "audio_bos_token")
        eos = _named_token(self.processor, "audio_eos_token")
        self.audio_markup = f"{bos}{self.audio_token}{eos}"
        # Whisper-style models have a feature_extractor; Phi-4 and Granite Speech an audio_processor
        fe = getattr(self.processor, "feature_extractor", None) or getattr(self.processor, "audio_processor", None)
        if fe is None:
            raise ValueError(f"{type(self.processor).__name__}: the processor has no feature extractor for audio")
        self.sampling_rate = int(fe.sampling_rate)
        # A tokenizer saved after training keeps its backend's padding state (max_length / pad_to_multiple_of:
        # None) among its init kwargs, and the processor hands those keys to the feature extractor as well, where
        # None overrides its own default (Gemma 3n's truncation then has no max_length).
        for key in ("max_length", "pad_to_multiple_of"):
            if key in self.tokenizer.init_kwargs and self.tokenizer.init_kwargs[key] is None:
                del self.tokenizer.init_kwargs[key]
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

    def encode_chats(self, chats: list[list[dict]], cells, add_generation_prompt: bool,
                     padding_side: str = "right") -> dict:
        """``encode`` of the rendered chats: what the trainers and evaluate call, for every adapter."""
        texts = [self.render(messages, add_generation_prompt) for messages in chats]
        return self.encode(texts, cells, padding_side=padding_side)

    def audio_arrays(self, cells) -> list:
        from emotioncot.train.data import load_audio

        return [load_audio(c, self.sampling_rate, self.max_audio_s) for c in cells]

    def encode(self, texts: list[str], cells, padding_side: str = "right") -> dict:
        """Token ids (audio token expanded) + audio fields for a batch of rendered texts and audio cells.
        Text padding goes through ``text_kwargs``: the Omni and Audio Flamingo processors pass their own
        ``padding_side="left"`` to the tokenizer, which overrides the tokenizer's attribute, and a top-level
        ``padding=True`` would also reach the feature extractor (Whisper-style encoders take fixed-length input)."""
        encoded = self.processor(
            text=texts, audio=self.audio_arrays(cells), sampling_rate=self.sampling_rate, return_tensors="pt",
            text_kwargs={"padding": True, "padding_side": padding_side},  # the audio pads as its processor does
        )
        batch = {k: v for k, v in encoded.items() if k not in NOT_MODEL_INPUTS}
        if not self.audio_fields(batch):
            raise ValueError(f"{type(self.processor).__name__} returned no audio features (fields: {', '.join(batch)})")
        return batch

    @staticmethod
    def audio_fields(batch: dict) -> dict:
        """The audio fields of an encoded batch: all but the text's own (ids, masks, token types)."""
        return {k: v for k, v in batch.items() if k not in TEXT_FIELDS and k not in NOT_MODEL_INPUTS}


def model_input_ids(adapter, input_ids, attention_mask):
    """The token ids a training forward is given: ``input_ids`` with the padded positions (attention mask 0) set
    to the adapter's ``padding_fill_id`` where it has one. Padded positions are masked out as keys and carry no
    label, so the real positions' logits do not change; only the gradient at the padded ones does
    (``AudioArchitecture.fill_padding``)."""
    fill = adapter.padding_fill_id
    return input_ids if fill is None else input_ids.masked_fill(attention_mask == 0, fill)


def padding_fill_id(model, tokenizer) -> int:
    """EOS (else BOS): a real token, whose embedding row is not the input embedding's zero ``padding_idx`` row."""
    padding_idx = unwrapped(model).get_input_embeddings().padding_idx
    for token_id in (tokenizer.eos_token_id, tokenizer.bos_token_id):
        if token_id is not None and token_id != padding_idx:
            return int(token_id)
    raise ValueError(f"{type(model).__name__}: no EOS or BOS id other than the padding index {padding_idx} "
                     "to fill padded positions with")


def forbidden_token_ids(tokenizer, eos_token_ids) -> list[int]:
    """Every special token the policy must not sample: the audio tokens and their frame (a sampled one would not
    match the features), the chat markup, padding... all but the end-of-turn tokens, which end a completion.
    The answer-format tags are ordinary added tokens and stay allowed."""
    special = set(tokenizer.all_special_ids)
    added = tokenizer.added_tokens_decoder
    if isinstance(added, dict):  # mistral-common's tokenizer has none: its control tokens are all_special_ids
        special.update(i for i, t in added.items() if t.special)
    keep = {eos_token_ids} if isinstance(eos_token_ids, int) else set(eos_token_ids or ())
    if tokenizer.eos_token_id is not None:
        keep.add(tokenizer.eos_token_id)
    return sorted(special - keep)


@dataclass
class Policy:
    kind: str
    model: Any
    processing_class: Any  # tokenizer (text) or processor (audio)
    tokenizer: Any
    adapter: Any = None  # AudioAdapter, or VoxtralAdapter (emotioncot.train.voxtral)
    path: str = ""  # the folder it was loaded from (a GGUF's converted folder)
    architecture: Optional[AudioArchitecture] = None  # audio policies

    def forbidden_token_ids(self) -> list[int]:
        return forbidden_token_ids(self.tokenizer, getattr(self.model.generation_config, "eos_token_id", None))

    def rl_args(self) -> dict:
        """GRPO config overrides for this architecture. MoE: no load-balancing aux loss (the audio log-prob pass
        returns none, and the published GRPO-PTR objective has none)."""
        return {"router_aux_loss_coef": 0.0} if self.architecture and self.architecture.moe else {}

    def reset_router_logits(self) -> None:
        """MoE: stop returning router logits. TRL's SFTTrainer turns ``output_router_logits`` on to add the aux
        loss; saved so, every later forward (GRPO's generation and log-prob passes, evaluate) would compute them."""
        if self.architecture and self.architecture.moe:
            unwrapped(self.model).config.get_text_config().output_router_logits = False


def load_policy(model_path: str, cfg, kind: str = "auto", use_cpu: bool = False) -> Policy:
    """Model + tokenizer/processor from a local folder, a GGUF file or a folder holding one (converted once,
    ``emotioncot.train.gguf``), or a Hub id when the environment can reach it."""
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

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
    architecture = audio_architecture(model_path, (read_config(model_path) or {}).get("model_type"))
    model_cls = getattr(transformers, architecture.model_class)
    processor = _load_processor(model_path, architecture)
    tokenizer = processor.tokenizer
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    adapter = _make_adapter(processor, architecture, cfg.max_audio_s)  # before the weights: it may refuse
    model = model_cls.from_pretrained(model_path, dtype=dtype)
    if architecture.fill_padding:
        adapter.padding_fill_id = padding_fill_id(model, tokenizer)
    policy = Policy("audio", _maybe_lora(model, cfg), processor, tokenizer, adapter, model_path, architecture)
    policy.reset_router_logits()
    return policy


def _make_adapter(processor, architecture, max_audio_s: float):
    if architecture.adapter == "voxtral":
        from emotioncot.train.voxtral import VoxtralAdapter

        return VoxtralAdapter(processor, max_audio_s)
    return AudioAdapter(processor, max_audio_s)


def _load_processor(model_path: str, architecture):
    from transformers import AutoProcessor

    try:
        return AutoProcessor.from_pretrained(model_path)
    except ImportError as exc:  # e.g. the Omni processors' video part needs torchvision, Voxtral mistral-common
        raise ImportError(
            f"{model_path}: its processor needs a package that is not installed ({exc}); install the "
            f"'{architecture.extra}' extra (pip install 'emotioncot[{architecture.extra}]', see docs/training.md)"
        ) from exc


def unwrapped(model):
    """The transformers model under a PEFT wrapper."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model


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
