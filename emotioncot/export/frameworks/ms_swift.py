"""ms-swift: ``messages`` + ``audios`` JSON Lines (ms-swift's standard multimodal dataset format).

- ``DIR/<split>.jsonl`` for SFT: system, user (``<audio>`` + question) and assistant turns.
- ``DIR/grpo_<split>.jsonl`` for GRPO: the same conversation without the assistant turn, plus ``solution`` (the
  gold label) and the record fields the GRPO-PTR reward reads (``emotioncot.train.swift_orm``); ms-swift hands
  every extra column to reward functions as a keyword argument.

``audios`` holds paths relative to ``DIR``; ms-swift opens them relative to the working directory, so training
runs from ``DIR`` (docs/export.md gives the command).
"""

from __future__ import annotations

from pathlib import Path

from emotioncot.export.frameworks.common import reward_fields, sft_row, write_jsonl_rows
from emotioncot.export.views import grpo_prompt, grpo_solution


def write(out: Path, rows, style: str) -> list[str]:
    files = []
    for split, pairs in rows.items():
        write_jsonl_rows(out / f"{split}.jsonl", (
            sft_row(rec, clip, style) for rec, clip in pairs
        ))
        write_jsonl_rows(out / f"grpo_{split}.jsonl", (
            {"messages": grpo_prompt(rec, style), "audios": [clip.path], "solution": grpo_solution(rec),
             **reward_fields(rec)}
            for rec, clip in pairs
        ))
        files += [f"{split}.jsonl", f"grpo_{split}.jsonl"]
    return files
