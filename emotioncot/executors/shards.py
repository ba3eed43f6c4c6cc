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

import json
import os
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

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

    def done_keys(self) -> set[str]:
        keys: set[str] = set()
        for path in self.shard_paths():
            keys.update(pq.read_table(path, columns=["key"]).column("key").to_pylist())
        return keys

    def keep_only(self, stage_key: str) -> None:
        """Start the folder afresh when the stage's key changed (stages whose item keys are the stage key and the
        id: their old shards can never be used again)."""
        marker = self.folder / "STAGE_KEY"
        if marker.exists() and marker.read_text().strip() == stage_key:
            return
        for path in self.shard_paths():
            path.unlink()
        write_text_atomic(marker, stage_key + "\n")

    def has_failures(self) -> bool:
        """Whether any shard records an item's own failure (what ``--retry-failed`` measures again)."""
        for path in self.shard_paths():
            table = pq.read_table(path, columns=["ok", "result"])
            for ok, result in zip(table.column("ok").to_pylist(), table.column("result").to_pylist()):
                if not ok or (result and json.loads(result).get("error")):
                    return True
        return False

    def plan(self, rows: list[dict], keys: list[str], shard_size: int, config,
             redo: set[str] | None = None, item: Callable | None = None) -> list[ShardTask]:
        """New shards for the rows whose keys no shard holds yet (or that are in ``redo``: recorded
        failures to try again), numbered after the existing ones."""
        self._remove_temporaries()
        done = self.done_keys() - set(redo or ())
        todo = [(row, key) for row, key in zip(rows, keys) if key not in done]
        existing = [int(SHARD_NAME.match(p.name).group(1)) for p in self.shard_paths()]
        start = max(existing, default=-1) + 1
        size = max(1, int(shard_size))
        tasks = []
        for n, first in enumerate(range(0, len(todo), size)):
            chunk = todo[first:first + size]
            tasks.append(ShardTask(path=str(self.folder / f"shard-{start + n:05d}.parquet"),
                                   rows=[r for r, _ in chunk], keys=[k for _, k in chunk], config=config,
                                   item=item))
        return tasks

    def iter_entries(self, wanted: set[str]) -> Iterator[dict]:
        """Each wanted key once; where several shards hold a key (a failure tried again with
        ``--retry-failed``), the newest shard wins."""
        latest: dict[str, dict] = {}
        for path in self.shard_paths():
            for entry in pq.read_table(path).to_pylist():
                if entry["key"] in wanted:
                    latest[entry["key"]] = entry
        for entry in latest.values():
            entry["result"] = json.loads(entry["result"]) if entry["result"] else None
            yield entry

    def _remove_temporaries(self) -> None:
        # Left by a worker killed mid-write; never mistaken for a shard (they do not match SHARD_NAME).
        for p in self.folder.glob(".shard-*.tmp"):
            p.unlink(missing_ok=True)


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
