"""Voxtral's audio side: chats in, model inputs out, through mistral-common.

Voxtral's tokenizer is mistral-common's Tekken (``MistralCommonBackend``): it has no text chat template, and its
control tokens (``[INST]``, ``[AUDIO]``...) are never parsed out of text, so the generic adapter's "render the
chat as text, then tokenise it" cannot work. ``VoxtralAdapter`` hands mistral-common the chat itself, with the clip
as an audio part where the export's ``<audio>`` placeholder stands; mistral-common writes ``[BEGIN_AUDIO]`` and one
``[AUDIO]`` per 80 ms of (30 s padded) audio, and the processor's Whisper feature extractor makes the features.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from typing import Any, Optional

from emotioncot.export.views import AUDIO_PLACEHOLDER


@dataclass
class VoxtralAdapter:
    """The ``AudioAdapter`` interface (``encode_chats``, ``audio_fields``, ``audio_token``...) for Voxtral."""

    processor: Any
    max_audio_s: float = 30.0
    padding_fill_id: Optional[int] = None  # as AudioAdapter's; Voxtral pads with its pad id

    def __post_init__(self):
        # without mistral-common, transformers converts tekken.json to a plain tokenizer that has no chat format
        # and no audio: training would fail later, far from the cause
        if type(self.tokenizer).__name__ != "MistralCommonBackend":
            raise ImportError(
                f"Voxtral: its tokenizer was loaded as {type(self.tokenizer).__name__}, not mistral-common's "
                "MistralCommonBackend; install the 'voxtral' extra (pip install 'emotioncot[voxtral]', "
                "see docs/training.md)"
            )
        self.audio_token = self.processor.audio_token  # [AUDIO]
        fe = self.processor.feature_extractor
        self.sampling_rate = int(fe.sampling_rate)
        # one clip = one 30 s encoder chunk = one row of input_features, as GRPO keeps one audio row per prompt
        self.max_audio_s = min(self.max_audio_s, float(fe.chunk_length))
        # the processor's own audio settings: clips padded to a multiple of 30 s, cut into 3000-frame chunks
        self._audio_kwargs = dict(type(self.processor).audio_kwargs)
        self._chunk_frames = int(self._audio_kwargs.pop("max_source_positions"))
        self._audio_kwargs.pop("return_tensors", None)

    @property
    def tokenizer(self):
        return self.processor.tokenizer

    def conversation(self, messages: list[dict], wav_base64: str) -> list[dict]:
        """The chat as MistralCommonBackend takes it: the user turn's text split around an audio part (a base64 WAV)."""
        out = []
        for m in messages:
            content = m["content"]
            if m["role"] == "user" and isinstance(content, str):
                before, after = content.split(AUDIO_PLACEHOLDER, 1) if AUDIO_PLACEHOLDER in content else ("", content)
                parts = [{"type": "text", "text": before}] if before.strip() else []
                parts.append({"type": "audio", "base64": wav_base64})
                if after.strip():
                    parts.append({"type": "text", "text": after.lstrip("\n")})  # the placeholder's own line
                content = parts
            out.append({"role": m["role"], "content": content})
        return out

    def wav_base64(self, cell) -> str:
        import soundfile as sf

        from emotioncot.train.data import load_audio

        buffer = io.BytesIO()
        sf.write(buffer, load_audio(cell, self.sampling_rate, self.max_audio_s), self.sampling_rate, format="WAV")
        return base64.b64encode(buffer.getvalue()).decode("ascii")

    def token_ids(self, messages: list[dict], cell) -> tuple[list[int], list]:
        """Token ids and the audio arrays (resampled by mistral-common) of one chat. A chat that ends with the
        answer is encoded as mistral-common's fine-tuning mode encodes it: the tokenizer (in its serving mode)
        is asked to continue the answer, then the turn is closed with ``</s>`` as mistral-common closes it."""
        answered = messages[-1]["role"] == "assistant"
        encoded = self.tokenizer.apply_chat_template(
            self.conversation(messages, self.wav_base64(cell)), tokenize=True, return_dict=True,
            continue_final_message=answered,
        )
        ids = list(encoded["input_ids"])
        if answered:
            ids.append(self.tokenizer.eos_token_id)
        return ids, list(encoded.get("audio") or [])

    def encode_chats(self, chats: list[list[dict]], cells, add_generation_prompt: bool,
                     padding_side: str = "right") -> dict:
        """Token ids (``[AUDIO]`` expanded), attention mask and ``input_features`` for a batch of chats. A chat
        ending with a user turn already ends with the generation prompt (``[/INST]``)."""
        import torch

        rows, audio = [], []
        for messages, cell in zip(chats, cells):
            ids, arrays = self.token_ids(messages, cell)
            if not arrays:
                raise ValueError("Voxtral: mistral-common returned no audio for a chat with a clip")
            rows.append(ids)
            audio.extend(arrays)
        batch = dict(self.tokenizer.pad({"input_ids": rows}, padding=True, padding_side=padding_side,
                                        return_tensors="pt"))
        batch["input_features"] = torch.cat([self._features(a) for a in audio])
        return batch

    def _features(self, array):
        """Log-mel features of one clip, as ``VoxtralProcessor`` makes them: padded to a multiple of 30 s, cut
        into chunks of ``max_source_positions`` frames, one row per chunk."""
        fe = self.processor.feature_extractor
        features = fe(array, return_tensors="pt", **self._audio_kwargs)["input_features"]
        return features.reshape(fe.feature_size, -1, self._chunk_frames).transpose(0, 1)

    @staticmethod
    def audio_fields(batch: dict) -> dict:
        return {"input_features": batch["input_features"]}
