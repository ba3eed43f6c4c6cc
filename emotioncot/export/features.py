"""Typed ``datasets.Features`` of the export, derived from the ``Record`` model so that a new record field
is exported without touching this module.

Dict fields (``meta``, ``soft_labels``, ``null_reasons``, ``level_reasons``) hold free-form keys, which a
fixed Arrow struct cannot; they are stored as JSON text, exactly as in the stage tables.
"""

from __future__ import annotations

import json
import typing
from typing import Any

import pyarrow as pa

from emotioncot.schema import Record

# Columns the export adds to the record fields (the training views and the audio).
VIEW_COLUMNS = ("messages", "prompt", "solution")
AUDIO_COLUMN = "audio"


def _base(annotation: Any) -> Any:
    """``Optional[X]`` -> ``X``."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is typing.Union and len(args) == 1:
        return args[0]
    return annotation


def field_kind(annotation: Any) -> str:
    """One of ``string``, ``float64``, ``int64``, ``bool``, ``list_<one of those>``, ``json``."""
    base = _base(annotation)
    origin = typing.get_origin(base)
    if base is str or origin is typing.Literal:
        return "string"
    if base is float:
        return "float64"
    if base is bool:
        return "bool"
    if base is int:
        return "int64"
    if origin is list and typing.get_args(base) == (str,):
        return "list_string"
    if origin is list and typing.get_args(base) in ((float,), (int,)):
        return "list_" + ("float64" if typing.get_args(base) == (float,) else "int64")
    if base is dict or origin is dict:
        return "json"
    raise TypeError(f"Record field type {annotation!r} has no export mapping; add one in emotioncot/export/features.py")


def record_kinds() -> dict[str, str]:
    return {name: field_kind(field.annotation) for name, field in Record.model_fields.items()}


def json_fields() -> list[str]:
    return [name for name, kind in record_kinds().items() if kind == "json"]


def export_features():
    """The ``datasets.Features`` of every split: record fields, the training views, the Audio column."""
    import datasets

    chat = datasets.List({"role": datasets.Value("string"), "content": datasets.Value("string")})
    feats = {}
    for name, kind in record_kinds().items():
        if kind.startswith("list_"):
            feats[name] = datasets.List(datasets.Value(kind[len("list_"):]))
        elif kind == "json":
            feats[name] = datasets.Value("string")
        else:
            feats[name] = datasets.Value(kind)
    feats["messages"] = chat
    feats["prompt"] = chat
    feats["solution"] = datasets.Value("string")
    feats[AUDIO_COLUMN] = datasets.Audio()
    return datasets.Features(feats)


def record_columns(records: list[dict]) -> dict[str, list]:
    """Column lists of the record fields (dicts as sorted JSON text, as ``emotioncot.tables`` stores them)."""
    cols = {}
    for name, kind in record_kinds().items():
        values = [r.get(name) for r in records]
        if kind == "json":
            values = [json.dumps(v, sort_keys=True, ensure_ascii=False) if v is not None else None for v in values]
        elif kind.startswith("list_"):
            values = [list(v) if v is not None else None for v in values]
        cols[name] = values
    return cols


def arrow_table(columns: dict[str, list], features) -> pa.Table:
    """A table with exactly the schema ``features`` describe (including the ``huggingface`` metadata that
    lets ``datasets.load_dataset("parquet")`` restore the Audio feature and the other types)."""
    schema = features.arrow_schema
    arrays = [pa.array(columns[f.name], type=f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)
