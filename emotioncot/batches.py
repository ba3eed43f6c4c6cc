"""Stage tables read and written in bounded record batches, so that no stage holds a whole table as Python objects.

``TableWriter`` validates each batch against its row model and appends it to a Parquet file under a temporary
name, renamed into place on ``close`` (a killed stage leaves no file that looks complete). Its Arrow schema is
derived from the model, so every batch has the same column types whatever it holds (a batch whose levels are all
null still writes a string column). ``iter_rows`` reads a table back batch by batch as dicts (JSON text fields
decoded, absent columns given the model's default) without pandas or pydantic: the rows were validated when
written.

The files are ordinary Parquet: ``emotioncot.tables.read_table`` reads them too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Iterator

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel

from emotioncot.tables import atomic_path, commit, validate_rows

BATCH_ROWS = 2000  # rows per batch: a few MB of dicts at most, whatever the table's length

_ARROW = {"string": pa.string(), "float64": pa.float64(), "int64": pa.int64(), "bool": pa.bool_(), "json": pa.string()}


def _kinds(model: type[BaseModel]) -> dict[str, str]:
    from emotioncot.export.features import field_kind

    return {name: field_kind(field.annotation) for name, field in model.model_fields.items()}


def arrow_schema(model: type[BaseModel]) -> pa.Schema:
    """One Arrow field per model field: dict fields as JSON text, lists of scalars as Arrow lists."""
    fields = []
    for name, kind in _kinds(model).items():
        typ = pa.list_(_ARROW[kind[len("list_"):]]) if kind.startswith("list_") else _ARROW[kind]
        fields.append(pa.field(name, typ))
    return pa.schema(fields)


class TableWriter:
    """A stage table written batch by batch: ``write(rows)`` validates and appends, ``close()`` renames the
    finished file into place, ``abort()`` (or leaving the ``with`` block on an exception) removes it."""

    def __init__(self, path: Path, model: type[BaseModel], validate: bool = True):
        self.path, self.model, self.validate = Path(path), model, validate
        self.schema = arrow_schema(model)
        self.json_fields = [n for n, k in _kinds(model).items() if k == "json"]
        self.tmp = atomic_path(self.path)
        self.writer = pq.ParquetWriter(self.tmp, self.schema)
        self.rows = 0

    def write(self, rows: list[dict]) -> None:
        if not rows:
            return
        if self.validate:
            rows = validate_rows(rows, self.model, self.path.name)
        columns = {}
        for field in self.schema:
            values = [r.get(field.name) for r in rows]
            if field.name in self.json_fields:
                values = [json.dumps(v, sort_keys=True, ensure_ascii=False) if v is not None else None for v in values]
            columns[field.name] = pa.array(values, type=field.type)
        self.writer.write_table(pa.table(columns, schema=self.schema))
        self.rows += len(rows)

    def close(self) -> Path:
        self.writer.close()
        commit(self.tmp, self.path)
        return self.path

    def abort(self) -> None:
        try:
            self.writer.close()
        finally:
            self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> "TableWriter":
        return self

    def __exit__(self, kind, exc, tb) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()


def write_batches(path: Path, batches: Iterable[list[dict]], model: type[BaseModel]) -> int:
    """Every batch of ``batches`` into one table at ``path``; the number of rows written."""
    with TableWriter(path, model) as writer:
        for rows in batches:
            writer.write(rows)
    return writer.rows


def num_rows(path: Path) -> int:
    return pq.ParquetFile(path).metadata.num_rows


def iter_rows(path: Path, model: type[BaseModel] | None = None, batch_rows: int = BATCH_ROWS,
              columns: list[str] | None = None) -> Iterator[list[dict]]:
    """The rows of a table as lists of at most ``batch_rows`` dicts, in table order. With ``model``, every
    model field is present (absent columns, from an older table, get the default) and JSON text is decoded."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: table not found")
    # pre-buffering (pyarrow's default) keeps what it read for the file's whole life: memory grew by about 300 bytes
    # a record over a million-record table; unbuffered reads hold one batch
    file = pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 20)
    present = set(file.schema_arrow.names)
    wanted = [c for c in (columns or (list(model.model_fields) if model else file.schema_arrow.names)) if c in present]
    kinds = _kinds(model) if model else {}
    json_fields = [n for n in wanted if kinds.get(n) == "json"]
    defaults = {}
    if model:
        for name, field in model.model_fields.items():
            if name not in present and (columns is None or name in columns):
                defaults[name] = field.get_default(call_default_factory=True)
    for batch in file.iter_batches(batch_size=batch_rows, columns=wanted, use_threads=False):
        rows = batch.to_pylist()
        for row in rows:
            for name in json_fields:
                text = row[name]
                row[name] = json.loads(text) if text else ({} if text == "" else None)
            for name, value in defaults.items():
                row[name] = value.copy() if isinstance(value, (dict, list)) else value
            _nan_to_none(row)
        yield rows


def _nan_to_none(row: dict) -> None:
    # pandas-written tables keep NaN where a float was missing; the row models say None
    for key, value in row.items():
        if isinstance(value, float) and value != value:
            row[key] = None

