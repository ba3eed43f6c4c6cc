"""Reading sources, checking audio headers in parallel, and assigning splits."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from emotioncot.audio.io import AudioError, audio_info
from emotioncot.config import IngestConfig
from emotioncot.ingest.splits import assign_splits
from emotioncot.ingest.sources import get_reader
from emotioncot.schema import Utterance


@dataclass(frozen=True)
class Source:
    name: str
    path: Path | None
    spec: str


def parse_source(spec: str) -> Source:
    """``demo``, ``NAME=PATH`` (a corpus in its layout), ``jsonl:PATH`` or ``csv:PATH``."""
    if spec.startswith(("jsonl:", "csv:")):
        kind, _, path = spec.partition(":")
        return Source(kind, Path(path), spec)
    if "=" in spec:
        name, _, path = spec.partition("=")
        return Source(name.strip().lower(), Path(path), spec)
    return Source(spec.strip().lower(), None, spec)


def _with_header(row: dict) -> dict:
    info = audio_info(row["audio_path"])
    if row.get("end_s") is not None:
        if row["end_s"] > info.duration_s + 0.05:
            raise AudioError(f"{row['audio_path']}: segment ends at {row['end_s']} s, after the file's end ({info.duration_s:.2f} s)")
        row["duration_s"] = row["end_s"] - (row.get("start_s") or 0.0)
    else:
        row["duration_s"] = info.duration_s - (row.get("start_s") or 0.0)
    if row["duration_s"] <= 0:
        raise AudioError(f"{row['audio_path']}: no audio (duration {info.duration_s:.3f} s)")
    return row


def ingest_sources(specs: list[str], config: IngestConfig | None = None) -> tuple[list[dict], list[dict]]:
    """All utterances of all sources (validated, with durations and splits) and the items left out."""
    config = config or IngestConfig()
    rows, errors = [], []
    for spec in specs:
        source = parse_source(spec)
        reader = get_reader(source.name)
        for item in reader(source.path, {"corpus_name": None}):
            if "error" in item:
                errors.append({"id": item.get("id"), "path": item.get("path"), "reason": item["error"]})
                continue
            try:
                rows.append(Utterance.model_validate(item).model_dump())
            except ValidationError as exc:
                problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
                errors.append({"id": item.get("id"), "path": item.get("audio_path"), "reason": f"invalid row: {problems}"})

    def check(row):
        try:
            return _with_header(row), None
        except AudioError as exc:
            return None, {"id": row["id"], "path": row["audio_path"], "reason": str(exc)}

    kept = []
    with ThreadPoolExecutor(max_workers=max(1, config.workers * 4)) as pool:
        for row, err in pool.map(check, rows):
            if err:
                errors.append(err)
            else:
                kept.append(row)
    seen = set()
    unique = []
    for row in kept:
        if row["id"] in seen:
            errors.append({"id": row["id"], "path": row["audio_path"], "reason": "duplicate id"})
            continue
        seen.add(row["id"])
        unique.append(row)
    assign_splits(unique, config.split_ratios, config.seed, config.text_disjoint)
    return unique, errors
