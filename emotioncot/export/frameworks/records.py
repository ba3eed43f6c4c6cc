"""Where the framework exports read a finished build: ``iter_records(build_dir)``.

One function on purpose: the build's streaming reader (issue 32) can replace its body without touching the
framework writers. It reads the filter stage's table, the rows the build keeps, as ``emotioncot export`` does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from emotioncot.schema import Record
from emotioncot.tables import read_table
from emotioncot.workspace import Workspace


def iter_records(build_dir: Path) -> Iterator[dict]:
    """The kept ``Record`` dicts of the build at ``build_dir``; ``FileNotFoundError`` naming the table when the
    build has no filter stage yet."""
    table = Workspace(Path(build_dir)).stage_table("filter")
    if not table.exists():
        raise FileNotFoundError(f"{table}: the build has no filtered records (run `emotioncot build` or `filter`)")
    yield from read_table(table, Record)
