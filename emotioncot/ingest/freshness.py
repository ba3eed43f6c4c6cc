"""Whether a kept ingest still describes the audio files it names.

A corpus folder's fingerprint (``core.source_fingerprint``) covers every file under it, so a file added, removed or
changed there redoes the ingest. A ``jsonl:`` / ``csv:`` list or an ``hf:`` dataset is fingerprinted by the list (the
dataset folder) alone, and its clips may live anywhere: a clip replaced after the build went unnoticed by a rerun
(every stage skipped, and the records kept describing the old audio), and one that was missing or unreadable and
has since been put in place kept its error. So the ingest records the size and mtime of the audio it read and of
the files it could not read, and a rerun redoes it when they changed, as the measure stage redoes a changed clip.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from emotioncot.workspace import file_stamp, stable_hash

# sources whose fingerprint does not cover the audio files they name
UNWATCHED = ("jsonl", "csv", "hf")


def names_audio_elsewhere(sources: list[str]) -> bool:
    from emotioncot.ingest.core import parse_source

    return any(parse_source(spec).name in UNWATCHED for spec in sources)


def audio_digest(paths: Iterable[str]) -> str:
    """One digest of the size and mtime of every file named (a missing one counts as missing)."""
    return stable_hash(sorted((path, file_stamp(path)) for path in set(paths)))


def kept_audio_paths(table: Path) -> list[str]:
    import pyarrow.parquet as pq

    return [p for p in pq.read_table(table, columns=["audio_path"]).column(0).to_pylist() if p]
