"""The report page of a ``prosody-tasks`` folder: each question with its audio and its answer."""

from __future__ import annotations

import json
import random
import shutil
import tempfile
from pathlib import Path

import pyarrow.parquet as pq

from emotioncot.audio.io import AudioError
from emotioncot.report.audio import clip_signal, write_opus, write_opus_bytes
from emotioncot.report.data import page_name, round_robin
from emotioncot.report.pages import tasks_page
from emotioncot.report.site import copy_assets, folder_bytes, swap_in


def is_tasks_folder(folder: Path) -> bool:
    return (Path(folder) / "prosody_tasks.json").exists()


def _rows(folder: Path) -> list[dict]:
    shards = sorted((Path(folder) / "parquet").glob("*.parquet"))
    if not shards:
        raise FileNotFoundError(f"{folder}: no parquet/*.parquet (not a finished prosody-tasks folder)")
    rows = []
    for shard in shards:
        rows.extend(pq.read_table(shard).to_pylist())
    return rows


def _spread(rows: list[dict], n: int, seed: int) -> list[dict]:
    """Up to ``n`` questions, round robin over the tasks (seeded order within each)."""
    rng = random.Random(seed)
    by_task: dict[str, list[dict]] = {}
    for r in sorted(rows, key=lambda r: r["id"]):
        by_task.setdefault(r["task"], []).append(r)
    queues = [by_task[t] for t in sorted(by_task)]
    for q in queues:
        rng.shuffle(q)
    return round_robin(queues, n)


def write_tasks_report(folder: Path, out: Path | None = None, sample: int = 60, seed: int = 0) -> dict:
    folder = Path(folder)
    summary = json.loads((folder / "prosody_tasks.json").read_text())
    chosen = _spread(_rows(folder), sample, seed)
    out = Path(out) if out else folder / "report"
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        copy_assets(work)
        (work / "audio").mkdir()
        items = []
        for row in chosen:
            name = page_name(row["id"])
            item = {k: row.get(k) for k in ("id", "task", "split", "question", "options", "answer")}
            cell = row.get("audio") or {}
            try:
                dest = work / "audio" / f"{name}.ogg"
                if cell.get("bytes"):
                    item["duration"] = write_opus_bytes(cell["bytes"], dest, row["id"])
                else:
                    item["duration"] = write_opus(clip_signal({**row, "audio_path": cell.get("path") or row["audio_path"]}), dest)
                item["audio"] = f"audio/{name}.ogg"
            except (AudioError, OSError, ValueError) as exc:
                item["audio_problem"] = str(exc)
            items.append(item)
        (work / "index.html").write_text(tasks_page(items, summary), encoding="utf-8")
        swap_in(work, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"path": str(out), "pages": 1, "questions": len(items), "bytes": folder_bytes(out)}
