"""The build folder: stage tables, the per-item journals that make a killed build resumable, errors and build.json.

Layout of a build folder::

    DIR/
      stages/<stage>.parquet       the stage's table (atomic), with <stage>.meta.json holding its key
      journal/<stage>.jsonl        one line per finished item, appended and flushed as it finishes
      errors.jsonl                 one line per failed item: stage, id, path, reason
      thresholds.json              calibration thresholds (re-usable with --thresholds)
      dataset/  parquet/  emotioncot.jsonl  README.md     exports
      build.json                   tool version, config, counts and time per stage, writer
      sources.json                 the sources this folder is built from (other sources are refused)
      .lock                        the running build's pid and host (flock held while it runs)

Per-item work is keyed by the item id plus a hash of everything its result depends on. A rerun reads
the journal, skips the keys already there and does the rest. A line cut short by a kill is ignored.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import time
from pathlib import Path
from typing import Any, Iterator

from emotioncot.errors import BuildError
from emotioncot.tables import write_json_atomic


def file_stamp(path: str) -> list:
    """A file's size and whole-second mtime ([None, None] when it cannot be read): what tells a rerun that an audio
    file changed, for the measure stage's item keys and the ingest of sources whose fingerprint does not cover their
    audio."""
    try:
        st = os.stat(path)
        return [st.st_size, int(st.st_mtime)]
    except OSError:
        return [None, None]


def stable_hash(*parts: Any, length: int = 16) -> str:
    """A short, stable hash of JSON-able parts (dict keys sorted)."""
    blob = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:length]


class Journal:
    """Append-only JSON Lines of finished items, keyed. Each line is flushed and fsynced as written.

    Only the keys and where each line lies are held in memory; an entry is read from the file when asked for, so a
    journal of millions of LLM answers costs tens of bytes per item, not the text of every answer."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._where: dict[str, tuple[int, int]] = {}  # key -> (offset, length) of its newest line
        self._fh = None
        self._reader: int | None = None
        self._load()

    def _load(self) -> None:
        if not self.path.exists():
            return
        good_end = 0
        with open(self.path, "rb") as fh:
            for line in fh:
                if not line.endswith(b"\n"):
                    break  # a line cut short by a kill: drop it
                try:
                    key = json.loads(line)["key"]
                except (json.JSONDecodeError, KeyError, TypeError):
                    break
                self._where[key] = (good_end, len(line))
                good_end += len(line)
        if good_end != self.path.stat().st_size:
            # Truncate the torn tail so the next append starts on a clean line.
            with open(self.path, "r+b") as fh:
                fh.truncate(good_end)

    def __contains__(self, key: str) -> bool:
        return key in self._where

    def get(self, key: str) -> dict | None:
        where = self._where.get(key)
        if where is None:
            return None
        if self._reader is None:
            self._reader = os.open(self.path, os.O_RDONLY)
        return json.loads(os.pread(self._reader, where[1], where[0]))

    def __len__(self) -> int:
        return len(self._where)

    def values(self) -> list[dict]:
        """Every entry (the newest of each key), in the order the keys first came, read from the file."""
        return [self.get(key) for key in self._where]

    def append(self, key: str, value: dict) -> None:
        line = (json.dumps({"key": key, **value}, ensure_ascii=False, default=str) + "\n").encode("utf-8")
        if self._fh is None:
            self._fh = open(self.path, "ab")
        offset = self._fh.seek(0, os.SEEK_END)
        self._fh.write(line)
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._where[key] = (offset, len(line))

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if self._reader is not None:
            os.close(self._reader)
            self._reader = None

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Workspace:
    """Paths and bookkeeping of one build folder."""

    def __init__(self, root: Path):
        self.root = Path(root)
        if self.root.exists() and not self.root.is_dir():
            raise BuildError(f"{self.root} is a file, not a build folder: name a folder (new or a previous build)")
        self.root.mkdir(parents=True, exist_ok=True)

    # one build at a time
    @contextlib.contextmanager
    def lock(self, log=print) -> Iterator[None]:
        """Hold the folder's lock for the block: ``.lock`` is flock-ed (the kernel lets go when the owner
        dies, however it dies) and holds the owner's pid and host for the message a second build gets.
        A lock file still naming an owner when the flock is free was left by a build that was killed:
        it is taken over, with a message."""
        import fcntl

        fh = open(self.root / ".lock", "a+", encoding="utf-8")
        try:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                owner = ""
                for _ in range(20):  # the owner writes its line just after taking the flock: give it a moment
                    fh.seek(0)
                    owner = fh.read().strip()
                    if owner:
                        break
                    time.sleep(0.05)
                owner = owner or "another process"
                raise BuildError(f"{self.root} is in use by another build ({owner}); wait for it to finish, "
                                 f"or build into another --out") from None
            fh.seek(0)
            previous = fh.read().strip()
            if previous:
                log(f"{self.root}: taking over the lock left by a build that stopped ({previous})")
            fh.seek(0)
            fh.truncate()
            fh.write(f"pid {os.getpid()} on {socket.gethostname()}, since {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
            fh.flush()
            try:
                yield
            finally:
                fh.seek(0)
                fh.truncate()  # not unlinked: a second build may already hold this file open, waiting
                fh.flush()
        finally:
            fh.close()

    def claim_sources(self, sources: list[str]) -> None:
        """Record what this folder is built from; a build of other sources into it stops (it would
        silently replace one dataset with another, or mix two)."""
        path = self.root / "sources.json"
        if path.exists():
            try:
                before = json.loads(path.read_text())["sources"]
            except (json.JSONDecodeError, KeyError, TypeError):
                before = None
            if before is not None and sorted(before) != sorted(sources):
                raise BuildError(f"{self.root} holds a build of {', '.join(before)}; it will not take "
                                 f"{', '.join(sources)} as well: build into another --out, or delete the folder")
            if before is not None:
                return
        write_json_atomic(path, {"sources": list(sources)})

    def kept_summary(self) -> str:
        """What a stopped build leaves for the rerun, in a few words."""
        from emotioncot.stages import STAGE_LIST

        done = [st.name for st in STAGE_LIST
                if self.stage_meta(st.name).exists() and all(p.exists() for p in st.output_paths(self))]
        parts = [("finished stages: " + ", ".join(done)) if done else "no stage finished"]
        shards = sorted((self.root / "stages" / "measure").glob("shard-*.parquet"))
        if shards and "measure" not in done:
            parts.append(f"{len(shards)} measure shard(s)")
        journal = self.root / "journal" / "write.jsonl"
        if journal.exists() and "write" not in done:
            with open(journal, "rb") as fh:
                parts.append(f"{sum(1 for _ in fh)} written record(s)")
        return f"kept in {self.root}: " + "; ".join(parts)

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

    def output_key(self, stage: str) -> str | None:
        """What the stage's dependants chain their keys to (``emotioncot.stages``); None if it never ran."""
        info = self.stage_info(stage)
        return info.get("output_key", info.get("key"))

    def stage_info(self, stage: str) -> dict:
        meta = self.stage_meta(stage)
        return json.loads(meta.read_text()) if meta.exists() else {}

    # errors: each stage's failures are kept per stage and errors.jsonl is rewritten from them, so a
    # rerun replaces a stage's old errors instead of piling up duplicates.
    def set_stage_errors(self, stage: str, errors) -> None:
        """Replace the stage's recorded errors by ``errors`` (any iterable of dicts: written line by line, so a
        stage that rejected a million records never holds them)."""
        from emotioncot.tables import atomic_path, commit

        path = self.root / "stages" / f"{stage}.errors.json"
        tmp = atomic_path(path)
        try:
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write("[\n")
                for n, err in enumerate(errors):
                    fh.write((",\n" if n else "") + json.dumps(err, ensure_ascii=False, sort_keys=True, default=str))
                fh.write("\n]\n")
            commit(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        self._rewrite_errors()

    def stage_errors(self, stage: str) -> list[dict]:
        return list(self.iter_stage_errors(stage))

    def iter_stage_errors(self, stage: str) -> Iterator[dict]:
        path = self.root / "stages" / f"{stage}.errors.json"
        if not path.exists():
            return
        with open(path, encoding="utf-8") as fh:
            first = fh.readline()
            if first.strip() != "[":  # written whole by an older version
                yield from json.loads(first + fh.read())
                return
            for line in fh:
                line = line.strip().rstrip(",")
                if line and line != "]":
                    yield json.loads(line)

    def _rewrite_errors(self) -> None:
        from emotioncot.stages import STAGE_NAMES
        from emotioncot.tables import atomic_path, commit

        tmp = atomic_path(self.errors_path)
        try:
            with open(tmp, "w", encoding="utf-8") as fh:
                for stage in STAGE_NAMES:
                    for err in self.iter_stage_errors(stage):
                        fh.write(json.dumps({"stage": stage, **err}, ensure_ascii=False, sort_keys=True) + "\n")
            commit(tmp, self.errors_path)
        finally:
            tmp.unlink(missing_ok=True)

    def error_count(self) -> int:
        if not self.errors_path.exists():
            return 0
        with open(self.errors_path, encoding="utf-8") as fh:
            return sum(1 for line in fh if line.strip())

    def iter_errors(self) -> Iterator[dict]:
        if self.errors_path.exists():
            with open(self.errors_path, encoding="utf-8") as fh:
                for line in fh:
                    if line.strip():
                        yield json.loads(line)
