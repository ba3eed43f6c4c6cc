"""A plain `datasets` user reads the export's audio: ``load_from_disk(...)[split][i]["audio"]`` and
``load_dataset("parquet", ...)`` decode (through torchcodec, which `make install` installs with FFmpeg's shared
libraries) to the source clip's samples. No emotioncot code on the reading side."""

from __future__ import annotations

import glob
import os

import numpy as np
import pytest

from emotioncot.audio.io import read_audio
from emotioncot.export import export_records
from emotioncot.export.synthetic import synthetic_records
from emotioncot.schema import Record
from emotioncot.tables import validate_rows


def _need_torchcodec():
    try:
        import torchcodec.decoders  # noqa: F401
    except Exception as exc:  # ImportError, or OSError when torch or FFmpeg's libraries do not load
        if os.environ.get("CI") == "true":
            pytest.fail(f"torchcodec does not load under CI, where `make install` must provide it: {exc}")
        pytest.skip(f"torchcodec does not load here ({exc}); see README 'How audio is decoded'")


@pytest.fixture(autouse=True)
def _torchcodec():
    _need_torchcodec()


def test_load_from_disk_decodes_the_demo_clips(demo_build):
    import datasets

    dd = datasets.load_from_disk(str(demo_build / "dataset"))
    for split in ("train", "test"):
        for i in (0, len(dd[split]) - 1):
            row = dd[split][i]
            audio = row["audio"]
            want, sr = read_audio(row["audio_path"])
            assert audio["sampling_rate"] == sr
            assert np.array_equal(audio["array"], want), (split, i)


def test_load_dataset_parquet_decodes_the_demo_clips(demo_build, tmp_path):
    import datasets

    files = sorted(glob.glob(str(demo_build / "parquet" / "validation-*.parquet")))
    ds = datasets.load_dataset("parquet", data_files={"validation": files}, cache_dir=str(tmp_path / "hf"))["validation"]
    row = ds[0]
    want, sr = read_audio(row["audio_path"])
    assert row["audio"]["sampling_rate"] == sr
    assert np.array_equal(row["audio"]["array"], want)


def test_real_recordings_embedded_and_referenced_decode_to_the_source(test_data, tmp_path):
    """Mono 16 kHz and stereo 48 kHz recordings and a cut segment (always embedded), both export modes."""
    import datasets

    emodb = str(test_data / "emodb" / "wav" / "03a01Fa.wav")
    ravdess = str(sorted((test_data / "ravdess").glob("*.wav"))[0])
    recs = synthetic_records(3, emodb, seed=5)
    for rec in recs:
        rec["split"] = "train"
    recs[1]["audio_path"] = ravdess
    recs[2]["audio_path"] = ravdess
    recs[2]["start_s"], recs[2]["end_s"] = 0.5, 1.25
    recs = validate_rows(recs, Record)
    for embed in (False, True):
        out = tmp_path / f"embed-{embed}"
        export_records(recs, out, embed_audio=embed)
        ds = datasets.load_from_disk(str(out / "dataset"))["train"]
        for i, rec in enumerate(recs):
            want, sr = read_audio(rec["audio_path"], rec.get("start_s"), rec.get("end_s"))
            audio = ds[i]["audio"]
            assert audio["sampling_rate"] == sr
            got = np.asarray(audio["array"], dtype=np.float32)
            assert got.shape == want.shape, (embed, i)
            # Stereo is averaged to mono by both readers; allow float rounding of that mean only.
            assert np.max(np.abs(got - want)) < 1e-6, (embed, i)
