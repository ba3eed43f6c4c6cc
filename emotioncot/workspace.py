"""The build folder: stage tables, the per-item journals that make a killed build resumable, errors and build.json.

Layout of a build folder::

    DIR/
      stages/<stage>.parquet       the stage's table (atomic), with <stage>.meta.json holding its key
      journal/<stage>.jsonl        one line per finished item, appended and flushed as it finishes
      errors.jsonl                 one line per failed item: stage, id, path, reason
      thresholds.json              calibration thresholds (re-usable with --thresholds)
      dataset/  parquet/  emotioncot.jsonl  README.md     exports
      build.json                   tool version, config, counts and time per stage, writer

Per-item work is keyed by the item id plus a hash of everything its result depends on. A rerun reads
the journal, skips the keys already there and does the rest. A line cut short by a kill is ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterator

from emotioncot.tables import write_json_atomic


def stable_hash(*parts: Any, length: int = 16) -> str:
    """A short, stable hash of JSON-able parts (dict keys sorted)."""
    blob = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:length]


class Journal:
    """Append-only JSON Lines of finished items, keyed. Each line is flushed and fsynced as written."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._entries: dict[str, dict] = {}
        self._load()
        self._fh = None

    def _load(self) -> None:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        good_end = 0
        for line in data.splitlines(keepends=True):
            if not line.endswith(b"\n"):
                break  # a line cut short by a kill: drop it
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                break
            self._entries[entry["key"]] = entry
            good_end += len(line)
        if good_end != len(data):
            # Truncate the torn tail so the next append starts on a clean line.
            with open(self.path, "r+b") as fh:
                fh.truncate(good_end)

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def get(self, key: str) -> dict | None:
        return self._entries.get(key)

    def __len__(self) -> int:
        return len(self._entries)

    def append(self, key: str, value: dict) -> None:
        entry = {"key": key, **value}
        if self._fh is None:
            self._fh = open(self.path, "a", encoding="utf-8")
        self._fh.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._entries[key] = entry

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Workspace:
    """Paths and bookkeeping of one build folder."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    # paths
    def stage_table(self, stage: str) -> Path:
        return self.root / "stages" / f"{stage}.parquet"

    def stage_meta(self, stage: str) -> Path:
        return self.root / "stages" / f"{stage}.meta.json"

    def journal(self, stage: str) -> Journal:
        return Journal(self.root / "journal" / f"{stage}.jsonl")

    @property
    def errors_path(self) -> Path:
        return self.root / "errors.jsonl"

    @property
    def build_json(self) -> Path:
        return self.root / "build.json"

    @property
    def thresholds_path(self) -> Path:
        return self.root / "thresholds.json"

    # stage completion
    def stage_done(self, stage: str, key: str, outputs: list[Path] | None = None) -> bool:
        """Whether ``stage`` finished with this key and its outputs (default: its table) are in place."""
        meta = self.stage_meta(stage)
        outputs = outputs if outputs is not None else [self.stage_table(stage)]
        if not (meta.exists() and all(p.exists() for p in outputs)):
            return False
        try:
            return json.loads(meta.read_text())["key"] == key
        except (json.JSONDecodeError, KeyError):
            return False

    def mark_stage(self, stage: str, key: str, info: dict | None = None) -> None:
        write_json_atomic(self.stage_meta(stage), {"key": key, **(info or {})})

    def stage_info(self, stage: str) -> dict:
        meta = self.stage_meta(stage)
        return json.loads(meta.read_text()) if meta.exists() else {}

    # errors: each stage's failures are kept per stage and errors.jsonl is rewritten from them, so a
    # rerun replaces a stage's old errors instead of piling up duplicates.
    def set_stage_errors(self, stage: str, errors: list[dict]) -> None:
        path = self.root / "stages" / f"{stage}.errors.json"
        write_json_atomic(path, errors)
        self._rewrite_errors()

    def stage_errors(self, stage: str) -> list[dict]:
        path = self.root / "stages" / f"{stage}.errors.json"
        return json.loads(path.read_text()) if path.exists() else []

    def _rewrite_errors(self) -> None:
        from emotioncot.tables import write_text_atomic

        lines = []
        for stage in ("ingest", "measure", "calibrate", "write", "filter", "export"):
            for err in self.stage_errors(stage):
                lines.append(json.dumps({"stage": stage, **err}, ensure_ascii=False, sort_keys=True))
        write_text_atomic(self.errors_path, "".join(line + "\n" for line in lines))

    def iter_errors(self) -> Iterator[dict]:
        if self.errors_path.exists():
            for line in self.errors_path.read_text().splitlines():
                if line.strip():
                    yield json.loads(line)
