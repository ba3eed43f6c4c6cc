"""Writing the task dataset: ``dataset/`` (DatasetDict with an Audio column), ``parquet/`` shards (audio
included: generated clips exist nowhere else) and a dataset card ``README.md``.

The Audio column is built as a ``{bytes, path}`` struct and cast to ``datasets.Audio``; nothing is
encoded or decoded through ``datasets`` (its audio codec needs torchcodec, which emotioncot does not use).
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from emotioncot.config import ProsodyConfig
from emotioncot.prosody.questions import SYSTEM_PROMPT, grpo_prompt, sft_messages
from emotioncot.prosody.schema import ProsodyTaskRecord
from emotioncot.tables import atomic_path, commit, to_frame, validate_rows, write_text_atomic
from emotioncot.taxonomy import SPLITS


def _wav_bytes(path: str, start_s, end_s) -> bytes:
    import soundfile as sf

    from emotioncot.audio.io import read_audio

    y, sr = read_audio(path, start_s, end_s)
    buf = io.BytesIO()
    sf.write(buf, y, sr, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def _audio_cell(item: dict, embed: bool) -> dict:
    if item.get("clip_file"):
        return {"bytes": Path(item["clip_file"]).read_bytes(), "path": None}
    segment = item.get("start_s") is not None or item.get("end_s") is not None
    if embed or segment:
        return {"bytes": _wav_bytes(item["audio_path"], item.get("start_s"), item.get("end_s")), "path": None}
    return {"bytes": None, "path": item["audio_path"]}


AUDIO_TYPE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])


def _table(items: list[dict], embed: bool) -> pa.Table:
    rows = validate_rows([{k: v for k, v in i.items() if k in ProsodyTaskRecord.model_fields} for i in items], ProsodyTaskRecord, "prosody tasks")
    frame = to_frame(rows, ProsodyTaskRecord)
    frame["messages"] = [sft_messages(r) for r in rows]
    frame["prompt"] = [grpo_prompt(r) for r in rows]
    frame["solution"] = [r["answer"] for r in rows]
    table = pa.Table.from_pandas(frame, preserve_index=False)
    # pandas hands strings over as large_string; plain string keeps the Parquet readable by every tool.
    table = table.cast(pa.schema([pa.field(f.name, _plain(f.type)) for f in table.schema]))
    audio = pa.array([_audio_cell(i, embed) for i in items], type=AUDIO_TYPE)
    return table.append_column("audio", audio)


def _plain(t: pa.DataType) -> pa.DataType:
    if pa.types.is_large_string(t):
        return pa.string()
    if pa.types.is_large_list(t) or pa.types.is_list(t):
        return pa.list_(_plain(t.value_type))
    if pa.types.is_struct(t):
        return pa.struct([pa.field(f.name, _plain(f.type)) for f in t])
    return t


def export_tasks(items: list[dict], out: Path, config: ProsodyConfig) -> dict:
    """Write ``parquet/`` and ``dataset/`` under ``out``; return the row count of each split."""
    import datasets

    out = Path(out)
    parquet_dir = out / "parquet"
    parquet_dir.mkdir(parents=True, exist_ok=True)
    for old in parquet_dir.glob("*.parquet"):
        old.unlink()
    counts, dd = {}, {}
    for split in SPLITS:
        part = [i for i in items if i["split"] == split]
        counts[split] = len(part)
        if not part:
            continue  # an empty split cannot be saved and loaded by `datasets`; it is left out
        table = _table(part, config.embed_audio)
        name = f"{split}-00000-of-00001.parquet"
        tmp = atomic_path(parquet_dir / name)
        try:
            pq.write_table(table, tmp)
            commit(tmp, parquet_dir / name)
        finally:
            tmp.unlink(missing_ok=True)
        dd[split] = datasets.Dataset(table).cast_column("audio", datasets.Audio(decode=True))
    if not dd:
        raise ValueError("no task item survived generation, verification and balancing; see dropped.jsonl")
    final = out / "dataset"
    tmp_dir = out / ".dataset.tmp"
    shutil.rmtree(tmp_dir, ignore_errors=True)
    datasets.DatasetDict(dd).save_to_disk(str(tmp_dir))
    shutil.rmtree(final, ignore_errors=True)
    tmp_dir.rename(final)
    return counts


def write_card(out: Path, summary: dict) -> None:
    """The dataset card: YAML metadata (configs pointing at the Parquet shards), what is in it, how it was made."""
    splits = {k: v for k, v in summary["splits"].items()}
    yaml_configs = "\n".join(
        f"  - split: {s}\n    path: parquet/{s}-00000-of-00001.parquet" for s in SPLITS if splits.get(s)
    )
    task_lines = "\n".join(f"| `{t}` | {n} | {', '.join(f'{a}: {c}' for a, c in summary['answers'][t].items())} |" for t, n in summary["tasks"].items())
    drop_lines = "\n".join(f"| {r} | {n} |" for r, n in summary["drop_reasons"].items()) or "| (none) | 0 |"
    cfg = summary["config"]
    text = f"""---
configs:
- config_name: default
  data_files:
{yaml_configs}
task_categories:
- audio-text-to-text
tags:
- prosody
- speech
- emotioncot
---

# Prosody-perception tasks

Questions about pitch, loudness, speaking rate, intonation and stress, built by `emotioncot prosody-tasks`
(emotioncot {summary['tool_version']}) from {summary['sources']} source utterances. Each row is one SFT
conversation (`messages`: system, user with the `<audio>` placeholder and the question with its options,
assistant with the answer) plus `prompt` / `solution` for reward-based training, and an `audio` column.

- **attributes** (`attr_*`): one unmodified clip; the answer is the build's calibrated level or measurement.
- **compare** (`compare_*`): two or three WORLD resyntheses of one utterance with pitch shifted (semitone
  steps {cfg['semitone_steps']}), level changed (dB steps {cfg['gain_db_steps']}) or tempo changed (ratios
  {cfg['tempo_ratios']}), joined with {cfg['join_silence_s']} s silences in a shuffled order. The answer is
  known by construction.
- **stress** (`stress_word`): one word emphasised by +{cfg['stress_semitones']} st and +{cfg['stress_gain_db']} dB.

Every generated clip was measured again and dropped when its measured change was off by more than
{cfg['tolerance_semitones']} st, {cfg['tolerance_db']} dB or {cfg['tolerance_tempo']:.0%} tempo (also in
the dimensions meant to stay unchanged). Answers are balanced per task and split (most frequent answer at
most {1 + cfg['balance_tolerance']:.2f} x the rarest; for word questions, the word's position).

System prompt: "{SYSTEM_PROMPT}"

## Splits

{', '.join(f'{s}: {n}' for s, n in splits.items())} (the source records' speaker-disjoint splits).

## Tasks and answers

| task | rows | answers |
|---|---|---|
{task_lines}

## Dropped items

| reason | items |
|---|---|
{drop_lines}

Every dropped item and its full reason is in `dropped.jsonl`.

## Licence

Derived audio inherits the licence of the source corpus; check it before redistributing.
"""
    write_text_atomic(Path(out) / "README.md", text)
