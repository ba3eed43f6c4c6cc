"""The files of a build folder beyond ``dataset/``: every file a user or the Hub reads is checked, and a
damaged one is a problem naming it, never a traceback.

* ``checksums.json`` (recorded at export): every exported file present, of its size and content;
* every Parquet shard: readable, with the export schema, and its ids (per split) equal to ``dataset/``'s;
* ``emotioncot.jsonl``: every line an object, its ids equal to ``dataset/``'s;
* ``README.md`` (the card): present and not empty;
* the stage chain (``emotioncot.stages``): no stage built on an earlier stage's result that was since replaced (a
  stage command run alone on a finished build), so that the exports show what the stage tables hold.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from emotioncot.taxonomy import SPLITS
from emotioncot.wording import count

# A split this small (but not empty) gets a warning: its metrics would mean little.
SMALL_SPLIT = 20


def _problem(code: str, file: Path | str, message: str) -> dict:
    return {"code": code, "id": None, "message": f"{file}: {message}"}


def check_build_artefacts(root: Path, dataset_rows: list[dict] | None) -> tuple[list[dict], list[dict]]:
    """``(problems, warnings)`` for the exported files of build folder ``root``; ``dataset_rows`` are the
    rows of ``dataset/`` (None when it could not be loaded: the other files are still checked)."""
    from emotioncot.export.checksums import check_checksums

    root = Path(root)
    problems: list[dict] = []
    warnings: list[dict] = []
    recorded = check_checksums(root)
    if recorded is None:
        warnings.append(_problem("no_checksums", root / "checksums.json",
                                 "not found (exported by an older version): file contents cannot be checked"))
    else:
        problems += [_problem("damaged_file", file, why) for file, why in recorded]
    want = None
    if dataset_rows is not None:
        want = {split: Counter() for split in SPLITS}
        for row in dataset_rows:
            want.setdefault(row.get("split"), Counter())[row.get("id")] += 1
    problems += _check_shards(root, want)
    problems += _check_jsonl(root / "emotioncot.jsonl", want)
    card = root / "README.md"
    if not card.is_file() or not card.stat().st_size:
        problems.append(_problem("damaged_file", card, "the dataset card is missing or empty"))
    problems += stale_problems(root)
    return problems, warnings


def stale_problems(root: Path) -> list[dict]:
    """One ``stale_stage`` problem per stage whose input was replaced after it ran, with the command that brings the
    folder up to date (a build with the folder's sources, which redoes only the stale stages)."""
    from emotioncot.stages import stale_stages
    from emotioncot.workspace import Workspace

    stale = stale_stages(Workspace(root))
    if not stale:
        return []
    fix = rebuild_command(root)
    return [_problem("stale_stage", root / "stages" / f"{s['stage']}.meta.json",
                     f"stage {s['stage']} is out of date ({s['because']}); run `{fix}` to bring the folder up to date")
            for s in stale]


def rebuild_command(root: Path) -> str:
    """The build command that redoes what is out of date in ``root``, from its sources.json."""
    try:
        sources = json.loads((Path(root) / "sources.json").read_text())["sources"]
    except (OSError, ValueError, KeyError):
        return f"emotioncot build --corpus ... --out {root}"
    corpora = " ".join(f"--corpus {s}" for s in sources)
    return f"emotioncot build {corpora} --out {root} (with the options it was built with)"


def _check_shards(root: Path, want: dict[str, Counter] | None) -> list[dict]:
    import pyarrow.parquet as pq

    from emotioncot.export.features import export_features

    folder = root / "parquet"
    shards = sorted(folder.glob("*.parquet"))
    if not shards:
        return [_problem("damaged_file", folder, "no Parquet shards (the Hub copy would be empty)")]
    schema = export_features().arrow_schema
    problems, got = [], {}
    for shard in shards:
        split = shard.name.split("-", 1)[0]
        try:
            table = pq.read_table(shard)
        except Exception as exc:  # truncated, not Parquet at all: the message names the file
            problems.append(_problem("damaged_file", shard, f"not a readable Parquet file ({type(exc).__name__}: {exc})"))
            continue
        if not table.schema.remove_metadata().equals(schema.remove_metadata()):
            theirs = {f.name: str(f.type) for f in table.schema}
            ours = {f.name: str(f.type) for f in schema}
            diff = sorted(k for k in set(theirs) | set(ours) if theirs.get(k) != ours.get(k))
            problems.append(_problem("artefact_mismatch", shard, f"schema differs from the export's in {', '.join(diff[:5])}"))
        got.setdefault(split, Counter()).update(table.column("id").to_pylist() if "id" in table.column_names else [])
    if want is not None:
        for split in sorted(set(want) | set(got), key=str):
            problems += _compare(folder / f"{split}-*.parquet", got.get(split, Counter()), want.get(split, Counter()), split)
    return problems


def _check_jsonl(path: Path, want: dict[str, Counter] | None) -> list[dict]:
    if not path.is_file():
        return [_problem("damaged_file", path, "missing")]
    ids: Counter = Counter()
    with open(path, "rb") as fh:
        for n, raw in enumerate(fh, 1):
            try:
                obj = json.loads(raw)
            except ValueError as exc:  # JSON errors and bytes that are not UTF-8 alike
                return [_problem("damaged_file", f"{path}:{n}", f"not a JSON line ({exc})")]
            if not isinstance(obj, dict):
                return [_problem("damaged_file", f"{path}:{n}", "not a JSON object")]
            ids[obj.get("id")] += 1
    if want is None:
        return []
    return _compare(path, ids, sum(want.values(), Counter()), None)


def _compare(where, got: Counter, want: Counter, split: str | None) -> list[dict]:
    if got == want:
        return []
    missing, extra = want - got, got - want
    of = f" of split {split}" if split else ""
    detail = "; ".join(part for part in (
        f"{sum(missing.values())} id(s){of} of dataset/ missing (first {next(iter(missing))!r})" if missing else "",
        f"{sum(extra.values())} id(s) not in dataset/ (first {next(iter(extra))!r})" if extra else "",
    ) if part)
    return [_problem("artefact_mismatch", where, f"{sum(got.values())} rows, dataset/ has {sum(want.values())}{of}: {detail}")]


def split_warnings(counts: dict) -> list[dict]:
    """An empty or tiny train/validation/test split (one speaker per corpus, a small list)."""
    out = []
    for split in SPLITS:
        n = int(counts.get(split, 0) or 0)
        if n == 0:
            out.append({"code": "small_split", "id": None, "message": f"split {split} is empty"})
        elif n < SMALL_SPLIT:
            out.append({"code": "small_split", "id": None, "message": f"split {split} has only {count(n, 'row')}"})
    return out
