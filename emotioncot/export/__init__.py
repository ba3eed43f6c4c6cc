"""Export: DatasetDict (with SFT and GRPO views), Parquet shards, EmotionCoT JSONL and a dataset card."""

from __future__ import annotations

from emotioncot.export.views import ANSWER_OPTIONS, QUESTION, SYSTEM_PROMPT, grpo_prompt, sft_messages
from emotioncot.export.writer import export_records, load_dataset_dir

__all__ = [
    "ANSWER_OPTIONS",
    "QUESTION",
    "SYSTEM_PROMPT",
    "export_records",
    "grpo_prompt",
    "load_dataset_dir",
    "sft_messages",
]
