"""Sharded, streaming stage output: ``DIR/stages/<stage>/shard-NNNNN.parquet``.

A shard holds the results of a few dozen items, one row each: ``id``, ``key`` (the item's cache key:
its input and everything its result depends on), ``ok``, ``reason``, ``result`` (JSON text), plus the
worker that did it and how long it took. The worker that measured a shard writes it itself, to a
temporary name renamed into place: a shard file is complete or absent, never half-written.

Resuming works per item: before planning, the keys already present in the shard files are read (the key
column only), and only the missing items are planned into new shards with fresh numbers. An item is
therefore never measured twice, even if the shard size changed between runs; when the final table is
assembled, each wanted key is taken once (the newest shard that holds it: only ``--retry-failed`` puts
a key in two shards), and keys no longer wanted (an older configuration) are ignored.

Failures are classified (emotioncot/errors.py): a clip's own failure (unreadable audio, nothing to
measure) is written like a result and kept; a failure the run caused (an interrupt, a dead worker, an
import cut short, memory or disk exhausted) raises in the worker, so its shard is never written and the
rerun does that work again. Granularity: a kill loses the shards in flight (``executor.shard_size``
clips each, default 64), not single clips: one file per clip would mean hundreds of thousands of tiny
files, and a shard is what one worker writes atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from emotioncot.tables import atomic_path, commit, write_text_atomic

SHARD_NAME = re.compile(r"^shard-(\d{5,})\.parquet$")
SCHEMA = pa.schema([
    ("id", pa.string()), ("key", pa.string()), ("ok", pa.bool_()), ("reason", pa.string()),
    ("result", pa.string()), ("worker", pa.string()), ("seconds", pa.float64()),
])


@dataclass
class ShardTask:
    """What a worker gets: the rows of one shard, their keys, the stage config, where to write, and the item
    function (a top-level function ``(row, config) -> {"ok", "result", "reason"}``, so that it pickles by name)."""

    path: str
    rows: list[dict]
    keys: list[str]
    config: object
    item: Callable[[dict, object], dict] | None = None


class ShardStore:
    """The shard folder of one stage."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def shard_paths(self) -> list[Path]:
        return sorted(p for p in self.folder.iterdir() if SHARD_NAME.match(p.name))

    def keep_only(self, stage_key: str) -> None:
        """Start the folder afresh when the stage's key changed (stages whose item keys are the stage key and the
        id: their old shards can never be used again)."""
        marker = self.folder / "STAGE_KEY"
        if marker.exists() and marker.read_text().strip() == stage_key:
            return
        for path in self.shard_paths():
            path.unlink()
        write_text_atomic(marker, stage_key + "\n")

    def failed_keys(self) -> set[str]:
        """The keys of the items whose own failure a shard records (what ``--retry-failed`` measures again)."""
        failed: set[str] = set()
        for path in self.shard_paths():
            table = pq.read_table(path, columns=["key", "ok", "result"])
            for key, ok, result in zip(*(table.column(c).to_pylist() for c in ("key", "ok", "result"))):
                if not ok or (result and json.loads(result).get("error")):
                    failed.add(key)
        return failed

    def next_number(self) -> int:
        return max((int(SHARD_NAME.match(p.name).group(1)) for p in self.shard_paths()), default=-1) + 1

    def index(self) -> "ShardIndex":
        return ShardIndex(self)

    def _remove_temporaries(self) -> None:
        # Left by a worker killed mid-write; never mistaken for a shard (they do not match SHARD_NAME).
        for p in self.folder.glob(".shard-*.tmp"):
            p.unlink(missing_ok=True)


def key64(key: str) -> int:
    """A 64-bit digest of an item key: what the index holds (8 bytes a key, not a Python string of 60)."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "little")


class ShardIndex:
    """Where each key's entry is, for a stage of any length: sorted arrays of the keys' 64-bit digests and their
    shard and row (about 16 bytes a key; the newest shard wins where several hold a key), built from the key
    columns alone. ``entries`` reads the entries of keys in the caller's order, a few shards in memory at a
    time (a first run writes its shards in that order, so the reads are nearly sequential)."""

    CACHED_SHARDS = 32

    def __init__(self, store: ShardStore):
        self.folder = store.folder
        self.paths = store.shard_paths()
        digests, shards, rows = [], [], []
        for n, path in enumerate(self.paths):
            keys = pq.read_table(path, columns=["key"]).column("key").to_pylist()
            digests.append(np.fromiter((key64(k) for k in keys), dtype=np.uint64, count=len(keys)))
            shards.append(np.full(len(keys), n, dtype=np.int32))
            rows.append(np.arange(len(keys), dtype=np.int32))
        digest = np.concatenate(digests) if digests else np.empty(0, np.uint64)
        shard = np.concatenate(shards) if shards else np.empty(0, np.int32)
        row = np.concatenate(rows) if rows else np.empty(0, np.int32)
        # The newest shard wins: sort by digest, then shard descending, and keep the first of each digest.
        order = np.lexsort((-shard.astype(np.int64), digest))
        digest, shard, row = digest[order], shard[order], row[order]
        first = np.ones(len(digest), dtype=bool)
        first[1:] = digest[1:] != digest[:-1]
        self.digest, self.shard, self.row = digest[first], shard[first], row[first]
        self._cache: dict[int, list[dict]] = {}

    def __len__(self) -> int:
        return len(self.digest)

    def locate(self, digests: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(shard, row) of each digest; shard -1 where no shard holds it."""
        if not len(self.digest):
            missing = np.full(len(digests), -1, dtype=np.int32)
            return missing, missing.copy()
        at = np.minimum(np.searchsorted(self.digest, digests), len(self.digest) - 1)
        found = self.digest[at] == digests
        return np.where(found, self.shard[at], -1), np.where(found, self.row[at], -1)

    def contains(self, digests: np.ndarray) -> np.ndarray:
        return self.locate(digests)[0] >= 0

    def entries(self, keys: list[str]) -> list[dict | None]:
        """The entry of each key (``result`` parsed), or None where no shard holds it."""
        found = self.entries_at(np.fromiter((key64(k) for k in keys), dtype=np.uint64, count=len(keys)))
        for key, entry in zip(keys, found):
            if entry is not None and entry["key"] != key:  # a 64-bit digest collision: never seen, never trusted
                raise RuntimeError(f"{self.folder}: {entry['key']} stands where {key} was looked for")
        return found

    def entries_at(self, digests: np.ndarray) -> list[dict | None]:
        """The entry of each key digest (``result`` parsed), or None where no shard holds it. For a caller that kept
        the digests of its keys rather than the keys (a key of a clip stats its file: once is enough)."""
        shards, rows = self.locate(digests)
        out: list[dict | None] = []
        for n, r in zip(shards.tolist(), rows.tolist()):
            if n < 0:
                out.append(None)
                continue
            entry = dict(self._shard(n)[r])
            entry["result"] = json.loads(entry["result"]) if entry["result"] else None
            out.append(entry)
        return out

    def _shard(self, n: int) -> list[dict]:
        if n not in self._cache:
            if len(self._cache) >= self.CACHED_SHARDS:
                self._cache.pop(next(iter(self._cache)))  # the oldest read
            self._cache[n] = pq.read_table(self.paths[n]).to_pylist()
        return self._cache[n]


def write_shard(path: Path, entries: list[dict]) -> None:
    table = pa.Table.from_pylist(entries, schema=SCHEMA)
    tmp = atomic_path(Path(path))
    try:
        pq.write_table(table, tmp)
        commit(tmp, Path(path))
    finally:
        tmp.unlink(missing_ok=True)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def measure_shard(task: ShardTask) -> dict:
    """Measure every row of one shard and write the shard file. Runs in a worker process (local or Ray)."""
    from emotioncot.measure.item import measure_one

    return item_shard(ShardTask(task.path, task.rows, task.keys, task.config, measure_one))


def item_shard(task: ShardTask) -> dict:
    """Run the task's item function on every row of one shard and write the shard file (in a worker process)."""
    started, cpu_started = time.perf_counter(), time.process_time()
    worker = worker_name()
    entries, failed = [], 0
    for row, key in zip(task.rows, task.keys):
        t0 = time.perf_counter()
        out = task.item(row, task.config)
        ok = bool(out["ok"])
        failed += (not ok) or bool((out.get("result") or {}).get("error"))
        entries.append({
            "id": row["id"], "key": key, "ok": ok, "reason": out.get("reason"),
            "result": json.dumps(out["result"], default=str, ensure_ascii=False) if ok else None,
            "worker": worker, "seconds": round(time.perf_counter() - t0, 6),
        })
    write_shard(Path(task.path), entries)
    return {"path": task.path, "items": len(entries), "failed": failed, "worker": worker,
            "seconds": round(time.perf_counter() - started, 6),
            "cpu_s": round(time.process_time() - cpu_started, 6)}
