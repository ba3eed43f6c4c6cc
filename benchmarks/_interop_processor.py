"""A local Qwen2-Audio processor for the interop check (no download): the real Qwen2-Audio feature extractor
settings (Whisper, 128 mel bins, 16 kHz, 30 s windows), a byte-level BPE tokenizer trained on the export's own
text with Qwen's special tokens (``emotioncot.train.tiny.build_tokenizer``), and a Qwen2-Audio model config
(no weights) so that loaders that read ``config.json`` find the model type. Runs inside a framework's venv."""

from __future__ import annotations

import json
from pathlib import Path


def texts_of(export: Path) -> list[str]:
    texts = []
    for path in sorted(export.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines()[:200]:
            row = json.loads(line)
            texts.extend(m["content"] for m in row.get("messages", []))
    return texts or ["<think>a</think><answer>neutral</answer>"]


# Qwen2-Audio-7B-Instruct's chat template (content as a string, or a list of audio / text parts).
QWEN2_AUDIO_TEMPLATE = (
    "{% set audio_count = namespace(value=0) %}{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}{% for content in message['content'] %}"
    "{% if 'audio' in content or 'audio_url' in content or content['type'] == 'audio' %}"
    "{% set audio_count.value = audio_count.value + 1 %}Audio {{ audio_count.value }}: <|audio_bos|><|AUDIO|><|audio_eos|>\n"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def build_processor(out: Path, texts: list[str]) -> Path:
    from transformers import Qwen2AudioConfig, Qwen2AudioProcessor, WhisperFeatureExtractor

    from emotioncot.train.tiny import build_tokenizer

    out = Path(out)
    if (out / "preprocessor_config.json").exists():
        return out
    tokenizer = build_tokenizer(texts)
    tokenizer.chat_template = QWEN2_AUDIO_TEMPLATE
    extractor = WhisperFeatureExtractor(feature_size=128, sampling_rate=16000, hop_length=160, n_fft=400,
                                        chunk_length=30, return_attention_mask=True)
    processor = Qwen2AudioProcessor(feature_extractor=extractor, tokenizer=tokenizer, chat_template=QWEN2_AUDIO_TEMPLATE)
    processor.save_pretrained(out)
    tokenizer.save_pretrained(out)
    config = Qwen2AudioConfig(
        audio_config={"num_mel_bins": 128, "encoder_layers": 1, "encoder_attention_heads": 2, "encoder_ffn_dim": 64,
                      "d_model": 32},
        text_config={"vocab_size": len(tokenizer), "hidden_size": 64, "intermediate_size": 128,
                     "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 2},
        audio_token_index=tokenizer.convert_tokens_to_ids("<|AUDIO|>"),
    )
    config.save_pretrained(out)
    return out
