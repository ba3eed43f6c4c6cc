"""Parquet shards ``{split}-NNNNN-of-NNNNN.parquet``, cut by size, as the Hugging Face Hub lays them out.

Rows arrive in chunks (so embedded audio never has to fit in memory at once). The size of a row is its
audio bytes plus an equal share of its chunk's other columns, uncompressed; a shard is closed before a row
would take it past the limit (a single row bigger than the limit gets a shard of its own). Compressed
files come out smaller than the limit. Shards are written under temporary names and renamed once the
count, which the ``-of-NNNNN`` names need, is known. An empty split gets no file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

AUDIO_ROW_GROUP = 100  # rows per row group when rows carry audio (as the Hub's own audio Parquet files)
TEXT_ROW_GROUP = 10_000


def row_sizes(table: pa.Table, audio_column: str = "audio") -> np.ndarray:
    """Estimated uncompressed bytes of each row of ``table``."""
    n = table.num_rows
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    audio_bytes = np.zeros(n, dtype=np.int64)
    rest_bytes = table.nbytes
    if audio_column in table.column_names:
        audio = table[audio_column].combine_chunks()
        lengths = pc.binary_length(audio.field("bytes")).fill_null(0)
        audio_bytes = lengths.to_numpy(zero_copy_only=False).astype(np.int64)
        rest_bytes -= int(audio_bytes.sum())
    return audio_bytes + max(1, rest_bytes // n)


def shard_name(split: str, index: int, count: int) -> str:
    return f"{split}-{index:05d}-of-{count:05d}.parquet"


class ShardWriter:
    """Writes one split's rows into size-bounded shards in ``folder``."""

    def __init__(self, folder: Path, split: str, schema: pa.Schema, max_mb: float):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.split = split
        self.schema = schema
        self.max_bytes = max(1, int(max_mb * 1024 * 1024))
        self.parts: list[Path] = []
        self._writer: pq.ParquetWriter | None = None
        self._bytes = 0

    def _open(self) -> None:
        path = self.folder / f".{self.split}-{len(self.parts):05d}.partial"
        self.parts.append(path)
        self._writer = pq.ParquetWriter(path, self.schema)
        self._bytes = 0

    def _close_current(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _emit(self, table: pa.Table, has_audio: bool) -> None:
        if table.num_rows:
            self._writer.write_table(table, row_group_size=AUDIO_ROW_GROUP if has_audio else TEXT_ROW_GROUP)

    def write(self, table: pa.Table) -> None:
        sizes = row_sizes(table)
        if table.num_rows == 0:
            return
        has_audio = int(sizes.max()) > 64 * 1024
        if self._writer is None:
            self._open()
        start = 0
        for i, size in enumerate(sizes):
            if self._bytes > 0 and self._bytes + size > self.max_bytes:
                self._emit(table.slice(start, i - start), has_audio)
                self._close_current()
                start = i
                self._open()
            self._bytes += int(size)
        self._emit(table.slice(start), has_audio)

    def close(self) -> list[Path]:
        """Finish the last shard and give every shard its final name; return the final paths (none for an
        empty split: an empty Parquet file breaks ``load_dataset("parquet")``, so the card lists only the
        splits that have rows)."""
        self._close_current()
        final = []
        for index, part in enumerate(self.parts):
            path = self.folder / shard_name(self.split, index, len(self.parts))
            part.replace(path)
            final.append(path)
        return final
