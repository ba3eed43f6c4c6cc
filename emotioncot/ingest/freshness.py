"""Whether a kept ingest still describes the audio files it names.

A corpus folder's fingerprint (``core.source_fingerprint``) covers every file under it, so a file added, removed or
changed there redoes the ingest. A ``jsonl:`` / ``csv:`` list or an ``hf:`` dataset is fingerprinted by the list (the
dataset folder) alone, and its clips may live anywhere: a clip replaced after the build went unnoticed by a rerun
(every stage skipped, and the records kept describing the old audio), and one that was missing or unreadable and
has since been put in place kept its error. So the ingest records the size and mtime of the audio it read and of
the files it could not read, and a rerun redoes it when they changed, as the measure stage redoes a changed clip.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Iterable, Iterator

from emotioncot.workspace import file_stamp

# sources whose fingerprint does not cover the audio files they name
UNWATCHED = ("jsonl", "csv", "hf")


def names_audio_elsewhere(sources: list[str]) -> bool:
    from emotioncot.ingest.core import parse_source

    return any(parse_source(spec).name in UNWATCHED for spec in sources)


def digest_of(items: Iterable, length: int = 16) -> str:
    """A digest of JSON-able items in their order, fed one at a time (a million clips' paths never become one
    string, as ``stable_hash`` of a list would make them)."""
    digest = hashlib.sha256()
    for item in items:
        digest.update(json.dumps(item, ensure_ascii=False).encode("utf-8") + b"\n")
    return digest.hexdigest()[:length]


def audio_digest(paths: Iterable[str]) -> str:
    """One digest of the size and mtime of every file named, in order (a missing one counts as missing)."""
    return digest_of([path, *file_stamp(path)] for path in paths)


def kept_audio_paths(table: Path, batch_rows: int = 65536) -> Iterator[str]:
    """The ingest table's audio paths in row order, read a batch at a time."""
    import pyarrow.parquet as pq

    for batch in pq.ParquetFile(table).iter_batches(batch_size=batch_rows, columns=["audio_path"]):
        yield from (p for p in batch.column(0).to_pylist() if p)
