"""``validate``: check a build folder, a saved dataset or a JSONL file, and list every problem found.

Problems (each fails validation): ``schema``, ``label_vocabulary``, ``duplicate_id``, ``duplicate_audio``,
``speaker_leak`` (a speaker in more than one split), ``audio_missing``, ``audio_undecodable`` (with
``check_audio``); for a build folder also ``damaged_file`` / ``artefact_mismatch`` (every Parquet shard,
``emotioncot.jsonl`` and the card against ``dataset/`` and the checksums recorded at export, see
emotioncot/validate_build.py). Warnings (reported, not failing): ``class_imbalance``, ``missing_class``,
``no_split``, ``small_split``, ``no_checksums``. ``text_<reason>``: a rationale or caption that the filter's
checks reject today (on by default for builds and saved datasets; emotioncot/validate_text.py).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from emotioncot.filter.io import VOCABULARIES, canonical, read_jsonl
from emotioncot.schema import Record
from emotioncot.taxonomy import EMOTIONS
from emotioncot.wording import count

_JSON_TEXT_FIELDS = ("soft_labels", "meta", "null_reasons", "level_reasons")
_VOCAB_FIELDS = set(VOCABULARIES) | {"split"}


class ReleaseRow(BaseModel):
    """A row of a public-format EmotionCoT JSONL file (fields under canonical names, extra fields allowed)."""

    model_config = ConfigDict(extra="allow")

    audio_path: str = Field(min_length=1)
    emotion: str
    transcript: str | None = None
    cot_analysis: str | None = None
    stressed_words: list[str] = Field(default_factory=list)


def _dataset_dir(path: Path) -> Path:
    return path / "dataset" if (path / "dataset").is_dir() else path


def _rows_from(path: Path) -> tuple[list[dict], str, Path | None, dict]:
    """(rows, kind, folder that relative audio paths are relative to, embedded audio bytes by row index)."""
    path = Path(path)
    if path.is_file():
        return [row for _, row in read_jsonl(path)], "jsonl", path.parent, {}
    dataset_dir = _dataset_dir(path)
    if (dataset_dir / "dataset_dict.json").exists() or (dataset_dir / "dataset_info.json").exists():
        from emotioncot.export import load_dataset_dir

        dd = load_dataset_dir(dataset_dir)
        splits = dd.values() if hasattr(dd, "values") else [dd]
        rows, audio_bytes = [], {}
        for ds in splits:
            for row in ds.remove_columns([c for c in ("messages", "prompt", "solution") if c in ds.column_names]):
                audio = row.pop("audio", None)
                if isinstance(audio, dict) and audio.get("bytes"):
                    audio_bytes[len(rows)] = audio["bytes"]
                rows.append(row)
        return rows, "dataset", None, audio_bytes
    table = path / "stages" / "filter.parquet"
    if table.exists():
        from emotioncot.tables import read_table

        rows = [{k: _clean(v) for k, v in r.items()} for r in read_table(table, Record, validate=False)]
        return rows, "build", None, {}
    raise ValueError(f"{path}: not a build folder, a saved dataset or a JSONL file")


def _clean(value):
    import math

    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return value.tolist()
    return value


def _as_record(row: dict) -> dict:
    row = canonical(row)
    for key in _JSON_TEXT_FIELDS:
        if isinstance(row.get(key), str):
            try:
                row[key] = json.loads(row[key]) if row[key] else {}
            except json.JSONDecodeError:
                pass
    return row


def _row_id(row: dict, i: int) -> str:
    return str(row.get("id") or f"row {i + 1}")


def validate_path(path: Path, check_audio: bool = False, max_imbalance: float = 10.0,
                  check_text: bool | None = None, progress: bool = False) -> dict:
    """A report: ``problems`` and ``warnings`` (each with ``code``, ``id``, ``message``), counts and class
    balance. ``ok`` is true only when there is no problem. ``check_text`` reads every rationale and caption
    again with the filter's checks (emotioncot/validate_text.py); None: for builds and saved datasets, not
    for JSONL files (a public-format release need not follow this filter's house rules)."""
    problems: list[dict] = []
    warnings: list[dict] = []
    path = Path(path)
    try:
        raw_rows, kind, base, audio_bytes = _rows_from(path)
    except Exception as exc:  # a damaged dataset/ (truncated Arrow file, bad JSON): named, never a traceback
        if isinstance(exc, ValueError) and "not a build folder" in str(exc):
            raise
        raw_rows, kind, base, audio_bytes = [], "damaged", None, {}
        problems.append({"code": "damaged_file", "id": None,
                         "message": f"{_dataset_dir(path)}: cannot be loaded ({type(exc).__name__}: {exc})"})
    if path.is_dir() and (path / "dataset").is_dir():
        from emotioncot.validate_build import check_build_artefacts

        artefact_problems, artefact_warnings = check_build_artefacts(path, raw_rows if kind == "dataset" else None)
        problems += artefact_problems
        warnings += artefact_warnings
    if raw_rows and "task" in raw_rows[0] and "answer" in raw_rows[0]:
        # A prosody task dataset (`emotioncot prosody-tasks`): its own row model and checks.
        from emotioncot.prosody.schema import validate_task_rows

        from emotioncot.validate_build import split_warnings

        report = validate_task_rows(raw_rows, str(path), kind)
        # the same empty-split warnings a build gives (a task set of one speaker's build has no test split)
        report["warnings"] = report.get("warnings", []) + split_warnings(report["splits"])
        report["audio_check"] = {"requested": check_audio, "decoded": 0,
                                 "note": "prosody task audio is checked by prosody-tasks itself, not decoded here"}
        return report
    rows = [_as_record(r) for r in raw_rows]

    for i, row in enumerate(rows):
        rid = _row_id(row, i)
        full = "writer" in row or kind != "jsonl"
        model = Record if full else ReleaseRow
        try:
            model.model_validate(row)
        except ValidationError as exc:
            for e in exc.errors():
                field = ".".join(map(str, e["loc"]))
                code = "label_vocabulary" if field in _VOCAB_FIELDS and e["type"] != "missing" else "schema"
                value = f" (value {row.get(field)!r})" if field in row else ""
                problems.append({"code": code, "id": rid, "message": f"{field}: {e['msg']}{value}"})
        if not full:
            for field, message in _vocabulary(row):
                problems.append({"code": "label_vocabulary", "id": rid, "message": message})

    text_check = {"checked": False}
    if check_text or (check_text is None and kind in ("build", "dataset")):
        from emotioncot.validate_text import build_filter_config, text_problems

        filter_config, source = build_filter_config(path)
        problems += text_problems(rows, filter_config, progress=progress)
        text_check = {"checked": True, "rows": len(rows), "filter_config": source}

    ids = Counter(r.get("id") for r in rows if r.get("id"))
    for rid, n in ids.items():
        if n > 1:
            problems.append({"code": "duplicate_id", "id": rid, "message": f"id {rid!r} appears {n} times"})
    segments = Counter((r.get("audio_path"), r.get("start_s"), r.get("end_s")) for r in rows if r.get("audio_path"))
    for (audio, start, end), n in segments.items():
        if n > 1:
            where = f" [{start}-{end} s]" if start is not None or end is not None else ""
            problems.append({"code": "duplicate_audio", "id": None, "message": f"audio {audio}{where} is used by {count(n, 'row')}"})

    from emotioncot.ingest.splits import speakers_in_several_splits

    for (corpus, spk), splits in speakers_in_several_splits(rows).items():
        name = f"speaker {spk!r}" + (f" of {corpus}" if corpus else "")
        problems.append({"code": "speaker_leak", "id": None, "message": f"{name} is in {len(splits)} splits: {', '.join(sorted(splits))}"})

    decoded = 0  # rows whose audio --check-audio decoded (the JSON report says how many)
    for i, r in enumerate(rows):
        audio = r.get("audio_path")
        if i in audio_bytes:
            if check_audio:
                _decode_bytes(audio_bytes[i], _row_id(r, i), problems)
                decoded += 1
            continue
        if not audio:
            continue
        file = Path(audio)
        if not file.is_absolute() and base is not None:
            file = base / file
        if not file.exists():
            problems.append({"code": "audio_missing", "id": _row_id(r, i), "message": f"audio file {file} does not exist"})
        elif check_audio:
            from emotioncot.audio.io import AudioError, read_audio, record_channel

            decoded += 1
            try:
                read_audio(file, r.get("start_s"), r.get("end_s"), channel=record_channel(r))
            except (AudioError, OSError, ValueError) as exc:
                problems.append({"code": "audio_undecodable", "id": _row_id(r, i), "message": f"{file}: {exc}"})

    balance = Counter(r.get("emotion") for r in rows)
    in_set = {e: balance.get(e, 0) for e in EMOTIONS}
    present = [n for n in in_set.values() if n]
    if present and max(present) > max_imbalance * min(present):
        rare = min((e for e in EMOTIONS if in_set[e]), key=lambda e: in_set[e])
        common = max(EMOTIONS, key=lambda e: in_set[e])
        warnings.append({"code": "class_imbalance", "id": None,
                         "message": f"{common} has {in_set[common]} rows, {rare} only {in_set[rare]} (more than {max_imbalance:g}x)"})
    if present and len(present) < len(EMOTIONS):
        missing = [e for e in EMOTIONS if not in_set[e]]
        warnings.append({"code": "missing_class", "id": None, "message": f"no rows of {', '.join(missing)}"})
    split_counts = Counter(r.get("split") for r in rows)
    if rows and None in split_counts and kind != "jsonl":
        warnings.append({"code": "no_split", "id": None, "message": f"{count(split_counts[None], 'row')} {'has' if split_counts[None] == 1 else 'have'} no split"})
    if rows and not (None in split_counts and len(split_counts) == 1):  # JSONL too, where its rows carry splits
        from emotioncot.validate_build import split_warnings

        warnings += split_warnings(split_counts)
    return {
        "path": str(path),
        "kind": kind,
        "rows": len(rows),
        "ok": not problems,
        "problems": problems,
        "problem_counts": dict(Counter(p["code"] for p in problems)),
        "warnings": warnings,
        "class_balance": {str(k): v for k, v in sorted(balance.items(), key=lambda kv: str(kv[0]))},
        "splits": {str(k): v for k, v in split_counts.items()},
        "text_check": text_check,
        "audio_check": {"requested": check_audio, "decoded": decoded},
    }


def _vocabulary(row: dict) -> list[tuple[str, str]]:
    from emotioncot.filter.io import vocabulary_problems

    return vocabulary_problems(row)


def _decode_bytes(data: bytes, rid: str, problems: list[dict]) -> None:
    import io

    import soundfile as sf

    from emotioncot.audio.io import wav_shortfall

    short = wav_shortfall(io.BytesIO(data), len(data))
    if short:
        problems.append({"code": "audio_undecodable", "id": rid, "message": f"embedded audio: {short}"})
        return
    try:
        sf.read(io.BytesIO(data), frames=1024)
    except Exception as exc:  # any decoder failure is the problem being reported
        problems.append({"code": "audio_undecodable", "id": rid, "message": f"embedded audio does not decode ({exc})"})
