"""``checksums.json``: size, SHA-256 and row count of every exported file, recorded at export, so that
``validate`` can tell a file changed, cut short or removed since (a relabelled shard still parses)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from emotioncot.tables import write_json_atomic

NAME = "checksums.json"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def exported_files(out: Path) -> list[Path]:
    """Every file a user or the Hub reads: the shards, the saved dataset, the JSONL and the card."""
    out = Path(out)
    files = sorted((out / "parquet").glob("*.parquet")) + sorted(p for p in (out / "dataset").rglob("*") if p.is_file())
    return files + [p for p in (out / "emotioncot.jsonl", out / "README.md") if p.is_file()]


def write_checksums(out: Path) -> None:
    out = Path(out)
    entries = {p.relative_to(out).as_posix(): {"bytes": p.stat().st_size, "sha256": sha256(p)} for p in exported_files(out)}
    write_json_atomic(out / NAME, {"files": entries})


def check_checksums(out: Path) -> list[tuple[str, str]] | None:
    """``(file, problem)`` for every recorded file that is missing or changed, and every shard that was not
    exported; None when no checksums were recorded (an export of an older version)."""
    out = Path(out)
    path = out / NAME
    if not path.exists():
        return None
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [(str(path), f"unreadable ({exc})")]
    problems = []
    for rel, want in sorted(entries.items()):
        file = out / rel
        if not file.is_file():
            problems.append((str(file), "missing (it was exported; rerun `emotioncot export`)"))
        elif file.stat().st_size != want["bytes"]:
            problems.append((str(file), f"{file.stat().st_size} bytes, {want['bytes']} at export (truncated or replaced)"))
        elif sha256(file) != want["sha256"]:
            problems.append((str(file), "content changed since export (checksum differs)"))
    for file in sorted((out / "parquet").glob("*.parquet")):
        if file.relative_to(out).as_posix() not in entries:
            problems.append((str(file), "not part of the export (a stray shard would be uploaded and read)"))
    return problems
