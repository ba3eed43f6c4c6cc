"""Tiny randomly initialised policies built locally (no download): for tests, smoke runs and the GPU check.

The tokenizer is a byte-level BPE trained with the ``tokenizers`` library on the export's own text, with a
ChatML chat template, the answer-format tags as ordinary added tokens (so decoding with
``skip_special_tokens=True`` keeps them, as TRL does) and Qwen2-Audio's audio tokens. The models are Qwen2
(text) and Qwen2-Audio (audio) configs a few layers wide. They produce noise; they exist to exercise the
training code, not to learn emotions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Optional

CHATML_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
CHAT_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
SPECIAL_TOKENS = CHAT_TOKENS + ["<|AUDIO|>", "<|audio_bos|>", "<|audio_eos|>"]
FORMAT_TOKENS = ["<think>", "</think>", "<answer>", "</answer>"]
# A Whisper-style feature extractor over this many seconds; the encoder is sized to match.
TINY_AUDIO_SECONDS = 2


def build_tokenizer(texts: Iterable[str], vocab_size: int = 600, named: Optional[dict[str, str]] = None):
    """A ``PreTrainedTokenizerFast`` trained on ``texts``. ``named``: special tokens by role (``{"audio_token":
    "<|AUDIO|>"}``) in place of Qwen2-Audio's, readable as ``tokenizer.audio_token`` / ``audio_token_id`` as the
    speech LLMs' processors read them."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=CHAT_TOKENS + list(named.values()) if named else SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(list(texts), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>", unk_token=None,
        extra_special_tokens=named or None,
    )
    fast.add_tokens(FORMAT_TOKENS)
    fast.chat_template = CHATML_TEMPLATE
    return fast


def _export_texts(data_dir: Path, limit: int = 200) -> list[str]:
    from emotioncot.train.data import cue_text, load_split

    ds = load_split(data_dir, "train").remove_columns("audio")
    texts = []
    for row in ds.select(range(min(limit, len(ds)))):
        texts.extend(m["content"] for m in row["messages"])
        texts.append(cue_text(row))
    return texts


def _text_config(vocab_size: int, tokenizer, hidden: int = 64, layers: int = 2):
    from transformers import Qwen2Config

    heads = max(4, hidden // 64)
    return Qwen2Config(
        vocab_size=vocab_size,
        hidden_size=hidden,
        intermediate_size=hidden * (2 if hidden <= 128 else 5),
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=max(2, heads // 7) if heads % max(2, heads // 7) == 0 else 2,
        max_position_embeddings=4096,
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )


def build_tiny_text_policy(data_dir: Path, out: Path, seed: int = 0, hidden: int = 64, layers: int = 2) -> Path:
    """A tiny random Qwen2 causal LM + tokenizer in ``out`` (a folder ``from_pretrained`` reads). ``hidden`` and
    ``layers`` scale it up (e.g. 896 / 24 is Qwen2.5-0.5B's shape) for throughput checks."""
    import torch
    from transformers import Qwen2ForCausalLM

    torch.manual_seed(seed)
    tokenizer = build_tokenizer(_export_texts(data_dir))
    model = Qwen2ForCausalLM(_text_config(len(tokenizer), tokenizer, hidden, layers))
    return save_tiny_policy(model, tokenizer, out, tokenizer)


def build_tiny_audio_policy(
    data_dir: Path, out: Path, seed: int = 0, hidden: int = 64, layers: int = 2, encoder_dim: int = 32,
    encoder_layers: int = 1,
) -> Path:
    """A tiny random Qwen2-Audio model + processor (Whisper-style features over 2 s) in ``out``."""
    import torch
    from transformers import (
        Qwen2AudioConfig,
        Qwen2AudioForConditionalGeneration,
        Qwen2AudioProcessor,
        WhisperFeatureExtractor,
    )

    torch.manual_seed(seed)
    tokenizer = build_tokenizer(_export_texts(data_dir))
    feature_extractor = WhisperFeatureExtractor(feature_size=80, sampling_rate=16000, chunk_length=TINY_AUDIO_SECONDS)
    frames = TINY_AUDIO_SECONDS * 16000 // feature_extractor.hop_length
    config = Qwen2AudioConfig(
        audio_config={
            "num_mel_bins": 80,
            "encoder_layers": encoder_layers,
            "encoder_attention_heads": max(2, encoder_dim // 64),
            "encoder_ffn_dim": encoder_dim * 2,
            "d_model": encoder_dim,
            "max_source_positions": frames // 2,
        },
        text_config=_text_config(len(tokenizer), tokenizer, hidden, layers).to_dict(),
        audio_token_index=tokenizer.convert_tokens_to_ids("<|AUDIO|>"),
    )
    model = Qwen2AudioForConditionalGeneration(config)
    processor = Qwen2AudioProcessor(feature_extractor=feature_extractor, tokenizer=tokenizer, chat_template=CHATML_TEMPLATE)
    return save_tiny_policy(model, tokenizer, out, processor, tokenizer)


def save_tiny_policy(model, tokenizer, out: Path, *parts) -> Path:
    """Save a tiny model (sampling, ending at the tokenizer's end of turn) and its ``parts`` (tokenizer,
    processor) in ``out``."""
    from transformers import GenerationConfig

    model.generation_config = GenerationConfig(
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, do_sample=True
    )
    out = Path(out)
    model.save_pretrained(out)
    for part in parts:
        part.save_pretrained(out)
    return out
