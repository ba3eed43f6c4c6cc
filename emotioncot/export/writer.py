"""Writing the export folder of a build: ``dataset/`` (DatasetDict), ``parquet/``, ``emotioncot.jsonl``, ``README.md``.

Audio decoding decision: ``datasets`` 4+ decodes its ``Audio`` feature only through torchcodec (torch +
FFmpeg shared libraries). The exported column is a standard ``Audio`` feature, so any environment with
torchcodec decodes it as usual; emotioncot itself never depends on that, and reads the column with
``decode=False`` and its own decoder (soundfile, PyAV) through ``load_dataset_dir(..., decode_audio=True)``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from emotioncot.export.views import grpo_prompt, sft_messages
from emotioncot.tables import atomic_path, commit, to_frame, write_text_atomic
from emotioncot.schema import Record
from emotioncot.taxonomy import SPLITS

EXPORT_VERSION = "1"


def _frame(records: list[dict]) -> pd.DataFrame:
    frame = to_frame(records, Record)
    frame["messages"] = [sft_messages(r) for r in records]
    frame["prompt"] = [grpo_prompt(r) for r in records]
    frame["solution"] = [r["emotion"] for r in records]
    return frame


def export_records(records: list[dict], out: Path, embed_audio: bool = False) -> dict:
    """Write every export of ``records`` (validated ``Record`` dicts) under ``out``; return counts per split."""
    import datasets

    out = Path(out)
    frame = _frame(records)
    counts = {}
    # Parquet shards, one per split (readable by pyarrow and pandas alone).
    parquet_dir = out / "parquet"
    parquet_dir.mkdir(parents=True, exist_ok=True)
    for old in parquet_dir.glob("*.parquet"):
        old.unlink()
    split_frames = {}
    for split in SPLITS:
        part = frame[frame["split"] == split].reset_index(drop=True)
        split_frames[split] = part
        counts[split] = len(part)
        tmp = atomic_path(parquet_dir / f"{split}-00000-of-00001.parquet")
        pq.write_table(pa.Table.from_pandas(part, preserve_index=False), tmp)
        commit(tmp, parquet_dir / f"{split}-00000-of-00001.parquet")

    # DatasetDict with an Audio column, saved next to a temporary name then swapped in.
    dd = {}
    for split, part in split_frames.items():
        ds = datasets.Dataset.from_pandas(part.assign(audio=part["audio_path"]), preserve_index=False)
        if embed_audio:
            ds = ds.map(lambda r: {"audio": {"bytes": _audio_bytes(r), "path": None}}, desc=f"embedding audio ({split})")
        if not embed_audio:
            # pandas 3 hands strings over as large_string, which the Audio cast does not take.
            ds = ds.cast_column("audio", datasets.Value("string"))
        ds = ds.cast_column("audio", datasets.Audio(decode=True))
        dd[split] = ds
    final = out / "dataset"
    tmp_dir = out / ".dataset.tmp"
    shutil.rmtree(tmp_dir, ignore_errors=True)
    datasets.DatasetDict(dd).save_to_disk(str(tmp_dir))
    shutil.rmtree(final, ignore_errors=True)
    tmp_dir.rename(final)

    # EmotionCoT JSONL (release field names plus ours).
    lines = [json.dumps(to_emotioncot_fields(r), ensure_ascii=False, default=str) for r in records]
    write_text_atomic(out / "emotioncot.jsonl", "".join(line + "\n" for line in lines))
    return counts


def _audio_bytes(row: dict) -> bytes:
    """The bytes of the utterance as WAV (segments cut out)."""
    import io

    import soundfile as sf

    from emotioncot.audio.io import read_audio

    if row.get("start_s") is None and row.get("end_s") is None and row["audio_path"].lower().endswith((".wav", ".flac")):
        return Path(row["audio_path"]).read_bytes()
    y, sr = read_audio(row["audio_path"], row.get("start_s"), row.get("end_s"))
    buf = io.BytesIO()
    sf.write(buf, y, sr, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def to_emotioncot_fields(record: dict) -> dict:
    """A record in the public EmotionCoT JSONL field names, plus emotioncot's own fields."""
    out = dict(record)
    out["transcription"] = record.get("transcript")
    out.pop("transcript", None)
    return out


def load_dataset_dir(path: Path, decode_audio: bool = False):
    """``load_from_disk`` on an export, with the Audio column left undecoded (``{path, bytes}``) or, with
    ``decode_audio``, decoded by emotioncot's own reader into ``{"array", "sampling_rate", "path"}``."""
    import datasets

    dd = datasets.load_from_disk(str(path))
    dd = dd.cast_column("audio", datasets.Audio(decode=False))
    if decode_audio:
        dd.set_transform(_decode_batch)
    return dd


def _decode_batch(batch: dict) -> dict:
    import io

    import soundfile as sf

    from emotioncot.audio.io import read_audio

    decoded = []
    for audio in batch["audio"]:
        if audio.get("bytes"):
            y, sr = sf.read(io.BytesIO(audio["bytes"]), dtype="float32", always_2d=True)
            y = y.mean(axis=1)
        else:
            y, sr = read_audio(audio["path"])
        decoded.append({"array": y, "sampling_rate": sr, "path": audio.get("path")})
    batch["audio"] = decoded
    return batch
