"""Export round trips: DatasetDict, Parquet shards, Audio decoding (real recordings), JSONL, card."""

from __future__ import annotations

import glob
import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from emotioncot.audio.io import read_audio
from emotioncot.export import ExportError, dataset_records, export_records, load_dataset_dir
from emotioncot.export.jsonl import RELEASE_FIELDS, read_jsonl
from emotioncot.export.synthetic import synthetic_records
from emotioncot.schema import Record
from emotioncot.tables import read_table, validate_rows
from emotioncot.taxonomy import SPLITS


def _by_id(rows):
    return {r["id"]: r for r in rows}


@pytest.fixture(scope="module")
def demo_export(demo_build):
    """The demo build's export (written by the build's export stage) and its filtered table."""
    from emotioncot.workspace import Workspace

    kept = read_table(Workspace(demo_build).stage_table("filter"), Record)
    return demo_build, kept


def test_load_from_disk_gives_the_filtered_records(demo_export):
    import datasets

    root, kept = demo_export
    raw = datasets.load_from_disk(str(root / "dataset"))
    assert isinstance(raw["train"].features["audio"], datasets.Audio)
    assert isinstance(raw["train"].features["messages"], datasets.List)
    dd = load_dataset_dir(root)
    assert sorted(dd) == sorted(SPLITS)
    exported = [r for split in SPLITS for r in dataset_records(dd[split])]
    assert len(exported) == len(kept)
    assert _by_id(exported) == _by_id(kept)
    for split in SPLITS:
        assert {r["split"] for r in dd[split]} <= {split}
    # Referencing export: the Audio column points at the corpus files, no copied bytes.
    cell = dd["train"][0]["audio"]
    assert cell["bytes"] is None and cell["path"] == dd["train"][0]["audio_path"]


def test_parquet_shards_load_with_datasets_and_pandas(demo_export, tmp_path):
    import datasets
    import pandas as pd

    root, _ = demo_export
    dd = load_dataset_dir(root)
    for split in SPLITS:
        files = sorted(glob.glob(str(root / "parquet" / f"{split}-*-of-*.parquet")))
        assert files
        loaded = datasets.load_dataset("parquet", data_files={split: files}, cache_dir=str(tmp_path / "hf"))[split]
        assert isinstance(loaded.features["audio"], datasets.Audio)  # the Parquet schema carries the features
        loaded = loaded.cast_column("audio", datasets.Audio(decode=False))
        assert loaded.to_list() == dd[split].to_list()
        frame = pd.concat([pd.read_parquet(f) for f in files])
        assert list(frame["id"]) == dd[split]["id"]


def test_audio_column_decodes_to_the_source_samples(test_data, tmp_path):
    """Whole files (mono 16 kHz, stereo 48 kHz) and a segment, referenced and embedded."""
    emodb = str(test_data / "emodb" / "wav" / "03a01Fa.wav")
    ravdess = sorted((test_data / "ravdess").glob("*.wav"))[0]
    recs = synthetic_records(3, emodb, seed=3)
    for rec in recs:
        rec["split"] = "train"
    recs[1]["audio_path"] = str(ravdess)
    recs[2]["audio_path"] = str(ravdess)
    recs[2]["start_s"], recs[2]["end_s"] = 0.5, 1.25
    recs = validate_rows(recs, Record)
    for embed in (False, True):
        out = tmp_path / f"embed-{embed}"
        export_records(recs, out, embed_audio=embed)
        raw = load_dataset_dir(out)["train"]
        cells = raw["audio"]
        # A segment never references the whole file: its cut samples are always embedded.
        assert cells[2]["bytes"] is not None
        assert (cells[0]["bytes"] is not None) == embed
        decoded = load_dataset_dir(out, decode_audio=True)["train"]
        for i, rec in enumerate(recs):
            audio = decoded[i]["audio"]
            want, sr = read_audio(rec["audio_path"], rec.get("start_s"), rec.get("end_s"))
            assert audio["sampling_rate"] == sr
            assert np.array_equal(audio["array"], want), (embed, i)
        assert len(decoded[2]["audio"]["array"]) == 36000  # 0.75 s at 48 kHz, not the 3.5 s file
        # The embedded whole file is the file itself, byte for byte.
        if embed:
            assert cells[1]["bytes"] == ravdess.read_bytes()


def test_shards_are_cut_by_size_and_named(tmp_path):
    recs = validate_rows(synthetic_records(3000, __file__, seed=1), Record)
    counts = export_records(recs, tmp_path, shard_max_mb=0.5)
    train = sorted((tmp_path / "parquet").glob("train-*.parquet"))
    assert len(train) >= 3
    assert [p.name for p in train] == [f"train-{i:05d}-of-{len(train):05d}.parquet" for i in range(len(train))]
    assert sum(pq.ParquetFile(p).metadata.num_rows for p in train) == counts["train"]
    # No leftover temporary or stale files.
    assert not [p for p in (tmp_path / "parquet").iterdir() if not p.name.endswith(".parquet")]
    # A rerun with bigger shards replaces the old set instead of mixing with it.
    export_records(recs, tmp_path, shard_max_mb=256)
    assert [p.name for p in sorted((tmp_path / "parquet").glob("train-*"))] == ["train-00000-of-00001.parquet"]
    assert not list(tmp_path.glob(".export.*"))


def test_jsonl_has_release_fields_and_reads_back(demo_export):
    root, kept = demo_export
    lines = [json.loads(line) for line in (root / "emotioncot.jsonl").read_text().splitlines()]
    assert len(lines) == len(kept)
    first = lines[0]
    assert list(first)[: len(RELEASE_FIELDS)] == list(RELEASE_FIELDS)
    assert {"id", "corpus", "speaker_id", "split", "caption", "native_label"} <= set(first)
    assert {"f0_median_hz", "energy_dbfs", "speaking_rate_sps", "null_reasons"} <= set(first)  # measurements
    assert {"tool_version", "thresholds_version", "writer", "model", "prompt_id", "seed"} <= set(first)  # provenance
    assert "transcript" not in first
    assert first["transcription"] == _by_id(kept)[first["id"]]["transcript"]
    back = validate_rows(list(read_jsonl(root / "emotioncot.jsonl")), Record)
    assert _by_id(back) == _by_id(kept)


def test_release_aliases_are_read(tmp_path):
    path = tmp_path / "release.jsonl"
    path.write_text(json.dumps({"audio_path": "a.wav", "transcription": "hi", "gt": "angry", "gender_new": "Male",
                                "age_group": "Elderly", "stress": ["hi"], "contour_shape": "rising"}) + "\n")
    (row,) = read_jsonl(path)
    assert (row["emotion"], row["gender"], row["age_level"], row["stressed_words"], row["intonation"], row["transcript"]) == (
        "angry", "Male", "Elderly", ["hi"], "rising", "hi")


def test_bad_rows_are_reported_not_dropped_silently(tmp_path):
    recs = validate_rows(synthetic_records(6, __file__, seed=2), Record)
    recs[1]["audio_path"] = str(tmp_path / "gone.wav")
    recs[2]["split"] = None
    recs[3]["emotion"] = None
    with pytest.raises(ExportError, match="gone.wav"):
        export_records(recs, tmp_path / "strict")
    errors: list[dict] = []
    counts = export_records(recs, tmp_path / "lenient", errors=errors)
    assert sum(counts.values()) == 3
    assert {e["id"] for e in errors} == {recs[i]["id"] for i in (1, 2, 3)}
    assert any("gone.wav" in e["reason"] and "does not exist" in e["reason"] for e in errors)
    assert any("no split" in e["reason"] for e in errors) and any("9-class" in e["reason"] for e in errors)


def test_dataset_card_metadata_counts_licences_citations(tmp_path):
    from huggingface_hub import DatasetCard

    from emotioncot.export.card import render_card

    recs = validate_rows(synthetic_records(40, __file__, seed=4, corpora=("ravdess", "mystery")), Record)
    counts = {s: sum(r["split"] == s for r in recs) for s in SPLITS}
    manifests = {
        "ravdess": {"title": "RAVDESS", "licence": "CC BY-NC-SA 4.0", "citation": "@article{livingstone2018,}", "language": "en"},
        "mystery": None,
    }
    card = DatasetCard(render_card(recs, counts, embedded=False, manifests=manifests))
    data = card.data.to_dict()
    assert data["license"] == ["cc-by-nc-sa-4.0", "other"]
    assert "mystery: not stated (no manifest)" in data["license_details"]
    assert data["language"] == ["en"] and data["size_categories"] == ["n<1K"] or data["size_categories"] == "n<1K"
    assert data["configs"][0]["data_files"][0] == {"split": "train", "path": "parquet/train-*.parquet"}
    text = card.text
    assert "@article{livingstone2018,}" in text
    n_ravdess_train = sum(r["corpus"] == "ravdess" and r["split"] == "train" for r in recs)
    n_ravdess = sum(r["corpus"] == "ravdess" for r in recs)
    assert f"| ravdess | {n_ravdess_train} |" in text and f"| {n_ravdess} |" in text
    for level in ("pitch_level", "energy_level", "speed_level"):
        assert f"| {level} | records | share |" in text
    from emotioncot.write.template import PROMPT_ID

    assert f"| template | — | {PROMPT_ID} | aware | synthetic | 40 |" in text


def test_cli_export_embeds_audio_into_a_self_contained_dataset(demo_build, tmp_path):
    import shutil

    from typer.testing import CliRunner

    from emotioncot.cli import app

    build = tmp_path / "build"
    shutil.copytree(demo_build, build)
    result = CliRunner().invoke(app, ["export", str(build), "--embed-audio", "--shard-max-mb", "2"])
    assert result.exit_code == 0, result.output
    assert "exported 216 records" in result.output
    train = load_dataset_dir(build)["train"]
    cell = train[0]["audio"]
    assert cell["bytes"] == open(train[0]["audio_path"], "rb").read()
    assert len(list((build / "parquet").glob("train-*.parquet"))) >= 2
    assert "embeds the audio bytes" in (build / "README.md").read_text()


@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24", "FLOAT", "PCM_U8"])
def test_cut_segment_keeps_the_source_samples(subtype, tmp_path):
    import soundfile as sf

    from emotioncot.export.audio import cut_segment_wav, decode_audio_cell

    path = tmp_path / f"noise-{subtype}.wav"
    sf.write(path, np.random.default_rng(0).uniform(-0.9, 0.9, (8000, 2)).astype("float32"), 8000, subtype=subtype)
    data = cut_segment_wav(path, 0.1, 0.6)
    decoded = decode_audio_cell({"bytes": data, "path": "seg.wav"})
    want, sr = read_audio(path, 0.1, 0.6)
    assert decoded["sampling_rate"] == sr == 8000
    assert np.array_equal(decoded["array"], want) and len(want) == 4000
