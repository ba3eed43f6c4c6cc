"""Tiny random speech LLMs of each architecture in ``architectures.AUDIO_ARCHITECTURES``, built offline.

Each has its real processor class, configured locally (tokenizer trained on the export's text, with the model's
own audio tokens as named special tokens; its own feature extractor) and a config of the real layout a few units
wide. ``build_tiny_speech_policy("qwen2_5_omni", ..., full_layout=True)`` saves the layout of the released
Qwen2.5-Omni checkpoints (thinker + talker + token2wav in one config) to check loading a Thinker from it.
They produce noise; they exist to exercise the training code on every architecture, not to learn emotions.
"""

from __future__ import annotations

from pathlib import Path

from emotioncot.train.architectures import AUDIO_ARCHITECTURES
from emotioncot.train.tiny import CHATML_TEMPLATE, TINY_AUDIO_SECONDS, _export_texts, build_tokenizer, save_tiny_policy

# Qwen-family markup as in the released tokenizers (special tokens, named on the tokenizer)
_QWEN_OMNI_TOKENS = {
    "audio_token": "<|AUDIO|>", "audio_bos_token": "<|audio_bos|>", "audio_eos_token": "<|audio_eos|>",
    "image_token": "<|IMAGE|>", "video_token": "<|VIDEO|>", "vision_bos_token": "<|vision_bos|>",
    "vision_eos_token": "<|vision_eos|>",
}
_QWEN3_OMNI_TOKENS = {
    "audio_token": "<|audio_pad|>", "audio_bos_token": "<|audio_start|>", "audio_eos_token": "<|audio_end|>",
    "image_token": "<|image_pad|>", "video_token": "<|video_pad|>", "vision_bos_token": "<|vision_start|>",
    "vision_eos_token": "<|vision_end|>",
}


def _qwen_text(tokenizer, hidden: int, layers: int, **extra) -> dict:
    heads = 4
    return {
        "vocab_size": len(tokenizer), "hidden_size": hidden, "intermediate_size": hidden * 2,
        "num_hidden_layers": layers, "num_attention_heads": heads, "num_key_value_heads": 2,
        "max_position_embeddings": 4096, "eos_token_id": tokenizer.eos_token_id, "pad_token_id": tokenizer.pad_token_id,
        # multimodal RoPE: temporal/height/width sections of head_dim / 2
        "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 3, 3]},
        **extra,
    }


def _whisper(num_mel_bins: int = 128):
    from transformers import WhisperFeatureExtractor

    return WhisperFeatureExtractor(feature_size=num_mel_bins, sampling_rate=16000, chunk_length=TINY_AUDIO_SECONDS)


def _frames() -> int:
    """Mel frames of one padded clip (10 ms hop)."""
    return TINY_AUDIO_SECONDS * 100


def _qwen_vision_processors():
    """The Omni processors' image and video parts (never used here; the processor needs them, and torchvision)."""
    from transformers import Qwen2VLImageProcessor, Qwen2VLVideoProcessor

    return Qwen2VLImageProcessor(), Qwen2VLVideoProcessor()


def _audio_encoder(encoder_dim: int, output_dim: int, **extra) -> dict:
    return {
        "num_mel_bins": 128, "encoder_layers": 1, "encoder_attention_heads": 2, "encoder_ffn_dim": encoder_dim * 2,
        "d_model": encoder_dim, "output_dim": output_dim, "max_source_positions": 1500, "n_window": 50, **extra,
    }


def _tiny_vision(output_dim: int, **extra) -> dict:
    return {"depth": 1, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2, "out_hidden_size": output_dim,
            "fullatt_block_indexes": [0], **extra}


def _qwen25_omni(tokenizer, hidden: int, layers: int, full_layout: bool):
    from transformers import (
        Qwen2_5OmniConfig,
        Qwen2_5OmniForConditionalGeneration,
        Qwen2_5OmniProcessor,
        Qwen2_5OmniThinkerConfig,
        Qwen2_5OmniThinkerForConditionalGeneration,
    )

    ids = {k: tokenizer.convert_tokens_to_ids(v) for k, v in _QWEN_OMNI_TOKENS.items()}
    thinker = Qwen2_5OmniThinkerConfig(
        audio_config=_audio_encoder(32, hidden), vision_config=_tiny_vision(hidden),
        text_config=_qwen_text(tokenizer, hidden, layers), audio_token_index=ids["audio_token"],
        image_token_index=ids["image_token"], video_token_index=ids["video_token"],
        audio_start_token_id=ids["audio_bos_token"], audio_end_token_id=ids["audio_eos_token"],
        vision_start_token_id=ids["vision_bos_token"],  # the released config.json has it; get_rope_index reads it
    )
    image, video = _qwen_vision_processors()
    processor = Qwen2_5OmniProcessor(image, video, _whisper(), tokenizer, chat_template=CHATML_TEMPLATE)
    if not full_layout:
        return Qwen2_5OmniThinkerForConditionalGeneration(thinker), processor
    talker = {
        "vocab_size": 64, "embedding_size": hidden, "hidden_size": hidden, "intermediate_size": hidden * 2,
        "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16,
        "audio_token_index": ids["audio_token"], "image_token_index": ids["image_token"],
        "video_token_index": ids["video_token"], "rope_parameters": {"rope_type": "default", "mrope_section": [2, 3, 3]},
    }
    token2wav = {"dit_config": {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "head_dim": 16,
                                "emb_dim": 16, "enc_dim": 16, "enc_emb_dim": 16, "mel_dim": 16, "num_embeds": 64},
                 "bigvgan_config": {"mel_dim": 16, "upsample_initial_channel": 16}}
    config = Qwen2_5OmniConfig(thinker_config=thinker.to_dict(), talker_config=talker, token2wav_config=token2wav,
                               enable_audio_output=False)
    return Qwen2_5OmniForConditionalGeneration(config), processor


def _qwen3_omni(tokenizer, hidden: int, layers: int, full_layout: bool):
    from transformers import (
        Qwen3OmniMoeProcessor,
        Qwen3OmniMoeThinkerConfig,
        Qwen3OmniMoeThinkerForConditionalGeneration,
    )

    ids = {k: tokenizer.convert_tokens_to_ids(v) for k, v in _QWEN3_OMNI_TOKENS.items()}
    # MoE text model: 4 experts, 2 per token, with the released config's router settings (aux coefficient 0.001)
    text = _qwen_text(tokenizer, hidden, layers, moe_intermediate_size=hidden, num_experts=4, num_experts_per_tok=2,
                      head_dim=16, rope_parameters={"rope_type": "default", "rope_theta": 10000.0,
                                                    "mrope_section": [2, 3, 3], "mrope_interleaved": True})
    thinker = Qwen3OmniMoeThinkerConfig(
        audio_config=_audio_encoder(32, hidden, downsample_hidden_size=16),
        vision_config={"depth": 1, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2,
                       "out_hidden_size": hidden, "deepstack_visual_indexes": [0], "num_position_embeddings": 64},
        text_config=text, audio_token_id=ids["audio_token"], image_token_id=ids["image_token"],
        video_token_id=ids["video_token"], audio_start_token_id=ids["audio_bos_token"],
        vision_start_token_id=ids["vision_bos_token"],
    )
    image, video = _qwen_vision_processors()
    processor = Qwen3OmniMoeProcessor(image, video, _whisper(), tokenizer, chat_template=CHATML_TEMPLATE)
    return Qwen3OmniMoeThinkerForConditionalGeneration(thinker), processor


def _audio_flamingo3(tokenizer, hidden: int, layers: int, full_layout: bool):
    from transformers import AudioFlamingo3Config, AudioFlamingo3ForConditionalGeneration, AudioFlamingo3Processor

    text = _qwen_text(tokenizer, hidden, layers)
    text.pop("rope_parameters")  # a plain Qwen2 text model
    config = AudioFlamingo3Config(
        audio_config={"num_mel_bins": 128, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 64,
                      "hidden_size": 32, "max_source_positions": _frames() // 2},  # Whisper: positions = padded frames / 2
        text_config={"model_type": "qwen2", **text}, audio_token_id=tokenizer.convert_tokens_to_ids("<sound>"),
    )
    processor = AudioFlamingo3Processor(_whisper(), tokenizer, chat_template=CHATML_TEMPLATE, audio_token="<sound>")
    return AudioFlamingo3ForConditionalGeneration(config), processor


def _phi4_multimodal(tokenizer, hidden: int, layers: int, full_layout: bool):
    from transformers import (
        Phi4MultimodalConfig,
        Phi4MultimodalFeatureExtractor,
        Phi4MultimodalForCausalLM,
        Phi4MultimodalImageProcessorFast,
        Phi4MultimodalProcessor,
    )

    audio_id, image_id = tokenizer.audio_token_id, tokenizer.image_token_id
    conformer = 32
    config = Phi4MultimodalConfig(
        vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=hidden * 2, num_hidden_layers=layers,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
        original_max_position_embeddings=4096, bos_token_id=None, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        vision_config={"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2,
                       "image_size": 28, "crop_size": 28, "image_token_id": image_id},
        audio_config={"hidden_size": conformer, "intermediate_size": conformer * 2, "num_blocks": 1,
                      "num_attention_heads": 2, "ext_pw_out_channel": conformer,
                      "depthwise_separable_out_channel": conformer, "nemo_conv_channels": conformer,
                      "audio_token_id": audio_id},
    )
    processor = Phi4MultimodalProcessor(Phi4MultimodalImageProcessorFast(), Phi4MultimodalFeatureExtractor(), tokenizer,
                                        chat_template=CHATML_TEMPLATE)
    return Phi4MultimodalForCausalLM(config), processor


# Gemma 3n: 128 vision then 128 audio token ids follow the text vocabulary, each range embedded by its own table;
# <audio_soft_token> is the second of the audio range, as in the released tokenizer. A clip is a fixed number of
# soft tokens (188 in the release: 30 s); the tiny one has 2 s.
_GEMMA3N_AUDIO_TOKENS = 64


def _gemma3n(tokenizer, hidden: int, layers: int, full_layout: bool):
    from transformers import (
        Gemma3nAudioFeatureExtractor,
        Gemma3nConfig,
        Gemma3nForConditionalGeneration,
        Gemma3nProcessor,
        SiglipImageProcessor,
    )

    text_vocab = len(tokenizer) - 256
    text = {
        # as released: the main table covers all three ranges, the per-layer one the text only
        "vocab_size": len(tokenizer), "vocab_size_per_layer_input": text_vocab, "hidden_size": hidden,
        "hidden_size_per_layer_input": 8, "intermediate_size": hidden * 2, "num_hidden_layers": layers,
        "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16, "num_kv_shared_layers": 0,
        "laurel_rank": 4, "altup_num_inputs": 2, "sliding_window": 64, "layer_types": ["sliding_attention"] * layers,
        "activation_sparsity_pattern": [0.0] * layers, "pad_token_id": tokenizer.pad_token_id,
        "eos_token_id": tokenizer.eos_token_id, "bos_token_id": None, "max_position_embeddings": 4096,
    }
    audio = {"vocab_offset": text_vocab + 128, "hidden_size": 32, "conf_num_attention_heads": 2,
             "conf_num_hidden_layers": 1, "sscp_conv_channel_size": [8, 8]}
    # the vision tower is timm's; a small timm network stands in for MobileNetV5 (300M parameters): no image is
    # ever given to it here
    vision = {"architecture": "mobilenetv3_small_050", "hidden_size": 32, "vocab_offset": text_vocab,
              "model_args": {}}
    ids = {name: tokenizer.convert_tokens_to_ids(tok) for name, tok in _GEMMA3N_TOKENS.items()}
    config = Gemma3nConfig(
        text_config=text, audio_config=audio, vision_config=vision, audio_soft_tokens_per_image=_GEMMA3N_AUDIO_TOKENS,
        boi_token_id=ids["boi_token"], eoi_token_id=ids["eoi_token"], image_token_id=ids["image_token"],
        boa_token_id=ids["boa_token"], eoa_token_id=ids["eoa_token"], audio_token_id=ids["audio_token"],
    )
    processor = Gemma3nProcessor(Gemma3nAudioFeatureExtractor(), SiglipImageProcessor(), tokenizer,
                                 chat_template=CHATML_TEMPLATE, audio_seq_length=_GEMMA3N_AUDIO_TOKENS)
    return Gemma3nForConditionalGeneration(config), processor


def _gemma3n_tokenizer(texts):
    """The text tokenizer, then 128 vision and 128 audio ids (Gemma 3n embeds each range with its own table)."""
    tokenizer = build_tokenizer(texts, named={"boa_token": "<start_of_audio>", "boi_token": "<start_of_image>"})
    vision = ["<image_soft_token>", "<end_of_image>"] + [f"<vision_{i}>" for i in range(126)]
    audio = ["<end_of_audio>", "<audio_soft_token>"] + [f"<audio_{i}>" for i in range(126)]
    tokenizer.add_tokens(vision + audio, special_tokens=True)
    # named as the released tokenizer names them (saved with it, read by Gemma3nProcessor)
    tokenizer._set_model_specific_special_tokens(
        {"image_token": vision[0], "eoi_token": vision[1], "eoa_token": audio[0], "audio_token": audio[1]})
    return tokenizer


def _voxtral(texts, hidden: int, layers: int, out: Path):
    """Voxtral: a Tekken tokenizer file (``tiny_tekken``), Whisper features over 30 s chunks as released (the
    processor pads every clip to 30 s: 3000 frames, 375 ``[AUDIO]`` tokens), a one-layer encoder and a Llama."""
    from transformers import VoxtralConfig, VoxtralForConditionalGeneration, VoxtralProcessor, WhisperFeatureExtractor
    from transformers.tokenization_mistral_common import MistralCommonBackend

    from emotioncot.train.tiny_tekken import AUDIO_TOKEN_ID, write_tekken

    tokenizer = MistralCommonBackend(write_tekken(texts, out))
    encoder = 32
    config = VoxtralConfig(
        audio_config={"hidden_size": encoder, "intermediate_size": encoder * 4, "num_hidden_layers": 1,
                      "num_attention_heads": 2, "num_mel_bins": 128, "max_source_positions": 1500},
        # the projector reads 4 encoder frames at a time: intermediate_size = 4 x hidden_size, as released
        text_config={"model_type": "llama", "vocab_size": len(tokenizer), "hidden_size": hidden,
                     "intermediate_size": hidden * 2, "num_hidden_layers": layers, "num_attention_heads": 4,
                     "num_key_value_heads": 2, "head_dim": hidden // 4, "max_position_embeddings": 4096,
                     "bos_token_id": tokenizer.bos_token_id, "eos_token_id": tokenizer.eos_token_id,
                     "pad_token_id": tokenizer.pad_token_id},
        audio_token_id=AUDIO_TOKEN_ID,
    )
    processor = VoxtralProcessor(WhisperFeatureExtractor(feature_size=128, sampling_rate=16000, chunk_length=30),
                                 tokenizer)
    return VoxtralForConditionalGeneration(config), processor, tokenizer


# Voxtral's builder takes the texts and the output folder (its tokenizer is a file mistral-common reads)
BUILDERS = {"gemma3n": _gemma3n, "phi4_multimodal": _phi4_multimodal, "qwen2_5_omni": _qwen25_omni,
            "qwen3_omni_moe": _qwen3_omni, "audioflamingo3": _audio_flamingo3, "voxtral": _voxtral}
# The audio tokens each architecture's tokenizer names
NAMED_TOKENS = {"qwen2_5_omni": _QWEN_OMNI_TOKENS, "qwen3_omni_moe": _QWEN3_OMNI_TOKENS,
                "audioflamingo3": {"audio_token": "<sound>"},
                # Phi-4's tokenizer names two reserved tokens as its image and audio placeholders
                "phi4_multimodal": {"image_token": "<|endoftext10|>", "audio_token": "<|endoftext11|>"}}
_GEMMA3N_TOKENS = {"boi_token": "<start_of_image>", "eoi_token": "<end_of_image>", "image_token": "<image_soft_token>",
                   "boa_token": "<start_of_audio>", "eoa_token": "<end_of_audio>", "audio_token": "<audio_soft_token>"}


def build_tiny_speech_policy(model_type: str, data_dir: Path, out: Path, seed: int = 0, hidden: int = 64,
                             layers: int = 2, full_layout: bool = False) -> Path:
    """A tiny random model of ``model_type`` + its processor in ``out``."""
    import torch

    if model_type not in BUILDERS:
        raise ValueError(f"no tiny builder for {model_type!r} (has {', '.join(sorted(BUILDERS))})")
    torch.manual_seed(seed)
    texts = _export_texts(data_dir)
    try:
        if model_type == "voxtral":  # a mistral-common tokenizer file, not a transformers tokenizer
            model, processor, tokenizer = _voxtral(texts, hidden, layers, Path(out))
        else:
            tokenizer = (_gemma3n_tokenizer(texts) if model_type == "gemma3n"
                         else build_tokenizer(texts, named=NAMED_TOKENS[model_type]))
            model, processor = BUILDERS[model_type](tokenizer, hidden, layers, full_layout)
    except ImportError as exc:  # torchvision or timm missing (the CPU-torch trap, docs/training.md), mistral-common
        extra = AUDIO_ARCHITECTURES[model_type].extra
        raise ImportError(f"{model_type}: {exc} Install the '{extra}' extra (docs/training.md).") from exc
    return save_tiny_policy(model, tokenizer, out, processor)
