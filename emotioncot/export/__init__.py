"""Export: Parquet shards, a DatasetDict (with SFT and GRPO views), EmotionCoT JSONL, a dataset card,
and pushing them to the Hugging Face Hub (``emotioncot.export.hub``)."""

from __future__ import annotations

from emotioncot.export.views import (
    ANSWER_OPTIONS,
    ANSWER_PATTERN,
    AUDIO_PLACEHOLDER,
    QUESTION,
    SYSTEM_PROMPT,
    grpo_prompt,
    grpo_solution,
    sft_messages,
)
from emotioncot.export.writer import ExportError, dataset_records, export_records, load_dataset_dir

__all__ = [
    "ANSWER_OPTIONS",
    "ANSWER_PATTERN",
    "AUDIO_PLACEHOLDER",
    "QUESTION",
    "SYSTEM_PROMPT",
    "ExportError",
    "dataset_records",
    "export_records",
    "grpo_prompt",
    "grpo_solution",
    "load_dataset_dir",
    "sft_messages",
]
