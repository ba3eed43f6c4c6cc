"""Corpus readers. Each module reads one corpus in its distribution layout and yields ``Utterance`` dicts,
or ``{"error": reason, "path": ..., "id": ...}`` for an item it cannot use."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Callable, Iterable

# corpus name -> module under emotioncot.ingest.sources
READERS = {
    "demo": "demo",
    "jsonl": "tabular",
    "csv": "tabular",
}


def get_reader(name: str) -> Callable[[Path | None, dict], Iterable[dict]]:
    if name not in READERS:
        known = ", ".join(sorted(READERS))
        raise ValueError(f"unknown corpus {name!r}; known: {known}")
    module = importlib.import_module(f"emotioncot.ingest.sources.{READERS[name]}")
    return module.read
