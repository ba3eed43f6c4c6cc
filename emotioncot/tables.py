"""Reading and writing stage tables: validated against the row models, dict fields as JSON text, atomic.

A table file is written to a temporary name in the same folder and renamed into place, so a killed
process never leaves a half-written file under the final name.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ValidationError


class TableValidationError(ValueError):
    """A table row does not fit its model; the message names the table, the row id and the field."""


def _json_fields(model: type[BaseModel]) -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        ann = str(field.annotation)
        if ann.startswith("dict") or "dict[" in ann:
            out.append(name)
    return out


def _clean(value: Any) -> Any:
    """pandas NaN / NA -> None, numpy scalars -> Python."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return value.tolist()
    return value


def validate_rows(rows: Iterable[dict], model: type[BaseModel], table_name: str = "table") -> list[dict]:
    """Validate dict rows against ``model``; return normalised dicts (defaults filled, types coerced)."""
    json_fields = set(_json_fields(model))
    out = []
    for i, row in enumerate(rows):
        clean = {}
        for k, v in row.items():
            v = _clean(v)
            if k in json_fields and isinstance(v, str):
                v = json.loads(v) if v else {}
            clean[k] = v
        try:
            out.append(model.model_validate(clean).model_dump())
        except ValidationError as exc:
            rid = clean.get("id", f"row {i}")
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise TableValidationError(f"{table_name}: record {rid!r} does not fit {model.__name__}: {problems}") from None
    return out


def to_frame(rows: list[dict], model: type[BaseModel]) -> pd.DataFrame:
    """Rows (validated dicts) -> a DataFrame with every model column, dict fields as JSON text."""
    json_fields = _json_fields(model)
    frame = pd.DataFrame(rows, columns=model.model_fields.keys())
    for name in json_fields:
        frame[name] = [json.dumps(v, sort_keys=True, ensure_ascii=False) if v is not None else None for v in frame[name]]
    return frame


def from_frame(frame: pd.DataFrame, model: type[BaseModel], table_name: str = "table") -> list[dict]:
    return validate_rows(frame.to_dict(orient="records"), model, table_name)


def atomic_path(path: Path):
    """A temporary sibling of ``path``; rename it onto ``path`` once complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get the mode any new file would
    finally:
        os.close(fd)
    return Path(tmp)


def _umask() -> int:
    # read without leaving it changed (os.umask can only be read by setting it)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def commit(tmp: Path, path: Path) -> None:
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def write_text_atomic(path: Path, text: str) -> None:
    tmp = atomic_path(path)
    tmp.write_text(text, encoding="utf-8")
    commit(tmp, path)


def write_json_atomic(path: Path, obj: Any) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n")


def write_table(path: Path, rows: list[dict], model: type[BaseModel], validate: bool = True) -> Path:
    """Validate ``rows`` against ``model`` and write them to Parquet at ``path`` atomically."""
    path = Path(path)
    if validate:
        rows = validate_rows(rows, model, path.name)
    frame = to_frame(rows, model)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    tmp = atomic_path(path)
    try:
        pq.write_table(table, tmp)
        commit(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def read_table(path: Path, model: type[BaseModel], validate: bool = True) -> list[dict]:
    """Read a Parquet table written by ``write_table`` back into validated dict rows."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: table not found")
    frame = pq.read_table(path).to_pandas()
    if validate:
        return from_frame(frame, model, str(path))
    return frame.to_dict(orient="records")


