"""The audio LLM architectures the audio policy trains, keyed by the ``model_type`` of a checkpoint's config.json.

One entry per ``model_type`` a user's checkpoint can carry: the transformers class that trains (for the Omni models
the Thinker, the part that reads audio and writes text; the Talker that speaks is not loaded) and the extra that a
GPU user installs for its processor. ``docs/training.md`` has the table of checkpoints and what was run on each.

A config that declares audio (an ``audio_config``, an audio token, ...) but whose type is not listed here is an
error, never a silent text policy: the text policy would train without ever hearing the clip.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional


@dataclass(frozen=True)
class AudioArchitecture:
    model_class: str  # the class in ``transformers`` that is trained
    extra: str  # ``pip install "emotioncot[EXTRA]"``: what its processor needs beyond the train extra
    moe: bool = False  # a Mixture-of-Experts text model: router logits and the aux loss are managed
    # how chats become model inputs: "markup" (the chat rendered as text with the audio token, then the
    # processor) or "voxtral" (mistral-common encodes the chat with its audio parts; emotioncot.train.voxtral)
    adapter: str = "markup"
    # the padded positions of a training batch get a real token id (EOS), not the pad id. Gemma 3n: the pad id's
    # embedding is the zero padding_idx row; a padded position more than a sliding window past the row's last
    # token attends to padding only and stays exactly zero through every layer, and the model's last step takes
    # sqrt(mean(x**2)) with no epsilon, whose derivative at zero is infinite: 0 * inf turns every gradient NaN
    fill_padding: bool = False


_QWEN25_OMNI = AudioArchitecture("Qwen2_5OmniThinkerForConditionalGeneration", "omni")
_QWEN3_OMNI = AudioArchitecture("Qwen3OmniMoeThinkerForConditionalGeneration", "omni", moe=True)

AUDIO_ARCHITECTURES: dict[str, AudioArchitecture] = {
    "qwen2_audio": AudioArchitecture("Qwen2AudioForConditionalGeneration", "train"),
    # the released checkpoints are the full Omni layout (thinker + talker + token2wav); a saved Thinker has its own
    "qwen2_5_omni": _QWEN25_OMNI,
    "qwen2_5_omni_thinker": _QWEN25_OMNI,
    "qwen3_omni_moe": _QWEN3_OMNI,
    "qwen3_omni_moe_thinker": _QWEN3_OMNI,
    "audioflamingo3": AudioArchitecture("AudioFlamingo3ForConditionalGeneration", "train"),
    "phi4_multimodal": AudioArchitecture("Phi4MultimodalForCausalLM", "omni"),
    # transformers 5.23.0 models/gemma3n/modeling_gemma3n.py:1729 (Gemma3nTextModel.forward, target_magnitude)
    "gemma3n": AudioArchitecture("Gemma3nForConditionalGeneration", "omni", fill_padding=True),
    "voxtral": AudioArchitecture("VoxtralForConditionalGeneration", "voxtral", adapter="voxtral"),
    # Not yet: Gemma 4. It declares audio, so it is refused under --policy auto rather than trained deaf.
}


def read_config(model_path: str) -> Optional[dict]:
    """The model's config.json as a dict, or None where the folder has none (a Hub id, a GGUF file)."""
    config = Path(model_path) / "config.json"
    if not config.is_file():
        return None
    try:
        return json.loads(config.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{config}: unreadable model config ({exc})") from exc


def declares_audio(config: dict) -> bool:
    """Whether a config (or its Thinker's) has an audio part: an audio encoder config or an audio token."""
    for part in (config, config.get("thinker_config") or {}):
        if any("audio" in key for key in part):
            return True
    return False


def supported_types() -> str:
    return ", ".join(sorted(AUDIO_ARCHITECTURES))


def audio_architecture(model_path: str, mtype: Optional[str]) -> AudioArchitecture:
    """The entry for ``mtype``, or an error naming the model and the supported types."""
    if mtype in AUDIO_ARCHITECTURES:
        return AUDIO_ARCHITECTURES[mtype]
    raise ValueError(
        f"{model_path}: model type {mtype or '(no config.json)'!r} is not an audio LLM the audio policy supports "
        f"(supported: {supported_types()}); use --policy text to train it on the transcript and measured cues"
    )


def detect_kind(model_path: str, requested: str = "auto") -> str:
    """``text`` or ``audio``: as requested, or (``auto``) from the model's config.json. A model that declares
    audio but is not supported is an error under ``auto`` and ``audio``; ``text`` is always the user's choice."""
    if requested == "text":
        return "text"
    config = read_config(model_path)
    mtype = (config or {}).get("model_type")
    if requested == "audio" or mtype in AUDIO_ARCHITECTURES:
        audio_architecture(model_path, mtype)
        return "audio"
    if config and declares_audio(config):
        raise ValueError(
            f"{model_path}: model type {mtype!r} takes audio, but the audio policy does not support it "
            f"(supported: {supported_types()}); training it as a text policy would never use the clip, so "
            "--policy text must be asked for explicitly"
        )
    return "text"
