"""LLaMA-Factory: ShareGPT-style ``messages`` with an ``audios`` list, and the ``dataset_info.json`` that
declares them (LLaMA-Factory ``data/README.md``, "sharegpt" format, OpenAI-style role/content tags).

``DIR/<split>.jsonl`` holds one conversation per row: system, user (``<audio>`` + question), assistant
(``<think>..</think><answer>..</answer>``); ``audios`` lists the clip's path relative to ``DIR``, which
LLaMA-Factory resolves against ``media_dir`` (by default the ``dataset_dir``, i.e. ``DIR``). Each split is its
own dataset in ``dataset_info.json`` (``emotioncot_train``, ``emotioncot_validation``, ``emotioncot_test``), so
pointing training at the folder never mixes splits.
"""

from __future__ import annotations

from pathlib import Path

from emotioncot.export.frameworks.common import sft_row, write_jsonl_rows
from emotioncot.tables import write_json_atomic

DATASET_INFO = "dataset_info.json"


def dataset_name(split: str) -> str:
    return f"emotioncot_{split}"


def dataset_entry(file_name: str) -> dict:
    return {
        "file_name": file_name,
        "formatting": "sharegpt",
        "columns": {"messages": "messages", "audios": "audios"},
        "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant",
                 "system_tag": "system"},
    }


def write(out: Path, rows, style: str) -> list[str]:
    files, info = [], {}
    for split, pairs in rows.items():
        name = f"{split}.jsonl"
        write_jsonl_rows(out / name, (
            sft_row(rec, clip, style) for rec, clip in pairs
        ))
        info[dataset_name(split)] = dataset_entry(name)
        files.append(name)
    write_json_atomic(out / DATASET_INFO, info)
    return [*files, DATASET_INFO]
