"""Writing the export of a build: ``parquet/`` shards, ``dataset/`` (DatasetDict), ``emotioncot.jsonl``,
``README.md`` (dataset card).

Audio decoding decision: ``datasets`` 4+ decodes its ``Audio`` feature only through torchcodec (torch +
FFmpeg shared libraries). The exported column is a standard ``Audio`` feature, so where torchcodec loads (the
``train`` extra pins a CPU build; ``make install`` brings FFmpeg) ``ds[i]["audio"]`` decodes as usual;
emotioncot itself never needs it: it reads the column with ``decode=False`` and decodes with soundfile / PyAV
(``load_dataset_dir(..., decode_audio=True)``).

Memory: records are turned into Arrow in chunks and streamed into the Parquet shards; the DatasetDict is
then built from those shards (memory-mapped), so embedded audio never has to fit in memory.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path

from tqdm import tqdm

from emotioncot.audio.io import AudioError
from emotioncot.export.audio import audio_cell, decode_audio_cell
from emotioncot.export.card import render_card
from emotioncot.export.features import AUDIO_COLUMN, VIEW_COLUMNS, arrow_table, export_features, record_columns
from emotioncot.export.jsonl import to_emotioncot_fields, write_jsonl  # noqa: F401  (re-exported)
from emotioncot.export.shards import ShardWriter
from emotioncot.export.views import DEFAULT_STYLE, grpo_prompt, grpo_solution, prompt_style as _check_style, sft_messages
from emotioncot.schema import Record
from emotioncot.tables import validate_rows, write_text_atomic
from emotioncot.taxonomy import SPLITS

EXPORT_VERSION = "2"
CHUNK_ROWS = 2000          # rows turned into Arrow at a time (text only)
CHUNK_ROWS_AUDIO = 200     # ... when rows carry audio bytes


class ExportError(RuntimeError):
    """The export cannot be written; the message names the records or files at fault."""


def row_problem(record: dict) -> str | None:
    if record.get("split") not in SPLITS:
        return f"no split assigned (split={record.get('split')!r})"
    if not record.get("emotion"):
        return f"no 9-class emotion (native label {record.get('native_label')!r}); the training views need one"
    return None


def _chunk_table(chunk: list[dict], cells: list[dict], features, style: str = DEFAULT_STYLE):
    columns = record_columns(chunk)
    columns["messages"] = [sft_messages(r, style) for r in chunk]
    columns["prompt"] = [grpo_prompt(r, style) for r in chunk]
    columns["solution"] = [grpo_solution(r) for r in chunk]
    columns[AUDIO_COLUMN] = cells
    return arrow_table(columns, features)


def _swap_in(new: Path, final: Path) -> None:
    """Replace ``final`` (file or folder) by ``new`` with renames only."""
    old = final.with_name(f".{final.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    new.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def export_records(
    records: list[dict],
    out: Path,
    embed_audio: bool = False,
    shard_max_mb: float = 256.0,
    errors: list[dict] | None = None,
    progress: bool = False,
    excluded: list[dict] | None = None,
    writer_info: dict | None = None,
    prompt_style: str = DEFAULT_STYLE,
    total: int | None = None,
) -> dict:
    """Write every export of ``records`` (``Record`` dicts: a list or any iterable, read once) under ``out``; return
    the counts per split (``total``: how many records an iterable gives, for the progress bar).

    A record that cannot be exported (no split, no 9-class emotion, unreadable audio where audio must be
    read) is left out with its reason appended to ``errors``; without an ``errors`` list such a record
    raises ``ExportError`` instead, so it is never dropped silently. ``prompt_style`` picks the system prompt,
    question and answer format of the training views (``emotioncot.export.views.PROMPT_STYLES``).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with datasets_progress_bars(progress):
        _check_style(prompt_style)
        return _export(records, out, embed_audio, shard_max_mb, errors, progress, excluded, writer_info, prompt_style,
                       total if total is not None else (len(records) if hasattr(records, "__len__") else None))


@contextlib.contextmanager
def datasets_progress_bars(on: bool):
    """The ``datasets`` library's own bars ("Saving the dataset") off unless ``on``, restored afterwards
    (``-q`` promised no progress bars)."""
    import datasets

    bars_were_on = not datasets.are_progress_bars_disabled()
    if not on:
        datasets.disable_progress_bars()
    try:
        yield
    finally:
        if bars_were_on:
            datasets.enable_progress_bars()


def _export(records, out: Path, embed_audio: bool, shard_max_mb: float, errors: list[dict] | None, progress: bool,
            excluded: list[dict] | None = None, writer_info: dict | None = None,
            style: str = DEFAULT_STYLE, total: int | None = None) -> dict:
    """One pass over ``records`` (any iterable, in table order): each split's rows go to its own shard writer and
    JSONL part in chunks, and the card's counts are tallied as they go, so memory is a chunk per split."""
    import json

    from emotioncot.summary import RecordTally

    features = export_features()
    schema = features.arrow_schema
    failed: list[dict] = []
    tally = RecordTally()

    for stale in out.glob(".export.*"):  # left by a killed export; never looked complete
        shutil.rmtree(stale, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix=".export.", dir=out))
    try:
        parquet_dir = work / "parquet"
        writers = {split: ShardWriter(parquet_dir, split, schema, shard_max_mb) for split in SPLITS}
        jsonl = {split: open(work / f"emotioncot-{split}.jsonl", "w", encoding="utf-8") for split in SPLITS}
        pending: dict[str, list[dict]] = {split: [] for split in SPLITS}
        counts: dict[str, int] = {split: 0 for split in SPLITS}
        step = CHUNK_ROWS_AUDIO if embed_audio else CHUNK_ROWS
        bar = tqdm(total=total, desc="export", unit="record", disable=not progress)

        def flush(split: str) -> None:
            chunk, cells = [], []
            for rec in pending[split]:
                try:
                    cell = audio_cell(rec, embed_audio)
                    sft_messages(rec, style)  # the assistant turn must be well formed
                except (AudioError, ValueError, OSError) as exc:
                    failed.append({"id": rec["id"], "path": rec.get("audio_path"), "reason": f"export: {exc}"})
                    continue
                chunk.append(rec)
                cells.append(cell)
            if chunk:
                writers[split].write(_chunk_table(chunk, cells, features, style))
                jsonl[split].write("".join(json.dumps(to_emotioncot_fields(r), ensure_ascii=False, default=str) + "\n"
                                           for r in chunk))
                tally.add(chunk)
                counts[split] += len(chunk)
            bar.update(len(pending[split]))
            pending[split] = []

        try:
            for rec in records:
                problem = row_problem(rec)
                if problem:
                    failed.append({"id": rec.get("id"), "path": rec.get("audio_path"), "reason": f"export: {problem}"})
                    bar.update()
                    continue
                pending[rec["split"]].append(rec)
                if len(pending[rec["split"]]) >= step:
                    flush(rec["split"])
            for split in SPLITS:
                flush(split)
        finally:
            for fh in jsonl.values():
                fh.close()
        shard_paths = {split: writers[split].close() for split in SPLITS}
        bar.close()
        if failed and errors is None:
            shown = "; ".join(f"{f['id']}: {f['reason']}" for f in failed[:5])
            raise ExportError(f"{len(failed)} records cannot be exported ({shown}{' ...' if len(failed) > 5 else ''})")
        if errors is not None:
            errors.extend(failed)

        _save_dataset_dict(shard_paths, features, work, embedded=embed_audio)
        _swap_in(parquet_dir, out / "parquet")
        _swap_in(work / "dataset", out / "dataset")
        _concatenate([work / f"emotioncot-{split}.jsonl" for split in SPLITS], out / "emotioncot.jsonl")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    from emotioncot.calibrate.evidence import load_evidence

    # the evidence table the rationales were weighed by: in the thresholds of the build this folder holds
    evidence = load_evidence(out / "thresholds.json") if (out / "thresholds.json").exists() else None
    write_text_atomic(out / "README.md", render_card(tally.rows(), counts, embedded=embed_audio, excluded=excluded,
                                                      writer_info=writer_info, prompt_style=style, evidence=evidence))
    # Last, over everything above: what `validate` checks the files against.
    from emotioncot.export.checksums import write_checksums

    write_checksums(out)
    return counts


def _concatenate(parts: list[Path], path: Path) -> None:
    """The parts one after the other into ``path``, atomically (the JSONL of the splits, in split order)."""
    from emotioncot.tables import atomic_path, commit

    tmp = atomic_path(path)
    try:
        with open(tmp, "wb") as out:
            for part in parts:
                with open(part, "rb") as fh:
                    shutil.copyfileobj(fh, out, 1 << 20)
        commit(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


DATASET_FILE_MAX_BYTES = 500 << 20  # what ``save_to_disk`` writes per Arrow file by default
DATASET_BATCH_ROWS = 1000


def _save_dataset_dict(shard_paths: dict[str, list[Path]], features, work: Path, embedded: bool) -> None:
    """``work/dataset``: the DatasetDict folder that ``datasets.load_from_disk`` reads, written directly from the
    Parquet shards batch by batch (Arrow stream files of at most about 500 MB, ``state.json``, ``dataset_info.json``,
    ``dataset_dict.json``, as ``save_to_disk`` lays them out), so that memory stays at one batch whatever the size.
    ``save_to_disk`` held the whole table's pages in memory at once (about 3 KB a record) and copied the files an
    ``Audio`` column references into the Arrow files.

    A referencing export's Arrow files type the audio column as its plain storage struct ``{bytes, path}``, and its
    ``dataset_info.json`` says ``Audio``: ``load_from_disk`` then returns an ``Audio`` column that references the
    corpus files, as asked (same Arrow type, so ``datasets`` accepts it)."""
    import json

    import datasets
    import pyarrow as pa
    import pyarrow.parquet as pq

    from emotioncot.workspace import stable_hash

    on_disk = features.copy()
    if not embedded:
        on_disk[AUDIO_COLUMN] = {"bytes": datasets.Value("binary"), "path": datasets.Value("string")}
    schema = on_disk.arrow_schema
    target = work / "dataset"
    for split, paths in shard_paths.items():
        folder = target / split
        folder.mkdir(parents=True)
        parts: list[Path] = []
        writer, written = None, 0

        def start():
            path = folder / f".part-{len(parts):05d}.arrow"
            parts.append(path)
            return pa.ipc.new_stream(str(path), schema), 0

        writer, written = start()
        rows = 0
        for path in paths:
            for batch in pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 20).iter_batches(
                    batch_size=DATASET_BATCH_ROWS, use_threads=False):
                batch = pa.Table.from_batches([batch]).cast(schema).combine_chunks()
                if written and written + batch.nbytes > DATASET_FILE_MAX_BYTES:
                    writer.close()
                    writer, written = start()
                writer.write_table(batch)
                written += batch.nbytes
                rows += batch.num_rows
        writer.close()
        files = []
        for n, part in enumerate(parts):
            name = f"data-{n:05d}-of-{len(parts):05d}.arrow"
            part.rename(folder / name)
            files.append({"filename": name})
        state = {"_data_files": files, "_fingerprint": stable_hash(split, [p.name for p in paths], rows, length=16),
                 "_format_columns": None, "_format_kwargs": {}, "_format_type": None,
                 "_output_all_columns": False, "_split": split}
        (folder / "state.json").write_text(json.dumps(state, indent=2, sort_keys=True))
        datasets.DatasetInfo(features=features).write_to_directory(str(folder))
    (target / "dataset_dict.json").write_text(json.dumps({"splits": list(shard_paths)}))


def load_dataset_dir(path: Path, decode_audio: bool = False):
    """The exported ``DatasetDict`` (``path`` is the build folder or its ``dataset/``), Audio column left
    undecoded (``{"bytes", "path"}``) or, with ``decode_audio``, decoded by emotioncot's own reader into
    ``{"array", "sampling_rate", "path"}`` on access."""
    import datasets

    path = Path(path)
    if (path / "dataset").is_dir() and not (path / "dataset_dict.json").exists():
        path = path / "dataset"
    if not path.exists():
        raise FileNotFoundError(f"{path}: no exported dataset (run `emotioncot export` first)")
    dd = datasets.load_from_disk(str(path))
    dd = dd.cast_column(AUDIO_COLUMN, datasets.Audio(decode=False))
    if decode_audio:
        dd = dd.with_transform(_decode_batch)
    return dd


def _decode_batch(batch: dict) -> dict:
    batch = dict(batch)
    if AUDIO_COLUMN in batch:
        batch[AUDIO_COLUMN] = [decode_audio_cell(cell) for cell in batch[AUDIO_COLUMN]]
    return batch


def dataset_records(rows) -> list[dict]:
    """Validated ``Record`` dicts from exported rows (a split, or a list of row dicts): the view and audio
    columns are dropped and the JSON text fields parsed, as ``emotioncot.tables.read_table`` does."""
    extra = set(VIEW_COLUMNS) | {AUDIO_COLUMN}
    if hasattr(rows, "remove_columns"):
        rows = rows.remove_columns([c for c in rows.column_names if c in extra]).to_list()
    else:
        rows = [{k: v for k, v in r.items() if k not in extra} for r in rows]
    return validate_rows(rows, Record, "exported dataset")
