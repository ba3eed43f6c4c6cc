"""A user's own list of real clips (JSONL / CSV, with and without speaker, gender, age, language columns): what
the list says reaches the rows as it says it, what it does not say is not made up, and every bad row is named by
list file and line while the rest go on.

The clips are real recordings from ../shared/data (EmoDB speaker 03, RAVDESS actor 01), reached through a
symlinked folder next to the list, as a user links in a folder of clips."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from emotioncot.config import IngestConfig
from emotioncot.ingest.core import ingest_sources, read_source


def _emodb_sentences(data: Path) -> dict[str, str]:
    return {r["code"]: r["text"] for r in csv.DictReader((data / "emodb" / "sentences.tsv").open(), delimiter="\t")}


@pytest.fixture
def folder(test_data, tmp_path) -> Path:
    """A list folder with the real clips linked in as ``clips/``."""
    (tmp_path / "clips").symlink_to(test_data)
    return tmp_path


def _write_csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _no_clustering() -> IngestConfig:
    return IngestConfig(workers=1, cluster_speakers=False, estimate_language=False)


def test_an_age_in_years_gives_the_age_group_marked_as_stated(folder, test_data):
    text = _emodb_sentences(test_data)
    rows = [{"audio_path": f"clips/emodb/wav/{name}", "transcription": text[name[2:5]], "emotion": "happy",
             "speaker": "03", "age": age, "age_level": level}
            for name, age, level in (("03a01Fa.wav", "31", ""), ("03a02Fc.wav", "31", "Middle-aged"),
                                     ("03a04Fd.wav", "", ""))]
    listing = _write_csv(folder / "ages.csv", rows)
    got, errors = ingest_sources([f"csv:{listing}"], _no_clustering(), progress=False)
    assert errors == []
    by_name = {Path(r["audio_path"]).name: r for r in got}
    # EmoDB's speaker table: speaker 03 is 31, a young adult (the release's groups: 20-39)
    assert (by_name["03a01Fa.wav"]["age"], by_name["03a01Fa.wav"]["age_level"], by_name["03a01Fa.wav"]["age_source"]) \
        == (31.0, "Young Adult", "metadata")
    # a stated age group wins over the one the years would give
    assert by_name["03a02Fc.wav"]["age_level"] == "Middle-aged"
    # no age given: none stated
    assert (by_name["03a04Fd.wav"]["age_level"], by_name["03a04Fd.wav"]["age_source"]) == (None, None)
