"""What the framework writers share: the reward columns of a row and JSON Lines output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

from emotioncot.export.views import sft_messages
from emotioncot.tables import atomic_path, commit

# The record fields GRPO-PTR's rewards read (gold label, and what the offline grader checks a rationale against).
REWARD_FIELDS = (
    "id", "emotion", "pitch_level", "energy_level", "speed_level", "intonation", "stressed_words", "gender",
    "age_level", "transcript", "caption", "cot_analysis",
)


def reward_fields(record: dict) -> dict:
    out = {name: record.get(name) for name in REWARD_FIELDS}
    out["stressed_words"] = list(out["stressed_words"] or [])
    return out


def write_jsonl_rows(path: Path, rows: Iterable[dict]) -> None:
    """JSON Lines, written atomically; only JSON types (datasets 4.x infers one type per column)."""
    tmp = atomic_path(path)
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        commit(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def sft_row(record: dict, clip, style: str) -> dict:
    """One SFT conversation in the ``messages`` + ``audios`` layout LLaMA-Factory and ms-swift both read."""
    return {"id": record["id"], "messages": sft_messages(record, style), "audios": [clip.path]}
