"""verl: one Parquet file per split in verl's RL dataset layout (verl ``docs/preparation/prepare_data.rst``).

Columns: ``data_source`` ("emotioncot", the key verl's reward dispatch and ``emotioncot.train.verl_reward``
use), ``prompt`` (system + user turn with ``<audio>``), ``audios`` (a list holding the clip as 16 kHz float32
samples: the Qwen2-Audio processor under verl's transformers pin takes arrays, not paths), ``ability``,
``reward_model`` (``{"style": "rule", "ground_truth": <emotion>}``) and ``extra_info`` (split, index, the clip's
relative path, and the record fields the GRPO-PTR reward reads). Read with ``data.audio_key=audios``.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from emotioncot.export.frameworks.clips import read_clip
from emotioncot.export.frameworks.common import REWARD_FIELDS, reward_fields
from emotioncot.export.views import grpo_prompt, grpo_solution
from emotioncot.tables import atomic_path, commit

DATA_SOURCE = "emotioncot"
ABILITY = "speech_emotion"

_MESSAGES = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))
SCHEMA = pa.schema([
    ("data_source", pa.string()),
    ("prompt", _MESSAGES),
    ("audios", pa.list_(pa.list_(pa.float32()))),
    ("ability", pa.string()),
    ("reward_model", pa.struct([("style", pa.string()), ("ground_truth", pa.string())])),
    ("extra_info", pa.struct(
        [("split", pa.string()), ("index", pa.int64()), ("audio", pa.string()), ("sampling_rate", pa.int64())]
        + [(name, pa.list_(pa.string()) if name == "stressed_words" else pa.string()) for name in REWARD_FIELDS]
    )),
])
ROWS_PER_GROUP = 64  # rows (with their samples) held in memory at a time


def _row(rec: dict, clip, out: Path, index: int, style: str) -> dict:
    return {
        "data_source": DATA_SOURCE,
        "prompt": grpo_prompt(rec, style),
        "audios": [read_clip(out, clip.path)],
        "ability": ABILITY,
        "reward_model": {"style": "rule", "ground_truth": grpo_solution(rec)},
        "extra_info": {"split": rec["split"], "index": index, "audio": clip.path, "sampling_rate": clip.sample_rate,
                       **reward_fields(rec)},
    }


def write(out: Path, rows, style: str) -> list[str]:
    files = []
    for split, pairs in rows.items():
        target = out / f"{split}.parquet"
        tmp = atomic_path(target)
        try:
            with pq.ParquetWriter(str(tmp), SCHEMA) as writer:
                for start in range(0, len(pairs), ROWS_PER_GROUP):
                    batch = [_row(rec, clip, out, start + i, style)
                             for i, (rec, clip) in enumerate(pairs[start:start + ROWS_PER_GROUP])]
                    writer.write_table(pa.Table.from_pylist(batch, schema=SCHEMA))
            commit(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        files.append(target.name)
    return files
