"""``validate``: check a build folder, a saved dataset or a JSONL file, and list every problem found."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

from pydantic import ValidationError

from emotioncot.schema import Record

_JSON_TEXT_FIELDS = ("soft_labels", "meta", "null_reasons", "level_reasons")


def _records_from(path: Path) -> tuple[list[dict], str]:
    path = Path(path)
    if path.is_file():
        rows = []
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{n}: not valid JSON ({exc.msg})") from None
        return rows, "jsonl"
    dataset_dir = path / "dataset" if (path / "dataset").is_dir() else path
    if (dataset_dir / "dataset_dict.json").exists() or (dataset_dir / "dataset_info.json").exists():
        from emotioncot.export import load_dataset_dir

        dd = load_dataset_dir(dataset_dir)
        splits = dd.values() if hasattr(dd, "values") else [dd]
        rows = []
        for ds in splits:
            for row in ds.remove_columns([c for c in ("audio", "messages", "prompt", "solution") if c in ds.column_names]):
                rows.append(row)
        return rows, "dataset"
    raise ValueError(f"{path}: not a build folder, a saved dataset or a JSONL file")


def _as_record(row: dict) -> dict:
    row = dict(row)
    if "transcription" in row and "transcript" not in row:
        row["transcript"] = row.pop("transcription")
    for key in _JSON_TEXT_FIELDS:
        if isinstance(row.get(key), str):
            row[key] = json.loads(row[key]) if row[key] else {}
    return row


def validate_path(path: Path, check_audio: bool = False) -> dict:
    """A report: ``problems`` (each with ``code``, ``message``), counts, class balance. ``ok`` only if no problem."""
    problems: list[dict] = []
    rows, kind = _records_from(path)
    if rows and "task" in rows[0] and "answer" in rows[0]:
        # A prosody task dataset (`emotioncot prosody-tasks`): its own row model and checks.
        from emotioncot.prosody.schema import validate_task_rows

        return validate_task_rows(rows, str(path), kind)
    records = []
    for i, raw in enumerate(rows):
        row = _as_record(raw)
        try:
            records.append(Record.model_validate(row).model_dump())
        except ValidationError as exc:
            for e in exc.errors():
                field = ".".join(map(str, e["loc"]))
                code = "label_vocabulary" if field in ("emotion", "pitch_level", "energy_level", "speed_level", "intonation", "gender", "age_level", "split") else "schema"
                problems.append({"code": code, "id": row.get("id", f"row {i}"), "message": f"{field}: {e['msg']} (value {row.get(field)!r})"})
    ids = Counter(r.get("id") for r in rows)
    for rid, n in ids.items():
        if n > 1:
            problems.append({"code": "duplicate_id", "id": rid, "message": f"id {rid!r} appears {n} times"})
    speaker_splits = defaultdict(set)
    for r in rows:
        if r.get("speaker_id") and r.get("split"):
            speaker_splits[(r.get("corpus"), r["speaker_id"])].add(r["split"])
    for (corpus, spk), splits in speaker_splits.items():
        if len(splits) > 1:
            problems.append({"code": "speaker_leak", "id": None, "message": f"speaker {spk!r} of {corpus} is in {len(splits)} splits: {sorted(splits)}"})
    for r in rows:
        audio = r.get("audio_path")
        if audio and not Path(audio).exists():
            problems.append({"code": "audio_missing", "id": r.get("id"), "message": f"audio file {audio} does not exist"})
        elif audio and check_audio:
            from emotioncot.audio.io import AudioError, read_audio

            try:
                read_audio(audio, r.get("start_s"), r.get("end_s"))
            except AudioError as exc:
                problems.append({"code": "audio_undecodable", "id": r.get("id"), "message": str(exc)})
    balance = Counter(r.get("emotion") for r in rows)
    split_counts = Counter(r.get("split") for r in rows)
    return {
        "path": str(path),
        "kind": kind,
        "rows": len(rows),
        "ok": not problems,
        "problems": problems,
        "problem_counts": dict(Counter(p["code"] for p in problems)),
        "class_balance": {str(k): v for k, v in sorted(balance.items(), key=lambda kv: str(kv[0]))},
        "splits": {str(k): v for k, v in split_counts.items()},
    }
